/**
 * decideMonitor on synthetic traffic whose ground truth is known by construction: threshold drift
 * (PSI, Jensen–Shannon), feedback staleness with each declared action and the decision precedence,
 * and the power (and the size, over many seeds) of the refusal-rate and guardrail-rate drift tests.
 * Expected statistics are recomputed here from their definitions (docs/production.md, "Checks";
 * src/stats/drift.ts documents the bins), never copied from a run of the implementation.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decideMonitor, type MonitorCheckResult, type MonitorResult } from '../../src/monitor/decide-monitor.js'
import { loadMonitor, type LoadedMonitor } from '../../src/monitor/monitor-spec.js'
import type { DecisionWindow, TraceRow } from '../../src/monitor/trace-row.js'
import { createRandom, type RandomGenerator } from '../../src/stats/index.js'
import { normals } from '../calibration/simulation.js'

const HOUR = 3_600_000
const NOW = Date.UTC(2026, 11, 1, 12)
/** Lineage on the deployment, so the unauditable check passes and never decides. */
const DEPLOYMENT = { endpoint: 'bot-prod', modelVersion: 'bot@3', promptVersion: 'p@1', owner: 'ml-platform' }
const ESCALATION = 'oncall@example.com'

function monitorOf(fields: Record<string, unknown>): LoadedMonitor {
  return loadMonitor(
    {
      monitor: 'bot-prod',
      owner: 'ml-platform',
      escalation: ESCALATION,
      rollback: { model: 'bot', version: 2, rationale: 'v2 is the last version that passed the gate' },
      ...fields,
    },
    'ground-truth.monitor.json',
  )
}

function check(r: MonitorResult, name: string): MonitorCheckResult {
  const c = r.checks.find((x) => x.name === name)
  assert.ok(c, `no check ${name}: ${r.checks.map((x) => x.name).join(', ')}`)
  return c
}

// ---------------------------------------------------------------- PSI and Jensen–Shannon

/** Bin of x over increasing cuts: (-∞, c1) is 0, [c1, c2) is 1, ..., [ck, ∞) is k. */
function binOf(x: number, cuts: readonly number[]): number {
  let b = 0
  while (b < cuts.length && x >= cuts[b]) b++
  return b
}

/** Proportions per key of a map of counts, over the union of keys. */
function proportionsOver(keys: readonly string[], counts: Map<string, number>): number[] {
  const total = [...counts.values()].reduce((s, v) => s + v, 0)
  return keys.map((k) => (counts.get(k) ?? 0) / total)
}

function countBy<T>(values: readonly T[], key: (v: T) => string): Map<string, number> {
  const m = new Map<string, number>()
  for (const v of values) m.set(key(v), (m.get(key(v)) ?? 0) + 1)
  return m
}

/** PSI = Σ (q_i − p_i) ln(q_i / p_i), p the reference and q the current proportions, each floored at 1e-4 (the documented default epsilon). */
function psiOf(reference: Map<string, number>, current: Map<string, number>): number {
  const keys = [...new Set([...reference.keys(), ...current.keys()])]
  const p = proportionsOver(keys, reference)
  const q = proportionsOver(keys, current)
  let s = 0
  for (let i = 0; i < keys.length; i++) {
    const pi = Math.max(p[i], 1e-4)
    const qi = Math.max(q[i], 1e-4)
    s += (qi - pi) * Math.log(qi / pi)
  }
  return s
}

/** Base-2 Jensen–Shannon divergence: ½ KL(p‖m) + ½ KL(q‖m), m = (p + q)/2, in bits. */
function jsOf(reference: Map<string, number>, current: Map<string, number>): number {
  const keys = [...new Set([...reference.keys(), ...current.keys()])]
  const p = proportionsOver(keys, reference)
  const q = proportionsOver(keys, current)
  let s = 0
  for (let i = 0; i < keys.length; i++) {
    const m = (p[i] + q[i]) / 2
    if (p[i] > 0) s += 0.5 * p[i] * Math.log2(p[i] / m)
    if (q[i] > 0) s += 0.5 * q[i] * Math.log2(q[i] / m)
  }
  return s
}

