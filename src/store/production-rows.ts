import { hash } from 'node:crypto'
import {
  attributesOfMask,
  FIELD_ATTRIBUTES,
  GUARDRAIL_SCORES,
  guardrailPassed,
  guardrailTriggered,
  NUMBER_FEATURES,
  TEXT_FEATURES,
  type AuditField,
  type Deployment,
  type Feedback,
  type SpanStatus,
  type TraceFields,
  type TraceRowFields,
  type TraceSpan,
  type TraceSummary,
} from '../record/production.js'
import type { TraceColumnNeeds, TraceColumns, TraceColumnsBuilder } from '../record/trace-columns.js'
import type { DatasetVersion } from '../record/types.js'
import type { SqlColumn } from './sql-adapter.js'

/** Rows of the production tables (deployments, traces, trace_span_sets, trace_feedback) and their mapping to records. */

export interface DeploymentRow {
  id: string
  endpoint: string
  endpoint_version: string
  model: string | null
  model_version: number | null
  alias: string | null
  code_hash: string | null
  inputs: string
  environment: string
  owner: string | null
  created_at: number
  experiment: string | null
  unauditable: string
}

export function deploymentFromRow(row: DeploymentRow): Deployment {
  return {
    id: row.id,
    endpoint: row.endpoint,
    endpointVersion: row.endpoint_version,
    model: row.model,
    modelVersion: row.model_version === null ? null : Number(row.model_version),
    alias: row.alias,
    codeHash: row.code_hash,
    inputs: JSON.parse(row.inputs) as DatasetVersion[],
    environment: row.environment,
    owner: row.owner,
    createdAt: Number(row.created_at),
    experiment: row.experiment,
    unauditable: JSON.parse(row.unauditable) as AuditField[],
  }
}

export interface TraceRow {
  trace_id: string
  deployment_id: string
  start_time: number
  end_time: number
  latency_ms: number
  status: string
  operation: string | null
  request_model: string | null
  input_tokens: number | null
  output_tokens: number | null
  conversation_id: string | null
  prompt_name: string | null
  prompt_version: string | null
  retrieval_index_version: string | null
  cost_usd: number | null
  guardrail_action: string | null
  guardrail_outcome: string | null
  output_hash: string | null
  span_count: number
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v))

export function traceSummaryFromRow(row: TraceRow): TraceSummary {
  return {
    traceId: row.trace_id,
    deploymentId: row.deployment_id,
    startTime: Number(row.start_time),
    endTime: Number(row.end_time),
    latencyMs: Number(row.latency_ms),
    status: row.status as SpanStatus,
    operation: row.operation,
    requestModel: row.request_model,
    inputTokens: num(row.input_tokens),
    outputTokens: num(row.output_tokens),
    conversationId: row.conversation_id,
    promptName: row.prompt_name,
    promptVersion: row.prompt_version,
    retrievalIndexVersion: row.retrieval_index_version,
    costUsd: num(row.cost_usd),
    guardrailAction: row.guardrail_action,
    guardrailOutcome: row.guardrail_outcome,
    outputHash: row.output_hash,
    spanCount: Number(row.span_count),
  }
}

/** The columns of a trace row after trace_id and deployment_id, in TRACE_FIELD_COLUMNS order. */
export const TRACE_FIELD_COLUMNS = [
  'start_time', 'end_time', 'latency_ms', 'status', 'operation', 'request_model', 'input_tokens', 'output_tokens', 'conversation_id', 'prompt_name',
  'prompt_version', 'retrieval_index_version', 'cost_usd', 'guardrail_action', 'guardrail_outcome', 'output_hash', 'span_count',
] as const

/** TRACE_FIELD_COLUMNS with the types PostgreSQL's unnest needs (insertRows, updateRows). */
export const TRACE_FIELD_SQL_COLUMNS: readonly SqlColumn[] = TRACE_FIELD_COLUMNS.map((name) => ({
  name,
  type: name === 'span_count' ? 'bigint' : ['start_time', 'end_time', 'latency_ms', 'input_tokens', 'output_tokens', 'cost_usd'].includes(name) ? 'float8' : 'text',
}))

export function traceFieldValues(f: TraceFields): unknown[] {
  return [
    f.startTime, f.endTime, f.latencyMs, f.status, f.operation, f.requestModel, f.inputTokens, f.outputTokens, f.conversationId, f.promptName,
    f.promptVersion, f.retrievalIndexVersion, f.costUsd, f.guardrailAction, f.guardrailOutcome, f.outputHash, f.spanCount,
  ]
}

export function spanFromData(data: string): TraceSpan {
  return JSON.parse(data) as TraceSpan
}

