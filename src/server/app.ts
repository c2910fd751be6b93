import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { AssayError, isAssayError, storeFullError } from '../errors.js'
import type { Store } from '../store/store.js'
import { encodeJson } from '../store/http/wire.js'
import { ConcurrencyLimit } from './concurrency-limit.js'
import { OtlpDecoder } from './otlp-decoder.js'
import { authenticate, cachedCaller, DEFAULT_TOKEN_CACHE_MS, requireExperiment, requireLoopbackHost, requireScope, requireUnrestricted, TokenCache, UNRESTRICTED, type Caller } from './auth.js'
import { DEFAULT_GATE_TIME_LIMIT_MS, DEFAULT_GATE_WORK_LIMIT } from './gate-worker.js'
import { openApiDocument } from './openapi.js'
import type { RouteSpec, ServerState } from './route.js'
import { artifactRoutes } from './routes/artifacts.js'
import { compareRoutes } from './routes/compare.js'
import { groupRoutes } from './routes/groups.js'
import { evalRoutes } from './routes/evals.js'
import { evidenceRoutes } from './routes/evidence.js'
import { experimentRoutes } from './routes/experiments.js'
import { holdoutRoutes } from './routes/holdout.js'
import { leaderboardRoutes } from './routes/leaderboard.js'
import { otlpRoutes } from './routes/otlp.js'
import { monitorRoutes } from './routes/monitor.js'
import { productionRoutes } from './routes/production.js'
import { metaRoutes } from './routes/meta.js'
import { registryRoutes } from './routes/registry.js'
import { runRoutes } from './routes/runs.js'
import { tokenRoutes } from './routes/tokens.js'
import { mlflowArtifactRoutes } from './mlflow/artifact-routes.js'
import { mlflowError } from './mlflow/mlflow-errors.js'
import { isMlflowPath } from './mlflow/paths.js'
import { mlflowRegistryRoutes } from './mlflow/registry-routes.js'
import { mlflowTrackingRoutes } from './mlflow/tracking-routes.js'
import { registerUiRoutes, sessionToken } from './ui-routes.js'
import { plainRunIdParam, RunIdParam } from './schemas.js'
import { DEFAULT_JSON_LIMIT, isJson, isOctetStream, parseJsonBody, readBody, validate } from './request-body.js'

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
  /** Largest JSON body in bytes (DEFAULT_JSON_LIMIT); bodyLimit is for binary batches and eval chunks. */
  jsonLimit?: number
  /** Resamples summed over a gate's criteria per gate check (DEFAULT_GATE_WORK_LIMIT). */
  gateWorkLimit?: number
  /** Time limit of a gate check's criteria, in their worker thread (DEFAULT_GATE_TIME_LIMIT_MS). */
  gateTimeLimitMs?: number
  /** Timeouts and the connection cap of the HTTP server (used when it listens; DEFAULT_CONNECTION_LIMITS). */
  connections?: Partial<ConnectionLimits>
  /** false: no log; a level (or a level and a stream, for tests): one line per request and every 500 with its request id. */
  logger?: false | { level: string; stream?: { write(line: string): void } }
  /** Artifact downloads streamed at once; more wait their turn (DEFAULT_ARTIFACT_READS). */
  artifactReads?: number
  /** How long a verified token is trusted before it is read again (DEFAULT_TOKEN_CACHE_MS; 0: every request). */
  tokenCacheMs?: number
  /** Where the web UI's built files are (UI_ASSETS_DIR: dist/ui). */
  uiAssetsDir?: string
  /** Worker threads decoding large OTLP bodies (defaultDecodeThreads(); 0: on the event loop). */
  otlpDecodeThreads?: number
}

/** What one slow or idle client may hold of the server (docs/server.md). */
export interface ConnectionLimits {
  /** The request line and headers must have arrived within this. */
  headersTimeoutMs: number
  /** A whole request, body included, must have arrived within this (long: artifacts up to 8 GiB stream in). */
  requestTimeoutMs: number
  /** A connection on which no byte moves for this long is closed: a stalled body, an idle client. */
  idleTimeoutMs: number
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number
  /** Connections over this are closed as they arrive, so stalled clients cannot use up the process's file descriptors. */
  maxConnections: number
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 3_600_000,
  idleTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 500,
}

/** Each download holds a file handle or a pooled database connection and up to a few MiB in flight. */
export const DEFAULT_ARTIFACT_READS = 8

/** Every route of the server, in the order of the OpenAPI document. */
export function allRoutes(): RouteSpec[] {
  return [...metaRoutes(), ...runRoutes(), ...evalRoutes(), ...artifactRoutes(), ...experimentRoutes(), ...compareRoutes(), ...groupRoutes(), ...leaderboardRoutes(), ...holdoutRoutes(), ...registryRoutes(), ...tokenRoutes(), ...productionRoutes(), ...monitorRoutes(), ...evidenceRoutes(), ...otlpRoutes(), ...mlflowTrackingRoutes(), ...mlflowArtifactRoutes(), ...mlflowRegistryRoutes()]
}

