import gammainc from '@stdlib/math-base-special-gammainc'
import normalCdf from '@stdlib/stats-base-dists-normal-cdf'
import { AssayError } from '../errors.js'
import { binomial, countPathsOutside, kolmogorovSf, outerProbInside, probOutsideSquare } from './kolmogorov.js'
import { ascending, assertCount, assertSample, clampProbability, resolveAlternative, type Alternative, type Sample } from './validate.js'

/**
 * Two-sample and distribution-shift statistics for production monitoring: the two-sample
 * Kolmogorov–Smirnov test, the chi-square test of homogeneity, pooled and cluster-robust
 * two-proportion z tests, the population stability index and the Jensen–Shannon divergence.
 * Alternatives follow assay's a-minus-b convention: 'greater' means a tends to be larger than b.
 */

// ---------------------------------------------------------------- Kolmogorov–Smirnov

export type KsMethod = 'auto' | 'exact' | 'asymptotic'

export interface KsTwoSampleOptions {
  alternative?: Alternative
  /** 'auto' (default): exact when both samples have at most 10,000 values, as SciPy's ks_2samp. */
  method?: KsMethod
  /** Both samples are already in ascending order (checked): they are used as they are, not copied and sorted. */
  sorted?: boolean
}

export interface KsTwoSampleResult {
  method: string
  alternative: Alternative
  /** Which null distribution gave the p-value (an exact computation that overflows falls back to asymptotic, as SciPy). */
  pMethod: 'exact' | 'asymptotic'
  /**
   * two-sided: max |F_a - F_b|; 'greater': max(F_b - F_a) (a shifted up); 'less': max(F_a - F_b).
   * F are the empirical distribution functions.
   */
  statistic: number
  /** A value of the pooled data where the statistic is attained. */
  location: number
  /** +1 when the statistic is F_a - F_b, -1 when it is F_b - F_a. */
  sign: 1 | -1
  pValue: number
  nA: number
  nB: number
}

const KS_MAX_AUTO_N = 10_000

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

/**
 * Two-sample Kolmogorov–Smirnov test of equal distributions, p-values as SciPy's
 * `ks_2samp(a, b, method='auto')`. Our 'greater' (a stochastically larger than b, so F_a below F_b)
 * is SciPy's `alternative='less'`, and our 'less' is SciPy's 'greater': SciPy names the direction
 * of the distribution functions, assay the direction of a - b.
 */
