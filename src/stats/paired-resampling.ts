import { AssayError } from '../errors.js'
import { meanUnchecked, QUANTILE_MCSE_METHOD, quantileMonteCarloSE, quantileSorted } from './describe.js'
import { differences, overflowScale } from './paired.js'
import { createRandom } from './random.js'
import {
  clampProbability,
  resolveAlternative,
  resolveConfidenceLevel,
  resolveResamples,
  resolveSeed,
  type Alternative,
  type Sample,
} from './validate.js'

/** Resampling on paired data: sign-flip permutation test and the paired bootstrap. */

export interface PairedPermutationOptions {
  /** Monte Carlo resamples (default 10000); the test is exact when 2^n <= resamples or n <= 10. */
  resamples?: number
  seed?: number
  alternative?: Alternative
}

export interface PairedPermutationResult {
  method: string
  /** mean(a - b). */
  statistic: number
  estimate: number
  pValue: number
  exact: boolean
  /** Monte Carlo standard error of pValue (0 when exact). */
  monteCarloStandardError: number
  n: number
  /** Sign patterns evaluated: 2^n when exact, else the Monte Carlo resamples. */
  resamples: number
  seed: number
  alternative: Alternative
}

const EXACT_MAX_N = 30
const ALWAYS_EXACT_N = 10

/**
 * Paired permutation (sign-flip) test of mean(a - b) = 0, as scipy.stats.permutation_test(
 * (a, b), statistic = mean difference, permutation_type = 'samples'). Exact: p = share of the 2^n sign
 * patterns at least as extreme. Monte Carlo: p = (k + 1) / (B + 1) per side. Two-sided:
 * min(1, 2 min(p_less, p_greater)), as scipy. A null value counts as "as extreme" within a rounding
 * tolerance of 1e-12 * sum|d|.
 */
export function pairedPermutationTest(a: Sample, b: Sample, opts: PairedPermutationOptions = {}): PairedPermutationResult {
  const { d, scale } = scaledDifferences(a, b)
  const alternative = resolveAlternative(opts.alternative)
  const resamplesOpt = resolveResamples(opts.resamples, 10000)
  const seed = resolveSeed(opts.seed)
  const n = d.length
  let observed = 0
  let absSum = 0
  for (let i = 0; i < n; i++) {
    observed += d[i]
    absSum += Math.abs(d[i])
  }
  const gamma = 1e-12 * absSum
  const exact = n <= ALWAYS_EXACT_N || (n <= EXACT_MAX_N && 2 ** n <= resamplesOpt)
  let countGe = 0
  let countLe = 0
  let total: number
  if (exact) {
    ;({ countGe, countLe } = enumerateSignFlips(d, observed, gamma))
    total = 2 ** n
  } else {
    total = resamplesOpt
    ;({ countGe, countLe } = monteCarloSignFlips(d, observed, gamma, total, seed))
  }
  const adjust = exact ? 0 : 1
  const pGreater = (countGe + adjust) / (total + adjust)
  const pLess = (countLe + adjust) / (total + adjust)
  const { pValue, se } = monteCarloPValue(pGreater, pLess, total, alternative)
  return {
    method: exact ? 'Paired permutation test (exact sign-flip enumeration)' : 'Paired permutation test (Monte Carlo sign flips)',
    statistic: (observed / n) * scale,
    estimate: meanUnchecked(d) * scale,
    pValue: clampProbability(pValue),
    exact,
    monteCarloStandardError: exact ? 0 : se,
    n,
    resamples: total,
    seed,
    alternative,
  }
}

/**
 * All 2^n signed sums, split in two halves so that each sum is one addition of two directly computed
 * partial sums (no drift from incremental updates).
 */
function enumerateSignFlips(d: Float64Array, observed: number, gamma: number): { countGe: number; countLe: number } {
  const n = d.length
  const nLeft = n >> 1
  const left = signedSums(d, 0, nLeft)
  const right = signedSums(d, nLeft, n)
  const lo = observed - gamma
  const hi = observed + gamma
  let countGe = 0
  let countLe = 0
  for (let i = 0; i < left.length; i++) {
    const l = left[i]
    for (let j = 0; j < right.length; j++) {
      const s = l + right[j]
      if (s >= lo) countGe++
      if (s <= hi) countLe++
    }
  }
  return { countGe, countLe }
}

function signedSums(d: Float64Array, from: number, to: number): Float64Array {
  const m = to - from
  const out = new Float64Array(2 ** m)
  for (let mask = 0; mask < out.length; mask++) {
    let s = 0
    for (let i = 0; i < m; i++) s += (mask >>> i) & 1 ? -d[from + i] : d[from + i]
    out[mask] = s
  }
  return out
}

