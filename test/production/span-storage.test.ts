/**
 * How a span is kept, on SQLite and PostgreSQL read raw: its data is its canonical JSON (keys
 * sorted), serialised once, and content_sha256 is the sha256 of that text, the same hash
 * spanContentHash gives (and gave before the data was canonical). Text written with JSON escapes
 * (a control character, a NUL or a lone surrogate in a key) round-trips, and a NUL or a lone
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

interface SpanRow {
  span_id: string
  content_sha256: string
  data: string
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

/** Traces whose attributes arrive unsorted, with text that needs JSON escapes of every kind. */
function traces(deploymentId: string): TraceInput[] {
  const plain = llmTrace(deploymentId)
  const escaped = llmTrace(deploymentId, 1_700_000_005_000)
  escaped.spans[0].attributes = { zeta: 'bell \u0007, tab \t and record separator \u001e', 'alpha\ud800key': 1, 'nul\u0000key': [1, 'two', { y: 2, x: 1 }], 'quote"back\\slash': 'é 😀 \u2028' }
  escaped.spans[1].resource = { 'service.name': 'bot', 'a.first': true, '10': 'index-like', '9': 'keys' }
  const events = llmTrace(deploymentId, 1_700_000_009_000)
  events.spans.push(span({ parentSpanId: events.spans[0].spanId, events: [{ name: 'retry', time: 1_700_000_009_100, attributes: { b: 1, a: 'x' } }] }))
  return [plain, escaped, events]
}

async function checkStored(store: Store, rows: () => Promise<SpanRow[]>): Promise<void> {
  const deployment = await store.createDeployment(newDeployment())
  const input = traces(deployment.id)
  // The plain traces, then the one with escapes.
  for (const batch of [[input[0], input[2]], [input[1]]]) assert.deepEqual((await store.logTraces(batch)).rejected, [])
  const stored = await rows()
  const sent = new Map(input.flatMap((t) => t.spans).map((s) => [s.spanId, s]))
  assert.equal(stored.length, sent.size)
  for (const row of stored) {
    const original = sent.get(row.span_id)
    assert.ok(original !== undefined)
    assert.equal(row.data, canonicalJson(original), 'the data is the canonical JSON of the span as sent')
    assert.equal(row.content_sha256, sha256(row.data), 'the content hash is the sha256 of the stored text')
    assert.equal(row.content_sha256, spanContentHash(original))
    assert.deepEqual(JSON.parse(row.data), original)
  }
  // Re-sent unchanged: the hashes match what is stored.
  assert.deepEqual((await store.logTraces(input)).unchanged.sort(), input.map((t) => t.traceId).sort())
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

test('sqlite: span data is canonical JSON, hashed as stored', async () => {
  const { dir, cleanup } = tempDir('assay-spans-')
  const store = await SqliteStore.open(path.join(dir, 'store'))
  try {
    await checkStored(store, async () => {
      const db = new Database(path.join(dir, 'store', 'assay.db'), { readonly: true })
      try {
        return db.prepare('SELECT span_id, content_sha256, data FROM trace_spans').all() as SpanRow[]
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
    await checkStored(store, async () => (await admin.query<SpanRow>('SELECT span_id, content_sha256, data FROM trace_spans')).rows)
  } finally {
    await store.close()
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin.end()
  }
})