export function ksTwoSample(a: Sample, b: Sample, options: KsTwoSampleOptions = {}): KsTwoSampleResult {
  assertSample(a, 'a')
  assertSample(b, 'b')
  const alternative = resolveAlternative(options.alternative)
  const requested = options.method ?? 'auto'
  if (requested !== 'auto' && requested !== 'exact' && requested !== 'asymptotic') {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `method must be 'auto', 'exact' or 'asymptotic', got ${String(requested)}`)
  }
  const sa = ascending(a, 'a', options.sorted)
  const sb = ascending(b, 'b', options.sorted)
  const n1 = sa.length
  const n2 = sb.length
  // F_a - F_b just after each distinct pooled value, in one merge. SciPy reports the first data point
  // (a's sorted values, then b's) attaining the extreme: the smallest such value of a, else of b.
  let i = 0
  let j = 0
  let maxS = -Infinity
  let minS = Infinity
  let maxLocA: number | null = null
  let maxLocB: number | null = null
  let minLocA: number | null = null
  let minLocB: number | null = null
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && sa[i] <= sb[j]) ? sa[i] : sb[j]
    const i0 = i
    const j0 = j
    while (i < n1 && sa[i] === v) i++
    while (j < n2 && sb[j] === v) j++
    const inA = i > i0
    const inB = j > j0
    const d = i / n1 - j / n2
    if (d > maxS) {
      maxS = d
      maxLocA = inA ? v : null
      maxLocB = inB ? v : null
    } else if (d === maxS) {
      if (inA && maxLocA === null) maxLocA = v
      if (inB && maxLocB === null) maxLocB = v
    }
    if (d < minS) {
      minS = d
      minLocA = inA ? v : null
      minLocB = inB ? v : null
    } else if (d === minS) {
      if (inA && minLocA === null) minLocA = v
      if (inB && minLocB === null) minLocB = v
    }
  }
  const maxLoc = (maxLocA ?? maxLocB) as number
  const minLoc = (minLocA ?? minLocB) as number
  const minusMin = Math.min(Math.max(-minS, 0), 1)
  // SciPy's 'less' is our 'greater': the statistic is max(F_b - F_a).
  const useMin = alternative === 'greater' || (alternative === 'two-sided' && minusMin > maxS)
  let d = useMin ? minusMin : maxS
  const location = useMin ? minLoc : maxLoc
  const sign: 1 | -1 = useMin ? -1 : 1
  const g = gcd(n1, n2)
  let mode: 'exact' | 'asymptotic' = requested === 'asymptotic' ? 'asymptotic' : requested === 'exact' ? 'exact' : Math.max(n1, n2) <= KS_MAX_AUTO_N ? 'exact' : 'asymptotic'
  if (mode === 'exact' && n1 / g >= 2147483647 / (n2 / g)) mode = 'asymptotic'
  let p = NaN
  if (mode === 'exact') {
    const lcm = (n1 / g) * n2
    const h = Math.round(d * lcm)
    d = h / lcm
    if (h === 0) p = 1
    else if (alternative === 'two-sided') p = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h)
    else if (n1 === n2) {
      p = 1
      for (let k = 0; k < h; k++) p *= (n1 - k) / (n1 + k + 1)
    } else {
      const paths = countPathsOutside(n1, n2, g, h)
      const all = binomial(n1 + n2, n1)
      p = Number.isFinite(all) && Number.isFinite(paths) && paths <= all ? paths / all : NaN
    }
    if (!(p >= 0 && p <= 1)) mode = 'asymptotic'
  }
  if (mode === 'asymptotic') {
    const m = Math.max(n1, n2)
    const n = Math.min(n1, n2)
    const en = (m * n) / (m + n)
    if (alternative === 'two-sided') p = kolmogorovSf(roundHalfEven(en), d)
    else {
      // Hodges (1958) eq. 5.3, m the larger sample.
      const z = Math.sqrt(en) * d
      p = Math.exp(-2 * z * z - (2 * z * (m + 2 * n)) / Math.sqrt(m * n * (m + n)) / 3)
    }
  }
  return {
    method: `Two-sample Kolmogorov-Smirnov test (${mode})`,
    alternative,
    pMethod: mode,
    statistic: d,
    location,
    sign,
    pValue: clampProbability(p),
    nA: n1,
    nB: n2,
  }
}

/** numpy's round: half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x)
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r
}

// ---------------------------------------------------------------- chi-square

export interface ChiSquareOptions {
  /** Yates' continuity correction when the table has one degree of freedom (default true, as R chisq.test and SciPy chi2_contingency). */
  correction?: boolean
}

export interface ChiSquareResult {
  method: string
  statistic: number
  df: number
  pValue: number
  /** Expected counts under homogeneity, for the rows and columns kept. */
  expected: number[][]
  /** Rows and columns of the input kept (an all-zero row or column is dropped). */
  rows: number[]
  columns: number[]
  correction: boolean
  n: number
}

/**
 * Chi-square test of homogeneity (equivalently, of independence) of an r × c table of counts:
 * SciPy's chi2_contingency(table, correction), R's chisq.test(table, correct). Rows are the samples
 * (a reference window and a current window), columns the categories. A row or column with no
 * counts at all is dropped first (a category seen in neither window says nothing), and which were
 * kept is reported; at least two rows and two columns must remain.
 */
export function chiSquareTest(table: readonly (readonly number[])[], options: ChiSquareOptions = {}): ChiSquareResult {
  if (!Array.isArray(table) || table.length === 0) throw new AssayError('ASSAY_STATS_EMPTY_INPUT', 'table is empty')
  const width = table[0]?.length
  table.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== width) throw new AssayError('ASSAY_STATS_LENGTH_MISMATCH', `table[${r}] has ${Array.isArray(row) ? row.length : 'no'} columns; table[0] has ${width}`)
    row.forEach((v, c) => assertCount(v, `table[${r}][${c}]`))
  })
  const correction = options.correction ?? true
  if (typeof correction !== 'boolean') throw new AssayError('ASSAY_STATS_INVALID_OPTION', 'correction must be a boolean')
  const rows = table.map((_, r) => r).filter((r) => table[r].some((v: number) => v > 0))
  const columns = Array.from({ length: width }, (_, c) => c).filter((c) => table.some((row) => row[c] > 0))
  if (rows.length < 2 || columns.length < 2) {
    throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', `a chi-square test needs at least two rows and two columns with counts; ${rows.length} rows and ${columns.length} columns have any`)
  }
  const obs = rows.map((r) => columns.map((c) => table[r][c]))
  const rowSums = obs.map((row) => row.reduce((s, v) => s + v, 0))
  const colSums = columns.map((_, c) => obs.reduce((s, row) => s + row[c], 0))
  const n = rowSums.reduce((s, v) => s + v, 0)
  const expected = obs.map((_, r) => colSums.map((cs) => (rowSums[r] * cs) / n))
  const df = (rows.length - 1) * (columns.length - 1)
  const yates = correction && df === 1
  let statistic = 0
  for (let r = 0; r < obs.length; r++) {
    for (let c = 0; c < columns.length; c++) {
      const e = expected[r][c]
      let diff = obs[r][c] - e
      // SciPy: move each observed count towards its expectation by 0.5, but not past it.
      if (yates) diff -= Math.sign(diff) * Math.min(0.5, Math.abs(diff))
      statistic += (diff * diff) / e
    }
  }
  return {
    method: yates ? "Pearson's chi-square test of homogeneity with Yates' continuity correction" : "Pearson's chi-square test of homogeneity",
    statistic,
    df,
    pValue: clampProbability(gammainc(statistic / 2, df / 2, true, true)),
    expected,
    rows,
    columns,
    correction: yates,
    n,
  }
}

