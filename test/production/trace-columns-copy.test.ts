/**
 * Store.traceColumns on PostgreSQL reads by binary COPY (copy-binary.ts): the columns it decodes
 * are exactly those of the store core's paged read of row objects (SqlStore.traceColumns, which
 * SQLite keeps), over values that test a decoder: NULLs, NaN and ±Infinity, integers up to 2^53,
 * fractional and far times, text beyond ASCII, feedback ties, and tuples split across chunks.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import type { TraceColumnNeeds } from '../../src/record/trace-columns.js'
import { CopyBinaryDecoder } from '../../src/store/postgres/copy-binary.js'
import { TRACE_FEEDBACK_FILL } from '../../src/store/postgres/postgres-migrations.js'
import { SqlStore } from '../../src/store/sql-store.js'
import type { Store, TraceColumnsQuery } from '../../src/store/store.js'
import { STORE_BACKENDS, type OpenedStore } from '../store/backends.js'
import { newDeployment } from './helpers.js'

const postgres = STORE_BACKENDS.find((b) => b.name === 'postgres')
const NOW = Date.UTC(2026, 11, 1, 12)
const FAR_PAST = -8.64e15

const EVERYTHING: TraceColumnNeeds = {
  scores: ['quality', 'guardrail_triggered', 'guardrail_pass', 'absent'],
  features: ['inputTokens', 'latencyMs', 'operation', 'requestModel', 'promptVersion', 'retrievalIndexVersion'],
  attributes: true,
  conversationId: true,
  guardrailAction: true,
  modelVersion: true,
  promptVersion: true,
}

describe('trace columns by binary COPY: postgres', { skip: postgres === undefined ? 'no postgres backend' : postgres.skip }, () => {
  let opened: OpenedStore
  let store: Store

  beforeEach(async () => {
    opened = await (postgres as NonNullable<typeof postgres>).open()
    store = opened.store
  })
  afterEach(async () => {
    await opened.dispose()
  })

  test('the decoded columns are those of the row read, value for value', async () => {
    const d = await store.createDeployment(newDeployment())
    const columns = 'trace_id, deployment_id, start_time, end_time, latency_ms, status, operation, request_model, input_tokens, output_tokens, conversation_id, prompt_name, prompt_version, retrieval_index_version, cost_usd, guardrail_action, guardrail_outcome, output_hash, span_count'
    await opened.rawSql(`
      INSERT INTO traces (${columns}) VALUES
        ('t1', '${d.id}', ${NOW - 1000.5}, ${NOW}, 'Infinity', 'ok', 'chat', 'gpt-ü', 9007199254740991, 1e300, 'ü-😀-conv', 'qa', '3', 'idx-1', 'NaN', 'blocked', 'fail', 'h', 1),
        ('t2', '${d.id}', ${FAR_PAST}, ${FAR_PAST}, '-Infinity', 'ok', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1),
        ('t3', '${d.id}', ${FAR_PAST}, ${FAR_PAST}, 0, 'error', 'chat', '', '-0'::float8, 5e-324, '', 'qa', '', NULL, -1.5, 'none', NULL, NULL, 2),
        ('outside', '${d.id}', ${NOW}, ${NOW}, 1, 'ok', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1);
      -- Enough traces, with long texts, that tuples straddle the chunks COPY sends.
      INSERT INTO traces (${columns})
        SELECT 'g' || lpad(g::text, 6, '0'), '${d.id}', ${NOW - 3_600_000} + g, ${NOW}, g % 7, 'ok', 'chat', 'm', g, NULL,
               repeat('c', 1 + g % 300), NULL, (g % 3)::text, NULL, g * 1e-6, CASE WHEN g % 5 = 0 THEN 'blocked' END, NULL, NULL, 1
        FROM generate_series(1, 3000) AS g;
      INSERT INTO trace_feedback (id, trace_id, name, value, source, at) VALUES
        ('a', 't1', 'quality', 0.25, 'judge', 5), ('b', 't1', 'quality', 0.75, 'judge', 5), ('c', 't1', 'quality', 0.5, 'judge', 4),
        ('d', 't2', 'quality', 'NaN', 'judge', 1), ('e', 't3', 'quality', '-0'::float8, 'judge', 1),
        ('f', 't1', 'guardrail_triggered', 0, 'judge', 9), ('g', 't2', 'guardrail_pass', 1, 'judge', 1),
        ('h', 'outside', 'quality', 1, 'judge', 1);
      INSERT INTO trace_feedback (id, trace_id, name, value, source, at)
        SELECT 'q' || g, 'g' || lpad(g::text, 6, '0'), 'quality', g / 3000.0, 'judge', g % 2 FROM generate_series(1, 3000, 2) AS g;
      -- Written by hand, not by addFeedback: the rows' latest values filled as migration 17 fills them.
      ${TRACE_FEEDBACK_FILL};
    `)
    const query: TraceColumnsQuery = { deployment: d.id, from: FAR_PAST, to: NOW, needs: EVERYTHING }
    const copied = await store.traceColumns(query)
    const rowRead = SqlStore.prototype.traceColumns
    assert.deepEqual(copied, await rowRead.call(store, query))
    assert.deepEqual(copied, await rowRead.call(store, { ...query, pageSize: 7 }))
    const lean = { ...query, needs: { ...EVERYTHING, scores: ['quality'], features: [], attributes: false, conversationId: false, guardrailAction: false, promptVersion: false } }
    assert.deepEqual(await store.traceColumns(lean), await rowRead.call(store, lean))

    assert.equal(copied.length, 3003)
    assert.deepEqual(copied.traceIds.slice(0, 3), ['t2', 't3', 'g000001'], 'by start time, then trace id')
    const t1 = copied.traceIds.indexOf('t1')
    const [t2, t3] = [0, 1]
    assert.equal(copied.time[t1], NOW - 1000.5)
    assert.equal(copied.time[t2], FAR_PAST)
    assert.equal(copied.latencyMs[t1], Infinity)
    assert.equal(copied.latencyMs[t2], -Infinity)
    assert.equal(copied.inputTokens[t1], 2 ** 53 - 1)
    assert.equal(copied.outputTokens[t1], 1e300)
    assert.equal(copied.outputTokens[t3], 5e-324)
    assert.ok(Object.is(copied.inputTokens[t3], -0))
    assert.ok(Number.isNaN(copied.costUsd[t1]) && Number.isNaN(copied.inputTokens[t2]), 'NaN stored and NULL both read as NaN')
    assert.equal(copied.scores.quality[t1], 0.75, 'the latest feedback: by time, then the greater id')
    assert.ok(Object.is(copied.scores.quality[t3], -0))
    assert.equal(copied.scores.guardrail_triggered[t1], 1, "the trace's guardrail action wins over feedback of the name")
    assert.equal(copied.scores.guardrail_pass[t2], 1, 'feedback stands where the trace has no guardrail column')
    const conversation = copied.conversationId as NonNullable<typeof copied.conversationId>
    assert.equal(conversation.values[conversation.codes[t1]], 'ü-😀-conv')
    assert.equal(conversation.values[conversation.codes[t3]], '', 'an empty text is a value, not NULL')
    assert.equal(conversation.codes[t2], -1)
  })

  test('the decoder gives the same tuples however the stream is cut, and refuses a cut-off stream', async () => {
    const client = new pg.Client({ connectionString: process.env.ASSAY_TEST_POSTGRES_URL })
    await client.connect()
    let bytes: Buffer
    try {
      const chunks: Buffer[] = []
      const select = "SELECT g::float8, CASE WHEN g % 3 = 0 THEN NULL ELSE repeat('é', g) END, g::int4 FROM generate_series(1, 40) AS g"
      for await (const chunk of client.query(copyTo(`COPY (${select}) TO STDOUT (FORMAT binary)`))) chunks.push(chunk as Buffer)
      bytes = Buffer.concat(chunks)
    } finally {
      await client.end()
    }
    const decode = (cuts: number[]): unknown[][] => {
      const tuples: unknown[][] = []
      const decoder = new CopyBinaryDecoder(3, (buffer, offsets, lengths) => {
        tuples.push([buffer.readDoubleBE(offsets[0]), lengths[1] < 0 ? null : buffer.toString('utf8', offsets[1], offsets[1] + lengths[1]), buffer.readInt32BE(offsets[2])])
      })
      let at = 0
      for (const cut of [...cuts, bytes.length]) {
        decoder.push(bytes.subarray(at, cut))
        at = cut
      }
      decoder.end()
      return tuples
    }
    const whole = decode([])
    assert.equal(whole.length, 40)
    assert.deepEqual(whole[2], [3, null, 3])
    assert.deepEqual(whole[3], [4, 'éééé', 4])
    assert.deepEqual(decode(Array.from({ length: bytes.length - 1 }, (_, i) => i + 1)), whole, 'a byte at a time')
    for (let cut = 1; cut < bytes.length; cut += 13) assert.deepEqual(decode([cut]), whole, `cut at ${cut}`)

    const truncated = new CopyBinaryDecoder(3, () => {})
    truncated.push(bytes.subarray(0, bytes.length - 2))
    assert.throws(() => truncated.end(), /ended before its trailer/)
    assert.throws(() => new CopyBinaryDecoder(2, () => {}).push(bytes), /3 fields, expected 2/)
    assert.throws(() => new CopyBinaryDecoder(3, () => {}).push(Buffer.from('not a copy stream at all')), /signature/)
  })
})
