import normalCdf from '@stdlib/stats-base-dists-normal-cdf'
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile'
import { AssayError } from '../errors.js'
import { midranks, tieCorrectionSum, toFloat64, zeroinR } from './sample-helpers.js'
import { assertSample, clampProbability, resolveAlternative, resolveConfidenceLevel, type Alternative, type Sample } from './validate.js'

export interface MannWhitneyOptions {
  /** 'auto' (default): exact when there are no ties and both groups have fewer than 50 observations, as R. */
  method?: 'exact' | 'asymptotic' | 'auto'
  /** Continuity correction of the normal approximation (default true, as R). */
  correction?: boolean
  alternative?: Alternative
  confidenceLevel?: number
}

export interface MannWhitneyResult {
  method: string
  alternative: Alternative
  confidenceLevel: number
  /** Whether the exact null distribution was used (otherwise the normal approximation). */
  exact: boolean
  /** Whether the continuity correction was applied (asymptotic only). */
  correction: boolean
  /** R's W: the Mann–Whitney U of a, #{a_i > b_j} + 0.5 #{a_i = b_j}. */
  statistic: number
  pValue: number
  /** Hodges–Lehmann estimate of the location shift a - b (R's "difference in location"). */
  estimate: number
  /** Confidence interval of the shift, as R's wilcox.test(conf.int = TRUE). */
  ci: [number, number]
  /** Confidence level the interval actually has: R lowers it when the exact distribution cannot reach the request. */
  ciConfidenceLevel: number
  /** Standardised statistic (asymptotic method only). */
  z?: number
  nA: number
  nB: number
}

/** Largest nA·nB for which the exact distribution is tabulated (the work grows like (nA·nB)^2). */
const EXACT_CELL_LIMIT = 10000

/**
 * Wilcoxon–Mann–Whitney rank-sum test with Hodges–Lehmann estimate and interval, matching R's
 * wilcox.test(a, b, conf.int = TRUE, exact, correct). Throws ASSAY_STATS_INVALID_OPTION for method 'exact'
 * with ties (R silently falls back to the approximation; assay makes the caller choose), and
 * ASSAY_STATS_DEGENERATE_INPUT when every observation is tied (the statistic has no variance).
 */
export function mannWhitneyU(a: Sample, b: Sample, options: MannWhitneyOptions = {}): MannWhitneyResult {
  const alternative = resolveAlternative(options.alternative)
  const confidenceLevel = resolveConfidenceLevel(options.confidenceLevel)
  const requested = options.method ?? 'auto'
  if (requested !== 'exact' && requested !== 'asymptotic' && requested !== 'auto') {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `method must be 'exact', 'asymptotic' or 'auto', got ${String(requested)}`)
  }
  const correction = options.correction ?? true
  if (typeof correction !== 'boolean') throw new AssayError('ASSAY_STATS_INVALID_OPTION', 'correction must be a boolean')
  assertSample(a, 'a')
  assertSample(b, 'b')
  const x = toFloat64(a)
  const y = toFloat64(b)
  const nx = x.length
  const ny = y.length
  const combined = new Float64Array(nx + ny)
  combined.set(x, 0)
  combined.set(y, nx)
  const r = midranks(combined)
  let rankSumX = 0
  for (let i = 0; i < nx; i++) rankSumX += r[i]
  const statistic = rankSumX - (nx * (nx + 1)) / 2
  const tieSum = tieCorrectionSum(combined)
  const hasTies = tieSum > 0

  let exact: boolean
  if (requested === 'auto') exact = nx < 50 && ny < 50 && !hasTies
  else if (requested === 'exact') {
    if (hasTies) {
      throw new AssayError('ASSAY_STATS_INVALID_OPTION', "the exact distribution needs untied data; these samples have ties: use method 'asymptotic' or 'auto'")
    }
    if (nx * ny > EXACT_CELL_LIMIT) {
      throw new AssayError('ASSAY_STATS_INVALID_OPTION', `exact Mann–Whitney is limited to nA·nB <= ${EXACT_CELL_LIMIT}; use method 'asymptotic'`)
    }
    exact = true
  } else exact = false

  const base = { alternative, confidenceLevel, statistic, nA: nx, nB: ny }
  if (exact) return { ...exactTest(x, y, statistic, alternative, confidenceLevel), ...base, exact: true, correction: false }
  return { ...asymptoticTest(x, y, statistic, tieSum, alternative, confidenceLevel, correction), ...base, exact: false, correction }
}

// ---------------------------------------------------------------- exact