// ---------------------------------------------------------------- two proportions

export interface TwoProportionOptions {
  alternative?: Alternative
}

export interface TwoProportionZTestResult {
  method: string
  alternative: Alternative
  /** (pA - pB) / standardError. */
  statistic: number
  pValue: number
  /** pA - pB. */
  estimate: number
  proportionA: number
  proportionB: number
  standardError: number
  nA: number
  nB: number
}

/**
 * Two-proportion z test with the pooled standard error under H0 (statsmodels
 * proportions_ztest([xA, xB], [nA, nB]); R prop.test(correct = FALSE) is its square). Treats every
 * observation as independent: on clustered data (several requests of one conversation) it rejects
 * too often; use clusteredTwoProportionTest there.
 */
export function twoProportionZTest(successesA: number, nA: number, successesB: number, nB: number, options: TwoProportionOptions = {}): TwoProportionZTestResult {
  for (const [v, name] of [[nA, 'nA'], [nB, 'nB']] as const) {
    assertCount(v, name)
    if (v === 0) throw new AssayError('ASSAY_STATS_EMPTY_INPUT', `${name} is 0`)
  }
  assertCount(successesA, 'successesA', nA)
  assertCount(successesB, 'successesB', nB)
  const alternative = resolveAlternative(options.alternative)
  const pA = successesA / nA
  const pB = successesB / nB
  const pooled = (successesA + successesB) / (nA + nB)
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / nA + 1 / nB))
  if (!(se > 0)) {
    throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', 'both samples are all 0 or all 1: the pooled standard error is zero', { proportionA: pA, proportionB: pB })
  }
  const z = (pA - pB) / se
  return {
    method: 'Two-proportion z test (pooled standard error)',
    alternative,
    statistic: z,
    pValue: normalPValue(z, alternative),
    estimate: pA - pB,
    proportionA: pA,
    proportionB: pB,
    standardError: se,
    nA,
    nB,
  }
}

function normalPValue(z: number, alternative: Alternative): number {
  if (alternative === 'greater') return clampProbability(normalCdf(-z, 0, 1))
  if (alternative === 'less') return clampProbability(normalCdf(z, 0, 1))
  return clampProbability(2 * normalCdf(-Math.abs(z), 0, 1))
}

export interface ClusteredTwoProportionResult extends TwoProportionZTestResult {
  /** Clusters with at least one observation, over both samples. */
  clusters: number
}

/**
 * Cluster-robust two-proportion test: the difference of the two rates from the regression
 * y = b0 + b1·[sample is a] with the CR1 cluster-robust covariance (statsmodels
 * OLS(y, X).fit(cov_type='cluster', cov_kwds={'groups': clusters}, use_t=False)) and a normal
 * reference. values are 0/1 outcomes; clusters name the unit observations share (a conversation);
 * a cluster id may appear in both samples (one conversation spanning both windows), and is then one
 * cluster. Needs at least two clusters.
 */
