import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { fileReadError, tooLarge, type BlobStore } from '../blob-store.js'
import type { PostgresAdapter } from './postgres-adapter.js'

/** Artifact bytes are read back in slices of this size (hex text of a slice stays far below V8's string limit). */
const READ_SLICE_BYTES = 16 * 1024 * 1024
/** bytea holds at most 1 GB and one protocol message as much; leave room for the rest of the message. */
const MAX_BLOB_BYTES = 1024 ** 3 - 16 * 1024 * 1024

/**
 * Content-addressed bytes in the blobs table, so server processes sharing one database need no
 * shared disk: stored once, whichever process puts them first.
 */
export class PostgresBlobStore implements BlobStore {
  readonly maxBytes = MAX_BLOB_BYTES

  constructor(private readonly sql: PostgresAdapter) {}

  async putBytes(bytes: Uint8Array): Promise<{ sha256: string; size: number }> {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const sha256 = createHash('sha256').update(buffer).digest('hex')
    if ((await this.sql.get('SELECT 1 AS present FROM blobs WHERE sha256 = ?', [sha256])) === undefined) {
      await this.sql.run('INSERT INTO blobs (sha256, size_bytes, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [sha256, buffer.length, buffer])
    }
    return { sha256, size: buffer.length }
  }

  async putFile(file: string): Promise<{ sha256: string; size: number }> {
    let bytes: Buffer
    try {
      bytes = await readFile(file)
    } catch (error) {
      throw fileReadError(file, error, this.maxBytes) ?? error
    }
    if (bytes.length > this.maxBytes) throw tooLarge(`artifact file ${file}`, this.maxBytes, { path: file })
    return this.putBytes(bytes)
  }

  async sizeOf(sha256: string): Promise<number | null> {
    return (await this.sql.get<{ size_bytes: number }>('SELECT size_bytes FROM blobs WHERE sha256 = ?', [sha256]))?.size_bytes ?? null
  }

  /** The bytes of a blob, in slices so that no single text value nears V8's string limit. */
  async read(sha256: string): Promise<Buffer | null> {
    const first = await this.sql.get<{ length: number; data: Buffer | null }>(
      'SELECT octet_length(data) AS length, CASE WHEN octet_length(data) <= ? THEN data END AS data FROM blobs WHERE sha256 = ?',
      [READ_SLICE_BYTES, sha256],
    )
    if (first === undefined) return null
    if (first.data !== null) return first.data
    const slices: Buffer[] = []
    for (let offset = 0; offset < first.length; offset += READ_SLICE_BYTES) {
      const slice = (await this.sql.get<{ data: Buffer }>('SELECT substring(data FROM ? FOR ?) AS data FROM blobs WHERE sha256 = ?', [offset + 1, READ_SLICE_BYTES, sha256])) as { data: Buffer }
      slices.push(slice.data)
    }
    return Buffer.concat(slices, first.length)
  }
}
