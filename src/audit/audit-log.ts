import { AssayError } from '../errors.js'
import { auditHash, GENESIS_HASH } from './audit-hash.js'
import type { AliasEvent, AuditKind, AuditRecord, JsonValue } from '../record/types.js'
import { canonicalJson } from '../record/validate.js'

/**
 * The audit log's hash chain (pure). Each record's hash is sha256 of the canonical JSON of its
 * content ({ seq, at, kind, actor, subject, body }) followed by the previous record's hash; the
 * first record chains to 64 zeros. Changing any field of any record, removing a record or
 * reordering records breaks the chain at a sequence number `verifyAuditChain` names.
 */

// The hash itself lives in audit-hash.ts, which the stores use to check it on insert.
export { auditHash, GENESIS_HASH }

/** A JSON value with NaN and ±Infinity written as strings (JSON has no form for them), keys sorted. */
export function toAuditJson(value: unknown): { [key: string]: JsonValue } {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v instanceof Float64Array ? Array.from(v) : v))
  return JSON.parse(canonicalJson(JSON.parse(text))) as { [key: string]: JsonValue }
}

export interface AuditEntryInput {
  kind: AuditKind
  actor: string
  subject: string
  body: unknown
  at?: number
}

/** The record that follows `previous` (null for the first one). */
export function nextAuditRecord(previous: AuditRecord | null, input: AuditEntryInput): AuditRecord {
  const partial = {
    seq: previous === null ? 1 : previous.seq + 1,
    at: input.at ?? Date.now(),
    kind: input.kind,
    actor: input.actor,
    subject: input.subject,
    body: toAuditJson(input.body),
    prevHash: previous === null ? GENESIS_HASH : previous.hash,
  }
  return { ...partial, hash: auditHash(partial) }
}

export interface AuditVerification {
  ok: boolean
  /** Records read. */
  count: number
  /** Hash of the last record (note it down: comparing it later detects removal of the newest records). */
  head: string
  /** The first sequence number at which the chain is broken; null when intact. */
  firstBadSeq: number | null
  problem: string | null
}

/**
 * Verify a log read in sequence order. Detects: a record whose content no longer matches its hash
 * (edited), a gap in the sequence numbers or a prevHash that is not the previous record's hash
 * (removed or reordered), alias events that do not match their audit record (see
 * `aliasEventProblem`; events read after the anchor and before the records), a log shorter than its head anchor or whose record at the anchor's seq is not the
 * anchored one (its tail removed or replaced), and, with `expectHead` (a whole head hash or a
 * prefix of at least 12 hex characters), a noted head that is no longer a record of the chain.
 *
 * `anchor` is the store's head anchor read BEFORE the records (undefined: the store keeps none),
 * so records appended in between make the log longer than the anchor, which is fine.
 */
/** Shortest head prefix `--expect-head` takes: 48 bits, what `assay audit ls` prints and more. */
export const MIN_HEAD_PREFIX = 12

function expectedHeadPrefix(text: string): string {
  const prefix = text.trim().toLowerCase()
  if (!new RegExp(`^[0-9a-f]{${MIN_HEAD_PREFIX},64}$`).test(prefix)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `an expected head is the whole hash (64 hex characters) or a prefix of at least ${MIN_HEAD_PREFIX}, got ${JSON.stringify(text)}`)
  }
  return prefix
}

/** The audit record kind each alias event kind is written with (registry.ts). */
const ALIAS_AUDIT_KIND: Record<AliasEvent['kind'], AuditKind> = { set: 'alias-set', promote: 'promotion', rollback: 'rollback' }
const ALIAS_AUDIT_KINDS = new Set<AuditKind>(Object.values(ALIAS_AUDIT_KIND))

/**
 * Alias events are a table of their own, outside the hash chain, and `alias ls` reads the holder
 * from them: so every event must be the one its audit record describes (model, alias, from, to,
 * kind, actor, time), every alias-moving record must have its event (a deleted event changes the
 * holder), and each alias's events must come in the order of their records; then the holder
 * `alias ls` shows is the one the chain says. Records after `checkedUpTo` (appended after the
 * events were read) need not have their event yet. The first mismatch, or null.
 */
