import normalQuantile from '@stdlib/stats-base-dists-normal-quantile'
import { AssayError } from '../errors.js'
import { QUANTILE_MCSE_METHOD, quantileMonteCarloSE } from './describe.js'
import { createRandom, type RandomGenerator } from './random.js'
import { lowerBound, upperBound } from './sample-helpers.js'
import { assertSample, resolveConfidenceLevel, resolveResamples, resolveSeed, type Sample } from './validate.js'

export interface ProbabilityOfImprovementOptions {
  /** Bootstrap resamples for the interval (default 2000). */
  resamples?: number
  seed?: number
  confidenceLevel?: number
}

export interface ProbabilityOfImprovementResult {
  method: string
  /** P(A > B) + 0.5 P(A = B) over all pairs = U / (nA nB). */
  estimate: number
  /** Percentile bootstrap interval, resampling each group independently with replacement. */
  ci: [number, number]
  /** Standard deviation of the bootstrap replicates. */
  standardError: number
  /** Estimated Monte Carlo standard error of each end of `ci`, by `ciMonteCarloMethod`. */
  ciMonteCarloStandardError: [number, number]
  ciMonteCarloMethod: string
  confidenceLevel: number
  resamples: number
  seed: number
  nA: number
  nB: number
}

/**
 * Probability of improvement P(A > B) with ties counted one half: U / (nA nB), where U is the Mann–Whitney U of a
 * (R's W). For one task this equals rliable's probability_of_improvement (Agarwal et al. 2021), which is
 * scipy.stats.mannwhitneyu(x, y).statistic / (n m) averaged over tasks. The interval is a percentile bootstrap
 * (linear interpolation between order statistics, numpy's default) resampling a and b independently, as rliable's
 * bootstrap does for a single task. P(A > B) + P(B > A) = 1.
 */
export function probabilityOfImprovement(a: Sample, b: Sample, options: ProbabilityOfImprovementOptions = {}): ProbabilityOfImprovementResult {
  const confidenceLevel = resolveConfidenceLevel(options.confidenceLevel)
  const resamples = resolveResamples(options.resamples, 2000)
  const seed = resolveSeed(options.seed)
  assertSample(a, 'a')
  assertSample(b, 'b')
  const nA = a.length
  const nB = b.length
  const x = Float64Array.from(a)
  const y = Float64Array.from(b).sort()
  const estimate = improvement(x, y)
  const rng = createRandom(seed)
  const reps = new Float64Array(resamples)
  const xs = new Float64Array(nA)
  const ys = new Float64Array(nB)
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < nA; i++) xs[i] = x[rng.nextInt(nA)]
    for (let j = 0; j < nB; j++) ys[j] = y[rng.nextInt(nB)]
    ys.sort()
    reps[r] = improvement(xs, ys)
  }
  reps.sort()
  const alpha = 1 - confidenceLevel
  let m = 0
  for (const v of reps) m += v
  m /= resamples
  let ss = 0
  for (const v of reps) ss += (v - m) ** 2
  return {
    method: 'Probability of improvement P(A > B) + 0.5 P(A = B), percentile bootstrap interval',
    estimate,
    ci: [percentileSorted(reps, alpha / 2), percentileSorted(reps, 1 - alpha / 2)],
    standardError: resamples > 1 ? Math.sqrt(ss / (resamples - 1)) : 0,
    ciMonteCarloStandardError: [quantileMonteCarloSE(reps, alpha / 2), quantileMonteCarloSE(reps, 1 - alpha / 2)],
    ciMonteCarloMethod: QUANTILE_MCSE_METHOD,
    confidenceLevel,
    resamples,
    seed,
    nA,
    nB,
  }
}

function improvement(x: Float64Array, sortedY: Float64Array): number {
  let u = 0
  for (let i = 0; i < x.length; i++) {
    const below = lowerBound(sortedY, x[i])
    const atOrBelow = upperBound(sortedY, x[i])
    u += below + 0.5 * (atOrBelow - below)
  }
  return u / (x.length * sortedY.length)
}

/** numpy.percentile default (linear, R type 7) on a sorted array. */
function percentileSorted(s: Float64Array, p: number): number {
  const h = (s.length - 1) * p
  const lo = Math.floor(h)
  const hi = Math.min(lo + 1, s.length - 1)
  return s[lo] + (h - lo) * (s[hi] - s[lo])
}

export interface AlmostStochasticOrderOptions {
  /** Confidence level of the upper bound (default 0.95). */
  confidenceLevel?: number
  /** Bootstrap iterations for the standard deviation (default 1000). */
  resamples?: number
  seed?: number
  /** Number of comparisons in the family; the confidence level is Bonferroni-corrected to 1 - (1 - level) / m. Default 1. */
  numComparisons?: number
  /** Step of the quantile grid used for the integrals (default 0.005, as deepsig). */
  dt?: number
  /** Decision threshold tau: a is declared almost stochastically dominant when epsilonMin < threshold (default 0.2). */
  threshold?: number
}

export interface AlmostStochasticOrderResult {
  method: string
  /** epsilon_min: upper confidence bound on the violation ratio; small means a dominates b. */
  epsilonMin: number
  /** Plug-in violation ratio epsilon_W2(F_a, F_b) of the observed samples, in [0, 1]. */
  violationRatio: number
  /** sigma-hat: bootstrap standard deviation of sqrt(nA nB / (nA + nB)) (epsilon* - epsilon). */
  bootstrapSigma: number
  /**
   * Estimated Monte Carlo standard error of epsilonMin: its only Monte Carlo part is sigma-hat, whose standard
   * error from B replicates is about sigma-hat / sqrt(2 B) (normal approximation), times |z| / sqrt(nA nB / (nA + nB));
   * 0 when epsilonMin is clipped at 0 or 1.
   */
  epsilonMinMonteCarloStandardError: number
  /** epsilonMin < threshold. */
  aDominates: boolean
  threshold: number
  confidenceLevel: number
  /** 1 - (1 - confidenceLevel) / numComparisons. */
  correctedConfidenceLevel: number
  numComparisons: number
  dt: number
  resamples: number
  seed: number
  nA: number
  nB: number
}

