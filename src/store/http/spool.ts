import { createHash, randomBytes } from 'node:crypto'
import {
  closeSync,
  copyFileSync,
  existsSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ArtifactDirection, HoldoutRead, RunStatus } from '../../record/types.js'
import type { Feedback, NewDeployment, TraceInput } from '../../record/production.js'
import type { NewRun } from '../store.js'

/**
 * The remote SDK's write-ahead spool (docs/server.md). When the server cannot be reached, a
 * write is appended here — one JSON line, fsync'd, with its idempotency key — and the call
 * succeeds locally. The next successful call of the same process, and `assay sync` for files of
 * processes that have exited, replay the lines in order and remove them. Replays are
 * idempotent (batch ids, createRun and setRunStatus accept their own repeat), so a line that
 * reached the server before its response was lost is still stored once.
 *
 * Layout: <spool root>/<key>/<pid>-<time>-<random>.wal, artifact bytes in blobs/<sha256> beside
 * them, lines the server refused for good in <file>.rejected. The key is one folder per server
 * URL and token (spoolKey), so `assay sync` with one token never claims another token's writes:
 * replayed with the wrong token they would be refused, and lost to their owner.
 */
export type SpoolEntry =
  | { op: 'createRun'; run: NewRun }
  | { op: 'logBatch'; runId: string; batchId: string; frame: string }
  | { op: 'logEval'; runId: string; dataset: string; datasetSha256: string; batchId: string; chunk: string }
  | { op: 'setRunStatus'; runId: string; status: Exclude<RunStatus, 'running'>; endTime: number }
  | { op: 'putArtifact'; runId: string; name: string; direction: ArtifactDirection; sha256: string; blob: boolean }
  | { op: 'recordHoldoutRead'; read: HoldoutRead }
  | { op: 'createDeployment'; deployment: NewDeployment }
  | { op: 'logTraces'; traces: TraceInput[] }
  | { op: 'addFeedback'; feedback: Feedback }

export function defaultSpoolRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ASSAY_SPOOL_DIR) return path.resolve(env.ASSAY_SPOOL_DIR)
  if (env.ASSAY_HOME) return path.resolve(env.ASSAY_HOME, 'spool')
  return path.join(os.homedir(), '.assay', 'spool')
}

/** Spool files of HttpStores open in this process: never claimed by this process's `sync`. */
const OPEN_FILES = new Set<string>()

export class Spool {
  readonly dir: string
  readonly blobsDir: string
  /** This process's own file (created on the first append). */
  readonly file: string
  private fd: number | null = null
  /** Lines in the own file not yet replayed. */
  pending = 0

  constructor(root: string, serverUrl: string, credentialKey: string) {
    this.dir = path.join(root, spoolKey(serverUrl, credentialKey))
    this.blobsDir = path.join(this.dir, 'blobs')
    this.file = path.join(this.dir, `${process.pid}-${Date.now()}-${randomBytes(4).toString('hex')}.wal`)
    this.serverUrl = serverUrl
    OPEN_FILES.add(this.file)
  }

  private readonly serverUrl: string