/**
 * The hot loops below run xoshiro128** inline (no closure call per draw). Its 128-bit state is the first
 * four outputs of createRandom(seed), so results are still a pure function of the seed.
 */
function initialState(seed: number): Int32Array {
  const rng = createRandom(seed)
  const state = new Int32Array(4)
  for (let i = 0; i < 4; i++) state[i] = rng.nextUint32() | 0
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1
  return state
}

/**
 * Monte Carlo sign flips. The differences are cut into blocks of 4 whose 16 signed partial sums are
 * tabulated once, so each resample costs n / 4 table look-ups driven by 4 random bits each.
 */
function monteCarloSignFlips(
  d: Float64Array,
  observed: number,
  gamma: number,
  resamples: number,
  seed: number,
): { countGe: number; countLe: number } {
  const n = d.length
  const blocks = Math.ceil(n / 4)
  const table = new Float64Array(blocks * 16)
  for (let k = 0; k < blocks; k++) {
    for (let mask = 0; mask < 16; mask++) {
      let s = 0
      for (let j = 0; j < 4; j++) {
        const i = 4 * k + j
        if (i < n) s += (mask >>> j) & 1 ? -d[i] : d[i]
      }
      table[16 * k + mask] = s
    }
  }
  const state = initialState(seed)
  let s0 = state[0]
  let s1 = state[1]
  let s2 = state[2]
  let s3 = state[3]
  const lo = observed - gamma
  const hi = observed + gamma
  let countGe = 0
  let countLe = 0
  for (let r = 0; r < resamples; r++) {
    let sum = 0
    let bits = 0
    for (let k = 0; k < blocks; k++) {
      if ((k & 7) === 0) {
        // xoshiro128**: one 32-bit output feeds 8 blocks of 4 signs.
        bits = Math.imul(rotl(Math.imul(s1, 5), 7), 9)
        const t = s1 << 9
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = (s3 << 11) | (s3 >>> 21)
      }
      sum += table[(k << 4) | (bits & 15)]
      bits >>>= 4
    }
    if (sum >= lo) countGe++
    if (sum <= hi) countLe++
  }
  return { countGe, countLe }
}

/**
 * Bootstrap means of d: each resample sums d at n uniform indices drawn with Lemire's unbiased
 * multiply-and-reject. For n <= 2^15 one 32-bit output yields two 16-bit draws (all-integer arithmetic).
 */
function bootstrapMeans(d: Float64Array, seed: number, out: Float64Array): void {
  const n = d.length
  const resamples = out.length
  const state = initialState(seed)
  let s0 = state[0]
  let s1 = state[1]
  let s2 = state[2]
  let s3 = state[3]
  if (n <= 32768) {
    const threshold = (65536 - n) % n
    for (let r = 0; r < resamples; r++) {
      let sum = 0
      let i = 0
      while (i < n) {
        const x = Math.imul(rotl(Math.imul(s1, 5), 7), 9)
        const t = s1 << 9
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = (s3 << 11) | (s3 >>> 21)
        // Two 16-bit draws per output; m < 2^31, so this is exact small-integer arithmetic.
        const m1 = (x & 0xffff) * n
        if ((m1 & 0xffff) >= threshold) {
          sum += d[m1 >>> 16]
          i++
        }
        if (i < n) {
          const m2 = (x >>> 16) * n
          if ((m2 & 0xffff) >= threshold) {
            sum += d[m2 >>> 16]
            i++
          }
        }
      }
      out[r] = sum / n
    }
    return
  }
  if (n >= 2097152) {
    // x * n must stay below 2^53 for the double-based path; very large samples use the generic generator.
    const rng = createRandom(seed)
    for (let r = 0; r < resamples; r++) {
      let sum = 0
      for (let i = 0; i < n; i++) sum += d[rng.nextInt(n)]
      out[r] = sum / n
    }
    return
  }
  const threshold = (4294967296 - n) % n
  for (let r = 0; r < resamples; r++) {
    let sum = 0
    for (let i = 0; i < n; ) {
      const x = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
      const t = s1 << 9
      s2 ^= s0
      s3 ^= s1
      s1 ^= s2
      s0 ^= s3
      s2 ^= t
      s3 = (s3 << 11) | (s3 >>> 21)
      const m = x * n
      const index = Math.floor(m * 2.3283064365386963e-10)
      if (m - index * 4294967296 >= threshold) {
        sum += d[index]
        i++
      }
    }
    out[r] = sum / n
  }
}

