import type { FastifyInstance } from 'fastify'
import { AssayError } from '../errors.js'
import { openStore, resolveStoreLocation } from '../store/open-store.js'
import type { Store } from '../store/store.js'
import { buildServer, DEFAULT_CRASH_AFTER_MS, type ConnectionLimits, type ServerOptions } from './app.js'
import { isLoopback } from './auth.js'

export const DEFAULT_PORT = 7321
export const DEFAULT_HOST = '127.0.0.1'

export interface ListenOptions {
  /** The store the server serves (a directory, sqlite:, postgres://); never another server. */
  store?: string
  host?: string
  port?: number
  /** false only for local use: every request is served without a token. */
  auth: boolean
  bodyLimit?: number
  jsonLimit?: number
  connections?: Partial<ConnectionLimits>
  gateWorkLimit?: number
  gateTimeLimitMs?: number
  logger?: ServerOptions['logger']
  otlpDecodeThreads?: number
  tokenCacheMs?: number
}

export interface RunningServer {
  url: string
  app: FastifyInstance
  store: Store
  /** Stop accepting, finish requests in flight, close the store. */
  close(): Promise<void>
}

/** Open the store and listen (127.0.0.1:7321 unless told otherwise). */
export async function listen(options: ListenOptions): Promise<RunningServer> {
  const host = options.host ?? DEFAULT_HOST
  const port = options.port ?? DEFAULT_PORT
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AssayError('ASSAY_INVALID_ARGUMENT', `--port must be 0-65535, got ${port}`)
  if (!options.auth && !isLoopback(host)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `refusing to serve ${host} without authentication: --no-auth is for loopback addresses only (127.0.0.1, ::1, localhost)`)
  }
  // The server's own store: ASSAY_TRACKING_URI is where clients send runs, so it is not read here.
  const location = options.store ?? process.env.ASSAY_STORE ?? resolveStoreLocation(undefined, { ...process.env, ASSAY_TRACKING_URI: undefined })
  if (/^https?:\/\//i.test(location)) throw new AssayError('ASSAY_INVALID_STORE_URL', `a server serves a store, not another server (${location}); give --store a directory or a postgres:// URL`)
  const store = await openStore(location)
  const crashAfter = Number(process.env.ASSAY_HEARTBEAT_TIMEOUT_MS ?? DEFAULT_CRASH_AFTER_MS)
  const app = await buildServer({
    store,
    auth: { enabled: options.auth },
    bodyLimit: options.bodyLimit,
    jsonLimit: options.jsonLimit,
    connections: options.connections,
    gateWorkLimit: options.gateWorkLimit,
    gateTimeLimitMs: options.gateTimeLimitMs,
    crashAfterMs: Number.isFinite(crashAfter) && crashAfter > 0 ? crashAfter : DEFAULT_CRASH_AFTER_MS,
    logger: options.logger,
    tokenCacheMs: options.tokenCacheMs,
    otlpDecodeThreads: options.otlpDecodeThreads,
  })
  try {
    await app.listen({ host, port })
  } catch (error) {
    await store.close()
    throw error
  }
  const address = app.server.address()
  const actualPort = typeof address === 'object' && address !== null ? address.port : port
  const shownHost = host.includes(':') ? `[${host}]` : host
  let closing: Promise<void> | undefined
  return {
    url: `http://${shownHost}:${actualPort}`,
    app,
    store,
    close() {
      closing ??= (async () => {
        await app.close()
        await store.close()
      })()
      return closing
    },
  }
}
