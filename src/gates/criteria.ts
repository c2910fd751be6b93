import { detectScoreType } from '../compare/align-examples.js'
import { isAssayError } from '../errors.js'
import { bootstrapInterval, clopperPearsonInterval, mean, pairedDecision, pairedTTest, quantile, tInterval, wilsonInterval, type PairedDecisionResult, type PairedDecisionWarning } from '../stats/index.js'
import { constantEvidence, isConstantSample, type ConstantEvidence } from '../stats/paired-decision.js'
import type { Criterion } from './gate-spec.js'
import { formatNumber, formatPValue } from '../number-format.js'

/**
 * Deciding one criterion from numbers: pure, no store. Every kind is decided by an interval (and,
 * for superiority, a test) from assay/stats; the rules are stated in docs/gates.md and repeated in
 * each result's `rule` so the evidence reads on its own.
 *
 * Convention: estimates and intervals are of candidate − baseline (comparative kinds) or of the
 * candidate's own statistic (absolute, budget), in the metric's units. One-sided decisions at level
 * alpha use the one-sided (1 − alpha) bound, which is the matching end of the two-sided
 * (1 − 2·alpha) interval.
 */

export type CriterionStatus = 'pass' | 'fail' | 'not-evaluated'

export interface CriterionResult {
  name: string
  kind: Criterion['kind']
  metric: string
  dataset: string | null
  /** The test or interval method that decided, as assay/stats names it. */
  test: string
  alpha: number
  onFailure: 'block' | 'warn'
  rationale: string
  /** Line of the criterion in the gate file. */
  line: number | null
  status: CriterionStatus
  /** What the status means for the gate: pass, or the criterion's onFailure. */
  outcome: 'pass' | 'warn' | 'block'
  rule: string
  estimate: number | null
  /** [lower, upper]; a one-sided bound has ±Infinity (written "Infinity" in JSON) at its open end. */
  ci: [number, number] | null
  confidenceLevel: number | null
  pValue: number | null
  /** The number the bound is held against (0 or minEffect, −margin, max/min, the budget). */
  threshold: number | null
  sampleSizes: { candidate: number; baseline: number | null; pairs: number | null }
  seed: number | null
  resamples: number | null
  /** Distinct clusters behind a cluster-robust comparative decision, else null. */
  clusters: number | null
  /** The paired decision's warnings (FEW_EXAMPLES, FEW_CLUSTERS, SKEWED_DIFFERENCES); [] for other kinds. */
  warnings: PairedDecisionWarning[]
  message: string
}

/** Paired per-example values of one score (same ids, same order). */
export interface PairedInput {
  candidate: Float64Array
  baseline: Float64Array
  /** Records of each side before pairing. */
  nCandidate: number
  nBaseline: number
  /** Cluster id of each pair (records' cluster, or the gate's cluster rule), or null. */
  clusters: (string | null)[] | null
}

export interface CriterionContext {
  name: string
  dataset: string | null
  line: number | null
  seed: number
}

function base(c: Criterion, ctx: CriterionContext, test: string): Omit<CriterionResult, 'status' | 'outcome' | 'rule' | 'message'> {
  return {
    name: ctx.name,
    kind: c.kind,
    metric: c.metric,
    dataset: ctx.dataset,
    test,
    alpha: c.alpha,
    onFailure: c.onFailure,
    rationale: c.rationale,
    line: ctx.line,
    estimate: null,
    ci: null,
    confidenceLevel: null,
    pValue: null,
    threshold: null,
    sampleSizes: { candidate: 0, baseline: null, pairs: null },
    seed: null,
    resamples: null,
    clusters: null,
    warnings: [],
  }
}

function finish(partial: Omit<CriterionResult, 'status' | 'outcome' | 'rule' | 'message'>, passed: boolean, rule: string, message: string): CriterionResult {
  return { ...partial, status: passed ? 'pass' : 'fail', outcome: passed ? 'pass' : partial.onFailure, rule, message }
}

/** A criterion that could not be computed (no baseline, a statistic undefined on the data): it fails with the reason. */
export function notEvaluated(c: Criterion, ctx: CriterionContext, reason: string): CriterionResult {
  return { ...base(c, ctx, '-'), status: 'not-evaluated', outcome: c.onFailure, rule: '-', message: `not evaluated: ${reason}` }
}