/** A row of trace_span_sets (migrations 16 and 19): the spans one write added to a trace. */
export interface SpanSetRow {
  trace_id: string
  seq: number
  /** Per span in line order its id (8 bytes) and content hash (32 bytes); NULL on sets written before migration 19. */
  span_keys: Buffer | null
  /** Where span_keys is NULL: the spans' recorded hashes, 64 hex digits each in line order, or NULL when each is the sha256 of its line. */
  hashes: string | null
  spans: string
}

/** A span's bytes in span_keys: its id (16 hex digits, validateTraceInput) and its sha256. */
const KEY_ID_BYTES = 8
const KEY_BYTES = KEY_ID_BYTES + 32

/** A set's span_keys for these spans (ids and content hashes in line order, as spanSetText): 40 bytes a span. */
export function spanSetKeys(spans: readonly { spanId: string; contentSha256: string }[]): Buffer {
  const keys = Buffer.allocUnsafe(KEY_BYTES * spans.length)
  spans.forEach((span, i) => {
    keys.write(span.spanId, KEY_BYTES * i, KEY_ID_BYTES, 'hex')
    keys.write(span.contentSha256, KEY_BYTES * i + KEY_ID_BYTES, KEY_BYTES - KEY_ID_BYTES, 'hex')
  })
  return keys
}

/**
 * Each span id of a set that records its keys (span_keys not NULL) with its content hash (hex),
 * handed to `each` in line order, read from the row without touching its spans; false, and
 * nothing handed over, for a set that does not (its spans must be parsed: spanSetHash).
 */
export function readSpanSetKeys(row: Pick<SpanSetRow, 'span_keys'>, each: (spanId: string, hash: string) => void): boolean {
  const keys = row.span_keys
  if (keys === null) return false
  for (let at = 0; at + KEY_BYTES <= keys.length; at += KEY_BYTES) each(keys.toString('hex', at, at + KEY_ID_BYTES), keys.toString('hex', at + KEY_ID_BYTES, at + KEY_BYTES))
  return true
}

/** The stored text of a set of spans: their canonical JSON texts, one a line (JSON text holds no raw newline). */
export function spanSetText(datas: readonly string[]): string {
  let text = datas[0] ?? ''
  for (let i = 1; i < datas.length; i++) text += '\n' + datas[i]
  return text
}

/** The span texts of a set, in stored order. */
export function spanSetLines(row: Pick<SpanSetRow, 'spans'>): string[] {
  return row.spans.split('\n')
}

/** The content hash of a set's i-th span: recorded (sets carried over by migration 16), else the sha256 of its text. */
export function spanSetHash(row: Pick<SpanSetRow, 'hashes'>, line: string, i: number): string {
  return row.hashes === null ? hash('sha256', line, 'hex') : row.hashes.slice(64 * i, 64 * i + 64)
}

export interface FeedbackRow {
  id: string
  trace_id: string
  name: string
  value: number
  source: string
  at: number
}

export function feedbackFromRow(row: FeedbackRow): Feedback {
  return { id: row.id, traceId: row.trace_id, name: row.name, value: Number(row.value), source: row.source, at: Number(row.at) }
}

/** The columns Store.traceRowsPage reads. */
export const TRACE_ROW_COLUMNS =
  'trace_id, start_time, latency_ms, input_tokens, output_tokens, cost_usd, conversation_id, guardrail_action, guardrail_outcome, operation, request_model, prompt_name, prompt_version, retrieval_index_version, output_hash'

export type TraceRowColumns = Pick<
  TraceRow,
  | 'trace_id' | 'start_time' | 'latency_ms' | 'input_tokens' | 'output_tokens' | 'cost_usd' | 'conversation_id' | 'guardrail_action' | 'guardrail_outcome'
  | 'operation' | 'request_model' | 'prompt_name' | 'prompt_version' | 'retrieval_index_version' | 'output_hash'
>

export function traceRowFieldsFromColumns(row: TraceRowColumns): TraceRowFields {
  return {
    traceId: row.trace_id,
    startTime: Number(row.start_time),
    latencyMs: Number(row.latency_ms),
    inputTokens: num(row.input_tokens),
    outputTokens: num(row.output_tokens),
    costUsd: num(row.cost_usd),
    conversationId: row.conversation_id,
    guardrailAction: row.guardrail_action,
    guardrailOutcome: row.guardrail_outcome,
    operation: row.operation,
    requestModel: row.request_model,
    promptName: row.prompt_name,
    promptVersion: row.prompt_version,
    retrievalIndexVersion: row.retrieval_index_version,
    outputHash: row.output_hash,
  }
}

// ---------------------------------------------------------------- Store.traceColumns

