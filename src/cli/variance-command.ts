import { Command } from 'commander'
import type { VarianceOptions, VarianceResult } from '../compare/validation-variance.js'
import type { CliContext } from './context.js'
import { formatNumber } from '../number-format.js'
import { parseNumberOption, writeJson } from './output.js'

export function varianceCommand(ctx: CliContext): Command {
  return new Command('variance')
    .argument('<group>', 'a run id (its replicate group: same config fingerprint), RUN1,RUN2,..., config:<fingerprint>, or filter:<expression>')
    .requiredOption('-m, --metric <name>', 'score name in eval records, or a run-level metric key')
    .option('--dataset <name>', 'eval dataset name (default: the one the runs scored the metric on)')
    .option('--group-by <how>', 'how a single run expands into its group: config (default) or params.KEY[,params.KEY]')
    .option('--confidence <level>', 'confidence level', '0.95')
    .option('--top <n>', 'most seed-sensitive examples to list', '10')
    .option('--json', 'print JSON (schema assay.variance/v1)')
    .action(async (group: string, options: { metric: string; dataset?: string; groupBy?: string; confidence: string; top: string; json?: boolean }, self: Command) => {
      const varianceOptions: VarianceOptions = {
        metric: options.metric,
        confidenceLevel: parseNumberOption(options.confidence, '--confidence', (n) => n > 0 && n < 1, 'a number in (0, 1)'),
        top: parseNumberOption(options.top, '--top', (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer'),
      }
      if (options.dataset !== undefined) varianceOptions.dataset = options.dataset
      if (options.groupBy !== undefined) varianceOptions.groupBy = options.groupBy
      const result = await ctx.withAssay(self, (assay) => assay.variance(group, varianceOptions))
      if (options.json) {
        const { schema: _schema, ...rest } = result
        return writeJson(ctx.io, 'assay.variance/v1', rest)
      }
      ctx.io.out.write(renderVariance(result))
    })
}

function pct(x: number | null): string {
  return x === null ? '-' : `${(x * 100).toFixed(0)}%`
}

export function renderVariance(v: VarianceResult): string {
  const lines: string[] = []
  lines.push(`${v.metric}: a single run has a standard error of ${formatNumber(v.singleRunStandardError)}` + (v.naiveStandardError === null ? '' : ` — ${formatNumber(v.inflation, 3)}× the ${formatNumber(v.naiveStandardError)} it reports from its examples alone`))
  lines.push(`  shares of that variance: seeds ${pct(v.shares.seeds)}, examples ${pct(v.shares.examples)}${v.shares.splits === null ? '' : `, data splits ${pct(v.shares.splits)}`}`)
  lines.push('')
  lines.push(`group             ${v.group.label}: ${v.group.runIds.length} runs (${v.group.resolvedAs})`)
  lines.push(`source            ${v.source === 'eval-records' ? `per-example scores on ${v.dataset ?? '?'}` : 'run-level metric (last value)'}`)
  lines.push(`mean              ${formatNumber(v.mean)}   ${pct(v.confidenceLevel)} CI over seeds [${formatNumber(v.ci[0])}, ${formatNumber(v.ci[1])}]`)
  lines.push(`across seeds      sd ${formatNumber(v.seeds.sd)} over ${v.seeds.count} runs (component σ²_seed ${formatNumber(v.seeds.component)})`)
  if (v.examples !== null) lines.push(`across examples   sd ${formatNumber(v.examples.sdPerRun)} per example, n ${v.examples.n}: variance of a run's mean ${formatNumber(v.examples.component)}`)
  if (v.splits !== null) lines.push(`across splits     ${v.splits.count} dataset versions, sd of split means ${formatNumber(v.splits.sd)} (component ${formatNumber(v.splits.component)})`)
  lines.push('')
  lines.push('per seed          ' + v.runs.map((r) => `${r.seed}: ${formatNumber(r.value)}`).join(', '))
  if (v.perExample !== null) {
    lines.push(`per example       ${v.perExample.unstable} of ${v.examples?.n ?? '?'} examples (${pct(v.perExample.unstableShare)}) change score across seeds; mean sd across seeds ${formatNumber(v.perExample.meanSdAcrossSeeds)}`)
    for (const e of v.perExample.mostUnstable.slice(0, 5)) lines.push(`  ${e.id}: mean ${formatNumber(e.mean)}, sd ${formatNumber(e.sd)}, range ${formatNumber(e.min)}–${formatNumber(e.max)}`)
  }
  for (const w of v.warnings) lines.push(`warning ${w.code}: ${w.message}`)
  return `${lines.join('\n')}\n`
}
