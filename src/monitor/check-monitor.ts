import { appendAuditRecord } from '../audit/append-and-verify.js'
import { AssayError, isAssayError } from '../errors.js'
import type { Deployment } from '../record/production.js'
import type { AliasEvent, AuditRecord, EvalColumns, JsonValue } from '../record/types.js'
import { currentHolder, rollback } from '../registry/registry.js'
import type { Store } from '../store/store.js'
import { ASSAY_VERSION } from '../version.js'
import { traceColumnsFromRows, type TraceColumnNeeds, type TraceColumns } from '../record/trace-columns.js'
import { decideMonitor, monitorColumnNeeds, type MonitorResult } from './decide-monitor.js'
import { duration, type LoadedMonitor } from './monitor-spec.js'
import type { DeploymentInfo, TraceRow } from './trace-row.js'

/**
 * `assay monitor check`: read a deployment's window of traces and its reference from the store,
 * decide with decideMonitor, record the decision as a `monitor-decision` audit record and, when
 * the monitor allows it, roll the deployment's alias back to the rollback candidate through the
 * registry's recorded rollback (the path of `assay rollback`). Over HTTP the server runs this
 * (POST /api/v1/monitor-checks), as it runs gate checks.
 */

export interface CheckMonitorOptions {
  monitor: LoadedMonitor
  /** A deployment id; default: the newest deployment of the monitor's `deployment` endpoint. */
  deployment?: string
  /** The window's length ("24h"; default 24h); it ends at `now`. */
  window?: string
  /** trailing:DURATION (default trailing:7d: the DURATION before the window) or run:RUN[:DATASET] (that run's eval records). */
  reference?: string
  /** The window's end, ms since the epoch (default: the clock). */
  now?: number
  actor: string
  /** false: decide only, record nothing, roll nothing back. */
  record?: boolean
}

export interface MonitorReference {
  kind: 'trailing' | 'run'
  /** trailing: the reference window [from, to). */
  from?: number
  to?: number
  /** run: the evaluation run and dataset whose eval records are the reference. */
  run?: string
  dataset?: string
  rows: number
}

export interface MonitorCheckEvidence {
  schema: 'assay.monitor-decision/v1'
  assayVersion: string
  checkedAt: number
  actor: string
  /** model: the model the monitor guards (its rollback candidate's), which ties a deployment naming no model to it. */
  monitor: { name: string; source: string; sha256: string; model: string | null }
  deployment: { id: string; endpoint: string; endpointVersion: string; model: string | null; modelVersion: number | null; alias: string | null; unauditable: string[] }
  window: { from: number; to: number; traces: number }
  reference: Omit<MonitorReference, 'rows'> & { traces: number }
  decision: MonitorResult['decision']
  reason: string
  actions: string[]
  /** The candidate, the mode, the alias the rollback moves (the deployment's, else champion) and the version it returns to. */
  rollback: (NonNullable<MonitorResult['rollback']> & { mode: 'automatic' | 'manual'; movesAlias: string | null; targetVersion: number | null }) | null
  escalation: string | null
  /** The command to run next (null when the decision is ok, or when the rollback was made here). */
  next: string | null
  result: MonitorResult
}

export interface CheckMonitorResult {
  evidence: MonitorCheckEvidence
  audit: { seq: number; hash: string } | null
  /** The rollback made here (automatic mode), with its own audit record. */
  rolledBack: { event: AliasEvent; audit: { seq: number; hash: string } } | null
  /** Why an automatic rollback was not made, when it was not. */
  rollbackRefused: { code: string; message: string } | null
}

const DEFAULT_WINDOW = '24h'
const DEFAULT_REFERENCE = 'trailing:7d'

