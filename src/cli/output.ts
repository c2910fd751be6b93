import type { Writable } from 'node:stream'
import { assayCommandName } from '../command-name.js'
import { AssayError, type ErrorCode } from '../errors.js'
import { shellQuote } from '../record/replay-plan.js'
import { PAGE_SIZE } from '../store/store.js'

/** What every command writes to: stdout for results, stderr for progress and errors. */
export interface CliIo {
  out: Writable
  err: Writable
}

/**
 * JSON for --json output. NaN and ±Infinity have no JSON form; they are written as the strings
 * "NaN", "Infinity" and "-Infinity" rather than silently becoming null (docs/cli.md).
 */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v instanceof Float64Array ? Array.from(v) : v),
    2,
  )
}

export function writeJson(io: CliIo, schema: string, body: Record<string, unknown>): void {
  io.out.write(`${toJson({ schema, ...body })}\n`)
}

export function formatTime(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19)
}

/** A plain aligned table; the last column is not padded. */
export function writeTable(io: CliIo, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ')
  io.out.write(`${line(header)}\n`)
  for (const row of rows) io.out.write(`${line(row)}\n`)
}

/** An error under --json: one JSON object on stderr, so a script reads the code instead of parsing text (docs/cli.md). */
export function writeError(io: CliIo, error: { code: ErrorCode; message: string; details: Record<string, unknown> }): void {
  io.err.write(`${toJson({ error })}\n`)
}

/** A numeric option's value, or ASSAY_INVALID_ARGUMENT saying what it must be. */
export function parseNumberOption(value: string, name: string, check: (n: number) => boolean, expected: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${name} must be ${expected}, got ${JSON.stringify(value)}`)
  return n
}

/** The --limit and --cursor options of a paginated listing; `parsePageOptions` reads them. */
export const PAGE_OPTIONS = {
  limit: ['--limit <n>', `one page of at most n items (1–${PAGE_SIZE.max}; default: every item)`],
  cursor: ['--cursor <cursor>', 'the page after the one that printed this cursor'],
} as const

/** A page was asked for (--limit or --cursor): its limit (checked) and cursor; else null: the whole listing. */
export function parsePageOptions(options: { limit?: string; cursor?: string }): { limit: number | undefined; cursor: string | undefined } | null {
  if (options.limit === undefined && options.cursor === undefined) return null
  const limit = options.limit === undefined ? undefined : parseNumberOption(options.limit, '--limit', (n) => Number.isInteger(n) && n >= 1 && n <= PAGE_SIZE.max, `a whole number from 1 to ${PAGE_SIZE.max}`)
  return { limit, cursor: options.cursor }
}

/**
 * The command that prints the next page, on stderr so stdout stays the table: the program as the
 * user can run it (`assay`, or `npx assay` when none is on PATH), then `command`, the listing's
 * words and options as typed (option values shell-quoted here), and --cursor.
 */
export function writeNextPage(io: CliIo, what: string, command: readonly (string | [option: string, value: string | undefined])[], nextCursor: string | null): void {
  if (nextCursor === null) return
  const words = command.flatMap((word) => (typeof word === 'string' ? [word] : word[1] === undefined || word[1] === '' ? [] : [`${word[0]} ${shellQuote(word[1])}`]))
  io.err.write(`more ${what}: ${[assayCommandName(), ...words, `--cursor ${nextCursor}`].join(' ')}
`)
}
