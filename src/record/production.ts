import { hash } from 'node:crypto'
import { AssayError } from '../errors.js'
import type { DatasetVersion, EvalRecord, JsonValue } from './types.js'
import { assertName, assertRecordedText, canonicalJson, describe } from './validate.js'
import type { TraceRow } from './trace-row.js'

/**
 * Production records (docs/production.md): a deployment (what serves: endpoint, model version,
 * code, input data, owner), the traces it serves, and feedback that arrives later. The store
 * keeps them; this file holds their types, their validation, and the pure mapping from spans to a
 * trace's extracted fields and to an eval record, so every statistic applies to production traffic.
 */

/** The fields a deployment needs to be auditable; a deployment missing any is stored and flagged. */
export const AUDIT_FIELDS = ['modelVersion', 'codeHash', 'inputs', 'owner'] as const
export type AuditField = (typeof AUDIT_FIELDS)[number]

export interface Deployment {
  /** 32 lower-case hex characters. */
  id: string
  endpoint: string
  endpointVersion: string
  /** The registered model served; null when not given. */
  model: string | null
  /** The model version served: given, or the alias's holder resolved when the deployment was stored. */
  modelVersion: number | null
  /** The alias it was deployed through (recorded beside the version it resolved to). */
  alias: string | null
  /** Hash of the serving/transformation code (a git commit or a content hash). */
  codeHash: string | null
  /** Input dataset versions, content-hashed as a run's datasets are. */
  inputs: DatasetVersion[]
  /** Where it runs: production, staging, a region. */
  environment: string
  owner: string | null
  createdAt: number
  /** The experiment of the run behind the model version (token scoping); null when unknown. */
  experiment: string | null
  /** The audit fields that are missing; empty for an auditable deployment. */
  unauditable: AuditField[]
}

/** What a deployment is created with; the store resolves the alias, the experiment and the flags. */
export type NewDeployment = Omit<Deployment, 'experiment' | 'unauditable'>

export type SpanStatus = 'unset' | 'ok' | 'error'

export interface SpanEvent {
  name: string
  time: number
  attributes: Record<string, JsonValue>
}

export interface TraceSpan {
  /** 16 lower-case hex characters. */
  spanId: string
  parentSpanId: string | null
  name: string
  /** internal, server, client, producer, consumer or unspecified. */
  kind: string
  /** Milliseconds since the epoch (fractional: OTLP has nanoseconds). */
  startTime: number
  endTime: number
  status: SpanStatus
  statusMessage: string | null
  attributes: Record<string, JsonValue>
  events: SpanEvent[]
  /** Events left out past LIMITS.eventsPerSpan. */
  droppedEvents: number
  /** Attributes of the resource (service) that emitted the span; the extraction reads them after the span's own. */
  resource: Record<string, JsonValue>
}

/** A trace as logged: its id, its deployment, and spans (one call may carry only some of them). */
export interface TraceInput {
  traceId: string
  deploymentId: string
  spans: TraceSpan[]
}

/** The fields extracted from a trace's spans (GenAI conventions and assay attributes). */
export interface TraceFields {
  startTime: number
  endTime: number
  latencyMs: number
  status: SpanStatus
  operation: string | null
  requestModel: string | null
  inputTokens: number | null
  outputTokens: number | null
  conversationId: string | null
  promptName: string | null
  promptVersion: string | null
  retrievalIndexVersion: string | null
  costUsd: number | null
  guardrailAction: string | null
  guardrailOutcome: string | null
  outputHash: string | null
  spanCount: number
}

export interface TraceSummary extends TraceFields {
  traceId: string
  deploymentId: string
}

export interface Feedback {
  /** Idempotency key: feedback with an id already stored is not added again. */
  id: string
  traceId: string
  name: string
  value: number
  source: string
  at: number
}

export interface Trace extends TraceSummary {
  spans: TraceSpan[]
  feedback: Feedback[]
}