declare module 'fastify' {
  interface FastifyRequest {
    assayCaller?: Caller
  }
  interface FastifyContextConfig {
    assaySpec?: RouteSpec
    /** A route outside the route table that needs no token (the OpenAPI document). */
    assayPublic?: boolean
  }
}

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT
  const jsonLimit = options.jsonLimit ?? DEFAULT_JSON_LIMIT
  const connections = { ...DEFAULT_CONNECTION_LIMITS, ...options.connections }
  // A staging directory of its own is removed when the server closes; one that was given is the caller's.
  const ownUploadDir = options.uploadDir === undefined
  const uploadDir = options.uploadDir ?? mkdtempSync(path.join(os.tmpdir(), 'assay-uploads-'))
  mkdirSync(uploadDir, { recursive: true })
  const experiments = new Map<string, string>()
  let lastSweep = 0
  let sweeping: Promise<void> | null = null
  const state: ServerState = {
    store: options.store,
    otlpDecoder: new OtlpDecoder(options.otlpDecodeThreads),
    bodyLimit,
    artifactLimit: artifactLimitFor(options.store, options.artifactLimit),
    crashAfterMs: options.crashAfterMs ?? DEFAULT_CRASH_AFTER_MS,
    gateWorkLimit: options.gateWorkLimit ?? DEFAULT_GATE_WORK_LIMIT,
    gateTimeLimitMs: options.gateTimeLimitMs ?? DEFAULT_GATE_TIME_LIMIT_MS,
    uploadDir,
    artifactReads: new ConcurrencyLimit(options.artifactReads ?? DEFAULT_ARTIFACT_READS),
    tokens: new TokenCache(options.tokenCacheMs ?? DEFAULT_TOKEN_CACHE_MS),
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

  const app = Fastify({
    logger: options.logger ?? false,
    // One line per request, written when it is answered (below), instead of Fastify's two: the
    // log is written synchronously, and under load every line is CPU a batch waits for.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: jsonLimit,
    routerOptions: { maxParamLength: 1000 },
    return503OnClosing: true,
    serverFactory: (handler) => httpServer(handler, connections),
  })
  if (options.logger) {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.info({ method: request.method, url: request.url, statusCode: reply.statusCode, responseTime: reply.elapsedTime }, 'request completed')
      done()
    })
  }
  if (ownUploadDir) app.addHook('onClose', async () => rmSync(uploadDir, { recursive: true, force: true }))
  app.addHook('onClose', () => state.otlpDecoder.close())

  // Binary bodies are handed to the route as a stream; routes that want a buffer read it with
  // the body limit (readBody), the artifact upload streams it to disk while hashing.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload))
  // JSON bodies are small (jsonLimit) and their nesting is counted before JSON.parse builds anything.
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: jsonLimit }, (_request, text, done) => {
    try {
      done(null, parseJsonBody(text as string))
    } catch (error) {
      done(error as Error, undefined)
    }
  })

  app.setNotFoundHandler(async (request) => {
    throw routeNotFound(request)
  })

  app.setErrorHandler((raw, request, reply) => {
    const error = toAssayError(raw)
    if (error.status >= 500) request.log.error({ err: raw, code: error.code }, 'request failed')
    // A body refused before it was read is not read now: the connection closes instead.
    if (!request.raw.complete) void reply.header('connection', 'close')
    // MLflow clients read MLflow's error body and branch on its error_code (docs/mlflow.md).
    if (isMlflowPath(request.url)) {
      const answer = mlflowError(error)
      return void reply.code(answer.status).type('application/json; charset=utf-8').send(JSON.stringify(answer.body))
    }
    void reply.code(error.status).type('application/json; charset=utf-8').send(JSON.stringify({ error: error.toJSON() }))
  })

  // Authentication and scope run when the request line and headers have arrived, before any
  // body is read: an unauthenticated client cannot make the server parse 64 MiB (401, not 413).
  // Unknown routes answer here too, before their body is read.
  // A callback hook, not an async one: a token in the cache is checked without a promise.
  app.addHook('onRequest', (request, _reply, done) => {
    try {
      if (!options.auth.enabled) requireLoopbackHost(request.headers.host)
      const spec = request.routeOptions.config?.assaySpec
      if (spec === undefined) {
        if (request.routeOptions.config?.assayPublic === true) return done()
        throw routeNotFound(request)
      }
      const known = authorizeCached(spec, request, options.auth.enabled, state)
      if (known !== undefined) {
        request.assayCaller = known
        return done()
      }
      authorize(spec, request, options.auth.enabled, state).then(
        (caller) => {
          request.assayCaller = caller
          done()
        },
        (error: Error) => done(error),
      )
    } catch (error) {
      done(error as Error)
    }
  })

  const routes = allRoutes()
  const document = openApiDocument(routes)
  const addRoute = (instance: FastifyInstance, spec: RouteSpec): void => {
    instance.route({
      method: spec.method,
      url: spec.url,
      config: { assaySpec: spec },
      handler: async (request, reply) => {
        const caller = request.assayCaller
        if (caller === undefined) throw new Error(`${spec.method} ${spec.url} reached its handler without authorization`)
        const params = (spec.params === RunIdParam ? plainRunIdParam(request.params) : undefined) ?? validate(spec.params, request.params, 'path')
        const query = validate(spec.query, request.query, 'query')
        // The run exists and the caller may touch it before a streamed body is read (an upload
        // to an unknown run is refused without staging anything).
        if (spec.touches === 'run') requireExperiment(caller, await state.runExperiment(String(params.runId)))
        let body: unknown
        const binary = spec.body?.binary !== undefined && isOctetStream(request)
        if (spec.body?.raw !== undefined) {
          body = request.body ?? request.raw
        } else if (spec.body?.stream !== undefined) {
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
        const result = await spec.handler({ params, query, body, caller, state, request, reply })
        if (reply.sent || result === reply) return reply
        if (spec.response.status !== undefined) void reply.code(spec.response.status)
        if (Buffer.isBuffer(result)) return reply.type('application/octet-stream').send(result)
        return reply.type('application/json; charset=utf-8').send(encodeJson(result ?? { ok: true }))
      },
    })
  }
  for (const spec of routes) if (spec.body?.raw === undefined) addRoute(app, spec)
  // Routes that read their own body (OTLP: protobuf or JSON, gzip or not) get it unread, whatever its type.
  void app.register(async (raw) => {
    raw.removeAllContentTypeParsers()
    raw.addContentTypeParser('*', (_request, payload, done) => done(null, payload))
    for (const spec of routes) if (spec.body?.raw !== undefined) addRoute(raw, spec)
  })
  registerUiRoutes(app, options.store, options.auth.enabled, options.uiAssetsDir)
  app.get('/openapi.json', { config: { assayPublic: true } }, async (_request, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(document)))
  return app
}

