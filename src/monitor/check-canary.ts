import { appendAuditRecord } from '../audit/append-and-verify.js'
import { AssayError, isAssayError, type ErrorCode } from '../errors.js'
import type { Deployment } from '../record/production.js'
import type { AliasEvent, AuditRecord, JsonValue } from '../record/types.js'
import { currentHolder, rollback } from '../registry/registry.js'
import type { Store } from '../store/store.js'
import { ASSAY_VERSION } from '../version.js'
import { compareCanary, type CanaryMetric, type CanaryResult } from './canary.js'
import { readTraceRows } from './check-monitor.js'
import { duration, type LoadedMonitor } from './monitor-spec.js'
import type { TraceRow } from './trace-row.js'

/**
 * `assay monitor canary`: the champion's and the challenger's traces over one window, compared by
 * compareCanary (paired when the challenger replayed the champion's inputs: rows carry the
 * conversation id as the input id), and the decision (promote, rollback, continue) recorded as a
 * `canary-decision` audit record. When a monitor file is given and its `canary.act` allows the
 * decision, it is acted on through the registry's recorded paths, each citing the decision's
 * record: promote moves the alias to the challenger's version through the registered gate (the
 * path of `assay promote`, with the champion's version as the expected holder); rollback keeps the
 * alias on the champion's version, or rolls it back there from the challenger's (the path of
 * `assay rollback`). Otherwise the decision is evidence and a next command. Moving traffic is the
 * serving platform's job.
 */

/**
 * The promotion path (promotion/promotion.ts `promote`), passed in by the SDK or the server:
 * monitor/ sits beside promotion/, not above it.
 */
export type CanaryPromote = (input: {
  model: string
  version: number
  alias: string
  actor: string
  now: number
  reason: string
  expectPreviousVersion: number | null
  cause: { kind: 'canary-decision'; seq: number; hash: string }
}) => Promise<{ event: AliasEvent; audit: AuditRecord }>

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
  /** The monitor whose `canary.act` says whether the decision is acted on (and which alias moves). */
  monitor?: LoadedMonitor
  /** How a promote decision is carried out; without it, a promote the monitor allows is refused (and said so). */
  promote?: CanaryPromote
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
  /** The monitor that allowed acting (null: none given), what it allows, and the alias acted on. */
  monitor: { name: string; source: string; sha256: string } | null
  act: 'none' | 'promote' | 'rollback' | 'both'
  alias: string | null
  next: string
  result: Omit<CanaryResult, 'metrics'> & { metrics: Omit<CanaryResult['metrics'][number], 'comparison'>[] }
}

/** What was done on the decision: the alias moved (promote, rollback) or left on the champion's version (keep). */
export interface CanaryAction {
  action: 'promote' | 'rollback' | 'keep'
  model: string
  alias: string
  version: number
  previousVersion: number | null
  /** The alias event and its audit record; null for keep (nothing moved). */
  event: AliasEvent | null
  audit: { seq: number; hash: string } | null
}

export interface CheckCanaryResult {
  evidence: CanaryCheckEvidence
  audit: { seq: number; hash: string } | null
  /** The action taken on the decision, when the monitor allowed one and it went through. */
  acted: CanaryAction | null
  /** Why an allowed action was not taken (the gate blocked, the alias moved meanwhile, ...). */
  actRefused: { code: string; message: string } | null
}

function scoreNames(rows: readonly TraceRow[]): Set<string> {
  const names = new Set<string>()
  for (const row of rows) for (const name of Object.keys(row.scores ?? {})) names.add(name)
  return names
}

function side(d: Deployment, traces: number): CanaryCheckEvidence['champion'] {
  return { id: d.id, endpoint: d.endpoint, model: d.model, modelVersion: d.modelVersion, traces }
}