/** Documented limits of traces (docs/production.md), checked before anything is stored. */
export const TRACE_LIMITS = {
  spansPerTrace: 10_000,
  attributesPerSpan: 256,
  attributeKeyLength: 256,
  /** A string attribute value (or the whole of an array value's JSON), in characters. */
  attributeValueLength: 32 * 1024,
  /** Events kept per span; more are dropped and counted (droppedEvents). */
  eventsPerSpan: 32,
  nameLength: 1024,
} as const

/** The attribute names the extraction reads (docs/production.md). */
export const TRACE_ATTRIBUTES = {
  deploymentId: 'assay.deployment.id',
  operation: 'gen_ai.operation.name',
  requestModel: 'gen_ai.request.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  conversationId: 'gen_ai.conversation.id',
  promptName: 'assay.prompt.name',
  promptVersion: 'assay.prompt.version',
  retrievalIndexVersion: 'assay.retrieval.index_version',
  costUsd: 'assay.cost.usd',
  guardrailAction: 'assay.guardrail.action',
  guardrailOutcome: 'assay.guardrail.outcome',
  outputHash: 'assay.output.hash',
} as const

const HEX32 = /^[0-9a-f]{32}$/
const HEX16 = /^[0-9a-f]{16}$/
const ZERO32 = '0'.repeat(32)
const ZERO16 = '0'.repeat(16)
const SPAN_KINDS = new Set(['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'])

function invalidTrace(message: string, details: Record<string, unknown>): AssayError {
  return new AssayError('ASSAY_INVALID_TRACE', message, details)
}

export function assertTraceId(value: unknown, what = 'traceId'): asserts value is string {
  if (typeof value !== 'string' || !HEX32.test(value) || value === ZERO32) {
    throw invalidTrace(`${what} must be 32 lower-case hex characters, not all zero; got ${describe(value)}`, { field: what })
  }
}

export function assertDeploymentId(value: unknown, what = 'deploymentId'): asserts value is string {
  if (typeof value !== 'string' || !HEX32.test(value)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `${what} must be 32 lower-case hex characters; got ${describe(value)}`, { field: what })
  }
}

/**
 * An attribute map's keys and value sizes, and the types of the attributes the extraction reads.
 * Returns the first wrong type rather than throwing it, so a span's size errors (attributes, then
 * resource) come before its type errors whichever map holds them.
 */
function checkAttributes(attributes: unknown, where: string, known: boolean): AssayError | undefined {
  if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes)) throw invalidTrace(`${where} must be an object`, { field: where })
  const record = attributes as Record<string, unknown>
  const keys = Object.keys(record)
  if (keys.length > TRACE_LIMITS.attributesPerSpan) throw invalidTrace(`${where} has ${keys.length} attributes; the limit is ${TRACE_LIMITS.attributesPerSpan}`, { field: where, limit: TRACE_LIMITS.attributesPerSpan })
  let wrongType: AssayError | undefined
  for (const key of keys) {
    const value = record[key]
    if (key.length === 0 || key.length > TRACE_LIMITS.attributeKeyLength || key === '__proto__') throw invalidTrace(`${where} has an attribute key of ${key.length} characters (1 to ${TRACE_LIMITS.attributeKeyLength}, not __proto__)`, { field: where })
    const size = typeof value === 'string' ? value.length : value !== null && typeof value === 'object' ? JSON.stringify(value).length : 0
    if (size > TRACE_LIMITS.attributeValueLength) {
      throw invalidTrace(`${where}.${key} is ${size} characters; the limit is ${TRACE_LIMITS.attributeValueLength}`, { field: `${where}.${key}`, limit: TRACE_LIMITS.attributeValueLength })
    }
    if (typeof value === 'number' && !Number.isFinite(value)) throw invalidTrace(`${where}.${key} is not a finite number`, { field: `${where}.${key}` })
    if (known && wrongType === undefined) wrongType = knownAttributeTypeError(key, value as JsonValue, where)
  }
  return wrongType
}

