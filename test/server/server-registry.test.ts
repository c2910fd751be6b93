/**
 * The model registry and audit log over HTTP, against a real server on 127.0.0.1 with auth on:
 * a write token promotes only through the gate (run on the server), raw alias moves and audit
 * appends are admin-only, the actor recorded is always the token, and tokens limited to some
 * experiments see nothing of the store-wide registry.
 */
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { after, before, describe, it } from 'node:test'
import { isAssayError, type ErrorCode } from '../../src/errors.js'
import { nextAuditRecord } from '../../src/audit/audit-log.js'
import { loadGateFile } from '../../src/gates/gate-spec.js'
import { gatePolicyAuditBody } from '../../src/promotion/gate-policy.js'
import { buildServer } from '../../src/server/app.js'
import { Assay } from '../../src/sdk/assay.js'
import { HttpStore } from '../../src/store/http/http-store.js'
import { LAX_CRITERION, NON_INFERIORITY, SUPERIORITY, gateYaml, openGateWorld, records, type GateWorld } from '../gates/helpers.js'
import { bearer, makeToken } from './helpers.js'

const rejectsCode = (p: Promise<unknown>, code: ErrorCode, what: string) =>
  assert.rejects(p, (e: unknown) => isAssayError(e, code) || assert.fail(`${what}: expected ${code}, got ${String(e)}`))

