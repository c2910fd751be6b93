import { AssayError } from '../errors.js'
import { mean, MIN_EXAMPLES } from '../stats/index.js'
import type { EvalColumns, RunRecord } from '../record/types.js'
import type { Store } from '../store/store.js'
import { alignExamples, alignRuns, detectScoreType } from './align-examples.js'
import type { Comparison, ComparisonMode, ComparisonSide, ComparisonWarning } from './comparison-types.js'
import { fewSeedsWarning, groupComparison, seedsNeededPerGroup, type GroupInput } from './group-comparison.js'
import { recordAndCheckHoldout } from './holdout-ledger.js'
import { pairedExampleComparison, unpairedExampleComparison, type ExampleComparison } from './paired-comparison.js'
import { parseGroupBy, resolveSide, type GroupBy, type ResolvedSide } from './resolve-sides.js'
import { twoLevelBootstrap } from './two-level-bootstrap.js'
import { decideVerdict, DEFAULT_POWER, requiredExamples, requiredSeeds } from './verdict.js'
import { ASSAY_VERSION } from '../version.js'

/**
 * compare(store, a, b, { metric }): is A better than B on metric M, and how sure is that?
 * The store layer: resolve the sides, check comparability from the envelopes, load the scores, then
 * hand arrays to the pure functions (alignment, paired/group comparison, verdict). Prints nothing.
 */

export interface CompareOptions {
  /** Score name in eval records (per example), or a run-level metric key for groups without eval records. */
  metric: string
  /** Eval dataset name; default: the one dataset both sides scored `metric` on. */
  dataset?: string
  /** Expand a single run id into its replicate group: 'config' (default when given) or 'params.k[,params.k]'. */
  groupBy?: GroupBy | string | null
  /** Default 0.95. */
  confidenceLevel?: number
  /** Bootstrap resamples. Default 2000. */
  resamples?: number
  /** Seed of every resampling step. Default 0. */
  seed?: number
  /** Equivalence margin in metric units; default null (no equivalence claim). */
  margin?: number | null
  /** Default false: higher is better. */
  lowerIsBetter?: boolean
  /** Proceed with unpaired methods when the sides were evaluated on different dataset versions. */
  allowDifferentData?: boolean
  /** Most regressed / improved examples to list. Default 10. */
  top?: number
  /** Who reads a holdout, for the ledger (default ASSAY_OWNER, else the OS user). */
  actor?: string
  /** Holdout reads allowed per dataset version before HOLDOUT_OVERUSE (default: holdout-ledger's). */
  holdoutBudget?: number
  /** A caller limited to these experiments: holdout counts and actors are those of the ledger entries it may read (checkHoldoutBudget). */
  holdoutVisibleExperiments?: readonly string[]
}

export const COMPARE_DEFAULTS = {
  confidenceLevel: 0.95,
  resamples: 2000,
  seed: 0,
  margin: null,
  lowerIsBetter: false,
  allowDifferentData: false,
  top: 10,
  power: DEFAULT_POWER,
} as const

interface ResolvedOptions {
  metric: string
  dataset: string | null
  groupBy: GroupBy | null
  confidenceLevel: number
  alpha: number
  resamples: number
  seed: number
  margin: number | null
  higherIsBetter: boolean
  allowDifferentData: boolean
  top: number
  actor: string | undefined
  holdoutBudget: number | undefined
  holdoutVisibleExperiments: readonly string[] | undefined
}

function invalid(message: string): AssayError {
  return new AssayError('ASSAY_INVALID_ARGUMENT', message)
}

