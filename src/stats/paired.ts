import binomialCdf from '@stdlib/stats-base-dists-binomial-cdf'
import normalCdf from '@stdlib/stats-base-dists-normal-cdf'
import tCdf from '@stdlib/stats-base-dists-t-cdf'
import { AssayError } from '../errors.js'
import { meanUnchecked, powerOfTwoAbove, sdUnchecked } from './describe.js'
import { assertNotConstant, clopperPearsonBounds, tBounds } from './intervals.js'
import {
  assertCount,
  assertPaired,
  assertSample,
  clampProbability,
  resolveAlternative,
  resolveConfidenceLevel,
  type Alternative,
  type Sample,
} from './validate.js'

/** Paired tests on two arms measured on the same examples (a[i] and b[i] belong together). */

export interface PairedTTestOptions {
  alternative?: Alternative
  confidenceLevel?: number
  /** Difference under the null hypothesis (R's mu). Default 0. */
  mu?: number
}

export interface PairedTTestResult {
  method: 'Paired t-test'
  statistic: number
  pValue: number
  df: number
  /** mean(a - b). */
  estimate: number
  standardError: number
  ci: [number, number]
  n: number
  mu: number
  alternative: Alternative
  confidenceLevel: number
}

/**
 * R t.test(a, b, paired = TRUE, mu, alternative, conf.level). Needs n >= 2; throws
 * ASSAY_STATS_DEGENERATE_INPUT when all differences are equal (R: "data are essentially constant").
 */
export function pairedTTest(a: Sample, b: Sample, opts: PairedTTestOptions = {}): PairedTTestResult {
  assertPaired(a, b, 2)
  const alternative = resolveAlternative(opts.alternative)
  const confidenceLevel = resolveConfidenceLevel(opts.confidenceLevel)
  const mu = resolveFinite(opts.mu ?? 0, 'mu')
  const { estimate, se, df, n } = pairedMoments(a, b)
  const statistic = (estimate - mu) / se
  return {
    method: 'Paired t-test',
    statistic,
    pValue: tPValue(statistic, df, alternative),
    df,
    estimate,
    standardError: se,
    ci: tBounds(estimate, se, df, alternative, confidenceLevel),
    n,
    mu,
    alternative,
    confidenceLevel,
  }
}

export interface SignTestResult {
  method: 'Sign test'
  /** Number of positive differences a - b (R binom.test's "number of successes"). */
  statistic: number
  pValue: number
  /** Proportion of positive differences among the non-zero ones. */
  estimate: number
  /** Clopper-Pearson interval for that proportion. */
  ci: [number, number]
  /** Number of non-zero differences (the binomial n). */
  n: number
  zeros: number
  alternative: Alternative
  confidenceLevel: number
}

/**
 * Sign test: R binom.test(sum(d > 0), sum(d != 0), p = 0.5) on d = a - b (or d = a when b is
 * omitted); zero differences are dropped. All differences zero throws ASSAY_STATS_DEGENERATE_INPUT.
 */
export function signTest(a: Sample, b?: Sample, opts: { alternative?: Alternative; confidenceLevel?: number } = {}): SignTestResult {
  const d = differences(a, b)
  const alternative = resolveAlternative(opts.alternative)
  const confidenceLevel = resolveConfidenceLevel(opts.confidenceLevel)
  let positive = 0
  let zeros = 0
  for (let i = 0; i < d.length; i++) {
    if (d[i] > 0) positive++
    else if (d[i] === 0) zeros++
  }
  const n = d.length - zeros
  if (n === 0) throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', 'sign test: every difference is zero')
  return {
    method: 'Sign test',
    statistic: positive,
    pValue: binomialHalfPValue(positive, n, alternative),
    estimate: positive / n,
    ci: clopperPearsonBounds(positive, n, alternative, confidenceLevel),
    n,
    zeros,
    alternative,
    confidenceLevel,
  }
}

export interface McNemarOptions {
  /** Exact binomial test on the discordant pairs (statsmodels mcnemar(exact=True)). Default false. */
  exact?: boolean
  /** Continuity correction of the asymptotic test (R mcnemar.test(correct=)). Default true. */
  correction?: boolean
}

export interface McNemarResult {
  method: string
  /** Chi-squared statistic (asymptotic) or min(b, c) (exact, as statsmodels). */
  statistic: number
  pValue: number
  df?: number
  /** Discordant pairs: a right and b wrong. */
  b: number
  /** Discordant pairs: a wrong and b right. */
  c: number
  n: number
  exact: boolean
  correction: boolean
  alternative: 'two-sided'
}

