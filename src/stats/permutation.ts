import { AssayError } from '../errors.js'
import { createRandom } from './random.js'
import { toFloat64 } from './sample-helpers.js'
import { assertSample, clampProbability, resolveAlternative, resolveResamples, resolveSeed, type Alternative, type Sample } from './validate.js'

/** A statistic of two groups; larger means "a is larger". */
export type TwoSampleStatistic = 'mean-difference' | 'median-difference' | ((a: Float64Array, b: Float64Array) => number)

export interface PermutationTestOptions {
  /** Maximum number of splits: exact enumeration when C(nA + nB, nA) <= resamples, else this many random splits. Default 10000. */
  resamples?: number
  seed?: number
  alternative?: Alternative
  /** Default 'mean-difference' (mean(a) - mean(b)). A function must be pure and return a finite number. */
  statistic?: TwoSampleStatistic
  /** Name recorded for a custom statistic function (default: the function's name, or 'custom'). */
  statisticName?: string
}

export interface PermutationTestResult {
  method: string
  alternative: Alternative
  statisticName: string
  /** Observed statistic (for the default, mean(a) - mean(b)). */
  statistic: number
  /** Same as statistic: the two-sample estimate, a minus b. */
  estimate: number
  pValue: number
  /** True when every split was enumerated (p-value exact); false for Monte Carlo. */
  exact: boolean
  /** Splits evaluated: all C(nA + nB, nA) when exact, else the requested Monte Carlo resamples (as pairedPermutationTest). */
  resamples: number
  seed: number
  /** Monte Carlo: sqrt(p(1 - p) / B) one-sided, 2 sqrt(s(1 - s) / B) two-sided with s = min(p_less, p_greater); 0 when exact. */
  monteCarloStandardError: number
  nA: number
  nB: number
}

/**
 * Two-sample permutation test (exchangeability of group labels).
 *
 * p-values follow scipy.stats.permutation_test(permutation_type='independent'): one-sided p counts splits whose
 * statistic is at least as extreme (with a relative tolerance of 100 ulp so floating-point ties count), two-sided
 * p = min(1, 2 min(p_less, p_greater)). Exact enumeration divides by the number of splits; Monte Carlo uses
 * p = (k + 1) / (B + 1) (Phipson & Smyth 2010), never 0. The generator is assay's seeded xoshiro128**.
 */
export function permutationTest(a: Sample, b: Sample, options: PermutationTestOptions = {}): PermutationTestResult {
  const alternative = resolveAlternative(options.alternative)
  const resamples = resolveResamples(options.resamples, 10000)
  const seed = resolveSeed(options.seed)
  assertSample(a, 'a')
  assertSample(b, 'b')
  const x = toFloat64(a)
  const y = toFloat64(b)
  const nA = x.length
  const nB = y.length
  const { fn, name } = resolveStatistic(options.statistic, options.statisticName)
  const pooled = new Float64Array(nA + nB)
  pooled.set(x, 0)
  pooled.set(y, nA)
  const observed = fn(x, y)
  if (!Number.isFinite(observed)) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'the statistic returned a non-finite value')
  const gamma = Math.abs(observed * Number.EPSILON * 100)

  let countLess = 0
  let countGreater = 0
  let evaluated = 0
  const tally = (value: number): void => {
    if (!Number.isFinite(value)) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'the statistic returned a non-finite value')
    if (value <= observed + gamma) countLess++
    if (value >= observed - gamma) countGreater++
    evaluated++
  }

  const splits = binomialUpTo(nA + nB, nA, resamples)
  const exact = splits <= resamples
  const ga = new Float64Array(nA)
  const gb = new Float64Array(nB)
  if (exact) {
    // Enumerate every subset of size nA (lexicographic index combinations).
    const N = nA + nB
    const idx = Array.from({ length: nA }, (_, i) => i)
    const inA = new Uint8Array(N)
    for (;;) {
      inA.fill(0)
      for (let i = 0; i < nA; i++) inA[idx[i]] = 1
      let ia = 0
      let ib = 0
      for (let k = 0; k < N; k++) {
        if (inA[k]) ga[ia++] = pooled[k]
        else gb[ib++] = pooled[k]
      }
      tally(fn(ga, gb))
      let i = nA - 1
      while (i >= 0 && idx[i] === N - nA + i) i--
      if (i < 0) break
      idx[i]++
      for (let j = i + 1; j < nA; j++) idx[j] = idx[j - 1] + 1
    }
  } else {
    const rng = createRandom(seed)
    const work = Float64Array.from(pooled)
    const N = work.length
    for (let r = 0; r < resamples; r++) {
      // partial Fisher–Yates: the first nA positions become group a
      for (let i = 0; i < nA; i++) {
        const j = i + rng.nextInt(N - i)
        const t = work[i]
        work[i] = work[j]
        work[j] = t
      }
      ga.set(work.subarray(0, nA))
      gb.set(work.subarray(nA))
      tally(fn(ga, gb))
    }
  }
  const adjust = exact ? 0 : 1
  const pLess = (countLess + adjust) / (evaluated + adjust)
  const pGreater = (countGreater + adjust) / (evaluated + adjust)
  const side = alternative === 'less' ? pLess : alternative === 'greater' ? pGreater : Math.min(pLess, pGreater)
  const tails = alternative === 'two-sided' ? 2 : 1
  const pValue = clampProbability(tails * side)
  return {
    method: exact ? 'Two-sample permutation test (exact enumeration)' : 'Two-sample permutation test (Monte Carlo)',
    alternative,
    statisticName: name,
    statistic: observed,
    estimate: observed,
    pValue,
    exact,
    resamples: evaluated,
    seed,
    monteCarloStandardError: exact ? 0 : tails * Math.sqrt((side * (1 - side)) / evaluated),
    nA,
    nB,
  }
}

function resolveStatistic(statistic: TwoSampleStatistic | undefined, statisticName: string | undefined) {
  const s = statistic ?? 'mean-difference'
  if (s === 'mean-difference') return { fn: meanDifference, name: 'difference in means' }
  if (s === 'median-difference') return { fn: medianDifference, name: 'difference in medians' }
  if (typeof s === 'function') return { fn: s, name: statisticName ?? (s.name || 'custom') }
  throw new AssayError('ASSAY_STATS_INVALID_OPTION', `statistic must be 'mean-difference', 'median-difference' or a function, got ${String(s)}`)
}

function meanDifference(a: Float64Array, b: Float64Array): number {
  let sa = 0
  for (let i = 0; i < a.length; i++) sa += a[i]
  let sb = 0
  for (let i = 0; i < b.length; i++) sb += b[i]
  return sa / a.length - sb / b.length
}

function medianDifference(a: Float64Array, b: Float64Array): number {
  return median(a) - median(b)
}

function median(v: Float64Array): number {
  const s = Float64Array.from(v).sort()
  const h = s.length >> 1
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2
}

/** C(n, k), or limit + 1 as soon as it exceeds limit. */
function binomialUpTo(n: number, k: number, limit: number): number {
  k = Math.min(k, n - k)
  let c = 1
  for (let i = 1; i <= k; i++) {
    c = (c * (n - k + i)) / i
    if (c > limit) return limit + 1
  }
  return Math.round(c)
}
