import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { buildServer } from '../../src/server/app.js'
import { HttpStore } from '../../src/store/http/http-store.js'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'

/**
 * The store backends the contract suite runs against, in the manner of Kysely's
 * `for (const dialect of DIALECTS)` and MLflow's store fixtures: one suite, one factory per
 * backend. Add a backend by appending a factory; a backend that cannot run here names the reason
 * in `skip` and its tests are reported as skipped, not silently dropped.
 */
export interface OpenedStore {
  store: Store
  /** Damage the stored bytes of one artifact in place (the contract says reads must notice). */
  corruptBlob(sha256: string): Promise<void>
  /** sha256 of every blob the backend holds, sorted (to see deduplication). */
  blobs(): Promise<string[]>
  /**
   * Run statements straight on the backend's database, as someone with raw access would (to test
   * what the store notices); http runs them on the store underneath.
   */
  rawSql(statements: string): Promise<void>
  /** Close the store and delete everything it wrote. */
  dispose(): Promise<void>
}

export interface StoreBackend {
  name: string
  /**
   * Why this backend cannot run in this environment; undefined when it can. A suite that skips
   * on it also registers one skipped test (a skipped describe alone is not counted in `# skipped`).
   */
  skip: string | undefined
  open(): Promise<OpenedStore>
}

export function tempDir(prefix = 'assay-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

const sqlite: StoreBackend = {
  name: 'sqlite',
  skip: undefined,
  async open() {
    const { dir, cleanup } = tempDir('assay-store-')
    const root = path.join(dir, 'store')
    const store = await SqliteStore.open(root)
    return {
      store,
      async corruptBlob(sha256) {
        writeFileSync(path.join(root, 'artifacts', 'sha256', sha256.slice(0, 2), sha256), 'tampered bytes')
      },
      async blobs() {
        const dir = path.join(root, 'artifacts', 'sha256')
        if (!existsSync(dir)) return []
        return readdirSync(dir, { recursive: true, withFileTypes: true })
          .filter((entry) => entry.isFile())
          .map((entry) => entry.name)
          .sort()
      },
      async rawSql(statements) {
        const db = new Database(path.join(root, 'assay.db'))
        try {
          db.exec(statements)
        } finally {
          db.close()
        }
      },
      async dispose() {
        await store.close()
        cleanup()
      },
    }
  },
}

/** A fresh schema name, so tests never see each other's rows (and may run in parallel). */
export function freshSchema(): string {
  return `assay_test_${randomBytes(6).toString('hex')}`
}

/** Drop a test schema and everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  } finally {
    await client.end()
  }
}

const POSTGRES_URL = process.env.ASSAY_TEST_POSTGRES_URL

const postgres: StoreBackend = {
  name: 'postgres',
  skip: POSTGRES_URL ? undefined : 'ASSAY_TEST_POSTGRES_URL is not set (.ci/run sets it when a local PostgreSQL is running)',
  async open() {
    const url = POSTGRES_URL as string
    const schema = freshSchema()
    const store = await PostgresStore.open(url, { schema, poolSize: 4 })
    const admin = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` })
    await admin.connect()
    return {
      store,
      async corruptBlob(sha256) {
        await admin.query("UPDATE blob_chunks SET data = convert_to('tampered bytes', 'UTF8') WHERE sha256 = $1 AND seq = 0", [sha256])
      },
      async rawSql(statements) {
        await admin.query(statements)
      },
      async blobs() {
        return (await admin.query<{ sha256: string }>('SELECT sha256 FROM blobs ORDER BY sha256')).rows.map((r) => r.sha256)
      },
      async dispose() {
        await store.close()
        try {
          await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
        } finally {
          await admin.end()
        }
      },
    }
  },
}

/**
 * The contract over HTTP: the SQLite store behind a real `assay server` listening on an
 * ephemeral loopback port (auth off), reached through HttpStore. Blob damage and listings go to
 * the SQLite store underneath.
 */
const http: StoreBackend = {
  name: 'http',
  skip: undefined,
  async open() {
    const inner = await sqlite.open()
    const { dir, cleanup } = tempDir('assay-http-')
    const app = await buildServer({ store: inner.store, auth: { enabled: false }, uploadDir: path.join(dir, 'uploads'), crashAfterMs: 0 })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const address = app.server.address() as { port: number }
    const store = new HttpStore(`http://127.0.0.1:${address.port}`, { spoolDir: path.join(dir, 'spool') })
    return {
      store,
      corruptBlob: (sha256) => inner.corruptBlob(sha256),
      blobs: () => inner.blobs(),
      rawSql: (statements) => inner.rawSql(statements),
      async dispose() {
        await store.close()
        await app.close()
        await inner.dispose()
        cleanup()
      },
    }
  },
}

export const STORE_BACKENDS: readonly StoreBackend[] = [sqlite, postgres, http]
