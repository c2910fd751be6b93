/**
 * An alias moved through MLflow's SetRegisteredModelAlias is a promotion: the gate registered for
 * the alias runs on the server, and an admin token does not skip it.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { buildServer } from '../../src/server/app.js'
import { NON_INFERIORITY, SUPERIORITY, gateYaml, openGateWorld, records, type GateWorld } from '../gates/helpers.js'
import { bearer, makeToken } from '../server/helpers.js'

let w: GateWorld
let app: Awaited<ReturnType<typeof buildServer>>
let write: string
let admin: string

before(async () => {
  w = await openGateWorld()
  const baseline = await w.logRun('baseline', records((i) => i < 300))
  const worse = await w.logRun('worse', records((i) => i < 200))
  const better = await w.logRun('better', records((i) => i < 380))
  await w.assay.createModel({ name: 'sentiment', owner: 'alice' })
  for (const run of [baseline, worse, better]) await w.assay.addModelVersion({ model: 'sentiment', run, artifact: 'model/weights.json' })
  await w.assay.setAlias('sentiment', 'champion', 1, { reason: 'first release', actor: 'alice' })
  await w.assay.setGatePolicy('sentiment', { gate: w.gateFile('strict.yaml', gateYaml(`${SUPERIORITY()}\n${NON_INFERIORITY(0.02)}`)), reason: 'release policy', actor: 'carol' })
  app = await buildServer({ store: w.assay.store, auth: { enabled: true } })
  write = (await makeToken(w.assay.store, 'write')).secret
  admin = (await makeToken(w.assay.store, 'admin')).secret
})
after(async () => {
  await app.close()
  await w.cleanup()
})

async function setAlias(version: string, secret: string): Promise<{ status: number; body: { error_code?: string; assay_code?: string; message?: string } }> {
  const res = await app.inject({ method: 'POST', url: '/api/2.0/mlflow/registered-models/alias', headers: { ...bearer(secret), 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'sentiment', alias: 'champion', version }) })
  return { status: res.statusCode, body: JSON.parse(res.body) }
}

test('the registered gate blocks a worse version for every token, admin included, and promotes a better one', async () => {
  for (const secret of [write, admin]) {
    const blocked = await setAlias('2', secret)
    assert.equal(blocked.status, 403)
    assert.equal(blocked.body.error_code, 'PERMISSION_DENIED')
    assert.equal(blocked.body.assay_code, 'ASSAY_GATE_BLOCKED')
  }
  assert.equal((await w.assay.showModel('sentiment')).aliases.find((a) => a.alias === 'champion')?.version, 1, 'no alias moved')

  const promoted = await setAlias('3', write)
  assert.equal(promoted.status, 200, JSON.stringify(promoted.body))
  const byAlias = await app.inject({ method: 'GET', url: '/api/2.0/mlflow/registered-models/alias?name=sentiment&alias=champion', headers: bearer(write) })
  assert.equal(JSON.parse(byAlias.body).model_version.version, '3')
  const promotion = (await w.assay.store.auditRecords()).find((r) => r.kind === 'promotion')
  assert.ok(promotion !== undefined, 'the move is a promotion in the audit log')
  assert.equal(promotion.actor, 'token:write-token')
})