export function clusteredTwoProportionTest(
  a: { values: Sample; clusters: readonly (string | number)[] },
  b: { values: Sample; clusters: readonly (string | number)[] },
  options: TwoProportionOptions = {},
): ClusteredTwoProportionResult {
  const alternative = resolveAlternative(options.alternative)
  const sides = [a, b].map((side, s) => {
    const name = s === 0 ? 'a' : 'b'
    if (side === null || typeof side !== 'object') throw new AssayError('ASSAY_INVALID_ARGUMENT', `${name} must be { values, clusters }`)
    assertSample(side.values, `${name}.values`)
    if (!Array.isArray(side.clusters) || side.clusters.length !== side.values.length) {
      throw new AssayError('ASSAY_STATS_LENGTH_MISMATCH', `${name}.clusters must name one cluster per value (${side.values.length})`)
    }
    for (let i = 0; i < side.values.length; i++) {
      if (side.values[i] !== 0 && side.values[i] !== 1) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${name}.values[${i}] is ${side.values[i]}; outcomes must be 0 or 1`)
      const c = side.clusters[i]
      if (typeof c !== 'string' && typeof c !== 'number') throw new AssayError('ASSAY_INVALID_ARGUMENT', `${name}.clusters[${i}] must be a string or a number`)
    }
    return side
  })
  const nA = sides[0].values.length
  const nB = sides[1].values.length
  let sA = 0
  let sB = 0
  for (let i = 0; i < nA; i++) sA += sides[0].values[i]
  for (let i = 0; i < nB; i++) sB += sides[1].values[i]
  const pA = sA / nA
  const pB = sB / nB
  // Score of each cluster: X_g' u_g with X = [1, isA]; b0 = pB, b1 = pA - pB.
  // A Map keeps 1 and '1' apart, as two clusters.
  const scores = new Map<string | number, [number, number]>()
  for (let s = 0; s < 2; s++) {
    const side = sides[s]
    const fitted = s === 0 ? pA : pB
    for (let i = 0; i < side.values.length; i++) {
      const key = side.clusters[i]
      const u = side.values[i] - fitted
      const acc = scores.get(key)
      if (acc === undefined) scores.set(key, [u, s === 0 ? u : 0])
      else {
        acc[0] += u
        if (s === 0) acc[1] += u
      }
    }
  }
  const G = scores.size
  if (G < 2) throw new AssayError('ASSAY_STATS_TOO_FEW_OBSERVATIONS', `a cluster-robust test needs at least 2 clusters, got ${G}`)
  let m00 = 0
  let m01 = 0
  let m11 = 0
  for (const [s0, s1] of scores.values()) {
    m00 += s0 * s0
    m01 += s0 * s1
    m11 += s1 * s1
  }
  // (X'X)^-1 = [[1/nB, -1/nB], [-1/nB, 1/nA + 1/nB]]; Var(b1) = row 2 of it · meat · its column 2.
  const r0 = -1 / nB
  const r1 = 1 / nA + 1 / nB
  const N = nA + nB
  const factor = (G / (G - 1)) * ((N - 1) / (N - 2))
  const variance = factor * (r0 * r0 * m00 + 2 * r0 * r1 * m01 + r1 * r1 * m11)
  const se = Math.sqrt(variance)
  if (!(se > 0)) {
    throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', 'the cluster-robust standard error is zero (every outcome in each sample is the same)', { proportionA: pA, proportionB: pB })
  }
  const z = (pA - pB) / se
  return {
    method: 'Cluster-robust two-proportion z test (CR1)',
    alternative,
    statistic: z,
    pValue: normalPValue(z, alternative),
    estimate: pA - pB,
    proportionA: pA,
    proportionB: pB,
    standardError: se,
    nA,
    nB,
    clusters: G,
  }
}

// ---------------------------------------------------------------- PSI and Jensen–Shannon

/**
 * Counts of x in the bins cut by the increasing cut points c1 < c2 < ... < ck:
 * (-∞, c1), [c1, c2), ..., [ck, +∞), so k cut points make k + 1 bins and no value falls outside.
 */
export function binCounts(x: Sample, cuts: readonly number[]): number[] {
  assertSample(x, 'x')
  assertCuts(cuts)
  const counts = new Array<number>(cuts.length + 1).fill(0)
  for (let i = 0; i < x.length; i++) {
    let lo = 0
    let hi = cuts.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cuts[mid] <= x[i]) lo = mid + 1
      else hi = mid
    }
    counts[lo]++
  }
  return counts
}

function assertCuts(cuts: readonly number[]): void {
  if (!Array.isArray(cuts) || cuts.length === 0) throw new AssayError('ASSAY_STATS_INVALID_OPTION', 'cuts must be a non-empty array of increasing cut points')
  for (let i = 0; i < cuts.length; i++) {
    if (typeof cuts[i] !== 'number' || !Number.isFinite(cuts[i])) throw new AssayError('ASSAY_STATS_INVALID_OPTION', `cuts[${i}] must be a finite number`)
    if (i > 0 && !(cuts[i] > cuts[i - 1])) throw new AssayError('ASSAY_STATS_INVALID_OPTION', `cuts must increase strictly: cuts[${i}] = ${cuts[i]} follows ${cuts[i - 1]}`)
  }
}

export interface PsiOptions {
  /** Floor on each bin's proportion, so an empty bin gives a finite term (default 1e-4). */
  epsilon?: number
}

export interface PsiResult {
  method: 'Population stability index'
  /** Σ (current_i - reference_i) ln(current_i / reference_i) over bins, proportions floored at epsilon. */
  value: number
  /** Each bin's term, in bin order. */
  contributions: number[]
  referenceCounts: number[]
  currentCounts: number[]
  epsilon: number
}

/** Population stability index from the counts of the reference and current windows over the same bins. */
export function populationStabilityIndexFromCounts(reference: readonly number[], current: readonly number[], options: PsiOptions = {}): PsiResult {
  const [p, q] = proportions(reference, current, 'reference', 'current')
  const epsilon = resolveEpsilon(options.epsilon)
  const contributions = p.map((e, i) => {
    const ei = Math.max(e, epsilon)
    const ai = Math.max(q[i], epsilon)
    return (ai - ei) * Math.log(ai / ei)
  })
  return {
    method: 'Population stability index',
    value: contributions.reduce((s, v) => s + v, 0),
    contributions,
    referenceCounts: [...reference],
    currentCounts: [...current],
    epsilon,
  }
}

/** Population stability index of two samples over declared cut points (see binCounts for the bins). */
export function populationStabilityIndex(reference: Sample, current: Sample, cuts: readonly number[], options: PsiOptions = {}): PsiResult & { cuts: number[] } {
  return { ...populationStabilityIndexFromCounts(binCounts(reference, cuts), binCounts(current, cuts), options), cuts: [...cuts] }
}

function resolveEpsilon(epsilon: number | undefined): number {
  const value = epsilon ?? 1e-4
  if (typeof value !== 'number' || !(value > 0 && value < 1)) throw new AssayError('ASSAY_STATS_INVALID_OPTION', `epsilon must be in (0, 1), got ${String(value)}`)
  return value
}

function proportions(a: readonly number[], b: readonly number[], nameA: string, nameB: string): [number[], number[]] {
  for (const [x, name] of [[a, nameA], [b, nameB]] as const) {
    if (!Array.isArray(x) || x.length === 0) throw new AssayError('ASSAY_STATS_EMPTY_INPUT', `${name} must be a non-empty array of counts`)
    x.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new AssayError('ASSAY_STATS_INVALID_COUNT', `${name}[${i}] must be a finite non-negative number, got ${String(v)}`)
    })
  }
  if (a.length !== b.length) throw new AssayError('ASSAY_STATS_LENGTH_MISMATCH', `${nameA} has ${a.length} bins, ${nameB} has ${b.length}`)
  const sa = a.reduce((s, v) => s + v, 0)
  const sb = b.reduce((s, v) => s + v, 0)
  if (!(sa > 0)) throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', `${nameA} has no counts`)
  if (!(sb > 0)) throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', `${nameB} has no counts`)
  return [a.map((v) => v / sa), b.map((v) => v / sb)]
}

export interface JensenShannonResult {
  method: 'Jensen-Shannon divergence (base 2)'
  /** JS divergence in bits, in [0, 1]: ½ KL(p‖m) + ½ KL(q‖m), m = (p + q) / 2. */
  divergence: number
  /** Its square root, the Jensen–Shannon distance: scipy.spatial.distance.jensenshannon(p, q, base=2). */
  distance: number
}

/**
 * Jensen–Shannon divergence of two distributions given as counts (or weights) over the same bins,
 * each normalised to sum to 1. Base 2, so the divergence lies in [0, 1]. SciPy's
 * `jensenshannon(p, q, base=2)` returns the distance, the square root of this divergence.
 */
export function jensenShannon(p: readonly number[], q: readonly number[]): JensenShannonResult {
  const [pp, qq] = proportions(p, q, 'p', 'q')
  let kp = 0
  let kq = 0
  for (let i = 0; i < pp.length; i++) {
    const m = (pp[i] + qq[i]) / 2
    if (pp[i] > 0) kp += pp[i] * Math.log(pp[i] / m)
    if (qq[i] > 0) kq += qq[i] * Math.log(qq[i] / m)
  }
  const divergence = Math.min(1, Math.max(0, (kp + kq) / 2 / Math.LN2))
  return { method: 'Jensen-Shannon divergence (base 2)', divergence, distance: Math.sqrt(divergence) }
}