/**
 * A resampler of indices for loops that need the drawn values themselves (the studentized
 * bootstrap needs each resample's spread, not only its mean): each call fills `out` with uniform
 * indices in [0, n), xoshiro128** inline as above, so results are a pure function of the seed.
 */
export function indexResampler(seed: number, n: number): (out: Uint32Array) => void {
  if (n >= 2097152) {
    // x * n must stay below 2^53 for the double-based path; very large samples use the generic generator.
    const rng = createRandom(seed)
    return (out) => {
      for (let i = 0; i < out.length; i++) out[i] = rng.nextInt(n)
    }
  }
  const state = initialState(seed)
  const threshold = (4294967296 - n) % n
  return (out) => {
    let s0 = state[0]
    let s1 = state[1]
    let s2 = state[2]
    let s3 = state[3]
    for (let i = 0; i < out.length; ) {
      const x = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
      const t = s1 << 9
      s2 ^= s0
      s3 ^= s1
      s1 ^= s2
      s0 ^= s3
      s2 ^= t
      s3 = (s3 << 11) | (s3 >>> 21)
      const m = x * n
      const index = Math.floor(m * 2.3283064365386963e-10)
      if (m - index * 4294967296 >= threshold) out[i++] = index
    }
    state[0] = s0
    state[1] = s1
    state[2] = s2
    state[3] = s3
  }
}

export interface ResampledMoments {
  /** Mean of each resample. */
  means: Float64Array
  /** Standard deviation (n − 1 denominator) of each resample; 0 for a resample without spread. */
  sds: Float64Array
}

/**
 * Bootstrap resamples of the mean and standard deviation of several samples of one length n, in
 * one pass per resample and sample. Resample r draws ONE set of n indices (`indexResampler(seed, n)`)
 * and applies it to every sample, so each sample's moments are exactly those of a call with that
 * sample alone; the draws are counted into weights w (how often each index was drawn), and each
 * sample then needs only s = Σ w·e and q = Σ w·e² over its shifted values e = x − K:
 * mean = K + s / n, sum of squared deviations q − s² / n.
 *
 * The shift: the sample mean (K near every resample's mean, so q − s² / n does not cancel), or 0
 * when at least half the values are exactly 0, where only the non-zero values are summed (0/1 score
 * differences: their sums are exact integers). A sum of squared deviations below n·ε·q is rounding,
 * not spread, and counts as 0 (a resample of one repeated value).
 */
export function resampledMoments(samples: readonly Float64Array[], options: { resamples: number; seed: number }): ResampledMoments[] {
  const { resamples, seed } = options
  if (samples.length === 0) return []
  const n = samples[0].length
  for (const x of samples) {
    if (x.length !== n) throw new AssayError('ASSAY_STATS_LENGTH_MISMATCH', `resampledMoments needs samples of one length, got ${n} and ${x.length}`)
  }
  if (n < 1) throw new AssayError('ASSAY_STATS_TOO_FEW_OBSERVATIONS', 'resampledMoments needs at least one value per sample')
  const shifted = samples.map(shiftedValues)
  const results = samples.map(() => ({ means: new Float64Array(resamples), sds: new Float64Array(resamples) }))
  const resample = indexResampler(seed, n)
  const indices = new Uint32Array(n)
  const weights = new Float64Array(n)
  const roundoff = n * Number.EPSILON
  const sums = new Float64Array(2)
  for (let r = 0; r < resamples; r++) {
    resample(indices)
    weights.fill(0)
    for (let i = 0; i < n; i++) weights[indices[i]]++
    for (let k = 0; k < shifted.length; k++) {
      const { shift, positions, values } = shifted[k]
      if (positions === null) weightedSums(weights, values, sums)
      else sparseWeightedSums(weights, positions, values, sums)
      const s = sums[0]
      const q = sums[1]
      const ss = q - (s * s) / n
      results[k].means[r] = shift + s / n
      results[k].sds[r] = n > 1 && ss > roundoff * q ? Math.sqrt(ss / (n - 1)) : 0
    }
  }
  return results
}

interface ShiftedSample {
  shift: number
  /** Indices of the non-zero values when at least half are 0 (shift 0), else null (every value, in order). */
  positions: Uint32Array | null
  values: Float64Array
}

