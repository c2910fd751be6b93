/**
 * decideMonitor decides on columns (record/trace-columns.ts); rows are turned into columns first.
 * These tests hold the conversion to the row rules (a missing value is not a broken one), the
 * columns a monitor file needs, and the one sort per column that KS and the latency interval share.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decideMonitor, monitorColumnNeeds } from '../../src/monitor/decide-monitor.js'
import { loadMonitor } from '../../src/monitor/monitor-spec.js'
import type { TraceRow } from '../../src/monitor/trace-row.js'
import { traceColumnsFromRows, type TraceColumns } from '../../src/record/trace-columns.js'
import { createRandom } from '../../src/stats/index.js'
import { HOUR, MONITOR_YAML, NOW, traffic } from './traffic.js'

const monitor = loadMonitor(MONITOR_YAML, 'support-bot.monitor.yaml')
const DEPLOYMENT = { modelVersion: 'support-bot@3', owner: 'ml-platform', inputVersionTime: NOW - HOUR }

describe('trace columns', () => {
  it('a monitor file names the columns its checks read, and only those', () => {
    assert.deepEqual(monitorColumnNeeds(monitor.spec), {
      scores: ['quality', 'refusal'],
      features: ['prompt_length', 'region'],
      attributes: true,
      conversationId: true,
      guardrailAction: true,
      modelVersion: true,
      promptVersion: true,
    })
    const lean = loadMonitor({ monitor: 'm', owner: 'o', escalation: 'e', rollback: { model: 'm', version: 1, rationale: 'r' }, unauditable: { require: ['owner'] }, inconsistent: { drift: [{ score: 'quality' }] } })
    assert.deepEqual(monitorColumnNeeds(lean.spec), { scores: ['quality'], features: [], attributes: false, conversationId: false, guardrailAction: false, modelVersion: false, promptVersion: false })
  })

  it('rows become columns with missing values NaN and broken ones +Infinity, texts interned', () => {
    const rows: TraceRow[] = [
      { traceId: 'a', time: 1, latencyMs: 5, scores: { quality: 0.5 }, features: { prompt_length: 3, region: 'en' }, conversationId: 'c1', attributes: ['x'] },
      { traceId: 'b', time: 2, latencyMs: Number.NaN, scores: { quality: 'high' as unknown as number }, features: { prompt_length: Number.NaN, region: 'de' }, conversationId: 'c1', attributes: ['x'] },
      { time: 3, features: { region: 'en' } },
    ]
    const c = traceColumnsFromRows(rows, monitorColumnNeeds(monitor.spec))
    assert.equal(c.length, 3)
    assert.deepEqual(c.traceIds, ['a', 'b', null])
    assert.deepEqual([...c.latencyMs], [5, Infinity, Number.NaN])
    assert.deepEqual([...c.scores.quality], [0.5, Infinity, Number.NaN])
    assert.deepEqual([...c.scores.refusal], [Number.NaN, Number.NaN, Number.NaN])
    assert.deepEqual([...(c.features.prompt_length.numbers ?? [])], [3, Infinity, Number.NaN])
    assert.equal(c.features.region.numbers, undefined, 'a feature of categories only keeps no numbers')
    assert.deepEqual(c.features.region.categories, { codes: Int32Array.of(0, 1, 0), values: ['en', 'de'] })
    assert.deepEqual(c.conversationId, { codes: Int32Array.of(0, 0, -1), values: ['c1'] })
    assert.deepEqual(c.attributes, { codes: Int32Array.of(0, 0, -1), values: [['x']] })
  })

  it('rows and their columns decide the same, evidence included, for clean and broken windows', () => {
    const rng = createRandom(5)
    const needs = monitorColumnNeeds(monitor.spec)
    const reference = traffic(rng, 150, {}, 'r')
    const current = traffic(rng, 150, { promptLength: 0.3 }, 'c')
    const broken: TraceRow[] = [
      { ...current[0], traceId: 'bad-1', latencyMs: Number.NaN },
      { ...current[1], traceId: 'bad-2', scores: { quality: Infinity, refusal: 0 } },
      { ...current[2], traceId: 'bad-3', attributes: undefined },
      { ...current[3], traceId: 'bad-4', scores: { refusal: 1 } },
      { ...current[4], traceId: 'bad-5', time: Number.NaN },
    ]
    for (const rows of [current, [...current, ...broken]]) {
      const fromRows = decideMonitor(monitor, { current: rows, reference, now: NOW, deployment: DEPLOYMENT })
      const fromColumns = decideMonitor(monitor, { current: traceColumnsFromRows(rows, needs), reference: traceColumnsFromRows(reference, needs), now: NOW, deployment: DEPLOYMENT })
      assert.deepEqual(fromColumns, fromRows)
    }
    const r = decideMonitor(monitor, { current: [...current, ...broken], reference, now: NOW, deployment: DEPLOYMENT })
    const schema = r.checks.find((c) => c.name === 'trace schema')
    assert.deepEqual(schema?.evidence.reasons, {
      'latencyMs is not a finite non-negative number': 1,
      'score quality is not a finite number': 1,
      'missing attribute gen_ai.request.model': 1,
      'time missing or not a number': 1,
    })
    assert.equal(r.decision, 'retrain', r.reason)
  })

  it('KS on the latency feature and the p95 latency interval share one sort of the window latencies', () => {
    const latencyMonitor = loadMonitor(
      {
        monitor: 'latency',
        owner: 'o',
        escalation: 'e',
        rollback: { model: 'm', version: 1, rationale: 'r' },
        unauditable: { require: ['owner'] },
        inconsistent: { drift: [{ feature: 'latencyMs' }] },
        costly: { action: 'cache', latency: { maxMs: 1000 } },
      },
      'latency.monitor.json',
    )
    const needs = monitorColumnNeeds(latencyMonitor.spec)
    const rng = createRandom(9)
    const side = (prefix: string): { copied: TraceColumns; shared: TraceColumns } => {
      const rows = traffic(rng, 400, {}, prefix).map((row) => ({ ...row, features: { latencyMs: row.latencyMs as number } }))
      const copied = traceColumnsFromRows(rows, needs)
      // As the store reads a window: the latency feature is the latency column itself.
      return { copied, shared: { ...copied, features: { latencyMs: { numbers: copied.latencyMs } } } }
    }
    const current = side('c')
    const reference = side('r')
    const sorts = (window: { current: TraceColumns; reference: TraceColumns }): { result: ReturnType<typeof decideMonitor>; sorts: number } => {
      const sort = Float64Array.prototype.sort
      let count = 0
      Float64Array.prototype.sort = function (this: Float64Array, ...args: Parameters<typeof sort>) {
        if (this.length > 100) count++
        return sort.apply(this, args)
      } as typeof sort
      try {
        return { result: decideMonitor(latencyMonitor, { ...window, now: NOW, deployment: DEPLOYMENT }), sorts: count }
      } finally {
        Float64Array.prototype.sort = sort
      }
    }
    const copied = sorts({ current: current.copied, reference: reference.copied })
    const shared = sorts({ current: current.shared, reference: reference.shared })
    assert.deepEqual(shared.result, copied.result)
    assert.equal(copied.sorts, 3, 'a copy of the latencies: the KS pair and the interval each sort')
    assert.equal(shared.sorts, 2, 'one column: the interval reuses the KS sort of the current window')
  })
})
