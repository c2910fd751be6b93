import { Command } from 'commander'
import { AssayError } from '../errors.js'
import type { CliContext } from './context.js'
import { writeJson } from './output.js'

/** `assay sync`: upload what the remote SDK spooled while the server was unreachable (docs/server.md). */
export function syncCommand(ctx: CliContext): Command {
  return new Command('sync')
    .option('--json', 'print JSON (schema assay.sync/v1)')
    .action(async (options: { json?: boolean }, self: Command) => {
      const result = await ctx.withAssay(self, async (assay) => {
        const spool = assay.store.capabilities.spool
        if (spool === null) {
          throw new AssayError('ASSAY_INVALID_STORE_URL', `assay sync uploads to a server; ${assay.store.location} is a ${assay.store.kind} store (set ASSAY_TRACKING_URI=http://host:port or --store)`)
        }
        return { server: assay.store.location, spool: spool.dir, ...(await spool.sync()) }
      })
      // Refused writes are lost to their runs unless someone looks: exit 1 (failure), not 0.
      if (result.rejected > 0) ctx.exitCode = 1
      if (options.json) return writeJson(ctx.io, 'assay.sync/v1', result)
      ctx.io.out.write(`uploaded ${result.replayed} spooled write(s) to ${result.server}\n`)
      if (result.rejected > 0) ctx.io.out.write(`${result.rejected} write(s) refused by the server, kept in ${result.spool}/*.rejected\n`)
      if (result.liveFiles > 0) ctx.io.out.write(`${result.liveFiles} spool file(s) belong to running processes; they upload on their next call\n`)
    })
}