/** Wrong types of the attributes the extraction reads are refused, not silently ignored. */
const NUMERIC = new Set<string>([TRACE_ATTRIBUTES.inputTokens, TRACE_ATTRIBUTES.outputTokens, TRACE_ATTRIBUTES.costUsd])
const TEXTUAL = new Set<string>([
  TRACE_ATTRIBUTES.deploymentId, TRACE_ATTRIBUTES.operation, TRACE_ATTRIBUTES.requestModel, TRACE_ATTRIBUTES.conversationId, TRACE_ATTRIBUTES.promptName,
  TRACE_ATTRIBUTES.retrievalIndexVersion, TRACE_ATTRIBUTES.guardrailAction, TRACE_ATTRIBUTES.guardrailOutcome, TRACE_ATTRIBUTES.outputHash,
])

function knownAttributeTypeError(key: string, value: JsonValue, where: string): AssayError | undefined {
  if (NUMERIC.has(key) && (typeof value !== 'number' || value < 0)) return invalidTrace(`${where}.${key} must be a non-negative number, got ${describe(value)}`, { field: `${where}.${key}` })
  if (TEXTUAL.has(key) && typeof value !== 'string') return invalidTrace(`${where}.${key} must be a string, got ${describe(value)}`, { field: `${where}.${key}` })
  // A prompt version may be sent as a number (3) or a string ("3" or "2026-11-01").
  if (key === TRACE_ATTRIBUTES.promptVersion && typeof value !== 'string' && typeof value !== 'number') {
    return invalidTrace(`${where}.${key} must be a string or a number, got ${describe(value)}`, { field: `${where}.${key}` })
  }
  return undefined
}

/**
 * Check a trace as logged (ids, times, kinds, attribute sizes and types), and trim events to the
 * limit. `checkedResources` holds resource objects that passed already in this call (the spans
 * of one OTLP resource share one object), so each is checked once; the caller must not change
 * them in between.
 */
export function validateTraceInput(trace: TraceInput, checkedResources?: WeakSet<object>): TraceInput {
  if (trace === null || typeof trace !== 'object') throw invalidTrace('a trace must be an object { traceId, deploymentId, spans }', {})
  assertTraceId(trace.traceId)
  assertDeploymentId(trace.deploymentId)
  if (!Array.isArray(trace.spans) || trace.spans.length === 0) throw invalidTrace(`trace ${trace.traceId} has no spans`, { traceId: trace.traceId })
  if (trace.spans.length > TRACE_LIMITS.spansPerTrace) throw invalidTrace(`trace ${trace.traceId} has ${trace.spans.length} spans; the limit is ${TRACE_LIMITS.spansPerTrace}`, { traceId: trace.traceId, limit: TRACE_LIMITS.spansPerTrace })
  const seen = new Set<string>()
  const spans = trace.spans.map((span, i) => {
    const where = `spans.${i}`
    if (span === null || typeof span !== 'object') throw invalidTrace(`${where} must be an object`, { traceId: trace.traceId, field: where })
    if (typeof span.spanId !== 'string' || !HEX16.test(span.spanId) || span.spanId === ZERO16) throw invalidTrace(`${where}.spanId must be 16 lower-case hex characters, not all zero; got ${describe(span.spanId)}`, { traceId: trace.traceId, field: `${where}.spanId` })
    if (seen.has(span.spanId)) throw invalidTrace(`span ${span.spanId} appears twice in trace ${trace.traceId}`, { traceId: trace.traceId, field: `${where}.spanId` })
    seen.add(span.spanId)
    if (span.parentSpanId !== null && (typeof span.parentSpanId !== 'string' || !HEX16.test(span.parentSpanId))) throw invalidTrace(`${where}.parentSpanId must be null or 16 hex characters`, { traceId: trace.traceId, field: `${where}.parentSpanId` })
    if (typeof span.name !== 'string' || span.name.length > TRACE_LIMITS.nameLength) throw invalidTrace(`${where}.name must be a string of at most ${TRACE_LIMITS.nameLength} characters`, { traceId: trace.traceId, field: `${where}.name` })
    if (!SPAN_KINDS.has(span.kind)) throw invalidTrace(`${where}.kind must be one of ${[...SPAN_KINDS].join(', ')}`, { traceId: trace.traceId, field: `${where}.kind` })
    for (const t of ['startTime', 'endTime'] as const) {
      if (typeof span[t] !== 'number' || !Number.isFinite(span[t]) || span[t] < 0) throw invalidTrace(`${where}.${t} must be a time in milliseconds`, { traceId: trace.traceId, field: `${where}.${t}` })
    }
    if (span.endTime < span.startTime) throw invalidTrace(`${where} ends before it starts`, { traceId: trace.traceId, field: `${where}.endTime` })
    if (span.status !== 'unset' && span.status !== 'ok' && span.status !== 'error') throw invalidTrace(`${where}.status must be unset, ok or error`, { traceId: trace.traceId, field: `${where}.status` })
    const attributeType = checkAttributes(span.attributes, `${where}.attributes`, true)
    const resourceType = checkedResources?.has(span.resource) === true ? undefined : checkAttributes(span.resource, `${where}.resource`, true)
    if (attributeType !== undefined) throw attributeType
    if (resourceType !== undefined) throw resourceType
    checkedResources?.add(span.resource)
    if (!Array.isArray(span.events)) throw invalidTrace(`${where}.events must be an array`, { traceId: trace.traceId, field: `${where}.events` })
    const kept = span.events.slice(0, TRACE_LIMITS.eventsPerSpan)
    for (const [j, event] of kept.entries()) {
      if (event === null || typeof event !== 'object' || typeof event.name !== 'string' || typeof event.time !== 'number' || !Number.isFinite(event.time)) throw invalidTrace(`${where}.events.${j} must be { name, time, attributes }`, { traceId: trace.traceId, field: `${where}.events.${j}` })
      checkAttributes(event.attributes, `${where}.events.${j}.attributes`, false)
    }
    const statusMessage = span.statusMessage ?? null
    if (statusMessage !== null && (typeof statusMessage !== 'string' || statusMessage.length > TRACE_LIMITS.attributeValueLength)) throw invalidTrace(`${where}.statusMessage must be a string of at most ${TRACE_LIMITS.attributeValueLength} characters`, { traceId: trace.traceId, field: `${where}.statusMessage` })
    // A plain span that the copy below would not change (every decoded OTLP span) is kept as it is: a copy per span was garbage.
    if (span.statusMessage === statusMessage && kept.length === span.events.length && typeof span.droppedEvents === 'number' && Object.getPrototypeOf(span) === Object.prototype) return span
    return { ...span, statusMessage, events: kept, droppedEvents: (span.droppedEvents ?? 0) + (span.events.length - kept.length) }
  })
  return { traceId: trace.traceId, deploymentId: trace.deploymentId, spans }
}