const CUTS = [220, 300, 380]
const REGIONS_REFERENCE: [string, number][] = [['en', 0.5], ['de', 0.3], ['es', 0.2]]
const REGIONS_SHIFTED: [string, number][] = [['en', 0.2], ['de', 0.3], ['es', 0.5]]

function pick(rng: RandomGenerator, shares: readonly [string, number][]): string {
  let u = rng.nextFloat()
  for (const [value, share] of shares) {
    if (u < share) return value
    u -= share
  }
  return shares[shares.length - 1][0]
}

/** n independent traces: prompt_length ~ N(300 + 80·shift, 80²), region drawn from `regions`. */
function featureTraffic(rng: RandomGenerator, n: number, shift: number, regions: readonly [string, number][], prefix: string): TraceRow[] {
  const z = normals(rng)
  return Array.from({ length: n }, (_, i) => ({
    traceId: `${prefix}${i}`,
    time: NOW - rng.nextFloat() * HOUR,
    features: { prompt_length: 300 + 80 * (shift + z.next()), region: pick(rng, regions) },
  }))
}

const thresholdMonitor = monitorOf({
  inconsistent: {
    drift: [
      { feature: 'prompt_length', name: 'length PSI', test: 'psi', cuts: CUTS, max: 0.2, decision: 'rollback' },
      { feature: 'prompt_length', name: 'length JS', test: 'jensen-shannon', cuts: CUTS, max: 0.05 },
      { feature: 'region', name: 'region PSI', test: 'psi', max: 0.2 },
      { feature: 'region', name: 'region JS', test: 'jensen-shannon', max: 0.05, decision: 'warn' },
    ],
  },
})

/**
 * Ground truth. The cuts are the reference's mean and ±1 SD, so the reference bins hold Φ(−1), ½ − Φ(−1),
 * ½ − Φ(−1), Φ(−1) ≈ (0.159, 0.341, 0.341, 0.159); a 1 SD shift gives (0.023, 0.136, 0.341, 0.5): PSI ≈ 0.85,
 * JS ≈ 0.11 bits. The region shift (0.5, 0.3, 0.2) → (0.2, 0.3, 0.5) has PSI = 2·0.3·ln 2.5 ≈ 0.55 and JS ≈ 0.096
 * bits. Between two samples of 5,000 from one distribution, PSI ≈ χ²/2500 with χ² about χ²(k−1), so PSI > 0.2
 * needs χ² > 500 (and JS > 0.05 about as much): never, for any seed. The shifted statistics have a sampling SD
 * of a few hundredths, so they sit many SDs above the thresholds.
 */