function pct(level: number): string {
  return `${formatNumber(level * 100)}%`
}

/** Catch statistics errors (degenerate data, too few observations) as a failed, explained criterion. */
function guarded(c: Criterion, ctx: CriterionContext, fn: () => CriterionResult): CriterionResult {
  try {
    return fn()
  } catch (error) {
    if (isAssayError(error)) return notEvaluated(c, ctx, `${error.code}: ${error.message}`)
    throw error
  }
}

function constantMessage(what: string, v: number, n: number, e: ConstantEvidence, clears: boolean, alpha: number, target: string): string {
  const head = `every ${what} is ${formatNumber(v)} (n = ${n}): exact one-sided sign test`
  if (!clears) return `${head}: ${formatNumber(v)} does not clear ${target}`
  if (!e.bounded) return `${head} p = ${formatPValue(e.tail)} ≥ ${alpha}: not enough data (constant values need n ≥ ${e.minN} at alpha ${alpha})`
  return `${head} p = ${formatPValue(e.tail)} < ${alpha}`
}

/** The candidate's and baseline's scores as the one paired decision (assay/stats pairedDecision) reads them. */
function pairedDecisionOf(c: Extract<Criterion, { kind: 'superiority' | 'non-inferiority' }>, ctx: CriterionContext, input: PairedInput, nullDifference: number): PairedDecisionResult {
  return pairedDecision(input.candidate, input.baseline, {
    clusters: input.clusters,
    scoreType: detectScoreType(input.candidate, input.baseline),
    alternative: c.higherIsBetter ? 'greater' : 'less',
    nullDifference,
    confidenceLevel: 1 - c.alpha,
    interval: c.test === 'paired-bootstrap' ? 'bootstrap-t' : 't',
    resamples: c.resamples,
    seed: c.seed ?? ctx.seed,
  })
}

/**
 * A comparative criterion from the paired decision: passes iff p < alpha and the one-sided bound
 * clears the threshold (identical sides have no interval: p alone, which is 1 against Δ = 0). Few
 * examples or clusters (FEW_EXAMPLES, FEW_CLUSTERS) turn a pass into the criterion's `fewExamples`
 * outcome.
 */
function comparativeResult(
  c: Extract<Criterion, { kind: 'superiority' | 'non-inferiority' }>,
  ctx: CriterionContext,
  input: PairedInput,
  threshold: number,
  rule: string,
  describe: (r: PairedDecisionResult, bound: number | null, passed: boolean) => string,
): CriterionResult {
  const r = pairedDecisionOf(c, ctx, input, threshold)
  const bound = r.ci === null ? null : c.higherIsBetter ? r.ci[0] : r.ci[1]
  const boundOk = bound === null || (c.higherIsBetter ? bound > threshold : bound < threshold)
  const passed = boundOk && r.pValue < c.alpha
  const sizes = { candidate: input.nCandidate, baseline: input.nBaseline, pairs: input.candidate.length }
  const partial = {
    ...base(c, ctx, r.method),
    estimate: r.estimate,
    ci: r.ci,
    confidenceLevel: 1 - c.alpha,
    pValue: r.pValue,
    threshold,
    sampleSizes: sizes,
    seed: r.seed,
    resamples: r.resamples,
    clusters: r.clusters,
    warnings: r.warnings,
  }
  const result = finish(partial, passed, rule, describe(r, bound, passed))
  const few = r.warnings.find((w) => w.code === 'FEW_EXAMPLES' || w.code === 'FEW_CLUSTERS')
  if (few === undefined || c.fewExamples === 'ignore') return result
  const outcome = result.outcome === 'block' || c.fewExamples === 'block' ? 'block' : 'warn'
  return { ...result, outcome, message: `${result.message}; ${few.code}: ${few.message}` }
}

function constantText(r: PairedDecisionResult, alpha: number): string {
  if (r.data === 'identical') return `the sides are identical on all ${r.n} pairs: exact sign test p = ${formatPValue(r.pValue)}`
  const units = r.clusters ?? r.n
  const e = constantEvidence(units, 0.5, alpha)
  return `every paired difference is ${formatNumber(r.estimate)} (${units} independent ${r.clusters === null ? 'pairs' : 'clusters'}): exact one-sided sign test p = ${formatPValue(r.pValue)}${r.pValue < alpha ? ` < ${alpha}` : ` ≥ ${alpha}${e.bounded ? '' : `: not enough data (constant values need n ≥ ${e.minN} at alpha ${alpha})`}`}`
}

