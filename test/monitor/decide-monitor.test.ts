import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decideMonitor, DECISION_PRECEDENCE, type MonitorResult } from '../../src/monitor/decide-monitor.js'
import { loadMonitor } from '../../src/monitor/monitor-spec.js'
import type { MonitorWindow } from '../../src/monitor/trace-row.js'
import { clopperPearsonInterval, createRandom } from '../../src/stats/index.js'
import { HOUR, MONITOR_YAML, NOW, traffic, type TrafficShift } from './traffic.js'

const monitor = loadMonitor(MONITOR_YAML, 'support-bot.monitor.yaml')
const DEPLOYMENT = { endpoint: 'support-bot-prod', modelVersion: 'support-bot@3', owner: 'ml-platform', codeHash: 'abc123', inputVersion: 'tickets@sha256:01', inputVersionTime: NOW - 24 * HOUR }

function window(seed: number, shift: TrafficShift = {}, conversations = 150): MonitorWindow {
  const rng = createRandom(seed)
  return { reference: traffic(rng, conversations, {}, 'r'), current: traffic(rng, conversations, shift, 'c'), now: NOW, deployment: DEPLOYMENT }
}

function check(r: MonitorResult, name: string) {
  const c = r.checks.find((x) => x.name === name)
  assert.ok(c, `no check ${name}: ${r.checks.map((x) => x.name).join(', ')}`)
  return c
}

describe('decideMonitor on synthetic traffic with known ground truth', () => {
  it('a window like its reference is ok, with every check evidenced', () => {
    const r = decideMonitor(monitor, window(1))
    assert.equal(r.decision, 'ok', r.reason)
    assert.equal(r.multiplicity?.tests, 5)
    const q = check(r, 'score quality')
    assert.equal(q.status, 'pass')
    assert.equal(typeof q.evidence.pValue, 'number')
    assert.equal(typeof q.evidence.adjustedPValue, 'number')
    assert.ok((q.evidence.adjustedPValue as number) >= (q.evidence.pValue as number))
    assert.deepEqual(r.precedence, ['escalate', 'rollback', 'retrain', 'warn', 'ok'])
    assert.equal(r.sha256.length, 64)
  })

  it('no-drift windows trigger drift in at most α of 400 windows after Holm over five tests (Clopper-Pearson)', () => {
    let drifted = 0
    let untested = 0
    const windows = 400
    for (let k = 0; k < windows; k++) {
      const r = decideMonitor(monitor, window(10_000 + k))
      if (r.checks.some((c) => c.check === 'inconsistent' && c.status === 'fail')) drifted++
      if (r.checks.some((c) => c.check === 'inconsistent' && c.status === 'insufficient')) untested++
    }
    assert.equal(untested, 0)
    const ci = clopperPearsonInterval(drifted, windows).ci
    assert.ok(ci[0] <= 0.05, `drift claimed in ${drifted} of ${windows} no-drift windows, interval [${ci[0]}, ${ci[1]}] lies above 0.05`)
  })

  it('a drifted input feature triggers retrain, naming the feature and the test', () => {
    const r = decideMonitor(monitor, window(2, { promptLength: 0.5 }))
    assert.equal(r.decision, 'retrain', r.reason)
    assert.equal(check(r, 'feature prompt_length').status, 'fail')
    assert.match(r.reason, /feature prompt_length: ks statistic .* Holm-adjusted p = /)
    assert.equal(r.rollback, null)
  })

  it('a drop of the quality score decides rollback and names the rollback candidate', () => {
    const r = decideMonitor(monitor, window(3, { quality: -0.08 }))
    assert.equal(r.decision, 'rollback', r.reason)
    assert.deepEqual(r.rollback, { model: 'support-bot', version: 2, rationale: 'v2 ran six weeks in production without an incident and passed the March gate' })
  })

  it('a categorical shift is caught by the chi-square test', () => {
    const r = decideMonitor(monitor, window(4, { spanish: 0.45 }))
    assert.equal(check(r, 'feature region').status, 'fail')
  })

  it('an expensive slice trips latency, tokens and cost with the declared action', () => {
    const r = decideMonitor(monitor, window(5, { costFactor: 2 }))
    for (const name of ['p95 latency', 'tokens per 1,000 requests', 'cost per 1,000 requests']) {
      const c = check(r, name)
      assert.equal(c.status, 'fail', c.reason)
      assert.equal(c.action, 'route')
      const ci = c.evidence.ci as [number, number]
      assert.ok(ci[0] > (c.evidence.budget as number))
    }
    assert.ok(r.actions.includes('route'))
    // The budgets' decision is warn (the monitor's default for costly); nothing else moved.
    assert.equal(r.decision, 'warn', r.reason)
    assert.match(r.reason, /p95 latency .* is over the budget 1200 ms/)
  })
})

