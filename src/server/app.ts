import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { mkdirSync, mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { z } from 'zod'
import { AssayError, isAssayError } from '../errors.js'
import type { Store } from '../store/store.js'
import { encodeJson } from '../store/http/wire.js'
import { ConcurrencyLimit } from './concurrency-limit.js'
import { authenticate, requireExperiment, requireScope, requireUnrestricted, UNRESTRICTED, type Caller } from './auth.js'
import { openApiDocument } from './openapi.js'
import type { RouteSpec, ServerState } from './route.js'
import { artifactRoutes } from './routes/artifacts.js'
import { evalRoutes } from './routes/evals.js'
import { experimentRoutes } from './routes/experiments.js'
import { holdoutRoutes } from './routes/holdout.js'
import { metaRoutes } from './routes/meta.js'
import { registryRoutes } from './routes/registry.js'
import { runRoutes } from './routes/runs.js'
import { tokenRoutes } from './routes/tokens.js'

/** Largest buffered request body (JSON, binary batches, eval chunks): 64 MiB (docs/server.md). */
export const DEFAULT_BODY_LIMIT = 64 * 1024 * 1024
/** Largest streamed artifact upload: 8 GiB, and never more than the store can read back (artifactLimitFor). */
export const DEFAULT_ARTIFACT_LIMIT = 8 * 1024 ** 3
/**
 * The largest artifact a server over this store accepts: what the store can keep and hand back
 * (its capabilities). An upload over it is 413 before anything is stored.
 */
export function artifactLimitFor(store: Store, requested = DEFAULT_ARTIFACT_LIMIT): number {
  return Math.min(requested, store.capabilities.maxArtifactBytes)
}
export const DEFAULT_CRASH_AFTER_MS = 60_000
/** The server marks stale runs crashed before reads, at most this often. */
const SWEEP_INTERVAL_MS = 1000

export interface ServerOptions {
  store: Store
  /** { enabled: false } serves every request without a token: local use only (--no-auth). */
  auth: { enabled: boolean }
  bodyLimit?: number
  artifactLimit?: number
  /**
   * Runs whose heartbeat is older than this are marked crashed by the server before reads, and a
   * client cannot mark younger ones; 0: no sweep and no clamp (tests of the store contract).
   */
  crashAfterMs?: number
  uploadDir?: string
  logger?: boolean
  /** Artifact downloads streamed at once; more wait their turn (DEFAULT_ARTIFACT_READS). */
  artifactReads?: number
}

/** Each download holds a file handle or a pooled database connection and up to a few MiB in flight. */
export const DEFAULT_ARTIFACT_READS = 8

/** Every route of the server, in the order of the OpenAPI document. */
export function allRoutes(): RouteSpec[] {
  return [...metaRoutes(), ...runRoutes(), ...evalRoutes(), ...artifactRoutes(), ...experimentRoutes(), ...holdoutRoutes(), ...registryRoutes(), ...tokenRoutes()]
}

declare module 'fastify' {
  interface FastifyRequest {
    assayCaller?: Caller
  }
  interface FastifyContextConfig {
    assaySpec?: RouteSpec
  }
}

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT
  const uploadDir = options.uploadDir ?? mkdtempSync(path.join(os.tmpdir(), 'assay-uploads-'))
  mkdirSync(uploadDir, { recursive: true })
  const experiments = new Map<string, string>()
  let lastSweep = 0
  let sweeping: Promise<void> | null = null
  const state: ServerState = {
    store: options.store,
    bodyLimit,
    artifactLimit: artifactLimitFor(options.store, options.artifactLimit),
    crashAfterMs: options.crashAfterMs ?? DEFAULT_CRASH_AFTER_MS,
    uploadDir,
    artifactReads: new ConcurrencyLimit(options.artifactReads ?? DEFAULT_ARTIFACT_READS),
    sweepCrashed() {
      const crashAfterMs = state.crashAfterMs
      if (crashAfterMs <= 0) return Promise.resolve()
      if (sweeping !== null) return sweeping
      if (Date.now() - lastSweep < SWEEP_INTERVAL_MS) return Promise.resolve()
      lastSweep = Date.now()
      sweeping = options.store
        .markCrashedRuns(Date.now() - crashAfterMs)
        .then(() => undefined)
        // A failed sweep does not fail the read; the next one tries again.
        .catch((error: unknown) => app.log.warn({ err: error }, 'marking stale runs crashed failed'))
        .finally(() => {
          sweeping = null
        })
      return sweeping
    },
    async runExperiment(runId) {
      const known = experiments.get(runId)
      if (known !== undefined) return known
      const run = await options.store.getRun(runId)
      state.rememberRun(run.id, run.experiment)
      return run.experiment
    },
    rememberRun(runId, experiment) {
      if (experiments.size >= 100_000) experiments.clear()
      experiments.set(runId, experiment)
    },
  }

  const app = Fastify({ logger: options.logger ?? false, bodyLimit, routerOptions: { maxParamLength: 1000 }, return503OnClosing: true })

  // Binary bodies are handed to the route as a stream; routes that want a buffer read it with
  // the body limit (readBody), the artifact upload streams it to disk while hashing.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload))

  app.setNotFoundHandler((request, reply) => {
    const error = new AssayError('ASSAY_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}; the routes are listed at /openapi.json`)
    void reply.code(error.status).type('application/json; charset=utf-8').send(JSON.stringify({ error: error.toJSON() }))
  })

  app.setErrorHandler((raw, request, reply) => {
    const error = toAssayError(raw)
    if (error.code === 'ASSAY_INTERNAL') request.log.error(raw)
    void reply.code(error.status).type('application/json; charset=utf-8').send(JSON.stringify({ error: error.toJSON() }))
  })

  // Authentication and scope run when the request line and headers have arrived, before any
  // body is read: an unauthenticated client cannot make the server parse 64 MiB (401, not 413).
  app.addHook('onRequest', async (request) => {
    const spec = request.routeOptions.config?.assaySpec
    if (spec === undefined) return
    request.assayCaller = await authorize(spec, request, options.auth.enabled, state)
  })

  const routes = allRoutes()
  const document = openApiDocument(routes)
  for (const spec of routes) {
    app.route({
      method: spec.method,
      url: spec.url,
      config: { assaySpec: spec },
      handler: async (request, reply) => {
        const caller = request.assayCaller
        if (caller === undefined) throw new Error(`${spec.method} ${spec.url} reached its handler without authorization`)
        const params = validate(spec.params, request.params, 'path')
        const query = validate(spec.query, request.query, 'query')
        let body: unknown
        const binary = spec.body?.binary !== undefined && isOctetStream(request)
        if (spec.body?.stream !== undefined) {
          if (!isOctetStream(request)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${spec.method} ${spec.url} takes the bytes as Content-Type: application/octet-stream`, { field: 'content-type' })
          body = request.body ?? request.raw
        } else if (binary) {
          body = await readBody(request, bodyLimit)
        } else if (spec.body?.json) {
          if (!isJson(request)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${spec.method} ${spec.url} takes a JSON body (Content-Type: application/json)`, { field: 'content-type' })
          body = validate(spec.body.json, request.body, 'body')
        } else if (spec.body?.binary !== undefined) {
          throw new AssayError('ASSAY_INVALID_ARGUMENT', `${spec.method} ${spec.url} takes Content-Type: application/octet-stream`, { field: 'content-type' })
        }
        if (spec.touches === 'run' && caller.restricted) {
          requireExperiment(caller, await state.runExperiment(String(params.runId)))
        }
        const result = await spec.handler({ params, query, body, caller, state, request, reply })
        if (reply.sent || result === reply) return reply
        if (spec.response.status !== undefined) void reply.code(spec.response.status)
        if (Buffer.isBuffer(result)) return reply.type('application/octet-stream').send(result)
        return reply.type('application/json; charset=utf-8').send(encodeJson(result ?? { ok: true }))
      },
    })
  }
  app.get('/openapi.json', async (_request, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(document)))
  return app
}

async function authorize(spec: RouteSpec, request: FastifyRequest, enabled: boolean, state: ServerState): Promise<Caller> {
  if (spec.scope === 'public') return UNRESTRICTED
  const caller = enabled ? await authenticate(state.store, request.headers.authorization) : UNRESTRICTED
  requireScope(caller, spec.scope, `${spec.method} ${spec.url}`)
  if (spec.touches === 'all') requireUnrestricted(caller, `${spec.method} ${spec.url}`)
  return caller
}

function isOctetStream(request: FastifyRequest): boolean {
  return /^application\/octet-stream\b/i.test(request.headers['content-type'] ?? '')
}

function isJson(request: FastifyRequest): boolean {
  return /^application\/json\b/i.test(request.headers['content-type'] ?? '')
}

/** Parse with a route's schema; a failure is 400 naming the field. */
export function validate(schema: z.ZodType | undefined, value: unknown, where: 'path' | 'query' | 'body'): Record<string, unknown> {
  if (schema === undefined) return {}
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}))
  if (result.success) return result.data as Record<string, unknown>
  const issue = result.error.issues[0]
  const field = [where, ...issue.path.map(String)].join('.')
  throw new AssayError('ASSAY_INVALID_ARGUMENT', `${field}: ${issue.message}`, {
    field,
    issues: result.error.issues.slice(0, 10).map((i) => ({ field: [where, ...i.path.map(String)].join('.'), message: i.message })),
  })
}

