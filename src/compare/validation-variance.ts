import { AssayError } from '../errors.js'
import type { EvalColumns, RunRecord } from '../record/types.js'
import type { Store } from '../store/store.js'
import { mean, tInterval, variance, type Sample } from '../stats/index.js'
import { alignRuns } from './align-examples.js'
import type { ComparisonWarning } from './comparison-types.js'
import type { VarianceResult } from './variance-types.js'
import { ASSAY_VERSION } from '../version.js'
import { evalSetFor } from './compare.js'
import { parseGroupBy, resolveSide, type GroupBy } from './resolve-sides.js'

/**
 * Validation variance: how much a metric moves across seeds, per example, and across data splits,
 * which share of a single run's uncertainty comes from each, and the standard error a single run
 * really has. Model (docs/compare.md): s_ri = μ + seed_r + example_i + ε_ri, so a run's mean over n
 * examples varies, for a new seed AND a new sample of examples, with
 *   Var = σ²_seed + (σ²_example + σ²_ε) / n   (+ σ²_split when runs record several data splits).
 */

export type { VarianceResult, VarianceRun } from './variance-types.js'

export interface VarianceOptions {
  metric: string
  dataset?: string
  /** Expand a single run id into its replicate group (default 'config' when the spec is one run). */
  groupBy?: GroupBy | string | null
  confidenceLevel?: number
  /** How many most seed-sensitive examples to list. Default 10. */
  top?: number
}

/** The sample variance, 0 for a single value (one run, one example: no spread to measure). */
function sampleVariance(x: Sample): number {
  return x.length < 2 ? 0 : variance(x)
}

/** Pure part: the decomposition for runs scored on the same examples (aligned). */
export function decomposeAligned(ids: readonly string[], scores: readonly Float64Array[], top: number): {
  runMeans: number[]
  runSe: number[]
  seedVariance: number
  seedComponent: number
  exampleComponent: number
  residualMeanSquare: number
  perExample: NonNullable<VarianceResult['perExample']>
} {
  const R = scores.length
  const n = ids.length
  const runMeans = scores.map((s) => mean(s))
  const runVar = scores.map((s) => sampleVariance(s))
  const runSe = runVar.map((v) => Math.sqrt(v / n))
  const grand = mean(runMeans)
  // Two-way layout runs × examples without replication: residual mean square estimates σ²_ε.
  const exampleMeans = new Float64Array(n)
  for (const s of scores) for (let i = 0; i < n; i++) exampleMeans[i] = (exampleMeans[i] as number) + (s[i] as number) / R
  let ssResidual = 0
  for (let r = 0; r < R; r++) {
    const s = scores[r] as Float64Array
    const mr = runMeans[r] as number
    for (let i = 0; i < n; i++) ssResidual += ((s[i] as number) - mr - (exampleMeans[i] as number) + grand) ** 2
  }
  const residualMeanSquare = R > 1 && n > 1 ? ssResidual / ((R - 1) * (n - 1)) : 0
  const seedVariance = sampleVariance(runMeans)
  // Var over seeds of run means on FIXED examples = σ²_seed + σ²_ε / n; remove the ε part counted again below.
  const seedComponent = Math.max(0, seedVariance - residualMeanSquare / n)
  const exampleComponent = mean(runVar) / n
  // Per example: spread across seeds.
  const sds = new Float64Array(n)
  let unstable = 0
  for (let i = 0; i < n; i++) {
    let lo = Infinity
    let hi = -Infinity
    let ss = 0
    const m = exampleMeans[i] as number
    for (let r = 0; r < R; r++) {
      const v = (scores[r] as Float64Array)[i] as number
      if (v < lo) lo = v
      if (v > hi) hi = v
      ss += (v - m) ** 2
    }
    sds[i] = R > 1 ? Math.sqrt(ss / (R - 1)) : 0
    if (hi > lo) unstable++
  }
  const order = Array.from({ length: n }, (_, i) => i)
    .filter((i) => (sds[i] as number) > 0)
    .sort((x, y) => (sds[y] as number) - (sds[x] as number) || x - y)
    .slice(0, top)
  const mostUnstable = order.map((i) => {
    const vals = scores.map((s) => s[i] as number)
    return { id: ids[i] as string, mean: exampleMeans[i] as number, sd: sds[i] as number, min: Math.min(...vals), max: Math.max(...vals) }
  })
  return {
    runMeans,
    runSe,
    seedVariance,
    seedComponent,
    exampleComponent,
    residualMeanSquare,
    perExample: { meanSdAcrossSeeds: mean(sds), unstable, unstableShare: n > 0 ? unstable / n : 0, mostUnstable },
  }
}

