import normalQuantile from '@stdlib/stats-base-dists-normal-quantile'
import { AssayError } from '../errors.js'
import { assertProbabilityIn } from './sample-helpers.js'
import { assertSample, resolveAlternative, type Alternative, type Sample } from './validate.js'

/** Spread of a paired difference: give sdDifference directly, or sdA, sdB and their correlation. */
export interface DifferenceSpread {
  sdDifference?: number
  sdA?: number
  sdB?: number
  /** Correlation between the paired scores of A and B, in [-1, 1]. */
  correlation?: number
}

export interface SampleSizePairedOptions extends DifferenceSpread {
  /** Difference to detect (non-zero; its sign is ignored). */
  delta: number
  alpha?: number
  power?: number
  alternative?: Alternative
}

export interface SampleSizeResult {
  method: string
  /** Required size, rounded up. */
  n: number
  /** The unrounded solution. */
  nExact: number
  alpha: number
  power: number
  alternative: Alternative
}

export interface SampleSizePairedResult extends SampleSizeResult {
  delta: number
  sdDifference: number
}

function resolveAlphaPower(alpha: number | undefined, power: number | undefined): { alpha: number; power: number } {
  const a = alpha ?? 0.05
  const p = power ?? 0.8
  assertProbabilityIn(a, 'alpha')
  assertProbabilityIn(p, 'power')
  return { alpha: a, power: p }
}

function resolveSdDifference(spread: DifferenceSpread): number {
  if (spread.sdDifference !== undefined) {
    if (spread.sdA !== undefined || spread.sdB !== undefined || spread.correlation !== undefined) {
      throw new AssayError('ASSAY_STATS_INVALID_OPTION', 'give either sdDifference or sdA, sdB and correlation, not both')
    }
    positive(spread.sdDifference, 'sdDifference')
    return spread.sdDifference
  }
  const { sdA, sdB } = spread
  const correlation = spread.correlation ?? 0
  if (sdA === undefined || sdB === undefined) throw new AssayError('ASSAY_STATS_INVALID_OPTION', 'give sdDifference, or sdA and sdB (and correlation)')
  positive(sdA, 'sdA', true)
  positive(sdB, 'sdB', true)
  if (typeof correlation !== 'number' || !(correlation >= -1 && correlation <= 1)) {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `correlation must be in [-1, 1], got ${String(correlation)}`)
  }
  const variance = sdA * sdA + sdB * sdB - 2 * correlation * sdA * sdB
  if (!(variance > 0)) throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', 'the variance of the difference sdA^2 + sdB^2 - 2 rho sdA sdB is zero')
  return Math.sqrt(variance)
}

function positive(v: unknown, name: string, allowZero = false): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(allowZero ? v >= 0 : v > 0)) {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `${name} must be a finite ${allowZero ? 'non-negative' : 'positive'} number, got ${String(v)}`)
  }
}

function zSum(alpha: number, power: number, alternative: Alternative): number {
  const tails = alternative === 'two-sided' ? 2 : 1
  return -normalQuantile(alpha / tails, 0, 1) + normalQuantile(power, 0, 1)
}

/**
 * Number of paired examples needed to detect a mean difference delta (normal approximation, as in Miller 2024,
 * "Adding Error Bars to Evals"): n = ((z_{1-alpha/2} + z_power) sigma_d / delta)^2, rounded up, with
 * sigma_d^2 = sdA^2 + sdB^2 - 2 rho sdA sdB (or sdDifference given directly). One-sided uses z_{1-alpha}.
 */
export function sampleSizePaired(options: SampleSizePairedOptions): SampleSizePairedResult {
  const { alpha, power } = resolveAlphaPower(options.alpha, options.power)
  const alternative = resolveAlternative(options.alternative)
  const delta = options.delta
  if (typeof delta !== 'number' || !Number.isFinite(delta) || delta === 0) {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `delta must be a finite non-zero number, got ${String(delta)}`)
  }
  const sdDifference = resolveSdDifference(options)
  const nExact = ((zSum(alpha, power, alternative) * sdDifference) / Math.abs(delta)) ** 2
  return {
    method: 'Sample size for a paired mean difference (normal approximation)',
    n: Math.max(1, Math.ceil(nExact)),
    nExact,
    alpha,
    power,
    alternative,
    delta,
    sdDifference,
  }
}