export function resolveCompareOptions(options: CompareOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw invalid('compare options must be an object { metric, ... }')
  const metric = options.metric
  if (typeof metric !== 'string' || metric.trim() === '') throw invalid('metric is required: the score name in eval records (or a run-level metric key)')
  const confidenceLevel = options.confidenceLevel ?? COMPARE_DEFAULTS.confidenceLevel
  if (typeof confidenceLevel !== 'number' || !(confidenceLevel > 0 && confidenceLevel < 1)) throw invalid(`confidence must be in (0, 1), got ${String(confidenceLevel)}`)
  const resamples = options.resamples ?? COMPARE_DEFAULTS.resamples
  if (!Number.isInteger(resamples) || resamples < 100 || resamples > 1_000_000) throw invalid(`resamples must be an integer from 100 to 1000000, got ${String(resamples)}`)
  const seed = options.seed ?? COMPARE_DEFAULTS.seed
  if (!Number.isSafeInteger(seed) || seed < 0) throw invalid(`seed must be a non-negative integer, got ${String(seed)}`)
  const margin = options.margin ?? null
  if (margin !== null && (typeof margin !== 'number' || !(margin > 0) || !Number.isFinite(margin))) throw invalid(`margin must be a positive number in metric units, got ${String(margin)}`)
  const top = options.top ?? COMPARE_DEFAULTS.top
  if (!Number.isInteger(top) || top < 0 || top > 1000) throw invalid(`top must be an integer from 0 to 1000, got ${String(top)}`)
  const groupBy = options.groupBy === undefined || options.groupBy === null ? null : typeof options.groupBy === 'string' ? parseGroupBy(options.groupBy) : options.groupBy
  if (options.dataset !== undefined && (typeof options.dataset !== 'string' || options.dataset === '')) throw invalid('dataset must be a non-empty string')
  return {
    metric,
    dataset: options.dataset ?? null,
    groupBy,
    confidenceLevel,
    // 1 - 0.95 is 0.050000000000000044 in binary; the stated level is what a reader expects to see.
    alpha: Number((1 - confidenceLevel).toPrecision(12)),
    resamples,
    seed,
    margin,
    higherIsBetter: !(options.lowerIsBetter ?? false),
    allowDifferentData: options.allowDifferentData ?? false,
    top,
    actor: options.actor,
    holdoutBudget: options.holdoutBudget,
    holdoutVisibleExperiments: options.holdoutVisibleExperiments,
  }
}

/** The eval set of `run` that holds score `metric` (on `dataset` when given). null when it has none. */
export function evalSetFor(run: RunRecord, metric: string, dataset: string | null): { dataset: string; datasetSha256: string } | null {
  const sets = run.evals.filter((e) => e.scoreNames.includes(metric) && (dataset === null || e.dataset === dataset))
  if (sets.length === 0) return null
  if (sets.length > 1) {
    throw invalid(`run ${run.id.slice(0, 8)} has score ${JSON.stringify(metric)} in several eval sets (${sets.map((s) => s.dataset).join(', ')}); choose one with --dataset`)
  }
  const set = sets[0] as { dataset: string; datasetSha256: string }
  return { dataset: set.dataset, datasetSha256: set.datasetSha256 }
}

function metricNotFound(metric: string, missing: RunRecord[], where: string): AssayError {
  return new AssayError(
    'ASSAY_METRIC_NOT_FOUND',
    `${missing.map((r) => `run ${r.id.slice(0, 8)}`).join(', ')} ${missing.length === 1 ? 'has' : 'have'} no ${where} ${JSON.stringify(metric)}`,
    { metric, runIds: missing.map((r) => r.id) },
  )
}

function notComparable(message: string, details: Record<string, unknown>): AssayError {
  return new AssayError('ASSAY_NOT_COMPARABLE', `${message}; pass --allow-different-data (SDK: allowDifferentData) to compare with unpaired methods anyway`, details)
}

function side(resolved: ResolvedSide, datasetSha256: string | null, n: number, mean: number): ComparisonSide {
  return { label: resolved.label, runIds: resolved.runs.map((r) => r.id), seeds: resolved.runs.map((r) => r.seed), datasetSha256, n, mean }
}

async function holdoutReads(store: Store, runs: RunRecord[], dataset: string, sha: string | null, opts: ResolvedOptions): Promise<{ checks: Comparison['holdout']; warnings: ComparisonWarning[] }> {
  const checks = await recordAndCheckHoldout(store, {
    runs,
    datasetName: dataset,
    ...(sha === null ? {} : { datasetSha256: sha }),
    purpose: `compare ${opts.metric}`,
    ...(opts.actor === undefined ? {} : { actor: opts.actor }),
    ...(opts.holdoutBudget === undefined ? {} : { budget: opts.holdoutBudget }),
    ...(opts.holdoutVisibleExperiments === undefined ? {} : { visibleExperiments: opts.holdoutVisibleExperiments }),
  })
  return {
    checks: checks.map((c) => ({ datasetSha256: c.datasetSha256, datasetName: c.datasetName, reads: c.reads, budget: c.budget, overBudget: c.overBudget, ...(c.view === undefined ? {} : { view: c.view, hiddenReads: c.hiddenReads }) })),
    warnings: checks.flatMap((c) => (c.warning === null ? [] : [c.warning])),
  }
}

