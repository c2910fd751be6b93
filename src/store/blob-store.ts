import { constants as bufferConstants } from 'node:buffer'
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { AssayError } from '../errors.js'
import type { ArtifactReadStream } from './store.js'

/**
 * Where a store keeps artifact bytes, content-addressed by sha256: files for the embedded store
 * (sqlite/sqlite-blob-store.ts), a table for PostgreSQL (postgres/postgres-blob-store.ts). The
 * store core (sql-store.ts) verifies what comes back against the sha256, so a blob store only
 * moves bytes.
 */
export interface BlobStore {
  /** The largest blob it keeps. */
  readonly maxBytes: number
  putBytes(bytes: Uint8Array): Promise<{ sha256: string; size: number }>
  /** Copy a file in; a file that cannot be read is ASSAY_INVALID_ARGUMENT (fileReadError). */
  putFile(file: string): Promise<{ sha256: string; size: number }>
  /** Size of a stored blob; null when there is none with this sha256. */
  sizeOf(sha256: string): Promise<number | null>
  /** The stored bytes as they are (unverified), piece by piece; null when they are missing. */
  open(sha256: string): Promise<AsyncIterable<Uint8Array> | null>
}

/**
 * Bytes passed on as they come and hashed on the way; at the end, a hash other than `expected`
 * is the stream's error (`mismatch(actual)`), and so is an error of the source (`failed(error)`).
 */
export function verifiedStream(source: AsyncIterable<Uint8Array>, expected: string, mismatch: (actual: string) => Error, failed: (error: unknown) => unknown = (e) => e): Readable {
  const hash = createHash('sha256')
  async function* verify(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of source) {
        const piece = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        hash.update(piece)
        yield piece
      }
    } catch (error) {
      throw failed(error)
    }
    const actual = hash.digest('hex')
    if (actual !== expected) throw mismatch(actual)
  }
  return Readable.from(verify(), { objectMode: false })
}

/** A whole artifact as one Buffer (verified as it was read); ASSAY_VALUE_TOO_LARGE over `maxBytes`. */
export async function artifactBytes(read: ArtifactReadStream, maxBytes: number = bufferConstants.MAX_LENGTH): Promise<Buffer> {
  if (read.sizeBytes > maxBytes) {
    read.stream.destroy()
    throw tooLarge(`artifact ${read.sha256} (${read.sizeBytes} bytes)`, maxBytes, { sha256: read.sha256, sizeBytes: read.sizeBytes })
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of read.stream) {
    chunks.push(chunk as Buffer)
    size += (chunk as Buffer).length
  }
  return Buffer.concat(chunks, size)
}

export const SHA256_HEX = /^[0-9a-f]{64}$/

/** A sha256 given by a caller, checked before it reaches a path or a statement. */
export function requireSha256(sha256: string): string {
  if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `not a sha256: ${JSON.stringify(sha256)}`)
  return sha256
}

/**
 * The catalogue error for an artifact file that cannot be read (the one mapping of file errors,
 * for every blob store); undefined for an error that is not the caller's file's fault.
 */
export function fileReadError(file: string, error: unknown, maxBytes: number): AssayError | undefined {
  const code = (error as { code?: string }).code
  if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
    return new AssayError('ASSAY_INVALID_ARGUMENT', `cannot read artifact file ${file}: ${code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a directory' : 'permission denied'}`, { path: file })
  }
  if (code === 'ERR_FS_FILE_TOO_LARGE') return tooLarge(`artifact file ${file}`, maxBytes, { path: file })
  return undefined
}

/** The one answer for content a caller may not use: unknown, and content it may not read, alike. */
export function contentNotFound(sha256: string): AssayError {
  return new AssayError('ASSAY_ARTIFACT_NOT_FOUND', `no artifact content has sha256 ${sha256}`)
}

/** ASSAY_VALUE_TOO_LARGE for content over what a blob store keeps. */
export function tooLarge(what: string, maxBytes: number, details: Record<string, unknown>): AssayError {
  return new AssayError('ASSAY_VALUE_TOO_LARGE', `${what} is over the ${maxBytes} bytes this store keeps in one artifact`, details)
}