export interface SampleSizeProportionsOptions {
  p1: number
  p2: number
  alpha?: number
  power?: number
  alternative?: Alternative
}

export interface SampleSizeProportionsResult extends SampleSizeResult {
  p1: number
  p2: number
}

/**
 * Examples per group to detect proportions p1 vs p2 with two independent groups, as R's power.prop.test(p1 =, p2 =,
 * power =, sig.level =) (strict = FALSE; one-sided alternatives use alternative = "one.sided"). R solves
 * power = Φ((sqrt(n) |p1 - p2| - z_{1-α/t} sqrt((p1 + p2)(1 - (p1 + p2)/2))) / sqrt(p1 q1 + p2 q2)) for n with uniroot;
 * this solves the same equation in closed form. n is per group, rounded up.
 */
export function sampleSizeProportions(options: SampleSizeProportionsOptions): SampleSizeProportionsResult {
  const { alpha, power } = resolveAlphaPower(options.alpha, options.power)
  const alternative = resolveAlternative(options.alternative)
  const { p1, p2 } = options
  assertProbabilityIn(p1, 'p1')
  assertProbabilityIn(p2, 'p2')
  if (p1 === p2) throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', 'p1 equals p2: no sample size detects a zero difference')
  const tails = alternative === 'two-sided' ? 2 : 1
  const zAlpha = -normalQuantile(alpha / tails, 0, 1)
  const zPower = normalQuantile(power, 0, 1)
  const nExact = ((zAlpha * Math.sqrt((p1 + p2) * (1 - (p1 + p2) / 2)) + zPower * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) / Math.abs(p1 - p2)) ** 2
  return {
    method: 'Sample size per group for two proportions (as R power.prop.test)',
    n: Math.ceil(nExact),
    nExact,
    alpha,
    power,
    alternative,
    p1,
    p2,
  }
}

export interface MinimumDetectableEffectOptions extends DifferenceSpread {
  /** Number of paired examples. */
  n: number
  alpha?: number
  power?: number
  alternative?: Alternative
}

export interface MinimumDetectableEffectResult {
  method: string
  /** Smallest |mean difference| detectable: (z_{1-alpha/2} + z_power) sigma_d / sqrt(n). */
  minimumDetectableEffect: number
  n: number
  sdDifference: number
  alpha: number
  power: number
  alternative: Alternative
}

/** Inverse of sampleSizePaired: the smallest paired mean difference detectable with n examples. */
export function minimumDetectableEffect(options: MinimumDetectableEffectOptions): MinimumDetectableEffectResult {
  const { alpha, power } = resolveAlphaPower(options.alpha, options.power)
  const alternative = resolveAlternative(options.alternative)
  const n = options.n
  if (!Number.isInteger(n) || n < 1) throw new AssayError('ASSAY_STATS_INVALID_COUNT', `n must be a positive integer, got ${String(n)}`)
  const sdDifference = resolveSdDifference(options)
  return {
    method: 'Minimum detectable paired mean difference (normal approximation)',
    minimumDetectableEffect: (zSum(alpha, power, alternative) * sdDifference) / Math.sqrt(n),
    n,
    sdDifference,
    alpha,
    power,
    alternative,
  }
}

export interface SeedsNeededOptions {
  /** Probability of improvement P(A > B) to detect, in (0.5, 1). Default 0.75 (Bouthillier et al. 2021). */
  gamma?: number
  /** One-sided level. Default 0.05. */
  alpha?: number
  /** Default 0.95 (beta = 0.05, Bouthillier et al. 2021). */
  power?: number
}

export interface SeedsNeededResult {
  method: string
  /** Runs (seeds) per group, rounded up. */
  n: number
  nExact: number
  gamma: number
  alpha: number
  power: number
}

