/**
 * Each trace's latest feedback value per name kept on its row (traces.feedback, migration 17),
 * written by addFeedback in the insert's transaction and read by Store.traceColumns: on every
 * backend the window's scores are those of the feedback table's rule (by time, then id in byte
 * order), whatever the order feedback arrives in, however often it is replayed; and a store
 * migrated to 17 fills the rows of the feedback it already holds.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { readTraceRows } from '../../src/monitor/check-monitor.js'
import type { Feedback } from '../../src/record/production.js'
import { traceColumnsFromRows, type TraceColumnNeeds } from '../../src/record/trace-columns.js'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { dropSchema, freshSchema, STORE_BACKENDS, tempDir, type OpenedStore } from '../store/backends.js'
import { llmTrace, newDeployment } from './helpers.js'

const START = 1_700_000_001_000
const NEEDS: TraceColumnNeeds = {
  scores: ['quality', 'helpful', 'absent'],
  features: [],
  attributes: false,
  conversationId: false,
  guardrailAction: false,
  modelVersion: false,
  promptVersion: false,
}

/** Two traces; on the first, feedback whose latest is decided by time, by an id tie in byte order ('a' > 'Z', 'é' > 'z'). */
async function twoTraces(store: Store): Promise<{ deployment: string; first: string; second: string; feedback: Feedback[] }> {
  const d = await store.createDeployment(newDeployment())
  const a = llmTrace(d.id, START)
  const b = llmTrace(d.id, START + 1000)
  await store.logTraces([a, b])
  const f = (id: string, traceId: string, name: string, value: number, at: number): Feedback => ({ id, traceId, name, value, source: 'judge', at })
  const feedback = [
    f('q-new', a.traceId, 'quality', 0.75, 20), // latest by time
    f('q-old', a.traceId, 'quality', 0.25, 10),
    f('q-older', a.traceId, 'quality', 0.5, 5),
    f('a', a.traceId, 'helpful', 1, 7), // 'a' (0x61) > 'Z' (0x5a) in bytes, not in a dictionary order
    f('Z', a.traceId, 'helpful', 0, 7),
    f('z', b.traceId, 'helpful', 0.125, 3),
    f('é', b.traceId, 'helpful', 0.875, 3), // 0xc3 0xa9 > 'z'
    f('b-q', b.traceId, 'quality', -0.5, 1),
  ]
  return { deployment: d.id, first: a.traceId, second: b.traceId, feedback }
}

async function scores(store: Store, deployment: string): Promise<{ columns: Awaited<ReturnType<Store['traceColumns']>>; oracle: ReturnType<typeof traceColumnsFromRows> }> {
  const columns = await store.traceColumns({ deployment, from: START - 1, to: START + 10_000, needs: NEEDS })
  // The row read joins trace_feedback and keeps its latest by (time, id): the rule's other reading.
  const oracle = traceColumnsFromRows(await readTraceRows(store, deployment, START - 1, START + 10_000), NEEDS)
  return { columns, oracle }
}

function assertExpected(columns: Awaited<ReturnType<Store['traceColumns']>>, first: string, second: string): void {
  const i = columns.traceIds.indexOf(first)
  const j = columns.traceIds.indexOf(second)
  assert.equal(columns.scores.quality[i], 0.75, 'the latest by time, whatever arrived after it')
  assert.equal(columns.scores.helpful[i], 1, "an equal time: the greater id in bytes ('a' over 'Z')")
  assert.equal(columns.scores.helpful[j], 0.875, "an equal time: 'é' over 'z' in bytes")
  assert.equal(columns.scores.quality[j], -0.5)
  assert.ok(Number.isNaN(columns.scores.absent[i]) && Number.isNaN(columns.scores.absent[j]), 'no feedback of the name: none')
}

