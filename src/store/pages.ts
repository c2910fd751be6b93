import { AssayError } from '../errors.js'
import { PAGE_SIZE } from './store.js'

/**
 * Pagination shared by every store and the server: a page size checked against PAGE_SIZE, and
 * the cursor of each listing, an opaque base64url token of the listing's name and the last item's
 * sort key (the run listing: start time and id; listings by name: the name; CURSOR_KEYS has every
 * one), so a page continues exactly after the previous one even while items are added.
 */
export function pageLimit(limit: number | undefined): number {
  const value = limit ?? PAGE_SIZE.default
  if (!Number.isInteger(value) || value < 1 || value > PAGE_SIZE.max) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `a page holds 1 to ${PAGE_SIZE.max} items, not ${JSON.stringify(limit)}`, { limit })
  }
  return value
}

/** The longest cursor any listing accepts (over HTTP a longer ?cursor is a 400 before any read). */
export const MAX_CURSOR_LENGTH = 4096

/**
 * Every paginated listing and the shape of its sort key, the one table of cursor rules: a cursor
 * is the listing's name followed by the last item's key, so a cursor of one listing is refused by
 * every other (even where the keys have the same shape).
 */
const CURSOR_KEYS = {
  run: ['number', 'run-id'], // 'run-id': a lowercase hex id (runs, deployments, traces)
  experiment: ['string'],
  model: ['string'],
  'model version': ['int4'],
  'alias event': ['integer'],
  'gate policy': ['string', 'string', 'int4'],
  'audit log': ['integer'],
  'API token': ['number', 'string'],
  'artifact lineage': ['number', 'string', 'string', 'string'],
  'holdout ledger': ['number', 'integer'],
  'dataset runs': ['number', 'run-id', 'string'],
  deployment: ['number', 'run-id'],
  trace: ['number', 'run-id'],
  'trace row': ['number', 'run-id'],
  'run group': ['string'], // a group's key (config fingerprint or params JSON): groups are grouped in memory
} as const satisfies Record<string, readonly CursorPart[]>

/**
 * 'integer': a safe integer (bigint columns); 'int4': an integer in a PostgreSQL integer column's
 * range (model and gate policy versions); 'string': text without a NUL (which no stored key
 * holds, and PostgreSQL text cannot); 'number': a finite number; 'run-id': lowercase hex.
 */
type CursorPart = 'number' | 'integer' | 'int4' | 'string' | 'run-id'
export type Listing = keyof typeof CURSOR_KEYS
type KeyValue<P> = P extends 'string' | 'run-id' ? string : number
/** The sort key of one item of `L`, in the listing's order. */
export type CursorKey<L extends Listing> = KeyValues<(typeof CURSOR_KEYS)[L]>
type KeyValues<T extends readonly CursorPart[]> = { -readonly [I in keyof T]: KeyValue<T[I]> }

const PART_CHECKS: Record<CursorPart, (value: unknown) => boolean> = {
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  integer: (v) => typeof v === 'number' && Number.isSafeInteger(v),
  int4: (v) => typeof v === 'number' && Number.isInteger(v) && v >= -INT4_MAX - 1 && v <= INT4_MAX,
  string: (v) => typeof v === 'string' && !v.includes('\u0000'),
  'run-id': (v) => typeof v === 'string' && /^[0-9a-f]{1,64}$/.test(v),
}

/** The largest value of a PostgreSQL integer (int4) column. */
export const INT4_MAX = 2 ** 31 - 1

/** The cursor that continues `listing` after the item whose sort key is `key`. */
export function encodeCursor<L extends Listing>(listing: L, key: CursorKey<L>): string {
  return cursorText([listing, ...(key as readonly unknown[])])
}

/** The sort key in `text`, or ASSAY_INVALID_ARGUMENT when it is not a cursor of `listing` (another listing's, too long, or not a cursor). */
export function decodeCursor<L extends Listing>(listing: L, text: string): CursorKey<L> {
  const parts: readonly CursorPart[] = CURSOR_KEYS[listing]
  const parsed = cursorParts(text)
  const ok = parsed !== undefined && parsed.length === parts.length + 1 && parsed[0] === listing && parts.every((part, i) => PART_CHECKS[part](parsed[i + 1]))
  if (!ok) throw notACursor(text, listing)
  return parsed.slice(1) as CursorKey<L>
}

