/**
 * Monitor checks against `assay server`: a recorded check runs on the server (POST
 * /api/v1/monitor-checks) with a write token, which is the actor of the decision and of the
 * rollback it makes; a read token cannot record a decision or roll back, but can decide without
 * recording (the client reads the window over GET /api/v1/traces/monitor-rows).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { verifyAuditLog } from '../../src/audit/append-and-verify.js'
import { parseMonitorSpec } from '../../src/monitor/monitor-spec.js'
import type { Deployment } from '../../src/record/production.js'
import { currentHolder } from '../../src/registry/registry.js'
import { Assay } from '../../src/sdk/assay.js'
import { bearer, makeToken, testServer, type TestServer } from '../server/helpers.js'
import { rejectsWith } from '../store/fixtures.js'
import { newDeployment } from './helpers.js'
import { HOUR, MONITOR_TEXT, qaModel, storedTraffic, storeTraffic } from './stored-traffic.js'

let server: TestServer
let url: string
let deployment: Deployment
let reader: string
let writer: string
const monitor = parseMonitorSpec(MONITOR_TEXT, 'qa.monitor.yaml')

before(async () => {
  server = await testServer()
  await server.app.listen({ host: '127.0.0.1', port: 0 })
  url = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`
  const store = server.store
  await qaModel(store, { champion: true })
  deployment = await store.createDeployment(newDeployment({ model: 'qa', alias: 'champion' }))
  // The server's clock decides the window: traffic of the last two hours, the last one with a quality drop.
  const now = Date.now()
  await storeTraffic(store, storedTraffic(7, deployment.id, 120, now - 2 * HOUR, now - HOUR))
  await storeTraffic(store, storedTraffic(8, deployment.id, 120, now - HOUR, now - 10_000, { quality: -0.3 }))
  reader = (await makeToken(store, 'read', null, 'reader')).secret
  writer = (await makeToken(store, 'write', null, 'writer')).secret
})
after(async () => {
  delete process.env.ASSAY_TOKEN
  await server.close()
})

async function assayAs(secret: string): Promise<Assay> {
  process.env.ASSAY_TOKEN = secret
  return Assay.open({ store: url })
}

test('a read token cannot record a monitor decision or roll back; it can decide without recording', async () => {
  const response = await server.app.inject({
    method: 'POST',
    url: '/api/v1/monitor-checks',
    headers: bearer(reader),
    payload: { monitor: { source: 'qa.monitor.yaml', text: MONITOR_TEXT }, deployment: deployment.id, window: '1h', reference: 'trailing:1h' },
  })
  assert.equal(response.statusCode, 403)
  assert.equal((response.json() as { error: { code: string } }).error.code, 'ASSAY_FORBIDDEN')
  const assay = await assayAs(reader)
  try {
    await rejectsWith(assay.checkMonitor(monitor, { deployment: deployment.id, window: '1h', reference: 'trailing:1h' }), 'ASSAY_FORBIDDEN')
    const unrecorded = await assay.checkMonitor(monitor, { deployment: deployment.id, window: '1h', reference: 'trailing:1h', record: false })
    assert.equal(unrecorded.evidence.decision, 'rollback', unrecorded.evidence.reason)
    assert.equal(unrecorded.audit, null)
  } finally {
    await assay.close()
  }
  assert.equal(await currentHolder(server.store, 'qa', 'champion'), 2, 'nothing moved')
  assert.equal((await server.store.auditRecords()).some((r) => r.kind === 'monitor-decision'), false)
})

test('with a write token the server decides, records the decision and rolls the alias back, both by the token', async () => {
  const assay = await assayAs(writer)
  try {
    const result = await assay.checkMonitor(monitor, { deployment: deployment.id, window: '1h', reference: 'trailing:1h', actor: 'someone-else' })
    assert.equal(result.evidence.decision, 'rollback', result.evidence.reason)
    assert.equal(result.evidence.actor, 'token:writer', 'the actor is the token, not the claim')
    assert.equal(result.rolledBack?.event.version, 1)
  } finally {
    await assay.close()
  }
  assert.equal(await currentHolder(server.store, 'qa', 'champion'), 1)
  const log = await server.store.auditRecords()
  assert.deepEqual(log.slice(-2).map((r) => [r.kind, r.actor]), [['monitor-decision', 'token:writer'], ['rollback', 'token:writer']])
  assert.equal((await verifyAuditLog(server.store)).ok, true)
})
