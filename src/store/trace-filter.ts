import { AssayError } from '../errors.js'
import type { TraceSummary } from '../record/production.js'
import type { JsonValue } from '../record/types.js'
import { compareCodePoints, describeToken, filterError, parseFilterWith, type FilterNode, type FilterOp } from './run-filter.js'
import type { SqlDialect } from './sql-adapter.js'

/**
 * The trace filter (docs/production.md): the run filter's grammar (run-filter.ts, one parser)
 * over the summary columns of a trace row. Fields are typed: a number field takes a number, a
 * text field a quoted string (`~` is "contains"); anything else is ASSAY_INVALID_FILTER at parse
 * time, so a filter never silently matches nothing because of a type.
 *
 *   field := id | status | operation | model | conversation_id | prompt_name | prompt_version
 *          | retrieval_index_version | guardrail_action | guardrail_outcome | output_hash      (text)
 *          | latency_ms | input_tokens | output_tokens | cost_usd | span_count | start_time | end_time (numbers)
 *
 * A field the trace does not have (NULL: no model attribute, no cost) makes its condition
 * unknown, and unknown stays unknown under `not` (Kleene logic, as for runs): `not cost_usd > 1`
 * lists the traces with a cost of at most 1, not those without a cost.
 */
export type TraceFilterField = { key: TraceFilterKey; kind: 'number' | 'text'; column: string; of: keyof TraceSummary }
export type TraceFilterNode = FilterNode<TraceFilterField>

export const TRACE_FILTER_FIELDS = {
  id: { kind: 'text', column: 'trace_id', of: 'traceId' },
  status: { kind: 'text', column: 'status', of: 'status' },
  operation: { kind: 'text', column: 'operation', of: 'operation' },
  model: { kind: 'text', column: 'request_model', of: 'requestModel' },
  conversation_id: { kind: 'text', column: 'conversation_id', of: 'conversationId' },
  prompt_name: { kind: 'text', column: 'prompt_name', of: 'promptName' },
  prompt_version: { kind: 'text', column: 'prompt_version', of: 'promptVersion' },
  retrieval_index_version: { kind: 'text', column: 'retrieval_index_version', of: 'retrievalIndexVersion' },
  guardrail_action: { kind: 'text', column: 'guardrail_action', of: 'guardrailAction' },
  guardrail_outcome: { kind: 'text', column: 'guardrail_outcome', of: 'guardrailOutcome' },
  output_hash: { kind: 'text', column: 'output_hash', of: 'outputHash' },
  latency_ms: { kind: 'number', column: 'latency_ms', of: 'latencyMs' },
  input_tokens: { kind: 'number', column: 'input_tokens', of: 'inputTokens' },
  output_tokens: { kind: 'number', column: 'output_tokens', of: 'outputTokens' },
  cost_usd: { kind: 'number', column: 'cost_usd', of: 'costUsd' },
  span_count: { kind: 'number', column: 'span_count', of: 'spanCount' },
  start_time: { kind: 'number', column: 'start_time', of: 'startTime' },
  end_time: { kind: 'number', column: 'end_time', of: 'endTime' },
} as const satisfies Record<string, { kind: 'number' | 'text'; column: string; of: keyof TraceSummary }>

export type TraceFilterKey = keyof typeof TRACE_FILTER_FIELDS
const KEYS = Object.keys(TRACE_FILTER_FIELDS) as TraceFilterKey[]

export function parseTraceFilter(input: string): TraceFilterNode {
  return parseFilterWith<TraceFilterField>(
    input,
    (token) => {
      const key = token.text.toLowerCase()
      if (token.type !== 'word') throw filterError(`expected a trace field such as latency_ms or status, found ${describeToken(token)}`, token.at)
      if (!Object.hasOwn(TRACE_FILTER_FIELDS, key)) throw filterError(`unknown trace field ${JSON.stringify(token.text)}; use one of ${KEYS.join(', ')}`, token.at)
      return { key: key as TraceFilterKey, ...TRACE_FILTER_FIELDS[key as TraceFilterKey] }
    },
    (field, op, value, at) => {
      if (field.kind === 'number' && op === '~') throw filterError(`'~' (contains) is for text fields; ${field.key} is a number`, at)
      if (field.kind === 'number' && typeof value !== 'number') throw filterError(`${field.key} is a number: compare it with a number, not ${JSON.stringify(value)}`, at)
      if (field.kind === 'text' && typeof value !== 'string') throw filterError(`${field.key} is text: compare it with a quoted string, not ${JSON.stringify(value)}`, at)
    },
  )
}

