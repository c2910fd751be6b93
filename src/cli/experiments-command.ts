import { Command } from 'commander'
import type { CliContext } from './context.js'
import { formatTime, writeJson, writeTable } from './output.js'

export function experimentsCommand(ctx: CliContext): Command {
  const command = new Command('experiments')
  command
    .command('ls')
    .description('list experiments with their run counts')
    .option('--json', 'print JSON (schema assay.experiments/v1)')
    .action(async (options: { json?: boolean }, self: Command) => {
      const experiments = await ctx.withAssay(self, (assay) => assay.listExperiments())
      if (options.json) return writeJson(ctx.io, 'assay.experiments/v1', { experiments })
      if (experiments.length === 0) return void ctx.io.out.write('no experiments yet: run `assay demo` to record one\n')
      writeTable(ctx.io, ['EXPERIMENT', 'RUNS', 'LAST RUN'], experiments.map((e) => [e.name, String(e.runCount), formatTime(e.lastRunAt)]))
    })
  return command
}
