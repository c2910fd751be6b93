/**
 * How a span is kept, on SQLite and PostgreSQL read raw: one trace_span_sets row per trace and
 * write (migration 16), holding the spans' texts one a line; each text is the span's canonical JSON
 * (keys sorted), serialised once, and the row records each span's id and content hash in line
 * order (migration 19, in binary), the hash the sha256 of that text, the same hash spanContentHash gives (and
 * gave before the data was canonical). A set written before migration 19 (span_keys and hashes
 * NULL) still recognises a re-sent span, refuses a changed one and takes a late one. Text written with JSON escapes
 * (a control character, a newline, a NUL or a lone surrogate in a key) round-trips, and a NUL or a lone
 * surrogate in a value is refused as before.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { canonicalJson } from '../../src/record/validate.js'
import { spanContentHash, type TraceInput } from '../../src/record/production.js'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { freshSchema, tempDir } from '../store/backends.js'
import { llmTrace, newDeployment, span } from './helpers.js'

interface SetRow {
  trace_id: string
  seq: number
  span_keys: Buffer | null
  hashes: string | null
  spans: string
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

/** Traces whose attributes arrive unsorted, with text that needs JSON escapes of every kind. */
function traces(deploymentId: string): TraceInput[] {
  const plain = llmTrace(deploymentId)
  const escaped = llmTrace(deploymentId, 1_700_000_005_000)
  escaped.spans[0].attributes = { zeta: 'bell \u0007, tab \t, newline \n and record separator \u001e', 'alpha\ud800key': 1, 'nul\u0000key': [1, 'two', { y: 2, x: 1 }], 'quote"back\\slash': 'é 😀 \u2028' }
  escaped.spans[1].resource = { 'service.name': 'bot', 'a.first': true, '10': 'index-like', '9': 'keys' }
  const events = llmTrace(deploymentId, 1_700_000_009_000)
  events.spans.push(span({ parentSpanId: events.spans[0].spanId, events: [{ name: 'retry', time: 1_700_000_009_100, attributes: { b: 1, a: 'x' } }] }))
  return [plain, escaped, events]
}

async function checkStored(store: Store, rows: () => Promise<SetRow[]>, exec: (sql: string) => Promise<void>): Promise<void> {
  const deployment = await store.createDeployment(newDeployment())
  const input = traces(deployment.id)
  // The plain traces, then the one with escapes.
  for (const batch of [[input[0], input[2]], [input[1]]]) assert.deepEqual((await store.logTraces(batch)).rejected, [])
  const sets = await rows()
  assert.deepEqual(sets.map((r) => [r.trace_id, Number(r.seq)]).sort(), input.map((t) => [t.traceId, 0]).sort(), 'one row per trace and write')
  for (const r of sets) {
    const lines = r.spans.split('\n')
    const keys = lines.map((data) => (JSON.parse(data) as { spanId: string }).spanId + sha256(data)).join('')
    assert.equal(Buffer.from(r.span_keys as Uint8Array).toString('hex'), keys, 'each span id and content hash, in line order')
    assert.equal(r.hashes, null)
  }
  const sent = new Map(input.flatMap((t) => t.spans).map((s) => [s.spanId, s]))
  const stored = sets.flatMap((r) => r.spans.split('\n').map((data) => ({ traceId: r.trace_id, data })))
  assert.equal(stored.length, sent.size)
  for (const { traceId, data } of stored) {
    const original = sent.get((JSON.parse(data) as { spanId: string }).spanId)
    assert.ok(original !== undefined)
    assert.ok(input.find((t) => t.traceId === traceId)?.spans.includes(original), 'stored with its own trace')
    assert.equal(data, canonicalJson(original), 'the data is the canonical JSON of the span as sent')
    assert.equal(sha256(data), spanContentHash(original), 'the content hash is the sha256 of the stored text')
    assert.deepEqual(JSON.parse(data), original)
  }
  // Re-sent unchanged: the hashes match what is stored; a changed span is a conflict.
  assert.deepEqual((await store.logTraces(input)).unchanged.sort(), input.map((t) => t.traceId).sort())
  const changed = { ...input[1], spans: [input[1].spans[0], { ...input[1].spans[1], name: 'renamed' }] }
  assert.deepEqual((await store.logTraces([changed])).rejected.map((r) => r.code), ['ASSAY_TRACE_CONFLICT'])
  await checkOldFormat(store, input, rows, exec)
  // A NUL or a lone surrogate in a value is refused, with the value named, as before.
  const bad = llmTrace(deployment.id, 1_700_000_020_000)
  bad.spans[1].attributes['gen_ai.request.model'] = 'gpt\u0000x'
  const refused = await store.logTraces([bad])
  assert.deepEqual(refused.rejected.map((r) => r.code), ['ASSAY_INVALID_ARGUMENT'])
  assert.match(refused.rejected[0].message, /"gpt\\u0000x" holds a NUL character/)
  const lone = llmTrace(deployment.id, 1_700_000_030_000)
  lone.spans[0].events = [{ name: 'e', time: 1_700_000_030_001, attributes: { note: 'a\udc00b' } }]
  assert.deepEqual((await store.logTraces([lone])).rejected.map((r) => r.code), ['ASSAY_INVALID_ARGUMENT'])
}

