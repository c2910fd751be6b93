import betaQuantile from '@stdlib/stats-base-dists-beta-quantile'
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile'
import tQuantile from '@stdlib/stats-base-dists-t-quantile'
import { AssayError } from '../errors.js'
import { meanUnchecked, sdUnchecked } from './describe.js'
import {
  assertCount,
  assertSample,
  resolveAlternative,
  resolveConfidenceLevel,
  type Alternative,
  type Sample,
} from './validate.js'

/**
 * Closed-form confidence intervals. One-sided intervals (alternative 'greater' or 'less') are
 * one-sided like R: the open end is -Infinity / Infinity for unbounded quantities (it becomes null
 * in JSON), and 0 / 1 for proportions.
 */

export interface IntervalOptions {
  alternative?: Alternative
  confidenceLevel?: number
}

export interface TIntervalResult {
  method: 'One-sample t confidence interval'
  estimate: number
  standardError: number
  ci: [number, number]
  df: number
  n: number
  alternative: Alternative
  confidenceLevel: number
}

/** Confidence interval of a mean from Student's t: the conf.int of R t.test(x). Needs n >= 2 and non-constant data. */
export function tInterval(x: Sample, opts: IntervalOptions = {}): TIntervalResult {
  assertSample(x, 'x', 2)
  const alternative = resolveAlternative(opts.alternative)
  const confidenceLevel = resolveConfidenceLevel(opts.confidenceLevel)
  const n = x.length
  const m = meanUnchecked(x)
  const se = sdUnchecked(x, m) / Math.sqrt(n)
  assertNotConstant(se, m, 'x')
  const df = n - 1
  return {
    method: 'One-sample t confidence interval',
    estimate: m,
    standardError: se,
    ci: tBounds(m, se, df, alternative, confidenceLevel),
    df,
    n,
    alternative,
    confidenceLevel,
  }
}

export interface ProportionIntervalResult {
  method: 'Wilson score interval' | 'Clopper-Pearson exact interval'
  estimate: number
  successes: number
  n: number
  ci: [number, number]
  alternative: Alternative
  confidenceLevel: number
}

/**
 * Wilson score interval without continuity correction: R prop.test(x, n, correct = FALSE)$conf.int,
 * statsmodels proportion_confint(method = 'wilson') for the two-sided case.
 */
export function wilsonInterval(successes: number, n: number, opts: IntervalOptions = {}): ProportionIntervalResult {
  assertTrials(successes, n)
  const alternative = resolveAlternative(opts.alternative)
  const confidenceLevel = resolveConfidenceLevel(opts.confidenceLevel)
  const p = successes / n
  const z =
    alternative === 'two-sided'
      ? upperQuantile((1 + confidenceLevel) / 2, (1 - confidenceLevel) / 2, (p) => normalQuantile(p, 0, 1))
      : upperQuantile(confidenceLevel, 1 - confidenceLevel, (p) => normalQuantile(p, 0, 1))
  // R stats:::prop.test with YATES = 0.
  const z22n = (z * z) / (2 * n)
  const half = z * Math.sqrt((p * (1 - p)) / n + z22n / (2 * n))
  const upper = p >= 1 ? 1 : (p + z22n + half) / (1 + 2 * z22n)
  const lower = p <= 0 ? 0 : (p + z22n - half) / (1 + 2 * z22n)
  const ci: [number, number] =
    alternative === 'two-sided'
      ? [Math.max(lower, 0), Math.min(upper, 1)]
      : alternative === 'less'
        ? [0, Math.min(upper, 1)]
        : [Math.max(lower, 0), 1]
  return { method: 'Wilson score interval', estimate: p, successes, n, ci, alternative, confidenceLevel }
}

/** Clopper-Pearson exact interval from beta quantiles: R binom.test(x, n)$conf.int. */
export function clopperPearsonInterval(successes: number, n: number, opts: IntervalOptions = {}): ProportionIntervalResult {
  assertTrials(successes, n)
  const alternative = resolveAlternative(opts.alternative)
  const confidenceLevel = resolveConfidenceLevel(opts.confidenceLevel)
  return {
    method: 'Clopper-Pearson exact interval',
    estimate: successes / n,
    successes,
    n,
    ci: clopperPearsonBounds(successes, n, alternative, confidenceLevel),
    alternative,
    confidenceLevel,
  }
}