/**
 * Runs per group so that a one-sided Mann–Whitney test detects P(A > B) >= gamma (Noether 1987; as used by
 * Bouthillier et al. 2021, "Accounting for variance in machine learning benchmarks"):
 * n >= (z_{1-alpha} + z_power)^2 / (6 (gamma - 1/2)^2). With the defaults (0.75, 0.05, 0.95) n = 29.
 */
export function seedsNeeded(options: SeedsNeededOptions = {}): SeedsNeededResult {
  const gamma = options.gamma ?? 0.75
  if (typeof gamma !== 'number' || !(gamma > 0.5 && gamma < 1)) {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `gamma must be in (0.5, 1), got ${String(gamma)}`)
  }
  const alpha = options.alpha ?? 0.05
  const power = options.power ?? 0.95
  assertProbabilityIn(alpha, 'alpha')
  assertProbabilityIn(power, 'power')
  const z = -normalQuantile(alpha, 0, 1) + normalQuantile(power, 0, 1)
  const nExact = (z * z) / (6 * (gamma - 0.5) ** 2)
  return { method: 'Runs per group to detect P(A > B) >= gamma (Noether 1987)', n: Math.max(1, Math.ceil(nExact)), nExact, gamma, alpha, power }
}

export interface ExpectedMaxPerformanceOptions {
  /** Default true: draws with replacement from the empirical distribution (Dodge et al. 2019, eq. 1–3). */
  replacement?: boolean
}

export interface ExpectedMaxPerformanceResult {
  method: string
  replacement: boolean
  /** Number of draws n. */
  n: number
  /** E[max of k draws] for k = 1..n (curve[k - 1]). */
  curve: number[]
  /** E[max of n draws] = curve[n - 1]. */
  expectedMax: number
  /** Number of scores N. */
  nScores: number
}

/**
 * Expected maximum validation performance of n hyperparameter trials (Dodge et al. 2019, "Show your work").
 * With scores sorted ascending v_(1) <= ... <= v_(N):
 * with replacement E[max_n] = Σ v_(i) [(i/N)^n - ((i-1)/N)^n];
 * without replacement (needs n <= N) E[max_n] = Σ v_(i) C(i-1, n-1) / C(N, n) (hypergeometric form).
 * Returns the whole curve for 1..n and its last value.
 */
export function expectedMaxPerformance(scores: Sample, n: number, options: ExpectedMaxPerformanceOptions = {}): ExpectedMaxPerformanceResult {
  const replacement = options.replacement ?? true
  if (typeof replacement !== 'boolean') throw new AssayError('ASSAY_STATS_INVALID_OPTION', 'replacement must be a boolean')
  assertSample(scores, 'scores')
  const N = scores.length
  if (!Number.isInteger(n) || n < 1) throw new AssayError('ASSAY_STATS_INVALID_COUNT', `n must be a positive integer, got ${String(n)}`)
  if (!replacement && n > N) {
    throw new AssayError('ASSAY_STATS_INVALID_COUNT', `without replacement n (${n}) cannot exceed the number of scores (${N})`)
  }
  const v = Float64Array.from(scores).sort()
  const curve: number[] = []
  for (let k = 1; k <= n; k++) {
    let e = 0
    if (replacement) {
      for (let i = 1; i <= N; i++) e += v[i - 1] * ((i / N) ** k - ((i - 1) / N) ** k)
    } else {
      // r_i = C(i-1, k-1) / C(N, k): r_N = k / N, r_{i-1} = r_i (i - k) / (i - 1); zero for i < k
      let r = k / N
      for (let i = N; i >= k; i--) {
        e += v[i - 1] * r
        r = (r * (i - k)) / (i - 1)
      }
    }
    curve.push(e)
  }
  return {
    method: replacement ? 'Expected maximum of n draws with replacement (Dodge et al. 2019)' : 'Expected maximum of n draws without replacement (Dodge et al. 2019)',
    replacement,
    n,
    curve,
    expectedMax: curve[n - 1],
    nScores: N,
  }
}
