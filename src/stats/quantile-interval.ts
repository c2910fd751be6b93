import binomialCdf from '@stdlib/stats-base-dists-binomial-cdf'
import { AssayError } from '../errors.js'
import { assertProbabilityOption, quantileSorted } from './describe.js'
import { ascending, assertSample, resolveConfidenceLevel, type Sample } from './validate.js'

export interface QuantileIntervalOptions {
  confidenceLevel?: number
  /** x is already in ascending order (checked): it is used as it is, not copied and sorted. */
  sorted?: boolean
}

export interface QuantileIntervalResult {
  method: 'Distribution-free order-statistic interval of a quantile'
  /** The p-quantile (R type 7, as quantile()). */
  estimate: number
  p: number
  /** [x_(lower), x_(upper)], the order statistics chosen below (1-based ranks in `ranks`). */
  ci: [number, number]
  ranks: [number, number]
  /** Pr(x_(lower) <= true quantile <= x_(upper)) for continuous data: at least the confidence level. */
  coverage: number
  n: number
  confidenceLevel: number
}

/** Smallest k with Pr(Bin(n, p) <= k) >= target (scipy.stats.binom.ppf). */
function binomialQuantile(target: number, n: number, p: number): number {
  let lo = 0
  let hi = n
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2)
    if (binomialCdf(mid, n, p) >= target) hi = mid
    else lo = mid + 1
  }
  return lo
}

/**
 * Two-sided confidence interval of the p-quantile from order statistics (Conover, Practical
 * Nonparametric Statistics, 3rd ed., 1999, §3.2): lower rank l = binom.ppf(α/2, n, p), upper rank
 * u = binom.ppf(1 - α/2, n, p) + 1, so that Pr(l <= B < u) >= 1 - α for B ~ Bin(n, p). Exact
 * coverage without resampling, so it serves windows of millions of requests. Throws
 * ASSAY_STATS_TOO_FEW_OBSERVATIONS when n is too small for either rank to exist (about 72 values for
 * the p95 at 95%).
 */
export function quantileInterval(x: Sample, p: number, options: QuantileIntervalOptions = {}): QuantileIntervalResult {
  assertSample(x, 'x')
  assertProbabilityOption(p, 'p')
  if (!(p > 0 && p < 1)) throw new AssayError('ASSAY_STATS_INVALID_OPTION', `p must be in (0, 1), got ${p}`)
  const confidenceLevel = resolveConfidenceLevel(options.confidenceLevel)
  const n = x.length
  const alpha = 1 - confidenceLevel
  const lower = binomialQuantile(alpha / 2, n, p)
  const upper = binomialQuantile(1 - alpha / 2, n, p) + 1
  if (lower < 1 || upper > n) {
    throw new AssayError('ASSAY_STATS_TOO_FEW_OBSERVATIONS', `${n} observations are too few for a ${confidenceLevel * 100}% interval of the ${p} quantile from order statistics`, { n, p, confidenceLevel })
  }
  const sorted = ascending(x, 'x', options.sorted)
  return {
    method: 'Distribution-free order-statistic interval of a quantile',
    estimate: quantileSorted(sorted, p),
    p,
    ci: [sorted[lower - 1], sorted[upper - 1]],
    ranks: [lower, upper],
    coverage: binomialCdf(upper - 1, n, p) - binomialCdf(lower - 1, n, p),
    n,
    confidenceLevel,
  }
}
