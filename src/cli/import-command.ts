import { Command } from 'commander'
import { EPOCH_REDUCERS, ERROR_RULES, IMPORT_FORMATS, type EpochReducer, type ErrorRule } from '../import/import-plan.js'
import type { CliContext } from './context.js'
import { writeJson, writeTable } from './output.js'

interface ImportCliOptions {
  experiment?: string
  name?: string
  errors: string
  epochsReducer?: string
  filter?: string
  json?: boolean
}

export function importCommand(ctx: CliContext): Command {
  return new Command('import')
    .argument('<format>', `the tool that wrote the file: ${IMPORT_FORMATS.join(', ')}`)
    .argument('<path>', 'lm-eval: a results_<date>.json (its samples files beside it) or its directory; promptfoo: the --output JSON; inspect: a .json or .eval log')
    .option('--experiment <name>', 'experiment of the runs (default: the format name)')
    .option('--name <name>', 'run name (with several runs in the file, a prefix of each run name)')
    .option('--errors <rule>', `errored samples: ${ERROR_RULES.join(' (left out, counted in the run) or ')} (scored 0)`, 'exclude')
    .option('--epochs-reducer <reducer>', `inspect: how epochs of a sample become one score: ${EPOCH_REDUCERS.join(', ')} (default: the log's own reducer, else mean)`)
    .option('--filter <name>', 'lm-eval: the filter to import when a task was scored under several')
    .option('--json', 'print JSON (schema assay.import/v1)')
    .action(async (format: string, file: string, options: ImportCliOptions, self: Command) => {
      const result = await ctx.withAssay(self, (assay) =>
        assay.importResults(format, file, {
          experiment: options.experiment,
          name: options.name,
          errors: options.errors as ErrorRule,
          epochsReducer: options.epochsReducer as EpochReducer | undefined,
          filter: options.filter,
        }),
      )
      if (options.json) return writeJson(ctx.io, 'assay.import/v1', { ...result })
      const tool = result.tool.version === null ? result.tool.name : `${result.tool.name} ${result.tool.version}`
      ctx.io.out.write(
        result.existing
          ? `already imported (same files and rules): ${result.runs.length} run(s) in experiment ${result.experiment}, nothing written\n`
          : `imported ${result.runs.length} run(s) from ${tool} into experiment ${result.experiment}\n`,
      )
      writeTable(
        ctx.io,
        ['RUN', 'NAME', 'DATASET', 'RECORDS', 'ERRORED', 'EXCLUDED'],
        result.runs.map((r) => [r.id.slice(0, 8), r.name, `${r.dataset} ${r.datasetSha256.slice(0, 12)}`, String(r.records), String(r.errored), String(r.excluded)]),
      )
    })
}
