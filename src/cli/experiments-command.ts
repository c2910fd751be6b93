import { Command } from 'commander'
import { commandLine, type CliContext } from './context.js'
import { formatTime, PAGE_OPTIONS, parsePageOptions, writeJson, writeNextPage, writeTable } from './output.js'

export function experimentsCommand(ctx: CliContext): Command {
  const command = new Command('experiments')
  command
    .command('ls')
    .description('list experiments with their run counts')
    .option(...PAGE_OPTIONS.limit)
    .option(...PAGE_OPTIONS.cursor)
    .option('--json', 'print JSON (schema assay.experiments/v1)')
    .action(async (options: { limit?: string; cursor?: string; json?: boolean }, self: Command) => {
      const page = parsePageOptions(options)
      const { experiments, nextCursor } = await ctx.withAssay(self, async (assay) => (page !== null ? assay.listExperimentsPage(page) : { experiments: await assay.listExperiments(), nextCursor: null }))
      if (options.json) return writeJson(ctx.io, 'assay.experiments/v1', { experiments, nextCursor })
      writeNextPage(ctx.io, 'experiments', [commandLine(self), ['--limit', options.limit]], nextCursor)
      if (experiments.length === 0) return void ctx.io.out.write('no experiments yet: run `assay demo` to record one\n')
      writeTable(ctx.io, ['EXPERIMENT', 'RUNS', 'LAST RUN'], experiments.map((e) => [e.name, String(e.runCount), formatTime(e.lastRunAt)]))
    })
  return command
}
