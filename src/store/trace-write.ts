import { AssayError, isAssayError } from '../errors.js'
import { extractTraceFields, storedSpan, TRACE_LIMITS, validateTraceInput, type StoredSpan, type TraceFields, type TraceInput, type TraceSpan } from '../record/production.js'
import { refuseNulInJson } from './nul-guard.js'
import { readSpanSetKeys, spanFromData, spanSetHash, spanSetKeys, spanSetLines, spanSetText, TRACE_FIELD_SQL_COLUMNS, traceFieldValues, type SpanSetRow } from './production-rows.js'
import type { SqlColumn, SqlExecutor } from './sql-adapter.js'
import type { LogTracesResult, Store } from './store.js'

/**
 * Writing traces in two steps (docs/production.md "Storage"): prepareTraces checks and serialises
 * them with no store at hand (pure: the OTLP route runs it in a worker thread beside the decode),
 * and writeTraces stores the prepared traces in one write transaction. SqlStore.logTraces is the
 * two in a row; the server hands prepared traces straight to the second.
 */

/**
 * A checked trace in the form the store writes: what one call adds to it. Plain data (strings,
 * numbers, bytes), so it crosses to and from a worker thread by structured clone.
 */
export interface PreparedTrace {
  traceId: string
  deploymentId: string
  spanCount: number
  /** The spans' canonical JSON texts, one a line, in the order of `keys` (spanSetText). */
  text: string
  /** Per span its id and content hash, 40 bytes each (spanSetKeys); a Uint8Array after a clone. */
  keys: Uint8Array
  /** The trace row's fields from these spans alone: the row of a trace this call creates. */
  fields: TraceFields
}

/** A refused trace; `deploymentId` where the input named one (a token's scope is checked on it). */
export type TraceRejection = LogTracesResult['rejected'][number] & { deploymentId?: string }

export interface PreparedTraces {
  traces: PreparedTrace[]
  /** Traces refused by their checks, in input order. */
  rejected: TraceRejection[]
}

/**
 * A store that also takes prepared traces, as the server's OTLP route prepares them in its decode
 * threads: the SQL stores. Declared here, not in store.ts: the Store contract knows nothing of it.
 */
export interface PreparedTraceWriter {
  logPreparedTraces(batch: PreparedTraces): Promise<LogTracesResult>
}

export function preparedTraceWriter(store: Store): PreparedTraceWriter | undefined {
  const writer = store as Partial<PreparedTraceWriter>
  return typeof writer.logPreparedTraces === 'function' ? (store as Store & PreparedTraceWriter) : undefined
}

/**
 * Check traces (validateTraceInput, no NUL in any span's text), join the spans of one trace id
 * given in several inputs, and serialise each span once: its canonical JSON is both the stored
 * text and what its content hash hashes.
 */
export function prepareTraces(traces: readonly TraceInput[]): PreparedTraces {
  const rejected: TraceRejection[] = []
  const reject = (trace: TraceInput, error: unknown): void => {
    if (!isAssayError(error)) throw error
    const deploymentId = (trace as { deploymentId?: unknown } | null)?.deploymentId
    rejected.push({ traceId: String(trace?.traceId), spans: Array.isArray(trace?.spans) ? trace.spans.length : 0, code: error.code, message: error.message, ...(typeof deploymentId === 'string' ? { deploymentId } : {}) })
  }
  const stored = new Map<TraceSpan, StoredSpan>()
  const storedOf = (span: TraceSpan): StoredSpan => {
    let form = stored.get(span)
    if (form === undefined) stored.set(span, (form = storedSpan(span)))
    return form
  }
  const byId = new Map<string, TraceInput>()
  const checkedResources = new WeakSet<object>()
  for (const raw of traces) {
    let trace: TraceInput
    try {
      trace = validateTraceInput(raw, checkedResources)
      // No stored text holds a NUL or a lone surrogate (nul-guard.ts), span data included though it is
      // stored as JSON: refused here, per trace, rather than failing the batch's statement.
      for (const span of trace.spans) refuseNulInJson(storedOf(span).data, span)
    } catch (error) {
      reject(raw, error)
      continue
    }
    const seen = byId.get(trace.traceId)
    if (seen === undefined) byId.set(trace.traceId, trace)
    else if (seen.deploymentId !== trace.deploymentId) reject(trace, traceConflict(trace.traceId, `names deployment ${trace.deploymentId} and ${seen.deploymentId} in one call`))
    else {
      try {
        byId.set(trace.traceId, validateTraceInput({ ...seen, spans: [...seen.spans, ...trace.spans.filter((s) => !seen.spans.some((o) => o.spanId === s.spanId && storedOf(o).data === storedOf(s).data))] }))
      } catch (error) {
        reject(trace, error)
      }
    }
  }
  const prepared: PreparedTrace[] = []
  for (const trace of byId.values()) {
    const forms = trace.spans.map(storedOf)
    prepared.push({
      traceId: trace.traceId,
      deploymentId: trace.deploymentId,
      spanCount: trace.spans.length,
      text: spanSetText(forms.map((f) => f.data)),
      keys: spanSetKeys(trace.spans.map((s, i) => ({ spanId: s.spanId, contentSha256: forms[i].contentSha256 }))),
      fields: extractTraceFields(trace.spans),
    })
  }
  return { traces: prepared, rejected }
}

