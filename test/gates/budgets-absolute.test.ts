import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { N, gateYaml, openGateWorld, records, type GateWorld } from './helpers.js'

/**
 * Budgets on cost, storage and compute, and absolute thresholds with min and every test (t,
 * bootstrap, clopper-pearson, wilson), on real runs built so the estimate is known exactly:
 *  - `correct` = 1 on 300 of 400 examples: rate and mean 0.75; any 95% one-sided bound lies within
 *    0.05 of it (its standard error is 0.0217), so 0.6 and 0.9 are cleared and 0.75 itself never is;
 *  - cost 0.002 + 0.001 · (i mod 3): mean 0.002 + 0.001 · (133 + 2 · 133) / 400 = 0.0029975, i.e.
 *    2.9975 per 1,000 requests (its bound is within 0.1 of that);
 *  - storage: "big" produced a 1,000-byte artifact besides its weights; weights of run NAME are
 *    the bytes of {"name":"NAME"};
 *  - compute: run durations set to exactly 3,600 s and 60 s in the store.
 */
describe('budget and absolute criteria on data with known answers', () => {
  let w: GateWorld
  const ids: Record<string, string> = {}
  const weights = (name: string) => Buffer.byteLength(JSON.stringify({ name }))

  before(async () => {
    w = await openGateWorld()
    const costly = (i: number) => ({ cost: 0.002 + 0.001 * (i % 3) })
    ids.base = await w.logRun('base', records((i) => i < 300, costly))
    ids.hour = await w.logRun('hour', records((i) => i < 300, costly))
    const big = await w.assay.startRun({ experiment: 'gates', name: 'big', seed: 1, owner: 'alice', codeDir: w.repo, datasets: [{ name: 'val', path: w.dataPath, role: 'validation' }] })
    await big.logEval({ dataset: 'val', records: records((i) => i < 300, costly) })
    await big.logArtifact('model/weights.json', Buffer.from(JSON.stringify({ name: 'big' })))
    await big.logArtifact('model/extra.bin', Buffer.alloc(1000, 7))
    await big.end('finished')
    ids.big = big.id
    const db = w.db()
    db.prepare('UPDATE runs SET end_time = start_time + 3600000 WHERE id = ?').run(ids.hour)
    db.prepare('UPDATE runs SET end_time = start_time + 60000 WHERE id = ?').run(ids.base)
    // The gate's rollback candidate (model:sentiment@1) must resolve, or every check is unauditable.
    await w.assay.createModel({ name: 'sentiment', owner: 'alice' })
    await w.assay.addModelVersion({ model: 'sentiment', run: ids.base, artifact: 'model/weights.json' })
  })
  after(async () => w.cleanup())

  const check = async (criteria: string, candidate: string, baseline: string | null = null) => {
    const { evidence } = await w.assay.checkGate(w.gateFile(`g-${Math.random().toString(36).slice(2)}.yaml`, gateYaml(criteria)), { candidate, baseline, record: false })
    assert.equal(evidence.checks.find((c) => c.check === 'malformed')?.status, 'pass')
    return evidence
  }
  const budget = (metric: string, limit: string, onFailure = 'block') => `  - kind: budget\n    metric: ${metric}\n    ${limit}\n    onFailure: ${onFailure}\n    rationale: ${metric} budget`

  it('cost: per 1,000 requests, one-sided t upper bound against max and against maxRatio x baseline', async () => {
    const within = await check(budget('cost', 'max: 3.5'), ids.hour as string)
    const [c] = within.criteria
    assert.ok(Math.abs((c.estimate as number) - 2.9975) < 1e-9, String(c.estimate))
    assert.equal(c.status, 'pass', c.message)
    assert.ok((c.ci as [number, number])[1] > 2.9975 && (c.ci as [number, number])[1] < 3.1)
    assert.match(c.test, /t/)
    const over = await check(budget('cost', 'max: 2.99', 'warn'), ids.hour as string)
    assert.equal(over.criteria[0].status, 'fail')
    assert.equal(over.checks.find((x) => x.check === 'too-costly')?.status, 'warn')
    assert.equal(over.decision, 'warn')
    // Same cost as the baseline: the upper bound is above the baseline's point estimate, so 1.0 x fails and 1.1 x passes.
    assert.equal((await check(budget('cost', 'maxRatio: 1.1'), ids.hour as string, ids.base as string)).criteria[0].status, 'pass')
    assert.equal((await check(budget('cost', 'maxRatio: 1'), ids.hour as string, ids.base as string)).criteria[0].status, 'fail')
  })

  it('storage: bytes of the produced artifacts, a point value against max and maxRatio', async () => {
    const bytes = 1000 + weights('big')
    const exact = await check(budget('storage', `max: ${bytes}`), ids.big as string)
    assert.equal(exact.criteria[0].estimate, bytes)
    assert.equal(exact.criteria[0].ci, null)
    assert.equal(exact.criteria[0].status, 'pass', 'at the budget is within it (≤)')
    assert.equal((await check(budget('storage', `max: ${bytes - 1}`), ids.big as string)).criteria[0].status, 'fail')
    // Against the baseline's weights alone: (1000 + 14) / 15 bytes, about 68x.
    const ratio = await check(budget('storage', 'maxRatio: 2'), ids.big as string, ids.base as string)
    assert.equal(ratio.criteria[0].threshold, 2 * weights('base'))
    assert.equal(ratio.criteria[0].status, 'fail')
    assert.equal(ratio.decision, 'block')
  })

  it('compute: run seconds, a point value against max and maxRatio', async () => {
    const hour = await check(budget('compute', 'max: 3600'), ids.hour as string)
    assert.equal(hour.criteria[0].estimate, 3600)
    assert.equal(hour.criteria[0].status, 'pass')
    assert.equal((await check(budget('compute', 'max: 3599'), ids.hour as string)).criteria[0].status, 'fail')
    const ratio = await check(budget('compute', 'maxRatio: 59'), ids.hour as string, ids.base as string)
    assert.equal(ratio.criteria[0].threshold, 59 * 60)
    assert.equal(ratio.criteria[0].status, 'fail', '60x the baseline')
    assert.equal((await check(budget('compute', 'maxRatio: 60'), ids.hour as string, ids.base as string)).criteria[0].status, 'pass')
  })

  for (const test of ['t', 'bootstrap', 'clopper-pearson', 'wilson']) {
    it(`absolute with ${test}: min and max against a known rate of 0.75`, async () => {
      const absolute = (bound: string) => `  - kind: absolute\n    metric: correct\n    test: ${test}\n    ${bound}\n    onFailure: block\n    rationale: policy`
      const floor = await check(absolute('min: 0.6'), ids.base as string)
      const [c] = floor.criteria
      assert.equal(c.estimate, 300 / N)
      assert.equal(c.status, 'pass', c.message)
      const [lower] = c.ci as [number, number]
      assert.ok(lower > 0.6 && lower < 0.75, `lower bound ${lower}`)
      assert.equal(c.sampleSizes.candidate, N)
      if (test === 't') assert.ok((c.pValue as number) < 0.05, 'one-sample t-test against 0.6')
      if (test === 'bootstrap') assert.equal(c.seed, 7)
      assert.equal((await check(absolute('min: 0.75'), ids.base as string)).criteria[0].status, 'fail', 'the bound never reaches the estimate')
      assert.equal((await check(absolute('max: 0.9'), ids.base as string)).criteria[0].status, 'pass')
      const ceiling = await check(absolute('max: 0.75'), ids.base as string)
      assert.equal(ceiling.criteria[0].status, 'fail')
      assert.ok(((ceiling.criteria[0].ci as [number, number])[1] as number) > 0.75)
    })
  }
})