describe('drift by PSI and Jensen–Shannon against a declared max', () => {
  const N = 5000

  function evaluate(seed: number, lengthShift: number, regions: readonly [string, number][]) {
    const rng = createRandom(seed)
    const reference = featureTraffic(rng, N, 0, REGIONS_REFERENCE, 'r')
    const current = featureTraffic(rng, N, lengthShift, regions, 'c')
    const r = decideMonitor(thresholdMonitor, { reference, current, now: NOW, deployment: DEPLOYMENT })
    const lengths = (rows: TraceRow[]) => countBy(rows, (row) => String(binOf(row.features?.prompt_length as number, CUTS)))
    const regionsOf = (rows: TraceRow[]) => countBy(rows, (row) => row.features?.region as string)
    const expected = {
      'length PSI': psiOf(lengths(reference), lengths(current)),
      'length JS': jsOf(lengths(reference), lengths(current)),
      'region PSI': psiOf(regionsOf(reference), regionsOf(current)),
      'region JS': jsOf(regionsOf(reference), regionsOf(current)),
    }
    const binCounts = (rows: TraceRow[]) => {
      const m = lengths(rows)
      return [0, 1, 2, 3].map((b) => m.get(String(b)) ?? 0)
    }
    return { r, expected, referenceBins: binCounts(reference), currentBins: binCounts(current) }
  }

  function assertStatistic(c: MonitorCheckResult, expected: number, max: number): void {
    assert.equal(c.evidence.threshold, max)
    const statistic = c.evidence.statistic as number
    assert.ok(Math.abs(statistic - expected) <= 1e-9 * Math.max(1, expected), `${c.name}: reported ${statistic}, by definition ${expected}`)
  }

  it('a window drawn from the reference distribution triggers none, each statistic at or under its max', () => {
    for (const seed of [101, 102, 103]) {
      const { r, expected, referenceBins, currentBins } = evaluate(seed, 0, REGIONS_REFERENCE)
      assert.equal(r.decision, 'ok', r.reason)
      for (const [name, max] of [['length PSI', 0.2], ['length JS', 0.05], ['region PSI', 0.2], ['region JS', 0.05]] as const) {
        const c = check(r, name)
        assert.equal(c.status, 'pass', c.reason)
        assert.equal(c.decision, 'ok')
        assertStatistic(c, expected[name], max)
        assert.ok((c.evidence.statistic as number) <= max)
      }
      // The bins are (-∞, 220), [220, 300), [300, 380), [380, ∞), counted here independently.
      const psi = check(r, 'length PSI').evidence.result as { referenceCounts: number[]; currentCounts: number[] }
      assert.deepEqual(psi.referenceCounts, referenceBins)
      assert.deepEqual(psi.currentCounts, currentBins)
      // PSI and JS have no p-value: outside the multiplicity family.
      assert.equal(r.multiplicity?.tests, 0)
      assert.deepEqual(r.actions, [])
    }
  })

  it('a 1 SD shift of a binned number trips PSI (its declared rollback) and JS (the section default retrain); the categories stay quiet', () => {
    const { r, expected, referenceBins, currentBins } = evaluate(104, 1, REGIONS_REFERENCE)
    const psi = check(r, 'length PSI')
    assert.equal(psi.status, 'fail', psi.reason)
    assert.equal(psi.decision, 'rollback')
    assert.equal(psi.action, 'investigate')
    assertStatistic(psi, expected['length PSI'], 0.2)
    assert.ok((psi.evidence.statistic as number) > 0.2)
    const result = psi.evidence.result as { referenceCounts: number[]; currentCounts: number[] }
    assert.deepEqual(result.referenceCounts, referenceBins)
    assert.deepEqual(result.currentCounts, currentBins)
    const js = check(r, 'length JS')
    assert.equal(js.status, 'fail', js.reason)
    assert.equal(js.decision, 'retrain')
    assertStatistic(js, expected['length JS'], 0.05)
    assert.ok((js.evidence.statistic as number) > 0.05)
    for (const name of ['region PSI', 'region JS']) assert.equal(check(r, name).status, 'pass')
    // rollback outranks retrain; the reason names the rollback check only, and the candidate is given.
    assert.equal(r.decision, 'rollback', r.reason)
    assert.match(r.reason, /^length PSI: psi /)
    assert.doesNotMatch(r.reason, /length JS/)
    assert.equal(r.rollback?.model, 'bot')
    assert.equal(r.rollback?.version, 2)
    assert.deepEqual(r.actions, ['investigate'])
  })

  it('a shift of category shares trips PSI and JS over categories, each with its declared decision', () => {
    const { r, expected } = evaluate(105, 0, REGIONS_SHIFTED)
    const psi = check(r, 'region PSI')
    assert.equal(psi.status, 'fail', psi.reason)
    assert.equal(psi.decision, 'retrain')
    assertStatistic(psi, expected['region PSI'], 0.2)
    assert.ok((psi.evidence.statistic as number) > 0.2)
    const js = check(r, 'region JS')
    assert.equal(js.status, 'fail', js.reason)
    assert.equal(js.decision, 'warn')
    assertStatistic(js, expected['region JS'], 0.05)
    assert.ok((js.evidence.statistic as number) > 0.05)
    for (const name of ['length PSI', 'length JS']) assert.equal(check(r, name).status, 'pass')
    assert.equal(r.decision, 'retrain', r.reason)
    assert.equal(r.rollback, null)
  })

  it('a value on a cut point falls in the bin above it ([c_i, c_i+1)), as documented', () => {
    const monitor = monitorOf({ inconsistent: { drift: [{ feature: 'x', name: 'x PSI', test: 'psi', cuts: [100, 200, 400], max: 0.2 }] } })
    const rows = (x: number, prefix: string): TraceRow[] => Array.from({ length: 100 }, (_, i) => ({ traceId: `${prefix}${i}`, time: NOW - 1000, features: { x } }))
    const on = (current: number) => decideMonitor(monitor, { reference: rows(200, 'r'), current: rows(current, 'c'), now: NOW, deployment: DEPLOYMENT })
    // 200 in [200, 400) for both: identical distributions.
    const same = check(on(200), 'x PSI')
    assert.equal(same.status, 'pass')
    assert.equal(same.evidence.statistic, 0)
    // 199.5 in [100, 200) against 200 in [200, 400): disjoint bins, PSI with the 1e-4 floor.
    const apart = check(on(199.5), 'x PSI')
    assert.equal(apart.status, 'fail')
    const expected = psiOf(new Map([['[200,400)', 100]]), new Map([['[100,200)', 100]]))
    assert.ok(Math.abs((apart.evidence.statistic as number) - expected) < 1e-9, `${apart.evidence.statistic} vs ${expected}`)
    // 399.5 is still in [200, 400): no drift.
    assert.equal(check(on(399.5), 'x PSI').status, 'pass')
  })
})

