import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { SqlStore } from '../sql-store.js'
import type { StoreCapabilities } from '../store.js'
import { SqliteAdapter } from './sqlite-adapter.js'
import { FileBlobStore } from './sqlite-blob-store.js'
import { migrateSqlite } from './sqlite-migrations.js'

/**
 * The embedded store: one SQLite file in WAL mode (sqlite-adapter.ts) plus a content-addressed
 * artifact folder (sqlite-blob-store.ts). Its rules live in the store core (../sql-store.ts).
 */
export class SqliteStore extends SqlStore {
  readonly kind = 'sqlite'
  readonly capabilities: StoreCapabilities

  private constructor(root: string, adapter: SqliteAdapter, blobs: FileBlobStore) {
    super(root, adapter, blobs)
    this.capabilities = { maxArtifactBytes: blobs.maxBytes, localDirectory: root, spool: null, server: null }
  }

  static async open(root: string): Promise<SqliteStore> {
    // A store directory assay creates ignores itself, so the default ./.assay inside a git work
    // tree neither shows as untracked nor makes runs dirty. An existing directory is left alone.
    if (mkdirSync(root, { recursive: true }) !== undefined) {
      try {
        writeFileSync(path.join(root, '.gitignore'), '*\n', { flag: 'wx' })
      } catch {
        // Best effort: code capture excludes the store directory anyway.
      }
    }
    const adapter = new SqliteAdapter(path.join(root, 'assay.db'), root)
    try {
      await migrateSqlite(adapter, root)
    } catch (error) {
      await adapter.close()
      throw error
    }
    return new SqliteStore(root, adapter, new FileBlobStore(path.join(root, 'artifacts')))
  }
}
