import tQuantile from '@stdlib/stats-base-dists-t-quantile'
import { AssayError, isAssayError } from '../errors.js'
import { clusteredStandardError, cohensD, mannWhitneyU, mcnemar, pairedTTest, welchTTest, wilcoxonSignedRank } from '../stats/index.js'
import type { AlignedExamples, ScoreType } from './align-examples.js'
import { binaryPairedBootstrap } from './binary-bootstrap.js'
import type { ComparisonWarning, ExampleDelta } from './comparison-types.js'

/**
 * Per-example comparisons over aligned arrays. Pure: arrays in, plain objects out.
 *
 * Paired (same examples on both sides), chosen by the score type:
 *  - binary (every score 0 or 1): exact McNemar test on the discordant pairs (p-value) and the paired
 *    bootstrap of the mean difference (interval);
 *  - continuous: paired t-test (p-value and interval) and the Wilcoxon signed-rank test (reported).
 * Unpaired (different data allowed): Welch t-test (p-value and interval) and Mann–Whitney U.
 */

export interface ExampleComparisonOptions {
  confidenceLevel: number
  resamples: number
  seed: number
  higherIsBetter: boolean
  /** How many most-regressed and most-improved examples to list. */
  top: number
}

export interface ExampleComparison {
  estimate: number
  ci: [number, number]
  pValue: number
  method: string
  meanA: number
  meanB: number
  n: number
  scoreType: ScoreType
  tests: Record<string, unknown>[]
  effectSize: { name: string; value: number } | null
  /** SD of the per-example differences (paired) or pooled SD of the scores (unpaired). */
  sdDifference: number
  clusteredStandardError: { value: number; clusters: number } | null
  /** estimate ± t_{C−1} × clustered SE, when clusters exist. */
  clusteredCi: [number, number] | null
  /** (clustered SE / iid SE)²: how much clustering inflates the variance of the mean difference. */
  designEffect: number
  topRegressions: ExampleDelta[]
  topImprovements: ExampleDelta[]
  warnings: ComparisonWarning[]
}

function meanOf(x: Float64Array): number {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i] as number
  return s / x.length
}

function sdOf(x: Float64Array, m: number): number {
  if (x.length < 2) return 0
  let ss = 0
  for (let i = 0; i < x.length; i++) ss += ((x[i] as number) - m) ** 2
  return Math.sqrt(ss / (x.length - 1))
}

function errorEntry(name: string, error: unknown): Record<string, unknown> {
  if (isAssayError(error)) return { method: name, error: { code: error.code, message: error.message } }
  throw error
}

/**
 * The `top` largest entries of key[i] > 0, in decreasing order (ties: first index first).
 * One pass with a small sorted buffer: O(n) for the usual top ≤ 20.
 */
function topIndices(n: number, key: (i: number) => number, top: number): number[] {
  const idx: number[] = []
  const val: number[] = []
  if (top <= 0) return idx
  for (let i = 0; i < n; i++) {
    const v = key(i)
    if (!(v > 0)) continue
    if (idx.length === top && v <= (val[top - 1] as number)) continue
    let p = idx.length === top ? top - 1 : idx.length
    if (idx.length < top) {
      idx.push(i)
      val.push(v)
    }
    while (p > 0 && (val[p - 1] as number) < v) {
      idx[p] = idx[p - 1] as number
      val[p] = val[p - 1] as number
      p--
    }
    idx[p] = i
    val[p] = v
  }
  return idx
}