describe('decideMonitor: unauditable, stale, malformed and the precedence', () => {
  it('traffic without a prompt version is unauditable: escalate and stop promotion, counting the traces', () => {
    const w = window(6)
    const current = w.current.map((row, i) => (i % 10 === 0 ? { ...row, promptVersion: undefined } : row))
    const r = decideMonitor(monitor, { ...w, current })
    const c = check(r, 'lineage metadata')
    assert.equal(c.status, 'fail')
    assert.equal(c.action, 'stop-promotion')
    assert.deepEqual(c.evidence.missing, { promptVersion: Math.ceil(w.current.length / 10) })
    assert.equal(r.decision, 'escalate')
    assert.equal(r.escalation, 'oncall-ml@example.com')
  })

  it('a deployment without an owner is unauditable even when every trace is complete', () => {
    const w = window(7)
    const r = decideMonitor(monitor, { ...w, deployment: { ...DEPLOYMENT, owner: undefined } })
    assert.equal(check(r, 'lineage metadata').status, 'fail')
    assert.match(r.reason, /without owner/)
  })

  it('escalate outranks rollback: a quality drop with missing metadata escalates, and the reason names only the escalating check', () => {
    const w = window(3, { quality: -0.08 })
    const r = decideMonitor(monitor, { ...w, current: w.current.map((row) => ({ ...row, modelVersion: undefined })), deployment: { ...DEPLOYMENT, modelVersion: undefined } })
    assert.equal(check(r, 'score quality').decision, 'rollback')
    assert.equal(r.decision, 'escalate')
    assert.doesNotMatch(r.reason, /quality/)
    assert.equal(r.rollback, null)
    assert.deepEqual(DECISION_PRECEDENCE, ['escalate', 'rollback', 'retrain', 'warn', 'ok'])
  })

  it('no traffic for longer than the limit is stale (warn), and an old input version asks for a backfill', () => {
    const w = window(8)
    const r = decideMonitor(monitor, { ...w, now: NOW + 2 * HOUR, deployment: { ...DEPLOYMENT, inputVersionTime: NOW - 10 * 24 * HOUR } })
    const traffic = check(r, 'traffic freshness')
    assert.equal(traffic.status, 'fail')
    assert.match(traffic.reason, /newest trace is 2(\.\d+)?h old; limit 30m/)
    const input = check(r, 'input freshness')
    assert.equal(input.status, 'fail')
    assert.equal(input.action, 'backfill')
    assert.equal(r.decision, 'warn')
    assert.deepEqual(r.actions.slice(0, 2), ['warn', 'backfill'])
  })

  it('malformed traces are rejected, counted with their reasons, and kept out of the statistics', () => {
    const w = window(9)
    const bad = [
      { ...w.current[0], traceId: 'bad-1', attributes: [] },
      { ...w.current[1], traceId: 'bad-2', scores: { quality: 7, refusal: 0 } },
      { ...w.current[2], traceId: 'bad-3', latencyMs: -4 },
      { ...w.current[3], traceId: 'bad-4', time: Number.NaN },
    ]
    const r = decideMonitor(monitor, { ...w, current: [...w.current, ...bad] })
    const c = check(r, 'trace schema')
    assert.equal(c.evidence.rejected, 4)
    assert.deepEqual(
      (c.evidence.examples as { traceId: string }[]).map((e) => e.traceId),
      ['bad-1', 'bad-2', 'bad-3', 'bad-4'],
    )
    assert.equal(c.status, 'pass') // 4 of about 500: under the 2% limit
    assert.equal(r.window.rejected, 4)
    const many = decideMonitor(monitor, { ...w, current: w.current.map((row, i) => (i % 5 === 0 ? { ...row, attributes: [] } : row)) })
    assert.equal(check(many, 'trace schema').status, 'fail')
    assert.equal(check(many, 'trace schema').action, 'reject')
  })

  it('too few traces make the statistical checks insufficient (a warning), not a pass', () => {
    const w = window(11, {}, 10)
    const r = decideMonitor(monitor, w)
    assert.equal(check(r, 'score quality').status, 'insufficient')
    assert.equal(check(r, 'p95 latency').status, 'insufficient')
    assert.equal(r.decision, 'warn')
  })

  it('refuses a window that is not one', () => {
    assert.throws(() => decideMonitor(monitor, { current: [], reference: [], now: Number.NaN }), /window.now/)
    assert.throws(() => decideMonitor(monitor, { current: null as never, reference: [], now: NOW }), /arrays of trace rows/)
  })
})