const text = (name: string): SqlColumn => ({ name, type: 'text' })
const TRACE_COLUMNS: readonly SqlColumn[] = [text('trace_id'), text('deployment_id'), ...TRACE_FIELD_SQL_COLUMNS]
const SET_COLUMNS: readonly SqlColumn[] = [text('trace_id'), { name: 'seq', type: 'bigint' }, { name: 'span_keys', type: 'bytea' }, text('spans')]

/** What writeTraces knows of a stored trace it joins: each span id's content hash, the spans it parsed, the texts of sets it did not parse, the next seq. */
interface HeldSpans {
  hashes: Map<string, string>
  spans: TraceSpan[]
  unparsed: string[]
  nextSeq: number
}

/**
 * Store prepared traces, each trace id at most once, inside the caller's write transaction: new
 * traces get their row and a first set; a trace stored before joins it (its row locked, so
 * concurrent joiners queue), adding a set of the spans it did not hold; a span id held with other
 * content rejects the trace whole (ASSAY_TRACE_CONFLICT), as does an unknown deployment.
 * `knownDeployments`, when given, holds deployment ids found before and gains those found now:
 * no store deletes a deployment, so one found once is there for good, and a write whose traces
 * name only those skips the lookup's round trip (traces.deployment_id's foreign key stays the
 * last word).
 */