/** A span's content hash: a span re-sent with the same content is stored once; with other content it conflicts. */
export function spanContentHash(span: TraceSpan): string {
  return hash('sha256', canonicalJson(span), 'hex')
}

/**
 * A span as the store keeps it: its canonical JSON, and that text's sha256 (spanContentHash).
 * Every stored span's hash is recorded in its set's span_keys (migration 19), so it is taken at once.
 */
export interface StoredSpan {
  data: string
  contentSha256: string
}

/** The span's stored form, serialised once: the text stored is the text hashed. */
export function storedSpan(span: TraceSpan): StoredSpan {
  const data = canonicalJson(span)
  return { data, contentSha256: hash('sha256', data, 'hex') }
}

function attribute(span: TraceSpan, key: string): JsonValue | undefined {
  return span.attributes[key] ?? span.resource[key]
}

/** The first span (in start order) that has the attribute, span attributes before resource attributes. */
function first(spans: readonly TraceSpan[], key: string): JsonValue | undefined {
  for (const span of spans) if (span.attributes[key] !== undefined) return span.attributes[key]
  for (const span of spans) if (span.resource[key] !== undefined) return span.resource[key]
  return undefined
}

/** Summed over spans that carry it (an LLM call per span); null when none does. */
function sum(spans: readonly TraceSpan[], key: string): number | null {
  let total: number | null = null
  for (const span of spans) {
    const value = span.attributes[key]
    if (typeof value === 'number') total = (total ?? 0) + value
  }
  if (total === null) {
    // A resource-level value (one per service) counts once.
    const value = first(spans, key)
    if (typeof value === 'number') total = value
  }
  return total
}

