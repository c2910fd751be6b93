import { AssayError, isAssayError } from '../errors.js'
import { meanUnchecked, sdUnchecked } from '../stats/describe.js'
import { cohensD, mannWhitneyU, mcnemar, mean, pairedDecision, pairedTTest, welchTTest, wilcoxonSignedRank } from '../stats/index.js'
import type { AlignedExamples, ScoreType } from './align-examples.js'
import { binaryPairedBootstrap } from './binary-bootstrap.js'
import type { ComparisonWarning, ExampleDelta } from './comparison-types.js'

/**
 * Per-example comparisons over aligned arrays. Pure: arrays in, plain objects out.
 *
 * Paired (same examples on both sides): the headline estimate, interval and p-value are the one
 * paired decision of assay/stats (pairedDecision: exact sign test for constant differences,
 * cluster-robust t when examples carry clusters, else exact McNemar with the paired t interval for
 * 0/1 scores and the paired t-test otherwise). Reported beside it: McNemar and the paired bootstrap
 * (binary), the paired t-test and Wilcoxon signed-rank (continuous), Cohen's d_z.
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
  /** null when the sides are identical (no interval of a difference that is not there). */
  ci: [number, number] | null
  /** identical, constant (every difference the same non-zero value: exact sign test) or varied; null for unpaired. */
  differences: 'identical' | 'constant' | 'varied' | null
  /** Distinct clusters behind a cluster-robust headline, else null. */
  clusters: number | null
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
  // The aligned scores are finite and non-empty already: the unchecked forms skip a validation pass over up to millions of pairs.
  const meanA = meanUnchecked(a)
  const meanB = meanUnchecked(b)
  const estimate = meanUnchecked(d)
  const sdDifference = d.length < 2 ? 0 : sdUnchecked(d, estimate)
  const tests: Record<string, unknown>[] = []
  const warnings: ComparisonWarning[] = []
  const scoreType = aligned.scoreType
  // The headline: the one paired decision (cluster-robust when examples carry clusters).
  const decision = pairedDecision(a, b, { clusters: aligned.clusters, scoreType, confidenceLevel })
  tests.push({ ...decision })
  warnings.push(...decision.warnings)
  if (decision.data === 'identical') warnings.push({ code: 'IDENTICAL_SIDES', message: `the two sides score identically on all ${n} examples: there is no difference to estimate, so no interval is given (p = 1)` })

  // Reported beside it: the example-level tests of each score type.
  if (scoreType === 'binary') {
    let bCount = 0
    let cCount = 0
    for (let i = 0; i < n; i++) {
      const x = d[i] as number
      if (x > 0) bCount++
      else if (x < 0) cCount++
    }
    if (bCount + cCount > 0) {
      tests.push({ ...mcnemar(bCount, cCount, { exact: true }) })
      tests.push({ ...binaryPairedBootstrap(n, bCount, cCount, { resamples, seed, confidenceLevel }) })
    }
  } else if (decision.data === 'varied') {
    try {
      tests.push({ ...pairedTTest(a, b, { confidenceLevel }) })
    } catch (error) {
      tests.push(errorEntry('Paired t-test', error))
    }
    try {
      tests.push({ ...wilcoxonSignedRank(a, b) })
    } catch (error) {
      tests.push(errorEntry('Wilcoxon signed-rank test', error))
    }
  }

  let effectSize: ExampleComparison['effectSize'] = null
  if (decision.data === 'varied') {
    try {
      const es = cohensD(a, b, { paired: true })
      effectSize = { name: "Cohen's d_z (mean difference / SD of differences)", value: es.estimate }
      tests.push({ ...es })
    } catch (error) {
      tests.push(errorEntry("Cohen's d_z", error))
    }
  }

  const clustered = decision.clusters !== null && decision.standardError !== null ? { value: decision.standardError, clusters: decision.clusters } : null
  // Under a cluster-robust headline the tests beside it treat examples as independent: their p-values say so where they are listed.
  if (decision.clusters !== null) {
    for (let i = 1; i < tests.length; i++) {
      const t = tests[i] as Record<string, unknown>
      if (typeof t.method === 'string' && typeof t.pValue === 'number') tests[i] = { ...t, method: `${t.method} (example-level: ignores the clusters)` }
    }
  }

  const sign = higherIsBetter ? 1 : -1
  const toDelta = (i: number): ExampleDelta => ({ id: aligned.ids[i] as string, a: a[i] as number, b: b[i] as number, delta: d[i] as number })
  const topRegressions = topIndices(n, (i) => -sign * (d[i] as number), options.top).map(toDelta)
  const topImprovements = topIndices(n, (i) => sign * (d[i] as number), options.top).map(toDelta)

  return {
    estimate,
    ci: decision.ci,
    pValue: decision.pValue,
    method: decision.method,
    differences: decision.data,
    meanA,
    meanB,
    n,
    scoreType,
    tests,
    effectSize,
    sdDifference,
    clusteredStandardError: clustered,
    clusteredCi: clustered === null ? null : decision.ci,
    designEffect: decision.designEffect,
    clusters: decision.clusters,
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
  const meanA = mean(a)
  const meanB = mean(b)
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
    differences: null,
    clusters: null,
    clusteredStandardError: null,
    clusteredCi: null,
    designEffect: 1,
    topRegressions: [],
    topImprovements: [],
    warnings,
  }
}