export async function writeTraces(tx: SqlExecutor, forUpdate: string, traces: readonly PreparedTrace[], knownDeployments?: Set<string>): Promise<LogTracesResult> {
  const outcome: LogTracesResult = { stored: [], unchanged: [], rejected: [] }
  if (traces.length === 0) return outcome
  const refuse = (trace: PreparedTrace, error: AssayError): void => {
    outcome.rejected.push({ traceId: trace.traceId, spans: trace.spanCount, code: error.code, message: error.message })
  }
  const known = await deploymentsFound(tx, traces, knownDeployments)
  // New traces in one statement (in trace id order, so two writers of overlapping sets queue
  // rather than deadlock); a trace another writer stored first, even one committing meanwhile,
  // is not inserted and joins it below, read with its row locked so concurrent joiners queue.
  const candidates = traces.filter((trace) => {
    if (known.has(trace.deploymentId)) return true
    refuse(trace, new AssayError('ASSAY_UNKNOWN_DEPLOYMENT', `trace ${trace.traceId} names deployment ${trace.deploymentId}, which the store does not have (create it first: assay.deploy)`, { traceId: trace.traceId, deploymentId: trace.deploymentId }))
    return false
  }).sort((a, b) => (a.traceId < b.traceId ? -1 : 1))
  const inserted = candidates.length === 0 ? new Set<string>() : new Set((await tx.insertRowsReturning<{ trace_id: string }>(
    'traces',
    TRACE_COLUMNS,
    candidates.map((t) => [t.traceId, t.deploymentId, ...traceFieldValues(t.fields)]),
    'ON CONFLICT (trace_id) DO NOTHING RETURNING trace_id',
  )).map((r) => r.trace_id))
  const others = candidates.filter((t) => !inserted.has(t.traceId))
  const existing = new Map(others.length === 0 ? [] : (await tx.all<{ trace_id: string; deployment_id: string }>(`SELECT trace_id, deployment_id FROM traces WHERE trace_id IN (${marks(others)}) ORDER BY trace_id${forUpdate}`, others.map((t) => t.traceId))).map((r) => [r.trace_id, r.deployment_id]))
  // One trace_span_sets row per trace per write (migration 16): the spans this write adds to it,
  // with their ids and content hashes (migration 19), so a later write compares with those.
  const rows: unknown[][] = []
  for (const t of traces) {
    if (!inserted.has(t.traceId)) continue
    rows.push([t.traceId, 0, asBuffer(t.keys), t.text])
    outcome.stored.push(t.traceId)
  }
  // In input order, as the answer lists them.
  const joining = traces.filter((t) => existing.has(t.traceId) && known.has(t.deploymentId) && !inserted.has(t.traceId))
  const grown: { traceId: string; added: TraceSpan[]; held: HeldSpans }[] = []
  if (joining.length > 0) {
    const joinIds = joining.map((t) => t.traceId)
    // The ids and hashes of the stored spans, from the sets that record them (span_keys), their
    // spans kept as text and parsed only if the trace grows (a re-send parses and hashes none);
    // a set written before migration 19 is parsed, and hashed where its hashes are NULL. The
    // spans are read in this one statement, not a second one for growing traces: a late span
    // then costs no more round trips than before.
    const sets = await tx.all<SpanSetRow>(`SELECT trace_id, seq, span_keys, hashes, spans FROM trace_span_sets WHERE trace_id IN (${marks(joinIds)})`, joinIds)
    const held = new Map<string, HeldSpans>()
    for (const r of sets) {
      let h = held.get(r.trace_id)
      if (h === undefined) held.set(r.trace_id, (h = { hashes: new Map(), spans: [], unparsed: [], nextSeq: 0 }))
      const have = h
      have.nextSeq = Math.max(have.nextSeq, Number(r.seq) + 1)
      if (readSpanSetKeys(r, (spanId, hash) => have.hashes.set(spanId, hash))) {
        have.unparsed.push(r.spans)
        continue
      }
      spanSetLines(r).forEach((line, i) => {
        const span = spanFromData(line)
        have.spans.push(span)
        have.hashes.set(span.spanId, spanSetHash(r, line, i))
      })
    }
    for (const trace of joining) {
      if (existing.get(trace.traceId) !== trace.deploymentId) {
        // Not naming the other deployment: the caller may not be allowed to read it.
        refuse(trace, traceConflict(trace.traceId, `is stored for another deployment, not ${trace.deploymentId}`))
        continue
      }
      const have = held.get(trace.traceId) ?? { hashes: new Map<string, string>(), spans: [], unparsed: [], nextSeq: 0 }
      // The new spans' ids and hashes from their keys, in line order (production-rows.ts owns the layout).
      const incoming: { spanId: string; contentSha256: string }[] = []
      readSpanSetKeys({ span_keys: asBuffer(trace.keys) }, (spanId, contentSha256) => incoming.push({ spanId, contentSha256 }))
      const added: number[] = []
      let conflict: string | undefined
      incoming.forEach(({ spanId, contentSha256 }, i) => {
        const storedHash = have.hashes.get(spanId)
        if (storedHash === undefined) added.push(i)
        else if (storedHash !== contentSha256) conflict ??= spanId
      })
      if (conflict !== undefined) {
        refuse(trace, traceConflict(trace.traceId, `already holds span ${conflict} with other content`))
        continue
      }
      if (added.length === 0) {
        outcome.unchanged.push(trace.traceId)
        continue
      }
      if (have.hashes.size + added.length > TRACE_LIMITS.spansPerTrace) {
        refuse(trace, new AssayError('ASSAY_INVALID_TRACE', `trace ${trace.traceId} would hold ${have.hashes.size + added.length} spans; the limit is ${TRACE_LIMITS.spansPerTrace}`, { traceId: trace.traceId, limit: TRACE_LIMITS.spansPerTrace }))
        continue
      }
      const lines = spanSetLines({ spans: trace.text })
      const addedLines = added.length === trace.spanCount ? lines : added.map((i) => lines[i])
      const addedKeys = added.length === trace.spanCount ? asBuffer(trace.keys) : spanSetKeys(added.map((i) => incoming[i]))
      // The trace row is locked (read FOR UPDATE above), so no other writer takes this seq.
      rows.push([trace.traceId, have.nextSeq, addedKeys, spanSetText(addedLines)])
      grown.push({ traceId: trace.traceId, added: addedLines.map(spanFromData), held: have })
    }
  }
  if (rows.length > 0) await tx.insertRows('trace_span_sets', SET_COLUMNS, rows)
  if (grown.length > 0) {
    // A trace that grew: its fields from all its spans, old (parsed now) and new.
    const allSpans = (g: (typeof grown)[number]): TraceSpan[] => [...g.held.spans, ...g.held.unparsed.flatMap((stored) => spanSetLines({ spans: stored }).map(spanFromData)), ...g.added]
    await tx.updateRows('traces', [text('trace_id'), ...TRACE_FIELD_SQL_COLUMNS], grown.map((g) => [g.traceId, ...traceFieldValues(extractTraceFields(allSpans(g)))]))
    outcome.stored.push(...grown.map((g) => g.traceId))
  }
  return outcome
}

