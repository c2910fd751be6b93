/**
 * A store made at schema version 12 (before migrations 13-16: runs.config_parts and
 * assay_log_batch, the ordered-page indexes, trace_spans without its foreign key, then a row per
 * trace and write in trace_span_sets instead of a row per span) and holding a run
 * with params and metrics and a deployment with traces and spans, opened by the current code on
 * every backend: it migrates, reads everything back as stored, and accepts a new batch, a new trace
 * and a re-sent span.
 *
 * The version-12 store is built with migrations 1-12's own SQL; its rows are those the current code
 * wrote into a store beside it, copied column by column (the columns version 12 has; its
 * trace_spans rows are the current trace_span_sets rows split into spans).
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/postgres-migrations.js'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/sqlite-migrations.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { NewRun, Store } from '../../src/store/store.js'
import { llmTrace, newDeployment, span } from '../production/helpers.js'
import { dropSchema, freshSchema, tempDir } from './backends.js'
import { newRun, series } from './fixtures.js'
import { oldPostgresSchema, oldPostgresStore, oldSqliteStore, type SpanRow, type SpanSetRow } from './upgrade-harness.js'

const OLD_VERSION = 12

/** Version 12's trace_spans rows for the current store's trace_span_sets rows. */
function spanRows(sets: readonly SpanSetRow[]): SpanRow[] {
  return sets.flatMap((set) => set.spans.split('\n').map((data): SpanRow => [
    set.trace_id, (JSON.parse(data) as { spanId: string }).spanId, createHash('sha256').update(data).digest('hex'), data,
  ]))
}

interface Written {
  run: NewRun
  deploymentId: string
  traceId: string
  readBack: (store: Store) => Promise<unknown>
}

async function writeEverything(store: Store): Promise<Written> {
  const run = newRun({ experiment: 'upgrade', params: { lr: 0.1, layers: 4, optimizer: 'adam' } })
  await store.createRun(run)
  await store.logBatch(run.id, { batchId: 'b-1', metrics: [series('loss', [[0, 1], [1, 0.5], [2, 0.25]]), series('acc', [[2, 0.9]])] })
  const deployment = await store.createDeployment(newDeployment({ endpoint: 'upgrade-chat' }))
  const trace = llmTrace(deployment.id)
  const logged = await store.logTraces([trace])
  assert.deepEqual(logged.stored, [trace.traceId])
  const readBack = async (s: Store) => ({
    run: await s.getRun(run.id),
    deployment: await s.getDeployment(deployment.id),
    trace: await s.getTrace(trace.traceId),
  })
  return { run, deploymentId: deployment.id, traceId: trace.traceId, readBack }
}

async function checkUpgraded(store: Store, written: Written, before: unknown): Promise<void> {
  assert.deepEqual(await written.readBack(store), before, 'everything reads back as stored')
  // A new batch: a new param and more metric points (the one-statement path on PostgreSQL).
  await store.logBatch(written.run.id, { batchId: 'b-2', params: { warmup: 100 }, metrics: [series('loss', [[3, 0.125]])] })
  const run = await store.getRun(written.run.id)
  assert.equal(run.params.warmup, 100)
  assert.equal(run.params.lr, 0.1)
  assert.deepEqual([...(await store.metricHistory(written.run.id, 'loss')).steps], [0, 1, 2, 3])
  // A new trace, and the old trace's spans re-sent (unchanged) with one new span.
  const fresh = llmTrace(written.deploymentId, 1_700_000_005_000)
  assert.deepEqual((await store.logTraces([fresh])).stored, [fresh.traceId])
  const old = (await store.getTrace(written.traceId)).spans
  const resent = await store.logTraces([{ traceId: written.traceId, deploymentId: written.deploymentId, spans: old.map((s) => ({ ...s })) }])
  assert.deepEqual(resent.unchanged, [written.traceId], JSON.stringify(resent))
  const extra = span({ parentSpanId: old[0]?.spanId ?? null, name: 'late', startTime: 1_700_000_001_100, endTime: 1_700_000_001_200 })
  assert.deepEqual((await store.logTraces([{ traceId: written.traceId, deploymentId: written.deploymentId, spans: [extra] }])).stored, [written.traceId])
  assert.equal((await store.getTrace(written.traceId)).spans.length, old.length + 1)
}

