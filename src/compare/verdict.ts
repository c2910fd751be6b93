import { sampleSizePaired } from '../stats/index.js'
import type { Verdict } from './comparison-types.js'
import { formatNumber, formatPValue } from '../number-format.js'

/**
 * The verdict rule and the sample sizes that would make an inconclusive comparison conclusive.
 * Pure functions; docs/compare.md states the same rule in words.
 */

export interface VerdictInput {
  /** A minus B. */
  estimate: number
  /** Confidence interval of A minus B at the comparison's level; null when the sides are identical. */
  ci: [number, number] | null
  /** p-value of the primary test of A = B. */
  pValue: number
  alpha: number
  /** Equivalence margin in metric units, or null (then 'equivalent' is never returned). */
  margin: number | null
  higherIsBetter: boolean
}

export interface VerdictDecision {
  verdict: Verdict
  /** Primary p < alpha and the interval excludes 0. */
  significant: boolean
  /** The interval lies strictly inside (−margin, +margin). */
  withinMargin: boolean
  /** One sentence: why this verdict. */
  reason: string
}

function excludesZero(ci: [number, number]): -1 | 0 | 1 {
  if (ci[0] > 0) return 1
  if (ci[1] < 0) return -1
  return 0
}

/**
 * 1. With a margin δ: when the whole interval lies inside (−δ, δ), the verdict is 'equivalent' (a
 *    difference, even a significant one, smaller than what the user said matters).
 * 2. Else, when the primary p < α AND the interval excludes 0 (cluster-robust when examples are
 *    clustered: the paired decision's headline), the verdict is 'better' or 'worse' by the sign of
 *    the estimate and the metric's direction.
 * 3. Otherwise 'inconclusive', also for identical sides (no interval).
 */
export function decideVerdict(input: VerdictInput): VerdictDecision {
  const { estimate, pValue, alpha, margin, higherIsBetter } = input
  if (input.ci === null) {
    return { verdict: 'inconclusive', significant: false, withinMargin: false, reason: 'the sides are identical on every example: there is no difference to test and no interval' }
  }
  const ci = input.ci
  const withinMargin = margin !== null && ci[0] > -margin && ci[1] < margin
  const side = excludesZero(ci)
  const significant = pValue < alpha && side !== 0
  const ciText = `[${formatNumber(ci[0])}, ${formatNumber(ci[1])}]`
  if (withinMargin) {
    return { verdict: 'equivalent', significant, withinMargin, reason: `the interval ${ciText} lies inside the margin ±${formatNumber(margin)}` }
  }
  if (significant) {
    const aHigher = estimate > 0
    const better = aHigher === higherIsBetter
    return {
      verdict: better ? 'better' : 'worse',
      significant,
      withinMargin,
      reason: `p = ${formatPValue(pValue)} < α = ${formatNumber(alpha)} and the interval ${ciText} excludes 0`,
    }
  }
  let reason: string
  if (pValue < alpha && side === 0) {
    reason = `p = ${formatPValue(pValue)} < α but the interval ${ciText} includes 0: the test and the interval disagree`
  } else if (pValue >= alpha && side !== 0) {
    reason = `the interval ${ciText} excludes 0 but p = ${formatPValue(pValue)} ≥ α: the test and the interval disagree`
  } else {
    reason = `p = ${formatPValue(pValue)} ≥ α = ${formatNumber(alpha)} and the interval ${ciText} includes 0`
  }
  if (margin !== null) reason += `; it is not inside the margin ±${formatNumber(margin)} either`
  return { verdict: 'inconclusive', significant, withinMargin, reason }
}

/** z-based power calculations default to 80% power, the convention the issue asks for. */
export const DEFAULT_POWER = 0.8

/**
 * Paired examples needed to detect the observed mean difference at `power` with a two-sided level-α
 * test: n = ((z_{1−α/2} + z_power) σ_d / Δ)² (assay/stats sampleSizePaired; Miller 2024), times the
 * design effect (clustered SE / iid SE)² when examples are clustered. null when Δ = 0 or σ_d = 0
 * (no finite number of examples detects a zero difference).
 */
export function requiredExamples(input: { estimate: number; sdDifference: number; alpha: number; power?: number; designEffect?: number }): number | null {
  const { estimate, sdDifference, alpha } = input
  if (!(Math.abs(estimate) > 0) || !(sdDifference > 0) || !Number.isFinite(sdDifference)) return null
  const n = sampleSizePaired({ delta: estimate, sdDifference, alpha, power: input.power ?? DEFAULT_POWER }).nExact
  const designEffect = input.designEffect !== undefined && input.designEffect > 1 ? input.designEffect : 1
  return Math.max(2, Math.ceil(n * designEffect))
}

/**
 * Runs (seeds) per group needed to detect the observed difference of group means with a two-sided
 * level-α two-sample test: n = ((z_{1−α/2} + z_power) / Δ)² (σ_A² + σ_B²) per group, the normal
 * approximation for two independent means with equal group sizes (computed with sampleSizePaired on
 * σ = sqrt(σ_A² + σ_B²), which is the same formula). At least 2. null when Δ = 0 or both groups are constant.
 */
export function requiredSeeds(input: { estimate: number; sdA: number; sdB: number; alpha: number; power?: number }): number | null {
  const { estimate, sdA, sdB, alpha } = input
  const sd = Math.sqrt(sdA * sdA + sdB * sdB)
  if (!(Math.abs(estimate) > 0) || !(sd > 0) || !Number.isFinite(sd)) return null
  const n = sampleSizePaired({ delta: estimate, sdDifference: sd, alpha, power: input.power ?? DEFAULT_POWER }).nExact
  return Math.max(2, Math.ceil(n))
}