function cursorText(parts: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url')
}

/** The parts of a cursor, or undefined when `text` is not one (not text, too long, not base64url JSON of an array). */
function cursorParts(text: unknown): unknown[] | undefined {
  if (typeof text !== 'string' || text.length > MAX_CURSOR_LENGTH) return undefined
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
    return Array.isArray(parsed) ? parsed : undefined
  } catch {
    return undefined
  }
}

function notACursor(text: unknown, listing: string): AssayError {
  const shown = typeof text !== 'string' ? JSON.stringify(text) ?? String(text) : text.length > 80 ? `${JSON.stringify(text.slice(0, 80))}… (${text.length} characters)` : JSON.stringify(text)
  return new AssayError('ASSAY_INVALID_ARGUMENT', `${shown} is not a cursor of the ${listing} listing (pass the nextCursor of the previous page)`, { listing })
}

/**
 * A page from up to `limit + 1` items read in the listing's order: the extra item says another
 * page follows, and the cursor is the key of the page's last item.
 */
export function pageOf<T, L extends Listing>(items: readonly T[], limit: number, listing: L, keyOf: (item: T) => CursorKey<L>): { items: T[]; nextCursor: string | null } {
  const kept = items.slice(0, limit)
  return { items: kept, nextCursor: items.length > limit ? encodeCursor(listing, keyOf(kept[kept.length - 1] as T)) : null }
}

export interface RunCursor {
  startTime: number
  id: string
}

export function encodeRunCursor(cursor: RunCursor): string {
  return encodeCursor('run', [cursor.startTime, cursor.id])
}

/**
 * The cursor of a run listing in another order than the default: the order (formatRunOrder) and
 * the last run's sort key (run-filter-sql.ts's SortKeys: numbers, ±Infinity as text, and text),
 * so a cursor of one order is refused by another.
 */
export function encodeOrderedRunCursor(order: string, key: readonly (number | string)[]): string {
  return cursorText([ORDERED_RUN, order, ...key.map((v) => (typeof v === 'number' && !Number.isFinite(v) ? { n: String(v) } : v))])
}

export function decodeOrderedRunCursor(text: string, order: string, kinds: readonly ('number' | 'text')[]): (number | string)[] {
  const p = cursorParts(text)
  const ok = p !== undefined && p.length === kinds.length + 2 && p[0] === ORDERED_RUN && p[1] === order && kinds.every((kind, i) => (kind === 'text' ? PART_CHECKS.string(p[i + 2]) : isCursorNumber(p[i + 2])))
  if (!ok) throw notACursor(text, `run (${order})`)
  return p.slice(2).map((v) => (typeof v === 'object' ? Number((v as { n: string }).n) : (v as number | string)))
}

/** The listing name of ordered run cursors: their key's shape depends on the order, so they sit outside CURSOR_KEYS. */
const ORDERED_RUN = 'run (ordered)'

function isCursorNumber(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v)
  return typeof v === 'object' && v !== null && ['Infinity', '-Infinity'].includes((v as { n?: unknown }).n as string) && Object.keys(v).length === 1
}

export function decodeRunCursor(text: string): RunCursor {
  const [startTime, id] = decodeCursor('run', text)
  return { startTime, id }
}

/** Every item of a paginated listing, one page after another (`itemsOf` picks a page's items). */
export async function allPages<P extends { nextCursor?: string | null }, T>(page: (cursor: string | undefined) => Promise<P>, itemsOf: (page: P) => readonly T[]): Promise<T[]> {
  const all: T[] = []
  let cursor: string | undefined
  for (;;) {
    const next = await page(cursor)
    all.push(...itemsOf(next))
    // A server from before pages sends no nextCursor at all: its one answer is the whole listing.
    if (next.nextCursor === null || next.nextCursor === undefined) return all
    cursor = next.nextCursor
  }
}
