/**
 * Migration 16 on a store at version 15 holding spans a row each in trace_spans: each trace's
 * spans become one trace_span_sets row (seq 0), every trace reads back as it was, a re-sent span is
 * recognised as unchanged (also one whose stored text is not the canonical JSON its recorded hash
 * was taken of: that set keeps the recorded hashes), a changed one is a conflict, and a new span
 * joins as a set of its own (seq 1) that updates the trace's summary and records its span ids and
 * hashes (span_keys, migration 19), where the carried-over sets record none.
 *
 * The version-15 store is built with migrations 1-15's own SQL; its rows are those the current code
 * wrote into a store beside it, copied column by column, its trace_spans rows the current sets
 * split into spans.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import type { TraceInput, TraceSpan } from '../../src/record/production.js'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { llmTrace, newDeployment, span } from '../production/helpers.js'
import { dropSchema, freshSchema, tempDir } from './backends.js'
import { oldPostgresStore, oldSqliteStore, type SpanRow, type SpanSetRow } from './upgrade-harness.js'

const OLD_VERSION = 15

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

/** The same JSON with its top-level keys in reverse order: what a writer before canonical data might have stored. */
const legacyText = (data: string): string => {
  const parsed = JSON.parse(data) as Record<string, unknown>
  return JSON.stringify(Object.fromEntries(Object.entries(parsed).reverse()))
}

interface Written {
  deploymentId: string
  traces: TraceInput[]
  /** The trace whose stored texts are made non-canonical in the old store. */
  legacy: string
  before: unknown[]
}

async function writeTraces(store: Store): Promise<Written> {
  const deployment = await store.createDeployment(newDeployment({ endpoint: 'upgrade-spans' }))
  const traces = [llmTrace(deployment.id), llmTrace(deployment.id, 1_700_000_005_000), llmTrace(deployment.id, 1_700_000_009_000)]
  // The first trace arrives in two writes (two sets in the current store, one row per span in the old).
  const [first, ...rest] = traces
  assert.deepEqual((await store.logTraces([{ ...first, spans: first.spans.slice(0, 1) }, ...rest])).rejected, [])
  assert.deepEqual((await store.logTraces([{ ...first, spans: first.spans.slice(1) }])).stored, [first.traceId])
  const before = await Promise.all(traces.map((t) => store.getTrace(t.traceId)))
  return { deploymentId: deployment.id, traces, legacy: traces[1].traceId, before }
}

/** Version 15's trace_spans rows for the current store's sets; the legacy trace's texts not canonical, its hashes those of the canonical texts. */
function spanRows(sets: readonly SpanSetRow[], legacy: string): SpanRow[] {
  return sets.flatMap((set) => set.spans.split('\n').map((data): SpanRow => [
    set.trace_id, (JSON.parse(data) as TraceSpan).spanId, sha256(data), set.trace_id === legacy ? legacyText(data) : data,
  ]))
}

interface SetRow {
  trace_id: string
  seq: number
  span_keys: Buffer | null
  hashes: string | null
  spans: string
}

