import assert from 'node:assert/strict'
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { appendAuditRecord, verifyAuditLog, type AuditLogStore } from '../../src/audit/append-and-verify.js'
import type { AuditVerification } from '../../src/audit/audit-log.js'
import { addModelVersion, createModel, setAlias } from '../../src/registry/registry.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { runCliOn } from '../cli/run-cli.js'
import { newRun } from '../store/fixtures.js'

/**
 * `audit verify` reads the log a page at a time (verifyAuditLog over auditRecordsPage): the
 * verdict is the same whatever the page size (one record a page, a few, the default 1,000), and a
 * record changed, removed or unmatched on a later page is still found at its sequence number.
 */

/** The store, counting the audit pages it hands out; reading the log whole is a test failure. */
function pagedOnly(store: SqliteStore): { store: AuditLogStore; pages: number[] } {
  const pages: number[] = []
  const wrapped: AuditLogStore = {
    lastAuditRecord: () => store.lastAuditRecord(),
    appendAudit: (record) => store.appendAudit(record),
    auditHead: () => store.auditHead(),
    listModels: () => store.listModels(),
    aliasEvents: (model) => store.aliasEvents(model),
    gatePolicies: () => store.gatePolicies(),
    async auditRecordsPage(query) {
      const page = await store.auditRecordsPage(query)
      pages.push(page.records.length)
      return page
    },
  }
  Object.defineProperty(wrapped, 'auditRecords', { get: () => assert.fail('verify read the whole log') })
  return { store: wrapped, pages }
}

const PAGE_SIZES = [1, 2, 5, 1000]