async function authorize(spec: RouteSpec, request: FastifyRequest, enabled: boolean, state: ServerState): Promise<Caller> {
  if (spec.scope === 'public') return UNRESTRICTED
  return permitted(spec, enabled ? await authenticate(state.store, authorizationOf(request), state.tokens) : UNRESTRICTED)
}

/** authorize without a promise: the caller when no read of the store is needed, else undefined. */
function authorizeCached(spec: RouteSpec, request: FastifyRequest, enabled: boolean, state: ServerState): Caller | undefined {
  if (spec.scope === 'public') return UNRESTRICTED
  const caller = enabled ? cachedCaller(authorizationOf(request), state.tokens) : UNRESTRICTED
  return caller === undefined ? undefined : permitted(spec, caller)
}

/** The caller, once its scope (and, for routes over all experiments, its reach) allows the route. */
function permitted(spec: RouteSpec, caller: Caller): Caller {
  if (spec.scope === 'public') return caller
  requireScope(caller, spec.scope, `${spec.method} ${spec.url}`)
  if (spec.touches === 'all') requireUnrestricted(caller, `${spec.method} ${spec.url}`)
  return caller
}

/**
 * The Bearer header, or for a GET without one the web UI's session cookie: the cookie's token then
 * meets the same scope checks. Only reads take the cookie, so a page on another site cannot make
 * a signed-in browser write (SameSite=Strict keeps it from sending the cookie at all).
 */
function authorizationOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (header !== undefined && header !== '') return header
  if (request.method !== 'GET') return header
  const token = sessionToken(request.headers.cookie)
  return token === undefined ? header : `Bearer ${token}`
}

function routeNotFound(request: FastifyRequest): AssayError {
  return new AssayError('ASSAY_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}; the routes are listed at /openapi.json`)
}

/** The Node HTTP server under Fastify, with the timeouts and connection cap of `limits`. */
function httpServer(handler: http.RequestListener, limits: ConnectionLimits): http.Server {
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node looks for requests past headersTimeout and requestTimeout (its default is 30 s).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, limits.headersTimeoutMs / 2)),
    },
    handler,
  )
  server.setTimeout(limits.idleTimeoutMs)
  server.maxConnections = limits.maxConnections
  return server
}

function toAssayError(error: unknown): AssayError {
  if (isAssayError(error)) return error
  const full = storeFullError(error)
  if (full !== undefined) return full
  const e = error as { code?: string; statusCode?: number; message?: string }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) {
    return new AssayError('ASSAY_BODY_TOO_LARGE', 'the request body is over the limit of the server (docs/server.md)')
  }
  if (e.statusCode === 408) return new AssayError('ASSAY_INVALID_ARGUMENT', 'the request did not arrive in time (docs/server.md)')
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