// ---------------------------------------------------------------- feedback freshness

/**
 * Traces spread uniformly over the 48 h before NOW; each carries the feedback score thumbs_up
 * (0 or 1) with probability 0.3. `feedbackBefore`: feedback only on traces older than that time.
 */
function feedbackTraffic(seed: number, n: number, feedbackBefore = Infinity): TraceRow[] {
  const rng = createRandom(seed)
  return Array.from({ length: n }, (_, i): TraceRow => {
    const time = NOW - rng.nextFloat() * 48 * HOUR
    const hasFeedback = rng.nextFloat() < 0.3 && time < feedbackBefore
    const value = rng.nextFloat() < 0.5 ? 1 : 0
    return { traceId: `t${i}`, time, latencyMs: 100, scores: hasFeedback ? { thumbs_up: value } : {} }
  })
}

function newestFeedback(rows: readonly TraceRow[]): number {
  let newest = -Infinity
  for (const r of rows) if (r.scores?.thumbs_up !== undefined && r.time > newest) newest = r.time
  return newest
}

function feedbackMonitor(stale: Record<string, unknown>, extra: Record<string, unknown> = {}): LoadedMonitor {
  return monitorOf({ stale: [{ signal: 'feedback', score: 'thumbs_up', maxAge: '24h', name: 'feedback freshness', ...stale }], ...extra })
}

function freshnessWindow(current: TraceRow[], reference: TraceRow[] = [], now = NOW): DecisionWindow {
  return { current, reference, now, deployment: DEPLOYMENT }
}