/** A trace field's column: operation → operation, requestModel → request_model. */
function fieldColumn(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
}

const TEXT_FEATURE_NAMES: ReadonlySet<string> = new Set(TEXT_FEATURES)
const NUMBER_FEATURE_NAMES: ReadonlySet<string> = new Set(NUMBER_FEATURES)

/** A column of Store.traceColumns' SELECT: its SQL, its type, and what each trace's value of it sets. */
export interface TraceColumnField {
  /** The expression, without an alias (the SELECT adds `AS name`). */
  sql: string
  /** The name rows carry it by. */
  name: string
  /** float8 and int4 as numbers, text as strings; NULL sets nothing (the column keeps "none"). */
  type: 'float8' | 'int4' | 'text'
  /** Whether the value may be NULL (the binary COPY refuses a NULL where it may not). */
  nullable: boolean
  /** Writers of trace i's value, in order (a later one wins). Arrays are read from the builder at each call, since reserve replaces them. */
  set: ((builder: TraceColumnsBuilder, i: number, value: never) => void)[]
}

/**
 * The columns of Store.traceColumns: the fixed numbers, then only what `needs` names. The
 * attribute names a trace carried travel as one integer (bit i: FIELD_ATTRIBUTES[i] present), not
 * as twelve nullable texts. Each needed score is the latest feedback value of its name (by time,
 * then id), which the trace row keeps (traces.feedback, migration 17, written by addFeedback):
 * `scoreSql(name)` reads it from the row, by default SQLite's (the JSON object's member of that
 * name, the name a placeholder); PostgreSQL's COPY passes its jsonb read with the name a literal.
 * No read of trace_feedback per trace, and no join. The guardrail scores come after the feedback
 * scores: they replace feedback of the same name (traceEvalRecord).
 */
export function traceColumnFields(needs: TraceColumnNeeds, modelVersion: string | undefined, scoreSql: (name: string) => string = sqliteRowScore): TraceColumnField[] {
  const number = (name: string, column: NumberField, nullable: boolean): TraceColumnField => ({ sql: name, name, type: 'float8', nullable, set: [(b, i, v: number) => void (b[column][i] = v)] })
  const fields: TraceColumnField[] = [
    {
      sql: 'trace_id',
      name: 'trace_id',
      type: 'text',
      nullable: false,
      set: [
        (b, i, v: string) => {
          b.traceIds[i] = v
          if (needs.modelVersion) b.setText('modelVersion', i, modelVersion)
        },
      ],
    },
    number('start_time', 'time', false),
    number('latency_ms', 'latencyMs', false),
    number('input_tokens', 'inputTokens', true),
    number('output_tokens', 'outputTokens', true),
    number('cost_usd', 'costUsd', true),
  ]
  needs.scores.forEach((score, k) => {
    fields.push({
      sql: scoreSql(score),
      name: `score_${k}`,
      type: 'float8',
      nullable: true,
      set: [(b, i, v: number) => void (b.scores[score][i] = v)],
    })
  })
  const text = (column: string): TraceColumnField => {
    let field = fields.find((f) => f.name === column)
    if (field === undefined) fields.push((field = { sql: column, name: column, type: 'text', nullable: true, set: [] }))
    return field
  }
  if (needs.conversationId) text('conversation_id').set.push((b, i, v: string) => b.setText('conversationId', i, v))
  if (needs.guardrailAction) text('guardrail_action').set.push((b, i, v: string) => b.setText('guardrailAction', i, v))
  if (needs.scores.includes(GUARDRAIL_SCORES.triggered)) text('guardrail_action').set.push((b, i, v: string) => void (b.scores[GUARDRAIL_SCORES.triggered][i] = guardrailTriggered(v)))
  if (needs.scores.includes(GUARDRAIL_SCORES.passed)) text('guardrail_outcome').set.push((b, i, v: string) => void (b.scores[GUARDRAIL_SCORES.passed][i] = guardrailPassed(v)))
  if (needs.promptVersion) text('prompt_version').set.push((b, i, v: string) => b.setText('promptVersion', i, v))
  for (const name of needs.features) if (TEXT_FEATURE_NAMES.has(name)) text(fieldColumn(name)).set.push((b, i, v: string) => b.setCategory(name, i, v))
  if (needs.attributes) {
    const bits = FIELD_ATTRIBUTES.map(([field], i) => `(CASE WHEN ${fieldColumn(field)} IS NULL THEN 0 ELSE ${2 ** i} END)`)
    const masks = new Map<number, readonly string[]>()
    fields.push({
      sql: bits.join(' + '),
      name: 'attribute_mask',
      type: 'int4',
      nullable: false,
      set: [
        (b, i, mask: number) => {
          let list = masks.get(mask)
          if (list === undefined) masks.set(mask, (list = attributesOfMask(mask)))
          b.attributes?.set(i, mask, () => list)
        },
      ],
    })
  }
  return fields
}