test('sqlite: a version-12 store migrates and keeps its runs, deployments and traces', async () => {
  const { dir, cleanup } = tempDir('assay-v12-')
  try {
    const current = path.join(dir, 'current')
    const old = path.join(dir, 'old')
    let store: Store = await SqliteStore.open(current)
    const written = await writeEverything(store)
    const before = await written.readBack(store)
    await store.close()
    const db = oldSqliteStore(current, old, OLD_VERSION, spanRows)
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM trace_spans').get() as { n: number }).n, 3)
    assert.ok((db.prepare("SELECT sql FROM sqlite_master WHERE name = 'trace_spans'").get() as { sql: string }).sql.includes('REFERENCES'), 'version 12 has the key')
    db.close()
    store = await SqliteStore.open(old)
    try {
      await checkUpgraded(store, written, before)
    } finally {
      await store.close()
    }
    const migrated = new Database(path.join(old, 'assay.db'), { readonly: true })
    assert.equal(migrated.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.at(-1)?.version)
    migrated.close()
  } finally {
    cleanup()
  }
})

const url = process.env.ASSAY_TEST_POSTGRES_URL
test('postgres: a version-12 store migrates and keeps its runs, deployments and traces', { skip: url === undefined ? 'ASSAY_TEST_POSTGRES_URL is not set' : undefined }, async () => {
  const current = freshSchema()
  const old = freshSchema()
  try {
    let store: Store = await PostgresStore.open(url as string, { schema: current, poolSize: 2 })
    const written = await writeEverything(store)
    const before = await written.readBack(store)
    await store.close()
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      await oldPostgresStore(client, current, old, OLD_VERSION, spanRows)
      const fk = "SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'f'"
      assert.equal((await client.query<{ n: number }>(fk, [`"${old}".trace_spans`])).rows[0]?.n, 1, 'version 12 has the key')
      store = await PostgresStore.open(url as string, { schema: old, poolSize: 2 })
      try {
        await checkUpgraded(store, written, before)
      } finally {
        await store.close()
      }
      assert.equal((await client.query<{ present: string | null }>('SELECT to_regclass($1)::text AS present', [`"${old}".trace_spans`])).rows[0]?.present, null, 'migration 16 replaced trace_spans (and with it the key)')
      const { rows: versions } = await client.query<{ version: number }>(`SELECT version FROM "${old}".assay_schema_migrations ORDER BY version`)
      assert.deepEqual(versions.map((v) => v.version), POSTGRES_MIGRATIONS.map((m) => m.version))
    } finally {
      await client.end()
    }
  } finally {
    await dropSchema(url as string, current)
    await dropSchema(url as string, old)
  }
})

test('postgres: migration 15 also runs on a version-12 store whose trace_spans key is already gone', { skip: url === undefined ? 'ASSAY_TEST_POSTGRES_URL is not set' : undefined }, async () => {
  const schema = freshSchema()
  try {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      await oldPostgresSchema(client, schema, OLD_VERSION)
      await client.query('ALTER TABLE trace_spans DROP CONSTRAINT trace_spans_trace_id_fkey') // by hand, say
    } finally {
      await client.end()
    }
    const store = await PostgresStore.open(url as string, { schema, poolSize: 2 })
    try {
      const deployment = await store.createDeployment(newDeployment())
      const trace = llmTrace(deployment.id)
      assert.deepEqual((await store.logTraces([trace])).stored, [trace.traceId])
    } finally {
      await store.close()
    }
  } finally {
    await dropSchema(url as string, schema)
  }
})