/** Deployment ids a store object remembers at most (past it, others are looked up each write). */
export const KNOWN_DEPLOYMENTS_LIMIT = 10_000

/** The deployments of `traces` that the store has: from `cache` where it holds them, else looked up (and added to it). */
async function deploymentsFound(tx: SqlExecutor, traces: readonly PreparedTrace[], cache: Set<string> | undefined): Promise<Set<string>> {
  const found = new Set<string>()
  const unknown = new Set<string>()
  for (const t of traces) (cache?.has(t.deploymentId) === true ? found : unknown).add(t.deploymentId)
  if (unknown.size === 0) return found
  const ids = [...unknown]
  for (const r of await tx.all<{ id: string }>(`SELECT id FROM deployments WHERE id IN (${marks(ids)})`, ids)) {
    found.add(r.id)
    if (cache !== undefined && cache.size < KNOWN_DEPLOYMENTS_LIMIT) cache.add(r.id)
  }
  return found
}

/** Bytes as a Buffer over the same memory (a Buffer cloned to or from a worker thread arrives as a Uint8Array). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function marks(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ')
}

export function traceConflict(traceId: string, what: string): AssayError {
  return new AssayError('ASSAY_TRACE_CONFLICT', `trace ${traceId} ${what}; the stored trace is unchanged`, { traceId })
}

/**
 * What one group commit writes at most (several full OTLP batches of 512 spans, and their span
 * texts' characters), and how many transactions are under way at once: two, so one is executing
 * while the other waits on its commit or a round trip (bench/results/otlp.md "Group commit and
 * decode threads": paced p99 67–70 ms with two against 90–124 ms with one, alternating runs).
 */
export const GROUP_COMMIT_LIMITS = { spans: 8192, characters: 32 * 1024 * 1024, writers: 2 }
/** Spans waiting for the writer past which a call is refused at once (ASSAY_STORE_BUSY, 503: exporters retry later) rather than queued. */
export const MAX_WAITING_SPANS = 16 * GROUP_COMMIT_LIMITS.spans

/** Failures of the store itself, not of one call's traces: a group failing so fails every call in it, without a retry call by call. */
const STORE_FAILURES = new Set(['ASSAY_STORE_UNAVAILABLE', 'ASSAY_STORE_BUSY', 'ASSAY_STORE_FULL', 'ASSAY_STORE_MALFORMED_RESPONSE'])

interface WaitingWrite {
  traces: readonly PreparedTrace[]
  spans: number
  characters: number
  resolve: (result: LogTracesResult) => void
  reject: (error: unknown) => void
}

