import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { fileReadError, tooLarge, type BlobStore } from '../blob-store.js'
import type { PostgresAdapter } from './postgres-adapter.js'

/** Artifact bytes are read back in slices of this size: what one reader holds at a time. */
const READ_SLICE_BYTES = 4 * 1024 * 1024
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

  /** The bytes of a blob, one slice per statement, read as the consumer asks for them (never the whole blob at once). */
  async open(sha256: string): Promise<AsyncIterable<Uint8Array> | null> {
    const row = await this.sql.get<{ length: number | string }>('SELECT octet_length(data) AS length FROM blobs WHERE sha256 = ?', [sha256])
    if (row === undefined) return null
    const length = Number(row.length)
    const sql = this.sql
    return (async function* slices() {
      for (let offset = 0; offset < length; offset += READ_SLICE_BYTES) {
        const slice = await sql.get<{ data: Buffer }>('SELECT substring(data FROM ? FOR ?) AS data FROM blobs WHERE sha256 = ?', [offset + 1, READ_SLICE_BYTES, sha256])
        if (slice === undefined) return
        yield slice.data
      }
    })()
  }
}