  /** Keep a copy of artifact bytes (the source file may change before the replay); returns its sha256 and size. */
  keepBlob(content: { bytes: Uint8Array } | { path: string }): { sha256: string; size: number } {
    this.ensureDir()
    const bytes = 'bytes' in content ? content.bytes : readFileSync(content.path)
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    const target = this.blobPath(sha256)
    if (!existsSync(target)) {
      const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`
      if ('bytes' in content) writeFileSync(tmp, bytes)
      else copyFileSync(content.path, tmp)
      fsyncFile(tmp)
      renameSync(tmp, target)
    }
    return { sha256, size: bytes.byteLength }
  }

  blobPath(sha256: string): string {
    return path.join(this.blobsDir, sha256)
  }

  append(entry: SpoolEntry): void {
    this.ensureDir()
    if (this.fd === null) this.fd = openSync(this.file, 'a')
    writeSync(this.fd, `${JSON.stringify(entry)}\n`)
    fdatasyncSync(this.fd)
    this.pending++
  }

  /** The own file's lines, in order. */
  ownEntries(): SpoolEntry[] {
    return existsSync(this.file) ? readEntries(this.file) : []
  }

  /** Replace the own file's lines by `remaining` (after a partial replay), or remove it. */
  keepOwn(remaining: SpoolEntry[]): void {
    this.closeFd()
    if (remaining.length === 0) rmSync(this.file, { force: true })
    else rewrite(this.file, remaining)
    this.pending = remaining.length
  }

  /**
   * Files of processes that have exited, claimed for this process by renaming them (so two
   * `assay sync` never replay one file at the same time). Also says how many belong to live processes.
   */
  claimOrphans(): { files: string[]; live: number } {
    if (!existsSync(this.dir)) return { files: [], live: 0 }
    const files: string[] = []
    let live = 0
    for (const name of readdirSync(this.dir).sort()) {
      if (!name.endsWith('.wal')) continue
      const full = path.join(this.dir, name)
      if (full === this.file || OPEN_FILES.has(full)) continue
      const pid = Number(name.split('-')[0])
      if (pid !== process.pid && isAlive(pid)) {
        live++
        continue
      }
      const claimed = path.join(this.dir, `${process.pid}-claimed-${name.replace(/^\d+-(claimed-)?/, '')}`)
      try {
        renameSync(full, claimed)
        files.push(claimed)
      } catch {
        // Another process claimed it first.
      }
    }
    return { files, live }
  }

  readFile(file: string): SpoolEntry[] {
    return readEntries(file)
  }

  /** After a replay of a claimed file: keep what is left, or remove it. */
  settleFile(file: string, remaining: SpoolEntry[]): void {
    if (remaining.length === 0) rmSync(file, { force: true })
    else rewrite(file, remaining)
  }

  reject(file: string, entry: SpoolEntry, error: unknown): void {
    const e = error as { code?: string; message?: string }
    writeFileSync(`${file.replace(/\.wal$/, '')}.rejected`, `${JSON.stringify({ entry, error: { code: e.code ?? 'unknown', message: e.message ?? String(error) }, at: Date.now() })}\n`, { flag: 'a' })
  }

  /** Remove blobs no spool file mentions any more. */
  collectBlobs(): void {
    if (!existsSync(this.blobsDir)) return
    const text = readdirSync(this.dir)
      .filter((n) => n.endsWith('.wal'))
      .map((n) => {
        try {
          return readFileSync(path.join(this.dir, n), 'utf8')
        } catch {
          return ''
        }
      })
      .join('\n')
    for (const blob of readdirSync(this.blobsDir)) if (!blob.endsWith('.tmp') && !text.includes(blob)) rmSync(path.join(this.blobsDir, blob), { force: true })
  }

  close(): void {
    this.closeFd()
    OPEN_FILES.delete(this.file)
  }

  private closeFd(): void {
    if (this.fd !== null) {
      closeSync(this.fd)
      this.fd = null
    }
  }

  private ensureDir(): void {
    if (!existsSync(this.blobsDir)) {
      mkdirSync(this.blobsDir, { recursive: true })
      writeFileSync(path.join(this.dir, 'server.txt'), `${this.serverUrl}\n`)
    }
  }
}

/**
 * The spool folder's name: sha256 of the server URL and the credential key (the token's sha256),
 * 16 hex characters; without a token, of the URL alone (as before tokens had their own folders).
 */
export function spoolKey(serverUrl: string, credentialKey: string): string {
  return createHash('sha256').update(credentialKey === '' ? serverUrl : `${serverUrl}\n${credentialKey}`).digest('hex').slice(0, 16)
}

function readEntries(file: string): SpoolEntry[] {
  const lines = readFileSync(file, 'utf8').split('\n')
  const entries: SpoolEntry[] = []
  for (const line of lines) {
    if (line === '') continue
    try {
      entries.push(JSON.parse(line) as SpoolEntry)
    } catch {
      // A line torn by a crash mid-append was never acknowledged: nothing to replay.
    }
  }
  return entries
}

function rewrite(file: string, entries: SpoolEntry[]): void {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`
  writeFileSync(tmp, entries.map((e) => `${JSON.stringify(e)}\n`).join(''))
  fsyncFile(tmp)
  renameSync(tmp, file)
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r+')
  try {
    fdatasyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM'
  }
}