function isResolved(side: string | ResolvedSide): side is ResolvedSide {
  return typeof side === 'object' && side !== null
}

/** Each side is a spec (resolved here) or a side already resolved and checked by the caller (the server checks every run against the token first). */
export async function compare(store: Store, aSpec: string | ResolvedSide, bSpec: string | ResolvedSide, options: CompareOptions): Promise<Comparison> {
  const opts = resolveCompareOptions(options)
  const a = isResolved(aSpec) ? aSpec : await resolveSide(store, aSpec, { groupBy: opts.groupBy })
  const b = isResolved(bSpec) ? bSpec : await resolveSide(store, bSpec, { groupBy: opts.groupBy })
  // The same run on both sides compares nothing with itself: refused for single runs and groups alike.
  const idsB = new Set(b.runs.map((r) => r.id))
  const overlap = a.runs.map((r) => r.id).filter((id) => idsB.has(id))
  if (overlap.length > 0) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `the same run is on both sides: ${overlap.map((id) => id.slice(0, 8)).join(', ')}; a run cannot be compared with itself`, { runIds: overlap })
  }
  if (a.runs.length === 1 && b.runs.length === 1) {
    const fallback: ComparisonWarning[] = []
    if (a.asGroup === true || b.asGroup === true) {
      const asked = opts.groupBy === null ? 'a group expression (config:, filter:)' : opts.groupBy.by === 'config' ? '--group-by config' : `--group-by ${opts.groupBy.keys.map((k) => `params.${k}`).join(',')}`
      fallback.push({
        code: 'METHOD_FALLBACK',
        message: `replicate groups were asked for (${asked}), but each side has one run (A: ${a.how}; B: ${b.how}): the two runs were compared per example instead, which says nothing about seed-to-seed variation; run more seeds to compare groups`,
      })
    }
    const result = await compareSingleRuns(store, a, b, opts)
    return fallback.length === 0 ? result : { ...result, warnings: [...fallback, ...result.warnings] }
  }
  return compareGroups(store, a, b, opts)
}

function baseResult(opts: ResolvedOptions): Pick<
  Comparison,
  'schema' | 'assayVersion' | 'metric' | 'higherIsBetter' | 'confidenceLevel' | 'alpha' | 'margin' | 'resamples' | 'seed'
> {
  return {
    schema: 'assay.comparison/v1',
    assayVersion: ASSAY_VERSION,
    metric: opts.metric,
    higherIsBetter: opts.higherIsBetter,
    confidenceLevel: opts.confidenceLevel,
    alpha: opts.alpha,
    margin: opts.margin,
    resamples: opts.resamples,
    seed: opts.seed,
  }
}

