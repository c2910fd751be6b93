import { isAssayError } from '../errors.js'
import type { AliasEvent, AuditRecord } from '../record/types.js'
import type { AuditHead } from './audit-hash.js'
import { AuditChainVerifier, nextAuditRecord, type AuditEntryInput, type AuditVerification } from './audit-log.js'

/**
 * The audit chain over a store: append (with the retry on a concurrent writer) and verify what a
 * store holds. audit/ sits below store/ (the stores check every record's hash on insert with
 * audit-hash.ts), so it declares the few store methods it uses here instead of importing the
 * Store contract; every Store satisfies AuditLogStore.
 */
export interface AuditLogStore {
  lastAuditRecord(): Promise<AuditRecord | null>
  appendAudit(record: AuditRecord): Promise<void>
  auditRecordsPage(query: { limit: number; cursor?: string }): Promise<{ records: AuditRecord[]; nextCursor: string | null }>
  auditHead?(): Promise<AuditHead | null>
  listModels(): Promise<readonly { name: string }[]>
  aliasEvents(model: string): Promise<readonly AliasEvent[]>
  gatePolicies(): Promise<readonly { auditSeq: number }[]>
}

/** How many times an append re-reads the head after another writer appended first. */
const APPEND_RETRIES = 5

/**
 * Build the record that follows the log's head and hand it to `write` (which stores it, alone or
 * with something else in the same transaction). On ASSAY_AUDIT_CONFLICT the head is re-read and
 * the record rebuilt, while `stillValid` (default: always) says the write still makes sense.
 */
export async function appendChained<T>(
  store: Pick<AuditLogStore, 'lastAuditRecord'>,
  input: AuditEntryInput,
  write: (record: AuditRecord) => Promise<T>,
  stillValid: () => Promise<boolean> = async () => true,
): Promise<{ written: T; record: AuditRecord }> {
  for (let attempt = 0; ; attempt++) {
    const record = nextAuditRecord(await store.lastAuditRecord(), input)
    try {
      return { written: await write(record), record }
    } catch (error) {
      if (isAssayError(error, 'ASSAY_AUDIT_CONFLICT') && attempt < APPEND_RETRIES && (await stillValid())) continue
      throw error
    }
  }
}

/** Append one audit record, re-reading the head when another writer appended first. */
export async function appendAuditRecord(store: Pick<AuditLogStore, 'lastAuditRecord' | 'appendAudit'>, input: AuditEntryInput): Promise<AuditRecord> {
  return (await appendChained(store, input, (record) => store.appendAudit(record))).record
}

/**
 * Verify the audit log's chain, that it reaches its head anchor, that the alias events (and so
 * every alias's holder) are exactly the ones the chain records, and that every gate policy
 * version's audit record is still there. The anchor is read before the records, the events
 * between them: a concurrent append only makes the log longer than the anchor, and every event
 * read has its record among those read after. The log is read a page at a time (`pageSize`
 * records, default the most a store's page holds): memory grows with the alias events and gate
 * policies, not with the log.
 */
export async function verifyAuditLog(store: AuditLogStore, options: { expectHead?: string; pageSize?: number } = {}): Promise<AuditVerification> {
  const anchor = store.auditHead === undefined ? undefined : await store.auditHead()
  const aliasEvents: AliasEvent[] = []
  for (const m of await store.listModels()) aliasEvents.push(...(await store.aliasEvents(m.name)))
  const gatePolicySeqs = (await store.gatePolicies()).map((p) => p.auditSeq)
  const verifier = new AuditChainVerifier({ expectHead: options.expectHead, aliasEvents, gatePolicySeqs, anchor })
  let cursor: string | undefined
  for (;;) {
    const page = await store.auditRecordsPage({ limit: options.pageSize ?? AUDIT_PAGE_SIZE, cursor })
    verifier.add(page.records)
    // A server from before pages sends no nextCursor: its one answer is the whole log.
    if (page.nextCursor === null || page.nextCursor === undefined) return verifier.result()
    cursor = page.nextCursor
  }
}

/** Records per page when verifying: the most one page of a store's listing holds (PAGE_SIZE.max in store/). */
const AUDIT_PAGE_SIZE = 1000