export async function validationVariance(store: Store, groupSpec: string, options: VarianceOptions): Promise<VarianceResult> {
  if (options === null || typeof options !== 'object' || typeof options.metric !== 'string' || options.metric === '') {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', 'metric is required: the score name in eval records (or a run-level metric key)')
  }
  const metric = options.metric
  const confidenceLevel = options.confidenceLevel ?? 0.95
  if (!(confidenceLevel > 0 && confidenceLevel < 1)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `confidence must be in (0, 1), got ${String(confidenceLevel)}`)
  const top = options.top ?? 10
  const groupBy = options.groupBy === undefined ? null : options.groupBy === null ? null : typeof options.groupBy === 'string' ? parseGroupBy(options.groupBy) : options.groupBy
  let side = await resolveSide(store, groupSpec, { groupBy })
  // A single run id means its replicate group.
  if (side.runs.length === 1 && groupBy === null) side = await resolveSide(store, groupSpec, { groupBy: { by: 'config' } })
  const runs = side.runs
  if (runs.length < 2) {
    throw new AssayError(
      'ASSAY_GROUP_TOO_SMALL',
      `group ${side.label} has ${runs.length} run: variance across seeds needs at least 2 runs (${side.how}); run the same configuration with more seeds`,
      { runs: runs.length },
    )
  }
  const warnings: ComparisonWarning[] = []
  const sets = runs.map((r) => evalSetFor(r, metric, options.dataset ?? null))
  const group = { label: side.label, resolvedAs: side.how, runIds: runs.map((r) => r.id), seeds: runs.map((r) => r.seed) }
  if (runs.length < 5) warnings.push({ code: 'FEW_SEEDS', message: `only ${runs.length} runs: the seed variance is itself very uncertain (its ${Math.round(confidenceLevel * 100)}% interval spans more than a factor of 10 below 5 runs)` })

  if (!sets.every((s) => s !== null)) {
    const missing = runs.filter((r) => !r.metrics.some((m) => m.key === metric))
    if (missing.length > 0) {
      throw new AssayError('ASSAY_METRIC_NOT_FOUND', `${missing.map((r) => `run ${r.id.slice(0, 8)}`).join(', ')} ha${missing.length === 1 ? 's' : 've'} neither eval scores nor a run-level metric named ${JSON.stringify(metric)}`, {
        metric,
        runIds: missing.map((r) => r.id),
      })
    }
    const values = runs.map((r) => (r.metrics.find((m) => m.key === metric) as { last: number }).last)
    const m = mean(values)
    const v = sampleVariance(values)
    warnings.push({ code: 'METHOD_FALLBACK', message: `not every run has eval records with score ${JSON.stringify(metric)}: only the variance across seeds of the run-level metric (last value) is measured; the example share is unknown` })
    return {
      schema: 'assay.variance/v1',
      assayVersion: ASSAY_VERSION,
      metric,
      source: 'run-metrics',
      dataset: null,
      group,
      runs: runs.map((r, k) => ({ runId: r.id, seed: r.seed, value: values[k] as number, n: null, exampleStandardError: null, datasetSha256: null })),
      mean: m,
      ci: v > 0 ? tInterval(values, { confidenceLevel }).ci : [m, m],
      confidenceLevel,
      seeds: { count: runs.length, sd: Math.sqrt(v), variance: v, component: v },
      examples: null,
      perExample: null,
      splits: null,
      shares: { seeds: 1, examples: null, splits: null },
      singleRunStandardError: Math.sqrt(v),
      naiveStandardError: null,
      inflation: null,
      warnings,
    }
  }

  const columns: EvalColumns[] = []
  for (const [k, r] of runs.entries()) columns.push(await store.evalColumns(r.id, (sets[k] as { dataset: string }).dataset))
  const bySplit = new Map<string, number[]>()
  for (const [k, s] of sets.entries()) {
    const sha = (s as { datasetSha256: string }).datasetSha256
    bySplit.set(sha, [...(bySplit.get(sha) ?? []), k])
  }
  const dataset = (sets[0] as { dataset: string }).dataset

  if (bySplit.size === 1) {
    const aligned = alignRuns(columns, metric)
    if (aligned.ids.length < 2) throw new AssayError('ASSAY_GROUP_TOO_SMALL', `fewer than 2 examples have a finite ${JSON.stringify(metric)} in every run`)
    if (aligned.lost.some((l) => l > 0)) warnings.push({ code: 'PARTIAL_OVERLAP', message: `uses the ${aligned.ids.length} examples every run scored; runs lost ${aligned.lost.join(', ')} records (in run order)` })
    const d = decomposeAligned(aligned.ids, aligned.scores, top)
    const total = d.seedComponent + d.exampleComponent
    const single = Math.sqrt(total)
    const naive = mean(d.runSe)
    const m = mean(d.runMeans)
    return {
      schema: 'assay.variance/v1',
      assayVersion: ASSAY_VERSION,
      metric,
      source: 'eval-records',
      dataset,
      group,
      runs: runs.map((r, k) => ({ runId: r.id, seed: r.seed, value: d.runMeans[k] as number, n: aligned.ids.length, exampleStandardError: d.runSe[k] as number, datasetSha256: (sets[k] as { datasetSha256: string }).datasetSha256 })),
      mean: m,
      ci: d.seedVariance > 0 ? tInterval(d.runMeans, { confidenceLevel }).ci : [m, m],
      confidenceLevel,
      seeds: { count: runs.length, sd: Math.sqrt(d.seedVariance), variance: d.seedVariance, component: d.seedComponent },
      examples: { n: aligned.ids.length, sdPerRun: Math.sqrt(d.exampleComponent * aligned.ids.length), component: d.exampleComponent },
      perExample: d.perExample,
      splits: null,
      shares: { seeds: total > 0 ? d.seedComponent / total : 0, examples: total > 0 ? d.exampleComponent / total : 0, splits: null },
      singleRunStandardError: single,
      naiveStandardError: naive,
      inflation: naive > 0 ? single / naive : null,
      warnings,
    }
  }

  // Several data splits: per-run means over each run's own examples; seeds within splits, splits between.
  const runValues = columns.map((c) => {
    const col = c.scores[metric] as Float64Array
    const kept = col.filter((v) => Number.isFinite(v))
    return { value: mean(kept), n: kept.length, se: Math.sqrt(sampleVariance(kept) / kept.length), variance: sampleVariance(kept) }
  })
  const splitValues = [...bySplit].map(([sha, ks]) => ({ datasetSha256: sha, runs: ks.length, mean: mean(ks.map((k) => (runValues[k] as { value: number }).value)) }))
  // Pooled within-split variance of run values (seeds), then the between-split variance net of it.
  let ssWithin = 0
  let dfWithin = 0
  for (const [, ks] of bySplit) {
    const vals = ks.map((k) => (runValues[k] as { value: number }).value)
    if (vals.length > 1) {
      ssWithin += sampleVariance(vals) * (vals.length - 1)
      dfWithin += vals.length - 1
    }
  }
  const seedVariance = dfWithin > 0 ? ssWithin / dfWithin : 0
  if (dfWithin === 0) warnings.push({ code: 'FEW_SEEDS', message: 'every data split has a single run: seed and split variance cannot be told apart; the seed share is reported as 0' })
  const meanRunsPerSplit = runs.length / bySplit.size
  const splitVarianceRaw = sampleVariance(splitValues.map((s) => s.mean))
  const nMean = mean(runValues.map((r) => r.n))
  const exampleComponent = mean(runValues.map((r) => r.variance / r.n))
  // A split mean varies with the split itself, its seeds (σ²_seed / k) and its own sample of examples
  // ((σ²_example + σ²_ε) / n): the split component is what is left after the other two.
  const splitComponent = Math.max(0, splitVarianceRaw - seedVariance / meanRunsPerSplit - exampleComponent)
  // Without a shared example set σ²_ε cannot be separated out: the seed component keeps σ²_ε / n (slightly conservative).
  const seedComponent = seedVariance
  const total = seedComponent + exampleComponent + splitComponent
  const single = Math.sqrt(total)
  const naive = mean(runValues.map((r) => r.se))
  const values = runValues.map((r) => r.value)
  const m = mean(values)
  return {
    schema: 'assay.variance/v1',
    assayVersion: ASSAY_VERSION,
    metric,
    source: 'eval-records',
    dataset,
    group,
    runs: runs.map((r: RunRecord, k) => ({ runId: r.id, seed: r.seed, value: values[k] as number, n: (runValues[k] as { n: number }).n, exampleStandardError: (runValues[k] as { se: number }).se, datasetSha256: (sets[k] as { datasetSha256: string }).datasetSha256 })),
    mean: m,
    ci: sampleVariance(values) > 0 ? tInterval(values, { confidenceLevel }).ci : [m, m],
    confidenceLevel,
    seeds: { count: runs.length, sd: Math.sqrt(seedVariance), variance: seedVariance, component: seedComponent },
    examples: { n: Math.round(nMean), sdPerRun: Math.sqrt(exampleComponent * nMean), component: exampleComponent },
    perExample: null,
    splits: { count: bySplit.size, values: splitValues, sd: Math.sqrt(splitVarianceRaw), component: splitComponent },
    shares: total > 0 ? { seeds: seedComponent / total, examples: exampleComponent / total, splits: splitComponent / total } : { seeds: 0, examples: 0, splits: 0 },
    singleRunStandardError: single,
    naiveStandardError: naive,
    inflation: naive > 0 ? single / naive : null,
    warnings,
  }
}