describe('stale: feedback missing beyond maxAge', () => {
  const DAY = 24 * HOUR

  it('feedback present in the last day is fresh; its age is measured from the newest trace carrying it', () => {
    const rows = feedbackTraffic(201, 2000)
    const r = decideMonitor(feedbackMonitor({ action: 'block' }), freshnessWindow(rows))
    const c = check(r, 'feedback freshness')
    assert.equal(c.status, 'pass', c.reason)
    assert.equal(c.decision, 'ok')
    const newest = newestFeedback(rows)
    assert.ok(NOW - newest < DAY)
    assert.equal(c.evidence.newest, newest)
    assert.equal(c.evidence.ageMs, NOW - newest)
    assert.equal(r.decision, 'ok', r.reason)
    assert.deepEqual(r.actions, [])
  })

  it('a feedback value of 0 is feedback (present), not missing', () => {
    const rows: TraceRow[] = [
      { traceId: 'old', time: NOW - 40 * HOUR, scores: { thumbs_up: 1 } },
      { traceId: 'new', time: NOW - HOUR, scores: { thumbs_up: 0 } },
    ]
    const c = check(decideMonitor(feedbackMonitor({ action: 'warn' }), freshnessWindow(rows)), 'feedback freshness')
    assert.equal(c.status, 'pass', c.reason)
    assert.equal(c.evidence.newest, NOW - HOUR)
  })

  it('feedback missing for 30 h (traffic still flowing) fails each action with its default decision: block escalates, backfill and warn warn', () => {
    const rows = feedbackTraffic(202, 2000, NOW - 30 * HOUR)
    const newest = newestFeedback(rows)
    assert.ok(NOW - newest > DAY && Number.isFinite(newest))
    for (const [action, decision] of [['block', 'escalate'], ['backfill', 'warn'], ['warn', 'warn']] as const) {
      const r = decideMonitor(feedbackMonitor({ action }), freshnessWindow(rows))
      const c = check(r, 'feedback freshness')
      assert.equal(c.status, 'fail', `${action}: ${c.reason}`)
      assert.equal(c.action, action)
      assert.equal(c.decision, decision)
      assert.equal(c.evidence.ageMs, NOW - newest)
      assert.equal(c.evidence.maxAgeMs, DAY)
      assert.match(c.reason, /newest trace with feedback thumbs_up is 1\.\d+d old; limit 1d/)
      assert.equal(r.decision, decision, r.reason)
      assert.deepEqual(r.actions, [action])
      assert.equal(r.escalation, decision === 'escalate' ? ESCALATION : null)
    }
  })

  it('a window with no feedback at all is stale, its age unknown', () => {
    const rows = feedbackTraffic(203, 500, -Infinity)
    const r = decideMonitor(feedbackMonitor({ action: 'backfill' }), freshnessWindow(rows))
    const c = check(r, 'feedback freshness')
    assert.equal(c.status, 'fail')
    assert.equal(c.evidence.newest, null)
    assert.match(c.reason, /is unknown/)
    assert.equal(r.decision, 'warn')
    assert.deepEqual(r.actions, ['backfill'])
  })

  it('the limit is inclusive: an age of exactly maxAge passes, one millisecond more fails', () => {
    const rows: TraceRow[] = [{ traceId: 'a', time: NOW - 24 * HOUR, scores: { thumbs_up: 1 } }]
    const monitor = feedbackMonitor({ action: 'warn' })
    assert.equal(check(decideMonitor(monitor, freshnessWindow(rows)), 'feedback freshness').status, 'pass')
    assert.equal(check(decideMonitor(monitor, freshnessWindow(rows, [], NOW + 1)), 'feedback freshness').status, 'fail')
  })

  it('feedback on a rejected (malformed) trace does not count', () => {
    const rows = feedbackTraffic(204, 2000, NOW - 30 * HOUR)
    // One recent trace with feedback out of the declared range: rejected, so the feedback is still 30 h old.
    const bad: TraceRow = { traceId: 'bad', time: NOW - HOUR, latencyMs: 100, scores: { thumbs_up: 5 } }
    const monitor = feedbackMonitor({ action: 'warn' }, { malformed: { scores: { thumbs_up: { min: 0, max: 1 } } } })
    const r = decideMonitor(monitor, freshnessWindow([...rows, bad]))
    assert.equal(check(r, 'trace schema').evidence.rejected, 1)
    const c = check(r, 'feedback freshness')
    assert.equal(c.status, 'fail', c.reason)
    assert.equal(c.evidence.newest, newestFeedback(rows))
  })

  it('a declared decision overrides the default, and the monitor decision follows escalate > rollback > retrain > warn', () => {
    const stale = feedbackTraffic(205, 2000, NOW - 30 * HOUR)
    const fresh = feedbackTraffic(206, 2000)
    // A drift item that fails for certain: every current value lies in a bin the reference never uses.
    const drift = { inconsistent: { drift: [{ feature: 'x', name: 'x PSI', test: 'psi', cuts: [0], max: 0.2, decision: 'rollback' }] } }
    const withX = (rows: TraceRow[], x: number) => rows.map((row) => ({ ...row, features: { x } }))
    const reference = withX(fresh, -1)
    const cases: [Record<string, unknown>, TraceRow[], string, string][] = [
      // stale block (escalate) with rollback drift: escalate, and the reason names the feedback only.
      [{ action: 'block' }, withX(stale, 1), 'escalate', 'feedback freshness'],
      // stale backfill (warn) with rollback drift: rollback.
      [{ action: 'backfill' }, withX(stale, 1), 'rollback', 'x PSI'],
      // stale warn with decision rollback, no drift: rollback from the stale check.
      [{ action: 'warn', decision: 'rollback' }, withX(stale, -1), 'rollback', 'feedback freshness'],
      // stale backfill with decision retrain, no drift: retrain.
      [{ action: 'backfill', decision: 'retrain' }, withX(stale, -1), 'retrain', 'feedback freshness'],
      // fresh feedback, block declared, rollback drift: rollback (block only acts when stale).
      [{ action: 'block' }, withX(fresh, 1), 'rollback', 'x PSI'],
    ]
    for (const [staleItem, current, decision, decider] of cases) {
      const r = decideMonitor(feedbackMonitor(staleItem, drift), freshnessWindow(current, reference))
      assert.equal(r.decision, decision, `${JSON.stringify(staleItem)}: ${r.reason}`)
      assert.ok(r.reason.startsWith(`${decider}:`), r.reason)
      const other = decider === 'x PSI' ? 'feedback freshness' : 'x PSI'
      assert.ok(!r.reason.includes(`${other}:`), r.reason)
      assert.equal(r.escalation, decision === 'escalate' ? ESCALATION : null)
      assert.equal(r.rollback !== null, decision === 'rollback')
      if (staleItem.decision !== undefined) assert.equal(check(r, 'feedback freshness').decision, staleItem.decision)
    }
  })
})

