import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { isAssayError } from '../../src/errors.js'
import { NON_INFERIORITY, gateYaml, openGateWorld, records, type GateWorld } from '../gates/helpers.js'

/**
 * The audit log's head anchor (schema v6): a one-row audit_head(seq, hash) the store writes in the
 * same transaction as every append. Removing the newest records, which no alias event points at,
 * used to verify as intact unless --expect-head was given.
 */
describe('audit head anchor: a removed tail is detected without --expect-head', () => {
  let w: GateWorld
  let gate: string
  let candidate: string

  before(async () => {
    w = await openGateWorld()
    const baseline = await w.logRun('baseline', records((i) => i < 300))
    candidate = await w.logRun('same', records((i) => i < 300))
    await w.assay.createModel({ name: 'sentiment', owner: 'alice' })
    await w.assay.addModelVersion({ model: 'sentiment', run: baseline, artifact: 'model/weights.json' })
    await w.assay.addModelVersion({ model: 'sentiment', run: candidate, artifact: 'model/weights.json' })
    await w.assay.setAlias('sentiment', 'champion', 1, { reason: 'first release' })
    gate = w.gateFile('gate.yaml', gateYaml(NON_INFERIORITY(0.05)))
  })
  after(async () => w.cleanup())

  const gateCheck = () => w.assay.checkGate(gate, { candidate: 'model:sentiment@2' })

  it('the anchor follows every append, and an intact log verifies', async () => {
    for (let i = 0; i < 3; i++) await gateCheck()
    const log = await w.assay.auditLog()
    assert.equal(log.length, 4, 'one alias-set and three gate checks')
    const row = w.db().prepare('SELECT seq, hash FROM audit_head').get() as { seq: number; hash: string }
    assert.deepEqual(row, { seq: 4, hash: log[3].hash })
    const ok = await w.assay.verifyAudit()
    assert.equal(ok.ok, true, ok.problem ?? '')
    assert.equal(ok.head, log[3].hash)
  })

  it('deleting the newest records directly in SQLite fails verify, naming the removed tail', async () => {
    const db = w.db()
    assert.throws(() => db.prepare('DELETE FROM audit_log WHERE seq = 4').run(), /append-only/)
    // Someone with the file drops the guard and removes the last two gate checks (no alias event points at them).
    db.exec('DROP TRIGGER audit_log_append_only_delete')
    db.prepare('DELETE FROM audit_log WHERE seq >= 3').run()
    const result = await w.assay.verifyAudit()
    assert.equal(result.ok, false)
    assert.equal(result.firstBadSeq, 3)
    assert.match(result.problem as string, /ends at record 2, but its head anchor .* says record 4: records 3–4 were removed from the end/)
  })

  it('nothing more is appended to a truncated log (an append would hide the removal)', async () => {
    await assert.rejects(gateCheck(), (e: unknown) => isAssayError(e, 'ASSAY_AUDIT_CHAIN_BROKEN') && /ends at record 2, but its head anchor says record 4/.test(e.message))
    await assert.rejects(w.assay.setAlias('sentiment', 'champion', 2, { reason: 'x' }), (e: unknown) => isAssayError(e, 'ASSAY_AUDIT_CHAIN_BROKEN'))
    assert.equal((await w.assay.auditLog()).length, 2, 'nothing was appended')
    assert.equal((await w.assay.aliasHistory('sentiment', 'champion')).length, 1, 'the alias did not move')
  })

  it('the anchor only moves forward one record at a time; rewriting it too (raw access) is caught only by --expect-head', async () => {
    const db = w.db()
    const log = await w.assay.auditLog()
    assert.throws(() => db.prepare('UPDATE audit_head SET seq = 2, hash = ?').run(log[1].hash), /only moves forward/)
    assert.throws(() => db.prepare('DELETE FROM audit_head').run(), /only moves forward/)
    // The documented limit: whoever can drop the triggers and rewrite the anchor as well truncates undetected ...
    db.exec('DROP TRIGGER audit_head_forward')
    db.prepare('UPDATE audit_head SET seq = 2, hash = ?').run(log[1].hash)
    assert.equal((await w.assay.verifyAudit()).ok, true)
    // ... except against a head kept outside the store.
    const noted = await w.assay.verifyAudit({ expectHead: 'f'.repeat(64) })
    assert.equal(noted.ok, false)
    assert.match(noted.problem as string, /not the expected/)
  })

  it('a store from before schema v6 is anchored at its last record when it migrates', async () => {
    const db = w.db()
    // A store from before v6 has neither the anchor nor the later schema (v7: token expiry; v9: gate_policies; v10: run search; v12: production; v13: runs.config_parts).
    db.exec('DROP TABLE audit_head; DROP TABLE gate_policies')
    db.exec('DROP TABLE trace_feedback; DROP TABLE trace_span_sets; DROP TABLE traces; DROP TABLE deployment_inputs; DROP TABLE deployments')
    db.exec('ALTER TABLE api_tokens DROP COLUMN expires_at')
    db.exec('ALTER TABLE runs DROP COLUMN config_parts')
    db.exec('DROP INDEX run_params_number; DROP INDEX run_params_text; DROP INDEX run_tags_value; DROP INDEX metric_summaries_last; DROP INDEX runs_start')
    db.exec('ALTER TABLE run_params DROP COLUMN value_num; ALTER TABLE run_params DROP COLUMN value_text')
    db.pragma('user_version = 5')
    const reopened = await w.h.reopen()
    const log = await reopened.auditLog()
    assert.deepEqual(w.db().prepare('SELECT seq, hash FROM audit_head').get(), { seq: 2, hash: log[1].hash })
    assert.equal((await reopened.verifyAudit()).ok, true)
    await reopened.checkGate(gate, { candidate: 'model:sentiment@2' })
    assert.equal((await reopened.verifyAudit()).count, 3)
  })
})