function durationMs(text: string, what: string): number {
  const parsed = duration.safeParse(text)
  if (!parsed.success || !(parsed.data > 0)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${what} must be a duration such as 90s, 30m, 24h or 7d, got ${JSON.stringify(text)}`, { field: what })
  return parsed.data
}

/** Every row of a deployment's traces in [from, to), read page by page (the canary's read; `monitor check` reads columns). */
export async function readTraceRows(store: Store, deployment: string, from: number, to: number): Promise<TraceRow[]> {
  const rows: TraceRow[] = []
  let cursor: string | undefined
  do {
    const page = await store.traceRowsPage({ deployment, from, to, cursor })
    for (const row of page.rows) rows.push(row)
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined)
  return rows
}

/** A run's eval records as trace rows: id, cluster (as conversation), scores, latency, tokens (as output tokens), cost; time = the run's start. */
export function evalRows(columns: EvalColumns, time: number): TraceRow[] {
  const missing = new Map(Object.entries(columns.missing).map(([k, v]) => [k, new Set(v)]))
  const has = (column: string, i: number): boolean => !(missing.get(column)?.has(i) ?? false)
  return columns.ids.map((id, i) => {
    const scores: Record<string, number> = {}
    for (const [name, values] of Object.entries(columns.scores)) if (has(`score:${name}`, i)) scores[name] = values[i]
    const row: TraceRow = { traceId: id, time, scores }
    if (columns.latencyMs !== null && has('latencyMs', i)) row.latencyMs = columns.latencyMs[i]
    if (columns.tokens !== null && has('tokens', i)) row.outputTokens = columns.tokens[i]
    if (columns.cost !== null && has('cost', i)) row.costUsd = columns.cost[i]
    const cluster = columns.clusters?.[i]
    if (cluster !== null && cluster !== undefined) {
      row.conversationId = cluster
      row.inputId = cluster
    }
    return row
  })
}

/** The deployment a check is about: an id, else the newest deployment of the monitor's endpoint. */
export async function resolveDeployment(store: Store, monitor: LoadedMonitor, id: string | undefined): Promise<Deployment> {
  if (id !== undefined) return store.getDeployment(id)
  const endpoint = monitor.spec.deployment
  if (endpoint === undefined) throw new AssayError('ASSAY_INVALID_ARGUMENT', `monitor ${monitor.spec.monitor} names no deployment: pass --deployment ID`, { field: 'deployment' })
  let newest: Deployment | undefined
  let cursor: string | undefined
  do {
    const page = await store.listDeploymentsPage({ endpoint, limit: 1000, cursor })
    newest = page.deployments.at(-1) ?? newest
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined)
  if (newest === undefined) throw new AssayError('ASSAY_DEPLOYMENT_NOT_FOUND', `no deployment of endpoint ${endpoint} (monitor ${monitor.spec.monitor})`, { endpoint })
  return newest
}

function deploymentInfo(d: Deployment): DeploymentInfo {
  const info: DeploymentInfo = { endpoint: d.endpoint }
  if (d.model !== null && d.modelVersion !== null) info.modelVersion = `${d.model}@${d.modelVersion}`
  if (d.owner !== null) info.owner = d.owner
  if (d.codeHash !== null) info.codeHash = d.codeHash
  if (d.inputs.length > 0) info.inputVersion = d.inputs.map((i) => i.sha256).join(',')
  return info
}

async function readReference(store: Store, deployment: string, reference: string, windowFrom: number, needs: TraceColumnNeeds): Promise<{ ref: Omit<MonitorReference, 'rows'>; columns: TraceColumns }> {
  const colon = reference.indexOf(':')
  const kind = colon < 0 ? reference : reference.slice(0, colon)
  const rest = colon < 0 ? '' : reference.slice(colon + 1)
  if (kind === 'trailing') {
    const from = windowFrom - durationMs(rest, 'reference trailing window')
    return { ref: { kind: 'trailing', from, to: windowFrom }, columns: await store.traceColumns({ deployment, from, to: windowFrom, needs }) }
  }
  if (kind === 'run') {
    const [runText, datasetText] = rest.split(':')
    if (runText === undefined || runText === '') throw new AssayError('ASSAY_INVALID_ARGUMENT', 'a run reference is run:RUN or run:RUN:DATASET', { field: 'reference' })
    const run = await store.getRun(await store.resolveRunId(runText))
    const datasets = run.evals.map((e) => e.dataset)
    const dataset = datasetText ?? (datasets.length === 1 ? datasets[0] : undefined)
    if (dataset === undefined || !datasets.includes(dataset)) {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `run ${run.id} has eval records of ${datasets.length === 0 ? 'no dataset' : datasets.join(', ')}: name one as run:RUN:DATASET`, { field: 'reference', datasets })
    }
    return { ref: { kind: 'run', run: run.id, dataset }, columns: traceColumnsFromRows(evalRows(await store.evalColumns(run.id, dataset), run.startTime), needs) }
  }
  throw new AssayError('ASSAY_INVALID_ARGUMENT', `reference must be trailing:DURATION or run:RUN[:DATASET], got ${JSON.stringify(reference)}`, { field: 'reference' })
}

/** The version a rollback candidate names: its version, or what its alias holds now. */
async function candidateVersion(store: Store, candidate: NonNullable<MonitorResult['rollback']>): Promise<number | null> {
  if (typeof candidate.version === 'number') return candidate.version
  if (typeof candidate.version === 'string' && /^\d+$/.test(candidate.version)) return Number(candidate.version)
  if (candidate.alias !== undefined) return currentHolder(store, candidate.model, candidate.alias)
  return null
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`
}

/** The command a person runs next, per decision. */
function nextCommand(result: MonitorResult, d: Deployment, alias: string | null, target: number | null): string | null {
  const rb = result.rollback
  switch (result.decision) {
    case 'ok':
      return null
    case 'rollback':
      if (rb === null) return null
      if (alias !== null) return `assay rollback ${rb.model} --alias ${alias} --reason ${quote(`monitor ${result.monitor}: ${result.reason}`)}`
      return `redeploy endpoint ${d.endpoint} with ${rb.model} version ${target ?? rb.version ?? `@${rb.alias}`} (the deployment pins a version; no alias to move)`
    case 'retrain':
      return `retrain ${d.model ?? d.endpoint} on current data, then gate and promote it (assay gate check, assay promote): ${result.reason}`
    case 'escalate':
      return `escalate to ${result.escalation}: ${result.reason}`
    case 'warn':
      return `investigate (${result.actions.join(', ')}): ${result.reason}`
  }
}

function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

export async function checkMonitor(store: Store, options: CheckMonitorOptions): Promise<CheckMonitorResult> {
  const { monitor } = options
  const now = options.now ?? Date.now()
  if (!Number.isFinite(now)) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'now must be a time in milliseconds')
  const windowMs = durationMs(options.window ?? DEFAULT_WINDOW, 'window')
  const deployment = await resolveDeployment(store, monitor, options.deployment)
  const from = now - windowMs
  // Only the columns the monitor's checks read, straight into typed arrays.
  const needs = monitorColumnNeeds(monitor.spec)
  // The window and its reference are read at once: on PostgreSQL each is a statement of its own
  // connection, so the server reads one while this process decodes the other.
  // Both are settled before either's error is thrown (the window's first, as when read in turn).
  const [read, referenceRead] = await Promise.allSettled([
    store.traceColumns({ deployment: deployment.id, from, to: now, needs }),
    readReference(store, deployment.id, options.reference ?? DEFAULT_REFERENCE, from, needs),
  ])
  if (read.status === 'rejected') throw read.reason
  if (referenceRead.status === 'rejected') throw referenceRead.reason
  const current = read.value
  const { ref, columns: reference } = referenceRead.value
  const result = decideMonitor(monitor, { current, reference, now, deployment: deploymentInfo(deployment) })

  const mode = monitor.spec.actions.rollback
  // The alias production is served through: the deployment's own, else the model's champion.
  const alias = deployment.model === null ? null : (deployment.alias ?? 'champion')
  const target = result.rollback === null ? null : await candidateVersion(store, result.rollback)
  const evidence: MonitorCheckEvidence = jsonCopy({
    schema: 'assay.monitor-decision/v1',
    assayVersion: ASSAY_VERSION,
    checkedAt: now,
    actor: options.actor,
    monitor: { name: monitor.spec.monitor, source: monitor.source, sha256: monitor.sha256, model: monitor.spec.rollback?.model ?? null },
    deployment: {
      id: deployment.id,
      endpoint: deployment.endpoint,
      endpointVersion: deployment.endpointVersion,
      model: deployment.model,
      modelVersion: deployment.modelVersion,
      alias: deployment.alias,
      unauditable: [...deployment.unauditable],
    },
    window: { from, to: now, traces: current.length },
    reference: { ...ref, traces: reference.length },
    decision: result.decision,
    reason: result.reason,
    actions: result.actions,
    rollback: result.rollback === null ? null : { ...result.rollback, mode, movesAlias: alias, targetVersion: target },
    escalation: result.escalation,
    next: nextCommand(result, deployment, alias, target),
    result,
  } satisfies MonitorCheckEvidence)
  if (options.record === false) return { evidence, audit: null, rolledBack: null, rollbackRefused: null }

  const record = await appendAuditRecord(store, { kind: 'monitor-decision', actor: options.actor, subject: monitor.spec.monitor, at: now, body: evidence as unknown as JsonValue })
  const audit = { seq: record.seq, hash: record.hash }
  if (result.decision !== 'rollback' || mode !== 'automatic' || result.rollback === null) return { evidence, audit, rolledBack: null, rollbackRefused: null }
  if (alias === null || deployment.model !== result.rollback.model || target === null) {
    const message = alias === null ? 'the deployment serves no registered model alias' : deployment.model !== result.rollback.model ? `the deployment serves ${deployment.model}, the rollback candidate is of ${result.rollback.model}` : 'the rollback candidate names no version'
    return { evidence, audit, rolledBack: null, rollbackRefused: { code: 'ASSAY_ROLLBACK_TARGET_MISMATCH', message } }
  }
  try {
    const moved = await rollback(store, {
      model: deployment.model,
      alias,
      actor: options.actor,
      at: now,
      expectVersion: target,
      reason: `monitor ${monitor.spec.monitor} (audit record ${record.seq}): ${result.reason}`,
    })
    return { evidence, audit, rolledBack: { event: moved.event, audit: auditRef(moved.audit) }, rollbackRefused: null }
  } catch (error) {
    if (isAssayError(error, 'ASSAY_ROLLBACK_TARGET_MISMATCH') || isAssayError(error, 'ASSAY_NOTHING_TO_ROLL_BACK')) {
      return { evidence, audit, rolledBack: null, rollbackRefused: { code: error.code, message: error.message } }
    }
    throw error
  }
}

function auditRef(record: AuditRecord): { seq: number; hash: string } {
  return { seq: record.seq, hash: record.hash }
}
