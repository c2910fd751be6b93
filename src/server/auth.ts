import { createHash, randomBytes } from 'node:crypto'
import { AssayError } from '../errors.js'
import type { ApiToken, TokenScope } from '../record/types.js'
import type { Store } from '../store/store.js'

/**
 * API tokens of `assay server` (docs/server.md). A secret is `assay_` and 43 base64url
 * characters (256 random bits); the store keeps only its sha256. Scopes are ordered
 * read < write < admin; a token may be limited to some experiments (null: all).
 */
export type AuthMode = { enabled: true } | { enabled: false }

export const SCOPE_RANK: Record<TokenScope, number> = { read: 1, write: 2, admin: 3 }

export function newTokenSecret(): string {
  return `assay_${randomBytes(32).toString('base64url')}`
}

export function newTokenId(): string {
  return `tok_${randomBytes(8).toString('hex')}`
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

/** Who is calling: a token, or nobody in particular when auth is off (--no-auth, local use). */
export interface Caller {
  token: ApiToken | null
  /** May this caller touch runs of `experiment`? */
  allows(experiment: string): boolean
  /** True when the caller is limited to some experiments. */
  restricted: boolean
}

export const UNRESTRICTED: Caller = { token: null, allows: () => true, restricted: false }

export function callerOf(token: ApiToken): Caller {
  const experiments = token.experiments === null ? null : new Set(token.experiments)
  return { token, allows: (e) => experiments === null || experiments.has(e), restricted: experiments !== null }
}

/** How long a server trusts a token it verified before it reads the token again (`--token-cache-ms`). */
export const DEFAULT_TOKEN_CACHE_MS = 5000
/** Tokens a cache holds at most; a full cache starts over (every token is read again once). */
const TOKEN_CACHE_ENTRIES = 10_000
/** `Bearer assay_…` with one space and nothing around it: the only header form the cache keys by. */
const CANONICAL_BEARER = /^Bearer assay_[A-Za-z0-9_-]{20,200}$/

/**
 * Tokens this server verified in the last `ttlMs`, by the sha256 of their secret, so a client
 * sending batches costs the store one token read per window instead of one per request. A token
 * revoked elsewhere (the CLI on the store, another server) is refused within `ttlMs`; one revoked
 * through this server at once (clear). Expiry is checked on every request; 0 turns the cache off.
 */
export class TokenCache {
  private readonly entries = new Map<string, TokenCacheEntry>()
  /**
   * The same entries by the Authorization header that verified them, so that a client's next
   * requests find their token without hashing the secret again (a sha256 per request was a
   * visible cost of every batch). Only headers of verified tokens are kept, for the same window.
   */
  private readonly byHeader = new Map<string, TokenCacheEntry>()

  constructor(readonly ttlMs: number) {}

  get(secretSha256: string, now: number): ApiToken | undefined {
    return this.entry(secretSha256, now)?.token
  }

  /** The caller of a token verified within the window, built once per verification. */
  caller(secretSha256: string, now: number): Caller | undefined {
    return this.entry(secretSha256, now)?.caller
  }

  /** The caller of the token an Authorization header verified within the window, without hashing it. */
  callerOfHeader(header: string, now: number): Caller | undefined {
    const entry = this.byHeader.get(header)
    if (entry === undefined) return undefined
    if (entry.until > now) return entry.caller
    this.byHeader.delete(header)
    return undefined
  }

  set(secretSha256: string, token: ApiToken, now: number, header?: string): void {
    if (this.ttlMs <= 0) return
    if (this.entries.size >= TOKEN_CACHE_ENTRIES) this.clear()
    const entry = { token, caller: callerOf(token), until: now + this.ttlMs }
    this.entries.set(secretSha256, entry)
    // Only the canonical spelling is remembered by header: one short entry per token, so padded
    // variants of one header cannot fill the map with long keys.
    if (header !== undefined && CANONICAL_BEARER.test(header)) {
      if (this.byHeader.size >= TOKEN_CACHE_ENTRIES) this.byHeader.clear()
      this.byHeader.set(header, entry)
    }
  }

  clear(): void {
    this.entries.clear()
    this.byHeader.clear()
  }

  private entry(secretSha256: string, now: number): TokenCacheEntry | undefined {
    const entry = this.entries.get(secretSha256)
    if (entry === undefined) return undefined
    if (entry.until > now) return entry
    this.entries.delete(secretSha256)
    return undefined
  }
}

interface TokenCacheEntry {
  token: ApiToken
  caller: Caller
  until: number
}

/** The sha256 of the secret in an `Authorization: Bearer assay_…` header; 401 when there is none. */
function secretSha256Of(header: string | undefined): string {
  if (header === undefined || header === '') {
    throw new AssayError('ASSAY_UNAUTHENTICATED', 'this server needs an API token: send "Authorization: Bearer assay_…" (set ASSAY_TOKEN for the SDK and CLI)')
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (match === null) throw new AssayError('ASSAY_UNAUTHENTICATED', 'the Authorization header must be "Bearer <token>"')
  const secret = match[1]
  if (!/^assay_[A-Za-z0-9_-]{20,200}$/.test(secret)) throw new AssayError('ASSAY_UNAUTHENTICATED', 'the API token is not an assay token (assay_…)')
  return hashSecret(secret)
}

/** 401 for a token that was revoked or has expired. */
function requireUsable(token: ApiToken): void {
  if (token.revokedAt !== null) throw new AssayError('ASSAY_UNAUTHENTICATED', `API token ${token.id} (${token.name}) was revoked`, { tokenId: token.id })
  if (token.expiresAt !== null && token.expiresAt <= Date.now()) {
    throw new AssayError('ASSAY_UNAUTHENTICATED', `API token ${token.id} (${token.name}) expired at ${new Date(token.expiresAt).toISOString()}`, { tokenId: token.id })
  }
}

/**
 * Find the token of an `Authorization: Bearer assay_…` header; 401 when missing, unknown, revoked
 * or expired. With a cache, a token verified within its window is not read again.
 */
export async function authenticate(store: Store, header: string | undefined, cache?: TokenCache): Promise<Caller> {
  const secretSha256 = secretSha256Of(header)
  const now = Date.now()
  const cached = cache?.caller(secretSha256, now)
  if (cached !== undefined && cached.token !== null) {
    requireUsable(cached.token)
    return cached
  }
  const token = await store.findApiToken(secretSha256)
  if (token === null) throw new AssayError('ASSAY_UNAUTHENTICATED', 'the API token is not known to this server')
  requireUsable(token)
  cache?.set(secretSha256, token, now, header)
  return callerOf(token)
}

/**
 * authenticate without a promise when the cache holds the header's token (the usual request of a
 * client sending batches): its caller, or undefined when the store must be read. Refuses (401)
 * what authenticate refuses before reading the store, and a cached token that expired.
 */
export function cachedCaller(header: string | undefined, cache: TokenCache): Caller | undefined {
  const now = Date.now()
  const caller = (header === undefined ? undefined : cache.callerOfHeader(header, now)) ?? cache.caller(secretSha256Of(header), now)
  if (caller !== undefined && caller.token !== null) requireUsable(caller.token)
  return caller
}

/**
 * Who the server records as the actor of what a caller writes: the token (`token:<name>`), never
 * what the client claims. Without auth (--no-auth, loopback only) there is no token and the
 * client's claim is kept, as with direct access to the store.
 */
export function actorOf(caller: Caller, claimed: string | undefined): string {
  if (caller.token !== null) return `token:${caller.token.name}`
  return claimed === undefined || claimed === '' ? 'anonymous' : claimed
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

/**
 * Without auth the server answers only requests addressed to a loopback name: a web page whose
 * DNS name was rebound to 127.0.0.1 sends its own Host header and is refused (403).
 */
export function requireLoopbackHost(hostHeader: string | undefined): void {
  const host = (hostHeader ?? '').toLowerCase()
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '')
  if (!isLoopback(name)) {
    throw new AssayError('ASSAY_FORBIDDEN', `this server runs without auth and answers only requests to a loopback host (localhost, 127.0.0.1, [::1]), not ${JSON.stringify(hostHeader ?? '')}`)
  }
}

/** When the server records something a caller did: its own clock, like the actor; without auth, the client's claim. */
export function timeOf(caller: Caller, claimed: number): number {
  return caller.token !== null ? Date.now() : claimed
}

export function requireScope(caller: Caller, scope: TokenScope, what: string): void {
  if (caller.token === null) return
  if (SCOPE_RANK[caller.token.scope] < SCOPE_RANK[scope]) {
    throw new AssayError('ASSAY_FORBIDDEN', `${what} needs a ${scope} token; token ${caller.token.id} (${caller.token.name}) has scope ${caller.token.scope}`, {
      tokenId: caller.token.id,
      scope: caller.token.scope,
      needed: scope,
    })
  }
}

export function requireExperiment(caller: Caller, experiment: string): void {
  if (!caller.allows(experiment)) {
    // The experiment is not named: a caller who may not read it does not learn what it is called.
    throw new AssayError('ASSAY_FORBIDDEN', `token ${caller.token?.id} (${caller.token?.name}) may not touch this experiment`, { tokenId: caller.token?.id })
  }
}

export function requireUnrestricted(caller: Caller, what: string): void {
  if (caller.restricted) {
    throw new AssayError('ASSAY_FORBIDDEN', `${what} needs a token valid for all experiments; token ${caller.token?.id} is limited to some`, { tokenId: caller.token?.id })
  }
}
