import tCdf from '@stdlib/stats-base-dists-t-cdf'
import tQuantile from '@stdlib/stats-base-dists-t-quantile'
import { AssayError } from '../errors.js'
import { meanUnchecked, powerOfTwoAbove, varianceUnchecked } from './describe.js'
import { upperQuantile } from './intervals.js'
import { assertSample, clampProbability, resolveAlternative, resolveConfidenceLevel, type Alternative, type Sample } from './validate.js'

/** Options shared by the two-sample t-tests. */
export interface TwoSampleTTestOptions {
  alternative?: Alternative
  confidenceLevel?: number
}

/** Result of welchTTest / studentTTest: the same fields as R's t.test(x, y). */
export interface TwoSampleTTestResult {
  method: string
  alternative: Alternative
  confidenceLevel: number
  /** t statistic (mean(a) - mean(b)) / standardError. */
  statistic: number
  df: number
  pValue: number
  /** mean(a) - mean(b). */
  estimate: number
  meanA: number
  meanB: number
  standardError: number
  /** Confidence interval of mean(a) - mean(b); one-sided alternatives give an open end (±Infinity), as R does. */
  ci: [number, number]
  nA: number
  nB: number
}

/**
 * Welch's unequal-variance two-sample t-test, as R's t.test(a, b, var.equal = FALSE):
 * Welch–Satterthwaite degrees of freedom. Each group needs at least 2 observations.
 */
export function welchTTest(a: Sample, b: Sample, options: TwoSampleTTestOptions = {}): TwoSampleTTestResult {
  return tTest(a, b, options, false)
}

/**
 * Student's equal-variance two-sample t-test, as R's t.test(a, b, var.equal = TRUE): pooled variance,
 * nA + nB - 2 degrees of freedom. One group may have a single observation if the other has two or more.
 */
export function studentTTest(a: Sample, b: Sample, options: TwoSampleTTestOptions = {}): TwoSampleTTestResult {
  return tTest(a, b, options, true)
}

function tTest(a: Sample, b: Sample, options: TwoSampleTTestOptions, equalVariance: boolean): TwoSampleTTestResult {
  const alternative = resolveAlternative(options.alternative)
  const confidenceLevel = resolveConfidenceLevel(options.confidenceLevel)
  assertSample(a, 'a', equalVariance ? 1 : 2)
  assertSample(b, 'b', equalVariance ? 1 : 2)
  const nA = a.length
  const nB = b.length
  if (equalVariance && nA + nB < 3) {
    throw new AssayError('ASSAY_STATS_TOO_FEW_OBSERVATIONS', `Student's t-test needs nA + nB >= 3, got ${nA + nB}`)
  }
  // Values of huge magnitude (squares past 2^1000) are divided by a power of two (exact), tested, and
  // the location and scale results multiplied back: t, df and p do not depend on the scale.
  let max = 0
  for (const x of [a, b]) for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]))
  if (max < 2 ** 480) return tTestCore(a, b, alternative, confidenceLevel, equalVariance)
  const scale = powerOfTwoAbove(max)
  const r = tTestCore(a.map((v) => v / scale), b.map((v) => v / scale), alternative, confidenceLevel, equalVariance)
  return {
    ...r,
    estimate: r.estimate * scale,
    meanA: r.meanA * scale,
    meanB: r.meanB * scale,
    standardError: r.standardError * scale,
    ci: [r.ci[0] * scale, r.ci[1] * scale],
  }
}

function tTestCore(a: Sample, b: Sample, alternative: Alternative, confidenceLevel: number, equalVariance: boolean): TwoSampleTTestResult {
  const nA = a.length
  const nB = b.length
  const meanA = meanUnchecked(a)
  const meanB = meanUnchecked(b)
  const varA = nA > 1 ? varianceUnchecked(a, meanA) : 0
  const varB = nB > 1 ? varianceUnchecked(b, meanB) : 0
  let df: number
  let standardError: number
  if (equalVariance) {
    df = nA + nB - 2
    let v = 0
    if (nA > 1) v += (nA - 1) * varA
    if (nB > 1) v += (nB - 1) * varB
    v /= df
    standardError = Math.sqrt(v * (1 / nA + 1 / nB))
  } else {
    const seA = Math.sqrt(varA / nA)
    const seB = Math.sqrt(varB / nB)
    standardError = Math.sqrt(seA ** 2 + seB ** 2)
    df = standardError ** 4 / (seA ** 4 / (nA - 1) + seB ** 4 / (nB - 1))
  }
  // R: if (stderr < 10 * .Machine$double.eps * max(abs(mx), abs(my))) stop("data are essentially constant")
  if (!(standardError > 10 * Number.EPSILON * Math.max(Math.abs(meanA), Math.abs(meanB)))) {
    throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', 'the data are essentially constant: the standard error of the difference is zero', {
      meanA,
      meanB,
    })
  }
  const statistic = (meanA - meanB) / standardError
  let pValue: number
  let ci: [number, number]
  if (alternative === 'less') {
    pValue = tCdf(statistic, df)
    ci = [-Infinity, (statistic + tQuantile(confidenceLevel, df)) * standardError]
  } else if (alternative === 'greater') {
    // upper tail computed as cdf of -t by symmetry for accuracy
    pValue = tCdf(-statistic, df)
    ci = [(statistic - tQuantile(confidenceLevel, df)) * standardError, Infinity]
  } else {
    pValue = 2 * tCdf(-Math.abs(statistic), df)
    const q = upperQuantile(1 - (1 - confidenceLevel) / 2, (1 - confidenceLevel) / 2, (p) => tQuantile(p, df))
    ci = [(statistic - q) * standardError, (statistic + q) * standardError]
  }
  return {
    method: equalVariance ? "Student's two-sample t-test (equal variances)" : "Welch's two-sample t-test (unequal variances)",
    alternative,
    confidenceLevel,
    statistic,
    df,
    pValue: clampProbability(pValue),
    estimate: meanA - meanB,
    meanA,
    meanB,
    standardError,
    ci,
    nA,
    nB,
  }
}