/** Frequencies of U = 0..m·n under H0 for group sizes m, n: f(m,n)(k) = f(m-1,n)(k-n) + f(m,n-1)(k) (additions only). */
function wilcoxCounts(m: number, n: number): Float64Array {
  const size = m * n + 1
  // prev[j] = counts for (m'-1, j); cur[j] = counts for (m', j), j = 0..n
  let prev: Float64Array[] = []
  for (let j = 0; j <= n; j++) {
    const row = new Float64Array(size)
    row[0] = 1 // m' = 0: U is 0 with one arrangement
    prev.push(row)
  }
  for (let mm = 1; mm <= m; mm++) {
    const cur: Float64Array[] = []
    const first = new Float64Array(size)
    first[0] = 1 // n' = 0
    cur.push(first)
    for (let j = 1; j <= n; j++) {
      const row = new Float64Array(size)
      const left = cur[j - 1]
      const up = prev[j]
      const maxK = mm * j
      for (let k = 0; k <= maxK; k++) row[k] = left[k] + (k >= j ? up[k - j] : 0)
      cur.push(row)
    }
    prev = cur
  }
  return prev[n]
}

interface WilcoxDistribution {
  counts: Float64Array
  total: number
  mn: number
}

function wilcoxDistribution(m: number, n: number): WilcoxDistribution {
  const counts = wilcoxCounts(m, n)
  let total = 0
  for (let k = 0; k < counts.length; k++) total += counts[k]
  return { counts, total, mn: m * n }
}

/** R's pwilcox(q, m, n, lower.tail), same summation order. */
function pwilcox(q: number, d: WilcoxDistribution, lowerTail: boolean): number {
  q = Math.floor(q + 1e-7)
  if (q < 0) return lowerTail ? 0 : 1
  if (q >= d.mn) return lowerTail ? 1 : 0
  let p = 0
  let lower = lowerTail
  if (q <= d.mn / 2) {
    for (let i = 0; i <= q; i++) p += d.counts[i] / d.total
  } else {
    q = d.mn - q
    for (let i = 0; i < q; i++) p += d.counts[i] / d.total
    lower = !lower
  }
  return lower ? p : 0.5 - p + 0.5
}

/** R's qwilcox(x, m, n) (lower tail). */
function qwilcox(x: number, d: WilcoxDistribution): number {
  let p = 0
  let q = 0
  if (x <= 0.5) {
    x = x - 10 * Number.EPSILON
    for (;;) {
      p += d.counts[q] / d.total
      if (p >= x) break
      q++
    }
  } else {
    x = 1 - x + 10 * Number.EPSILON
    for (;;) {
      p += d.counts[q] / d.total
      if (p > x) {
        q = d.mn - q
        break
      }
      q++
    }
  }
  return q
}

function exactTest(x: Float64Array, y: Float64Array, w: number, alternative: Alternative, confidenceLevel: number) {
  const nx = x.length
  const ny = y.length
  const d = wilcoxDistribution(nx, ny)
  let pValue: number
  if (alternative === 'two-sided') {
    const p = w > (nx * ny) / 2 ? pwilcox(w - 1, d, false) : pwilcox(w, d, true)
    pValue = Math.min(2 * p, 1)
  } else if (alternative === 'greater') pValue = pwilcox(w - 1, d, false)
  else pValue = pwilcox(w, d, true)

  const diffs = pairwiseDifferences(x, y)
  const alpha = 1 - confidenceLevel
  let ci: [number, number]
  let achievedAlpha: number
  if (alternative === 'two-sided') {
    let qu = qwilcox(alpha / 2, d)
    if (qu === 0) qu = 1
    const ql = nx * ny - qu
    achievedAlpha = 2 * pwilcox(Math.trunc(qu) - 1, d, true)
    ci = [diffs[qu - 1], diffs[ql]]
  } else {
    let qu = qwilcox(alpha, d)
    if (qu === 0) qu = 1
    achievedAlpha = pwilcox(Math.trunc(qu) - 1, d, true)
    ci = alternative === 'greater' ? [diffs[qu - 1], Infinity] : [-Infinity, diffs[nx * ny - qu]]
  }
  const ciConfidenceLevel = achievedAlpha - alpha > alpha / 2 ? 1 - achievedAlpha : confidenceLevel
  return {
    method: 'Wilcoxon–Mann–Whitney rank-sum exact test',
    pValue: clampProbability(pValue),
    estimate: medianSorted(diffs),
    ci,
    ciConfidenceLevel,
  }
}

function pairwiseDifferences(x: Float64Array, y: Float64Array): Float64Array {
  const diffs = new Float64Array(x.length * y.length)
  let k = 0
  // R: sort(outer(x, y, `-`)); the order of filling does not matter after sorting
  for (let j = 0; j < y.length; j++) for (let i = 0; i < x.length; i++) diffs[k++] = x[i] - y[j]
  return diffs.sort()
}

