import normalCdf from '@stdlib/stats-base-dists-normal-cdf'
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile'
import { AssayError } from '../errors.js'
import { meanUnchecked, QUANTILE_MCSE_METHOD, quantileMonteCarloSE, quantileSorted, trimmedMeanSorted } from './describe.js'
import { createRandom } from './random.js'
import { assertSample, resolveConfidenceLevel, resolveResamples, resolveSeed, type Sample } from './validate.js'

/**
 * One-sample bootstrap confidence intervals (two-sided), as scipy.stats.bootstrap: percentile, basic
 * (reverse percentile) and BCa (bias correction from the bootstrap distribution, acceleration from the
 * jackknife). Quantiles of the bootstrap distribution are R type 7 (numpy's default 'linear').
 */

/**
 * A built-in statistic or a function of a sample. A function receives a Float64Array that is reused
 * between calls (copy it if you keep it), may reorder it, and must return a finite number.
 */
export type BootstrapStatistic = 'mean' | 'median' | 'iqm' | ((sample: Float64Array) => number)
export type BootstrapMethod = 'percentile' | 'basic' | 'BCa'

export interface BootstrapOptions {
  /** Default 'percentile'. */
  method?: BootstrapMethod
  /** Default 10000. */
  resamples?: number
  /** Default 0. */
  seed?: number
  confidenceLevel?: number
}

export interface BootstrapIntervalResult {
  method: string
  statistic: 'mean' | 'median' | 'iqm' | 'custom'
  interval: BootstrapMethod
  /** The statistic on the original sample. */
  estimate: number
  ci: [number, number]
  /** Standard deviation of the bootstrap distribution. */
  standardError: number
  /**
   * Estimated Monte Carlo standard error of each end of `ci` (how much it would move with another
   * seed), by `ciMonteCarloMethod`. Raise `resamples` when it matters at the precision you report.
   * For BCa it covers the quantiles at the adjusted levels, not the Monte Carlo error of z0.
   */
  ciMonteCarloStandardError: [number, number]
  ciMonteCarloMethod: string
  n: number
  resamples: number
  seed: number
  confidenceLevel: number
  alternative: 'two-sided'
  /** BCa only: bias correction z0 and acceleration a. */
  biasCorrection?: number
  acceleration?: number
}

export const DEFAULT_RESAMPLES = 10000

/** Bootstrap confidence interval of a statistic of one sample. */
export function bootstrapInterval(x: Sample, statistic: BootstrapStatistic, opts: BootstrapOptions = {}): BootstrapIntervalResult {
  assertSample(x, 'x')
  const { method, resamples, seed, confidenceLevel } = resolveBootstrapOptions(opts, ['percentile', 'basic', 'BCa'])
  const data = Float64Array.from(x)
  const n = data.length
  const fn = statisticFunction(statistic)
  const rng = createRandom(seed)
  const distribution = new Float64Array(resamples)
  if (statistic === 'mean') {
    for (let b = 0; b < resamples; b++) {
      let s = 0
      for (let i = 0; i < n; i++) s += data[rng.nextInt(n)]
      distribution[b] = s / n
    }
  } else {
    const buffer = new Float64Array(n)
    for (let b = 0; b < resamples; b++) {
      for (let i = 0; i < n; i++) buffer[i] = data[rng.nextInt(n)]
      distribution[b] = checkedValue(fn(buffer))
    }
  }
  return {
    ...intervalFromDistribution(data, statistic, distribution, method, confidenceLevel),
    resamples,
    seed,
  }
}

export interface StratifiedBootstrapOptions extends BootstrapOptions {
  /** Default 'iqm' (rliable's headline aggregate). */
  statistic?: BootstrapStatistic
  method?: 'percentile' | 'basic'
}

export interface StratifiedBootstrapResult extends BootstrapIntervalResult {
  strata: number
}

/**
 * Stratified bootstrap (rliable's StratifiedBootstrap): each resample draws, within every stratum, as many
 * values as the stratum holds, with replacement, then computes the statistic on the pooled resample.
 * Percentile or basic interval (BCa is not defined here and is refused).
 */
