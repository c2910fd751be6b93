import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { isAssayError } from '../../src/errors.js'
import { NON_INFERIORITY, N, SUPERIORITY, gateYaml, openGateWorld, records, type GateWorld } from './helpers.js'

/**
 * The tests that matter (issue 5), through the SDK on real runs. The data are built so the answer
 * is known without running the statistics: baseline right on 300 of 400 examples;
 *  - worse: right on 200 (all 100 discordant pairs favour the baseline: a difference of -0.25);
 *  - slightly better: the baseline with 2 of its misses fixed and 1 hit lost (+1/400; 3 discordant
 *    pairs, 2 vs 1, can never be significant: the exact sign test's p is 0.5);
 *  - within margin: the baseline with 2 hits lost (-0.005; even the worst case is 2/400, far inside a 0.05 margin);
 *  - better: right on 360 (60 discordant pairs, all for the candidate: +0.15).
 */
describe('gates on real runs', () => {
  let w: GateWorld
  const ids: Record<string, string> = {}

  before(async () => {
    w = await openGateWorld()
    ids.baseline = await w.logRun('baseline', records((i) => i < 300))
    ids.worse = await w.logRun('worse', records((i) => i < 200))
    ids.slight = await w.logRun('slight', records((i) => (i < 300 && i !== 0) || i === 300 || i === 301))
    ids.margin = await w.logRun('margin', records((i) => i < 300 && i !== 0 && i !== 1))
    ids.better = await w.logRun('better', records((i) => i < 360))
    ids.nocode = await w.logRun('nocode', records((i) => i < 360), { codeDir: w.h.codeDir })
    await w.assay.createModel({ name: 'sentiment', owner: 'alice', description: 'sentiment classifier' })
    for (const key of ['baseline', 'worse', 'slight', 'margin', 'better', 'nocode']) {
      await w.assay.addModelVersion({ model: 'sentiment', run: ids[key] as string, artifact: 'model/weights.json' })
    }
    await w.assay.setAlias('sentiment', 'champion', 1, { reason: 'initial release' })
  })
  after(async () => w.cleanup())

  const check = (criteria: string, candidate: string, extra: Parameters<typeof gateYaml>[1] = {}) =>
    w.assay.checkGate(w.gateFile(`gate-${Math.random().toString(36).slice(2)}.yaml`, gateYaml(criteria, extra)), { candidate })

  it('blocks a candidate that is significantly worse', async () => {
    const { evidence } = await check(`${SUPERIORITY()}\n${NON_INFERIORITY(0.02)}`, 'model:sentiment@2')
    assert.equal(evidence.decision, 'block')
    const [sup, ni] = evidence.criteria
    assert.equal(sup.status, 'fail')
    assert.equal(ni.status, 'fail')
    assert.ok(Math.abs((ni.estimate as number) + 0.25) < 1e-12, 'the difference is exactly -100/400')
    assert.ok((ni.ci as [number, number])[0] < -0.02)
    assert.equal(evidence.baseline?.label, 'alias:sentiment@champion', 'the default baseline is the champion')
    assert.match(evidence.nextAction, /^do not promote: /)
  })

  it('does not pass superiority for a candidate better by its point estimate but not significantly', async () => {
    const { evidence } = await check(SUPERIORITY(), 'model:sentiment@3')
    const [sup] = evidence.criteria
    assert.ok(Math.abs((sup.estimate as number) - 1 / N) < 1e-12, 'better by one example in 400')
    assert.equal(sup.status, 'fail')
    assert.ok((sup.pValue as number) >= 0.05)
    assert.ok((sup.ci as [number, number])[0] <= 0)
    assert.equal(evidence.decision, 'block')
  })

  it('passes a candidate within the non-inferiority margin', async () => {
    const { evidence } = await check(NON_INFERIORITY(0.05), 'model:sentiment@4')
    const [ni] = evidence.criteria
    assert.equal(ni.status, 'pass', ni.message)
    assert.ok((ni.estimate as number) < 0, 'it is slightly worse by its point estimate')
    assert.ok((ni.ci as [number, number])[0] > -0.05)
    assert.equal(evidence.decision, 'accept')
    assert.equal(evidence.nextAction, 'promote')
  })

  it('passes superiority for a clearly better candidate, with the evidence a record needs', async () => {
    const { evidence, audit } = await check(`${SUPERIORITY()}\n${NON_INFERIORITY(0.02)}`, 'model:sentiment@5')
    assert.equal(evidence.decision, 'accept')
    const [sup] = evidence.criteria
    assert.equal(sup.status, 'pass')
    assert.ok((sup.ci as [number, number])[0] > 0)
    assert.ok((sup.pValue as number) < 0.05)
    assert.deepEqual(sup.sampleSizes, { candidate: N, baseline: N, pairs: N })
    assert.equal(sup.seed, 7)
    assert.equal(sup.test, 'Paired studentized bootstrap (bootstrap-t)')
    assert.equal(evidence.gate.sha256.length, 64)
    assert.equal(evidence.candidate.runs[0].envelope.config.length, 64)
    assert.ok(evidence.baseline?.runs[0].envelope.datasets)
    assert.ok(evidence.assayVersion)
    assert.ok(audit !== null && audit.seq > 0)
    const stored = (await w.assay.auditLog()).find((r) => r.seq === audit.seq)
    assert.equal(stored?.kind, 'gate-check')
    assert.equal((stored?.body as { decision: string }).decision, 'accept')
  })

  it('blocks a candidate with no code version as unauditable', async () => {
    const { evidence } = await check(SUPERIORITY(), 'model:sentiment@6')
    const unauditable = evidence.checks.find((c) => c.check === 'unauditable')
    assert.equal(unauditable?.status, 'block')
    assert.ok(unauditable?.findings.some((f) => /candidate run [0-9a-f]{8} has no code version/.test(f)), unauditable?.findings.join('\n'))
    assert.equal(evidence.criteria[0].status, 'pass', 'its statistics are fine; the metadata is not')
    assert.equal(evidence.decision, 'block')
  })

  it('accepts run ids and groups of runs as sides (resolved by the comparison engine)', async () => {
    const { evidence } = await check(SUPERIORITY(), `${ids.better},${ids.nocode}`)
    assert.equal(evidence.candidate.runIds.length, 2)
    assert.equal(evidence.criteria[0].status, 'pass')
  })

  it('an unknown rollback candidate is unauditable', async () => {
    const { evidence } = await check(NON_INFERIORITY(0.05), 'model:sentiment@4', { rollback: 'model:sentiment@99' })
    assert.equal(evidence.decision, 'block')
    assert.ok(evidence.checks.find((c) => c.check === 'unauditable')?.findings.some((f) => f.includes('rollback candidate')))
  })

  it('names the missing baseline instead of guessing', async () => {
    const { evidence } = await w.assay.checkGate(w.gateFile('nb.yaml', gateYaml(SUPERIORITY(), { model: 'other' }).replace('rollback: model:sentiment@1', `rollback: ${ids.baseline}`)), { candidate: ids.better as string })
    assert.equal(evidence.baseline, null)
    assert.equal(evidence.criteria[0].status, 'not-evaluated')
    assert.equal(evidence.decision, 'block')
  })

  it('rejects a side that names no model when the gate names none', async () => {
    await assert.rejects(
      w.assay.checkGate(w.gateFile('x.yaml', gateYaml(SUPERIORITY()).replace('model: sentiment\n', '')), { candidate: 'alias:champion' }),
      (e: unknown) => isAssayError(e, 'ASSAY_INVALID_ARGUMENT'),
    )
  })
})
