import { Command } from 'commander'
import { DEFAULT_HOST, DEFAULT_PORT, listen } from '../server/server-process.js'
import type { CliContext } from './context.js'

/** `assay server`: serve the store over HTTP until SIGINT or SIGTERM (docs/server.md). */
export function serverCommand(ctx: CliContext): Command {
  return new Command('server')
    .option('--host <host>', 'address to bind', DEFAULT_HOST)
    .option('--port <port>', 'port to listen on (0: any free port)', String(DEFAULT_PORT))
    .option('--no-auth', 'serve without API tokens (loopback addresses only; for local use)')
    .option('--body-limit <bytes>', 'largest buffered request body in bytes (default 64 MiB)')
    .action(async (options: { host: string; port: string; auth: boolean; bodyLimit?: string }, self: Command) => {
      const { store } = self.optsWithGlobals<{ store?: string }>()
      const server = await listen({
        store,
        host: options.host,
        port: Number(options.port),
        auth: options.auth,
        bodyLimit: options.bodyLimit === undefined ? undefined : Number(options.bodyLimit),
      })
      ctx.io.err.write(`assay server listening on ${server.url} (store: ${server.store.kind} ${server.store.location}; auth ${options.auth ? 'on' : 'OFF'})\n`)
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          process.off('SIGINT', stop)
          process.off('SIGTERM', stop)
          ctx.io.err.write(`${signal}: finishing requests in flight and closing the store\n`)
          server.close().then(resolve, resolve)
        }
        process.on('SIGINT', stop)
        process.on('SIGTERM', stop)
      })
    })
}
