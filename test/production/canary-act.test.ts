/**
 * Canary decisions acted on (docs/production.md "Canary check"), with known ground truth, on every
 * backend (SQLite, PostgreSQL, and HTTP, where the check is POST /api/v1/canary-checks run by the
 * server): with a monitor whose `canary.act` allows it, a better challenger is promoted through
 * the registered gate, a worse one is rolled back (or the alias kept on the champion), and a tie
 * continues with nothing moved; each move cites the canary-decision record. Without the
 * permission the next command is printed and nothing moves.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { verifyAuditLog } from '../../src/audit/append-and-verify.js'
import { parseMonitorSpec } from '../../src/monitor/monitor-spec.js'
import type { Deployment } from '../../src/record/production.js'
import { currentHolder, setAlias } from '../../src/registry/registry.js'
import { registryActionsFor, type RegistryActions } from '../../src/sdk/registry-actions.js'
import type { Store } from '../../src/store/store.js'
import { throwsWith } from '../store/fixtures.js'
import { STORE_BACKENDS, type OpenedStore } from '../store/backends.js'
import { newDeployment } from './helpers.js'
import { promotableModel } from './promotable-model.js'
import { HOUR, MONITOR_TEXT, storedTraffic, storeTraffic, type StoredShift } from './stored-traffic.js'

// Traffic sits in the hour before NOW; the checks look at the last two hours (on HTTP, up to the server's clock).
const NOW = Date.now() - 60_000
const acting = (act: string) => parseMonitorSpec(`${MONITOR_TEXT}canary:\n  act: ${act}\n`, `qa-${act}.monitor.yaml`)

test('canary.act is validated', () => {
  assert.equal(parseMonitorSpec(MONITOR_TEXT).spec.canary.act, 'none', 'acting is opt-in')
  assert.equal(acting('both').spec.canary.act, 'both')
  throwsWith(() => acting('always'), 'ASSAY_INVALID_MONITOR_SPEC', /canary\.act/)
  throwsWith(() => parseMonitorSpec(`${MONITOR_TEXT}canary:\n  act: promote\n  moves: everything\n`), 'ASSAY_INVALID_MONITOR_SPEC')
})

for (const backend of STORE_BACKENDS) {
  if (backend.skip !== undefined) test(`canary decisions acted on: ${backend.name}`, { skip: backend.skip }, () => {})
  describe(`canary decisions acted on: ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStore
    let store: Store
    let actions: RegistryActions
    let champion: Deployment
    let challenger: Deployment

    beforeEach(async () => {
      opened = await backend.open()
      store = opened.store
      actions = registryActionsFor(store)
      await promotableModel(store, 'qa')
      champion = await store.createDeployment(newDeployment({ model: 'qa', modelVersion: 1, createdAt: NOW - 3 * HOUR }))
      challenger = await store.createDeployment(newDeployment({ model: 'qa', modelVersion: 2, endpoint: 'chat-canary', createdAt: NOW - 3 * HOUR }))
    })
    afterEach(async () => {
      await opened.dispose()
    })

    /** The champion's hour of traffic, and the challenger replaying it (same conversations: paired) with `shift`; or its own traffic from another seed. */
    async function traffic(shift: StoredShift | 'independent'): Promise<void> {
      await storeTraffic(store, storedTraffic(61, champion.id, 150, NOW - HOUR, NOW))
      await storeTraffic(store, shift === 'independent' ? storedTraffic(62, challenger.id, 150, NOW - HOUR, NOW) : storedTraffic(61, challenger.id, 150, NOW - HOUR, NOW, shift))
    }

    const canary = (monitor?: ReturnType<typeof acting>) =>
      actions.checkCanary({ champion: champion.id, challenger: challenger.id, window: '2h', metrics: [{ metric: 'quality' }], now: NOW, actor: 'canary-bot', monitor })

    test('a better challenger is promoted through the gate; the promotion cites the canary decision', async () => {
      await traffic({ quality: 0.1, share: 0.8 })
      const result = await canary(acting('both'))
      assert.equal(result.evidence.decision, 'promote', result.evidence.reason)
      assert.equal(result.actRefused, null)
      assert.equal(result.acted?.action, 'promote')
      assert.equal(result.acted?.version, 2)
      assert.equal(result.acted?.previousVersion, 1)
      assert.equal(await currentHolder(store, 'qa', 'champion'), 2)
      const log = await store.auditRecords()
      const decision = log.find((r) => r.seq === result.audit?.seq)
      assert.equal(decision?.kind, 'canary-decision')
      assert.equal((decision?.body as { act: string }).act, 'both')
      const [gateCheck, promotion] = log.slice(-2)
      assert.equal(gateCheck.kind, 'gate-check', 'the registered gate ran')
      assert.equal(promotion.kind, 'promotion')
      assert.equal(promotion.seq, result.acted?.audit?.seq)
      assert.deepEqual((promotion.body as { cause: unknown }).cause, { kind: 'canary-decision', seq: decision?.seq, hash: decision?.hash })
      assert.equal((await verifyAuditLog(store)).ok, true)
    })

    test('a worse challenger: the alias is kept on the champion, or rolled back to it from the challenger', async () => {
      await traffic({ quality: -0.2, share: 0.8 })
      const kept = await canary(acting('rollback'))
      assert.equal(kept.evidence.decision, 'rollback', kept.evidence.reason)
      assert.equal(kept.acted?.action, 'keep')
      assert.equal(kept.acted?.event, null)
      assert.equal((await store.lastAuditRecord())?.seq, kept.audit?.seq, 'nothing moved, nothing more recorded')
      assert.equal(await currentHolder(store, 'qa', 'champion'), 1)

      // The challenger's version already holds the alias: the rollback restores the champion's.
      await setAlias(store, { model: 'qa', alias: 'champion', version: 2, actor: 'alice' })
      const rolled = await canary(acting('rollback'))
      assert.equal(rolled.acted?.action, 'rollback')
      assert.equal(rolled.acted?.previousVersion, 2)
      assert.equal(await currentHolder(store, 'qa', 'champion'), 1)
      const record = await store.lastAuditRecord()
      assert.equal(record?.kind, 'rollback')
      assert.deepEqual((record?.body as { cause: unknown }).cause, { kind: 'canary-decision', seq: rolled.audit?.seq, hash: rolled.audit?.hash })
      assert.equal((await verifyAuditLog(store)).ok, true)
    })

    test('a tie continues and nothing moves', async () => {
      await traffic('independent')
      const before = await store.aliasEvents('qa', 'champion')
      const result = await canary(acting('both'))
      assert.equal(result.evidence.result.paired, false)
      assert.equal(result.evidence.decision, 'continue', result.evidence.reason)
      assert.equal(result.acted, null)
      assert.equal(result.actRefused, null)
      assert.deepEqual(await store.aliasEvents('qa', 'champion'), before)
      assert.equal((await store.lastAuditRecord())?.kind, 'canary-decision')
    })

    test('without the permission the decision is printed as the next command; refused actions are reported, not thrown', async () => {
      await traffic({ quality: 0.1, share: 0.8 })
      for (const monitor of [undefined, acting('none'), acting('rollback')]) {
        const result = await canary(monitor)
        assert.equal(result.evidence.decision, 'promote')
        assert.equal(result.acted, null)
        assert.equal(result.evidence.next, 'assay promote qa 2')
        assert.equal(await currentHolder(store, 'qa', 'champion'), 1)
      }
      // The alias moved since the champion was deployed: the promotion's expected holder no longer matches.
      await setAlias(store, { model: 'qa', alias: 'champion', version: null, actor: 'alice' })
      const moved = await canary(acting('promote'))
      assert.equal(moved.acted, null)
      assert.equal(moved.actRefused?.code, 'ASSAY_ALIAS_HOLDER_CHANGED')
      assert.equal(await currentHolder(store, 'qa', 'champion'), null)
    })

    test('a monitor of another endpoint is refused before anything is recorded or moved', async () => {
      await traffic({ quality: 0.1, share: 0.8 })
      const watching = (deployment: string) => parseMonitorSpec(`${MONITOR_TEXT}deployment: ${deployment}\ncanary:\n  act: both\n  alias: champion\n`, 'qa-watch.monitor.yaml')
      const before = await store.lastAuditRecord()
      await assert.rejects(canary(watching('billing')), (error: unknown) => (error as { code?: string }).code === 'ASSAY_INVALID_ARGUMENT' && /watches deployment billing/.test((error as Error).message))
      assert.deepEqual(await store.lastAuditRecord(), before, 'nothing recorded')
      assert.equal(await currentHolder(store, 'qa', 'champion'), 1, 'nothing moved')
      // Naming either side, by endpoint or by deployment id, is the canary the monitor watches.
      for (const named of ['chat', 'chat-canary', champion.id]) {
        const result = await canary(watching(named))
        assert.equal(result.evidence.decision, 'promote', result.evidence.reason)
        assert.equal(result.acted?.action, 'promote', named)
        await setAlias(store, { model: 'qa', alias: 'champion', version: 1, actor: 'alice' })
      }
    })

    test('a promotion the canary allows is still refused on unauditable traffic', async () => {
      await traffic({ quality: 0.1, share: 0.8 })
      await store.createDeployment(newDeployment({ model: 'qa', modelVersion: 1, endpoint: 'chat-eu', owner: null, createdAt: NOW - 3 * HOUR }))
      const result = await canary(acting('promote'))
      assert.equal(result.evidence.decision, 'promote')
      assert.equal(result.actRefused?.code, 'ASSAY_UNAUDITABLE_TRAFFIC')
      assert.match(result.actRefused?.message ?? '', /endpoint chat-eu, production\) has no owner/)
      assert.equal(await currentHolder(store, 'qa', 'champion'), 1)
      assert.equal((await store.lastAuditRecord())?.kind, 'promotion-refused')
    })
  })
}
