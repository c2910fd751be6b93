/**
 * Store.traceColumns on every backend (SQLite, PostgreSQL, HTTP through `assay server`): the
 * window read column-wise holds exactly what the row read (Store.traceRowsPage) gives, turned into
 * columns, in pages of any size; and the monitor decides the same on either.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { readTraceRows } from '../../src/monitor/check-monitor.js'
import { decideMonitor, monitorColumnNeeds } from '../../src/monitor/decide-monitor.js'
import { parseMonitorSpec } from '../../src/monitor/monitor-spec.js'
import { traceColumnsFromRows, type TraceColumnNeeds } from '../../src/record/trace-columns.js'
import type { Store } from '../../src/store/store.js'
import { STORE_BACKENDS, type OpenedStore } from '../store/backends.js'
import { rejectsWith } from '../store/fixtures.js'
import { newDeployment } from './helpers.js'
import { HOUR, MONITOR_TEXT, qaModel, storedTraffic, storeTraffic } from './stored-traffic.js'

const NOW = Date.UTC(2026, 11, 1, 12)

/** Every column there is, a score and a feature no trace has, and the guardrail scores (from columns, else feedback). */
const EVERYTHING: TraceColumnNeeds = {
  scores: ['quality', 'guardrail_triggered', 'guardrail_pass', 'absent'],
  features: ['inputTokens', 'latencyMs', 'costUsd', 'operation', 'requestModel', 'promptVersion', 'retrievalIndexVersion', 'region'],
  attributes: true,
  conversationId: true,
  guardrailAction: true,
  modelVersion: true,
  promptVersion: true,
}

for (const backend of STORE_BACKENDS) {
  if (backend.skip !== undefined) test(`trace columns: ${backend.name}`, { skip: backend.skip }, () => {})
  describe(`trace columns: ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStore
    let store: Store

    beforeEach(async () => {
      opened = await backend.open()
      store = opened.store
      await qaModel(store, { champion: false })
    })
    afterEach(async () => {
      await opened.dispose()
    })

    test('the window column-wise is the row read turned into columns, in pages of any size', async () => {
      const d = await store.createDeployment(newDeployment({ model: 'qa', modelVersion: 1 }))
      const traffic = storedTraffic(3, d.id, 40, NOW - HOUR, NOW)
      await storeTraffic(store, traffic)
      // A later value of a name replaces the earlier; a guardrail score from feedback stands where the trace has no guardrail column.
      const [first, second] = traffic.feedback
      await store.addFeedback({ id: 'later', traceId: first.traceId, name: 'quality', value: 0.125, source: 'judge', at: 2 })
      await store.addFeedback({ id: 'pass', traceId: second.traceId, name: 'guardrail_pass', value: 1, source: 'judge', at: 2 })
      await store.addFeedback({ id: 'overruled', traceId: second.traceId, name: 'guardrail_triggered', value: 1, source: 'judge', at: 2 })

      const rows = await readTraceRows(store, d.id, NOW - HOUR, NOW)
      const expected = traceColumnsFromRows(rows, EVERYTHING)
      const whole = await store.traceColumns({ deployment: d.id, from: NOW - HOUR, to: NOW, needs: EVERYTHING })
      assert.deepEqual(whole, expected)
      assert.deepEqual(await store.traceColumns({ deployment: d.id, from: NOW - HOUR, to: NOW, needs: EVERYTHING, pageSize: 7 }), expected)
      assert.equal(whole.length, traffic.traces.length)
      const i = whole.traceIds.indexOf(first.traceId)
      assert.equal(whole.scores.quality[i], 0.125)
      const j = whole.traceIds.indexOf(second.traceId)
      assert.equal(whole.scores.guardrail_pass[j], 1)
      assert.equal(whole.scores.guardrail_triggered[j], 0, "the trace's guardrail action 'none' wins over feedback of the name")
      assert.ok(whole.scores.absent.every((v) => Number.isNaN(v)))
      assert.deepEqual(whole.modelVersion?.values, ['qa@1'])

      const lean = await store.traceColumns({ deployment: d.id, from: NOW - HOUR, to: NOW, needs: { ...EVERYTHING, scores: [], features: [], attributes: false, conversationId: false } })
      assert.deepEqual(lean.scores, {})
      assert.equal(lean.attributes, undefined)
      assert.equal(lean.conversationId, undefined)
      assert.deepEqual(lean.latencyMs, expected.latencyMs)

      const empty = await store.traceColumns({ deployment: d.id, from: NOW, to: NOW + HOUR, needs: EVERYTHING })
      assert.equal(empty.length, 0)
      await rejectsWith(store.traceColumns({ deployment: 'f'.repeat(32), from: 0, to: NOW, needs: EVERYTHING }), 'ASSAY_DEPLOYMENT_NOT_FOUND')
      if (backend.name !== 'http') await rejectsWith(store.traceColumns({ deployment: d.id, from: 0, to: NOW, needs: EVERYTHING, pageSize: 0 }), 'ASSAY_INVALID_ARGUMENT')
    })

    test('the monitor decides the same on the columns the store reads as on its rows', async () => {
      const d = await store.createDeployment(newDeployment({ model: 'qa', modelVersion: 1 }))
      await storeTraffic(store, storedTraffic(5, d.id, 90, NOW - 2 * HOUR, NOW - HOUR))
      await storeTraffic(store, storedTraffic(6, d.id, 90, NOW - HOUR, NOW, { inputTokens: 1.5, share: 0.4 }))
      const monitor = parseMonitorSpec(MONITOR_TEXT, 'qa.monitor.yaml')
      const needs = monitorColumnNeeds(monitor.spec)
      const read = (from: number, to: number) => store.traceColumns({ deployment: d.id, from, to, needs, pageSize: 50 })
      const deployment = { modelVersion: 'qa@1', owner: 'alice' }
      const fromColumns = decideMonitor(monitor, { current: await read(NOW - HOUR, NOW), reference: await read(NOW - 2 * HOUR, NOW - HOUR), now: NOW, deployment })
      const fromRows = decideMonitor(monitor, {
        current: await readTraceRows(store, d.id, NOW - HOUR, NOW),
        reference: await readTraceRows(store, d.id, NOW - 2 * HOUR, NOW - HOUR),
        now: NOW,
        deployment,
      })
      assert.deepEqual(fromColumns, fromRows)
      assert.equal(fromColumns.decision, 'retrain', fromColumns.reason)
    })
  })
}