/**
 * Sets as written between migrations 16 and 19 (no span ids, hashes implied by the texts): a
 * re-send of them is unchanged, a changed span (the escaped trace's, whose text needs escapes) a
 * conflict, and a late span joins as a set that records its keys, the trace's fields taken from
 * every span, old and new.
 */
async function checkOldFormat(store: Store, input: readonly TraceInput[], rows: () => Promise<SetRow[]>, exec: (sql: string) => Promise<void>): Promise<void> {
  await exec('UPDATE trace_span_sets SET span_keys = NULL')
  assert.ok((await rows()).every((r) => r.span_keys === null && r.hashes === null))
  const before = await Promise.all(input.map((t) => store.getTrace(t.traceId)))
  assert.deepEqual(await store.logTraces(input), { stored: [], unchanged: input.map((t) => t.traceId), rejected: [] }, 'old sets dedup a re-send')
  const escaped = input[1]
  const changed = { ...escaped, spans: [{ ...escaped.spans[0], attributes: { ...escaped.spans[0].attributes, zeta: 'other' } }] }
  assert.deepEqual((await store.logTraces([changed])).rejected.map((r) => r.code), ['ASSAY_TRACE_CONFLICT'])
  assert.deepEqual(await Promise.all(input.map((t) => store.getTrace(t.traceId))), before, 'nothing stored changed')
  const late = span({ parentSpanId: escaped.spans[0].spanId, name: 'late', startTime: escaped.spans[0].startTime + 1, endTime: before[1].endTime + 5_000, attributes: { 'gen_ai.usage.output_tokens': 7 } })
  assert.deepEqual(await store.logTraces([{ ...escaped, spans: [...escaped.spans, late] }]), { stored: [escaped.traceId], unchanged: [], rejected: [] })
  const grown = await store.getTrace(escaped.traceId)
  assert.equal(grown.spanCount, escaped.spans.length + 1)
  assert.equal(grown.endTime, before[1].endTime + 5_000)
  assert.equal(grown.outputTokens, (before[1].outputTokens ?? 0) + 7, 'fields from the old set\'s spans and the late one')
  const sets = (await rows()).filter((r) => r.trace_id === escaped.traceId).sort((a, b) => Number(a.seq) - Number(b.seq))
  assert.deepEqual(sets.map((r) => [Number(r.seq), r.span_keys === null ? null : Buffer.from(r.span_keys).toString('hex'), r.hashes]), [[0, null, null], [1, late.spanId + spanContentHash(late), null]])
  // Both formats in one trace: a re-send of everything is unchanged, a changed late span a conflict.
  assert.deepEqual((await store.logTraces([{ ...escaped, spans: [late, ...escaped.spans] }])).unchanged, [escaped.traceId])
  assert.deepEqual((await store.logTraces([{ ...escaped, spans: [{ ...late, name: 'later' }] }])).rejected.map((r) => r.code), ['ASSAY_TRACE_CONFLICT'])
}

test('sqlite: span data is canonical JSON, hashed as stored', async () => {
  const { dir, cleanup } = tempDir('assay-spans-')
  const store = await SqliteStore.open(path.join(dir, 'store'))
  try {
    await checkStored(store, async () => {
      const db = new Database(path.join(dir, 'store', 'assay.db'), { readonly: true })
      try {
        return db.prepare('SELECT trace_id, seq, span_keys, hashes, spans FROM trace_span_sets').all() as SetRow[]
      } finally {
        db.close()
      }
    }, async (sql) => {
      const db = new Database(path.join(dir, 'store', 'assay.db'))
      try {
        db.exec(sql)
      } finally {
        db.close()
      }
    })
  } finally {
    await store.close()
    cleanup()
  }
})

const POSTGRES_URL = process.env.ASSAY_TEST_POSTGRES_URL

test('postgres: span data is canonical JSON, hashed as stored', { skip: POSTGRES_URL === undefined ? 'ASSAY_TEST_POSTGRES_URL is not set' : undefined }, async () => {
  const url = POSTGRES_URL as string
  const schema = freshSchema()
  const store = await PostgresStore.open(url, { schema, poolSize: 2 })
  const admin = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` })
  await admin.connect()
  try {
    await checkStored(store, async () => (await admin.query<SetRow>('SELECT trace_id, seq, span_keys, hashes, spans FROM trace_span_sets')).rows, async (sql) => {
      await admin.query(sql)
    })
  } finally {
    await store.close()
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin.end()
  }
})