function medianSorted(s: Float64Array): number {
  const n = s.length
  const h = n >> 1
  return n % 2 === 1 ? s[h] : (s[h - 1] + s[h]) / 2
}

// ---------------------------------------------------------------- asymptotic

function asymptoticTest(
  x: Float64Array,
  y: Float64Array,
  w: number,
  tieSum: number,
  alternative: Alternative,
  confidenceLevel: number,
  correct: boolean,
) {
  const nx = x.length
  const ny = y.length
  const sigma = Math.sqrt(((nx * ny) / 12) * (nx + ny + 1 - tieSum / ((nx + ny) * (nx + ny - 1))))
  if (!(sigma > 0)) {
    throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', 'every observation is tied: the rank-sum statistic has no variance')
  }
  const z0 = w - (nx * ny) / 2
  const corr = correct ? continuity(z0, alternative) : 0
  const z = (z0 - corr) / sigma
  const pValue =
    alternative === 'less' ? normalCdf(z, 0, 1) : alternative === 'greater' ? normalCdf(-z, 0, 1) : 2 * Math.min(normalCdf(z, 0, 1), normalCdf(-z, 0, 1))

  // Interval and estimate exactly as R: roots of the standardised statistic as a function of the shift d,
  // found with R's uniroot (tolerance 1e-4) on [min(a) - max(b), max(a) - min(b)].
  const alpha = 1 - confidenceLevel
  let minX = Infinity
  let maxX = -Infinity
  let minY = Infinity
  let maxY = -Infinity
  for (const v of x) {
    minX = Math.min(minX, v)
    maxX = Math.max(maxX, v)
  }
  for (const v of y) {
    minY = Math.min(minY, v)
    maxY = Math.max(maxY, v)
  }
  const muMin = minX - maxY
  const muMax = maxX - minY
  const shifted = new Float64Array(nx + ny)
  const W = (dShift: number, useCorrection: boolean): number => {
    for (let i = 0; i < nx; i++) shifted[i] = x[i] - dShift
    shifted.set(y, nx)
    const dr = midranks(shifted)
    let s = 0
    for (let i = 0; i < nx; i++) s += dr[i]
    const dz = s - (nx * (nx + 1)) / 2 - (nx * ny) / 2
    const c = useCorrection ? continuity(dz, alternative) : 0
    const sig = Math.sqrt(((nx * ny) / 12) * (nx + ny + 1 - tieCorrectionSum(shifted) / ((nx + ny) * (nx + ny - 1))))
    if (!(sig > 0)) throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', 'cannot compute the interval when all observations are tied')
    return (dz - c) / sig
  }
  const method = correct
    ? 'Wilcoxon–Mann–Whitney rank-sum test, normal approximation with continuity correction'
    : 'Wilcoxon–Mann–Whitney rank-sum test, normal approximation'
  if (muMin === muMax) {
    // Every a - b difference is the same number (both samples constant): R's wilcox.test stops
    // with an error here; the Hodges–Lehmann estimate and its interval are simply that number.
    const ci: [number, number] = alternative === 'two-sided' ? [muMin, muMin] : alternative === 'greater' ? [muMin, Infinity] : [-Infinity, muMin]
    return { method, pValue: clampProbability(pValue), estimate: muMin, ci, ciConfidenceLevel: confidenceLevel, z }
  }
  const TOL = 1e-4
  const wMin = W(muMin, correct)
  const wMax = W(muMax, correct)
  const root = (zq: number): number => {
    const fLower = wMin - zq
    if (fLower <= 0) return muMin
    const fUpper = wMax - zq
    if (fUpper >= 0) return muMax
    return zeroinR((d) => W(d, correct) - zq, muMin, muMax, fLower, fUpper, TOL)
  }
  let ci: [number, number]
  // R: qnorm(alpha/2, lower.tail = FALSE) is -qnorm(alpha/2)
  if (alternative === 'two-sided') ci = [root(-normalQuantile(alpha / 2, 0, 1)), root(normalQuantile(alpha / 2, 0, 1))]
  else if (alternative === 'greater') ci = [root(-normalQuantile(alpha, 0, 1)), Infinity]
  else ci = [-Infinity, root(normalQuantile(alpha, 0, 1))]

  const f = (d: number): number => W(d, false)
  const estimate = zeroinR(f, muMin, muMax, f(muMin), f(muMax), TOL)
  return {
    method,
    pValue: clampProbability(pValue),
    estimate,
    ci,
    ciConfidenceLevel: confidenceLevel,
    z,
  }
}

function continuity(z: number, alternative: Alternative): number {
  return alternative === 'two-sided' ? Math.sign(z) * 0.5 : alternative === 'greater' ? 0.5 : -0.5
}