function nextCommand(result: CanaryResult, champion: Deployment, challenger: Deployment, alias: string | null): string {
  const named = challenger.model === null ? `endpoint ${challenger.endpoint}` : `${challenger.model} version ${challenger.modelVersion ?? '?'}`
  const aliasFlag = alias === null || alias === 'champion' ? '' : ` --alias ${alias}`
  if (result.decision === 'promote') {
    return challenger.model !== null && challenger.modelVersion !== null ? `assay promote ${challenger.model} ${challenger.modelVersion}${aliasFlag}` : `promote ${named}`
  }
  if (result.decision === 'rollback') {
    const keep = champion.model !== null && champion.modelVersion !== null ? `keep ${champion.model}${alias === null ? '' : `@${alias}`} on version ${champion.modelVersion} (assay rollback ${champion.model}${aliasFlag} if it already moved to the challenger) and ` : ''
    return `${keep}send all traffic back to the champion; ${named} is worse: ${result.reason}`
  }
  return `keep the traffic split and check again when more traces arrived: ${result.reason}`
}

/**
 * The registry model the challenger serves a version of, that version, and the champion's: the
 * champion deployment's version of the same model, else the monitor's rollback candidate when it
 * names a version of that model; null when there is none.
 */
function servedVersions(champion: Deployment, challenger: Deployment, monitor: LoadedMonitor | undefined): { model: string; champion: number; challenger: number } | null {
  if (challenger.model === null || challenger.modelVersion === null) return null
  const candidate = monitor?.spec.rollback
  const fallback = candidate !== undefined && candidate.model === challenger.model && /^\d+$/.test(String(candidate.version ?? '')) ? Number(candidate.version) : null
  const championVersion = champion.model === challenger.model && champion.modelVersion !== null ? champion.modelVersion : fallback
  return championVersion === null ? null : { model: challenger.model, champion: championVersion, challenger: challenger.modelVersion }
}

/** Codes of a refused action: reported beside the recorded decision instead of failing the check. */
const REFUSALS: ErrorCode[] = [
  'ASSAY_GATE_BLOCKED',
  'ASSAY_WARNINGS_NOT_ACCEPTED',
  'ASSAY_NO_GATE_POLICY',
  'ASSAY_UNAUDITABLE_TRAFFIC',
  'ASSAY_ALIAS_HOLDER_CHANGED',
  'ASSAY_ROLLBACK_TARGET_MISMATCH',
  'ASSAY_NOTHING_TO_ROLL_BACK',
  'ASSAY_GATE_TOO_MUCH_WORK',
]

interface ActInput {
  store: Store
  result: CanaryResult
  champion: Deployment
  challenger: Deployment
  alias: string
  record: { seq: number; hash: string }
  actor: string
  now: number
  promote: CanaryPromote | undefined
  monitor: LoadedMonitor | undefined
}

/** Carry out an allowed promote or rollback decision; a refusal is returned, not thrown. */
async function act(input: ActInput): Promise<Pick<CheckCanaryResult, 'acted' | 'actRefused'>> {
  const { store, result, alias, actor, now } = input
  const served = servedVersions(input.champion, input.challenger, input.monitor)
  if (served === null) {
    return {
      acted: null,
      actRefused: {
        code: 'ASSAY_INVALID_ARGUMENT',
        message: "the challenger serves no model version, or the champion serves no version of the challenger's model (and the monitor's rollback candidate names none): there is no alias to move",
      },
    }
  }
  const cause = { kind: 'canary-decision' as const, seq: input.record.seq, hash: input.record.hash }
  const reason = `canary ${input.challenger.endpoint} vs ${input.champion.endpoint} (audit record ${input.record.seq}, ${input.record.hash.slice(0, 16)}): ${result.reason}`
  try {
    if (result.decision === 'promote') {
      if (input.promote === undefined) return { acted: null, actRefused: { code: 'ASSAY_INVALID_ARGUMENT', message: 'no promotion path was given to act on the decision' } }
      const moved = await input.promote({ model: served.model, version: served.challenger, alias, actor, now, reason, expectPreviousVersion: served.champion, cause })
      return { acted: { action: 'promote', model: served.model, alias, version: served.challenger, previousVersion: served.champion, event: moved.event, audit: { seq: moved.audit.seq, hash: moved.audit.hash } }, actRefused: null }
    }
    const holder = await currentHolder(store, served.model, alias)
    if (holder === served.champion) {
      return { acted: { action: 'keep', model: served.model, alias, version: served.champion, previousVersion: holder, event: null, audit: null }, actRefused: null }
    }
    const moved = await rollback(store, { model: served.model, alias, actor, at: now, reason, expectCurrentVersion: served.challenger, expectVersion: served.champion, cause })
    return { acted: { action: 'rollback', model: served.model, alias, version: served.champion, previousVersion: holder, event: moved.event, audit: { seq: moved.audit.seq, hash: moved.audit.hash } }, actRefused: null }
  } catch (error) {
    if (error instanceof AssayError && REFUSALS.some((code) => isAssayError(error, code))) return { acted: null, actRefused: { code: error.code, message: error.message } }
    throw error
  }
}