describe('audit verify, page by page', () => {
  let dir: string
  let root: string
  let store: SqliteStore
  let db: Database.Database

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'assay-audit-pages-'))
    root = path.join(dir, 'store')
    store = await SqliteStore.open(root)
    const run = newRun()
    await store.createRun(run)
    await createModel(store, { name: 'sentiment', owner: 'alice', actor: 'alice' })
    await addModelVersion(store, { model: 'sentiment', run: run.id, actor: 'alice' })
    await addModelVersion(store, { model: 'sentiment', run: run.id, actor: 'alice' })
    // Records 1 and 2 move aliases, 3–8 are gate checks, 9 moves champion again, 10–12 gate checks.
    await setAlias(store, { model: 'sentiment', alias: 'champion', version: 1, actor: 'alice', reason: 'first' })
    await setAlias(store, { model: 'sentiment', alias: 'staging', version: 2, actor: 'alice', reason: 'try' })
    const check = (i: number) => appendAuditRecord(store, { kind: 'gate-check', actor: 'ci', subject: `check ${i}`, body: { decision: 'accept', i } })
    for (let i = 3; i <= 8; i++) await check(i)
    await setAlias(store, { model: 'sentiment', alias: 'champion', version: 2, actor: 'alice', reason: 'better' })
    for (let i = 10; i <= 12; i++) await check(i)
    db = new Database(path.join(root, 'assay.db'))
    db.exec('DROP TRIGGER audit_log_append_only_update; DROP TRIGGER audit_log_append_only_delete; DROP TRIGGER alias_events_append_only_update; DROP TRIGGER alias_events_append_only_delete;')
  })
  afterEach(async () => {
    db.close()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** The verdict at every page size: one and the same, read page by page; returned once. */
  async function verdict(options: { expectHead?: string } = {}): Promise<AuditVerification> {
    const verdicts: AuditVerification[] = []
    for (const pageSize of PAGE_SIZES) {
      const paged = pagedOnly(store)
      verdicts.push(await verifyAuditLog(paged.store, { ...options, pageSize }))
      assert.ok(paged.pages.every((n) => n <= pageSize), `pages of at most ${pageSize} records`)
      if (pageSize < 12) assert.ok(paged.pages.length > 1, `${paged.pages.length} pages of ${pageSize}`)
    }
    for (const [i, v] of verdicts.entries()) assert.deepEqual(v, verdicts[0], `page size ${PAGE_SIZES[i]} gives the verdict of page size ${PAGE_SIZES[0]}`)
    return verdicts[0] as AuditVerification
  }

  it('an intact log verifies at every page size, with its count and head', async () => {
    const v = await verdict()
    assert.deepEqual(v, { ok: true, count: 12, head: (await store.lastAuditRecord())?.hash, firstBadSeq: null, problem: null })
    const seventh = (await store.auditRecordsPage({ limit: 1, cursor: (await store.auditRecordsPage({ limit: 6 })).nextCursor ?? undefined })).records[0]
    assert.equal((await verdict({ expectHead: seventh?.hash.slice(0, 16) })).ok, true, 'a noted head on an earlier page is still in the chain')
  })

  it('a record changed on a later page is found at its sequence number', async () => {
    db.prepare("UPDATE audit_log SET actor = 'mallory' WHERE seq = 7").run()
    const v = await verdict()
    assert.equal(v.ok, false)
    assert.equal(v.firstBadSeq, 7)
    assert.equal(v.count, 12, 'every record is counted, also past the break')
    assert.match(v.problem as string, /record 7 was changed/)
  })

  it('a record removed on a later page is found', async () => {
    db.prepare('DELETE FROM audit_log WHERE seq = 6').run()
    assert.deepEqual([(await verdict()).firstBadSeq, (await verdict()).problem], [6, 'record 6 is missing (next is 7): removed'])
  })

  it('a tail removed behind the head anchor is found', async () => {
    db.prepare('DELETE FROM audit_log WHERE seq >= 11').run()
    const v = await verdict()
    assert.equal(v.firstBadSeq, 11)
    assert.match(v.problem as string, /records 11–12 were removed from the end/)
  })

  it("an alias event that is not its record's, or is missing, is found at the record on a later page", async () => {
    db.prepare('UPDATE alias_events SET version = 1 WHERE audit_seq = 9').run()
    const rewritten = await verdict()
    assert.equal(rewritten.firstBadSeq, 9)
    assert.match(rewritten.problem as string, /is not what audit record 9 says .*rewritten/)
    db.prepare('DELETE FROM alias_events WHERE audit_seq = 9').run()
    const deleted = await verdict()
    assert.equal(deleted.firstBadSeq, 9)
    assert.match(deleted.problem as string, /audit record 9 \(alias-set of sentiment@champion\) has no alias event/)
  })

  it('a noted head that is no record of the chain fails, naming the current head', async () => {
    const v = await verdict({ expectHead: 'ab'.repeat(8) })
    assert.equal(v.firstBadSeq, 12)
    assert.match(v.problem as string, /the head is record 12, .*no record has that hash/)
  })
})

describe('audit verify over more than one default page', () => {
  it('1,005 records: `assay audit verify` reads two pages, and a record changed on the second is named', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'assay-audit-pages-'))
    const root = path.join(dir, 'store')
    const store = await SqliteStore.open(root)
    try {
      for (let i = 1; i <= 1005; i++) await appendAuditRecord(store, { kind: 'gate-check', actor: 'ci', subject: `check ${i}`, body: { decision: 'accept', i } })
      const paged = pagedOnly(store)
      const intact = await verifyAuditLog(paged.store)
      assert.deepEqual([intact.ok, intact.count, paged.pages], [true, 1005, [1000, 5]])
      const db = new Database(path.join(root, 'assay.db'))
      db.exec("DROP TRIGGER audit_log_append_only_update; UPDATE audit_log SET subject = 'forged' WHERE seq = 1003")
      db.close()
      const broken = await runCliOn(root, 'audit', 'verify', '--json')
      assert.equal(broken.code, 1, broken.err)
      const body = JSON.parse(broken.out) as AuditVerification
      assert.deepEqual([body.ok, body.count, body.firstBadSeq], [false, 1005, 1003])
      assert.match(broken.err, /audit log broken at record 1003: record 1003 was changed/)
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
