import { AssayError } from '../errors.js'
import { PAGE_SIZE, type RunPage } from './store.js'

/**
 * Pagination shared by every store and the server: a page size checked against PAGE_SIZE, and
 * the cursor of the run listing, an opaque base64url token of the last run's (start time, id),
 * the listing's order, so a page continues exactly after the previous one even while runs are added.
 */
export function pageLimit(limit: number | undefined): number {
  const value = limit ?? PAGE_SIZE.default
  if (!Number.isInteger(value) || value < 1 || value > PAGE_SIZE.max) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `a page holds 1 to ${PAGE_SIZE.max} items, not ${JSON.stringify(limit)}`, { limit })
  }
  return value
}

export interface RunCursor {
  startTime: number
  id: string
}

export function encodeRunCursor(cursor: RunCursor): string {
  return Buffer.from(JSON.stringify([cursor.startTime, cursor.id]), 'utf8').toString('base64url')
}

export function decodeRunCursor(text: string): RunCursor {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    parsed = undefined
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'number' || !Number.isFinite(parsed[0]) || typeof parsed[1] !== 'string' || !/^[0-9a-f]{1,64}$/.test(parsed[1])) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `${JSON.stringify(text.slice(0, 80))} is not a cursor of the run listing (pass the nextCursor of the previous page)`)
  }
  return { startTime: parsed[0], id: parsed[1] }
}

/** Every item of a paginated listing, one page after another. */
export async function allPages(page: (cursor: string | undefined) => Promise<RunPage>): Promise<RunPage['runs']> {
  const all: RunPage['runs'] = []
  let cursor: string | undefined
  for (;;) {
    const next = await page(cursor)
    all.push(...next.runs)
    // A server from before pages sends no nextCursor at all: its one answer is the whole listing.
    if (next.nextCursor === null || next.nextCursor === undefined) return all
    cursor = next.nextCursor
  }
}
