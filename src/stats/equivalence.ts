import tQuantile from '@stdlib/stats-base-dists-t-quantile'
import { AssayError } from '../errors.js'
import { pairedMoments, resolveFinite, tPValue } from './paired.js'
import { resolveConfidenceLevel, type Sample } from './validate.js'

/** Decisions on paired data from paired t procedures on d = a - b. */

export interface NonInferiorityOptions {
  /** How much worse a may be than b and still count as not inferior (>= 0, in the metric's units). */
  margin: number
  /** 'greater' (default): higher is better, H1: mean(a - b) > -margin. 'less': lower is better, H1: mean(a - b) < margin. */
  alternative?: 'greater' | 'less'
  /** Level of the one-sided test / bound. Default 0.95. */
  confidenceLevel?: number
}

export interface NonInferiorityResult {
  method: 'Paired t non-inferiority test'
  /** True when a is shown not worse than b by more than the margin (pValue < 1 - confidenceLevel). */
  decision: boolean
  statistic: number
  pValue: number
  df: number
  /** mean(a - b). */
  estimate: number
  standardError: number
  /** The one-sided confidence bound: lower bound for 'greater', upper bound for 'less'. */
  bound: number
  /** The one-sided interval [bound, Infinity] or [-Infinity, bound]. */
  ci: [number, number]
  margin: number
  n: number
  alternative: 'greater' | 'less'
  confidenceLevel: number
}

/**
 * Non-inferiority of a against b: R t.test(a, b, paired = TRUE, mu = -margin, alternative = 'greater')
 * (or mu = margin, alternative = 'less' when lower is better).
 */
export function nonInferiority(a: Sample, b: Sample, opts: NonInferiorityOptions): NonInferiorityResult {
  if (opts === undefined || opts === null || typeof opts !== 'object') {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', 'nonInferiority needs options with a margin')
  }
  const margin = resolveMargin(opts.margin, 'margin')
  const alternative = opts.alternative ?? 'greater'
  if (alternative !== 'greater' && alternative !== 'less') {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `alternative must be 'greater' or 'less', got ${String(alternative)}`)
  }
  const confidenceLevel = resolveConfidenceLevel(opts.confidenceLevel)
  const { estimate, se, df, n } = pairedMoments(a, b)
  const q = tQuantile(confidenceLevel, df)
  const mu = alternative === 'greater' ? -margin : margin
  const statistic = (estimate - mu) / se
  const pValue = tPValue(statistic, df, alternative)
  const bound = alternative === 'greater' ? estimate - q * se : estimate + q * se
  return {
    method: 'Paired t non-inferiority test',
    decision: alternative === 'greater' ? bound > mu : bound < mu,
    statistic,
    pValue,
    df,
    estimate,
    standardError: se,
    bound,
    ci: alternative === 'greater' ? [bound, Infinity] : [-Infinity, bound],
    margin,
    n,
    alternative,
    confidenceLevel,
  }
}

export interface TostOptions {
  /** Symmetric margin: the equivalence region is (-margin, margin). */
  margin?: number
  /** Asymmetric region (lower, upper), lower < upper. Give either margin or both lower and upper. */
  lower?: number
  upper?: number
  /** Level of each one-sided test (alpha = 1 - confidenceLevel); must be in (0.5, 1). Default 0.95. */
  confidenceLevel?: number
}

export interface TostResult {
  method: 'Paired TOST equivalence test'
  /** True when both one-sided tests reject, i.e. the (2 confidenceLevel - 1) interval lies inside (lower, upper). */
  decision: boolean
  /** The larger of the two one-sided p-values. */
  pValue: number
  /** t statistic of the test against the lower bound (H1: mean > lower). */
  statisticLower: number
  pValueLower: number
  /** t statistic of the test against the upper bound (H1: mean < upper). */
  statisticUpper: number
  pValueUpper: number
  df: number
  estimate: number
  standardError: number
  /** Two-sided (2 confidenceLevel - 1) interval of mean(a - b). */
  ci: [number, number]
  lower: number
  upper: number
  n: number
  confidenceLevel: number
}

/** Two one-sided paired t-tests: statsmodels.stats.weightstats.ttost_paired(a, b, lower, upper). */
export function tost(a: Sample, b: Sample, opts: TostOptions): TostResult {
  if (opts === undefined || opts === null || typeof opts !== 'object') {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', 'tost needs options with a margin or lower and upper')
  }
  let lower: number
  let upper: number
  if (opts.margin !== undefined) {
    if (opts.lower !== undefined || opts.upper !== undefined) {
      throw new AssayError('ASSAY_STATS_INVALID_OPTION', 'give either margin or lower and upper, not both')
    }
    const m = resolveMargin(opts.margin, 'margin')
    if (m === 0) throw new AssayError('ASSAY_STATS_INVALID_OPTION', 'margin must be positive')
    lower = -m
    upper = m
  } else {
    if (opts.lower === undefined || opts.upper === undefined) {
      throw new AssayError('ASSAY_STATS_INVALID_OPTION', 'tost needs margin, or both lower and upper')
    }
    lower = resolveFinite(opts.lower, 'lower')
    upper = resolveFinite(opts.upper, 'upper')
    if (!(lower < upper)) throw new AssayError('ASSAY_STATS_INVALID_OPTION', `lower (${lower}) must be below upper (${upper})`)
  }
  const confidenceLevel = resolveConfidenceLevel(opts.confidenceLevel)
  if (!(confidenceLevel > 0.5)) {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `confidenceLevel for TOST must be above 0.5, got ${confidenceLevel}`)
  }
  const { estimate, se, df, n } = pairedMoments(a, b)
  const statisticLower = (estimate - lower) / se
  const statisticUpper = (estimate - upper) / se
  const pValueLower = tPValue(statisticLower, df, 'greater')
  const pValueUpper = tPValue(statisticUpper, df, 'less')
  const q = tQuantile(confidenceLevel, df)
  const ci: [number, number] = [estimate - q * se, estimate + q * se]
  return {
    method: 'Paired TOST equivalence test',
    decision: ci[0] > lower && ci[1] < upper,
    pValue: Math.max(pValueLower, pValueUpper),
    statisticLower,
    pValueLower,
    statisticUpper,
    pValueUpper,
    df,
    estimate,
    standardError: se,
    ci,
    lower,
    upper,
    n,
    confidenceLevel,
  }
}

function resolveMargin(value: number, name: string): number {
  const m = resolveFinite(value, name)
  if (m < 0) throw new AssayError('ASSAY_STATS_INVALID_OPTION', `${name} must be non-negative, got ${m}`)
  return m
}