export function aliasEventProblem(records: readonly AuditRecord[], events: readonly AliasEvent[], checkedUpTo = Infinity): { seq: number; problem: string } | null {
  const bySeq = new Map(records.map((r) => [r.seq, r]))
  const claimed = new Set(events.map((e) => e.auditSeq))
  const unclaimed = records.find((r) => r.seq <= checkedUpTo && ALIAS_AUDIT_KINDS.has(r.kind) && !claimed.has(r.seq)) ?? null
  return aliasEventMismatch((seq) => bySeq.get(seq), records.length, events, unclaimed)
}

/**
 * aliasEventProblem over what a verifier kept of the log: the records events point at
 * (`recordAt`), its length, and the first alias-moving record no event points at.
 */
function aliasEventMismatch(recordAt: (seq: number) => AuditRecord | undefined, last: number, events: readonly AliasEvent[], unclaimed: AuditRecord | null): { seq: number; problem: string } | null {
  const claimed = new Map<number, AliasEvent>()
  const lastSeqOfAlias = new Map<string, number>()
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
    const name = `alias event ${e.seq} (${e.model}@${e.alias})`
    if (e.auditSeq === null) return { seq: last + 1, problem: `${name} has no audit record: alias events are written only with one` }
    const record = recordAt(e.auditSeq)
    if (record === undefined) return { seq: last + 1, problem: `${name} points at audit record ${e.auditSeq}, but the log ends at ${last}: records were removed from the end` }
    if (claimed.has(e.auditSeq)) return { seq: e.auditSeq, problem: `${name} and alias event ${claimed.get(e.auditSeq)?.seq} both point at audit record ${e.auditSeq}: an alias event was forged` }
    claimed.set(e.auditSeq, e)
    const body = record.body
    const matches =
      record.kind === ALIAS_AUDIT_KIND[e.kind] && body.model === e.model && body.alias === e.alias && body.to === e.version && body.from === e.previousVersion && record.actor === e.actor && record.at === e.at
    if (!matches) {
      return { seq: e.auditSeq, problem: `${name} (${e.kind}, ${e.previousVersion ?? 'nobody'} → ${e.version ?? 'nobody'} by ${e.actor}) is not what audit record ${e.auditSeq} says (${record.kind}, ${String(body.from ?? 'nobody')} → ${String(body.to ?? 'nobody')} by ${record.actor}): the alias history was rewritten` }
    }
    const key = `${e.model}\u0000${e.alias}`
    if ((lastSeqOfAlias.get(key) ?? 0) > e.auditSeq) return { seq: e.auditSeq, problem: `${name} comes after an event of the same alias with a later audit record: the alias history was reordered` }
    lastSeqOfAlias.set(key, e.auditSeq)
  }
  if (unclaimed !== null) {
    return { seq: unclaimed.seq, problem: `audit record ${unclaimed.seq} (${unclaimed.kind} of ${unclaimed.subject}) has no alias event: an alias event was deleted, so the alias's holder is not the one the log says` }
  }
  return null
}

export interface AuditChainOptions {
  expectHead?: string
  aliasEvents?: readonly AliasEvent[]
  gatePolicySeqs?: readonly number[]
  anchor?: { seq: number; hash: string } | null
}

export function verifyAuditChain(records: readonly AuditRecord[], options: AuditChainOptions = {}): AuditVerification {
  const verifier = new AuditChainVerifier(options)
  verifier.add(records)
  return verifier.result()
}

/**
 * verifyAuditChain one page at a time (`add` each page in sequence order, then `result`), so a
 * log is verified without holding it: what is kept is the chain's head and count, the records that
 * alias events, gate policies and the anchor point at, and the first alias-moving record without
 * its event. The verdict is the one verifyAuditChain gives for the whole log.
 */
export class AuditChainVerifier {
  private previousHash = GENESIS_HASH
  private expectedSeq = 1
  private count = 0
  private chainProblem: { seq: number; problem: string } | null = null
  /** Sequence numbers of the records later checks read: alias events', gate policies', the anchor's. */
  private readonly wanted: Set<number>
  private readonly kept = new Map<number, AuditRecord>()
  private readonly claimed: Set<number | null>
  private unclaimed: AuditRecord | null = null
  private readonly checkedUpTo: number
  /** A record's hash starts with the noted head (compared as expectedHeadPrefix reads it, which checks it in `result`). */
  private noted = false

  constructor(private readonly options: AuditChainOptions = {}) {
    const events = options.aliasEvents ?? []
    this.claimed = new Set(events.map((e) => e.auditSeq))
    this.wanted = new Set([...(options.gatePolicySeqs ?? []), ...events.flatMap((e) => (e.auditSeq === null ? [] : [e.auditSeq]))])
    if (options.anchor !== undefined && options.anchor !== null) this.wanted.add(options.anchor.seq)
    // Every record up to the anchor was committed with its event before the events were read.
    this.checkedUpTo = options.anchor?.seq ?? Infinity
  }

