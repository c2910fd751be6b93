import { AssayError } from '../errors.js'
import { assertSample, type Sample } from './validate.js'

/**
 * Descriptive statistics. Every function validates its input (non-empty, finite) and never
 * returns NaN: a statistic that needs more observations throws ASSAY_STATS_TOO_FEW_OBSERVATIONS.
 */

/** Arithmetic mean. */
export function mean(x: Sample): number {
  assertSample(x, 'x')
  return meanUnchecked(x)
}

/** Sample variance with the n - 1 denominator (R var, numpy var(ddof=1)). Needs n >= 2. */
export function variance(x: Sample): number {
  assertSample(x, 'x', 2)
  return varianceUnchecked(x, meanUnchecked(x))
}

/** Sample standard deviation, sqrt(variance). Needs n >= 2. Finite whenever the sd itself is representable. */
export function sd(x: Sample): number {
  assertSample(x, 'x', 2)
  return sdUnchecked(x, meanUnchecked(x))
}

/** Standard error of the mean, sd / sqrt(n). Needs n >= 2. */
export function standardError(x: Sample): number {
  return sd(x) / Math.sqrt(x.length)
}

/** Median (R median, numpy median). */
export function median(x: Sample): number {
  assertSample(x, 'x')
  return quantileSorted(sortedCopy(x), 0.5)
}

/** Quantile of definition 7 in R (the default of R quantile and numpy percentile). p in [0, 1]. */
export function quantile(x: Sample, p: number): number {
  assertSample(x, 'x')
  assertProbabilityOption(p, 'p')
  return quantileSorted(sortedCopy(x), p)
}

/** Mean after removing floor(proportion * n) values from each end (scipy.stats.trim_mean). proportion in [0, 0.5). */
export function trimmedMean(x: Sample, proportion: number): number {
  assertSample(x, 'x')
  if (typeof proportion !== 'number' || !(proportion >= 0 && proportion < 0.5)) {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `proportion must be in [0, 0.5), got ${String(proportion)}`)
  }
  return trimmedMeanSorted(sortedCopy(x), proportion)
}

/** Interquartile mean: trim floor(n / 4) from each end and average the rest (scipy trim_mean(x, 0.25)). */
export function iqm(x: Sample): number {
  assertSample(x, 'x')
  return trimmedMeanSorted(sortedCopy(x), 0.25)
}

// ---- internal helpers shared by the other part-A modules (not exported from index.ts) ----

export function assertProbabilityOption(p: number, name: string): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `${name} must be in [0, 1], got ${String(p)}`)
  }
}

/**
 * Mean with R's second refinement pass (exact for constant data). Overflow-safe: when the plain sum
 * of finite values overflows (values near ±1.8e308), the mean is taken of the values divided by a
 * power of two (exact) and scaled back, so it is finite whenever the inputs are.
 */
export function meanUnchecked(x: Sample): number {
  const m = plainRefinedMean(x, 1)
  if (Number.isFinite(m)) return m
  const scale = powerOfTwoAbove(maxAbs(x))
  return plainRefinedMean(x, scale) * scale
}

function plainRefinedMean(x: Sample, scale: number): number {
  const n = x.length
  let s = 0
  for (let i = 0; i < n; i++) s += x[i] / scale
  const m = s / n
  let t = 0
  for (let i = 0; i < n; i++) t += x[i] / scale - m
  return m + t / n
}

/**
 * Two-pass variance around a given mean, n - 1 denominator. Infinity when the variance itself is
 * beyond double precision (the result guard of index.ts turns that into an error).
 */
export function varianceUnchecked(x: Sample, m: number): number {
  const v = plainVariance(x, m, 1)
  if (Number.isFinite(v)) return v
  const scale = powerOfTwoAbove(Math.max(maxAbs(x), Math.abs(m)))
  return plainVariance(x, m, scale) * scale * scale
}

/** sqrt(varianceUnchecked), without overflowing when the standard deviation itself is representable. */
export function sdUnchecked(x: Sample, m: number): number {
  const v = plainVariance(x, m, 1)
  if (Number.isFinite(v)) return Math.sqrt(v)
  const scale = powerOfTwoAbove(Math.max(maxAbs(x), Math.abs(m)))
  return Math.sqrt(plainVariance(x, m, scale)) * scale
}

function plainVariance(x: Sample, m: number, scale: number): number {
  const n = x.length
  const ms = m / scale
  let ss = 0
  let comp = 0
  for (let i = 0; i < n; i++) {
    const dev = x[i] / scale - ms
    ss += dev * dev
    comp += dev
  }
  // Corrected two-pass algorithm (Chan, Golub, LeVeque): removes the rounding error of m.
  return (ss - (comp * comp) / n) / (n - 1)
}

function maxAbs(x: Sample): number {
  let max = 0
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i])
    if (a > max) max = a
  }
  return max
}

/** A power of two at least max (capped at 2^1023, which is finite); dividing by it is exact. */
export function powerOfTwoAbove(max: number): number {
  if (!(max > 1)) return 1
  return 2 ** Math.min(1023, Math.ceil(Math.log2(max)))
}

export function sortedCopy(x: Sample): Float64Array {
  const out = Float64Array.from(x)
  out.sort()
  return out
}

/** R type 7 quantile of an ascending sorted array: (1 - h) x[lo] + h x[hi]. */
export function quantileSorted(sorted: Float64Array, p: number): number {
  const n = sorted.length
  const index = (n - 1) * p
  const lo = Math.floor(index)
  const hi = Math.ceil(index)
  const xl = sorted[lo]
  const h = index - lo
  if (h === 0 || sorted[hi] === xl) return xl
  return (1 - h) * xl + h * sorted[hi]
}

/** How the Monte Carlo standard error of a bootstrap interval end is estimated (named in results). */
export const QUANTILE_MCSE_METHOD = 'order statistics: half the distance between the bootstrap quantiles at q ± sqrt(q(1 - q)/B)'

/**
 * Monte Carlo standard error of the type-7 quantile q of B bootstrap replicates (sorted ascending), by
 * the binomial argument for order statistics: the number of replicates below the true quantile is
 * Binomial(B, q), sd sqrt(B q (1 - q)), so the empirical quantiles at q ± sqrt(q(1 - q)/B) bracket about
 * one standard error either side; half their distance estimates it (0 for a point mass).
 */
export function quantileMonteCarloSE(sorted: Float64Array, q: number): number {
  const B = sorted.length
  if (B < 2) return 0
  const h = Math.sqrt((q * (1 - q)) / B)
  const lo = quantileSorted(sorted, Math.max(0, q - h))
  const hi = quantileSorted(sorted, Math.min(1, q + h))
  return (hi - lo) / 2
}

/** scipy.stats.trim_mean on an ascending sorted array: cut int(proportion * n) from each end. */
export function trimmedMeanSorted(sorted: Float64Array, proportion: number): number {
  const n = sorted.length
  const cut = Math.floor(proportion * n)
  return meanUnchecked(sorted.subarray(cut, n - cut))
}