describe('server registry: promotion goes through the gate, the actor is the token', () => {
  let w: GateWorld
  let app: FastifyInstance
  let url = ''
  const secrets: Record<string, string> = {}
  const opened: { close(): Promise<void> }[] = []
  let acceptGate = ''
  let laxGate = ''
  const ids: Record<string, string> = {}

  async function as(label: string): Promise<Assay> {
    const saved = process.env.ASSAY_TOKEN
    process.env.ASSAY_TOKEN = secrets[label]
    try {
      const assay = await Assay.open({ store: url })
      opened.push(assay)
      return assay
    } finally {
      if (saved === undefined) delete process.env.ASSAY_TOKEN
      else process.env.ASSAY_TOKEN = saved
    }
  }

  function raw(label: string): HttpStore {
    const store = new HttpStore(url, { token: secrets[label], spoolDir: `${w.h.dir}/spool-${label}` })
    opened.push(store)
    return store
  }

  before(async () => {
    w = await openGateWorld()
    ids.v1 = await w.logRun('baseline', records((i) => i < 300))
    ids.v2 = await w.logRun('better', records((i) => i < 360))
    ids.v3 = await w.logRun('worse', records((i) => i < 200))
    await w.assay.createModel({ name: 'sentiment', owner: 'alice' })
    for (const key of ['v1', 'v2', 'v3']) await w.assay.addModelVersion({ model: 'sentiment', run: ids[key] as string, artifact: 'model/weights.json' })
    await w.assay.setAlias('sentiment', 'champion', 1, { actor: 'alice', reason: 'first release' })
    acceptGate = w.gateFile('accept.yaml', gateYaml(`${SUPERIORITY()}\n${NON_INFERIORITY(0.02)}`))
    laxGate = w.gateFile('lax.yaml', gateYaml(LAX_CRITERION))
    await w.assay.setGatePolicy('sentiment', { gate: acceptGate, reason: 'the release policy', actor: 'alice' })
    for (const [label, scope, experiments] of [
      ['admin', 'admin', null],
      ['writer', 'write', null],
      ['reader', 'read', null],
      ['writerOther', 'write', ['other']],
      ['readerGates', 'read', ['gates']],
    ] as const) {
      secrets[label] = (await makeToken(w.assay.store, scope, experiments === null ? null : [...experiments], label)).secret
    }
    app = await buildServer({ store: w.assay.store, auth: { enabled: true }, uploadDir: `${w.h.dir}/uploads` })
    await app.listen({ host: '127.0.0.1', port: 0 })
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  })
  after(async () => {
    for (const o of opened) await o.close()
    await app.close()
    await w.cleanup()
  })

  it('a write token cannot move an alias or append to the audit log by the raw routes', async () => {
    const store = raw('writer')
    const head = await store.lastAuditRecord()
    const record = nextAuditRecord(head, { kind: 'alias-set', actor: 'alice', subject: 'sentiment@champion', body: { to: 3 } })
    const event = { model: 'sentiment', alias: 'champion', kind: 'set' as const, version: 3, previousVersion: 1, actor: 'alice', at: Date.now(), reason: 'no gate' }
    await rejectsCode(store.moveAlias(record, event), 'ASSAY_FORBIDDEN', 'raw alias move with a write token')
    await rejectsCode(store.appendAudit(record), 'ASSAY_FORBIDDEN', 'raw audit append with a write token')
    await rejectsCode((await as('writer')).setAlias('sentiment', 'champion', 3, { actor: 'alice' }), 'ASSAY_FORBIDDEN', 'alias set with a write token')
    assert.equal((await w.assay.showModel('sentiment')).aliases.find((a) => a.alias === 'champion')?.version, 1, 'nothing moved')
    assert.equal((await w.assay.auditLog()).length, 2, 'the alias set and the gate policy only')
  })

  it('a write token valid for all experiments cannot promote with its own lax gate: the server runs the registered gate only', async () => {
    const writer = await as('writer')
    const before = await w.assay.aliasHistory('sentiment')
    // The attack of issue 12: a gate with one criterion `absolute, min: 0`, sent with a write token.
    await rejectsCode(writer.promote({ model: 'sentiment', version: 3, gate: laxGate }), 'ASSAY_GATE_NOT_REGISTERED', 'promote with a lax gate')
    // The request shape that carried the gate's text is refused outright.
    const lax = await fetch(`${url}/api/v1/promotions`, {
      method: 'POST',
      headers: { ...bearer(secrets.writer as string), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sentiment', version: 3, alias: 'champion', gate: { source: 'lax.yaml', text: gateYaml(LAX_CRITERION) } }),
    })
    assert.equal(lax.status, 400)
    // Without a gate, the registered one decides: the worse version is blocked.
    await rejectsCode(writer.promote({ model: 'sentiment', version: 3 }), 'ASSAY_GATE_BLOCKED', 'promote the worse version')
    // An alias with no registered gate cannot be promoted at all.
    await rejectsCode(writer.promote({ model: 'sentiment', version: 2, alias: 'canary' }), 'ASSAY_NO_GATE_POLICY', 'promote an alias with no gate')
    assert.deepEqual(await w.assay.aliasHistory('sentiment'), before, 'nothing moved')
  })

  it('only an admin token sets a gate policy; the actor recorded is the token and the chain stays intact', async () => {
    for (const label of ['writer', 'reader', 'writerOther']) {
      await rejectsCode((await as(label)).setGatePolicy('sentiment', { gate: laxGate, reason: 'loosen it', actor: 'mallory' }), 'ASSAY_FORBIDDEN', `${label} sets a gate policy`)
    }
    assert.equal((await w.assay.gatePolicy('sentiment')).version, 1, 'no version was added')
    // Even an admin's raw request must store a gate that parses, under the hash of its text, with a record describing it.
    const text = gateYaml(LAX_CRITERION)
    const forged = { model: 'sentiment', alias: 'champion', version: 2, gate: 'release', text, sha256: (await w.assay.gatePolicy('sentiment')).sha256, source: 'lax.yaml', actor: 'admin', at: Date.now(), reason: 'forged hash' }
    const forgedRecord = nextAuditRecord(await w.assay.store.lastAuditRecord(), { kind: 'gate-policy', actor: 'admin', subject: 'sentiment@champion', body: gatePolicyAuditBody(forged) })
    await rejectsCode(raw('admin').setGatePolicy(forgedRecord, forged), 'ASSAY_INVALID_ARGUMENT', 'a policy whose sha256 is not its text')
    const admin = await as('admin')
    const canary = await admin.setGatePolicy('sentiment', { alias: 'canary', gate: laxGate, reason: 'canary traffic only', actor: 'mallory' })
    assert.deepEqual([canary.alias, canary.version, canary.actor], ['canary', 1, 'token:admin'])
    const record = (await w.assay.auditLog()).find((r) => r.seq === canary.auditSeq)
    assert.deepEqual([record?.kind, record?.actor, record?.body.sha256, record?.body.reason], ['gate-policy', 'token:admin', canary.sha256, 'canary traffic only'])
    assert.deepEqual((await (await as('reader')).gatePolicies('sentiment')).map((p) => [p.alias, p.version]), [['canary', 1], ['champion', 1]])
    const verified = await w.assay.verifyAudit()
    assert.ok(verified.ok, verified.problem ?? '')
  })

  it('a write token promotes through the gate on the server; the actor recorded is the token, not the claim', async () => {
    const writer = await as('writer')
    await assert.rejects(writer.promote({ model: 'sentiment', version: 3, gate: acceptGate, actor: 'mallory' }), (e: unknown) => isAssayError(e, 'ASSAY_GATE_BLOCKED'))
    assert.equal((await w.assay.showModel('sentiment')).aliases.find((a) => a.alias === 'champion')?.version, 1, 'a blocked promotion moves nothing')

    const result = await writer.promote({ model: 'sentiment', version: 2, gate: acceptGate, actor: 'mallory' })
    assert.equal(result.check.evidence.decision, 'accept')
    assert.equal(result.check.evidence.gate.sha256, loadGateFile(acceptGate).sha256, 'the server checked the same gate bytes')
    assert.deepEqual([result.event.version, result.event.actor, result.audit.actor], [2, 'token:writer', 'token:writer'])
    const log = await w.assay.auditLog()
    const promotion = log[log.length - 1]
    assert.deepEqual([promotion.kind, promotion.actor, promotion.hash], ['promotion', 'token:writer', result.audit.hash])
    const evidence = log.find((r) => r.seq === result.check.audit?.seq)
    assert.deepEqual([evidence?.kind, evidence?.actor], ['gate-check', 'token:writer'])
    assert.ok(!JSON.stringify(log).includes('mallory'), 'the claimed actor is recorded nowhere')

    const rolled = await writer.rollback({ model: 'sentiment', reason: 'page', actor: 'mallory' })
    assert.deepEqual([rolled.event.version, rolled.event.actor, rolled.audit.actor], [1, 'token:writer', 'token:writer'])
    const check = await writer.checkGate(acceptGate, { candidate: 'model:sentiment@2', baseline: 'model:sentiment@1', actor: 'mallory' })
    assert.equal((await w.assay.auditLog()).find((r) => r.seq === check.audit?.seq)?.actor, 'token:writer')
    assert.ok((await writer.verifyAudit()).ok, 'the chain verifies over HTTP')
  })

  it('an admin may move an alias by hand; the actor recorded is the admin token and the chain stays intact', async () => {
    const admin = await as('admin')
    const event = await admin.setAlias('sentiment', 'challenger', 3, { actor: 'mallory', reason: 'shadow' })
    assert.equal(event.actor, 'token:admin')
    const last = (await w.assay.auditLog()).at(-1)
    assert.deepEqual([last?.kind, last?.actor], ['alias-set', 'token:admin'])
    const store = raw('admin')
    await store.appendAudit(nextAuditRecord(await store.lastAuditRecord(), { kind: 'gate-check', actor: 'mallory', subject: 'x', body: {} }))
    assert.equal((await w.assay.auditLog()).at(-1)?.actor, 'token:admin')
    const verified = await w.assay.verifyAudit()
    assert.ok(verified.ok, verified.problem ?? '')
  })

  it('promotion, rollback and gate checks need write and a token valid for all experiments', async () => {
    for (const label of ['reader', 'writerOther', 'readerGates']) {
      const assay = await as(label)
      await rejectsCode(assay.promote({ model: 'sentiment', version: 2, gate: acceptGate }), 'ASSAY_FORBIDDEN', `${label} promotes`)
      await rejectsCode(assay.rollback({ model: 'sentiment' }), 'ASSAY_FORBIDDEN', `${label} rolls back`)
      await rejectsCode(assay.checkGate(acceptGate, { candidate: 'model:sentiment@2' }), 'ASSAY_FORBIDDEN', `${label} records a gate check`)
    }
  })
})