export function stratifiedBootstrapInterval(
  x: Sample,
  strata: readonly (string | number)[],
  opts: StratifiedBootstrapOptions = {},
): StratifiedBootstrapResult {
  assertSample(x, 'x')
  if (!Array.isArray(strata)) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'strata must be an array of stratum labels')
  if (strata.length !== x.length) {
    throw new AssayError('ASSAY_STATS_LENGTH_MISMATCH', `x has ${x.length} values but strata has ${strata.length} labels`)
  }
  const { method, resamples, seed, confidenceLevel } = resolveBootstrapOptions(opts, ['percentile', 'basic'])
  const statistic = opts.statistic ?? 'iqm'
  const fn = statisticFunction(statistic)
  const n = x.length
  // Group values by stratum into one contiguous array with offsets, in order of first appearance.
  const groups = new Map<string | number, number[]>()
  for (let i = 0; i < n; i++) {
    const key = strata[i]
    if (typeof key !== 'string' && typeof key !== 'number') {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `strata[${i}] must be a string or a number`)
    }
    let g = groups.get(key)
    if (g === undefined) groups.set(key, (g = []))
    g.push(i)
  }
  const data = new Float64Array(n)
  const starts = new Int32Array(groups.size)
  const sizes = new Int32Array(groups.size)
  let pos = 0
  let k = 0
  for (const members of groups.values()) {
    starts[k] = pos
    sizes[k] = members.length
    for (const i of members) data[pos++] = x[i]
    k++
  }
  const rng = createRandom(seed)
  const distribution = new Float64Array(resamples)
  const buffer = new Float64Array(n)
  const count = groups.size
  for (let b = 0; b < resamples; b++) {
    let out = 0
    for (let g = 0; g < count; g++) {
      const start = starts[g]
      const size = sizes[g]
      for (let i = 0; i < size; i++) buffer[out++] = data[start + rng.nextInt(size)]
    }
    distribution[b] = checkedValue(fn(buffer))
  }
  const result = intervalFromDistribution(data, statistic, distribution, method, confidenceLevel)
  return { ...result, method: `Stratified ${result.method.toLowerCase()}`, resamples, seed, strata: count }
}

/**
 * The interval from a given bootstrap distribution (exported for tests against scipy's own bootstrap
 * distribution; not part of the public surface). `data` is the original sample.
 */
