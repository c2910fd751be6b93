import { formatNumber, formatPValue } from '../number-format.js'

/** The web UI's only way to data: the server's JSON API, with the session cookie (or no auth). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

function requestUrl(path: string, query: Record<string, string | undefined>): string {
  const search = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') search.set(k, v)
  const qs = search.toString()
  return qs === '' ? path : `${path}?${qs}`
}

/** How long an answer asked for ahead of its view (prefetchJson) may wait to be taken. */
const PREFETCH_TTL_MS = 10_000

/** Requests started before their view asked for them, by URL: each is taken once (getJson). */
const prefetched = new Map<string, { at: number; answer: Promise<unknown> }>()

/**
 * Start a GET now that a view will ask for once it is drawn: the page starts its route's
 * requests together at load (main.tsx), instead of one after another as each view appears.
 */
export function prefetchJson(path: string, query: Record<string, string | undefined> = {}): void {
  const url = requestUrl(path, query)
  if (prefetched.has(url)) return
  const answer = fetchJson(url)
  answer.catch(() => undefined) // a failure is reported to the view that takes it, if one does
  prefetched.set(url, { at: performance.now(), answer })
}

export function getJson<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
  const url = requestUrl(path, query)
  const early = prefetched.get(url)
  if (early !== undefined) {
    prefetched.delete(url)
    if (performance.now() - early.at < PREFETCH_TTL_MS) return early.answer as Promise<T>
  }
  return fetchJson<T>(url)
}

async function fetchJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } })
  const body = (await response.json().catch(() => null)) as { error?: { code: string; message: string } } | null
  if (!response.ok) throw new ApiError(response.status, body?.error?.code ?? 'ASSAY_INTERNAL', body?.error?.message ?? `HTTP ${response.status}`)
  return body as T
}

export async function signIn(token: string): Promise<void> {
  const response = await fetch('/ui/session', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) })
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { code: string; message: string } } | null
    throw new ApiError(response.status, body?.error?.code ?? 'ASSAY_INTERNAL', body?.error?.message ?? `HTTP ${response.status}`)
  }
}

export async function signOut(): Promise<void> {
  await fetch('/ui/session', { method: 'DELETE', credentials: 'same-origin' })
}

/** Numbers arrive as numbers, or as "NaN", "Infinity", "-Infinity" (JSON cannot hold them). */
export type WireNumber = number | string

export function num(value: WireNumber | null | undefined): number {
  if (value === null || value === undefined) return NaN
  return typeof value === 'number' ? value : Number(value)
}

/** A number for people, by the one rule of src/number-format.ts (as the CLI and reports write it). */
export function fmt(value: WireNumber | null | undefined, digits = 4): string {
  return value === null || value === undefined ? '' : formatNumber(num(value), digits)
}

export function fmtP(p: WireNumber): string {
  return formatPValue(num(p))
}

export function time(ms: number | null): string {
  return ms === null ? '' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19)
}