async function checkMigrated(store: Store, written: Written, sets: () => Promise<SetRow[]>, legacyHashesKept: 'always' | 'when needed'): Promise<void> {
  const rows = await sets()
  assert.deepEqual(rows.map((r) => [r.trace_id, Number(r.seq)]).sort(), written.traces.map((t) => [t.traceId, 0]).sort(), 'one set per trace')
  for (const row of rows) {
    const trace = written.traces.find((t) => t.traceId === row.trace_id) as TraceInput
    assert.equal(row.spans.split('\n').length, trace.spans.length)
    assert.equal(row.span_keys, null, 'a carried-over set records no span keys (migration 19 fills none)')
    if (legacyHashesKept === 'always' || row.trace_id === written.legacy) assert.equal(row.hashes?.length, 64 * trace.spans.length, 'the recorded hashes kept')
    else assert.equal(row.hashes, null, 'hashes implied by canonical texts')
  }
  const after = await Promise.all(written.traces.map((t) => store.getTrace(t.traceId)))
  assert.deepEqual(after, written.before, 'every trace reads back as stored')
  // Re-sent unchanged, the legacy trace included; a changed span is a conflict.
  assert.deepEqual((await store.logTraces(written.traces)).unchanged.sort(), written.traces.map((t) => t.traceId).sort())
  const legacy = written.traces.find((t) => t.traceId === written.legacy) as TraceInput
  const changed = { ...legacy, spans: [{ ...legacy.spans[0], name: 'renamed' }] }
  assert.deepEqual((await store.logTraces([changed])).rejected.map((r) => r.code), ['ASSAY_TRACE_CONFLICT'])
  // A new span joins as seq 1 and the trace's summary follows.
  const late = span({ parentSpanId: legacy.spans[0].spanId, name: 'late', startTime: 1_700_000_005_100, endTime: 1_700_000_099_000 })
  assert.deepEqual((await store.logTraces([{ ...legacy, spans: [late] }])).stored, [legacy.traceId])
  const grown = await store.getTrace(legacy.traceId)
  assert.equal(grown.spans.length, legacy.spans.length + 1)
  assert.equal(grown.spanCount, legacy.spans.length + 1)
  assert.equal(grown.endTime, 1_700_000_099_000)
  const legacySets = (await sets()).filter((r) => r.trace_id === legacy.traceId).sort((a, b) => Number(a.seq) - Number(b.seq))
  assert.deepEqual(legacySets.map((r) => [Number(r.seq), r.span_keys?.length ?? null, r.hashes?.length ?? null]), [[0, null, legacySets[0].hashes?.length ?? null], [1, 40, null]], 'the new set records its keys')
  assert.deepEqual((await store.logTraces([{ ...legacy, spans: [...legacy.spans, late] }])).unchanged, [legacy.traceId])
}

test('sqlite: migration 16 turns a version-15 store\'s span rows into one set per trace', async () => {
  const { dir, cleanup } = tempDir('assay-v15-')
  try {
    const current = path.join(dir, 'current')
    const old = path.join(dir, 'old')
    let store: Store = await SqliteStore.open(current)
    const written = await writeTraces(store)
    await store.close()
    const db = oldSqliteStore(current, old, OLD_VERSION, (sets) => spanRows(sets, written.legacy))
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM trace_spans').get() as { n: number }).n, written.traces.reduce((n, t) => n + t.spans.length, 0))
    db.close()
    store = await SqliteStore.open(old)
    try {
      const read = async (): Promise<SetRow[]> => {
        const view = new Database(path.join(old, 'assay.db'), { readonly: true })
        try {
          return view.prepare('SELECT trace_id, seq, span_keys, hashes, spans FROM trace_span_sets').all() as SetRow[]
        } finally {
          view.close()
        }
      }
      await checkMigrated(store, written, read, 'always')
    } finally {
      await store.close()
    }
  } finally {
    cleanup()
  }
})

const url = process.env.ASSAY_TEST_POSTGRES_URL
test('postgres: migration 16 turns a version-15 store\'s span rows into one set per trace', { skip: url === undefined ? 'ASSAY_TEST_POSTGRES_URL is not set' : undefined }, async () => {
  const current = freshSchema()
  const old = freshSchema()
  try {
    let store: Store = await PostgresStore.open(url as string, { schema: current, poolSize: 2 })
    const written = await writeTraces(store)
    await store.close()
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      await oldPostgresStore(client, current, old, OLD_VERSION, (sets) => spanRows(sets, written.legacy))
      store = await PostgresStore.open(url as string, { schema: old, poolSize: 2 })
      try {
        await checkMigrated(store, written, async () => (await client.query<SetRow>(`SELECT trace_id, seq, span_keys, hashes, spans FROM "${old}".trace_span_sets`)).rows, 'when needed')
      } finally {
        await store.close()
      }
      assert.equal((await client.query<{ present: string | null }>('SELECT to_regclass($1)::text AS present', [`"${old}".trace_spans`])).rows[0]?.present, null, 'trace_spans is gone')
    } finally {
      await client.end()
    }
  } finally {
    await dropSchema(url as string, current)
    await dropSchema(url as string, old)
  }
})
