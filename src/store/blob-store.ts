import { AssayError } from '../errors.js'

/**
 * Where a store keeps artifact bytes, content-addressed by sha256: files for the embedded store
 * (sqlite/sqlite-blob-store.ts), a table for PostgreSQL (postgres/postgres-blob-store.ts). The
 * store core (sql-store.ts) verifies what comes back against the sha256, so a blob store only
 * moves bytes.
 */
export interface BlobStore {
  /** The largest blob it keeps (and can hand back as one Buffer). */
  readonly maxBytes: number
  putBytes(bytes: Uint8Array): Promise<{ sha256: string; size: number }>
  /** Copy a file in; a file that cannot be read is ASSAY_INVALID_ARGUMENT (fileReadError). */
  putFile(file: string): Promise<{ sha256: string; size: number }>
  /** Size of a stored blob; null when there is none with this sha256. */
  sizeOf(sha256: string): Promise<number | null>
  /** The stored bytes as they are (unverified); null when they are missing. */
  read(sha256: string): Promise<Buffer | null>
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