export function intervalFromDistribution(
  data: Float64Array,
  statistic: BootstrapStatistic,
  distribution: Float64Array,
  method: BootstrapMethod,
  confidenceLevel: number,
): Omit<BootstrapIntervalResult, 'resamples' | 'seed'> {
  const fn = statisticFunction(statistic)
  const n = data.length
  const estimate = checkedValue(fn(Float64Array.from(data)))
  const resamples = distribution.length
  const bootMean = meanUnchecked(distribution)
  let ss = 0
  for (let b = 0; b < resamples; b++) ss += (distribution[b] - bootMean) ** 2
  const standardError = resamples > 1 ? Math.sqrt(ss / (resamples - 1)) : 0
  const sorted = Float64Array.from(distribution).sort()
  const alpha = (1 - confidenceLevel) / 2
  const name: BootstrapIntervalResult['statistic'] = typeof statistic === 'function' ? 'custom' : statistic
  const common = { statistic: name, interval: method, estimate, standardError, n, confidenceLevel, alternative: 'two-sided' as const, ciMonteCarloMethod: QUANTILE_MCSE_METHOD }
  const mcse = (q: number): number => quantileMonteCarloSE(sorted, q)
  if (method === 'percentile') {
    return {
      method: 'Percentile bootstrap interval',
      ...common,
      ci: [quantileSorted(sorted, alpha), quantileSorted(sorted, 1 - alpha)],
      ciMonteCarloStandardError: [mcse(alpha), mcse(1 - alpha)],
    }
  }
  if (method === 'basic') {
    const lo = quantileSorted(sorted, alpha)
    const hi = quantileSorted(sorted, 1 - alpha)
    return { method: 'Basic bootstrap interval', ...common, ci: [2 * estimate - hi, 2 * estimate - lo], ciMonteCarloStandardError: [mcse(1 - alpha), mcse(alpha)] }
  }
  // BCa, following scipy.stats._resampling._bca_interval (Efron & Tibshirani 14.3, 15.4).
  let below = 0
  let atOrBelow = 0
  for (let b = 0; b < resamples; b++) {
    if (distribution[b] < estimate) below++
    if (distribution[b] <= estimate) atOrBelow++
  }
  const z0 = normalQuantile((below + atOrBelow) / (2 * resamples), 0, 1)
  const jack = jackknife(data, statistic, fn)
  const jackMean = meanUnchecked(jack)
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    const u = (n - 1) * (jackMean - jack[i])
    num += u * u * u
    den += u * u
  }
  const acceleration = num / n ** 3 / (6 * (den / n ** 2) ** 1.5)
  if (!Number.isFinite(z0) || !Number.isFinite(acceleration)) {
    throw new AssayError(
      'ASSAY_STATS_DEGENERATE_INPUT',
      'the BCa interval cannot be calculated: the bootstrap or jackknife distribution is degenerate (constant data?)',
      { biasCorrection: String(z0), acceleration: String(acceleration) },
    )
  }
  const zAlpha = normalQuantile(alpha, 0, 1)
  const adjusted = (z: number): number => normalCdf(z0 + (z0 + z) / (1 - acceleration * (z0 + z)), 0, 1)
  const alpha1 = adjusted(zAlpha)
  const alpha2 = adjusted(-zAlpha)
  return {
    method: 'BCa bootstrap interval',
    ...common,
    ci: [quantileSorted(sorted, alpha1), quantileSorted(sorted, alpha2)],
    ciMonteCarloStandardError: [mcse(alpha1), mcse(alpha2)],
    biasCorrection: z0,
    acceleration,
  }
}

function jackknife(data: Float64Array, statistic: BootstrapStatistic, fn: (x: Float64Array) => number): Float64Array {
  const n = data.length
  const out = new Float64Array(n)
  if (n < 2) return out.fill(NaN)
  if (statistic === 'mean') {
    let total = 0
    for (let i = 0; i < n; i++) total += data[i]
    for (let i = 0; i < n; i++) out[i] = (total - data[i]) / (n - 1)
    return out
  }
  const buffer = new Float64Array(n - 1)
  for (let i = 0; i < n; i++) {
    let k = 0
    for (let j = 0; j < n; j++) if (j !== i) buffer[k++] = data[j]
    out[i] = checkedValue(fn(buffer))
  }
  return out
}

export function statisticFunction(statistic: BootstrapStatistic): (x: Float64Array) => number {
  if (typeof statistic === 'function') return statistic
  if (statistic === 'mean') return plainMean
  if (statistic === 'median') return (x) => quantileSorted(x.sort(), 0.5)
  if (statistic === 'iqm') return (x) => trimmedMeanSorted(x.sort(), 0.25)
  throw new AssayError('ASSAY_STATS_INVALID_OPTION', `statistic must be 'mean', 'median', 'iqm' or a function, got ${String(statistic)}`)
}

/** sum / n in index order: the same arithmetic as the resampling loop (and numpy for n < 8), so that a
 * resample equal to the data compares equal to the estimate in the BCa bias correction. */
function plainMean(x: Float64Array): number {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i]
  return s / x.length
}

function checkedValue(v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', `the bootstrap statistic returned ${String(v)}; it must return a finite number`)
  }
  return v
}

function resolveBootstrapOptions<M extends BootstrapMethod>(
  opts: BootstrapOptions,
  allowed: readonly M[],
): { method: M; resamples: number; seed: number; confidenceLevel: number } {
  const method = (opts.method ?? 'percentile') as M
  if (!allowed.includes(method)) {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `method must be one of ${allowed.join(', ')}, got ${String(method)}`)
  }
  return {
    method,
    resamples: resolveResamples(opts.resamples, DEFAULT_RESAMPLES),
    seed: resolveSeed(opts.seed),
    confidenceLevel: resolveConfidenceLevel(opts.confidenceLevel),
  }
}
