import { Command } from 'commander'
import { COMPARE_DEFAULTS, type CompareOptions } from '../compare/compare.js'
import type { Comparison } from '../compare/comparison-types.js'
import { testPValues } from '../report/report-model.js'
import type { CliContext } from './context.js'
import { formatNumber, formatPValue } from '../number-format.js'
import { parseNumberOption, writeJson } from './output.js'


/** An interval, or 'none' when the sides (or a group's runs) are identical. */
function ciText(ci: [number, number] | null): string {
  return ci === null ? 'none (identical)' : `[${formatNumber(ci[0])}, ${formatNumber(ci[1])}]`
}

interface CompareCliOptions {
  metric: string
  dataset?: string
  groupBy?: string | true
  confidence: string
  resamples: string
  seed: string
  margin?: string
  lowerIsBetter?: boolean
  allowDifferentData?: boolean
  top: string
  holdoutBudget?: string
  json?: boolean
}

export function compareCommand(ctx: CliContext): Command {
  return new Command('compare')
    .argument('<a>', 'run id or prefix, RUN1,RUN2,..., config:<fingerprint>, or filter:<expression>')
    .argument('<b>', 'the same forms, for the side A is compared against')
    .requiredOption('-m, --metric <name>', 'score name in eval records (per example), or a run-level metric key for groups without eval records')
    .option('--dataset <name>', 'eval dataset name (default: the one both sides scored the metric on)')
    .option('--group-by [how]', 'expand a single run into its replicate group: config (default) or params.KEY[,params.KEY]')
    .option('--confidence <level>', 'confidence level', String(COMPARE_DEFAULTS.confidenceLevel))
    .option('--resamples <n>', 'bootstrap resamples', String(COMPARE_DEFAULTS.resamples))
    .option('--seed <n>', 'seed of every resampling step (the same seed gives the same numbers)', String(COMPARE_DEFAULTS.seed))
    .option('--margin <delta>', 'equivalence margin in metric units (default none: the verdict is never "equivalent")')
    .option('--lower-is-better', 'lower values of the metric are better (default: higher is better)')
    .option('--allow-different-data', 'compare with unpaired methods when the sides were evaluated on different dataset versions')
    .option('--top <n>', 'most regressed and most improved examples to list', String(COMPARE_DEFAULTS.top))
    .option('--holdout-budget <n>', 'holdout/test reads per dataset version before HOLDOUT_OVERUSE (default ASSAY_HOLDOUT_BUDGET, else 20)')
    .option('--json', 'print JSON (schema assay.comparison/v1)')
    .action(async (a: string, b: string, options: CompareCliOptions, self: Command) => {
      const compareOptions: CompareOptions = {
        metric: options.metric,
        confidenceLevel: parseNumberOption(options.confidence, '--confidence', (n) => n > 0 && n < 1, 'a number in (0, 1)'),
        resamples: parseNumberOption(options.resamples, '--resamples', (n) => Number.isInteger(n) && n >= 100, 'an integer of at least 100'),
        seed: parseNumberOption(options.seed, '--seed', (n) => Number.isSafeInteger(n) && n >= 0, 'a non-negative integer'),
        top: parseNumberOption(options.top, '--top', (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer'),
        lowerIsBetter: options.lowerIsBetter ?? false,
        allowDifferentData: options.allowDifferentData ?? false,
      }
      if (options.dataset !== undefined) compareOptions.dataset = options.dataset
      if (options.groupBy !== undefined) compareOptions.groupBy = options.groupBy === true ? 'config' : options.groupBy
      if (options.margin !== undefined) compareOptions.margin = parseNumberOption(options.margin, '--margin', (n) => n > 0, 'a positive number')
      if (options.holdoutBudget !== undefined) {
        compareOptions.holdoutBudget = parseNumberOption(options.holdoutBudget, '--holdout-budget', (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer')
      }
      const result = await ctx.withAssay(self, (assay) => assay.compare(a, b, compareOptions))
      if (options.json) return writeJson(ctx.io, 'assay.comparison/v1', stripSchema(result))
      ctx.io.out.write(renderComparison(result))
    })
}

function stripSchema(result: Comparison): Record<string, unknown> {
  const { schema: _schema, ...rest } = result
  return rest
}

const VERDICT_TEXT: Record<Comparison['verdict'], string> = {
  better: 'A is BETTER than B',
  worse: 'A is WORSE than B',
  equivalent: 'A and B are EQUIVALENT within the margin',
  inconclusive: 'INCONCLUSIVE: the data cannot tell A and B apart',
}

function pct(x: number): string {
  return `${(x * 100).toFixed(0)}%`
}

/** The text report: verdict first, then estimate, interval, p, sizes, warnings, the sample size needed. */
export function renderComparison(c: Comparison): string {
  const lines: string[] = []
  const direction = c.higherIsBetter ? 'higher is better' : 'lower is better'
  lines.push(`${VERDICT_TEXT[c.verdict]} on ${c.metric} (${direction})`)
  lines.push(`  because ${c.decision.reason}`)
  lines.push('')
  lines.push(`estimate (A − B)  ${formatNumber(c.estimate)}   ${pct(c.confidenceLevel)} CI ${ciText(c.ci)}   p = ${formatPValue(c.pValue)}`)
  lines.push(`method            ${c.method} (${c.mode}; α = ${formatNumber(c.alpha, 3)}, ${c.resamples} resamples, seed ${c.seed})`)
  if (c.margin !== null) lines.push(`margin            ±${formatNumber(c.margin)}`)
  lines.push(`A                 ${c.a.label}: mean ${formatNumber(c.a.mean)} (${c.a.runIds.length} run${c.a.runIds.length === 1 ? '' : 's'}: ${c.resolvedAs.a})`)
  lines.push(`B                 ${c.b.label}: mean ${formatNumber(c.b.mean)} (${c.b.runIds.length} run${c.b.runIds.length === 1 ? '' : 's'}: ${c.resolvedAs.b})`)
  const s = c.sampleSizes
  if (c.groups === null) {
    lines.push(`examples          ${s.pairs === null ? `A ${s.a}, B ${s.b} (unpaired)` : `${s.pairs} pairs (A had ${s.a}, lost ${s.lostA}; B had ${s.b}, lost ${s.lostB})`}${c.dataset === null ? '' : ` on ${c.dataset}`}`)
  } else {
    lines.push(`seeds             A ${s.a}, B ${s.b}${s.examples === undefined ? '' : `; ${s.examples} examples each`}${c.source === 'run-metrics' ? ' (run-level metric, last value)' : ` (mean ${c.metric} over eval records on ${c.dataset ?? '?'})`}`)
  }
  if (c.effectSize !== null) lines.push(`effect size       ${c.effectSize.name} = ${formatNumber(c.effectSize.value, 3)}`)
  if (c.clusteredStandardError !== null && c.clusteredCi !== null) {
    lines.push(`clustered SE      ${formatNumber(c.clusteredStandardError.value)} over ${c.clusteredStandardError.clusters} clusters; CI [${formatNumber(c.clusteredCi[0])}, ${formatNumber(c.clusteredCi[1])}]`)
  }
  if (c.groups !== null) {
    lines.push('')
    for (const [name, g] of [['A', c.groups.a], ['B', c.groups.b]] as const) {
      lines.push(`${name} per seed        ${g.seeds.map((seed, i) => `${seed}: ${formatNumber(g.values[i])}`).join(', ')}`)
      lines.push(`                  mean ${formatNumber(g.mean)}, ${pct(c.confidenceLevel)} CI ${ciText(g.ci)}, sd ${formatNumber(g.sd)}, range ${formatNumber(g.min)}–${formatNumber(g.max)}`)
    }
    const poi = c.tests.find((t) => typeof t.method === 'string' && t.method.startsWith('Probability of improvement')) as { estimate?: number; ci?: [number, number] } | undefined
    if (poi?.estimate !== undefined && poi.ci !== undefined) lines.push(`P(A > B)          ${formatNumber(poi.estimate, 3)} [${formatNumber(poi.ci[0], 3)}, ${formatNumber(poi.ci[1], 3)}]`)
    const aso = c.tests.find((t) => t.direction === 'A over B' && typeof t.epsilonMin === 'number') as { epsilonMin: number; aDominates: boolean } | undefined
    if (aso !== undefined) lines.push(`ASO ε_min (A>B)   ${formatNumber(aso.epsilonMin, 3)}${aso.aDominates ? ' (A almost stochastically dominates B)' : ''}`)
  }
  const others = testPValues(c).map((t) => `${t.method}: p = ${formatPValue(t.pValue)}`)
  if (others.length > 0) {
    lines.push('')
    lines.push('tests')
    for (const t of others) lines.push(`  ${t}`)
  }
  if (c.warnings.length > 0) {
    lines.push('')
    for (const w of c.warnings) lines.push(`warning ${w.code}: ${w.message}`)
  }
  if (c.required !== null) {
    lines.push('')
    if (c.required.examples !== null) lines.push(`to detect a difference of ${formatNumber(c.estimate)} at ${pct(c.required.power)} power: about ${c.required.examples} paired examples (have ${s.pairs ?? Math.min(s.a, s.b)})`)
    const clusters = c.required.clusters ?? null
    if (clusters !== null) lines.push(`to detect a difference of ${formatNumber(c.estimate)} at ${pct(c.required.power)} power: about ${clusters} clusters of the current size (have ${c.clusteredStandardError?.clusters ?? '?'}); more examples in the same clusters cannot help`)
    if (c.required.seeds !== null) {
      lines.push(
        c.required.seedsBasis === 'minimum'
          ? `seeds per group needed: at least ${c.required.seeds} (assay's minimum for a replicate comparison; have ${Math.min(s.a, s.b)})`
          : `to detect a difference of ${formatNumber(c.estimate)} at ${pct(c.required.power)} power: about ${c.required.seeds} seeds per group (have ${Math.min(s.a, s.b)})`,
      )
    }
    if (c.required.examples === null && c.required.seeds === null && (c.required.clusters ?? null) === null) lines.push('the observed difference is 0: no sample size would detect it')
  }
  for (const [title, list] of [
    ['most regressed examples (A worse)', c.topRegressions],
    ['most improved examples (A better)', c.topImprovements],
  ] as const) {
    if (list.length === 0) continue
    lines.push('')
    lines.push(title)
    for (const e of list.slice(0, 5)) lines.push(`  ${e.id}: A ${formatNumber(e.a)}, B ${formatNumber(e.b)} (Δ ${formatNumber(e.delta)})`)
  }
  return `${lines.join('\n')}\n`
}
