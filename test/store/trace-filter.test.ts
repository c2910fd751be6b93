import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import { TRACE_ATTRIBUTES, type TraceInput, type TraceSummary } from '../../src/record/production.js'
import type { JsonValue } from '../../src/record/types.js'
import { parseTraceFilter, TRACE_FILTER_FIELDS, traceFilterToSql, traceMatches, type TraceFilterKey } from '../../src/store/trace-filter.js'
import { formatFilterLiteral } from '../../src/store/run-filter.js'
import { STORE_BACKENDS, type OpenedStore } from './backends.js'
import { rejectsWith, throwsWith, walkPages } from './fixtures.js'
import { hex, newDeployment, span } from '../production/helpers.js'

function trace(parts: Partial<TraceSummary>): TraceSummary {
  return {
    traceId: 'a'.repeat(32),
    deploymentId: 'd'.repeat(32),
    startTime: 1000,
    endTime: 1100,
    latencyMs: 100,
    status: 'ok',
    operation: 'chat',
    requestModel: 'gpt-x',
    inputTokens: 10,
    outputTokens: 5,
    conversationId: null,
    promptName: 'qa',
    promptVersion: '3',
    retrievalIndexVersion: null,
    costUsd: 0.002,
    guardrailAction: 'none',
    guardrailOutcome: 'pass',
    outputHash: null,
    spanCount: 2,
    ...parts,
  }
}

const TRACES = [
  trace({ traceId: 'a', latencyMs: 100 }),
  trace({ traceId: 'b', latencyMs: 2500, status: 'error', costUsd: null, guardrailAction: 'block', requestModel: 'gpt-y-mini' }),
  trace({ traceId: 'c', latencyMs: 40, requestModel: null, inputTokens: null, conversationId: 'conv-1' }),
]

function ids(filter: string): string[] {
  const tree = parseTraceFilter(filter)
  return TRACES.filter((t) => traceMatches(tree, t)).map((t) => t.traceId)
}

describe('trace filter grammar', () => {
  test('each field, and/or/not, parentheses, as the run grammar', () => {
    assert.deepEqual(ids('latency_ms > 1000'), ['b'])
    assert.deepEqual(ids("status = 'error' or latency_ms < 50"), ['b', 'c'])
    assert.deepEqual(ids("not (status = 'error') and latency_ms >= 40"), ['a', 'c'])
    assert.deepEqual(ids("model ~ 'mini'"), ['b'])
    assert.deepEqual(ids("model != 'gpt-x'"), ['b'], 'a trace without a model is unknown, not different')
    assert.deepEqual(ids("not model = 'gpt-x'"), ['b'], 'unknown stays unknown under not')
    assert.deepEqual(ids('cost_usd <= 0.002'), ['a', 'c'])
    assert.deepEqual(ids("guardrail_action != 'none'"), ['b'])
    assert.deepEqual(ids("conversation_id = 'conv-1'"), ['c'])
    assert.deepEqual(ids('input_tokens = 10'), ['a', 'b'])
    assert.deepEqual(ids("ID = 'a' OR id == 'c'"), ['a', 'c'], 'keywords and fields are case-insensitive, == is =')
    for (const key of Object.keys(TRACE_FILTER_FIELDS) as TraceFilterKey[]) {
      const literal = TRACE_FILTER_FIELDS[key].kind === 'number' ? '0' : "''"
      assert.doesNotThrow(() => parseTraceFilter(`${key} >= ${literal}`), key)
    }
  })

  test('bad filters are ASSAY_INVALID_FILTER with the place and the reason', () => {
    throwsWith(() => parseTraceFilter('latency > 5'), 'ASSAY_INVALID_FILTER', /unknown trace field "latency"; use one of id, status/)
    throwsWith(() => parseTraceFilter("latency_ms > '5'"), 'ASSAY_INVALID_FILTER', /latency_ms is a number/)
    throwsWith(() => parseTraceFilter('status = 1'), 'ASSAY_INVALID_FILTER', /status is text/)
    throwsWith(() => parseTraceFilter('model = null'), 'ASSAY_INVALID_FILTER', /model is text/)
    throwsWith(() => parseTraceFilter("cost_usd ~ '1'"), 'ASSAY_INVALID_FILTER', /contains.*cost_usd is a number/)
    throwsWith(() => parseTraceFilter("(status = 'ok'"), 'ASSAY_INVALID_FILTER', /expected '\)'/)
    throwsWith(() => parseTraceFilter("status = 'ok' latency_ms > 1"), 'ASSAY_INVALID_FILTER', /join conditions with 'and' or 'or'/)
    throwsWith(() => parseTraceFilter("status = 'ok; DROP TABLE traces"), 'ASSAY_INVALID_FILTER', /unterminated string/)
    throwsWith(() => parseTraceFilter('params.lr = 1'), 'ASSAY_INVALID_FILTER', /character 1: unknown trace field/)
    throwsWith(() => parseTraceFilter(''), 'ASSAY_INVALID_FILTER', /found the end of the filter/)
  })

  test('values reach SQL only as parameters', () => {
    const hostile = "x'); DROP TABLE traces; --"
    for (const dialect of ['sqlite', 'postgres'] as const) {
      const { sql, params } = traceFilterToSql(parseTraceFilter(`model = ${formatFilterLiteral(hostile)} or latency_ms > 5`), dialect)
      assert.ok(!sql.includes('DROP'), sql)
      assert.deepEqual(params, [hostile, 5])
    }
  })
})

