import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { isAssayError, type ErrorCode } from '../../src/errors.js'
import { LAX_CRITERION, NON_INFERIORITY, SUPERIORITY, gateYaml, openGateWorld, records, type GateWorld } from '../gates/helpers.js'

const rejectsCode = (p: Promise<unknown>, code: ErrorCode, message?: RegExp) =>
  assert.rejects(p, (e: unknown) => (isAssayError(e, code) && (message === undefined || message.test(e.message))) || assert.fail(`expected ${code}, got ${String(e)}`))

describe('gate policies: promotion runs the gate the store holds (embedded store)', () => {
  let w: GateWorld
  let strictGate: string
  let laxGate: string

  before(async () => {
    w = await openGateWorld()
    const baseline = await w.logRun('baseline', records((i) => i < 300))
    const worse = await w.logRun('worse', records((i) => i < 200))
    const better = await w.logRun('better', records((i) => i < 380))
    await w.assay.createModel({ name: 'sentiment', owner: 'alice' })
    for (const run of [baseline, worse, better]) await w.assay.addModelVersion({ model: 'sentiment', run, artifact: 'model/weights.json' })
    await w.assay.setAlias('sentiment', 'champion', 1, { reason: 'first release', actor: 'alice' })
    strictGate = w.gateFile('strict.yaml', gateYaml(`${SUPERIORITY()}\n${NON_INFERIORITY(0.02)}`))
    laxGate = w.gateFile('lax.yaml', gateYaml(LAX_CRITERION))
  })
  after(async () => w.cleanup())

  it('refuses every promotion while no gate is registered, naming `assay gates set`', async () => {
    const before = await w.assay.aliasHistory('sentiment')
    await rejectsCode(w.assay.promote({ model: 'sentiment', version: 2 }), 'ASSAY_NO_GATE_POLICY', /assay gates set sentiment --alias champion/)
    // The attack: a client's own lax gate does not stand in for the missing policy.
    await rejectsCode(w.assay.promote({ model: 'sentiment', version: 2, gate: laxGate }), 'ASSAY_NO_GATE_POLICY')
    assert.deepEqual(await w.assay.aliasHistory('sentiment'), before, 'nothing moved')
  })

  it('a gate policy is versioned per alias, needs a reason, and each version is in the audit log with who and why', async () => {
    await rejectsCode(w.assay.setGatePolicy('sentiment', { gate: strictGate, reason: '  ', actor: 'carol' }), 'ASSAY_INVALID_ARGUMENT')
    await rejectsCode(w.assay.setGatePolicy('ghost', { gate: strictGate, reason: 'x', actor: 'carol' }), 'ASSAY_MODEL_NOT_FOUND')
    await rejectsCode(w.assay.setGatePolicy('sentiment', { gate: w.gateFile('bad.yaml', 'gate: x\ncriteria: [\n'), reason: 'x', actor: 'carol' }), 'ASSAY_INVALID_GATE_SPEC')
    const v1 = await w.assay.setGatePolicy('sentiment', { gate: laxGate, reason: 'first draft', actor: 'carol' })
    const v2 = await w.assay.setGatePolicy('sentiment', { gate: strictGate, reason: 'release policy of the NLP team', actor: 'dave' })
    assert.deepEqual([v1.version, v2.version], [1, 2])
    assert.equal(v2.sha256, createHash('sha256').update(readFileSync(strictGate)).digest('hex'))
    assert.equal(v2.text, readFileSync(strictGate, 'utf8'))
    assert.equal((await w.assay.gatePolicy('sentiment')).version, 2)
    assert.equal((await w.assay.gatePolicy('sentiment', { version: 1 })).sha256, v1.sha256)
    await rejectsCode(w.assay.gatePolicy('sentiment', { alias: 'challenger' }), 'ASSAY_NO_GATE_POLICY')
    assert.deepEqual((await w.assay.gatePolicies()).map((p) => [p.model, p.alias, p.version]), [['sentiment', 'champion', 2]])
    assert.deepEqual((await w.assay.gatePolicyHistory('sentiment')).map((p) => p.reason), ['first draft', 'release policy of the NLP team'])

    const audit = (await w.assay.auditLog()).filter((r) => r.kind === 'gate-policy')
    assert.deepEqual(
      audit.map((r) => [r.seq, r.actor, r.subject, r.body.version, r.body.sha256, r.body.reason]),
      [
        [v1.auditSeq, 'carol', 'sentiment@champion', 1, v1.sha256, 'first draft'],
        [v2.auditSeq, 'dave', 'sentiment@champion', 2, v2.sha256, 'release policy of the NLP team'],
      ],
    )
    assert.equal((await w.assay.verifyAudit()).ok, true)
  })

  it("the client's lax gate cannot promote: a gate that is not the registered one is refused and moves nothing", async () => {
    const before = await w.assay.aliasHistory('sentiment')
    const auditBefore = await w.assay.auditLog()
    await rejectsCode(w.assay.promote({ model: 'sentiment', version: 2, gate: laxGate }), 'ASSAY_GATE_NOT_REGISTERED', /not the gate registered for sentiment@champion/)
    assert.deepEqual(await w.assay.aliasHistory('sentiment'), before)
    assert.deepEqual(await w.assay.auditLog(), auditBefore, 'not even a gate check was recorded')
  })

  it('promotion runs the registered gate: it blocks the worse version, promotes the better one, and the evidence carries its hash', async () => {
    const registered = await w.assay.gatePolicy('sentiment')
    await rejectsCode(w.assay.promote({ model: 'sentiment', version: 2 }), 'ASSAY_GATE_BLOCKED')
    const result = await w.assay.promote({ model: 'sentiment', version: 3, gate: strictGate, actor: 'bob' })
    assert.equal(result.event.version, 3)
    assert.equal(result.check.evidence.gate.sha256, registered.sha256)
    assert.deepEqual((result.audit.body as { gate: unknown }).gate, { name: 'release', sha256: registered.sha256, policyVersion: registered.version })
    assert.equal((await w.assay.verifyAudit()).ok, true)
  })
})