// ---------------------------------------------------------------- refusal and guardrail rates

/**
 * Traffic of conversations of 1–4 traces. Each trace refuses (scores.refusal = 1) with probability
 * `refusal` and its guardrail acts (action 'block' or 'redact'; otherwise one of NOT_ACTED) with
 * probability `guardrail`, independently: the truth is exactly these two rates.
 */
/** Guardrail actions that let the output through (docs/production.md: absent, none, allow, pass in any case). */
const NOT_ACTED = [undefined, 'none', 'allow', 'Allowed', 'PASS', 'passed'] as const

function rateTraffic(rng: RandomGenerator, traces: number, refusal: number, guardrail: number, prefix: string): TraceRow[] {
  const rows: TraceRow[] = []
  let c = 0
  while (rows.length < traces) {
    const turns = Math.min(1 + rng.nextInt(4), traces - rows.length)
    for (let t = 0; t < turns; t++) {
      const acted = rng.nextFloat() < guardrail
      const action = acted ? (rng.nextFloat() < 0.5 ? 'block' : 'redact') : NOT_ACTED[rng.nextInt(NOT_ACTED.length)]
      rows.push({
        traceId: `${prefix}${c}-${t}`,
        time: NOW - rng.nextFloat() * HOUR,
        scores: { refusal: rng.nextFloat() < refusal ? 1 : 0 },
        ...(action === undefined ? {} : { guardrailAction: action }),
        conversationId: `${prefix}${c}`,
      })
    }
    c++
  }
  return rows
}

const rateMonitor = monitorOf({
  inconsistent: {
    multiplicity: 'holm',
    drift: [
      { rate: 'refusal', name: 'refusal rate' }, // default: clustered-two-proportion
      { rate: 'guardrail', name: 'guardrail rate', test: 'two-proportion', decision: 'rollback' },
    ],
  },
})

const refusedShare = (rows: readonly TraceRow[]) => rows.filter((r) => r.scores?.refusal === 1).length / rows.length
const actedShare = (rows: readonly TraceRow[]) => rows.filter((r) => !(NOT_ACTED as readonly (string | undefined)[]).includes(r.guardrailAction)).length / rows.length