// Generated traces stored on each backend, then generated filters: the store's page (walked with
// a small limit, so cursors carry the filter across pages) lists exactly the traces the in-memory
// reference (traceMatches) keeps of the same stored summaries.
const TEXT_POOL = ['a', 'ab', 'b', 'B', 'é', '']
const NUMBER_POOL = [0, 1, 2.5, 10, 1e3]
const ATTRIBUTE_OF: Partial<Record<TraceFilterKey, string>> = {
  operation: TRACE_ATTRIBUTES.operation,
  model: TRACE_ATTRIBUTES.requestModel,
  conversation_id: TRACE_ATTRIBUTES.conversationId,
  prompt_name: TRACE_ATTRIBUTES.promptName,
  prompt_version: TRACE_ATTRIBUTES.promptVersion,
  retrieval_index_version: TRACE_ATTRIBUTES.retrievalIndexVersion,
  guardrail_action: TRACE_ATTRIBUTES.guardrailAction,
  guardrail_outcome: TRACE_ATTRIBUTES.guardrailOutcome,
  output_hash: TRACE_ATTRIBUTES.outputHash,
  input_tokens: TRACE_ATTRIBUTES.inputTokens,
  output_tokens: TRACE_ATTRIBUTES.outputTokens,
  cost_usd: TRACE_ATTRIBUTES.costUsd,
}

function generatedTraces(deploymentId: string): TraceInput[] {
  const one = fc.record({
    start: fc.integer({ min: 0, max: 5 }),
    latency: fc.constantFrom(0, 1, 10, 1000),
    status: fc.constantFrom('ok' as const, 'error' as const, 'unset' as const),
    attributes: fc.dictionary(fc.constantFrom(...(Object.keys(ATTRIBUTE_OF) as TraceFilterKey[])), fc.nat()),
  })
  return fc.sample(one, { numRuns: 40, seed: 14 }).map((t) => {
    const attributes: Record<string, JsonValue> = {}
    for (const [key, pick] of Object.entries(t.attributes) as [TraceFilterKey, number][]) {
      attributes[ATTRIBUTE_OF[key] as string] = TRACE_FILTER_FIELDS[key].kind === 'number' ? NUMBER_POOL[pick % NUMBER_POOL.length] : TEXT_POOL[pick % TEXT_POOL.length]
    }
    const start = 1_700_000_000_000 + t.start * 1000
    return { traceId: hex(16), deploymentId, spans: [span({ startTime: start, endTime: start + t.latency, status: t.status, attributes })] }
  })
}

const KEYS = Object.keys(TRACE_FILTER_FIELDS) as TraceFilterKey[]
const comparison = fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom('=', '!=', '<', '<=', '>', '>=', '~'), fc.nat()).map(([key, op, pick]) => {
  const kind = TRACE_FILTER_FIELDS[key].kind
  if (kind === 'number') {
    const n = key === 'start_time' || key === 'end_time' ? 1_700_000_000_000 + (pick % 7) * 1000 : key === 'latency_ms' ? [0, 1, 10, 1000][pick % 4] : NUMBER_POOL[pick % NUMBER_POOL.length]
    return `${key} ${op === '~' ? '=' : op} ${n}`
  }
  const text = key === 'status' ? ['ok', 'error', 'unset', 'o'][pick % 4] : TEXT_POOL[pick % TEXT_POOL.length]
  return `${key} ${op} ${formatFilterLiteral(text)}`
})
const filterText: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    comparison,
    fc.tuple(tie('node'), fc.constantFrom('and', 'or'), tie('node')).map(([l, j, r]) => `(${l} ${j} ${r})`),
    tie('node').map((n) => `not ${n}`),
  ),
})).node

for (const backend of STORE_BACKENDS) {
  describe(`trace filter on ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStore
    let deployment: string
    let stored: TraceSummary[]
    before(async () => {
      opened = await backend.open()
      deployment = (await opened.store.createDeployment(newDeployment())).id
      const other = (await opened.store.createDeployment(newDeployment({ endpoint: 'other' }))).id
      await opened.store.logTraces([...generatedTraces(deployment), ...generatedTraces(other).slice(0, 5)])
      stored = (await walkPages((cursor) => opened.store.tracesPage({ deployment, limit: 100, cursor }), (p) => p.traces, 100)).items
      assert.equal(stored.length, 40)
    })
    after(() => opened.dispose())

    test('SQL lists what the in-memory reference keeps, page by page', async () => {
      await fc.assert(
        fc.asyncProperty(filterText, async (filter) => {
          const tree = parseTraceFilter(filter)
          const expected = stored.filter((t) => traceMatches(tree, t)).map((t) => t.traceId)
          const { items } = await walkPages((cursor) => opened.store.tracesPage({ deployment, filter, limit: 7, cursor }), (p) => p.traces, 7)
          assert.deepEqual(items.map((t) => t.traceId), expected, filter)
        }),
        { numRuns: backend.name === 'http' ? 25 : 60 },
      )
    })

    test('a bad filter is ASSAY_INVALID_FILTER; an empty one lists every trace', async () => {
      await rejectsWith(opened.store.tracesPage({ deployment, filter: 'latency_ms > oops', limit: 10 }), 'ASSAY_INVALID_FILTER', /expected a number/)
      assert.equal((await opened.store.tracesPage({ deployment, filter: '  ', limit: 100 })).traces.length, 40)
    })
  })
}
