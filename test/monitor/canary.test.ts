import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compareCanary } from '../../src/monitor/canary.js'
import type { TraceRow } from '../../src/monitor/trace-row.js'
import { createRandom } from '../../src/stats/index.js'
import { traffic } from './traffic.js'

const METRICS = [{ metric: 'quality' }, { metric: 'latencyMs' }, { metric: 'costUsd' }]

/** The same inputs replayed to both deployments: the challenger's quality is the champion's plus delta plus noise. */
function replay(seed: number, delta: number): { champion: TraceRow[]; challenger: TraceRow[] } {
  const rng = createRandom(seed)
  const champion = traffic(rng, 120).map((r) => ({ ...r, inputId: r.traceId }))
  const challenger = champion.map((r) => ({
    ...r,
    traceId: `x-${r.traceId}`,
    scores: { ...r.scores, quality: (r.scores?.quality as number) + delta + 0.05 * (rng.nextFloat() - 0.5) },
    latencyMs: (r.latencyMs as number) * (1 + 0.02 * (rng.nextFloat() - 0.5)),
  }))
  return { champion, challenger }
}

describe('compareCanary through the comparison engine', () => {
  it('replayed inputs are paired, and a better challenger on quality with cost unchanged is not rolled back', () => {
    const { champion, challenger } = replay(1, 0.03)
    const r = compareCanary(champion, challenger, { metrics: [{ metric: 'quality' }, { metric: 'costUsd', margin: 0.0005 }] })
    assert.equal(r.paired, true)
    const q = r.metrics[0]
    assert.equal(q.verdict, 'better', q.reason)
    assert.match(q.method, /paired|cluster/i)
    // Replayed inputs cost exactly the same: identical sides, which do not hold the promotion back.
    assert.equal(r.metrics[1].identical, true, r.metrics[1].reason)
    assert.equal(r.decision, 'promote', r.reason)
  })

  it('a cost difference inside the margin is equivalent', () => {
    const { champion, challenger } = replay(6, 0.03)
    const rng = createRandom(7)
    const cheaper = challenger.map((r) => ({ ...r, costUsd: (r.costUsd as number) * (1 + 0.01 * (rng.nextFloat() - 0.5)) }))
    const r = compareCanary(champion, cheaper, { metrics: [{ metric: 'quality' }, { metric: 'costUsd', margin: 0.0005 }] })
    assert.equal(r.metrics[1].verdict, 'equivalent', r.metrics[1].reason)
    assert.equal(r.decision, 'promote')
  })

  it('a worse challenger is rolled back, with the metric named', () => {
    const { champion, challenger } = replay(2, -0.03)
    const r = compareCanary(champion, challenger, { metrics: METRICS })
    assert.equal(r.metrics[0].verdict, 'worse')
    assert.equal(r.decision, 'rollback')
    assert.match(r.reason, /worse on quality/)
  })

  it('split traffic (different inputs) is compared unpaired; higher latency is worse by default', () => {
    const rng = createRandom(3)
    const champion = traffic(rng, 200)
    const challenger = traffic(rng, 200, { costFactor: 1.5 }, 'x')
    const r = compareCanary(champion, challenger, { metrics: METRICS })
    assert.equal(r.paired, false)
    const latency = r.metrics.find((m) => m.metric === 'latencyMs')
    assert.equal(latency?.higherIsBetter, false)
    assert.equal(latency?.verdict, 'worse')
    assert.match(latency?.method ?? '', /Welch/)
    assert.equal(r.decision, 'rollback')
  })

  it('equal deployments on split traffic are not settled', () => {
    const rng = createRandom(4)
    const r = compareCanary(traffic(rng, 100), traffic(rng, 100, {}, 'x'), { metrics: [{ metric: 'quality' }] })
    assert.equal(r.decision, 'continue', r.reason)
  })

  it('refuses a canary with no metric, and pairing without input ids', () => {
    assert.throws(() => compareCanary([], [], { metrics: [] }), /at least one metric/)
    const rng = createRandom(5)
    assert.throws(() => compareCanary(traffic(rng, 5), traffic(rng, 5), { metrics: METRICS, pairing: 'paired' }), /inputId/)
  })
})
