import { AssayError } from '../errors.js'
import { meanUnchecked, sdUnchecked, varianceUnchecked } from './describe.js'
import { lowerBound, upperBound } from './sample-helpers.js'
import { assertPaired, assertSample, type Sample } from './validate.js'

export interface CohensDOptions {
  /** Default false. Paired: d_z = mean(a - b) / sd(a - b) (Cohen 1988, eq. 2.3.5). */
  paired?: boolean
}

export interface StandardizedMeanDifference {
  method: string
  paired: boolean
  /** Standardised mean difference of a minus b. */
  estimate: number
  /** Mean of a minus mean of b (the mean difference for paired data). */
  meanDifference: number
  /** The standard deviation divided by: pooled SD (independent) or SD of the differences (paired). */
  standardizer: number
  df: number
  nA: number
  nB: number
}

export interface HedgesGResult extends StandardizedMeanDifference {
  /** Cohen's d before the small-sample correction. */
  d: number
  /** Correction factor J = 1 - 3 / (4 df - 1). */
  correction: number
}

export interface CliffsDeltaResult {
  method: string
  /** (#{a_i > b_j} - #{a_i < b_j}) / (nA nB), in [-1, 1]. */
  estimate: number
  /** Romano et al. (2006) labels: |delta| < 0.147 negligible, < 0.33 small, < 0.474 medium, else large. */
  magnitude: 'negligible' | 'small' | 'medium' | 'large'
  greater: number
  less: number
  ties: number
  nA: number
  nB: number
}

/**
 * Cohen's d for a minus b.
 * Independent (default): (mean(a) - mean(b)) / s_pooled with s_pooled^2 = ((nA-1) s_a^2 + (nB-1) s_b^2) / (nA + nB - 2)
 * (Cohen 1988, eq. 2.5.2); needs nA + nB >= 3. Paired: d_z = mean(a - b) / sd(a - b); needs n >= 2 pairs.
 * Throws ASSAY_STATS_DEGENERATE_INPUT when the standardiser is zero.
 */
export function cohensD(a: Sample, b: Sample, options: CohensDOptions = {}): StandardizedMeanDifference {
  const paired = options.paired ?? false
  if (typeof paired !== 'boolean') throw new AssayError('ASSAY_STATS_INVALID_OPTION', 'paired must be a boolean')
  if (paired) {
    assertPaired(a, b, 2)
    const n = a.length
    const diffs = new Float64Array(n)
    for (let i = 0; i < n; i++) diffs[i] = a[i] - b[i]
    const m = meanUnchecked(diffs)
    const sd = sdUnchecked(diffs, m)
    if (!(sd > 0)) throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', 'the paired differences are constant: their standard deviation is zero')
    return { method: "Cohen's d_z (paired: mean difference / SD of differences)", paired, estimate: m / sd, meanDifference: m, standardizer: sd, df: n - 1, nA: n, nB: n }
  }
  assertSample(a, 'a')
  assertSample(b, 'b')
  const nA = a.length
  const nB = b.length
  const df = nA + nB - 2
  if (df < 1) throw new AssayError('ASSAY_STATS_TOO_FEW_OBSERVATIONS', `Cohen's d needs nA + nB >= 3, got ${nA + nB}`)
  const mA = meanUnchecked(a)
  const mB = meanUnchecked(b)
  let ss = 0
  if (nA > 1) ss += (nA - 1) * varianceUnchecked(a, mA)
  if (nB > 1) ss += (nB - 1) * varianceUnchecked(b, mB)
  const sp = Math.sqrt(ss / df)
  if (!(sp > 0)) throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', 'both groups are constant: the pooled standard deviation is zero')
  return { method: "Cohen's d (pooled standard deviation)", paired, estimate: (mA - mB) / sp, meanDifference: mA - mB, standardizer: sp, df, nA, nB }
}

/**
 * Hedges' g: Cohen's d times the small-sample correction J = 1 - 3 / (4 df - 1), the approximation of the exact
 * Gamma-function factor given by Hedges (1981) and Hedges & Olkin (1985, p. 80); see also Borenstein et al. (2009),
 * eq. 4.22. df = nA + nB - 2 (independent) or n - 1 (paired). Needs df >= 2.
 */
export function hedgesG(a: Sample, b: Sample, options: CohensDOptions = {}): HedgesGResult {
  const d = cohensD(a, b, options)
  if (d.df < 2) throw new AssayError('ASSAY_STATS_TOO_FEW_OBSERVATIONS', `Hedges' g needs at least 2 degrees of freedom, got ${d.df}`)
  const correction = 1 - 3 / (4 * d.df - 1)
  return {
    ...d,
    method: d.paired ? "Hedges' g_z (paired, J = 1 - 3/(4 df - 1))" : "Hedges' g (pooled SD, J = 1 - 3/(4 df - 1))",
    estimate: d.estimate * correction,
    d: d.estimate,
    correction,
  }
}

/** Cliff's delta (Cliff 1993) of a versus b: P(A > B) - P(A < B) over all pairs. */
export function cliffsDelta(a: Sample, b: Sample): CliffsDeltaResult {
  assertSample(a, 'a')
  assertSample(b, 'b')
  const sortedB = Float64Array.from(b).sort()
  let greater = 0
  let less = 0
  for (let i = 0; i < a.length; i++) {
    const v = a[i]
    greater += lowerBound(sortedB, v)
    less += sortedB.length - upperBound(sortedB, v)
  }
  const total = a.length * b.length
  const estimate = (greater - less) / total
  const m = Math.abs(estimate)
  const magnitude = m < 0.147 ? 'negligible' : m < 0.33 ? 'small' : m < 0.474 ? 'medium' : 'large'
  return { method: "Cliff's delta", estimate, magnitude, greater, less, ties: total - greater - less, nA: a.length, nB: b.length }
}
