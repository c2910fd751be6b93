import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { renderGateReport } from '../../src/gates/gate-report.js'
import { NON_INFERIORITY, N, gateYaml, openGateWorld, records, type GateWorld } from './helpers.js'

const DAY = 24 * 3600 * 1000

describe('contract checks and their responses', () => {
  let w: GateWorld
  const ids: Record<string, string> = {}

  before(async () => {
    w = await openGateWorld()
    ids.baseline = await w.logRun('baseline', records((i) => i < 300))
    ids.same = await w.logRun('same', records((i) => i < 300))
    ids.nan = await w.logRun('nan', records((i) => i < 300, (i) => (i === 5 ? { scores: { correct: Number.NaN } } : {})))
    ids.range = await w.logRun('range', records((i) => i < 300, (i) => (i === 7 ? { scores: { correct: 2 } } : {})))
    ids.missing = await w.logRun('missing', records((i) => i < 300, (i) => (i === 9 ? { scores: { other: 1 } } : {})))
    ids.slow = await w.logRun('slow', records((i) => i < 300, (i) => ({ latencyMs: 100 + (i % 11), tokens: 900 + (i % 5) })))
    await w.assay.createModel({ name: 'sentiment', owner: 'alice' })
    await w.assay.addModelVersion({ model: 'sentiment', run: ids.baseline as string, artifact: 'model/weights.json' })
  })
  after(async () => w.cleanup())

  const run = (criteria: string, candidate: string, extra?: string, now?: number) =>
    w.assay.checkGate(w.gateFile(`g-${Math.random().toString(36).slice(2)}.yaml`, gateYaml(criteria, { extra })), { candidate, baseline: ids.baseline, now, record: false })
  const check = (e: { checks: { check: string; status: string; message: string; findings: string[] }[] }, name: string) => e.checks.find((c) => c.check === name) as { status: string; message: string; findings: string[] }

  it('stale: older than the freshness limit warns or blocks, as the gate says', async () => {
    const later = Date.now() + 40 * DAY
    const warn = (await run(NON_INFERIORITY(0.05), ids.same as string, 'freshness: { maxAgeDays: 30, onFailure: warn }', later)).evidence
    assert.equal(check(warn, 'stale').status, 'warn')
    assert.equal(warn.decision, 'warn')
    const block = (await run(NON_INFERIORITY(0.05), ids.same as string, 'freshness: { maxAgeDays: 30, onFailure: block }', later)).evidence
    assert.equal(block.decision, 'block')
    const fresh = (await run(NON_INFERIORITY(0.05), ids.same as string, 'freshness: { maxAgeDays: 30, onFailure: block }')).evidence
    assert.equal(check(fresh, 'stale').status, 'pass')
    assert.equal(fresh.decision, 'accept')
  })

  for (const [key, pattern] of [['nan', /NaN or infinite in 1 record/], ['range', /outside \[0, 1\] in 1 record/], ['missing', /missing in 1 record/]] as const) {
    it(`malformed (${key}): rejected before any statistic is computed`, async () => {
      const e = (await run(NON_INFERIORITY(0.05), ids[key] as string)).evidence
      const malformed = check(e, 'malformed')
      assert.equal(malformed.status, 'block')
      assert.ok(malformed.findings.some((f) => pattern.test(f)), malformed.findings.join('\n'))
      assert.equal(e.criteria[0].status, 'not-evaluated')
      assert.equal(e.criteria[0].estimate, null, 'no statistic was computed')
      assert.equal(e.decision, 'block')
    })
  }

  it('malformed: the statistical checks are not evaluated either (no mean or p95 of malformed records), with the reason', async () => {
    // "nan" has mean(correct) = 299/399 over its finite values, far off the reference 0.9: before, inconsistent computed it and warned.
    const refs = 'references:\n  - { metric: correct, statistic: mean, value: 0.9, tolerance: 0.01 }\n  - { metric: correct, statistic: p95, value: 0.1, tolerance: 0.01 }'
    const latency = '  - kind: budget\n    metric: latency\n    max: 1\n    onFailure: block\n    rationale: p95 latency SLO'
    const e = (await run(`${NON_INFERIORITY(0.05)}\n${latency}`, ids.nan as string, refs)).evidence
    assert.equal(check(e, 'malformed').status, 'block')
    const inconsistent = check(e, 'inconsistent')
    assert.equal(inconsistent.status, 'not-evaluated')
    assert.match(inconsistent.message, /^not evaluated: the eval records are malformed; no statistic is computed on them \(references not compared\)$/)
    assert.deepEqual(inconsistent.findings, [], 'no statistic, and both sides read the same dataset version')
    const costly = check(e, 'too-costly')
    assert.equal(costly.status, 'not-evaluated')
    assert.match(costly.message, /malformed/)
    assert.ok(e.criteria.every((c) => c.status === 'not-evaluated' && c.estimate === null && /malformed/.test(c.message)))
    assert.equal(e.decision, 'block')
    assert.ok(e.reasons.every((r) => !r.startsWith('inconsistent') && !r.startsWith('too-costly')), 'a check not evaluated neither warns nor blocks')
    // The reports show it as skipped, not as a pass.
    assert.match(renderGateReport('text', e, null), /SKIP\s+inconsistent\s+not evaluated/)
    assert.match(renderGateReport('junit', e, null), /name="inconsistent">\n\s+<skipped message="not evaluated: the eval records are malformed/)
  })

  it('inconsistent: a statistic off its reference warns: investigate', async () => {
    // Both sides have mean(correct) = 300/400 = 0.75 exactly.
    const off = (await run(NON_INFERIORITY(0.05), ids.same as string, 'references:\n  - { metric: correct, statistic: mean, value: 0.9, tolerance: 0.01 }')).evidence
    assert.equal(check(off, 'inconsistent').status, 'warn')
    assert.ok(check(off, 'inconsistent').findings.some((f) => f.includes('is 0.75, reference 0.9')))
    assert.equal(off.decision, 'warn')
    const on = (await run(NON_INFERIORITY(0.05), ids.same as string, 'references:\n  - { metric: correct, statistic: mean, value: 0.75, tolerance: 0.01 }')).evidence
    assert.equal(check(on, 'inconsistent').status, 'pass')
    assert.equal(on.decision, 'accept')
  })

  it('too costly: a latency p95 or token budget over its limit takes the criterion action', async () => {
    // Latencies of "slow" are 100..110 ms, so every quantile and any bound is >= 100; the baseline's are 10..16 ms.
    const latency = (max: number, onFailure: string) => `  - kind: budget\n    metric: latency\n    max: ${max}\n    onFailure: ${onFailure}\n    rationale: p95 latency SLO`
    const over = (await run(latency(50, 'block'), ids.slow as string)).evidence
    assert.equal(over.criteria[0].status, 'fail')
    assert.ok((over.criteria[0].estimate as number) >= 100 && (over.criteria[0].estimate as number) <= 110)
    assert.equal(check(over, 'too-costly').status, 'block')
    assert.equal(over.decision, 'block')
    const warn = (await run(latency(50, 'warn'), ids.slow as string)).evidence
    assert.equal(check(warn, 'too-costly').status, 'warn')
    assert.equal(warn.decision, 'warn')
    const within = (await run(latency(50, 'block'), ids.same as string)).evidence
    assert.equal(within.criteria[0].status, 'pass')
    assert.ok((within.criteria[0].ci as [number, number])[1] <= 16)
    // Tokens: 900..904 per request is 900,000+ per 1,000 requests; relative to the baseline's ~101,000 that is ~9x.
    const tokens = (await run('  - kind: budget\n    metric: tokens\n    maxRatio: 1.5\n    onFailure: block\n    rationale: cost per request', ids.slow as string)).evidence
    assert.equal(tokens.criteria[0].status, 'fail')
    assert.ok((tokens.criteria[0].estimate as number) > 900_000)
    assert.equal(tokens.decision, 'block')
  })

  it('absolute: a safety rate whose upper bound must stay under a threshold', async () => {
    const gate = (max: number) => `  - kind: absolute\n    metric: correct\n    test: wilson\n    max: ${max}\n    onFailure: block\n    rationale: error rate ceiling`
    // 300 of 400 = 0.75 exactly: the upper bound is a bit above 0.75, far below 0.9 and above 0.75.
    const pass = (await run(gate(0.9), ids.same as string)).evidence
    assert.equal(pass.criteria[0].status, 'pass')
    assert.equal(pass.criteria[0].estimate, 300 / N)
    const fail = (await run(gate(0.75), ids.same as string)).evidence
    assert.equal(fail.criteria[0].status, 'fail')
  })
})