/**
 * Superiority: passes iff the one-sided (1 − alpha) bound of candidate − baseline clears minEffect in
 * the direction of "better" (lower bound > minEffect, or upper bound < −minEffect when lower is
 * better) AND the one-sided test of "no improvement beyond minEffect" has p < alpha.
 */
export function decideSuperiority(c: Extract<Criterion, { kind: 'superiority' }>, ctx: CriterionContext, input: PairedInput): CriterionResult {
  return guarded(c, ctx, () => {
    const sign = c.higherIsBetter ? '>' : '<'
    const threshold = c.higherIsBetter ? c.minEffect : -c.minEffect
    const boundName = c.higherIsBetter ? 'lower' : 'upper'
    const rule = `one-sided ${pct(1 - c.alpha)} ${boundName} bound of candidate − baseline ${sign} ${formatNumber(threshold)} and p < ${c.alpha}`
    return comparativeResult(c, ctx, input, threshold, rule, (r, bound, passed) => {
      if (r.data !== 'varied') return constantText(r, c.alpha)
      const b = bound as number
      const boundOk = c.higherIsBetter ? b > threshold : b < threshold
      return passed
        ? `candidate better by ${formatNumber(r.estimate)} (${boundName} bound ${formatNumber(b)}, p = ${formatPValue(r.pValue)})`
        : `superiority not shown: difference ${formatNumber(r.estimate)}, ${boundName} bound ${formatNumber(b)} ${boundOk ? 'clears' : 'does not clear'} ${formatNumber(threshold)}, p = ${formatPValue(r.pValue)}${r.pValue < c.alpha ? '' : ` ≥ ${c.alpha}`}`
    })
  })
}

/**
 * Non-inferiority: passes iff the one-sided (1 − alpha) bound of candidate − baseline is above
 * −margin (or, lower is better, below +margin) and the test of H0 "worse by at least the margin"
 * has p < alpha (the same decision: paired t, studentized bootstrap, cluster-robust t or exact sign test).
 */
export function decideNonInferiority(c: Extract<Criterion, { kind: 'non-inferiority' }>, ctx: CriterionContext, input: PairedInput): CriterionResult {
  return guarded(c, ctx, () => {
    const threshold = c.higherIsBetter ? -c.margin : c.margin
    const boundName = c.higherIsBetter ? 'lower' : 'upper'
    const rule = `one-sided ${pct(1 - c.alpha)} ${boundName} bound of candidate − baseline ${c.higherIsBetter ? '>' : '<'} ${formatNumber(threshold)} (margin ${formatNumber(c.margin)})`
    return comparativeResult(c, ctx, input, threshold, rule, (r, bound, passed) => {
      if (r.data !== 'varied') return constantText(r, c.alpha)
      return passed
        ? `not worse than the baseline by more than ${formatNumber(c.margin)}: difference ${formatNumber(r.estimate)}, ${boundName} bound ${formatNumber(bound as number)}`
        : `non-inferiority not shown: difference ${formatNumber(r.estimate)}, ${boundName} bound ${formatNumber(bound as number)} is beyond the margin ${formatNumber(threshold)}`
    })
  })
}

/**
 * Absolute threshold on the candidate alone: max → the one-sided (1 − alpha) upper bound must be
 * below max; min → the lower bound must be above min. Rates (0/1 scores): Wilson score or
 * Clopper-Pearson interval of the proportion; means: Student t interval (with the one-sample t-test's
 * p) or a percentile bootstrap of the mean.
 */
