import { existsSync } from 'node:fs'
import path from 'node:path'
import { AssayError } from '../errors.js'
import type { WarningSink } from './http/http-store.js'
import type { Store } from './store.js'

/**
 * Where the store is, in order: the explicit location, ASSAY_STORE, ASSAY_HOME, ./.assay.
 * A location is a directory path (embedded SQLite), sqlite:<path>, or http(s)://host:port of an
 * `assay server` (HttpStore; the token comes from ASSAY_TOKEN), or postgres(ql)://… of a
 * PostgreSQL database (PostgresStore, docs/postgres.md).
 */
export function resolveStoreLocation(location: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return location ?? env.ASSAY_STORE ?? env.ASSAY_TRACKING_URI ?? env.ASSAY_HOME ?? path.resolve('.assay')
}

export interface OpenStoreOptions {
  /**
   * false: an embedded store that does not exist yet is refused (ASSAY_STORE_NOT_FOUND) instead of
   * created, so a read (`assay runs ls` in the wrong directory) leaves no empty ./.assay behind.
   * Default true.
   */
  create?: boolean
  /** Where an HTTP store's spool notices go (HttpStoreOptions.warn); default stderr. */
  warn?: WarningSink
}

export async function openStore(location?: string, options: OpenStoreOptions = {}): Promise<Store> {
  const where = resolveStoreLocation(location)
  if (typeof where !== 'string' || where.length === 0) throw new AssayError('ASSAY_INVALID_STORE_URL', 'the store location is empty')
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(where)?.[1]?.toLowerCase()
  if (scheme === undefined) return openSqlite(path.resolve(where.replace(/^sqlite:/i, '')), options)
  // Each backend (and its driver) loads only when a store of its kind is opened.
  if (scheme === 'http' || scheme === 'https') return (await import('./http/http-store.js')).HttpStore.open(where, { warn: options.warn })
  if (scheme === 'postgres' || scheme === 'postgresql') return (await import('./postgres/postgres-store.js')).PostgresStore.open(where)
  if (scheme === 'sqlite' || scheme === 'file') return openSqlite(path.resolve(decodeURIComponent(where.replace(/^[a-z]+:\/\//i, ''))), options)
  throw new AssayError('ASSAY_INVALID_STORE_URL', `cannot open a store at ${redact(where)}: the ${scheme}:// scheme is not supported by this version`)
}

async function openSqlite(root: string, options: OpenStoreOptions): Promise<Store> {
  if (options.create === false && !existsSync(path.join(root, 'assay.db'))) {
    throw new AssayError('ASSAY_STORE_NOT_FOUND', `there is no assay store at ${root}; name one with --store or ASSAY_STORE (nothing was created)`, { location: root })
  }
  return (await import('./sqlite/sqlite-store.js')).SqliteStore.open(root)
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@')
}
