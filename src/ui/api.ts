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

export async function getJson<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
  const search = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') search.set(k, v)
  const qs = search.toString()
  const response = await fetch(qs === '' ? path : `${path}?${qs}`, { credentials: 'same-origin', headers: { accept: 'application/json' } })
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