/**
 * Trace writes of concurrent callers committed together: at most `limits.writers` transactions at
 * a time, and the calls that arrive while they are busy are taken together (in arrival order,
 * within the limits, no trace id in two calls of one group) into the next. A few writers rather
 * than a transaction per call: on a two-core machine sixteen concurrent transactions of these rows
 * have a p99 several times that of the same rows written by one or two (bench/results/otlp.md
 * "Group commit and decode threads"). Two groups under way may hold the same trace id; they
 * meet in the database as two processes' writes do (writeTraces).
 * A call is answered once the transaction holding its traces has committed, with its own traces'
 * outcomes. When a group's transaction fails for the store's own reason (unreachable, busy, full)
 * every call in it gets that error; otherwise each call is written alone, so one call's failure is
 * not another's (a call whose traces the failed attempt did commit after all is answered unchanged).
 * Past MAX_WAITING_SPANS waiting, a call is refused at once (ASSAY_STORE_BUSY) rather than queued.
 */
export class TraceGroupCommit {
  private readonly waiting: WaitingWrite[] = []
  private waitingSpans = 0
  private writing = 0

  constructor(
    private readonly write: (traces: readonly PreparedTrace[]) => Promise<LogTracesResult>,
    private readonly limits = GROUP_COMMIT_LIMITS,
  ) {}

  submit(traces: readonly PreparedTrace[]): Promise<LogTracesResult> {
    const spans = traces.reduce((n, t) => n + t.spanCount, 0)
    if (this.waitingSpans > 0 && this.waitingSpans + spans > MAX_WAITING_SPANS) {
      return Promise.reject(new AssayError('ASSAY_STORE_BUSY', `${this.waitingSpans} spans are waiting to be written; retry later`, { waitingSpans: this.waitingSpans, limit: MAX_WAITING_SPANS }))
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ traces, spans, characters: traces.reduce((n, t) => n + t.text.length, 0), resolve, reject })
      this.waitingSpans += spans
      this.pump()
    })
  }

  /** Start a transaction for the calls waiting while fewer than `limits.writers` are under way. */
  private pump(): void {
    while (this.writing < this.limits.writers && this.waiting.length > 0) {
      const group = this.takeGroup()
      this.writing++
      void this.commit(group).finally(() => {
        this.writing--
        this.pump()
      })
    }
  }

  private takeGroup(): WaitingWrite[] {
    const first = this.waiting.shift() as WaitingWrite
    const group = [first]
    const ids = new Set(first.traces.map((t) => t.traceId))
    let spans = first.spans
    let characters = first.characters
    while (this.waiting.length > 0) {
      const next = this.waiting[0]
      if (spans + next.spans > this.limits.spans || characters + next.characters > this.limits.characters || next.traces.some((t) => ids.has(t.traceId))) break
      this.waiting.shift()
      group.push(next)
      spans += next.spans
      characters += next.characters
      for (const t of next.traces) ids.add(t.traceId)
    }
    for (const w of group) this.waitingSpans -= w.spans
    return group
  }

  private async commit(group: WaitingWrite[]): Promise<void> {
    if (group.length === 1) return this.alone(group[0])
    let result: LogTracesResult
    try {
      result = await this.write(group.flatMap((w) => w.traces))
    } catch (error) {
      // The store failing fails every call; anything else may be one call's traces, so each is written alone.
      if (isAssayError(error) && STORE_FAILURES.has(error.code)) {
        for (const w of group) w.reject(error)
        return
      }
      for (const w of group) await this.alone(w)
      return
    }
    const owner = new Map<string, LogTracesResult>()
    const parts = group.map((w) => {
      const part: LogTracesResult = { stored: [], unchanged: [], rejected: [] }
      for (const t of w.traces) owner.set(t.traceId, part)
      return part
    })
    for (const id of result.stored) owner.get(id)?.stored.push(id)
    for (const id of result.unchanged) owner.get(id)?.unchanged.push(id)
    for (const r of result.rejected) owner.get(r.traceId)?.rejected.push(r)
    group.forEach((w, i) => w.resolve(parts[i]))
  }

  private async alone(w: WaitingWrite): Promise<void> {
    try {
      w.resolve(await this.write(w.traces))
    } catch (error) {
      w.reject(error)
    }
  }
}
