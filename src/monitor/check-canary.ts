import { appendAuditRecord } from '../audit/append-and-verify.js'
import { AssayError } from '../errors.js'
import type { Deployment } from '../record/production.js'
import type { JsonValue } from '../record/types.js'
import type { Store } from '../store/store.js'
import { ASSAY_VERSION } from '../version.js'
import { compareCanary, type CanaryMetric, type CanaryResult } from './canary.js'
import { readTraceRows } from './check-monitor.js'
import { duration } from './monitor-spec.js'
import type { TraceRow } from './trace-row.js'

/**
 * `assay monitor canary`: the champion's and the challenger's traces over one window, compared by
 * compareCanary (paired when the challenger replayed the champion's inputs: rows carry the
 * conversation id as the input id), and the decision (promote, rollback, continue) recorded as a `canary-decision` audit
 * record. The decision is evidence and a next command: promoting goes through the model's gate
 * (`assay promote`), and moving traffic is the serving platform's job.
 */

export interface CheckCanaryOptions {
  champion: string
  challenger: string
  /** The window's length ("24h"; default 24h); it ends at `now`. */
  window?: string
  /** Default: latencyMs, tokens, costUsd and every score both sides carry. */
  metrics?: readonly CanaryMetric[]
  pairing?: 'auto' | 'paired' | 'unpaired'
  confidenceLevel?: number
  seed?: number
  now?: number
  actor: string
  record?: boolean
}

export interface CanaryCheckEvidence {
  schema: 'assay.canary-decision/v1'
  assayVersion: string
  checkedAt: number
  actor: string
  champion: { id: string; endpoint: string; model: string | null; modelVersion: number | null; traces: number }
  challenger: { id: string; endpoint: string; model: string | null; modelVersion: number | null; traces: number }
  window: { from: number; to: number }
  decision: CanaryResult['decision']
  reason: string
  next: string
  result: Omit<CanaryResult, 'metrics'> & { metrics: Omit<CanaryResult['metrics'][number], 'comparison'>[] }
}

export interface CheckCanaryResult {
  evidence: CanaryCheckEvidence
  audit: { seq: number; hash: string } | null
}

function scoreNames(rows: readonly TraceRow[]): Set<string> {
  const names = new Set<string>()
  for (const row of rows) for (const name of Object.keys(row.scores ?? {})) names.add(name)
  return names
}

function side(d: Deployment, traces: number): CanaryCheckEvidence['champion'] {
  return { id: d.id, endpoint: d.endpoint, model: d.model, modelVersion: d.modelVersion, traces }
}

function nextCommand(result: CanaryResult, challenger: Deployment): string {
  const named = challenger.model === null ? `endpoint ${challenger.endpoint}` : `${challenger.model} version ${challenger.modelVersion ?? '?'}`
  if (result.decision === 'promote') {
    return challenger.model !== null && challenger.modelVersion !== null ? `assay promote ${challenger.model} ${challenger.modelVersion}` : `promote ${named}`
  }
  if (result.decision === 'rollback') return `send all traffic back to the champion; ${named} is worse: ${result.reason}`
  return `keep the traffic split and check again when more traces arrived: ${result.reason}`
}

export async function checkCanary(store: Store, options: CheckCanaryOptions): Promise<CheckCanaryResult> {
  const now = options.now ?? Date.now()
  const parsed = duration.safeParse(options.window ?? '24h')
  if (!parsed.success) throw new AssayError('ASSAY_INVALID_ARGUMENT', `window must be a duration such as 30m, 24h or 7d, got ${JSON.stringify(options.window)}`, { field: 'window' })
  const from = now - parsed.data
  const [champion, challenger] = await Promise.all([store.getDeployment(options.champion), store.getDeployment(options.challenger)])
  const championRows = await readTraceRows(store, champion.id, from, now)
  const challengerRows = await readTraceRows(store, challenger.id, from, now)
  let metrics = options.metrics
  if (metrics === undefined || metrics.length === 0) {
    const theirs = scoreNames(challengerRows)
    const common = [...scoreNames(championRows)].filter((name) => theirs.has(name)).sort()
    metrics = [{ metric: 'latencyMs' }, { metric: 'tokens' }, { metric: 'costUsd' }, ...common.map((metric) => ({ metric }))]
  }
  // A metric neither side carries (no tokens, no cost logged) is left out rather than compared on nothing.
  const carried = metrics.filter((m) => [championRows, challengerRows].every((rows) => rows.some((r) => carries(r, m.metric))))
  if (carried.length === 0) throw new AssayError('ASSAY_INVALID_ARGUMENT', `no metric has values on both sides in the window (${championRows.length} champion and ${challengerRows.length} challenger traces)`)
  const result = compareCanary(championRows, challengerRows, { metrics: carried, pairing: pairingOf(options.pairing ?? 'auto', championRows, challengerRows), confidenceLevel: options.confidenceLevel, seed: options.seed })
  const evidence: CanaryCheckEvidence = JSON.parse(
    JSON.stringify({
      schema: 'assay.canary-decision/v1',
      assayVersion: ASSAY_VERSION,
      checkedAt: now,
      actor: options.actor,
      champion: side(champion, championRows.length),
      challenger: side(challenger, challengerRows.length),
      window: { from, to: now },
      decision: result.decision,
      reason: result.reason,
      next: nextCommand(result, challenger),
      result: { ...result, metrics: result.metrics.map(({ comparison: _engine, ...m }) => m) },
    } satisfies CanaryCheckEvidence),
  ) as CanaryCheckEvidence
  if (options.record === false) return { evidence, audit: null }
  const record = await appendAuditRecord(store, {
    kind: 'canary-decision',
    actor: options.actor,
    subject: `${champion.endpoint} vs ${challenger.endpoint}`,
    at: now,
    body: evidence as unknown as JsonValue,
  })
  return { evidence, audit: { seq: record.seq, hash: record.hash } }
}

function carries(row: TraceRow, metric: string): boolean {
  if (metric === 'latencyMs') return row.latencyMs !== undefined
  if (metric === 'costUsd') return row.costUsd !== undefined
  if (metric === 'tokens') return row.inputTokens !== undefined || row.outputTokens !== undefined
  return row.scores?.[metric] !== undefined
}

/**
 * Stored traces all carry their conversation id as input id, so 'auto' cannot mean "every row has
 * one" here: it is paired when the challenger replayed the champion's inputs (every challenger
 * input id is among the champion's), unpaired otherwise.
 */
function pairingOf(pairing: 'auto' | 'paired' | 'unpaired', champion: readonly TraceRow[], challenger: readonly TraceRow[]): 'paired' | 'unpaired' {
  if (pairing !== 'auto') return pairing
  const ids = new Set(champion.map((r) => r.inputId))
  return challenger.length > 0 && challenger.every((r) => r.inputId !== undefined && ids.has(r.inputId)) ? 'paired' : 'unpaired'
}
