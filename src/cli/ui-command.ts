import { Command } from 'commander'
import { AssayError } from '../errors.js'
import { listen } from '../server/server-process.js'
import type { CliContext } from './context.js'
import { browserPlan, openBrowser } from './open-browser.js'

/** `assay ui`: the web UI over the embedded store, on 127.0.0.1 only, without sign-in (docs/ui.md). */
export function uiCommand(ctx: CliContext): Command {
  return new Command('ui')
    .option('--port <port>', 'port to listen on (default: any free port)', '0')
    .option('--no-open', 'do not open the browser (it opens only on a terminal with a display, never under CI)')
    .action(async (options: { port: string; open: boolean }, self: Command) => {
      const { store } = self.optsWithGlobals<{ store?: string }>()
      const port = Number(options.port)
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AssayError('ASSAY_INVALID_ARGUMENT', `--port must be 0-65535, got ${JSON.stringify(options.port)}`)
      // Without auth the server answers loopback addresses and Host names only (src/server/auth.ts).
      const server = await listen({ store, host: '127.0.0.1', port, auth: false, logger: false })
      ctx.io.out.write(`assay ui: ${server.url}/ (store: ${server.store.kind} ${server.store.location}; Ctrl-C stops it)\n`)
      const interactive = (ctx.io.out as { isTTY?: boolean }).isTTY === true
      const opened = await openBrowser(browserPlan(`${server.url}/`, { platform: process.platform, env: process.env, interactive, open: options.open }))
      if (opened.opened) ctx.io.out.write(`assay ui: opened in the browser (${opened.reason})\n`)
      else if (interactive && options.open) ctx.io.out.write(`assay ui: not opening a browser: ${opened.reason}\n`)
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop)
          process.off('SIGTERM', stop)
          server.close().then(resolve, resolve)
        }
        process.on('SIGINT', stop)
        process.on('SIGTERM', stop)
      })
    })
}
