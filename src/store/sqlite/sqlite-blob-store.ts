import { createHash, randomUUID } from 'node:crypto'
import { constants as bufferConstants } from 'node:buffer'
import { createReadStream, createWriteStream, existsSync, mkdirSync } from 'node:fs'
import { open, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { storeFullError } from '../../errors.js'
import { fileReadError, requireSha256, type BlobStore } from '../blob-store.js'

/**
 * Content-addressed bytes on the local file system: <root>/sha256/ab/abcdef…. A path is built
 * only from a validated sha256, never from a user's name, so no name can reach outside the root.
 * Writes go to a temporary file first and are renamed into place, so a blob is whole or absent.
 */
export class FileBlobStore implements BlobStore {
  /** What the SDK's getArtifact can hand back as one Buffer (buffer.constants.MAX_LENGTH, 4 GiB on Node 20); streamed reads need no limit, uploads keep it. */
  readonly maxBytes = bufferConstants.MAX_LENGTH

  constructor(readonly root: string) {
    mkdirSync(path.join(root, 'tmp'), { recursive: true })
  }

  pathOf(sha256: string): string {
    requireSha256(sha256)
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256)
  }

  private has(sha256: string): boolean {
    return existsSync(this.pathOf(sha256))
  }

  async putBytes(bytes: Uint8Array): Promise<{ sha256: string; size: number }> {
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    if (!this.has(sha256)) {
      const tmp = this.tempPath()
      await this.orDiscard(tmp, async () => {
        await writeFile(tmp, bytes)
        await this.commit(tmp, sha256)
      })
    }
    return { sha256, size: bytes.byteLength }
  }

  /** Copy a file in while hashing it, so even a huge file is read once. */
  async putFile(file: string): Promise<{ sha256: string; size: number }> {
    const tmp = this.tempPath()
    const hash = createHash('sha256')
    let size = 0
    const source = createReadStream(file)
    source.on('data', (chunk) => {
      size += chunk.length
      hash.update(chunk)
    })
    try {
      await pipeline(source, createWriteStream(tmp))
    } catch (error) {
      await rm(tmp, { force: true })
      throw fileReadError(file, error, this.maxBytes) ?? storeFullError(error) ?? error
    }
    const sha256 = hash.digest('hex')
    if (this.has(sha256)) await rm(tmp, { force: true })
    else await this.orDiscard(tmp, () => this.commit(tmp, sha256))
    return { sha256, size }
  }

  async sizeOf(sha256: string): Promise<number | null> {
    try {
      return (await stat(this.pathOf(sha256))).size
    } catch {
      return null
    }
  }

  async open(sha256: string): Promise<AsyncIterable<Uint8Array> | null> {
    let handle: FileHandle
    try {
      handle = await open(this.pathOf(sha256), 'r')
    } catch {
      return null
    }
    // The open handle keeps the file being read even if it is replaced meanwhile; 1 MiB reads.
    return handle.createReadStream({ highWaterMark: 1024 * 1024 })
  }

  /** `step` on a temporary file; if it fails the file goes (half-written, it would only hold space a full disk needs back) and a full disk is ASSAY_STORE_FULL. */
  private async orDiscard(tmp: string, step: () => Promise<void>): Promise<void> {
    try {
      await step()
    } catch (error) {
      await rm(tmp, { force: true })
      throw storeFullError(error) ?? error
    }
  }

  private tempPath(): string {
    return path.join(this.root, 'tmp', randomUUID())
  }

  private async commit(tmp: string, sha256: string): Promise<void> {
    const target = this.pathOf(sha256)
    mkdirSync(path.dirname(target), { recursive: true })
    // rename is atomic; two writers of the same content both end with the same bytes.
    await rename(tmp, target)
  }
}
