import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { EvalRecord } from '../../src/record/types.js'
import { NON_INFERIORITY, SUPERIORITY, gateYaml, openGateWorld, type GateWorld } from './helpers.js'

/**
 * Constant data on a handful of examples (issue: the "constant differences" shortcut passed with
 * p = 0). Every pair differs by the same amount, or every value is the same, so the exact
 * one-sided sign test's p is known by hand: 0.5^n when every value clears the threshold. At
 * alpha = 0.05 that needs n >= 5 (0.5^4 = 0.0625, 0.5^5 = 0.03125); a p95 latency bound needs
 * 0.95^n < 0.05, n >= 59 (0.95^58 = 0.0510, 0.95^59 = 0.0485).
 */
function constant(n: number, correct: number, extra: Partial<EvalRecord> = {}): EvalRecord[] {
  return Array.from({ length: n }, (_, i) => ({ id: `q${i}`, scores: { correct }, latencyMs: 10, tokens: 100, ...extra }))
}

describe('criteria on constant data and few examples: the exact sign test decides', () => {
  let w: GateWorld
  const ids: Record<string, string> = {}

  before(async () => {
    w = await openGateWorld()
    for (const n of [2, 4, 5]) {
      ids[`wrong${n}`] = await w.logRun(`wrong${n}`, constant(n, 0))
      ids[`right${n}`] = await w.logRun(`right${n}`, constant(n, 1))
    }
    ids.lat58 = await w.logRun('lat58', constant(58, 1))
    ids.lat59 = await w.logRun('lat59', constant(59, 1))
    await w.assay.createModel({ name: 'sentiment', owner: 'alice' })
    await w.assay.addModelVersion({ model: 'sentiment', run: ids.wrong2 as string, artifact: 'model/weights.json' })
  })
  after(async () => w.cleanup())

  const check = async (criteria: string, candidate: string, baseline: string | null = null) => {
    const { evidence } = await w.assay.checkGate(w.gateFile(`g-${Math.random().toString(36).slice(2)}.yaml`, gateYaml(criteria)), { candidate, baseline, record: false })
    assert.equal(evidence.checks.find((c) => c.check === 'malformed')?.status, 'pass')
    return evidence.criteria[0]
  }

  it('superiority: 2 pairs both better by 1 give p = 0.25 and fail; 4 give 0.0625 and fail; 5 give 0.03125 and pass', async () => {
    const two = await check(SUPERIORITY(), ids.right2 as string, ids.wrong2 as string)
    assert.equal(two.estimate, 1)
    assert.equal(two.pValue, 0.25)
    assert.equal(two.status, 'fail')
    assert.deepEqual(two.ci, [-Infinity, Infinity], 'no one-sided 95% bound exists from 2 signs')
    assert.equal(two.test, 'exact sign test (every paired difference is 1; 2 independent pairs)')
    assert.match(two.message, /not enough data \(constant values need n ≥ 5 at alpha 0.05\)/)
    const four = await check(SUPERIORITY(), ids.right4 as string, ids.wrong4 as string)
    assert.equal(four.pValue, 0.0625)
    assert.equal(four.status, 'fail')
    const five = await check(SUPERIORITY(), ids.right5 as string, ids.wrong5 as string)
    assert.equal(five.pValue, 0.03125)
    assert.deepEqual(five.ci, [1, Infinity])
    assert.equal(five.status, 'pass', five.message)
  })

  it('superiority: identical outputs (every difference 0) and a constant loss never pass', async () => {
    const same = await check(SUPERIORITY(), ids.right5 as string, ids.right5 as string)
    assert.equal(same.estimate, 0)
    assert.equal(same.pValue, 1)
    assert.equal(same.status, 'fail')
    const worse = await check(SUPERIORITY(), ids.wrong5 as string, ids.right5 as string)
    assert.equal(worse.pValue, 1)
    assert.equal(worse.status, 'fail')
  })

  it('non-inferiority: no difference on 2 examples is not enough; on 5 it is', async () => {
    const two = await check(NON_INFERIORITY(0.05), ids.right2 as string, ids.right2 as string)
    assert.equal(two.pValue, 0.25)
    assert.equal(two.status, 'fail')
    const five = await check(NON_INFERIORITY(0.05), ids.right5 as string, ids.right5 as string)
    assert.equal(five.pValue, 0.03125)
    assert.deepEqual(five.ci, [0, Infinity])
    assert.equal(five.status, 'pass', five.message)
    const beyond = await check(NON_INFERIORITY(0.05), ids.wrong5 as string, ids.right5 as string)
    assert.equal(beyond.pValue, 1)
    assert.equal(beyond.status, 'fail')
  })

  for (const test of ['t', 'bootstrap']) {
    it(`absolute (${test}): a constant mean above min on 2 values is not enough data; on 5 it passes`, async () => {
      const gate = `  - kind: absolute\n    metric: correct\n    test: ${test}\n    min: 0.5\n    onFailure: block\n    rationale: accuracy floor`
      const two = await check(gate, ids.right2 as string)
      assert.equal(two.estimate, 1)
      assert.equal(two.pValue, 0.25)
      assert.equal(two.status, 'fail')
      assert.match(two.message, /not enough data/)
      const five = await check(gate, ids.right5 as string)
      assert.equal(five.pValue, 0.03125)
      assert.deepEqual(five.ci, [1, Infinity])
      assert.equal(five.status, 'pass', five.message)
      const below = await check(gate, ids.wrong5 as string)
      assert.equal(below.status, 'fail')
    })
  }

  it('budget: constant tokens need n >= 5; a constant p95 latency needs n >= 59', async () => {
    const tokens = '  - kind: budget\n    metric: tokens\n    max: 200000\n    onFailure: block\n    rationale: cost ceiling'
    const two = await check(tokens, ids.right2 as string)
    assert.equal(two.estimate, 100_000)
    assert.equal(two.pValue, 0.25)
    assert.equal(two.status, 'fail')
    assert.match(two.message, /not enough data/)
    assert.equal((await check(tokens, ids.right5 as string)).status, 'pass')
    const latency = '  - kind: budget\n    metric: latency\n    max: 250\n    onFailure: block\n    rationale: p95 SLO'
    const short = await check(latency, ids.lat58 as string)
    assert.equal(short.estimate, 10)
    assert.ok(Math.abs((short.pValue as number) - 0.95 ** 58) < 1e-12)
    assert.equal(short.status, 'fail')
    assert.match(short.message, /n ≥ 59/)
    const enough = await check(latency, ids.lat59 as string)
    assert.deepEqual(enough.ci, [-Infinity, 10])
    assert.equal(enough.status, 'pass', enough.message)
  })
})