/** The filter as a WHERE condition over `traces` (no alias): every value a bound parameter. */
export function traceFilterToSql(node: TraceFilterNode, dialect: SqlDialect): { sql: string; params: unknown[] } {
  const params: unknown[] = []
  const number = dialect === 'postgres' ? 'CAST(? AS double precision)' : '?'
  // `not` is pushed down to the conditions (De Morgan holds in Kleene logic); each condition is
  // then two-valued: the column holds a value (not NULL, in PostgreSQL not NaN) and the test passes (or fails).
  const compile = (n: TraceFilterNode, negated: boolean): string => {
    if (n.kind === 'not') return compile(n.operand, !negated)
    if (n.kind !== 'compare') {
      const left = compile(n.left, negated)
      const right = compile(n.right, negated)
      return `(${left} ${(n.kind === 'and') !== negated ? 'AND' : 'OR'} ${right})`
    }
    const { column, kind } = n.field
    const flip = n.op === '!=' ? !negated : negated
    const present = kind === 'number' && dialect === 'postgres' ? `${column} IS NOT NULL AND ${column} <> 'NaN'::float8` : `${column} IS NOT NULL`
    params.push(n.value)
    const test =
      n.op === '~'
        ? dialect === 'postgres'
          ? `strpos(${column}, ?) > 0`
          : `instr(${column}, ?) > 0`
        : `${column} ${n.op === '!=' ? '=' : n.op} ${kind === 'number' ? number : '?'}`
    return `(${present} AND ${flip ? 'NOT ' : ''}(${test}))`
  }
  return { sql: compile(node, false), params }
}

/** Whether a trace passes the filter: the reference the SQL is tested against. */
export function traceMatches(node: TraceFilterNode, trace: TraceSummary): boolean {
  return evaluate(node, trace) === true
}

function evaluate(node: TraceFilterNode, trace: TraceSummary): boolean | null {
  switch (node.kind) {
    case 'and': {
      const left = evaluate(node.left, trace)
      const right = evaluate(node.right, trace)
      return left === false || right === false ? false : left === null || right === null ? null : true
    }
    case 'or': {
      const left = evaluate(node.left, trace)
      const right = evaluate(node.right, trace)
      return left === true || right === true ? true : left === null || right === null ? null : false
    }
    case 'not': {
      const operand = evaluate(node.operand, trace)
      return operand === null ? null : !operand
    }
    case 'compare': {
      const actual = trace[node.field.of] as JsonValue
      if (actual === null || actual === undefined || (typeof actual === 'number' && Number.isNaN(actual))) return null
      return compare(actual, node.op, node.value)
    }
  }
}

function compare(actual: JsonValue, op: FilterOp, expected: JsonValue): boolean {
  if (op === '~') return typeof actual === 'string' && actual.includes(expected as string)
  if (typeof actual === 'number' && typeof expected === 'number') {
    return op === '=' ? actual === expected : op === '!=' ? actual !== expected : op === '<' ? actual < expected : op === '<=' ? actual <= expected : op === '>' ? actual > expected : actual >= expected
  }
  if (typeof actual === 'string' && typeof expected === 'string') {
    const order = compareCodePoints(actual, expected)
    return op === '=' ? order === 0 : op === '!=' ? order !== 0 : op === '<' ? order < 0 : op === '<=' ? order <= 0 : op === '>' ? order > 0 : order >= 0
  }
  throw new AssayError('ASSAY_INVALID_FILTER', `cannot compare ${JSON.stringify(actual)} with ${JSON.stringify(expected)}`)
}
