import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { isAssayError, type ErrorCode } from '../../src/errors.js'
import { NON_INFERIORITY, SUPERIORITY, gateYaml, openGateWorld, records, type GateWorld } from '../gates/helpers.js'

const rejectsCode = (p: Promise<unknown>, code: ErrorCode) => assert.rejects(p, (e: unknown) => isAssayError(e, code) || assert.fail(`expected ${code}, got ${String(e)}`))

describe('registry, promotion, rollback and the audit log', () => {
  let w: GateWorld
  const ids: Record<string, string> = {}
  let acceptGate: string
  let warnGate: string

  before(async () => {
    w = await openGateWorld()
    ids.baseline = await w.logRun('baseline', records((i) => i < 300))
    ids.better = await w.logRun('better', records((i) => i < 360))
    ids.slight = await w.logRun('slight', records((i) => (i < 300 && i !== 0) || i === 300 || i === 301))
    ids.best = await w.logRun('best', records((i) => i < 390))
    await w.assay.createModel({ name: 'sentiment', owner: 'alice', tags: { team: 'nlp' } })
    for (const key of ['baseline', 'better', 'slight', 'best']) await w.assay.addModelVersion({ model: 'sentiment', run: ids[key] as string, artifact: 'model/weights.json' })
    acceptGate = w.gateFile('accept.yaml', gateYaml(`${SUPERIORITY()}\n${NON_INFERIORITY(0.02)}`))
    warnGate = w.gateFile('warn.yaml', gateYaml(`${SUPERIORITY('warn')}\n${NON_INFERIORITY(0.05)}`))
    // Promotion runs the gate registered for the alias (test/promotion/gate-policy.test.ts).
    await w.assay.setGatePolicy('sentiment', { alias: 'champion', gate: acceptGate, reason: 'release policy', actor: 'alice' })
    await w.assay.setGatePolicy('sentiment', { alias: 'challenger', gate: warnGate, reason: 'shadow policy', actor: 'alice' })
  })
  after(async () => w.cleanup())

  it('requires an owner, refuses duplicate names, and keeps the lineage version -> run -> artifact', async () => {
    await rejectsCode(w.assay.createModel({ name: 'x', owner: '  ' }), 'ASSAY_INVALID_ARGUMENT')
    await rejectsCode(w.assay.createModel({ name: 'sentiment', owner: 'bob' }), 'ASSAY_MODEL_EXISTS')
    await rejectsCode(w.assay.addModelVersion({ model: 'sentiment', run: ids.baseline as string, artifact: 'nope' }), 'ASSAY_ARTIFACT_NOT_FOUND')
    await rejectsCode(w.assay.addModelVersion({ model: 'ghost', run: ids.baseline as string }), 'ASSAY_MODEL_NOT_FOUND')
    const shown = await w.assay.showModel('sentiment')
    assert.equal(shown.model.owner, 'alice')
    assert.deepEqual(shown.versions.map((v) => v.version), [1, 2, 3, 4])
    const v1 = shown.versions[0]
    assert.equal(v1.runId, ids.baseline)
    const lineage = await w.assay.lineage(v1.artifact?.sha256 as string)
    assert.ok(lineage.some((e) => e.runId === ids.baseline && e.direction === 'produced'))
  })

  it('promotes when the gate accepts, recording who, when and why', async () => {
    await w.assay.setAlias('sentiment', 'champion', 1, { reason: 'first release', actor: 'alice' })
    const result = await w.assay.promote({ model: 'sentiment', version: 2, gate: acceptGate, actor: 'bob' })
    assert.equal(result.check.evidence.decision, 'accept')
    assert.equal(result.event.version, 2)
    assert.equal(result.event.previousVersion, 1)
    assert.equal(result.audit.kind, 'promotion')
    assert.equal(result.audit.actor, 'bob')
    assert.equal((result.audit.body as { evidence: { seq: number } }).evidence.seq, result.check.audit?.seq)
    assert.equal((await w.assay.showModel('sentiment')).aliases.find((a) => a.alias === 'champion')?.version, 2)
  })

  it('a warn needs --accept-warnings and a reason', async () => {
    // Version 3 is better than version 2? No: it is about the baseline run; compare it against v1 explicitly.
    const base = { model: 'sentiment', version: 3, alias: 'challenger', gate: warnGate, baseline: 'model:sentiment@1' }
    await rejectsCode(w.assay.promote(base), 'ASSAY_WARNINGS_NOT_ACCEPTED')
    await rejectsCode(w.assay.promote({ ...base, acceptWarnings: true }), 'ASSAY_INVALID_ARGUMENT')
    assert.deepEqual(await w.assay.aliasHistory('sentiment', 'challenger'), [], 'nothing moved')
    const ok = await w.assay.promote({ ...base, acceptWarnings: true, reason: 'shadow traffic only' })
    assert.equal(ok.check.evidence.decision, 'warn')
    assert.equal(ok.event.reason, 'shadow traffic only')
    assert.ok(((ok.audit.body as { acceptedWarnings: string[] }).acceptedWarnings).length > 0)
  })

  it('a blocked promotion moves nothing and says what to do', async () => {
    const before = await w.assay.aliasHistory('sentiment')
    await assert.rejects(w.assay.promote({ model: 'sentiment', version: 3, gate: acceptGate }), (e: unknown) => {
      assert.ok(isAssayError(e, 'ASSAY_GATE_BLOCKED'))
      assert.match(e.message, /do not promote/)
      return true
    })
    assert.deepEqual(await w.assay.aliasHistory('sentiment'), before)
  })

  it('a bad gate file moves nothing and appends nothing', async () => {
    const before = await w.assay.aliasHistory('sentiment')
    const auditBefore = await w.assay.auditLog()
    // Not wrapped in an async function: a bad file must reject the promise, not throw synchronously.
    const promote = (gate: string) => w.assay.promote({ model: 'sentiment', version: 4, gate })
    await rejectsCode(promote(w.gateFile('broken.yaml', 'gate: x\ncriteria: [\n')), 'ASSAY_INVALID_GATE_SPEC')
    const noEscalation = w.gateFile('no-escalation.yaml', gateYaml(`${SUPERIORITY()}\n${NON_INFERIORITY(0.02)}`).replace('escalation: ml-oncall@example.com\n', ''))
    await rejectsCode(promote(noEscalation), 'ASSAY_INVALID_GATE_SPEC')
    assert.deepEqual(await w.assay.aliasHistory('sentiment'), before)
    assert.deepEqual(await w.assay.auditLog(), auditBefore)
  })

  it('is all or nothing: a failure after the gate accepts moves no alias', async () => {
    const db = w.db()
    db.exec(`CREATE TRIGGER fail_promotion BEFORE INSERT ON audit_log WHEN NEW.kind = 'promotion' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`)
    const before = await w.assay.aliasHistory('sentiment')
    const auditBefore = (await w.assay.auditLog()).length
    await assert.rejects(w.assay.promote({ model: 'sentiment', version: 4, gate: acceptGate }), /injected failure/)
    assert.deepEqual(await w.assay.aliasHistory('sentiment'), before, 'the alias event was rolled back with the audit record')
    const after = await w.assay.auditLog()
    assert.equal(after.length, auditBefore + 1, 'only the gate evidence was appended')
    assert.equal(after[after.length - 1].kind, 'gate-check')
    assert.equal((after[after.length - 1].body as { decision: string }).decision, 'accept', 'the gate did accept')
    db.exec('DROP TRIGGER fail_promotion')
    assert.equal((await w.assay.verifyAudit()).ok, true)
  })

  it('keeps the full alias history and rolls back to the previous holder', async () => {
    await w.assay.promote({ model: 'sentiment', version: 4, gate: acceptGate })
    const history = await w.assay.aliasHistory('sentiment', 'champion')
    assert.deepEqual(history.map((e) => [e.kind, e.previousVersion, e.version]), [['set', null, 1], ['promote', 1, 2], ['promote', 2, 4]])
    const back = await w.assay.rollback({ model: 'sentiment', reason: 'latency regression in prod' })
    assert.equal(back.event.version, 2)
    assert.equal(back.audit.kind, 'rollback')
    const again = await w.assay.rollback({ model: 'sentiment', reason: 'still bad' })
    assert.equal(again.event.version, 1)
    await rejectsCode(w.assay.rollback({ model: 'sentiment' }), 'ASSAY_NOTHING_TO_ROLL_BACK')
    await rejectsCode(w.assay.rollback({ model: 'sentiment', alias: 'nobody' }), 'ASSAY_NOTHING_TO_ROLL_BACK')
    assert.equal((await w.assay.showModel('sentiment')).aliases.find((a) => a.alias === 'champion')?.version, 1)
  })

  it('audit verify passes on an untouched log and names the first edited or removed record', async () => {
    const clean = await w.assay.verifyAudit()
    assert.equal(clean.ok, true)
    assert.ok(clean.count >= 10)
    const db = w.db()
    // The table refuses updates and deletes; someone with the file can drop the guard, and verify still notices.
    assert.throws(() => db.prepare("UPDATE audit_log SET actor = 'mallory' WHERE seq = 5").run(), /append-only/)
    db.exec('DROP TRIGGER audit_log_append_only_update; DROP TRIGGER audit_log_append_only_delete')
    const original = db.prepare('SELECT body FROM audit_log WHERE seq = 5').get() as { body: string }
    db.prepare('UPDATE audit_log SET body = ? WHERE seq = 5').run(original.body.replace('"decision":"accept"', '"decision":"block"').replace('"alice"', '"mallory"'))
    const edited = await w.assay.verifyAudit()
    assert.equal(edited.ok, false)
    assert.equal(edited.firstBadSeq, 5)
    assert.match(edited.problem as string, /changed/)
    db.prepare('UPDATE audit_log SET body = ? WHERE seq = 5').run(original.body)
    assert.equal((await w.assay.verifyAudit()).ok, true, 'restored: intact again')
    const head = (await w.assay.verifyAudit()).head
    db.prepare('DELETE FROM audit_log WHERE seq = 7').run()
    const removed = await w.assay.verifyAudit()
    assert.equal(removed.ok, false)
    assert.equal(removed.firstBadSeq, 7)
    assert.match(removed.problem as string, /missing/)
    // Removing the newest records: alias events still point at them, and the noted head differs.
    const last = (await w.assay.auditLog()).at(-1)?.seq as number
    db.prepare('DELETE FROM audit_log WHERE seq >= 7').run()
    const truncated = await w.assay.verifyAudit({ expectHead: head })
    assert.equal(truncated.ok, false)
    assert.ok(last > 7)
  })
})