  /** The next records of the log, in sequence order. */
  add(records: readonly AuditRecord[]): void {
    const noted = this.options.expectHead?.trim().toLowerCase()
    for (const record of records) {
      this.count++
      if (this.chainProblem !== null) continue
      this.chainProblem = this.chainLink(record)
      if (this.chainProblem !== null) continue
      this.previousHash = record.hash
      this.expectedSeq++
      if (this.wanted.has(record.seq)) this.kept.set(record.seq, record)
      if (this.unclaimed === null && this.options.aliasEvents !== undefined && record.seq <= this.checkedUpTo && ALIAS_AUDIT_KINDS.has(record.kind) && !this.claimed.has(record.seq)) this.unclaimed = record
      if (noted !== undefined && noted !== '' && record.hash.startsWith(noted)) this.noted = true
    }
  }

  private chainLink(record: AuditRecord): { seq: number; problem: string } | null {
    const expectedSeq = this.expectedSeq
    if (record.seq !== expectedSeq) {
      return { seq: expectedSeq, problem: record.seq > expectedSeq ? `record ${expectedSeq} is missing (next is ${record.seq}): removed` : `record ${record.seq} appears where ${expectedSeq} should be: reordered or duplicated` }
    }
    if (record.prevHash !== this.previousHash) return { seq: record.seq, problem: `record ${record.seq} does not chain to record ${record.seq - 1} (prevHash differs): a record before it was removed, replaced or reordered` }
    const { hash: _stored, ...content } = record
    if (auditHash(content) !== record.hash) return { seq: record.seq, problem: `record ${record.seq} was changed: its content no longer matches its hash` }
    return null
  }

  /** The verdict on every record added. */
  result(): AuditVerification {
    const fail = (seq: number, problem: string): AuditVerification => ({ ok: false, count: this.count, head: this.previousHash, firstBadSeq: seq, problem })
    if (this.chainProblem !== null) return fail(this.chainProblem.seq, this.chainProblem.problem)
    const last = this.count
    for (const seq of this.options.gatePolicySeqs ?? []) {
      if (seq > last) return fail(last + 1, `a gate policy version points at audit record ${seq}, but the log ends at ${last}: records were removed from the end`)
      const kind = this.kept.get(seq)?.kind
      if (kind !== 'gate-policy') return fail(seq, `a gate policy version points at audit record ${seq}, which is a ${kind} record: the gate policy history was rewritten`)
    }
    if (this.options.aliasEvents !== undefined) {
      const problem = aliasEventMismatch((seq) => this.kept.get(seq), last, this.options.aliasEvents, this.unclaimed)
      if (problem !== null) return fail(problem.seq, problem.problem)
    }
    const { anchor } = this.options
    if (anchor === null && last > 0) return fail(1, `the log has ${last} records but no head anchor: the anchor was removed, so a removed tail could not be detected`)
    if (anchor !== undefined && anchor !== null) {
      if (anchor.seq > last) {
        return fail(last + 1, `the log ends at record ${last}, but its head anchor (written with every append) says record ${anchor.seq}: ${anchor.seq === last + 1 ? `record ${anchor.seq} was` : `records ${last + 1}–${anchor.seq} were`} removed from the end`)
      }
      const anchored = this.kept.get(anchor.seq)
      if (anchor.seq >= 1 && anchored !== undefined && anchored.hash !== anchor.hash) {
        return fail(anchor.seq, `record ${anchor.seq} (hash ${anchored.hash}) is not the one the head anchor names (${anchor.hash}): the tail from record ${anchor.seq} was replaced`)
      }
    }
    if (this.options.expectHead !== undefined) {
      const expected = expectedHeadPrefix(this.options.expectHead)
      // The noted head must still be in the chain: records appended since are fine, a removed or rewritten tail is not.
      if (!this.noted) {
        const where = last === 0 ? 'the log is empty' : `the head is record ${last}, hash ${this.previousHash}`
        return fail(Math.max(last, 1), `${where}, not the expected ${expected}, and no record has that hash: records were removed from the end or the log was replaced`)
      }
    }
    return { ok: true, count: this.count, head: this.previousHash, firstBadSeq: null, problem: null }
  }
}