/**
 * McNemar's test on discordant counts b and c (two-sided). Asymptotic: R mcnemar.test(matrix(c(., c, b, .), 2),
 * correct) (the correction is skipped when b = c, as R does); exact: two-sided binomial test of min(b, c) out of
 * b + c with p = 1/2 (statsmodels mcnemar(exact=True)). b + c = 0 throws ASSAY_STATS_DEGENERATE_INPUT.
 */
export function mcnemar(b: number, c: number, opts: McNemarOptions = {}): McNemarResult {
  assertCount(b, 'b')
  assertCount(c, 'c')
  const exact = opts.exact ?? false
  const correction = opts.correction ?? true
  if (typeof exact !== 'boolean' || typeof correction !== 'boolean') {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', 'exact and correction must be booleans')
  }
  const n = b + c
  if (n === 0) throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', 'McNemar test: there are no discordant pairs')
  if (exact) {
    const k = Math.min(b, c)
    return {
      method: 'Exact McNemar test (binomial)',
      statistic: k,
      pValue: binomialHalfPValue(k, n, 'two-sided'),
      b,
      c,
      n,
      exact,
      correction: false,
      alternative: 'two-sided',
    }
  }
  const applied = correction && b !== c
  const diff = applied ? Math.abs(b - c) - 1 : b - c
  const statistic = (diff * diff) / n
  return {
    method: applied ? "McNemar's chi-squared test with continuity correction" : "McNemar's chi-squared test",
    statistic,
    // Upper tail of chi-square(1) = 2 * Phi(-sqrt(x)), exact and without cancellation.
    pValue: clampProbability(2 * normalCdf(-Math.sqrt(statistic), 0, 1)),
    df: 1,
    b,
    c,
    n,
    exact,
    correction,
    alternative: 'two-sided',
  }
}

// ---- internal helpers shared by the other part-A modules ----

export function resolveFinite(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `${name} must be a finite number, got ${String(value)}`)
  }
  return value
}

/** d = a - b as a Float64Array (or a copy of a when b is omitted), validated. */
export function differences(a: Sample, b: Sample | undefined, minLength = 1): Float64Array {
  if (b === undefined) {
    assertSample(a, 'a', minLength)
    return Float64Array.from(a)
  }
  assertPaired(a, b, minLength)
  const n = a.length
  const d = new Float64Array(n)
  for (let i = 0; i < n; i++) d[i] = a[i] - b[i]
  return d
}

/** Mean difference and its standard error; throws on constant differences. */
export function pairedMoments(a: Sample, b: Sample): { estimate: number; se: number; df: number; n: number } {
  let d = differences(a, b, 2)
  const n = d.length
  // a - b of finite values near ±1.8e308 can overflow: work on a / 2^k - b / 2^k (exact) and scale back.
  const scale = overflowScale(d, a, b)
  if (scale !== 1) d = d.map((_, i) => a[i] / scale - b[i] / scale)
  const estimate = meanUnchecked(d)
  const se = sdUnchecked(d, estimate) / Math.sqrt(n)
  assertNotConstant(se, estimate, 'a - b')
  return { estimate: estimate * scale, se: se * scale, df: n - 1, n }
}

/** 1 unless some difference is infinite or huge (>= 2^500); then a power of two above max(|a|, |b|). */
export function overflowScale(d: Float64Array, a: Sample, b: Sample): number {
  let big = false
  for (let i = 0; i < d.length && !big; i++) big = !(Math.abs(d[i]) < 2 ** 500)
  if (!big) return 1
  let max = 0
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]), Math.abs(b[i]))
  return powerOfTwoAbove(max)
}

/** p-value of a t statistic; upper tails use the symmetric lower tail to keep precision. */
export function tPValue(t: number, df: number, alternative: Alternative): number {
  if (alternative === 'greater') return clampProbability(tCdf(-t, df))
  if (alternative === 'less') return clampProbability(tCdf(t, df))
  return clampProbability(2 * tCdf(-Math.abs(t), df))
}

/** Binomial test with p = 1/2, as R binom.test (two-sided: 2 P(X <= min(x, n - x)), capped at 1). */
export function binomialHalfPValue(x: number, n: number, alternative: Alternative): number {
  if (alternative === 'less') return clampProbability(binomialCdf(x, n, 0.5))
  // P(X >= x) = P(X <= n - x) by symmetry.
  if (alternative === 'greater') return clampProbability(binomialCdf(n - x, n, 0.5))
  if (2 * x === n) return 1
  return clampProbability(2 * binomialCdf(Math.min(x, n - x), n, 0.5))
}