/**
 * Almost stochastic order (del Barrio et al. 2018; Dror et al. 2019) as implemented by deepsig's aso()
 * (Ulmer et al. 2022): the violation ratio
 *   epsilon_W2 = ∫ max(F_b^-1(t) - F_a^-1(t), 0)^2 dt / ∫ (F_b^-1(t) - F_a^-1(t))^2 dt
 * on the grid t = 0, dt, 2dt, ... < 1 with the empirical quantile function F^-1(t) = x_(max(1, ceil(n t))),
 * and epsilon_min = epsilon-hat + sigma-hat / sqrt(nA nB / (nA + nB)) * z_{1 - alpha'} clipped to [0, 1], where sigma-hat
 * comes from bootstrap replicates that redraw nA and nB scores from the empirical quantile functions (resampling with
 * replacement at the original sizes) and alpha' = (1 - confidenceLevel) / numComparisons (Bonferroni).
 * epsilon_min < 0.2 (Ulmer et al.'s recommended threshold) ⇒ a is almost stochastically dominant over b (higher is better).
 * A bootstrap replicate whose two quantile functions coincide gets ratio 0.5; identical observed samples throw
 * ASSAY_STATS_DEGENERATE_INPUT.
 */
export function almostStochasticOrder(a: Sample, b: Sample, options: AlmostStochasticOrderOptions = {}): AlmostStochasticOrderResult {
  const confidenceLevel = resolveConfidenceLevel(options.confidenceLevel)
  const resamples = resolveResamples(options.resamples, 1000)
  const seed = resolveSeed(options.seed)
  const numComparisons = options.numComparisons ?? 1
  if (!Number.isInteger(numComparisons) || numComparisons < 1) {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `numComparisons must be a positive integer, got ${String(numComparisons)}`)
  }
  const dt = options.dt ?? 0.005
  if (typeof dt !== 'number' || !(dt > 0 && dt <= 0.5)) throw new AssayError('ASSAY_STATS_INVALID_OPTION', `dt must be in (0, 0.5], got ${String(dt)}`)
  const threshold = options.threshold ?? 0.2
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 0.5)) {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `threshold must be in (0, 0.5], got ${String(threshold)}`)
  }
  assertSample(a, 'a')
  assertSample(b, 'b')
  const nA = a.length
  const nB = b.length
  const sa = Float64Array.from(a).sort()
  const sb = Float64Array.from(b).sort()
  const observed = violationRatio(sa, sb, dt)
  if (observed === undefined) {
    throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', 'the two samples have the same quantile function: the violation ratio is undefined')
  }
  const rng: RandomGenerator = createRandom(seed)
  const c = Math.sqrt((nA * nB) / (nA + nB))
  const xs = new Float64Array(nA)
  const ys = new Float64Array(nB)
  let sum = 0
  let sumSq = 0
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < nA; i++) xs[i] = sa[rng.nextInt(nA)]
    for (let j = 0; j < nB; j++) ys[j] = sb[rng.nextInt(nB)]
    xs.sort()
    ys.sort()
    const v = c * ((violationRatio(xs, ys, dt) ?? 0.5) - observed)
    sum += v
    sumSq += v * v
  }
  const meanV = sum / resamples
  const bootstrapSigma = Math.sqrt(Math.max(0, sumSq / resamples - meanV * meanV))
  const correctedConfidenceLevel = 1 - (1 - confidenceLevel) / numComparisons
  const raw = observed - (bootstrapSigma / c) * normalQuantile(1 - correctedConfidenceLevel, 0, 1)
  const epsilonMin = Math.min(Math.max(raw, 0), 1)
  const z = Math.abs(normalQuantile(1 - correctedConfidenceLevel, 0, 1))
  const epsilonMinMonteCarloStandardError = raw > 0 && raw < 1 ? (z * bootstrapSigma) / Math.sqrt(2 * resamples) / c : 0
  return {
    method: 'Almost stochastic order (del Barrio et al. 2018, Dror et al. 2019; deepsig aso)',
    epsilonMin,
    violationRatio: observed,
    bootstrapSigma,
    epsilonMinMonteCarloStandardError,
    aDominates: epsilonMin < threshold,
    threshold,
    confidenceLevel,
    correctedConfidenceLevel,
    numComparisons,
    dt,
    resamples,
    seed,
    nA,
    nB,
  }
}

/** deepsig's compute_violation_ratio on sorted samples; undefined when the squared Wasserstein distance is 0. */
export function violationRatio(sortedA: Float64Array, sortedB: Float64Array, dt: number): number | undefined {
  const steps = Math.ceil(1 / dt)
  let w2 = 0
  let violation = 0
  for (let i = 0; i < steps; i++) {
    const p = i * dt
    const diff = empiricalQuantile(sortedB, p) - empiricalQuantile(sortedA, p)
    w2 += diff * diff * dt
    if (diff > 0) violation += diff * diff * dt
  }
  return w2 === 0 ? undefined : violation / w2
}

function empiricalQuantile(sorted: Float64Array, p: number): number {
  const n = sorted.length
  const index = Math.ceil(n * p)
  return sorted[Math.min(n - 1, Math.max(0, index - 1))]
}
