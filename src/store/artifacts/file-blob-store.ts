import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream, existsSync, mkdirSync } from 'node:fs'
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { AssayError } from '../../errors.js'

const SHA256_HEX = /^[0-9a-f]{64}$/

/**
 * Content-addressed bytes on the local file system: <root>/sha256/ab/abcdef…. A path is built
 * only from a validated sha256, never from a user's name, so no name can reach outside the root.
 * Writes go to a temporary file first and are renamed into place, so a blob is whole or absent.
 */
export class FileBlobStore {
  constructor(readonly root: string) {
    mkdirSync(path.join(root, 'tmp'), { recursive: true })
  }

  pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `not a sha256: ${JSON.stringify(sha256)}`)
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256)
  }

  has(sha256: string): boolean {
    return existsSync(this.pathOf(sha256))
  }

  async putBytes(bytes: Uint8Array): Promise<{ sha256: string; size: number }> {
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    if (!this.has(sha256)) {
      const tmp = this.tempPath()
      await writeFile(tmp, bytes)
      await this.commit(tmp, sha256)
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
      const code = (error as { code?: string }).code
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
        throw new AssayError('ASSAY_INVALID_ARGUMENT', `cannot read artifact file ${file}: ${code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a directory' : 'permission denied'}`, { path: file })
      }
      throw error
    }
    const sha256 = hash.digest('hex')
    if (this.has(sha256)) await rm(tmp, { force: true })
    else await this.commit(tmp, sha256)
    return { sha256, size }
  }

  async read(sha256: string): Promise<Buffer> {
    const file = this.pathOf(sha256)
    let bytes: Buffer
    try {
      bytes = await readFile(file)
    } catch {
      throw new AssayError('ASSAY_ARTIFACT_CORRUPT', `the bytes of artifact ${sha256} are missing from ${this.root}`, { sha256 })
    }
    const actual = createHash('sha256').update(bytes).digest('hex')
    if (actual !== sha256) {
      throw new AssayError('ASSAY_ARTIFACT_CORRUPT', `artifact ${sha256} fails verification: its bytes now hash to ${actual}`, { sha256, actual })
    }
    return bytes
  }

  async size(sha256: string): Promise<number> {
    return (await stat(this.pathOf(sha256))).size
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
