import type { AuditField, Deployment, Feedback, SpanStatus, TraceFields, TraceRowFields, TraceSpan, TraceSummary } from '../record/production.js'
import type { DatasetVersion } from '../record/types.js'
import type { SqlColumn } from './sql-adapter.js'

/** Rows of the production tables (deployments, traces, trace_spans, trace_feedback) and their mapping to records. */

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
