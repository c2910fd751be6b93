import { createHash } from 'node:crypto'
import { createReadStream, existsSync, statSync } from 'node:fs'
import { readdir, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { AssayError } from '../errors.js'
import type { DatasetRole, DatasetVersion } from './types.js'
import { assertName, assertRole } from './validate.js'

export interface DatasetInput {
  name: string
  path: string
  role: DatasetRole
  source?: string
}

/**
 * D_v: a dataset is named by its content. A file is hashed whole (sha256); a directory by the
 * sha256 of its manifest, one line "sha256  relative/path\n" per file in sorted order.
 * There is no way to record a dataset without reading it.
 */
export async function versionDataset(input: DatasetInput): Promise<DatasetVersion> {
  if (input === null || typeof input !== 'object') {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', 'each dataset must be an object { name, path, role }')
  }
  assertName(input.name, 'dataset name')
  assertRole(input.role)
  if (typeof input.path !== 'string' || input.path.length === 0) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `dataset ${input.name}: path must be a non-empty string`)
  }
  const absolute = path.resolve(input.path)
  if (!existsSync(absolute)) {
    throw new AssayError('ASSAY_DATASET_NOT_FOUND', `dataset ${input.name}: ${absolute} does not exist`, { path: absolute })
  }
  const source = input.source ?? absolute
  const stats = statSync(absolute)
  if (stats.isDirectory()) {
    const files = await listFiles(absolute)
    const lines: string[] = []
    let sizeBytes = 0
    for (const file of files) {
      const { sha256, size } = await hashFile(path.join(absolute, file))
      sizeBytes += size
      lines.push(`${sha256}  ${file}\n`)
    }
    const sha256 = createHash('sha256').update(lines.join('')).digest('hex')
    return { name: input.name, role: input.role, sha256, kind: 'directory', sizeBytes, fileCount: files.length, rows: null, columns: null, source }
  }
  const { sha256, size } = await hashFile(absolute)
  const table = await describeTable(absolute)
  return { name: input.name, role: input.role, sha256, kind: 'file', sizeBytes: size, fileCount: 1, rows: table?.rows ?? null, columns: table?.columns ?? null, source }
}

/**
 * Every file below root, as sorted '/'-separated relative paths. Symlinks are followed: a
 * directory of links (a Hugging Face cache snapshot) is versioned by the content it links to,
 * and a dangling link is an error rather than a file silently left out of the hash.
 */
async function listFiles(root: string): Promise<string[]> {
  const files: string[] = []
  const walk = async (dir: string, prefix: string, ancestors: ReadonlySet<string>): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      let isFile = entry.isFile()
      let isDirectory = entry.isDirectory()
      if (entry.isSymbolicLink()) {
        const target = await stat(full).catch(() => null)
        if (target === null) throw new AssayError('ASSAY_DATASET_NOT_FOUND', `${full} in the dataset is a symlink to nothing`, { path: full })
        isFile = target.isFile()
        isDirectory = target.isDirectory()
      }
      if (isFile) files.push(prefix + entry.name)
      else if (isDirectory) {
        const real = await realpath(full)
        if (ancestors.has(real)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${full} in the dataset is a symlink cycle`, { path: full })
        await walk(full, `${prefix}${entry.name}/`, new Set([...ancestors, real]))
      }
    }
  }
  await walk(root, '', new Set([await realpath(root)]))
  return files.sort()
}

export function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256')
    let size = 0
    createReadStream(file)
      .on('data', (chunk) => {
        size += chunk.length
        hash.update(chunk)
      })
      .on('error', reject)
      .on('end', () => resolve({ sha256: hash.digest('hex'), size }))
  })
}

/**
 * Rows and columns of a delimited text or JSON Lines file: rows are lines (minus the header for
 * CSV/TSV). A quoted field spanning lines is over-counted, as docs/run-record.md states.
 * Other formats get null.
 */
async function describeTable(file: string): Promise<{ rows: number; columns: string[] } | null> {
  const ext = path.extname(file).toLowerCase()
  const delimiter = ext === '.csv' ? ',' : ext === '.tsv' ? '\t' : null
  if (delimiter === null && ext !== '.jsonl' && ext !== '.ndjson') return null
  let newlines = 0
  let firstLine: string | null = null
  let head = ''
  let lastChar = ''
  for await (const chunk of createReadStream(file, { encoding: 'utf8' })) {
    const text = chunk as string
    if (firstLine === null) {
      head += text
      const end = head.indexOf('\n')
      if (end !== -1) firstLine = head.slice(0, end)
    }
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) newlines++
    if (text.length > 0) lastChar = text[text.length - 1]
  }
  firstLine ??= head
  // A byte order mark (Excel and many Windows tools write one) is not part of the first record.
  firstLine = firstLine.replace(/^\uFEFF/, '')
  const lines = newlines + (lastChar !== '' && lastChar !== '\n' ? 1 : 0)
  if (delimiter === null) {
    let columns: string[] = []
    try {
      const first = JSON.parse(firstLine) as unknown
      if (first !== null && typeof first === 'object' && !Array.isArray(first)) columns = Object.keys(first)
    } catch {
      columns = []
    }
    return { rows: lines, columns }
  }
  const header = splitHeader(firstLine.replace(/\r$/, ''), delimiter)
  return { rows: Math.max(0, lines - 1), columns: header }
}

/** Split a CSV/TSV header line: a "quoted, name" keeps its delimiter, and "" inside quotes is one quote. */
function splitHeader(line: string, delimiter: string): string[] {
  const fields: string[] = []
  let field = ''
  let quoted = false
  let wasQuoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"'
        i++
      } else if (ch === '"') quoted = false
      else field += ch
    } else if (ch === '"' && field.trim() === '' && !wasQuoted) {
      quoted = true
      wasQuoted = true
      field = ''
    } else if (ch === delimiter) {
      fields.push(wasQuoted ? field : field.trim())
      field = ''
      wasQuoted = false
    } else if (!wasQuoted || ch.trim() !== '') field += ch
  }
  fields.push(wasQuoted ? field : field.trim())
  return fields
}