async function compareSingleRuns(store: Store, a: ResolvedSide, b: ResolvedSide, opts: ResolvedOptions): Promise<Comparison> {
  const runA = a.runs[0] as RunRecord
  const runB = b.runs[0] as RunRecord
  const setA = evalSetFor(runA, opts.metric, opts.dataset)
  const setB = evalSetFor(runB, opts.metric, opts.dataset)
  const missing = [setA === null ? runA : null, setB === null ? runB : null].filter((r): r is RunRecord => r !== null)
  if (missing.length > 0) {
    const noEvals = missing.filter((r) => r.evals.length === 0)
    if (noEvals.length === missing.length) {
      throw new AssayError(
        'ASSAY_EVAL_NOT_FOUND',
        `${noEvals.map((r) => `run ${r.id.slice(0, 8)}`).join(' and ')} ${noEvals.length === 1 ? 'has' : 'have'} no eval records: two single runs can only be compared per example.` +
          (a.asGroup === true || b.asGroup === true
            ? ' Replicate groups were asked for, but each side has one run: run more seeds of each configuration, or log per-example eval records (run.logEval)'
            : ' Log per-example eval records (run.logEval), or compare groups of seeds on the run-level metric (--group-by config, or A1,A2,... B1,B2,...)'),
        { runIds: noEvals.map((r) => r.id), metric: opts.metric },
      )
    }
    throw metricNotFound(opts.metric, missing, opts.dataset === null ? 'eval score' : `eval score on dataset ${JSON.stringify(opts.dataset)} named`)
  }
  const evalA = setA as { dataset: string; datasetSha256: string }
  const evalB = setB as { dataset: string; datasetSha256: string }
  const warnings: ComparisonWarning[] = []
  const sameData = evalA.datasetSha256 === evalB.datasetSha256
  if (!sameData && !opts.allowDifferentData) {
    throw notComparable(
      `the sides were evaluated on different dataset versions: A (run ${runA.id.slice(0, 8)}) on ${evalA.dataset} sha256 ${evalA.datasetSha256}, B (run ${runB.id.slice(0, 8)}) on ${evalB.dataset} sha256 ${evalB.datasetSha256}`,
      { a: evalA, b: evalB },
    )
  }
  const [colsA, colsB] = [await store.evalColumns(runA.id, evalA.dataset), await store.evalColumns(runB.id, evalB.dataset)]
  const holdout: Comparison['holdout'] = []
  for (const [runs, set] of sameData ? [[[runA, runB], evalA] as const] : [[[runA], evalA] as const, [[runB], evalB] as const]) {
    const h = await holdoutReads(store, [...runs], set.dataset, set.datasetSha256, opts)
    holdout.push(...h.checks)
    warnings.push(...h.warnings)
  }
  const common = {
    top: opts.top,
    confidenceLevel: opts.confidenceLevel,
    resamples: opts.resamples,
    seed: opts.seed,
    higherIsBetter: opts.higherIsBetter,
  }
  let mode: ComparisonMode
  let result: ExampleComparison
  let sampleSizes: Comparison['sampleSizes']
  if (sameData) {
    const aligned = alignExamples(colsA, colsB, opts.metric)
    if (aligned.pairs === 0) {
      throw notComparable(`no example of A has a partner in B with a finite ${JSON.stringify(opts.metric)} (A has ${aligned.nA} records, B has ${aligned.nB})`, {
        lost: aligned.lost,
      })
    }
    const nonFinite = aligned.lost.a.nonFinite + aligned.lost.b.nonFinite
    if (nonFinite > 0) warnings.push({ code: 'NON_FINITE_SCORES', message: `${aligned.lost.a.nonFinite} score(s) of A and ${aligned.lost.b.nonFinite} of B are NaN or infinite; those examples were left out` })
    if (aligned.lostA > 0 || aligned.lostB > 0) {
      warnings.push({
        code: 'PARTIAL_OVERLAP',
        message: `paired on the ${aligned.pairs} examples both sides scored: A lost ${aligned.lostA} of ${aligned.nA} (${aligned.lost.a.unmatched} not in B, ${aligned.lost.a.missingScore} without the score, ${aligned.lost.a.nonFinite} non-finite, ${aligned.lost.a.duplicateId} repeated ids), B lost ${aligned.lostB} of ${aligned.nB}`,
      })
    }
    mode = 'paired-examples'
    result = pairedExampleComparison(aligned, common)
    sampleSizes = { a: aligned.nA, b: aligned.nB, pairs: aligned.pairs, lostA: aligned.lostA, lostB: aligned.lostB }
  } else {
    const finite = (cols: EvalColumns, name: string): Float64Array => {
      const column = cols.scores[opts.metric]
      if (column === undefined) throw metricNotFound(opts.metric, [name === 'A' ? runA : runB], 'eval score')
      const missingAt = new Set(cols.missing[`score:${opts.metric}`] ?? [])
      return Float64Array.from(column.filter((v, i) => Number.isFinite(v) && !missingAt.has(i)))
    }
    const xa = finite(colsA, 'A')
    const xb = finite(colsB, 'B')
    warnings.push({
      code: 'DIFFERENT_DATA',
      message: `A was evaluated on ${evalA.dataset} sha256 ${evalA.datasetSha256.slice(0, 12)}… and B on ${evalB.dataset} sha256 ${evalB.datasetSha256.slice(0, 12)}…: examples cannot be paired, so unpaired methods were used (less powerful; the difference mixes model and data)`,
    })
    mode = 'unpaired-examples'
    result = unpairedExampleComparison(xa, xb, detectScoreType(xa, xb), common)
    sampleSizes = { a: xa.length, b: xb.length, pairs: null, lostA: colsA.ids.length - xa.length, lostB: colsB.ids.length - xb.length }
  }
  warnings.push(...result.warnings)
  // Paired examples get FEW_EXAMPLES (or FEW_CLUSTERS) from the paired decision itself.
  if (mode === 'unpaired-examples' && result.n < MIN_EXAMPLES) warnings.push({ code: 'FEW_EXAMPLES', message: `only ${result.n} examples: the normal approximations and bootstrap intervals behind this verdict are rough below ${MIN_EXAMPLES}` })
  const decision = decideVerdict({ estimate: result.estimate, ci: result.ci, pValue: result.pValue, alpha: opts.alpha, margin: opts.margin, higherIsBetter: opts.higherIsBetter })
  const required = decision.verdict === 'inconclusive' ? requiredSize(result, opts.alpha) : null
  return {
    ...baseResult(opts),
    mode,
    a: side(a, evalA.datasetSha256, sampleSizes.pairs ?? sampleSizes.a, result.meanA),
    b: side(b, evalB.datasetSha256, sampleSizes.pairs ?? sampleSizes.b, result.meanB),
    verdict: decision.verdict,
    estimate: result.estimate,
    ci: result.ci,
    pValue: result.pValue,
    method: result.method,
    differences: result.differences,
    sampleSizes,
    tests: result.tests,
    effectSize: result.effectSize,
    clusteredStandardError: result.clusteredStandardError,
    groups: null,
    topRegressions: result.topRegressions,
    topImprovements: result.topImprovements,
    required,
    warnings,
    dataset: evalA.dataset,
    source: 'eval-records',
    scoreType: result.scoreType,
    decision: { significant: decision.significant, withinMargin: decision.withinMargin, reason: decision.reason },
    clusteredCi: result.clusteredCi,
    holdout,
    resolvedAs: { a: a.how, b: b.how },
  }
}

