import { AssayError } from '../errors.js'
import { PAGE_SIZE } from './store.js'

/**
 * Pagination shared by every store and the server: a page size checked against PAGE_SIZE, and
 * the cursor of each listing, an opaque base64url token of the last item's sort key (the run
 * listing: start time and id; listings by name: the name), so a page continues exactly after the
 * previous one even while items are added.
 */
export function pageLimit(limit: number | undefined): number {
  const value = limit ?? PAGE_SIZE.default
  if (!Number.isInteger(value) || value < 1 || value > PAGE_SIZE.max) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `a page holds 1 to ${PAGE_SIZE.max} items, not ${JSON.stringify(limit)}`, { limit })
  }
  return value
}

function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url')
}

/** The sort key in `text`, or ASSAY_INVALID_ARGUMENT when it is not a cursor of `listing`. */
function decodeCursor(text: string, listing: string, isKey: (parsed: unknown[]) => boolean): unknown[] {
  if (typeof text !== 'string') throw new AssayError('ASSAY_INVALID_ARGUMENT', `a cursor is the text of a previous page's nextCursor, not ${JSON.stringify(text)}`)
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    parsed = undefined
  }
  if (!Array.isArray(parsed) || !isKey(parsed)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `${JSON.stringify(text.slice(0, 80))} is not a cursor of the ${listing} listing (pass the nextCursor of the previous page)`)
  }
  return parsed
}

export interface RunCursor {
  startTime: number
  id: string
}

export function encodeRunCursor(cursor: RunCursor): string {
  return encodeCursor([cursor.startTime, cursor.id])
}

/**
 * The cursor of a run listing in another order than the default: the order (formatRunOrder) and
 * the last run's sort key (run-filter-sql.ts's SortKeys: numbers, ±Infinity as text, and text),
 * so a cursor of one order is refused by another.
 */
export function encodeOrderedRunCursor(order: string, key: readonly (number | string)[]): string {
  return encodeCursor([order, ...key.map((v) => (typeof v === 'number' && !Number.isFinite(v) ? { n: String(v) } : v))] as (string | number)[])
}

export function decodeOrderedRunCursor(text: string, order: string, kinds: readonly ('number' | 'text')[]): (number | string)[] {
  const parsed = decodeCursor(text, `run (${order})`, (p) =>
    p.length === kinds.length + 1 && p[0] === order && kinds.every((kind, i) => (kind === 'text' ? typeof p[i + 1] === 'string' : isCursorNumber(p[i + 1]))),
  )
  return parsed.slice(1).map((v) => (typeof v === 'object' ? Number((v as { n: string }).n) : (v as number | string)))
}

function isCursorNumber(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v)
  return typeof v === 'object' && v !== null && ['Infinity', '-Infinity'].includes((v as { n?: unknown }).n as string) && Object.keys(v).length === 1
}

export function decodeRunCursor(text: string): RunCursor {
  const [startTime, id] = decodeCursor(text, 'run', (p) => p.length === 2 && typeof p[0] === 'number' && Number.isFinite(p[0]) && typeof p[1] === 'string' && /^[0-9a-f]{1,64}$/.test(p[1]))
  return { startTime: startTime as number, id: id as string }
}

/** The cursor of a listing in name order (experiments, models): the last name of the page. */
export function encodeNameCursor(name: string): string {
  return encodeCursor([name])
}

export function decodeNameCursor(text: string, listing: string): string {
  return decodeCursor(text, listing, (p) => p.length === 1 && typeof p[0] === 'string')[0] as string
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
