import { CoalescingLog } from '../server/log-stream.js'
import { Command } from 'commander'
import { AssayError } from '../errors.js'
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from '../server/app.js'
import { DEFAULT_GATE_TIME_LIMIT_MS, DEFAULT_GATE_WORK_LIMIT } from '../server/gate-worker.js'
import { defaultDecodeThreads } from '../server/otlp-decoder.js'
import { DEFAULT_TOKEN_CACHE_MS } from '../server/auth.js'
import { DEFAULT_HOST, DEFAULT_PORT, listen } from '../server/server-process.js'
import type { CliContext } from './context.js'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

interface ServerCommandOptions {
  host: string
  port: string
  auth: boolean
  bodyLimit?: string
  jsonLimit?: string
  headersTimeout?: string
  requestTimeout?: string
  idleTimeout?: string
  keepAliveTimeout?: string
  maxConnections?: string
  gateWorkLimit?: string
  gateTimeLimit?: string
  tokenCacheMs?: string
  otlpThreads?: string
  logLevel: string
}

/** `assay server`: serve the store over HTTP until SIGINT or SIGTERM (docs/server.md). */
export function serverCommand(ctx: CliContext): Command {
  const d = DEFAULT_CONNECTION_LIMITS
  return new Command('server')
    .option('--host <host>', 'address to bind', DEFAULT_HOST)
    .option('--port <port>', 'port to listen on (0: any free port)', String(DEFAULT_PORT))
    .option('--no-auth', 'serve without API tokens (loopback addresses and Host names only; for local use)')
    .option('--body-limit <bytes>', 'largest binary batch or eval chunk in bytes (default 64 MiB)')
    .option('--json-limit <bytes>', 'largest JSON request body in bytes (default 4 MiB)')
    .option('--headers-timeout <ms>', `time for a request's headers to arrive (default ${d.headersTimeoutMs})`)
    .option('--request-timeout <ms>', `time for a whole request, body included, to arrive (default ${d.requestTimeoutMs})`)
    .option('--idle-timeout <ms>', `close a connection on which nothing moves for this long (default ${d.idleTimeoutMs})`)
    .option('--keep-alive-timeout <ms>', `close an idle keep-alive connection after this (default ${d.keepAliveTimeoutMs})`)
    .option('--max-connections <n>', `connections served at once; more are closed as they arrive (default ${d.maxConnections})`)
    .option('--gate-work-limit <resamples>', `resamples summed over a gate's criteria that one gate check may ask for (default ${DEFAULT_GATE_WORK_LIMIT})`)
    .option('--gate-time-limit <ms>', `stop a gate check whose criteria take longer (default ${DEFAULT_GATE_TIME_LIMIT_MS})`)
    .option('--token-cache-ms <ms>', `trust a verified API token this long before reading it again; a token revoked elsewhere is refused within it, one revoked through this server at once (0: read every request; default ${DEFAULT_TOKEN_CACHE_MS})`)
    .option('--otlp-threads <n>', `worker threads decoding large OTLP trace requests (0: on the event loop; default ${defaultDecodeThreads()}, one per core up to 2)`)
    .option('--log-level <level>', `${LOG_LEVELS.join('|')}: one JSON line per request and per failure, with its request id, on stderr`, 'info')
    .action(async (options: ServerCommandOptions, self: Command) => {
      const { store } = self.optsWithGlobals<{ store?: string }>()
      if (!LOG_LEVELS.includes(options.logLevel)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `--log-level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(options.logLevel)}`)
      const connections: Partial<ConnectionLimits> = {
        headersTimeoutMs: positive(options.headersTimeout, '--headers-timeout'),
        requestTimeoutMs: positive(options.requestTimeout, '--request-timeout'),
        idleTimeoutMs: positive(options.idleTimeout, '--idle-timeout'),
        keepAliveTimeoutMs: positive(options.keepAliveTimeout, '--keep-alive-timeout'),
        maxConnections: positive(options.maxConnections, '--max-connections'),
      }
      // One write per turn of the event loop for the request log, not one per line (log-stream.ts).
      const log = new CoalescingLog(ctx.io.err)
      const server = await listen({
        store,
        host: options.host,
        port: Number(options.port),
        auth: options.auth,
        bodyLimit: positive(options.bodyLimit, '--body-limit'),
        jsonLimit: positive(options.jsonLimit, '--json-limit'),
        gateWorkLimit: positive(options.gateWorkLimit, '--gate-work-limit'),
        gateTimeLimitMs: positive(options.gateTimeLimit, '--gate-time-limit'),
        connections: Object.fromEntries(Object.entries(connections).filter(([, v]) => v !== undefined)),
        logger: { level: options.logLevel, stream: log },
        tokenCacheMs: nonNegative(options.tokenCacheMs, '--token-cache-ms'),
        otlpDecodeThreads: nonNegative(options.otlpThreads, '--otlp-threads'),
      })
      ctx.io.err.write(`assay server listening on ${server.url} (store: ${server.store.kind} ${server.store.location}; auth ${options.auth ? 'on' : 'OFF'})\n`)
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          process.off('SIGINT', stop)
          process.off('SIGTERM', stop)
          log.flush()
          ctx.io.err.write(`${signal}: finishing requests in flight and closing the store\n`)
          const done = (): void => {
            log.flush()
            resolve()
          }
          server.close().then(done, done)
        }
        process.on('SIGINT', stop)
        process.on('SIGTERM', stop)
      })
    })
}

function positive(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n <= 0) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${option} must be a positive whole number, got ${JSON.stringify(value)}`)
  return n
}

function nonNegative(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 0) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${option} must be a whole number of 0 or more, got ${JSON.stringify(value)}`)
  return n
}