describe('refusal-rate and guardrail-rate drift: power on a known shift, size on none', () => {
  const N = 2000

  function rateWindow(seed: number, refusal: [number, number], guardrail: [number, number]) {
    const rng = createRandom(seed)
    const reference = rateTraffic(rng, N, refusal[0], guardrail[0], 'r')
    const current = rateTraffic(rng, N, refusal[1], guardrail[1], 'c')
    return { reference, current, r: decideMonitor(rateMonitor, { reference, current, now: NOW, deployment: DEPLOYMENT }) }
  }

  /**
   * Power. 5 % against 20 % with 2,000 traces a side: the difference 0.15 over its standard error
   * √(0.125·0.875·2/2000) ≈ 0.0105 is z ≈ 14, and Holm over two tests rejects at |z| > 2.24; a miss
   * needs the estimate 11 SE off. Independent traces make the cluster-robust SE about the same. So
   * every one of 20 seeds must trigger.
   */
  it('refusal 5 % → 20 % and guardrail 3 % → 15 % trigger in every window, with the estimate counted by definition', () => {
    for (let seed = 301; seed <= 320; seed++) {
      const { reference, current, r } = rateWindow(seed, [0.05, 0.2], [0.03, 0.15])
      const refusal = check(r, 'refusal rate')
      assert.equal(refusal.status, 'fail', refusal.reason)
      assert.equal(refusal.decision, 'retrain')
      assert.equal(refusal.evidence.test, 'clustered-two-proportion')
      assert.ok(Math.abs((refusal.evidence.statistic as number) - (refusedShare(current) - refusedShare(reference))) < 1e-12)
      assert.ok((refusal.evidence.adjustedPValue as number) < 0.05)
      const guard = check(r, 'guardrail rate')
      assert.equal(guard.status, 'fail', guard.reason)
      assert.equal(guard.decision, 'rollback')
      assert.equal(guard.evidence.test, 'two-proportion')
      // The guardrail acted when its action is none of NOT_ACTED.
      assert.ok(Math.abs((guard.evidence.statistic as number) - (actedShare(current) - actedShare(reference))) < 1e-12)
      assert.equal(r.decision, 'rollback', r.reason)
      assert.deepEqual(r.actions, ['investigate'])
    }
  })

  it('allow and pass, in any case, are not a trigger: all-none against all-allow/pass is no drift', () => {
    const rows = (prefix: string, actions: readonly string[]): TraceRow[] =>
      Array.from({ length: 400 }, (_, i) => ({ traceId: `${prefix}${i}`, time: NOW - (i + 1) * 1000, scores: { refusal: 0 }, guardrailAction: actions[i % actions.length], conversationId: `${prefix}${i}` }))
    // One trace in ten blocked on both sides (so the test has a variance); the rest 'none' against allow/pass.
    const reference = rows('r', ['none', 'none', 'none', 'none', 'none', 'none', 'none', 'none', 'none', 'block'])
    const current = rows('c', ['allow', 'PASS', 'Allowed', 'passed', 'allow', 'PASS', 'Allowed', 'passed', 'none', 'block'])
    const guard = check(decideMonitor(rateMonitor, { reference, current, now: NOW, deployment: DEPLOYMENT }), 'guardrail rate')
    assert.equal(guard.status, 'pass', guard.reason)
    assert.equal(guard.evidence.statistic, 0)
  })

  it('a shift in one rate triggers that rate only', () => {
    const { r } = rateWindow(330, [0.05, 0.05], [0.03, 0.15])
    assert.equal(check(r, 'guardrail rate').status, 'fail')
    assert.equal(check(r, 'refusal rate').status, 'pass')
    const { r: r2 } = rateWindow(331, [0.05, 0.2], [0.03, 0.03])
    assert.equal(check(r2, 'refusal rate').status, 'fail')
    assert.equal(check(r2, 'guardrail rate').status, 'pass')
    assert.equal(r2.decision, 'retrain')
  })

  /**
   * Size. With the same rates in both windows each test rejects with probability about α = 0.05 (Holm
   * only lowers it; the cluster-robust test was calibrated at 5.5 %). Allow a true rate up to 0.10:
   * the count of false triggers over 60 windows is then at most Binomial(60, 0.10), and
   * P(Binomial(60, 0.10) ≥ 20) = 7.8e-7 < 1e-6 (summed from the binomial pmf). So at most 19 false
   * triggers per test: a failure means the test rejects far more often than its α.
   */
  it('equal rates (refusal 5 %, guardrail 3 %) trigger at most 19 of 60 windows per test', () => {
    const windows = 60
    let refusalFalse = 0
    let guardrailFalse = 0
    for (let seed = 0; seed < windows; seed++) {
      const { r } = rateWindow(40_000 + seed, [0.05, 0.05], [0.03, 0.03])
      const refusal = check(r, 'refusal rate')
      const guard = check(r, 'guardrail rate')
      assert.notEqual(refusal.status, 'insufficient', refusal.reason)
      assert.notEqual(guard.status, 'insufficient', guard.reason)
      if (refusal.status === 'fail') refusalFalse++
      if (guard.status === 'fail') guardrailFalse++
    }
    assert.ok(refusalFalse <= 19, `refusal rate drift claimed in ${refusalFalse} of ${windows} windows with equal rates`)
    assert.ok(guardrailFalse <= 19, `guardrail rate drift claimed in ${guardrailFalse} of ${windows} windows with equal rates`)
  })
})