/** Paired per-example comparison of A against B on aligned examples. Needs at least 2 pairs. */
export function pairedExampleComparison(aligned: AlignedExamples, options: ExampleComparisonOptions): ExampleComparison {
  const { confidenceLevel, resamples, seed, higherIsBetter } = options
  const n = aligned.pairs
  if (n < 2) {
    throw new AssayError(
      'ASSAY_GROUP_TOO_SMALL',
      `only ${n} example${n === 1 ? '' : 's'} could be paired (A has ${aligned.nA}, B has ${aligned.nB}); a paired comparison needs at least 2`,
      { pairs: n, nA: aligned.nA, nB: aligned.nB },
    )
  }
  const a = aligned.a
  const b = aligned.b
  const d = new Float64Array(n)
  for (let i = 0; i < n; i++) d[i] = (a[i] as number) - (b[i] as number)
  const meanA = meanOf(a)
  const meanB = meanOf(b)
  const estimate = meanOf(d)
  const sdDifference = sdOf(d, estimate)
  const tests: Record<string, unknown>[] = []
  const warnings: ComparisonWarning[] = []
  let ci: [number, number]
  let pValue: number
  let method: string
  const scoreType = aligned.scoreType

  if (scoreType === 'binary') {
    let bCount = 0
    let cCount = 0
    for (let i = 0; i < n; i++) {
      const x = d[i] as number
      if (x > 0) bCount++
      else if (x < 0) cCount++
    }
    const boot = binaryPairedBootstrap(n, bCount, cCount, { resamples, seed, confidenceLevel })
    tests.push({ ...boot })
    ci = boot.ci
    method = 'McNemar exact test + paired bootstrap'
    if (bCount + cCount === 0) {
      tests.push(errorEntry('Exact McNemar test (binomial)', new AssayError('ASSAY_STATS_DEGENERATE_INPUT', 'McNemar test: there are no discordant pairs')))
      pValue = 1
      warnings.push({ code: 'METHOD_FALLBACK', message: 'the two sides agree on every example (no discordant pairs): McNemar is undefined; p = 1 and the interval is [0, 0]' })
    } else {
      const test = mcnemar(bCount, cCount, { exact: true })
      tests.unshift({ ...test })
      pValue = test.pValue
    }
  } else {
    method = 'Paired t-test + Wilcoxon signed-rank test'
    try {
      const t = pairedTTest(a, b, { confidenceLevel })
      tests.push({ ...t })
      ci = t.ci
      pValue = t.pValue
    } catch (error) {
      tests.push(errorEntry('Paired t-test', error))
      // Every difference equal: the t statistic is undefined.
      ci = [estimate, estimate]
      pValue = estimate === 0 ? 1 : NaN
    }
    try {
      const w = wilcoxonSignedRank(a, b)
      tests.push({ ...w })
      if (Number.isNaN(pValue)) {
        pValue = w.pValue
        method = 'Wilcoxon signed-rank test (paired t undefined)'
        warnings.push({ code: 'METHOD_FALLBACK', message: `every paired difference equals ${estimate}: the paired t-test is undefined; the p-value is the Wilcoxon signed-rank test's and the interval is the single value` })
      }
    } catch (error) {
      tests.push(errorEntry('Wilcoxon signed-rank test', error))
    }
    if (estimate === 0 && sdDifference === 0) {
      warnings.push({ code: 'METHOD_FALLBACK', message: 'the two sides agree on every example: no test is defined; p = 1 and the interval is [0, 0]' })
    }
    if (Number.isNaN(pValue)) pValue = 1
  }

  let effectSize: ExampleComparison['effectSize'] = null
  try {
    const es = cohensD(a, b, { paired: true })
    effectSize = { name: "Cohen's d_z (mean difference / SD of differences)", value: es.estimate }
    tests.push({ ...es })
  } catch (error) {
    tests.push(errorEntry("Cohen's d_z", error))
  }

  let clustered: ExampleComparison['clusteredStandardError'] = null
  let clusteredCi: [number, number] | null = null
  let designEffect = 1
  if (aligned.clusters !== null) {
    const labels = aligned.clusters.map((c, i) => c ?? `\u0000${aligned.ids[i] as string}`)
    try {
      const cse = clusteredStandardError(d, labels)
      // Only a real clustering (some cluster holds more than one example) changes anything.
      if (cse.clusters < n) {
        tests.push({ ...cse })
        clustered = { value: cse.standardError, clusters: cse.clusters }
        const q = tQuantile((1 + confidenceLevel) / 2, cse.clusters - 1)
        clusteredCi = [estimate - q * cse.standardError, estimate + q * cse.standardError]
        const iid = sdDifference / Math.sqrt(n)
        designEffect = iid > 0 ? (cse.standardError / iid) ** 2 : 1
      }
    } catch (error) {
      tests.push(errorEntry('Cluster-robust standard error of the mean', error))
    }
  }

  const sign = higherIsBetter ? 1 : -1
  const toDelta = (i: number): ExampleDelta => ({ id: aligned.ids[i] as string, a: a[i] as number, b: b[i] as number, delta: d[i] as number })
  const topRegressions = topIndices(n, (i) => -sign * (d[i] as number), options.top).map(toDelta)
  const topImprovements = topIndices(n, (i) => sign * (d[i] as number), options.top).map(toDelta)

  return {
    estimate,
    ci,
    pValue,
    method,
    meanA,
    meanB,
    n,
    scoreType,
    tests,
    effectSize,
    sdDifference,
    clusteredStandardError: clustered,
    clusteredCi,
    designEffect,
    topRegressions,
    topImprovements,
    warnings,
  }
}