export function decideAbsolute(c: Extract<Criterion, { kind: 'absolute' }>, ctx: CriterionContext, values: Float64Array): CriterionResult {
  return guarded(c, ctx, () => {
    const upper = c.max !== undefined
    const threshold = (upper ? c.max : c.min) as number
    const level = 1 - c.alpha
    const seed = c.seed ?? ctx.seed
    const n = values.length
    const boundName = upper ? 'upper' : 'lower'
    const rule = `one-sided ${pct(level)} ${boundName} bound of the candidate's ${c.metric} ${upper ? '<' : '>'} ${formatNumber(threshold)}`
    const sizes = { candidate: n, baseline: null, pairs: null }
    let estimate: number
    let ci: [number, number]
    let pValue: number | null = null
    let test: string
    let resamples: number | null = null
    if (c.test === 'wilson' || c.test === 'clopper-pearson') {
      let successes = 0
      for (let i = 0; i < n; i++) {
        if (values[i] !== 0 && values[i] !== 1) return notEvaluated(c, ctx, `${c.test} needs 0/1 scores; record ${i} has ${values[i]}`)
        successes += values[i]
      }
      const opts = { alternative: upper ? ('less' as const) : ('greater' as const), confidenceLevel: level }
      const r = c.test === 'wilson' ? wilsonInterval(successes, n, opts) : clopperPearsonInterval(successes, n, opts)
      ;({ estimate, ci } = r)
      test = r.method
    } else if (n > 0 && isConstantSample(values)) {
      // t and bootstrap: every value is the same; the exact sign test decides (constantEvidence).
      estimate = values[0]
      const e = constantEvidence(n, 0.5, c.alpha)
      const clears = upper ? estimate < threshold : estimate > threshold
      pValue = clears ? e.tail : 1
      const bound = e.bounded ? estimate : upper ? Infinity : -Infinity
      ci = upper ? [-Infinity, bound] : [bound, Infinity]
      const passed = upper ? bound < threshold : bound > threshold
      const partial = { ...base(c, ctx, 'exact sign test (constant values)'), estimate, ci, confidenceLevel: level, pValue, threshold, sampleSizes: sizes }
      return finish(partial, passed, rule, constantMessage(`${c.metric} value`, estimate, n, e, clears, c.alpha, `${upper ? '<' : '>'} ${formatNumber(threshold)}`))
    } else if (c.test === 't') {
      const alternative = upper ? ('less' as const) : ('greater' as const)
      const r = tInterval(values, { alternative, confidenceLevel: level })
      ;({ estimate, ci } = r)
      test = 'One-sample t-test'
      pValue = pairedTTest(values, new Float64Array(n), { mu: threshold, alternative }).pValue
    } else {
      const r = bootstrapInterval(values, 'mean', { confidenceLevel: 1 - 2 * c.alpha, seed, resamples: c.resamples })
      estimate = r.estimate
      ci = upper ? [-Infinity, r.ci[1]] : [r.ci[0], Infinity]
      test = r.method
      resamples = r.resamples
    }
    const bound = upper ? ci[1] : ci[0]
    const passed = upper ? bound < threshold : bound > threshold
    const partial = { ...base(c, ctx, test), estimate, ci, confidenceLevel: level, pValue, threshold, sampleSizes: sizes, seed: resamples === null ? null : seed, resamples }
    const message = `${c.metric} ${formatNumber(estimate)}, ${boundName} bound ${formatNumber(bound)} ${passed ? 'within' : 'breaks'} the threshold ${upper ? '<' : '>'} ${formatNumber(threshold)}`
    return finish(partial, passed, rule, message)
  })
}

/** Units of each budget metric, for messages. */
const BUDGET_UNITS: Record<Extract<Criterion, { kind: 'budget' }>['metric'], string> = {
  latency: 'ms',
  tokens: 'tokens per 1,000 requests',
  cost: 'per 1,000 requests',
  storage: 'bytes',
  compute: 's',
}

export interface BudgetInput {
  /** Per-example values (latencyMs, tokens, cost) or one value per run (storage, compute). */
  candidate: Float64Array
  baseline: Float64Array | null
}

/** The statistic a budget holds: quantile of latency, 1000 × mean of tokens/cost, mean over runs of storage/compute. */
export function budgetStatistic(c: Extract<Criterion, { kind: 'budget' }>, values: Float64Array): number {
  if (c.metric === 'latency') return quantile(values, c.quantile)
  const m = mean(values)
  return c.metric === 'tokens' || c.metric === 'cost' ? 1000 * m : m
}

/**
 * Budget: latency — the quantile (p95 by default) of per-example latencies with a percentile
 * bootstrap interval; its one-sided (1 − alpha) upper bound must be ≤ max. Tokens and cost — per
 * 1,000 requests (1000 × the per-example mean) with a one-sided t upper bound (or bootstrap).
 * Storage and compute — one number per run (mean over a group), no interval. Relative budgets
 * (maxRatio) hold the candidate's upper bound against maxRatio × the baseline's point estimate.
 */