export async function checkCanary(store: Store, options: CheckCanaryOptions): Promise<CheckCanaryResult> {
  const now = options.now ?? Date.now()
  const parsed = duration.safeParse(options.window ?? '24h')
  if (!parsed.success) throw new AssayError('ASSAY_INVALID_ARGUMENT', `window must be a duration such as 30m, 24h or 7d, got ${JSON.stringify(options.window)}`, { field: 'window' })
  const from = now - parsed.data
  const [champion, challenger] = await Promise.all([store.getDeployment(options.champion), store.getDeployment(options.challenger)])
  checkMonitorWatches(options.monitor, champion, challenger)
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
  const monitor = options.monitor
  const actMode = monitor?.spec.canary.act ?? 'none'
  // The alias production is served through: the monitor's, else the champion deployment's, else champion.
  const alias = monitor?.spec.canary.alias ?? champion.alias ?? ((champion.model ?? challenger.model) === null ? null : 'champion')
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
      monitor: monitor === undefined ? null : { name: monitor.spec.monitor, source: monitor.source, sha256: monitor.sha256 },
      act: actMode,
      alias,
      next: nextCommand(result, champion, challenger, alias),
      result: { ...result, metrics: result.metrics.map(({ comparison: _engine, ...m }) => m) },
    } satisfies CanaryCheckEvidence),
  ) as CanaryCheckEvidence
  if (options.record === false) return { evidence, audit: null, acted: null, actRefused: null }
  const record = await appendAuditRecord(store, {
    kind: 'canary-decision',
    actor: options.actor,
    subject: `${champion.endpoint} vs ${challenger.endpoint}`,
    at: now,
    body: evidence as unknown as JsonValue,
  })
  const audit = { seq: record.seq, hash: record.hash }
  const allowed = (result.decision === 'promote' && (actMode === 'promote' || actMode === 'both')) || (result.decision === 'rollback' && (actMode === 'rollback' || actMode === 'both'))
  if (!allowed) return { evidence, audit, acted: null, actRefused: null }
  return { evidence, audit, ...(await act({ store, result, champion, challenger, alias: alias ?? 'champion', record: audit, actor: options.actor, now, promote: options.promote, monitor })) }
}

/**
 * A monitor file grants `canary.act`, an alias and a rollback version for the deployment it names;
 * a canary of another endpoint must not borrow them, so it is refused before anything is recorded.
 */
function checkMonitorWatches(monitor: LoadedMonitor | undefined, champion: Deployment, challenger: Deployment): void {
  const watched = monitor?.spec.deployment
  if (monitor === undefined || watched === undefined) return
  if ([champion, challenger].some((d) => d.endpoint === watched || d.id === watched)) return
  throw new AssayError(
    'ASSAY_INVALID_ARGUMENT',
    `monitor ${monitor.spec.monitor} watches deployment ${watched}, but this canary compares endpoint ${champion.endpoint} (${champion.id.slice(0, 8)}) with ${challenger.endpoint} (${challenger.id.slice(0, 8)})`,
    { field: 'monitor', deployment: watched },
  )
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
