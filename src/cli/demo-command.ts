import { Command } from 'commander'
import path from 'node:path'
import { DEMO_EXPERIMENT, runDemo } from '../demo/demo-experiment.js'
import { AssayError } from '../errors.js'
import type { CliContext } from './context.js'
import { writeJson, writeTable } from './output.js'

export function demoCommand(ctx: CliContext): Command {
  return new Command('demo')
    .description('run a real small experiment (logistic regression, two configurations × five seeds) and record everything')
    .option('--seeds <n>', 'seeds per configuration', '5')
    .option('--data-dir <dir>', 'where the generated data sets are written', path.join('.assay', 'demo-data'))
    .option('--json', 'print JSON (schema assay.demo/v1)')
    .action(async (options: { seeds: string; dataDir: string; json?: boolean }, self: Command) => {
      const count = Number(options.seeds)
      if (!Number.isInteger(count) || count < 1 || count > 100) {
        throw new AssayError('ASSAY_INVALID_ARGUMENT', `--seeds must be an integer from 1 to 100, got ${options.seeds}`)
      }
      const seeds = Array.from({ length: count }, (_, i) => i + 1)
      const started = Date.now()
      const result = await ctx.withAssay(self, (assay) =>
        runDemo(assay, { dataDir: path.resolve(options.dataDir), seeds, onProgress: (message) => ctx.io.err.write(`${message}\n`) }),
      )
      if (options.json) return writeJson(ctx.io, 'assay.demo/v1', { ...result })
      const out = ctx.io.out
      out.write(`\nRecorded ${result.runs.length} runs of experiment ${DEMO_EXPERIMENT} in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`)
      out.write('Each run holds its params, seed, environment, code version, the content hashes of train.csv and validation.csv,\n')
      out.write('per-epoch metrics, 2,000 per-example eval records and the model weights as an artifact.\n\n')
      writeTable(ctx.io, ['CONFIG', 'SEED', 'RUN', 'VALIDATION ACCURACY'], result.runs.map((r) => [r.config, String(r.seed), r.runId.slice(0, 8), r.accuracy.toFixed(4)]))
      for (const config of [...new Set(result.runs.map((r) => r.config))]) {
        const values = result.runs.filter((r) => r.config === config).map((r) => r.accuracy)
        const mean = values.reduce((s, v) => s + v, 0) / values.length
        out.write(`\n${config}: mean validation accuracy ${mean.toFixed(4)} over ${values.length} seeds (min ${Math.min(...values).toFixed(4)}, max ${Math.max(...values).toFixed(4)})`)
      }
      const [first, second] = [result.runs[0], result.runs[result.runs.length - 1]]
      out.write('\n\nNext:\n')
      out.write(`  assay runs ls --experiment ${DEMO_EXPERIMENT}\n`)
      out.write(`  assay runs ls --filter "params.config = 'candidate' and metrics.validation/accuracy >= 0.7"\n`)
      out.write(`  assay runs show ${first.runId.slice(0, 8)}\n`)
      out.write(`  assay runs diff ${first.runId.slice(0, 8)} ${second.runId.slice(0, 8)}\n`)
      out.write(`  assay replay ${first.runId.slice(0, 8)}\n`)
      out.write(`  assay artifacts get ${second.runId.slice(0, 8)} model/weights.json\n`)
    })
}