function shiftedValues(x: Float64Array): ShiftedSample {
  const n = x.length
  let zeros = 0
  for (let i = 0; i < n; i++) if (x[i] === 0) zeros++
  if (2 * zeros >= n) {
    const positions = new Uint32Array(n - zeros)
    const values = new Float64Array(n - zeros)
    let j = 0
    for (let i = 0; i < n; i++) {
      if (x[i] === 0) continue
      positions[j] = i
      values[j++] = x[i]
    }
    return { shift: 0, positions, values }
  }
  const shift = meanUnchecked(x)
  const values = new Float64Array(n)
  for (let i = 0; i < n; i++) values[i] = x[i] - shift
  return { shift, positions: null, values }
}

// The two loops below keep four pairs of accumulators: one pair is bound by the latency of its
// additions, four let them overlap (about twice as fast at n = 10,000). They differ only in how
// they find a value's weight; the dense one has no index array because reading one costs it 1.7×.
function weightedSums(w: Float64Array, e: Float64Array, out: Float64Array): void {
  const n = e.length
  const end = n - (n & 3)
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  let q0 = 0
  let q1 = 0
  let q2 = 0
  let q3 = 0
  let i = 0
  for (; i < end; i += 4) {
    const e0 = e[i]
    const e1 = e[i + 1]
    const e2 = e[i + 2]
    const e3 = e[i + 3]
    const a0 = w[i] * e0
    const a1 = w[i + 1] * e1
    const a2 = w[i + 2] * e2
    const a3 = w[i + 3] * e3
    s0 += a0
    s1 += a1
    s2 += a2
    s3 += a3
    q0 += a0 * e0
    q1 += a1 * e1
    q2 += a2 * e2
    q3 += a3 * e3
  }
  for (; i < n; i++) {
    const a = w[i] * e[i]
    s0 += a
    q0 += a * e[i]
  }
  out[0] = s0 + s1 + (s2 + s3)
  out[1] = q0 + q1 + (q2 + q3)
}

function sparseWeightedSums(w: Float64Array, positions: Uint32Array, v: Float64Array, out: Float64Array): void {
  const m = v.length
  const end = m - (m & 3)
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  let q0 = 0
  let q1 = 0
  let q2 = 0
  let q3 = 0
  let j = 0
  for (; j < end; j += 4) {
    const v0 = v[j]
    const v1 = v[j + 1]
    const v2 = v[j + 2]
    const v3 = v[j + 3]
    const a0 = w[positions[j]] * v0
    const a1 = w[positions[j + 1]] * v1
    const a2 = w[positions[j + 2]] * v2
    const a3 = w[positions[j + 3]] * v3
    s0 += a0
    s1 += a1
    s2 += a2
    s3 += a3
    q0 += a0 * v0
    q1 += a1 * v1
    q2 += a2 * v2
    q3 += a3 * v3
  }
  for (; j < m; j++) {
    const a = w[positions[j]] * v[j]
    s0 += a
    q0 += a * v[j]
  }
  out[0] = s0 + s1 + (s2 + s3)
  out[1] = q0 + q1 + (q2 + q3)
}

/**
 * d = a - b, or, when some difference is huge or overflows (finite values near ±1.8e308), d = a / 2^k - b / 2^k
 * (exact) with scale = 2^k: sums of d then stay finite, counts and p-values do not depend on the scale, and
 * location results are multiplied back by it.
 */
