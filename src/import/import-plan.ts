import { createHash } from 'node:crypto'
import { AssayError } from '../errors.js'
import type { DatasetRole, EvalRecord, Params } from '../record/types.js'
import { canonicalJson, describe } from '../record/validate.js'

/**
 * What every importer hands to the SDK: the runs one result file becomes, parsed and validated in
 * full before anything is written (docs/import.md). Pure: the parsers take bytes, not paths.
 */

export const IMPORT_FORMATS = ['lm-eval', 'promptfoo', 'inspect'] as const
export type ImportFormat = (typeof IMPORT_FORMATS)[number]

/** What happens to a sample the tool marked as errored: left out (and counted), or scored 0. */
export type ErrorRule = 'exclude' | 'zero'
export const ERROR_RULES: readonly ErrorRule[] = ['exclude', 'zero']

/** How Inspect's epochs of one sample become one score (Inspect's own reducers of the same names). */
export type EpochReducer = 'mean' | 'median' | 'mode' | 'max'
export const EPOCH_REDUCERS: readonly EpochReducer[] = ['mean', 'median', 'mode', 'max']

export interface ImportRules {
  errors: ErrorRule
  /** lm-eval: the filter whose samples are imported, for tasks with more than one. */
  filter?: string
  /** Inspect: how epochs are reduced; default the reducer the log names, else 'mean'. */
  epochsReducer?: EpochReducer
}

/** One input file: its name for messages, and its bytes. */
export interface SourceFile {
  name: string
  bytes: Uint8Array
}

export interface PlannedDataset {
  name: string
  role: DatasetRole
  sha256: string
  rows: number
  /** How the content hash was made (recorded as the dataset's source). */
  hashedFrom: string
}

export interface PlannedRun {
  /** A name for the run that tells it apart from the file's other runs, e.g. "gpt-4o winogrande". */
  label: string
  params: Params
  /** The tool's own facts about the run (model, task, prompt …); assay's import tags are added by the SDK. */
  tags: Record<string, string>
  /** The seed the tool recorded, or null when it records none. */
  seed: number | null
  /** When the tool ran it (ms since the epoch), or null when the file does not say. */
  startTime: number | null
  endTime: number | null
  dataset: PlannedDataset
  records: EvalRecord[]
  /** Samples the tool marked as errored, and how many of them the error rule left out. */
  errored: number
  excluded: number
}

export interface ImportPlan {
  format: ImportFormat
  tool: { name: string; version: string | null }
  /** Every file read, with its sha256: the provenance, and the key of a repeated import. */
  files: { name: string; sha256: string; sizeBytes: number }[]
  rules: ImportRules
  runs: PlannedRun[]
}

/** ASSAY_IMPORT_INVALID naming the file and where in it (a line, or a field path). */
export function invalidImport(file: string, where: string, message: string, details: Record<string, unknown> = {}): AssayError {
  return new AssayError('ASSAY_IMPORT_INVALID', `${file}: ${where}: ${message}; nothing was imported`, { file, where, ...details })
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** UTF-8 text of a file; a byte sequence that is not UTF-8 is an invalid file, not mojibake. */
export function decodeText(file: SourceFile): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(file.bytes).replace(/^\uFEFF/, '')
  } catch {
    throw invalidImport(file.name, 'bytes', 'the file is not UTF-8 text')
  }
}

/** JSON.parse with the failing line and column in the error (Node reports a character position). */
export function parseJson(text: string, file: string, lineOffset = 0): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    const message = (error as Error).message
    const position = /position (\d+)/.exec(message)
    let offset = position === null ? text.length : Number(position[1])
    if (offset > text.length) offset = text.length
    const before = text.slice(0, offset)
    const line = before.split('\n').length + lineOffset
    const column = offset - before.lastIndexOf('\n')
    // A failure at the very end (Node says "Unexpected end" or "Unterminated string") is a cut-off file.
    const atEnd = offset >= text.trimEnd().length || /end of JSON|Unexpected end/i.test(message)
    const reason = atEnd ? 'the JSON ends early (a truncated file?)' : `not valid JSON (${message.split('\n')[0]})`
    throw invalidImport(file, `line ${line}, column ${column}`, reason, { line, column })
  }
}

/**
 * Typed reads of a parsed document: each failure names the file and the field path
 * (e.g. `results.results[3].vars`), so a malformed file says where it is malformed.
 */
export class FieldReader {
  constructor(readonly file: string) {}

  fail(path: string, message: string): AssayError {
    return invalidImport(this.file, `field ${path}`, message, { field: path })
  }

  object(value: unknown, path: string): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw this.fail(path, `must be an object, got ${describe(value)}`)
    return value as Record<string, unknown>
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) throw this.fail(path, `must be an array, got ${describe(value)}`)
    return value
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string') throw this.fail(path, `must be a string, got ${describe(value)}`)
    return value
  }

  number(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw this.fail(path, `must be a finite number, got ${describe(value)}`)
    return value
  }

  integer(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw this.fail(path, `must be a non-negative integer, got ${describe(value)}`)
    return value
  }

  optionalString(value: unknown, path: string): string | null {
    return value === undefined || value === null ? null : this.string(value, path)
  }

  optionalNumber(value: unknown, path: string): number | null {
    return value === undefined || value === null ? null : this.number(value, path)
  }
}

/**
 * A dataset version from the examples themselves, for tools whose files carry no content hash:
 * sha256 over one canonical JSON line [id, input, target] per example, in id order.
 */
export function datasetHash(examples: readonly { id: string; input: unknown; target: unknown }[]): string {
  const lines = examples.map((e) => canonicalJson([e.id, e.input ?? null, e.target ?? null]))
  return sha256Hex(
    examples
      .map((e, i) => ({ id: e.id, line: lines[i] }))
      .sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
      .map((e) => `${e.line}\n`)
      .join(''),
  )
}

/** A score name assay accepts (no control characters, at most 250 characters, not "__proto__"). */
export function scoreName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim().slice(0, 250)
  return clean === '' || clean === '__proto__' ? `score:${clean}` : clean
}

/** A run label or tag value without control characters, at most `max` characters. */
export function plainText(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim().slice(0, max)
}

/** Milliseconds since the epoch of an ISO date, or null when it does not parse. */
export function isoTime(value: string | null): number | null {
  if (value === null) return null
  const ms = Date.parse(value)
  return Number.isFinite(ms) ? ms : null
}
