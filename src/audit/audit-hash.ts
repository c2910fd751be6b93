import { createHash } from 'node:crypto'
import { AssayError } from '../errors.js'
import type { AuditRecord } from '../record/types.js'
import { canonicalJson } from '../record/validate.js'

/**
 * The audit log's record hash (pure, a leaf: the stores check it on insert, audit-log.ts
 * builds and verifies the chain with it). sha256 of the canonical JSON of the record's content
 * ({ seq, at, kind, actor, subject, body }) followed by the previous record's hash; the first
 * record chains to GENESIS_HASH (64 zeros).
 */

export const GENESIS_HASH = '0'.repeat(64)

export function auditHash(record: Omit<AuditRecord, 'hash'>): string {
  const content = canonicalJson({ seq: record.seq, at: record.at, kind: record.kind, actor: record.actor, subject: record.subject, body: record.body })
  return createHash('sha256').update(content).update(record.prevHash).digest('hex')
}

/**
 * The hash a record will have when read back from a store: the body is stored as canonical JSON,
 * so it is hashed as it reads back (a value JSON cannot hold would read back differently). A store
 * refuses a record whose `hash` is not this.
 */
export function storedAuditHash(record: AuditRecord): string {
  const { hash: _hash, ...content } = record
  return auditHash({ ...content, body: JSON.parse(canonicalJson(record.body)) as AuditRecord['body'] })
}

/** Refuse (ASSAY_INVALID_ARGUMENT) a record whose hash is not the hash of its content: it would break the chain for good. */
export function assertAuditHash(record: AuditRecord): void {
  const expected = storedAuditHash(record)
  if (record.hash !== expected) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `audit record ${record.seq}: its hash ${String(record.hash).slice(0, 16)}… is not the hash of its content (${expected.slice(0, 16)}…); refused`, {
      seq: record.seq,
      expectedHash: expected,
    })
  }
}

/** The audit log's head anchor (one row, written with every append): seq and hash of the last record. */
export interface AuditHead {
  seq: number
  hash: string
}

/**
 * Refuse (ASSAY_AUDIT_CHAIN_BROKEN) to append to a log whose last record is not its head anchor:
 * its newest records were removed (or the anchor was), and appending would hide it.
 */
export function assertAnchored(last: AuditHead | null, anchor: AuditHead | null): void {
  if (last === null && anchor === null) return
  if (last !== null && anchor !== null && last.seq === anchor.seq && last.hash === anchor.hash) return
  const where = last === null ? 'the audit log is empty' : `the audit log ends at record ${last.seq}`
  const said = anchor === null ? 'its head anchor is missing' : `its head anchor says record ${anchor.seq} (${anchor.hash.slice(0, 16)}…)`
  throw new AssayError('ASSAY_AUDIT_CHAIN_BROKEN', `${where}, but ${said}: records were removed or replaced; nothing more is appended (run assay audit verify)`, {
    firstBadSeq: last === null ? 1 : anchor === null ? last.seq : anchor.seq === last.seq ? last.seq : Math.min(anchor.seq, last.seq) + 1,
    lastSeq: last?.seq ?? null,
    anchorSeq: anchor?.seq ?? null,
  })
}
