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
import fs from 'node:fs'
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

const OLD_VERSION = 12

/** Version 12's trace_spans rows for the current store's trace_span_sets rows. */
function spanRows(sets: readonly { trace_id: string; spans: string }[]): [string, string, string, string][] {
  return sets.flatMap((set) => set.spans.split('\n').map((data): [string, string, string, string] => [
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
    fs.cpSync(current, old, { recursive: true })
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(path.join(old, `assay.db${suffix}`), { force: true })
    const db = new Database(path.join(old, 'assay.db'))
    for (const m of SQLITE_MIGRATIONS.filter((x) => x.version <= OLD_VERSION)) db.exec(m.sql)
    db.pragma(`user_version = ${OLD_VERSION}`)
    db.pragma('foreign_keys = OFF')
    db.prepare('ATTACH DATABASE ? AS cur').run(path.join(current, 'assay.db'))
    const tables = db.prepare("SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]
    for (const { name } of tables) {
      if (name === 'trace_spans') {
        const insert = db.prepare('INSERT INTO main.trace_spans (trace_id, span_id, content_sha256, data) VALUES (?, ?, ?, ?)')
        for (const row of spanRows(db.prepare('SELECT trace_id, spans FROM cur.trace_span_sets').all() as { trace_id: string; spans: string }[])) insert.run(...row)
        continue
      }
      const columns = (db.prepare(`SELECT name FROM pragma_table_info('${name}')`).all() as { name: string }[]).map((c) => `"${c.name}"`).join(', ')
      db.exec(`INSERT INTO main."${name}" (${columns}) SELECT ${columns} FROM cur."${name}"`)
    }
    db.exec('DETACH DATABASE cur')
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
      await client.query(`CREATE SCHEMA "${old}"`)
      await client.query(`SET search_path TO "${old}"`)
      await client.query('CREATE TABLE assay_schema_migrations (version integer PRIMARY KEY, applied_at double precision NOT NULL)')
      for (const m of POSTGRES_MIGRATIONS.filter((x) => x.version <= OLD_VERSION)) {
        await client.query(m.sql)
        await client.query('INSERT INTO assay_schema_migrations (version, applied_at) VALUES ($1, 0)', [m.version])
      }
      // Copied in any order: the keys are checked once the rows are all there.
      await client.query('BEGIN')
      await client.query('SET LOCAL session_replication_role = replica')
      const { rows: tables } = await client.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name <> 'assay_schema_migrations'",
        [old],
      )
      for (const { table_name: table } of tables) {
        if (table === 'trace_spans') {
          const { rows: sets } = await client.query<{ trace_id: string; spans: string }>(`SELECT trace_id, spans FROM "${current}".trace_span_sets`)
          for (const row of spanRows(sets)) await client.query(`INSERT INTO "${old}".trace_spans (trace_id, span_id, content_sha256, data) VALUES ($1, $2, $3, $4)`, row)
          continue
        }
        const { rows: cols } = await client.query<{ column_name: string }>('SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND is_generated = $3', [old, table, 'NEVER'])
        const columns = cols.map((c) => `"${c.column_name}"`).join(', ')
        await client.query(`INSERT INTO "${old}"."${table}" (${columns}) OVERRIDING SYSTEM VALUE SELECT ${columns} FROM "${current}"."${table}"`)
      }
      await client.query('COMMIT')
      // Sequences follow the copied ids, as they would have in the old store.
      const { rows: serials } = await client.query<{ table_name: string; column_name: string }>(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1 AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')",
        [old],
      )
      for (const { table_name: table, column_name: column } of serials) {
        await client.query(`SELECT setval(pg_get_serial_sequence('"${old}"."${table}"', '${column}'), COALESCE(max("${column}"), 0) + 1, false) FROM "${old}"."${table}"`)
      }
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
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` })
    await client.connect()
    try {
      await client.query(`CREATE SCHEMA "${schema}"`)
      await client.query('CREATE TABLE assay_schema_migrations (version integer PRIMARY KEY, applied_at double precision NOT NULL)')
      for (const m of POSTGRES_MIGRATIONS.filter((x) => x.version <= OLD_VERSION)) {
        await client.query(m.sql)
        await client.query('INSERT INTO assay_schema_migrations (version, applied_at) VALUES ($1, 0)', [m.version])
      }
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