/**
 * Sample size an inconclusive paired comparison would need: examples (times the design effect), or,
 * when examples are clustered, clusters of the current average size, since only more clusters narrow
 * a cluster-robust interval.
 */
function requiredSize(result: ExampleComparison, alpha: number): NonNullable<Comparison['required']> {
  const examples = requiredExamples({ estimate: result.estimate, sdDifference: result.sdDifference, alpha, designEffect: result.designEffect })
  if (result.clusters === null) return { examples, seeds: null, power: COMPARE_DEFAULTS.power }
  const perCluster = result.n / result.clusters
  return { examples: null, clusters: examples === null ? null : Math.max(2, Math.ceil(examples / perCluster)), seeds: null, power: COMPARE_DEFAULTS.power }
}

async function compareGroups(store: Store, a: ResolvedSide, b: ResolvedSide, opts: ResolvedOptions): Promise<Comparison> {
  const runs = [...a.runs, ...b.runs]
  const warnings: ComparisonWarning[] = []
  const sets = runs.map((r) => evalSetFor(r, opts.metric, opts.dataset))
  const allEval = sets.every((s) => s !== null)
  let source: Comparison['source']
  let valuesA: number[]
  let valuesB: number[]
  let mode: ComparisonMode = 'replicate-groups'
  let twoLevel: ReturnType<typeof twoLevelBootstrap> | null = null
  let dataset: string | null = null
  let datasetSha256: string | null = null
  const holdout: Comparison['holdout'] = []
  let examples: number | null = null
  // Records each side gave up, summed over its runs (eval records only).
  let lostA = 0
  let lostB = 0
  if (allEval) {
    source = 'eval-records'
    const hashes = new Set(sets.map((s) => (s as { datasetSha256: string }).datasetSha256))
    const first = sets[0] as { dataset: string; datasetSha256: string }
    dataset = first.dataset
    if (hashes.size > 1 && !opts.allowDifferentData) {
      throw notComparable(
        `the runs were evaluated on ${hashes.size} different dataset versions: ${runs.map((r, k) => `${r.id.slice(0, 8)} on ${(sets[k] as { dataset: string }).dataset} sha256 ${(sets[k] as { datasetSha256: string }).datasetSha256}`).join('; ')}`,
        { versions: [...hashes] },
      )
    }
    const columns: EvalColumns[] = []
    for (const [k, r] of runs.entries()) columns.push(await store.evalColumns(r.id, (sets[k] as { dataset: string }).dataset))
    for (const sha of hashes) {
      const readers = runs.filter((_, k) => (sets[k] as { datasetSha256: string }).datasetSha256 === sha)
      const name = (sets[runs.indexOf(readers[0] as RunRecord)] as { dataset: string }).dataset
      const h = await holdoutReads(store, readers, name, sha, opts)
      holdout.push(...h.checks)
      warnings.push(...h.warnings)
    }
    if (hashes.size === 1) {
      datasetSha256 = first.datasetSha256
      const aligned = alignRuns(columns, opts.metric)
      if (aligned.ids.length === 0) throw notComparable(`no example id has a finite ${JSON.stringify(opts.metric)} in every run`, {})
      lostA = aligned.lost.slice(0, a.runs.length).reduce((x, y) => x + y, 0)
      lostB = aligned.lost.slice(a.runs.length).reduce((x, y) => x + y, 0)
      const lostAny = aligned.lost.some((l) => l > 0)
      if (lostAny) {
        warnings.push({
          code: 'PARTIAL_OVERLAP',
          message: `per-run means use the ${aligned.ids.length} examples every run scored; runs lost ${aligned.lost.join(', ')} records (in run order): ${lostA} on side A, ${lostB} on side B`,
        })
      }
      const means = aligned.scores.map((s) => mean(s))
      valuesA = means.slice(0, a.runs.length)
      valuesB = means.slice(a.runs.length)
      examples = aligned.ids.length
      if (a.runs.length >= 2 && b.runs.length >= 2) {
        twoLevel = twoLevelBootstrap(aligned.scores.slice(0, a.runs.length), aligned.scores.slice(a.runs.length), {
          resamples: opts.resamples,
          seed: opts.seed,
          confidenceLevel: opts.confidenceLevel,
        })
        mode = 'two-level'
      }
    } else {
      warnings.push({ code: 'DIFFERENT_DATA', message: `the runs were evaluated on ${hashes.size} dataset versions: each run's value is its mean over its own examples, compared across seeds only (no example pairing, no two-level bootstrap)` })
      // Each run's mean over its own records with a logged, finite score; the rest are counted as lost.
      const dropped: number[] = []
      const means = columns.map((c, k) => {
        const col = c.scores[opts.metric]
        if (col === undefined) throw metricNotFound(opts.metric, [runs[k] as RunRecord], 'eval score')
        const missingAt = new Set(c.missing[`score:${opts.metric}`] ?? [])
        let s = 0
        let n = 0
        for (let i = 0; i < col.length; i++) {
          const v = col[i] as number
          if (Number.isFinite(v) && !missingAt.has(i)) {
            s += v
            n++
          }
        }
        dropped.push(c.ids.length - n)
        if (n === 0) throw notComparable(`run ${(runs[k] as RunRecord).id.slice(0, 8)} has no finite ${JSON.stringify(opts.metric)} in its eval records`, { runId: (runs[k] as RunRecord).id })
        return s / n
      })
      lostA = dropped.slice(0, a.runs.length).reduce((x, y) => x + y, 0)
      lostB = dropped.slice(a.runs.length).reduce((x, y) => x + y, 0)
      if (lostA + lostB > 0) {
        warnings.push({ code: 'NON_FINITE_SCORES', message: `runs left out ${dropped.join(', ')} records (in run order) whose ${JSON.stringify(opts.metric)} is missing, NaN or infinite: ${lostA} on side A, ${lostB} on side B` })
      }
      valuesA = means.slice(0, a.runs.length)
      valuesB = means.slice(a.runs.length)
    }
  } else {
    source = 'run-metrics'
    const missing = runs.filter((r) => !r.metrics.some((m) => m.key === opts.metric))
    if (missing.length > 0) {
      const withScore = runs.filter((_, k) => sets[k] !== null)
      throw metricNotFound(
        opts.metric,
        missing,
        withScore.length > 0 ? 'run-level metric (and not every run has eval records with this score, so per-example scores cannot be used either)' : 'eval score or run-level metric named',
      )
    }
    // Comparability of run-level metrics: every non-train dataset declared under the same name must be the same version.
    const versions = new Map<string, Set<string>>()
    for (const r of runs) for (const d of r.datasets) if (d.role !== 'train') versions.set(d.name, (versions.get(d.name) ?? new Set()).add(d.sha256))
    const differing = [...versions].filter(([, v]) => v.size > 1)
    if (differing.length > 0) {
      const text = differing.map(([name, v]) => `${name}: ${[...v].join(' vs ')}`).join('; ')
      if (!opts.allowDifferentData) throw notComparable(`the runs declare different versions of their evaluation datasets (${text})`, { datasets: Object.fromEntries(differing.map(([n, v]) => [n, [...v]])) })
      warnings.push({ code: 'DIFFERENT_DATA', message: `the runs declare different versions of ${differing.map(([n]) => n).join(', ')}: the comparison mixes model and data differences` })
    }
    const value = (r: RunRecord): number => (r.metrics.find((m) => m.key === opts.metric) as { last: number }).last
    valuesA = a.runs.map(value)
    valuesB = b.runs.map(value)
    const nonFinite = [...valuesA, ...valuesB].filter((v) => !Number.isFinite(v)).length
    if (nonFinite > 0) throw new AssayError('ASSAY_STATS_NON_FINITE_INPUT', `${nonFinite} run(s) have a non-finite last value of ${opts.metric}`)
  }
  const groupA: GroupInput = { label: a.label, runIds: a.runs.map((r) => r.id), seeds: a.runs.map((r) => r.seed), values: valuesA }
  const groupB: GroupInput = { label: b.label, runIds: b.runs.map((r) => r.id), seeds: b.runs.map((r) => r.seed), values: valuesB }
  const result = groupComparison(groupA, groupB, { confidenceLevel: opts.confidenceLevel, resamples: opts.resamples, seed: opts.seed })
  const tests = [...result.tests]
  let ci = result.ci
  let method = result.method
  let pValue = result.pValue
  // A two-level bootstrap with no spread (every run of both sides identical on every example) would give a zero-width interval: the group result stands.
  if (twoLevel !== null && twoLevel.standardError > 0) {
    // Interval and p-value from the same two-level bootstrap, so they agree; Welch over run means (in tests) holds the examples fixed.
    tests.push({ ...twoLevel })
    ci = twoLevel.ci
    pValue = twoLevel.pValue
    method = 'Two-level bootstrap (seeds, then examples): interval and p-value; Welch over seeds reported'
  }
  warnings.push(...result.warnings)
  const decision = decideVerdict({ estimate: result.estimate, ci, pValue, alpha: opts.alpha, margin: opts.margin, higherIsBetter: opts.higherIsBetter })
  const seedsRequired = requiredSeeds({ estimate: result.estimate, sdA: result.groups.a.sd, sdB: result.groups.b.sd, alpha: opts.alpha })
  const few = fewSeedsWarning(result.groups, seedsRequired, opts.alpha)
  if (few !== null) warnings.push(few)
  // Seeds needed per group: max(MIN_SEEDS, power-based), the number FEW_SEEDS states; null when Δ = 0.
  const need = seedsNeededPerGroup(seedsRequired)
  const required =
    decision.verdict === 'inconclusive' || few !== null
      ? { examples: null, seeds: seedsRequired === null ? null : need.seeds, power: COMPARE_DEFAULTS.power, seedsBasis: seedsRequired === null ? null : need.basis }
      : null
  return {
    ...baseResult(opts),
    mode,
    a: side(a, datasetSha256, valuesA.length, result.groups.a.mean),
    b: side(b, datasetSha256, valuesB.length, result.groups.b.mean),
    verdict: decision.verdict,
    estimate: result.estimate,
    ci,
    pValue,
    method,
    differences: null,
    sampleSizes: { a: valuesA.length, b: valuesB.length, pairs: null, lostA, lostB, ...(examples === null ? {} : { examples }) },
    tests,
    effectSize: result.effectSize,
    clusteredStandardError: null,
    groups: result.groups,
    topRegressions: [],
    topImprovements: [],
    required,
    warnings,
    dataset,
    source,
    scoreType: null,
    decision: { significant: decision.significant, withinMargin: decision.withinMargin, reason: decision.reason },
    clusteredCi: null,
    holdout,
    resolvedAs: { a: a.how, b: b.how },
  }
}