export interface ClusteredStandardErrorResult {
  method: 'Cluster-robust standard error of the mean'
  estimate: number
  standardError: number
  n: number
  clusters: number
  /** The finite-cluster factor C / (C - 1) applied to the sandwich variance. */
  correction: number
}

/**
 * Standard error of the mean with a cluster-robust sandwich and the C / (C - 1) small-sample factor:
 * statsmodels OLS(values, ones).fit(cov_type = 'cluster', cov_kwds = { groups }) (its default
 * correction (C / (C - 1)) * ((N - 1) / (N - K)) reduces to C / (C - 1) for K = 1).
 * Needs at least 2 clusters.
 */
export function clusteredStandardError(values: Sample, clusters: readonly (string | number)[]): ClusteredStandardErrorResult {
  assertSample(values, 'values')
  if (!Array.isArray(clusters)) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'clusters must be an array of cluster labels')
  if (clusters.length !== values.length) {
    throw new AssayError('ASSAY_STATS_LENGTH_MISMATCH', `values has ${values.length} entries but clusters has ${clusters.length}`)
  }
  const n = values.length
  const m = meanUnchecked(values)
  const sums = new Map<string | number, number>()
  for (let i = 0; i < n; i++) {
    const key = clusters[i]
    if (typeof key !== 'string' && typeof key !== 'number') {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `clusters[${i}] must be a string or a number`)
    }
    sums.set(key, (sums.get(key) ?? 0) + (values[i] - m))
  }
  const c = sums.size
  if (c < 2) throw new AssayError('ASSAY_STATS_TOO_FEW_OBSERVATIONS', `clustered standard errors need at least 2 clusters, got ${c}`)
  let meat = 0
  for (const s of sums.values()) meat += s * s
  const correction = c / (c - 1)
  return {
    method: 'Cluster-robust standard error of the mean',
    estimate: m,
    standardError: Math.sqrt((correction * meat) / (n * n)),
    n,
    clusters: c,
    correction,
  }
}

// ---- internal helpers shared by the other part-A modules ----

/** R refuses t procedures when the standard error is negligible: "data are essentially constant". */
export function assertNotConstant(se: number, m: number, name: string): void {
  if (!(se > 0) || se < 10 * Number.EPSILON * Math.abs(m)) {
    throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', `${name}: data are essentially constant, the t statistic is undefined`)
  }
}

/** t-based bounds around an estimate, one-sided like R's t.test. */
export function tBounds(estimate: number, se: number, df: number, alternative: Alternative, confidenceLevel: number): [number, number] {
  if (alternative === 'two-sided') {
    const q = upperQuantile((1 + confidenceLevel) / 2, (1 - confidenceLevel) / 2, (p) => tQuantile(p, df))
    return [estimate - q * se, estimate + q * se]
  }
  const q = upperQuantile(confidenceLevel, 1 - confidenceLevel, (p) => tQuantile(p, df))
  return alternative === 'greater' ? [estimate - q * se, Infinity] : [-Infinity, estimate + q * se]
}

/**
 * quantile(upper) of a symmetric distribution, or -quantile(tail) (tail = 1 - upper, computed without
 * rounding to 0) when upper rounds to 1: a confidence level within 1e-16 of 1 would otherwise give an
 * infinite quantile and a NaN interval.
 */
export function upperQuantile(upper: number, tail: number, quantile: (p: number) => number): number {
  return upper < 1 ? quantile(upper) : -quantile(tail)
}

export function clopperPearsonBounds(x: number, n: number, alternative: Alternative, confidenceLevel: number): [number, number] {
  const alpha = alternative === 'two-sided' ? (1 - confidenceLevel) / 2 : 1 - confidenceLevel
  const lower = x === 0 ? 0 : betaQuantile(alpha, x, n - x + 1)
  const upper = x === n ? 1 : betaQuantile(1 - alpha, x + 1, n - x)
  if (alternative === 'less') return [0, upper]
  if (alternative === 'greater') return [lower, 1]
  return [lower, upper]
}

function assertTrials(successes: number, n: number): void {
  assertCount(n, 'n')
  if (n === 0) throw new AssayError('ASSAY_STATS_INVALID_COUNT', 'n must be at least 1')
  assertCount(successes, 'successes', n)
}