const asText = (value: JsonValue | undefined): string | null => (value === undefined || value === null ? null : String(value))

/**
 * A trace's fields from all its spans: times from the earliest start to the latest end; the
 * operation, model, conversation, prompt, index, guardrail and output hash from the first span
 * (in start order, the root first) that has them; tokens and cost summed over spans; status
 * error when any span failed.
 */
export function extractTraceFields(spans: readonly TraceSpan[]): TraceFields {
  const ordered = [...spans].sort((a, b) => (a.parentSpanId === null ? 0 : 1) - (b.parentSpanId === null ? 0 : 1) || a.startTime - b.startTime || (a.spanId < b.spanId ? -1 : 1))
  const startTime = Math.min(...spans.map((s) => s.startTime))
  const endTime = Math.max(...spans.map((s) => s.endTime))
  const status: SpanStatus = spans.some((s) => s.status === 'error') ? 'error' : spans.some((s) => s.status === 'ok') ? 'ok' : 'unset'
  const a = TRACE_ATTRIBUTES
  return {
    startTime,
    endTime,
    latencyMs: endTime - startTime,
    status,
    operation: asText(first(ordered, a.operation)),
    requestModel: asText(first(ordered, a.requestModel)),
    inputTokens: sum(ordered, a.inputTokens),
    outputTokens: sum(ordered, a.outputTokens),
    conversationId: asText(first(ordered, a.conversationId)),
    promptName: asText(first(ordered, a.promptName)),
    promptVersion: asText(first(ordered, a.promptVersion)),
    retrievalIndexVersion: asText(first(ordered, a.retrievalIndexVersion)),
    costUsd: sum(ordered, a.costUsd),
    guardrailAction: asText(first(ordered, a.guardrailAction)),
    guardrailOutcome: asText(first(ordered, a.guardrailOutcome)),
    outputHash: asText(first(ordered, a.outputHash)),
    spanCount: spans.length,
  }
}

/** The deployment id a span names (its own attribute, else its resource's); undefined when none. */
export function spanDeploymentId(span: TraceSpan): JsonValue | undefined {
  return attribute(span, TRACE_ATTRIBUTES.deploymentId)
}

/** Guardrail actions that mean the guardrail let the output through untouched. */
const PASSING_ACTIONS = new Set(['none', 'allow', 'allowed', 'pass', 'passed'])
const PASSING_OUTCOMES = new Set(['pass', 'passed', 'ok', 'allowed', 'success'])

/**
 * A trace as an eval record, so every statistic applies to production traffic: id = trace id,
 * cluster = conversation id, scores = the latest feedback value of each name plus
 * `guardrail_triggered` (1 when the guardrail acted) and `guardrail_pass` (1 when its outcome
 * passed), latency, tokens (input + output), cost and output hash.
 */
export function traceEvalRecord(trace: TraceSummary, feedback: readonly Feedback[]): EvalRecord {
  const scores: Record<string, number> = {}
  for (const f of [...feedback].sort((x, y) => x.at - y.at || (x.id < y.id ? -1 : 1))) scores[f.name] = f.value
  addGuardrailScores(scores, trace.guardrailAction, trace.guardrailOutcome)
  const record: EvalRecord = { id: trace.traceId, scores, latencyMs: trace.latencyMs }
  if (trace.conversationId !== null) record.cluster = trace.conversationId
  if (trace.inputTokens !== null || trace.outputTokens !== null) record.tokens = (trace.inputTokens ?? 0) + (trace.outputTokens ?? 0)
  if (trace.costUsd !== null) record.cost = trace.costUsd
  if (trace.outputHash !== null) record.outputHash = trace.outputHash
  return record
}

/** `guardrail_triggered` (1 when the guardrail acted) and `guardrail_pass` (1 when its outcome passed), where the trace has them. */
function addGuardrailScores(scores: Record<string, number>, action: string | null, outcome: string | null): void {
  if (action !== null) scores.guardrail_triggered = guardrailTriggered(action)
  if (outcome !== null) scores.guardrail_pass = guardrailPassed(outcome)
}

