/**
 * `monitor check` over stored traffic with known ground truth, on every backend (SQLite,
 * PostgreSQL, HTTP through `assay server`): the window and its trailing reference are read from the
 * store (Store.traceRowsPage, feedback joined), the decision is a monitor-decision audit record,
 * and a rollback decision moves the alias back through the registry's recorded rollback.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { verifyAuditLog } from '../../src/audit/append-and-verify.js'
import { checkCanary } from '../../src/monitor/check-canary.js'
import { checkMonitor, readTraceRows } from '../../src/monitor/check-monitor.js'
import { parseMonitorSpec } from '../../src/monitor/monitor-spec.js'
import type { Deployment } from '../../src/record/production.js'
import { currentHolder } from '../../src/registry/registry.js'
import type { Store } from '../../src/store/store.js'
import { STORE_BACKENDS, type OpenedStore } from '../store/backends.js'
import { rejectsWith } from '../store/fixtures.js'
import { newDeployment } from './helpers.js'
import { HOUR, MONITOR_TEXT, qaModel, storedTraffic, storeTraffic, type StoredShift } from './stored-traffic.js'

const NOW = Date.UTC(2026, 11, 1, 12)
const monitor = parseMonitorSpec(MONITOR_TEXT, 'qa.monitor.yaml')

for (const backend of STORE_BACKENDS) {
  if (backend.skip !== undefined) test(`monitor check: ${backend.name}`, { skip: backend.skip }, () => {})
  describe(`monitor check: ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStore
    let store: Store

    beforeEach(async () => {
      opened = await backend.open()
      store = opened.store
      await qaModel(store, { champion: true })
    })
    afterEach(async () => {
      await opened.dispose()
    })

    /** A deployment of qa@champion with a reference hour and a current hour of traffic. */
    async function deployed(seed: number, current: StoredShift = {}, overrides: Parameters<typeof newDeployment>[0] = { model: 'qa', alias: 'champion' }): Promise<Deployment> {
      const d = await store.createDeployment(newDeployment(overrides))
      await storeTraffic(store, storedTraffic(seed, d.id, 120, NOW - 2 * HOUR, NOW - HOUR))
      await storeTraffic(store, storedTraffic(seed + 1, d.id, 120, NOW - HOUR, NOW, current))
      return d
    }

    const check = (deployment: string, record = true) => checkMonitor(store, { monitor, deployment, window: '1h', reference: 'trailing:1h', now: NOW, actor: 'monitor-bot', record })

    test('the window is read in pages with feedback joined; no drift decides ok and records the decision', async () => {
      const d = await deployed(11)
      const rows = await readTraceRows(store, d.id, NOW - HOUR, NOW)
      const small = await store.traceRowsPage({ deployment: d.id, from: NOW - HOUR, to: NOW, limit: 7 })
      assert.equal(small.rows.length, 7)
      assert.notEqual(small.nextCursor, null)
      assert.deepEqual(small.rows, rows.slice(0, 7), 'a page is the same rows as the whole window read in larger pages')
      const row = rows[0]
      assert.equal(row.modelVersion, 'qa@2')
      assert.equal(typeof row.scores?.quality, 'number')
      assert.equal(row.scores?.guardrail_triggered, 0)
      assert.equal(typeof row.features?.inputTokens, 'number')
      assert.ok(row.attributes?.includes('gen_ai.request.model'))
      assert.ok(rows.every((r) => r.time >= NOW - HOUR && r.time < NOW))
      await rejectsWith(store.traceRowsPage({ deployment: d.id, from: 0, to: NOW, limit: 10_001 }), 'ASSAY_INVALID_ARGUMENT')

      const result = await check(d.id)
      assert.equal(result.evidence.decision, 'ok', result.evidence.reason)
      assert.equal(result.evidence.window.traces, rows.length)
      assert.ok(result.evidence.reference.traces > 100)
      assert.equal(result.evidence.monitor.sha256, monitor.sha256)
      assert.equal(result.evidence.next, null)
      const last = await store.lastAuditRecord()
      assert.equal(last?.kind, 'monitor-decision')
      assert.equal(last?.seq, result.audit?.seq)
      assert.equal((last?.body as { decision: string }).decision, 'ok')
      assert.deepEqual(JSON.parse(JSON.stringify(last?.body)), JSON.parse(JSON.stringify(result.evidence)), 'the record is the evidence returned')
    })

    test('a drifted slice of input tokens decides retrain and prints the next step; the alias stays', async () => {
      const d = await deployed(21, { inputTokens: 1.5, share: 0.4 })
      const result = await check(d.id)
      assert.equal(result.evidence.decision, 'retrain', result.evidence.reason)
      const drift = result.evidence.result.checks.find((c) => c.name.includes('inputTokens'))
      assert.equal(drift?.status, 'fail')
      assert.match(result.evidence.next ?? '', /^retrain qa/)
      assert.equal(result.rolledBack, null)
      assert.equal(await currentHolder(store, 'qa', 'champion'), 2)
    })

    test('a quality drop decides rollback and moves the alias back through the recorded rollback; the log stays intact', async () => {
      const d = await deployed(31, { quality: -0.3 })
      const result = await check(d.id)
      assert.equal(result.evidence.decision, 'rollback', result.evidence.reason)
      assert.equal(result.rollbackRefused, null)
      assert.equal(result.rolledBack?.event.version, 1)
      assert.equal(result.rolledBack?.event.previousVersion, 2)
      assert.equal(await currentHolder(store, 'qa', 'champion'), 1)
      const log = await store.auditRecords()
      const [decision, rolled] = log.slice(-2)
      assert.deepEqual([decision.kind, rolled.kind], ['monitor-decision', 'rollback'])
      assert.match(String((rolled.body as { reason: string }).reason), new RegExp(`monitor qa-prod \\(audit record ${decision.seq}\\)`))
      assert.equal((await verifyAuditLog(store)).ok, true)

      // Checked again, the alias's previous holder is no longer the candidate: no second move, and the reason is given.
      const again = await check(d.id)
      assert.equal(again.evidence.decision, 'rollback')
      assert.equal(again.rolledBack, null)
      assert.ok(again.rollbackRefused !== null)
      assert.equal(await currentHolder(store, 'qa', 'champion'), 1)
    })

    test('without --record nothing is appended and nothing moves', async () => {
      const d = await deployed(41, { quality: -0.3 })
      const before = (await store.lastAuditRecord())?.seq
      const result = await check(d.id, false)
      assert.equal(result.evidence.decision, 'rollback')
      assert.equal(result.audit, null)
      assert.equal((await store.lastAuditRecord())?.seq, before)
      assert.equal(await currentHolder(store, 'qa', 'champion'), 2)
    })

    test('traffic of a deployment without a model version escalates (unauditable, stop-promotion), whatever else it shows', async () => {
      const d = await deployed(51, { quality: -0.3 }, {})
      assert.deepEqual(d.unauditable, ['modelVersion'])
      const result = await check(d.id)
      assert.equal(result.evidence.decision, 'escalate', result.evidence.reason)
      assert.ok(result.evidence.actions.includes('stop-promotion'))
      assert.equal(result.evidence.escalation, 'oncall-ml@example.com')
      assert.equal(result.rolledBack, null, 'no automatic action on traffic nobody can trace')
      assert.equal(await currentHolder(store, 'qa', 'champion'), 2)
    })

    test('a canary of a cheaper challenger replaying the same conversations is paired and decided with evidence', async () => {
      const champion = await store.createDeployment(newDeployment({ model: 'qa', modelVersion: 2 }))
      const challenger = await store.createDeployment(newDeployment({ model: 'qa', modelVersion: 1, endpoint: 'chat-canary' }))
      const base = storedTraffic(61, champion.id, 150, NOW - HOUR, NOW)
      const replay = storedTraffic(61, challenger.id, 150, NOW - HOUR, NOW, { costFactor: 0.5 })
      await storeTraffic(store, base)
      await storeTraffic(store, replay)
      const result = await checkCanary(store, { champion: champion.id, challenger: challenger.id, window: '1h', metrics: [{ metric: 'costUsd' }], now: NOW, actor: 'canary-bot' })
      assert.equal(result.evidence.result.paired, true, 'same conversation ids on both sides: paired')
      assert.equal(result.evidence.decision, 'promote', result.evidence.reason)
      assert.equal(result.evidence.next, 'assay promote qa 1')
      const last = await store.lastAuditRecord()
      assert.deepEqual([last?.kind, last?.seq], ['canary-decision', result.audit?.seq])
    })
  })
}