export function decideBudget(c: Extract<Criterion, { kind: 'budget' }>, ctx: CriterionContext, input: BudgetInput): CriterionResult {
  return guarded(c, ctx, () => {
    const level = 1 - c.alpha
    const seed = c.seed ?? ctx.seed
    const unit = BUDGET_UNITS[c.metric]
    const n = input.candidate.length
    const statName = c.metric === 'latency' ? `p${formatNumber(c.quantile * 100)} latency` : c.metric === 'tokens' || c.metric === 'cost' ? `${c.metric} per 1,000 requests` : c.metric
    let threshold: number
    let baselineEstimate: number | null = null
    if (c.maxRatio !== undefined) {
      if (input.baseline === null || input.baseline.length === 0) return notEvaluated(c, ctx, `a relative budget needs a baseline with ${c.metric} values`)
      baselineEstimate = budgetStatistic(c, input.baseline)
      threshold = c.maxRatio * baselineEstimate
    } else threshold = c.max as number
    const test = c.test ?? (c.metric === 'latency' ? 'bootstrap' : c.metric === 'storage' || c.metric === 'compute' ? 'none' : 't')
    const sizes = { candidate: n, baseline: input.baseline?.length ?? null, pairs: null }
    const estimate = budgetStatistic(c, input.candidate)
    let upper: number
    let ci: [number, number] | null = null
    let method: string
    let resamples: number | null = null
    let pValue: number | null = null
    let constant: ConstantEvidence | null = null
    if (test === 'none') {
      upper = estimate
      method = 'point value (no interval)'
    } else if (isConstantSample(input.candidate)) {
      // Every value is the same: the exact order-statistic bound of the quantile (the median for a mean) decides (constantEvidence).
      constant = constantEvidence(n, c.metric === 'latency' ? c.quantile : 0.5, c.alpha)
      upper = constant.bounded ? estimate : Infinity
      ci = [-Infinity, upper]
      pValue = estimate <= threshold ? constant.tail : 1
      method = `exact order-statistic bound (constant values) of the ${statName}`
    } else if (test === 'bootstrap') {
      const scale = c.metric === 'tokens' || c.metric === 'cost' ? 1000 : 1
      const statistic = c.metric === 'latency' ? (x: Float64Array) => quantile(x, c.quantile) : 'mean'
      const r = bootstrapInterval(input.candidate, statistic, { confidenceLevel: 1 - 2 * c.alpha, seed, resamples: c.resamples })
      upper = r.ci[1] * scale
      ci = [-Infinity, upper]
      method = `${r.method} of the ${statName}`
      resamples = r.resamples
    } else {
      const r = tInterval(input.candidate, { alternative: 'less', confidenceLevel: level })
      upper = r.ci[1] * 1000
      ci = [-Infinity, upper]
      method = `${r.method} of the ${statName}`
    }
    const passed = upper <= threshold
    const rule =
      (test === 'none' ? `${statName}` : `one-sided ${pct(level)} upper bound of the ${statName}`) +
      ` ≤ ${c.maxRatio !== undefined ? `${c.maxRatio} × baseline (${formatNumber(baselineEstimate as number)}) = ${formatNumber(threshold)}` : formatNumber(threshold)} ${unit}`
    const partial = { ...base(c, ctx, method), estimate, ci, confidenceLevel: test === 'none' ? null : level, pValue, threshold, sampleSizes: sizes, seed: resamples === null ? null : seed, resamples }
    const message =
      constant !== null && !constant.bounded && estimate <= threshold
        ? `${statName} ${formatNumber(estimate)} ${unit} is within the budget ${formatNumber(threshold)} ${unit} by its point value, but every value is the same (n = ${n}): exact one-sided bound p = ${formatNumber(constant.tail)} ≥ ${c.alpha}: not enough data (constant values need n ≥ ${constant.minN} at alpha ${c.alpha})`
        : `${statName} ${formatNumber(estimate)} ${unit}${test === 'none' ? '' : ` (upper bound ${formatNumber(upper)})`} ${passed ? 'within' : 'over'} the budget ${formatNumber(threshold)} ${unit}`
    return finish(partial, passed, rule, message)
  })
}
