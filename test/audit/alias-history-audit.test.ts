import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { verifyAuditLog } from '../../src/audit/append-and-verify.js'
import { addModelVersion, createModel, listAliases, setAlias } from '../../src/registry/registry.js'
import type { Store } from '../../src/store/store.js'
import { STORE_BACKENDS, type OpenedStore } from '../store/backends.js'
import { newRun } from '../store/fixtures.js'

/**
 * Alias events live in their own table, outside the hash chain, and `alias ls` reads the holder
 * from them. Rewriting an event (its append-only trigger dropped) or deleting the latest one used
 * to verify as intact while `alias ls` showed the forged holder: verify now checks every event and
 * so the current holder against the chain, on every backend, after tampering with raw SQL.
 */
const DROP_ALIAS_TRIGGERS: Record<string, string> = {
  sqlite: 'DROP TRIGGER alias_events_append_only_update; DROP TRIGGER alias_events_append_only_delete;',
  postgres: 'DROP TRIGGER alias_events_append_only ON alias_events;',
}

for (const backend of STORE_BACKENDS) {
  const drop = DROP_ALIAS_TRIGGERS[backend.name] ?? DROP_ALIAS_TRIGGERS.sqlite
  if (backend.skip !== undefined) test(`alias history in audit verify: ${backend.name}`, { skip: backend.skip }, () => {})
  describe(`alias history in audit verify: ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStore
    let store: Store

    beforeEach(async () => {
      opened = await backend.open()
      store = opened.store
      const run = newRun()
      await store.createRun(run)
      await createModel(store, { name: 'sentiment', owner: 'alice', actor: 'alice' })
      await addModelVersion(store, { model: 'sentiment', run: run.id, actor: 'alice' })
      await addModelVersion(store, { model: 'sentiment', run: run.id, actor: 'alice' })
      await setAlias(store, { model: 'sentiment', alias: 'champion', version: 1, actor: 'alice', reason: 'first' })
      await setAlias(store, { model: 'sentiment', alias: 'staging', version: 2, actor: 'alice', reason: 'try' })
      await setAlias(store, { model: 'sentiment', alias: 'champion', version: 2, actor: 'alice', reason: 'better' })
    })
    afterEach(async () => opened.dispose())

    const holder = async (alias: string) => (await listAliases(store, 'sentiment')).find((a) => a.alias === alias)?.version

    test('an untouched history verifies', async () => {
      const result = await verifyAuditLog(store)
      assert.equal(result.ok, true, result.problem ?? '')
      assert.equal(result.count, 3)
    })

    test('rewriting the latest event (trigger dropped) fails verify, naming its audit record', async () => {
      await opened.rawSql(`${drop} UPDATE alias_events SET version = 1 WHERE seq = (SELECT MAX(seq) FROM alias_events)`)
      assert.equal(await holder('champion'), 1, 'alias ls shows the forged holder')
      const result = await verifyAuditLog(store)
      assert.equal(result.ok, false)
      assert.equal(result.firstBadSeq, 3)
      assert.match(result.problem as string, /is not what audit record 3 says .*rewritten/)
    })

    test('deleting the latest event fails verify: the chain names a holder the events lack', async () => {
      await opened.rawSql(`${drop} DELETE FROM alias_events WHERE seq = (SELECT MAX(seq) FROM alias_events)`)
      assert.equal(await holder('champion'), 1, 'alias ls shows the previous holder')
      const result = await verifyAuditLog(store)
      assert.equal(result.ok, false)
      assert.equal(result.firstBadSeq, 3)
      assert.match(result.problem as string, /audit record 3 \(alias-set of sentiment@champion\) has no alias event/)
    })

    test('an inserted event (no record of its own) and a reattributed actor fail verify', async () => {
      await opened.rawSql(
        "INSERT INTO alias_events (model, alias, kind, version, previous_version, actor, at, reason, audit_seq) VALUES ('sentiment', 'champion', 'set', 1, 2, 'mallory', 1, 'x', 2)",
      )
      assert.match((await verifyAuditLog(store)).problem as string, /both point at audit record 2/)
      await opened.rawSql(`${drop} DELETE FROM alias_events WHERE actor = 'mallory'; UPDATE alias_events SET actor = 'mallory' WHERE seq = (SELECT MIN(seq) FROM alias_events)`)
      const result = await verifyAuditLog(store)
      assert.equal(result.firstBadSeq, 1)
      assert.match(result.problem as string, /by mallory\) is not what audit record 1 says/)
    })
  })
}