/**
 * Unpaired per-example comparison (the sides were scored on different data): Welch t-test for the
 * p-value and the interval of mean(A) − mean(B), Mann–Whitney U reported beside it.
 */
export function unpairedExampleComparison(a: Float64Array, b: Float64Array, scoreType: ScoreType, options: ExampleComparisonOptions): ExampleComparison {
  if (a.length < 2 || b.length < 2) {
    throw new AssayError('ASSAY_GROUP_TOO_SMALL', `an unpaired comparison needs at least 2 examples per side (A has ${a.length}, B has ${b.length})`)
  }
  const meanA = meanOf(a)
  const meanB = meanOf(b)
  const estimate = meanA - meanB
  const tests: Record<string, unknown>[] = []
  const warnings: ComparisonWarning[] = []
  let ci: [number, number] = [estimate, estimate]
  let pValue = estimate === 0 ? 1 : NaN
  let method = "Welch's t-test + Mann-Whitney U (unpaired)"
  try {
    const t = welchTTest(a, b, { confidenceLevel: options.confidenceLevel })
    tests.push({ ...t })
    ci = t.ci
    pValue = t.pValue
  } catch (error) {
    tests.push(errorEntry("Welch's two-sample t-test", error))
  }
  try {
    const u = mannWhitneyU(a, b, { confidenceLevel: options.confidenceLevel })
    tests.push({ ...u })
    if (Number.isNaN(pValue)) {
      pValue = u.pValue
      method = 'Mann-Whitney U (unpaired; Welch t undefined)'
      warnings.push({ code: 'METHOD_FALLBACK', message: "both sides are constant: Welch's t-test is undefined; the p-value is Mann-Whitney's" })
    }
  } catch (error) {
    tests.push(errorEntry('Mann-Whitney U test', error))
  }
  if (Number.isNaN(pValue)) pValue = 1
  let effectSize: ExampleComparison['effectSize'] = null
  let pooled = 0
  try {
    const es = cohensD(a, b)
    effectSize = { name: "Cohen's d (pooled SD)", value: es.estimate }
    pooled = es.standardizer
    tests.push({ ...es })
  } catch (error) {
    tests.push(errorEntry("Cohen's d", error))
  }
  return {
    estimate,
    ci,
    pValue,
    method,
    meanA,
    meanB,
    n: Math.min(a.length, b.length),
    scoreType,
    tests,
    effectSize,
    // For the two-sample required size: Var(mean A − mean B) = 2 σ² / n with equal sizes.
    sdDifference: pooled * Math.SQRT2,
    clusteredStandardError: null,
    clusteredCi: null,
    designEffect: 1,
    topRegressions: [],
    topImprovements: [],
    warnings,
  }
}