/** Read a binary body into memory, refusing it (413) past the limit. */
export async function readBody(request: FastifyRequest, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? NaN)
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit)
  const stream = (request.body ?? request.raw) as Readable
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    size += (chunk as Buffer).length
    if (size > limit) {
      stream.destroy()
      throw tooLarge(limit)
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks, size)
}

function tooLarge(limit: number): AssayError {
  return new AssayError('ASSAY_BODY_TOO_LARGE', `the request body is over the limit of ${limit} bytes (docs/server.md)`, { limit })
}

function toAssayError(error: unknown): AssayError {
  if (isAssayError(error)) return error
  const e = error as { code?: string; statusCode?: number; message?: string }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) {
    return new AssayError('ASSAY_BODY_TOO_LARGE', 'the request body is over the limit of the server (docs/server.md)')
  }
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || (e.statusCode === 400 && error instanceof SyntaxError)) {
    return new AssayError('ASSAY_MALFORMED_JSON', `the request body is not valid JSON${e.message ? `: ${e.message}` : ''}`, { field: 'body' })
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new AssayError('ASSAY_INVALID_ARGUMENT', 'unsupported Content-Type: send application/json or application/octet-stream', { field: 'content-type' })
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new AssayError('ASSAY_INVALID_ARGUMENT', e.message ?? 'bad request')
  }
  return new AssayError('ASSAY_INTERNAL', 'the server failed unexpectedly; its log has the details')
}
