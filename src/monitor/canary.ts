import { alignExamples, detectScoreType } from '../compare/align-examples.js'
import type { Verdict } from '../compare/comparison-types.js'
import { pairedExampleComparison, unpairedExampleComparison, type ExampleComparison } from '../compare/paired-comparison.js'
import { decideVerdict } from '../compare/verdict.js'
import { AssayError } from '../errors.js'
import type { EvalColumns } from '../record/types.js'
import type { TraceRow } from './trace-row.js'

/**
 * Canary comparison: a challenger deployment's traces against the champion's, on scores, latency,
 * tokens and cost, through the comparison engine of `assay compare` (src/compare): paired when the
 * same inputs were replayed to both (rows carry inputId; the one paired decision, cluster-robust
 * over conversations), unpaired otherwise (Welch t with Mann–Whitney beside it), and the same
 * verdict rule (decideVerdict). Pure: rows in, a plain result out.
 */

export interface CanaryMetric {
  /** A score name, or one of latencyMs, tokens (input + output), costUsd. */
  metric: string
  /** Default: true for scores, false for latencyMs, tokens and costUsd. */
  higherIsBetter?: boolean
  /** Equivalence margin in metric units (a difference inside ±margin is 'equivalent'). */
  margin?: number
}

export interface CanaryOptions {
  metrics: readonly CanaryMetric[]
  /** 'auto' (default): paired when every row on both sides has an inputId. */
  pairing?: 'auto' | 'paired' | 'unpaired'
  confidenceLevel?: number
  resamples?: number
  seed?: number
}

export interface CanaryMetricResult {
  metric: string
  higherIsBetter: boolean
  /** Challenger minus champion. */
  estimate: number
  ci: [number, number] | null
  pValue: number
  method: string
  verdict: Verdict
  /** Paired and equal on every input (the engine gives no interval and the verdict 'inconclusive'): no difference, so it does not hold a promotion back. */
  identical: boolean
  reason: string
  nChallenger: number
  nChampion: number
  comparison: ExampleComparison
}

export type CanaryDecision = 'promote' | 'rollback' | 'continue'

export interface CanaryResult {
  paired: boolean
  confidenceLevel: number
  /** rollback when any metric is worse; promote when every one is better, equivalent or identical; else continue (keep the split, gather traffic). */
  decision: CanaryDecision
  reason: string
  metrics: CanaryMetricResult[]
}

const COST_METRICS = new Set(['latencyMs', 'tokens', 'costUsd'])

function metricValue(row: TraceRow, metric: string): number {
  if (metric === 'latencyMs') return row.latencyMs ?? NaN
  if (metric === 'costUsd') return row.costUsd ?? NaN
  if (metric === 'tokens') return row.inputTokens === undefined && row.outputTokens === undefined ? NaN : (row.inputTokens ?? 0) + (row.outputTokens ?? 0)
  return row.scores?.[metric] ?? NaN
}

/** The eval-record view of trace rows for one metric: ids are input ids, clusters conversations. */
function columns(rows: readonly TraceRow[], metric: string, side: string): EvalColumns {
  const values = new Float64Array(rows.length)
  const missing: number[] = []
  rows.forEach((row, i) => {
    values[i] = metricValue(row, metric)
    if (Number.isNaN(values[i])) missing.push(i)
  })
  const hasClusters = rows.some((r) => r.conversationId !== undefined)
  return {
    dataset: `canary:${side}`,
    datasetSha256: '',
    ids: rows.map((r, i) => r.inputId ?? r.traceId ?? `${side}:${i}`),
    clusters: hasClusters ? rows.map((r) => r.conversationId ?? null) : null,
    scores: { [metric]: values },
    latencyMs: null,
    tokens: null,
    cost: null,
    outputHashes: null,
    missing: { [`score:${metric}`]: missing },
  }
}

function finite(rows: readonly TraceRow[], metric: string): Float64Array {
  const out: number[] = []
  for (const row of rows) {
    const v = metricValue(row, metric)
    if (Number.isFinite(v)) out.push(v)
  }
  return Float64Array.from(out)
}

export function compareCanary(champion: readonly TraceRow[], challenger: readonly TraceRow[], options: CanaryOptions): CanaryResult {
  if (!Array.isArray(champion) || !Array.isArray(challenger)) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'champion and challenger must be arrays of trace rows')
  if (options === null || typeof options !== 'object' || !Array.isArray(options.metrics) || options.metrics.length === 0) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', 'canary options need at least one metric')
  }
  const confidenceLevel = options.confidenceLevel ?? 0.95
  if (!(confidenceLevel > 0 && confidenceLevel < 1)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `confidenceLevel must be in (0, 1), got ${String(confidenceLevel)}`)
  const pairing = options.pairing ?? 'auto'
  const allIds = [...champion, ...challenger].every((r) => typeof r.inputId === 'string')
  if (pairing === 'paired' && !allIds) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'a paired canary needs an inputId on every trace of both sides')
  const paired = pairing === 'paired' || (pairing === 'auto' && allIds)
  const exampleOptions = { confidenceLevel, resamples: options.resamples ?? 2000, seed: options.seed ?? 0, top: 0 }
  const metrics = options.metrics.map((m): CanaryMetricResult => {
    const higherIsBetter = m.higherIsBetter ?? !COST_METRICS.has(m.metric)
    let comparison: ExampleComparison
    if (paired) {
      const aligned = alignExamples(columns(challenger, m.metric, 'challenger'), columns(champion, m.metric, 'champion'), m.metric)
      comparison = pairedExampleComparison(aligned, { ...exampleOptions, higherIsBetter })
    } else {
      const a = finite(challenger, m.metric)
      const b = finite(champion, m.metric)
      comparison = unpairedExampleComparison(a, b, detectScoreType(a, b), { ...exampleOptions, higherIsBetter })
    }
    const v = decideVerdict({ estimate: comparison.estimate, ci: comparison.ci, pValue: comparison.pValue, alpha: 1 - confidenceLevel, margin: m.margin ?? null, higherIsBetter })
    return {
      metric: m.metric,
      higherIsBetter,
      estimate: comparison.estimate,
      ci: comparison.ci,
      pValue: comparison.pValue,
      method: comparison.method,
      verdict: v.verdict,
      identical: comparison.differences === 'identical',
      reason: v.reason,
      nChallenger: challenger.length,
      nChampion: champion.length,
      comparison,
    }
  })
  const worse = metrics.filter((m) => m.verdict === 'worse')
  const settled = metrics.every((m) => m.verdict === 'better' || m.verdict === 'equivalent' || m.identical)
  const decision: CanaryDecision = worse.length > 0 ? 'rollback' : settled ? 'promote' : 'continue'
  const reason =
    decision === 'rollback'
      ? `the challenger is worse on ${worse.map((m) => `${m.metric} (${m.reason})`).join('; ')}`
      : decision === 'promote'
        ? `the challenger is better or equivalent on every metric: ${metrics.map((m) => `${m.metric} ${m.identical ? 'identical' : m.verdict}`).join(', ')}`
        : `not settled: ${metrics.filter((m) => m.verdict === 'inconclusive' && !m.identical).map((m) => `${m.metric} (${m.reason})`).join('; ')}`
  return { paired, confidenceLevel, decision, reason, metrics }
}
