import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
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
  corruptBlob(sha256: string): void
  /** sha256 of every blob the backend holds, sorted (to see deduplication). */
  blobs(): string[]
  /** Close the store and delete everything it wrote. */
  dispose(): Promise<void>
}

export interface StoreBackend {
  name: string
  /** Why this backend cannot run in this environment; undefined when it can. */
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
      corruptBlob(sha256) {
        writeFileSync(path.join(root, 'artifacts', 'sha256', sha256.slice(0, 2), sha256), 'tampered bytes')
      },
      blobs() {
        const dir = path.join(root, 'artifacts', 'sha256')
        if (!existsSync(dir)) return []
        return readdirSync(dir, { recursive: true, withFileTypes: true })
          .filter((entry) => entry.isFile())
          .map((entry) => entry.name)
          .sort()
      },
      async dispose() {
        await store.close()
        cleanup()
      },
    }
  },
}

const postgres: StoreBackend = {
  name: 'postgres',
  skip: process.env.ASSAY_TEST_POSTGRES_URL
    ? 'ASSAY_TEST_POSTGRES_URL is set, but this version of assay has no PostgreSQL store yet (src/store/postgres/)'
    : 'ASSAY_TEST_POSTGRES_URL is not set',
  open() {
    // When src/store/postgres/ lands: open a fresh schema at ASSAY_TEST_POSTGRES_URL, return it
    // with a corruptBlob that damages its blob storage, and a dispose that drops the schema.
    return Promise.reject(new Error('no PostgreSQL backend in this version'))
  },
}

export const STORE_BACKENDS: readonly StoreBackend[] = [sqlite, postgres]