function scaledDifferences(a: Sample, b: Sample): { d: Float64Array; scale: number } {
  const d = differences(a, b)
  const scale = overflowScale(d, a, b)
  if (scale !== 1) for (let i = 0; i < d.length; i++) d[i] = a[i] / scale - b[i] / scale
  return { d, scale }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

export interface PairedBootstrapOptions {
  /** Default 10000. */
  resamples?: number
  seed?: number
  confidenceLevel?: number
  alternative?: Alternative
}

export interface PairedBootstrapResult {
  method: 'Paired bootstrap'
  /** mean(a) - mean(b), computed as mean(a - b). */
  estimate: number
  /** Percentile interval of the bootstrap distribution of the mean difference (one-sided for one-sided alternatives). */
  ci: [number, number]
  /** Standard deviation of the bootstrap distribution. */
  standardError: number
  /** Estimated Monte Carlo standard error of each end of `ci` (0 for an open end), by `ciMonteCarloMethod`. */
  ciMonteCarloStandardError: [number, number]
  ciMonteCarloMethod: string
  /** Percentile-inversion bootstrap p-value, (k + 1) / (B + 1) per side; see docs/stats.md. */
  pValue: number
  monteCarloStandardError: number
  n: number
  resamples: number
  seed: number
  confidenceLevel: number
  alternative: Alternative
}

/**
 * Needs n >= 2 (ASSAY_STATS_TOO_FEW_OBSERVATIONS); every difference equal and non-zero is
 * ASSAY_STATS_DEGENERATE_INPUT; every difference 0 gives p = 1 and ci [0, 0].
 * Paired bootstrap of the mean difference: each resample draws ONE set of n example indices shared by both
 * arms (so the pairing is kept), i.e. it resamples d = a - b. p-value: with k_le = #{mean* <= 0} and
 * k_ge = #{mean* >= 0}, 'greater' p = (k_le + 1) / (B + 1), 'less' p = (k_ge + 1) / (B + 1), two-sided
 * p = min(1, 2 min of the two): the smallest level at which the percentile interval excludes 0.
 */
export function pairedBootstrap(a: Sample, b: Sample, opts: PairedBootstrapOptions = {}): PairedBootstrapResult {
  const { d, scale } = scaledDifferences(a, b)
  const alternative = resolveAlternative(opts.alternative)
  const confidenceLevel = resolveConfidenceLevel(opts.confidenceLevel)
  const resamples = resolveResamples(opts.resamples, 10000)
  const seed = resolveSeed(opts.seed)
  const n = d.length
  // With one pair, or pairs that all differ by the same non-zero amount, every resample equals the
  // observed mean: the bootstrap distribution is a point mass away from 0 and its p-value would be
  // the smallest possible, 1 / (B + 1), "significant" from no evidence of spread at all.
  if (n < 2) throw new AssayError('ASSAY_STATS_TOO_FEW_OBSERVATIONS', `the paired bootstrap needs at least 2 pairs, got ${n}`)
  let constant = true
  for (let i = 1; i < n && constant; i++) constant = d[i] === d[0]
  if (constant && d[0] !== 0) {
    throw new AssayError(
      'ASSAY_STATS_DEGENERATE_INPUT',
      `every paired difference is ${d[0] * scale}: the bootstrap distribution is a single point, so it gives no p-value or interval (an exact sign test does: p = 2^-n one-sided)`,
    )
  }
  const means = new Float64Array(resamples)
  bootstrapMeans(d, seed, means)
  let kLe = 0
  let kGe = 0
  for (let r = 0; r < resamples; r++) {
    if (means[r] <= 0) kLe++
    if (means[r] >= 0) kGe++
  }
  const estimate = meanUnchecked(d) * scale
  const bootMean = meanUnchecked(means)
  let ss = 0
  for (let r = 0; r < resamples; r++) ss += (means[r] - bootMean) ** 2
  means.sort()
  let ci: [number, number]
  let ciSE: [number, number]
  if (alternative === 'two-sided') {
    const alpha = (1 - confidenceLevel) / 2
    ci = [quantileSorted(means, alpha), quantileSorted(means, 1 - alpha)]
    ciSE = [quantileMonteCarloSE(means, alpha), quantileMonteCarloSE(means, 1 - alpha)]
  } else if (alternative === 'greater') {
    ci = [quantileSorted(means, 1 - confidenceLevel), Infinity]
    ciSE = [quantileMonteCarloSE(means, 1 - confidenceLevel), 0]
  } else {
    ci = [-Infinity, quantileSorted(means, confidenceLevel)]
    ciSE = [0, quantileMonteCarloSE(means, confidenceLevel)]
  }
  const pGreater = (kLe + 1) / (resamples + 1)
  const pLess = (kGe + 1) / (resamples + 1)
  const { pValue, se } = monteCarloPValue(pGreater, pLess, resamples, alternative)
  return {
    method: 'Paired bootstrap',
    estimate,
    ci: [ci[0] * scale, ci[1] * scale],
    standardError: (resamples > 1 ? Math.sqrt(ss / (resamples - 1)) : 0) * scale,
    ciMonteCarloStandardError: [ciSE[0] * scale, ciSE[1] * scale],
    ciMonteCarloMethod: QUANTILE_MCSE_METHOD,
    pValue: clampProbability(pValue),
    monteCarloStandardError: se,
    n,
    resamples,
    seed,
    confidenceLevel,
    alternative,
  }
}

/** The p-value for the alternative from both one-sided Monte Carlo proportions, with its binomial standard error. */
function monteCarloPValue(pGreater: number, pLess: number, draws: number, alternative: Alternative): { pValue: number; se: number } {
  if (alternative === 'greater') return { pValue: pGreater, se: Math.sqrt((pGreater * (1 - pGreater)) / draws) }
  if (alternative === 'less') return { pValue: pLess, se: Math.sqrt((pLess * (1 - pLess)) / draws) }
  const side = Math.min(pGreater, pLess)
  return { pValue: Math.min(1, 2 * side), se: 2 * Math.sqrt((side * (1 - side)) / draws) }
}
