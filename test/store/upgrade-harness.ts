/**
 * What the schema upgrade tests share: a store at an old schema version, built with that
 * version's migrations' own SQL and holding the rows the current code wrote into a store beside
 * it, copied column by column (the columns the old version has). Stores before migration 16 keep
 * a span a row in trace_spans: the caller says how the current trace_span_sets rows split into
 * those rows. Each test writes its current store, then migrates the old one with the current code.
 */
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import type pg from 'pg'
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/postgres-migrations.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/sqlite-migrations.js'

/** A current trace_span_sets row, as the copy reads it. */
export interface SpanSetRow {
  trace_id: string
  spans: string
}

/** A trace_spans row of a store before migration 16: trace id, span id, content sha256, data. */
export type SpanRow = [traceId: string, spanId: string, contentSha256: string, data: string]

/** The old store's trace_spans rows for the current store's sets. */
export type SpanRowsOf = (sets: readonly SpanSetRow[]) => SpanRow[]

/**
 * SQLite: the store directory `old` made from the closed current store at `current` (its files
 * copied, its database rebuilt at `version` with the current rows). Returns the old database,
 * still open for the caller's checks; the caller closes it before opening the store.
 */
export function oldSqliteStore(current: string, old: string, version: number, spanRows: SpanRowsOf): Database.Database {
  fs.cpSync(current, old, { recursive: true })
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(path.join(old, `assay.db${suffix}`), { force: true })
  const db = new Database(path.join(old, 'assay.db'))
  for (const m of SQLITE_MIGRATIONS.filter((x) => x.version <= version)) db.exec(m.sql)
  db.pragma(`user_version = ${version}`)
  db.pragma('foreign_keys = OFF')
  db.prepare('ATTACH DATABASE ? AS cur').run(path.join(current, 'assay.db'))
  const tables = db.prepare("SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]
  for (const { name } of tables) {
    if (name === 'trace_spans') {
      const insert = db.prepare('INSERT INTO main.trace_spans (trace_id, span_id, content_sha256, data) VALUES (?, ?, ?, ?)')
      for (const row of spanRows(db.prepare('SELECT trace_id, spans FROM cur.trace_span_sets').all() as SpanSetRow[])) insert.run(...row)
      continue
    }
    const columns = (db.prepare(`SELECT name FROM pragma_table_info('${name}')`).all() as { name: string }[]).map((c) => `"${c.name}"`).join(', ')
    db.exec(`INSERT INTO main."${name}" (${columns}) SELECT ${columns} FROM cur."${name}"`)
  }
  db.exec('DETACH DATABASE cur')
  return db
}

/** PostgreSQL: creates `schema` at `version` with migrations 1..version's SQL, recorded as applied, and leaves `client` on it. */
export async function oldPostgresSchema(client: pg.Client, schema: string, version: number): Promise<void> {
  await client.query(`CREATE SCHEMA "${schema}"`)
  await client.query(`SET search_path TO "${schema}"`)
  await client.query('CREATE TABLE assay_schema_migrations (version integer PRIMARY KEY, applied_at double precision NOT NULL)')
  for (const m of POSTGRES_MIGRATIONS.filter((x) => x.version <= version)) {
    await client.query(m.sql)
    await client.query('INSERT INTO assay_schema_migrations (version, applied_at) VALUES ($1, 0)', [m.version])
  }
}

/** PostgreSQL: the schema `old` at `version`, holding the rows of the current store's schema `current`. */
export async function oldPostgresStore(client: pg.Client, current: string, old: string, version: number, spanRows: SpanRowsOf): Promise<void> {
  await oldPostgresSchema(client, old, version)
  // Copied in any order: the keys are checked once the rows are all there.
  await client.query('BEGIN')
  await client.query('SET LOCAL session_replication_role = replica')
  const { rows: tables } = await client.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name <> 'assay_schema_migrations'",
    [old],
  )
  for (const { table_name: table } of tables) {
    if (table === 'trace_spans') {
      const { rows: sets } = await client.query<SpanSetRow>(`SELECT trace_id, spans FROM "${current}".trace_span_sets`)
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
}