for (const backend of STORE_BACKENDS) {
  if (backend.skip !== undefined) test(`feedback on the trace row: ${backend.name}`, { skip: backend.skip }, () => {})
  describe(`feedback on the trace row: ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStore
    let store: Store
    beforeEach(async () => {
      opened = await backend.open()
      store = opened.store
    })
    afterEach(async () => {
      await opened.dispose()
    })

    test('out of order, equal times, replays: the row holds the table rule’s latest, in any arrival order', async () => {
      const { deployment, first, second, feedback } = await twoTraces(store)
      // Older feedback arriving after newer: it does not overwrite.
      for (const f of feedback) await store.addFeedback(f)
      const once = await scores(store, deployment)
      assertExpected(once.columns, first, second)
      assert.deepEqual(once.columns, once.oracle)
      // Every feedback replayed (the same ids), in reverse order: nothing changes.
      for (const f of [...feedback].reverse()) await store.addFeedback(f)
      assert.deepEqual(await scores(store, deployment), once)
      // A later value still replaces.
      await store.addFeedback({ id: 'q-latest', traceId: first, name: 'quality', value: 0.125, source: 'judge', at: 21 })
      const later = await scores(store, deployment)
      assert.equal(later.columns.scores.quality[later.columns.traceIds.indexOf(first)], 0.125)
      assert.deepEqual(later.columns, later.oracle)
    })

    test('the same feedback in other arrival orders ends identical', async () => {
      const { deployment, first, second, feedback } = await twoTraces(store)
      // Reverse, and interleaved (odd positions first): distinct from the first test's order.
      for (const f of [...feedback].reverse()) await store.addFeedback(f)
      const reversed = await scores(store, deployment)
      assertExpected(reversed.columns, first, second)
      assert.deepEqual(reversed.columns, reversed.oracle)

      const other = await store.createDeployment(newDeployment())
      const a = llmTrace(other.id, START)
      const b = llmTrace(other.id, START + 1000)
      await store.logTraces([a, b])
      // Feedback ids are keys store-wide: the copies share a prefix, which keeps the ids' byte order.
      const renamed = feedback.map((f) => ({ ...f, id: `~${f.id}`, traceId: f.traceId === first ? a.traceId : b.traceId }))
      for (const f of [...renamed.filter((_, k) => k % 2 === 1), ...renamed.filter((_, k) => k % 2 === 0)]) await store.addFeedback(f)
      const interleaved = await scores(store, other.id)
      assertExpected(interleaved.columns, a.traceId, b.traceId)
      assert.deepEqual(interleaved.columns, interleaved.oracle)
    })

    test('feedback on one trace sent at once: the row ends as the table rule says', async () => {
      const { deployment, first } = await twoTraces(store)
      // 24 calls in flight together (PostgreSQL: on 4 connections), times with ties, the latest sent neither first nor last.
      const sent = Array.from({ length: 24 }, (_, k) => ({ id: `c-${String(k).padStart(2, '0')}`, traceId: first, name: 'quality', value: k / 32, source: 'judge', at: k % 6 }))
      await Promise.all(sent.map((f) => store.addFeedback(f)))
      const { columns, oracle } = await scores(store, deployment)
      assert.equal(columns.scores.quality[columns.traceIds.indexOf(first)], 23 / 32, 'time 5, the greatest id c-23')
      assert.deepEqual(columns, oracle)
    })
  })
}

test('sqlite: migration 17 fills the rows of the feedback the store holds', async () => {
  const { dir, cleanup } = tempDir('assay-feedback-row-')
  try {
    const root = path.join(dir, 'store')
    let store: Store = await SqliteStore.open(root)
    const { deployment, first, second, feedback } = await twoTraces(store)
    for (const f of feedback) await store.addFeedback(f)
    const before = await scores(store, deployment)
    await store.close()
    // The store as before migration 17: no column; feedback written then only to trace_feedback.
    const db = new Database(path.join(root, 'assay.db'))
    db.exec('ALTER TABLE traces DROP COLUMN feedback')
    // Version 16 had no span_keys either (migration 19 adds it again on open).
    db.exec('ALTER TABLE trace_span_sets DROP COLUMN span_keys')
    db.exec("INSERT INTO trace_feedback (id, trace_id, name, value, source, at) SELECT 'old-' || id, trace_id, name, value + 100, source, at - 1 FROM trace_feedback")
    db.pragma('user_version = 16')
    db.close()
    store = await SqliteStore.open(root)
    try {
      const after = await scores(store, deployment)
      assertExpected(after.columns, first, second)
      assert.deepEqual(after, before)
    } finally {
      await store.close()
    }
  } finally {
    cleanup()
  }
})

const url = process.env.ASSAY_TEST_POSTGRES_URL
test('postgres: migration 17 fills the rows of the feedback the store holds', { skip: url === undefined ? 'ASSAY_TEST_POSTGRES_URL is not set' : undefined }, async () => {
  const schema = freshSchema()
  try {
    let store: Store = await PostgresStore.open(url as string, { schema, poolSize: 2 })
    const { deployment, first, second, feedback } = await twoTraces(store)
    for (const f of feedback) await store.addFeedback(f)
    const before = await scores(store, deployment)
    await store.close()
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` })
    await client.connect()
    try {
      await client.query('ALTER TABLE traces DROP COLUMN feedback')
      await client.query("INSERT INTO trace_feedback (id, trace_id, name, value, source, at) SELECT 'old-' || id, trace_id, name, value + 100, source, at - 1 FROM trace_feedback")
      await client.query('DELETE FROM assay_schema_migrations WHERE version = 17')
    } finally {
      await client.end()
    }
    store = await PostgresStore.open(url as string, { schema, poolSize: 2 })
    try {
      const after = await scores(store, deployment)
      assertExpected(after.columns, first, second)
      assert.deepEqual(after, before)
    } finally {
      await store.close()
    }
  } finally {
    await dropSchema(url as string, schema)
  }
})

test('postgres: a score keeps every float8 digit when the connection sets extra_float_digits to 0', { skip: url === undefined ? 'ASSAY_TEST_POSTGRES_URL is not set' : undefined }, async () => {
  const schema = freshSchema()
  const low = `${url as string}${(url as string).includes('?') ? '&' : '?'}options=${encodeURIComponent('-c extra_float_digits=0')}`
  try {
    const store = await PostgresStore.open(low, { schema, poolSize: 2 })
    try {
      const d = await store.createDeployment(newDeployment())
      const trace = llmTrace(d.id, START)
      await store.logTraces([trace])
      const value = 0.1 + 0.2 // 0.30000000000000004: 15 digits would give 0.3
      await store.addFeedback({ id: 'f1', traceId: trace.traceId, name: 'quality', value, source: 'judge', at: 1 })
      const columns = await store.traceColumns({ deployment: d.id, from: START - 1, to: START + 10_000, needs: NEEDS })
      assert.equal(columns.scores.quality?.[0], value)
    } finally {
      await store.close()
    }
  } finally {
    await dropSchema(url as string, schema)
  }
})
