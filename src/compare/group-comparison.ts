import { AssayError, isAssayError } from '../errors.js'
import { formatNumber } from '../number-format.js'
import { almostStochasticOrder, cohensD, mannWhitneyU, mean, probabilityOfImprovement, sd, seedsNeeded, tInterval, welchTTest } from '../stats/index.js'
import { tBounds } from '../stats/intervals.js'
import { constantGroupsEvidence, constantTolerance, isConstantSample } from '../stats/paired-decision.js'
import type { ComparisonWarning, GroupSummary } from './comparison-types.js'

/**
 * Comparison of two groups of replicate runs, one value per run (seed). Pure.
 *
 * Primary: Welch's t-test (p-value and interval of mean(A) − mean(B)). Reported beside it:
 * Mann–Whitney U, the probability of improvement P(A > B) with a bootstrap interval, almost
 * stochastic order both ways, and Cohen's d. Groups with no spread inside either (the constant-data
 * rule of assay/stats): identical groups get no interval, p = 1 and IDENTICAL_SIDES; different ones
 * the exact permutation test (constantGroupsEvidence), never a zero-width Welch interval.
 */

export interface GroupInput {
  label: string
  runIds: string[]
  seeds: number[]
  values: number[]
}

export interface GroupComparisonOptions {
  confidenceLevel: number
  resamples: number
  seed: number
}

export interface GroupComparison {
  estimate: number
  /** Null when the groups are identical (every run of both the same value). */
  ci: [number, number] | null
  pValue: number
  method: string
  groups: { a: GroupSummary; b: GroupSummary }
  tests: Record<string, unknown>[]
  effectSize: { name: string; value: number } | null
  probabilityOfImprovement: { estimate: number; ci: [number, number] } | null
  warnings: ComparisonWarning[]
}

/** Fewest seeds per group below which a replicate comparison always gets a FEW_SEEDS warning. */
export const MIN_SEEDS = 5

function errorEntry(name: string, error: unknown): Record<string, unknown> {
  if (isAssayError(error)) return { method: name, error: { code: error.code, message: error.message } }
  throw error
}

/** Each seed's value, the mean with its t interval, the spread. */
export function summarizeGroup(group: GroupInput, confidenceLevel: number): GroupSummary {
  const values = group.values
  const n = values.length
  if (n === 0) throw new AssayError('ASSAY_GROUP_TOO_SMALL', `group ${group.label} has no runs`)
  const groupMean = mean(values)
  const groupSd = n > 1 ? sd(values) : 0
  // Every run the same value (within rounding of how the runs' means were summed): no zero-width interval.
  const ci = n > 1 && !isConstantSample(values) ? tInterval(values, { confidenceLevel }).ci : null
  return { label: group.label, runIds: group.runIds, seeds: group.seeds, values, mean: groupMean, ci, sd: groupSd, min: Math.min(...values), max: Math.max(...values) }
}

/** A group's values by their sufficient statistics: how many, their mean, sample variance (null below 2), least and greatest. */
export interface GroupMoments {
  n: number
  mean: number
  variance: number | null
  min: number
  max: number
}

/**
 * summarizeGroup's mean, t interval and sd from a group's moments (a database grouped the values):
 * the same rule, with "every run the same value" read from the range (max − min within the
 * tolerance isConstantSample allows) and the interval from the same t bounds as tInterval.
 */
export function summarizeMoments(group: GroupMoments, confidenceLevel: number): { mean: number; ci: [number, number] | null; sd: number } {
  const { n, mean: groupMean } = group
  if (n === 0) throw new AssayError('ASSAY_GROUP_TOO_SMALL', 'a group has no runs')
  const groupSd = n > 1 ? Math.sqrt(Math.max(0, group.variance ?? 0)) : 0
  const constant = group.max - group.min <= 64 * Number.EPSILON * Math.max(1, Math.abs(group.min), Math.abs(group.max))
  if (n < 2 || constant) return { mean: groupMean, ci: null, sd: groupSd }
  const se = groupSd / Math.sqrt(n)
  // tInterval refuses what it calls constant data; so does this.
  if (!(se > 0) || se < 10 * Number.EPSILON * Math.abs(groupMean)) return { mean: groupMean, ci: null, sd: groupSd }
  return { mean: groupMean, ci: tBounds(groupMean, se, n - 1, 'two-sided', confidenceLevel), sd: groupSd }
}

