import { Command } from 'commander'
import type { CliContext } from './context.js'
import { writeJson } from './output.js'

export function rollbackCommand(ctx: CliContext): Command {
  return new Command('rollback')
    .argument('<model>', 'model name')
    .option('--alias <alias>', 'alias to roll back', 'champion')
    .option('--reason <text>', 'why (recorded in the audit log)', '')
    .option('--json', 'print JSON (schema assay.rollback/v1)')
    .action(async (model: string, options: { alias: string; reason: string; json?: boolean }, self: Command) => {
      const result = await ctx.withAssay(self, (assay) => assay.rollback({ model, alias: options.alias, reason: options.reason }))
      if (options.json) return writeJson(ctx.io, 'assay.rollback/v1', { event: result.event, audit: { seq: result.audit.seq, hash: result.audit.hash } })
      ctx.io.out.write(`rolled back ${model}@${options.alias} from version ${result.event.previousVersion} to version ${result.event.version}; audit record ${result.audit.seq}\n`)
    })
}