/** The score `guardrail_triggered` of a stored guardrail action: 0 when it let the output through, else 1. */
export function guardrailTriggered(action: string): number {
  return PASSING_ACTIONS.has(action.toLowerCase()) ? 0 : 1
}

/** The score `guardrail_pass` of a stored guardrail outcome. */
export function guardrailPassed(outcome: string): number {
  return PASSING_OUTCOMES.has(outcome.toLowerCase()) ? 1 : 0
}

/** The scores a stored trace derives from its guardrail columns; they replace feedback of the same name. */
export const GUARDRAIL_SCORES = { triggered: 'guardrail_triggered', passed: 'guardrail_pass' } as const

/** The stored fields of a trace that the monitor reads (Store.traceRowsPage). */
export type TraceRowFields = Pick<
  TraceSummary,
  | 'traceId' | 'startTime' | 'latencyMs' | 'inputTokens' | 'outputTokens' | 'costUsd' | 'conversationId' | 'guardrailAction' | 'guardrailOutcome'
  | 'operation' | 'requestModel' | 'promptName' | 'promptVersion' | 'retrievalIndexVersion' | 'outputHash'
>

/** The text fields a trace row offers as category features, by feature name. */
export const TEXT_FEATURES = ['operation', 'requestModel', 'promptName', 'promptVersion', 'retrievalIndexVersion'] as const
/** The numeric fields a trace row offers as features. */
export const NUMBER_FEATURES = ['latencyMs', 'inputTokens', 'outputTokens', 'costUsd'] as const
/** Field → the attribute that carried it, for the malformed check's required attributes; bit i of a presence mask is field i. */
export const FIELD_ATTRIBUTES: readonly [keyof TraceRowFields, string][] = [
  ['operation', TRACE_ATTRIBUTES.operation], ['requestModel', TRACE_ATTRIBUTES.requestModel], ['inputTokens', TRACE_ATTRIBUTES.inputTokens],
  ['outputTokens', TRACE_ATTRIBUTES.outputTokens], ['conversationId', TRACE_ATTRIBUTES.conversationId], ['promptName', TRACE_ATTRIBUTES.promptName],
  ['promptVersion', TRACE_ATTRIBUTES.promptVersion], ['retrievalIndexVersion', TRACE_ATTRIBUTES.retrievalIndexVersion], ['costUsd', TRACE_ATTRIBUTES.costUsd],
  ['guardrailAction', TRACE_ATTRIBUTES.guardrailAction], ['guardrailOutcome', TRACE_ATTRIBUTES.guardrailOutcome], ['outputHash', TRACE_ATTRIBUTES.outputHash],
]

/**
 * Builds trace rows for the monitor. Rows of a window share their attribute lists (one per
 * combination of present fields), so a million rows hold a handful of arrays, not a million.
 */
export class TraceRowBuilder {
  private readonly attributeLists = new Map<number, readonly string[]>()

  /**
   * A stored trace as a monitor row: time = start time; scores = the latest feedback of each name
   * (`feedback` in time order) plus the guardrail scores of traceEvalRecord; features = the
   * extracted numbers (latencyMs, inputTokens, outputTokens, costUsd) and texts (operation,
   * requestModel, promptName, promptVersion, retrievalIndexVersion) present; attributes = the
   * OpenTelemetry or assay attribute names the trace carried; inputId = the output's input,
   * named by the conversation id (a replayed input keeps its conversation id).
   */
  row(t: TraceRowFields, feedback: readonly { name: string; value: number }[], modelVersion: string | undefined): TraceRow {
    const scores: Record<string, number> = {}
    for (const f of feedback) scores[f.name] = f.value
    addGuardrailScores(scores, t.guardrailAction, t.guardrailOutcome)
    const features: Record<string, number | string> = {}
    for (const name of NUMBER_FEATURES) if (t[name] !== null) features[name] = t[name]
    for (const name of TEXT_FEATURES) if (t[name] !== null) features[name] = t[name]
    let mask = 0
    FIELD_ATTRIBUTES.forEach(([field], i) => {
      if (t[field] !== null) mask |= 1 << i
    })
    let attributes = this.attributeLists.get(mask)
    if (attributes === undefined) {
      attributes = attributesOfMask(mask)
      this.attributeLists.set(mask, attributes)
    }
    const row: TraceRow = { traceId: t.traceId, time: t.startTime, latencyMs: t.latencyMs, scores, features, attributes }
    if (t.inputTokens !== null) row.inputTokens = t.inputTokens
    if (t.outputTokens !== null) row.outputTokens = t.outputTokens
    if (t.costUsd !== null) row.costUsd = t.costUsd
    if (t.guardrailAction !== null) row.guardrailAction = t.guardrailAction
    if (t.conversationId !== null) {
      row.conversationId = t.conversationId
      row.inputId = t.conversationId
    }
    if (modelVersion !== undefined) row.modelVersion = modelVersion
    if (t.promptVersion !== null) row.promptVersion = t.promptVersion
    return row
  }
}

