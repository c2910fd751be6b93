import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { AssayError } from '../../errors.js'
import { fileReadError, type BlobStore } from '../blob-store.js'
import type { SqlExecutor } from '../sql-adapter.js'
import type { PostgresAdapter } from './postgres-adapter.js'

/**
 * Bytes are stored and read back in chunks of this size: one row of blob_chunks each, and what
 * one reader holds at a time.
 */
const CHUNK_BYTES = 4 * 1024 * 1024
/** Chunked storage has no size limit of its own (bytea's 1 GB applies per chunk); this is the server's default upload cap. */
const MAX_BLOB_BYTES = 8 * 1024 ** 3

/**
 * Content-addressed bytes in the database, so server processes sharing one database need no
 * shared disk: a blobs row (sha256, size) and its bytes in blob_chunks (schema v8), written in
 * one transaction, so a blob is whole or absent. Blobs stored before v8 keep their bytes in
 * blobs.data and are read from there.
 */
export class PostgresBlobStore implements BlobStore {
  readonly maxBytes = MAX_BLOB_BYTES

  constructor(private readonly sql: PostgresAdapter) {}

  async putBytes(bytes: Uint8Array): Promise<{ sha256: string; size: number }> {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const sha256 = createHash('sha256').update(buffer).digest('hex')
    await this.store(sha256, buffer.length, async function* pieces() {
      for (let offset = 0; offset < buffer.length; offset += CHUNK_BYTES) yield buffer.subarray(offset, Math.min(buffer.length, offset + CHUNK_BYTES))
    })
    return { sha256, size: buffer.length }
  }

  /** Hash the file in one pass, then (when the content is new) copy it in chunks in a second: never whole in memory. */
  async putFile(file: string): Promise<{ sha256: string; size: number }> {
    const hash = createHash('sha256')
    let size = 0
    try {
      await stat(file)
      for await (const chunk of createReadStream(file, { highWaterMark: CHUNK_BYTES })) {
        hash.update(chunk as Buffer)
        size += (chunk as Buffer).length
      }
    } catch (error) {
      throw fileReadError(file, error, this.maxBytes) ?? error
    }
    const sha256 = hash.digest('hex')
    await this.store(sha256, size, () => createReadStream(file, { highWaterMark: CHUNK_BYTES }))
    return { sha256, size }
  }

  /** The blobs row and its chunks in one transaction, unless the content is stored already. */
  private async store(sha256: string, size: number, pieces: () => AsyncIterable<Buffer>): Promise<void> {
    if ((await this.sql.get('SELECT 1 AS present FROM blobs WHERE sha256 = ?', [sha256])) !== undefined) return
    await this.sql.transaction('write', async (tx: SqlExecutor) => {
      const inserted = await tx.run('INSERT INTO blobs (sha256, size_bytes, data) VALUES (?, ?, NULL) ON CONFLICT DO NOTHING', [sha256, size])
      // Another writer stored the same content first (its transaction committed): nothing to add.
      if (inserted === 0) return
      let seq = 0
      let pending: Buffer = Buffer.alloc(0)
      const hash = createHash('sha256')
      const flush = async (piece: Buffer) => {
        hash.update(piece)
        await tx.run('INSERT INTO blob_chunks (sha256, seq, data) VALUES (?, ?, ?)', [sha256, seq++, piece])
      }
      for await (const chunk of pieces()) {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
        while (pending.length >= CHUNK_BYTES) {
          await flush(pending.subarray(0, CHUNK_BYTES))
          pending = pending.subarray(CHUNK_BYTES)
        }
      }
      if (pending.length > 0 || seq === 0) await flush(pending)
      // A file changed between the hashing pass and the copy: roll back rather than store bytes under another sha256.
      if (hash.digest('hex') !== sha256) throw new AssayError('ASSAY_INVALID_ARGUMENT', `the content changed while it was stored (it no longer hashes to ${sha256}); nothing was stored`, { sha256 })
    })
  }

  async sizeOf(sha256: string): Promise<number | null> {
    const row = await this.sql.get<{ size_bytes: number | string }>('SELECT size_bytes FROM blobs WHERE sha256 = ?', [sha256])
    return row === undefined ? null : Number(row.size_bytes)
  }

  /** The bytes chunk by chunk, one statement per chunk as the consumer asks for them. */
  async open(sha256: string): Promise<AsyncIterable<Uint8Array> | null> {
    const row = await this.sql.get<{ legacy: number | string | null }>('SELECT octet_length(data) AS legacy FROM blobs WHERE sha256 = ?', [sha256])
    if (row === undefined) return null
    const sql = this.sql
    if (row.legacy !== null) {
      // Stored before chunks (schema v7 and older): slices of blobs.data.
      const length = Number(row.legacy)
      return (async function* slices() {
        for (let offset = 0; offset < length; offset += CHUNK_BYTES) {
          const slice = await sql.get<{ data: Buffer }>('SELECT substring(data FROM ? FOR ?) AS data FROM blobs WHERE sha256 = ?', [offset + 1, CHUNK_BYTES, sha256])
          if (slice === undefined) return
          yield slice.data
        }
      })()
    }
    return (async function* chunks() {
      for (let seq = 0; ; seq++) {
        const chunk = await sql.get<{ data: Buffer }>('SELECT data FROM blob_chunks WHERE sha256 = ? AND seq = ?', [sha256, seq])
        if (chunk === undefined) return
        yield chunk.data
      }
    })()
  }
}
