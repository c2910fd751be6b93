import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Readable } from 'node:stream'
import type { z } from 'zod'
import type { TokenScope } from '../record/types.js'
import type { Store } from '../store/store.js'
import type { Caller, TokenCache } from './auth.js'
import type { ConcurrencyLimit } from './concurrency-limit.js'
import type { OtlpDecoder } from './otlp-decoder.js'

/**
 * One route of `assay server`, declared as data: the scope it needs, the experiment it touches,
 * and the schemas of its parameters, query and body. app.ts validates and authorizes every
 * request from this declaration, and openapi.ts writes the OpenAPI document from it.
 */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  url: string
  summary: string
  tag: string
  /** The least scope a token needs; 'public' routes need no token. */
  scope: TokenScope | 'public'
  /**
   * Which experiment the request touches, for tokens limited to some experiments:
   * 'run' — the experiment of the run in :runId (checked before the handler runs);
   * 'handler' — the handler checks or filters by experiment itself (requests that name an
   * experiment in the body, listings, lineage); 'all' — only tokens valid for all experiments;
   * 'none' — nothing experiment-specific (health, the OpenAPI document, whoami).
   */
  touches: 'run' | 'handler' | 'all' | 'none'
  params?: z.ZodObject
  query?: z.ZodObject
  /**
   * json: a JSON body of this schema; binary: an octet-stream body (buffered); stream: an
   * octet-stream body handed over unread; raw: any content type and encoding, handed over unread
   * (the route reads and checks it: OTLP).
   */
  body?: { json?: z.ZodType; binary?: string; stream?: string; raw?: string }
  response: { json?: string; binary?: string; status?: number }
  handler(ctx: RouteContext): Promise<unknown>
}

export interface ServerState {
  store: Store
  /** Decode threads of the OTLP route (otlp-decoder.ts). */
  otlpDecoder: OtlpDecoder
  /** Largest buffered body, in bytes (JSON and binary batches). */
  bodyLimit: number
  /** Largest streamed artifact, in bytes. */
  artifactLimit: number
  /** A client cannot mark runs crashed whose heartbeat is younger than this. */
  crashAfterMs: number
  /** Resamples summed over a gate's criteria that one gate check may ask for. */
  gateWorkLimit: number
  /** Time a gate check's criteria may take in their worker thread. */
  gateTimeLimitMs: number
  /** Artifact downloads streaming at once (ServerOptions.artifactReads); the others wait. */
  artifactReads: ConcurrencyLimit
  /** Tokens verified recently (auth.ts); revoking through this server clears it. */
  tokens: TokenCache
  /** Where uploads are staged while their sha256 is checked. */
  uploadDir: string
  /**
   * Mark running runs whose heartbeat is older than crashAfterMs as crashed, at most once a
   * second (run before run listings and reads, so read-only clients see crashed runs without
   * any client mutating); a no-op when crashAfterMs is 0.
   */
  sweepCrashed(): Promise<void>
  /** The experiment of a run, cached (a run never changes experiment). */
  runExperiment(runId: string): Promise<string>
  rememberRun(runId: string, experiment: string): void
}

export interface RouteContext {
  params: Record<string, unknown>
  query: Record<string, unknown>
  /** The validated JSON body, a Buffer for binary bodies, or a Readable for streamed ones. */
  body: unknown
  caller: Caller
  state: ServerState
  request: FastifyRequest
  reply: FastifyReply
}

export type BodyStream = Readable