/** The attribute names of a presence mask over FIELD_ATTRIBUTES. */
export function attributesOfMask(mask: number): string[] {
  return FIELD_ATTRIBUTES.filter((_, i) => (mask & (1 << i)) !== 0).map(([, name]) => name)
}

/** Check a deployment before it is stored. */
export function validateNewDeployment(d: NewDeployment): void {
  if (d === null || typeof d !== 'object') throw new AssayError('ASSAY_INVALID_ARGUMENT', 'a deployment must be an object')
  assertDeploymentId(d.id, 'deployment id')
  assertName(d.endpoint, 'endpoint')
  assertRecordedText(d.endpointVersion, 'endpointVersion')
  if (d.endpointVersion.length === 0) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'endpointVersion is empty', { field: 'endpointVersion' })
  if (d.model !== null) assertName(d.model, 'model')
  if (d.modelVersion !== null && (!Number.isInteger(d.modelVersion) || d.modelVersion < 1)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `modelVersion must be a positive integer, got ${describe(d.modelVersion)}`, { field: 'modelVersion' })
  if (d.alias !== null) assertName(d.alias, 'alias')
  if ((d.modelVersion !== null || d.alias !== null) && d.model === null) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'a model version or alias needs the model it belongs to', { field: 'model' })
  if (d.codeHash !== null) assertRecordedText(d.codeHash, 'codeHash')
  assertName(d.environment, 'environment')
  if (d.owner !== null) assertName(d.owner, 'owner')
  if (!Array.isArray(d.inputs)) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'inputs must be an array of dataset versions', { field: 'inputs' })
  for (const [i, input] of d.inputs.entries()) {
    if (typeof input?.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(input.sha256)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `inputs.${i}.sha256 must be 64 hex characters`, { field: `inputs.${i}.sha256` })
    assertName(input.name, `inputs.${i}.name`)
  }
  if (typeof d.createdAt !== 'number' || !Number.isFinite(d.createdAt)) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'createdAt must be a time in milliseconds', { field: 'createdAt' })
}

/** Which audit fields a deployment lacks (its alias already resolved). */
export function missingAuditFields(d: Pick<Deployment, 'modelVersion' | 'codeHash' | 'inputs' | 'owner'>): AuditField[] {
  const missing: AuditField[] = []
  if (d.modelVersion === null) missing.push('modelVersion')
  if (d.codeHash === null || d.codeHash === '') missing.push('codeHash')
  if (d.inputs.length === 0) missing.push('inputs')
  if (d.owner === null || d.owner === '') missing.push('owner')
  return missing
}

/** Check feedback before it is stored. */
export function validateFeedback(f: Feedback): void {
  assertTraceId(f.traceId)
  if (typeof f.id !== 'string' || f.id.length === 0 || f.id.length > 128) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'feedback id must be a string of 1 to 128 characters', { field: 'id' })
  assertName(f.name, 'feedback name')
  if (typeof f.value !== 'number' || !Number.isFinite(f.value)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `feedback value must be a finite number, got ${describe(f.value)}`, { field: 'value' })
  assertName(f.source, 'feedback source')
  if (typeof f.at !== 'number' || !Number.isFinite(f.at)) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'feedback time must be a number', { field: 'at' })
}