export function groupComparison(a: GroupInput, b: GroupInput, options: GroupComparisonOptions): GroupComparison {
  const { confidenceLevel, resamples, seed } = options
  for (const g of [a, b]) {
    if (g.values.length < 2) {
      throw new AssayError(
        'ASSAY_GROUP_TOO_SMALL',
        `group ${g.label} has ${g.values.length} run${g.values.length === 1 ? '' : 's'}; comparing replicate groups needs at least 2 runs (seeds) per side` +
          ` — run more seeds, or compare two single runs per example (without --group-by)`,
        { label: g.label, runs: g.values.length },
      )
    }
  }
  const groups = { a: summarizeGroup(a, confidenceLevel), b: summarizeGroup(b, confidenceLevel) }
  const estimate = groups.a.mean - groups.b.mean
  const tests: Record<string, unknown>[] = []
  const warnings: ComparisonWarning[] = []
  let ci: [number, number] | null = null
  let pValue = NaN
  let method = "Welch's t-test over seeds"
  const noSpread = isConstantSample(a.values) && isConstantSample(b.values)
  if (noSpread) {
    const all = Float64Array.from([...a.values, ...b.values])
    if (isConstantSample(all) || Math.abs(estimate) <= constantTolerance(all, all)) {
      pValue = 1
      method = 'identical groups (every run of both scored the same)'
      warnings.push({ code: 'IDENTICAL_SIDES', message: `every run of both groups scored ${formatNumber(groups.a.mean, 12)}: there is no difference to estimate, so no interval is given (p = 1)` })
    } else {
      const exact = constantGroupsEvidence(a.values.length, b.values.length, estimate, confidenceLevel)
      pValue = exact.pValue
      ci = exact.ci
      method = `exact permutation test (every run of A scored ${formatNumber(groups.a.mean, 12)}, every run of B ${formatNumber(groups.b.mean, 12)})`
    }
  }
  // Without spread Welch's t is undefined (or rests on rounding noise): not run.
  if (!noSpread) {
    try {
      const t = welchTTest(a.values, b.values, { confidenceLevel })
      tests.push({ ...t })
      ci = t.ci
      pValue = t.pValue
    } catch (error) {
      tests.push(errorEntry("Welch's two-sample t-test", error))
    }
  }
  try {
    const u = mannWhitneyU(a.values, b.values, { confidenceLevel })
    tests.push({ ...u })
    if (Number.isNaN(pValue)) {
      pValue = u.pValue
      method = 'Mann-Whitney U over seeds (Welch t undefined)'
      warnings.push({ code: 'METHOD_FALLBACK', message: "every seed of both groups gave the same value within its group: Welch's t-test is undefined; the p-value is Mann-Whitney's" })
    }
  } catch (error) {
    tests.push(errorEntry('Mann-Whitney U test', error))
  }
  if (Number.isNaN(pValue)) pValue = 1
  let poi: GroupComparison['probabilityOfImprovement'] = null
  try {
    const p = probabilityOfImprovement(a.values, b.values, { confidenceLevel, resamples, seed })
    tests.push({ ...p })
    poi = { estimate: p.estimate, ci: p.ci }
  } catch (error) {
    tests.push(errorEntry('Probability of improvement', error))
  }
  for (const [x, y, name] of [
    [a, b, 'A over B'],
    [b, a, 'B over A'],
  ] as const) {
    try {
      tests.push({ ...almostStochasticOrder(x.values, y.values, { confidenceLevel, seed }), direction: name })
    } catch (error) {
      tests.push({ ...errorEntry('Almost stochastic order', error), direction: name })
    }
  }
  let effectSize: GroupComparison['effectSize'] = null
  try {
    const es = cohensD(a.values, b.values)
    effectSize = { name: "Cohen's d (pooled SD over seeds)", value: es.estimate }
    tests.push({ ...es })
  } catch (error) {
    tests.push(errorEntry("Cohen's d", error))
  }
  return { estimate, ci, pValue, method, groups, tests, effectSize, probabilityOfImprovement: poi, warnings }
}

/**
 * Seeds per group a replicate comparison needs: the larger of MIN_SEEDS (assay's floor: below it a
 * group's spread is itself too uncertain) and the power-based count (seeds to detect the observed
 * difference at 80% power; null when the difference is 0). `basis` says which of the two set it.
 */
export function seedsNeededPerGroup(powerBased: number | null): { seeds: number; basis: 'minimum' | 'power' } {
  if (powerBased !== null && powerBased > MIN_SEEDS) return { seeds: powerBased, basis: 'power' }
  return { seeds: MIN_SEEDS, basis: 'minimum' }
}

/**
 * FEW_SEEDS when a group has fewer runs than max(MIN_SEEDS, `required`), `required` being the seeds
 * to detect the observed difference at 80% power. The message states that number and which criterion
 * set it, and also gives Noether's count for detecting P(A > B) ≥ 0.75.
 */
export function fewSeedsWarning(groups: { a: GroupSummary; b: GroupSummary }, required: number | null, alpha: number): ComparisonWarning | null {
  const smallest = Math.min(groups.a.values.length, groups.b.values.length)
  const need = seedsNeededPerGroup(required)
  if (smallest >= need.seeds) return null
  const noether = seedsNeeded({ gamma: 0.75, alpha, power: 0.8 }).n
  const sizes = `A has ${groups.a.values.length} run${groups.a.values.length === 1 ? '' : 's'}, B has ${groups.b.values.length}`
  let why: string
  if (need.basis === 'power') {
    why = `about ${need.seeds} seeds per group are needed: that many detect the observed difference at 80% power (more than assay's minimum of ${MIN_SEEDS})`
  } else if (required === null) {
    why = `at least ${MIN_SEEDS} seeds per group are needed (assay's minimum for a replicate comparison); the observed difference is 0, so no number of seeds detects it`
  } else {
    why = `at least ${MIN_SEEDS} seeds per group are needed (assay's minimum for a replicate comparison; the power calculation alone would ask for ${required}, but with so few seeds the spread it rests on is itself unreliable)`
  }
  return {
    code: 'FEW_SEEDS',
    message: `${sizes}: too few seeds to support a claim about this difference; ${why} (${noether} per group detect P(A > B) ≥ 0.75 with a one-sided Mann-Whitney test at 80% power, Noether 1987)`,
  }
}