type NumberField = 'time' | 'latencyMs' | 'inputTokens' | 'outputTokens' | 'costUsd'

/**
 * The read of a trace's latest feedback value of a name from its row (traces.feedback, migration
 * 17), `name` the SQL of the name (a placeholder or a quoted literal). SQLite: the member of that
 * name of the JSON object (json_each, so any name is a key, never a path). PostgreSQL: the jsonb
 * member, float8 text, cast back (every float8, NaN and -0 included, comes back unchanged).
 */
export function rowScoreSql(dialect: 'sqlite' | 'postgres', name: string): string {
  return dialect === 'postgres' ? `(traces.feedback ->> ${name}::text)::float8` : `(SELECT j.value FROM json_each(traces.feedback) j WHERE j.key = ${name})`
}

function sqliteRowScore(): string {
  return rowScoreSql('sqlite', '?')
}

/** The SELECT list of Store.traceColumns (traceColumnFields), its score names as placeholders. */
export function traceColumnsSelect(needs: TraceColumnNeeds, dialect: 'sqlite' | 'postgres'): string {
  return traceColumnFields(needs, undefined, () => rowScoreSql(dialect, '?'))
    .map((f) => `${f.sql} AS ${f.name}`)
    .join(', ')
}

/** One page of Store.traceColumns' rows written into the builder (after builder.reserve), as traces length.. of it. */
export function writeTraceColumnRows(builder: TraceColumnsBuilder, rows: readonly Record<string, unknown>[], modelVersion: string | undefined): void {
  const start = builder.length
  const { needs, time, latencyMs, inputTokens, outputTokens, costUsd } = builder
  const textFeatures = needs.features.filter((name) => TEXT_FEATURE_NAMES.has(name)).map((name) => [name, fieldColumn(name)] as const)
  const masks = new Map<number, readonly string[]>()
  const scores = needs.scores.map((name, k) => [builder.scores[name], `score_${k}`] as const)
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j]
    const i = start + j
    builder.traceIds.push(r.trace_id as string)
    time[i] = Number(r.start_time)
    latencyMs[i] = Number(r.latency_ms)
    if (r.input_tokens !== null) inputTokens[i] = Number(r.input_tokens)
    if (r.output_tokens !== null) outputTokens[i] = Number(r.output_tokens)
    if (r.cost_usd !== null) costUsd[i] = Number(r.cost_usd)
    for (const [column, alias] of scores) if (r[alias] !== null) column[i] = Number(r[alias])
    if (needs.conversationId) builder.setText('conversationId', i, r.conversation_id as string | null)
    if (needs.guardrailAction) builder.setText('guardrailAction', i, r.guardrail_action as string | null)
    if (needs.promptVersion) builder.setText('promptVersion', i, r.prompt_version as string | null)
    if (needs.modelVersion) builder.setText('modelVersion', i, modelVersion)
    for (const [name, column] of textFeatures) {
      const v = r[column] as string | null
      if (v !== null) builder.setCategory(name, i, v)
    }
    if (builder.attributes !== null) {
      const mask = Number(r.attribute_mask)
      let list = masks.get(mask)
      if (list === undefined) masks.set(mask, (list = attributesOfMask(mask)))
      builder.attributes.set(i, mask, () => list)
    }
  }
}

/** The guardrail scores of the page's traces, written after their feedback: they replace feedback of the same name (traceEvalRecord). */
export function writeGuardrailScores(builder: TraceColumnsBuilder, start: number, rows: readonly Record<string, unknown>[]): void {
  const triggered = builder.scores[GUARDRAIL_SCORES.triggered] as Float64Array | undefined
  const passed = builder.scores[GUARDRAIL_SCORES.passed] as Float64Array | undefined
  if (triggered === undefined && passed === undefined) return
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j]
    if (triggered !== undefined && r.guardrail_action !== null) triggered[start + j] = guardrailTriggered(r.guardrail_action as string)
    if (passed !== undefined && r.guardrail_outcome !== null) passed[start + j] = guardrailPassed(r.guardrail_outcome as string)
  }
}

/** Number features share the window's number columns (one array, and one sort of it, for both). */
export function shareNumberFeatures(columns: TraceColumns, needs: TraceColumnNeeds): TraceColumns {
  for (const name of needs.features) if (NUMBER_FEATURE_NAMES.has(name)) columns.features[name] = { numbers: columns[name as (typeof NUMBER_FEATURES)[number]] }
  return columns
}
