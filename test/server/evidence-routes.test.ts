/**
 * The reads behind the web UI's evidence views (src/server/routes/evidence.ts), in process: one
 * audit record by sequence number, a deployment's lineage, and the monitor and canary decisions
 * about a deployment, paged, with a token limited to experiments seeing only decisions whose every
 * deployment it may read.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { appendAuditRecord } from '../../src/audit/append-and-verify.js'
import type { Deployment } from '../../src/record/production.js'
import type { AuditRecord } from '../../src/record/types.js'
import { addModelVersion, createModel } from '../../src/registry/registry.js'
import { newDeployment } from '../production/helpers.js'
import { newRun } from '../store/fixtures.js'
import { bearer, makeToken, testServer, type TestServer } from './helpers.js'

let server: TestServer
let a: Deployment
let a2: Deployment
let b: Deployment
let runA: string
let all: string
let onlyA: string
const seqs: Record<string, number> = {}

before(async () => {
  server = await testServer()
  const store = server.store
  const ra = newRun({ experiment: 'exp-a' })
  const rb = newRun({ experiment: 'exp-b' })
  await store.createRun(ra)
  await store.createRun(rb)
  runA = ra.id
  await createModel(store, { name: 'ma', owner: 'alice', actor: 'alice', at: 1 })
  await createModel(store, { name: 'mb', owner: 'bob', actor: 'bob', at: 1 })
  await addModelVersion(store, { model: 'ma', run: ra.id, actor: 'alice', at: 2 })
  await addModelVersion(store, { model: 'mb', run: rb.id, actor: 'bob', at: 2 })
  a = await store.createDeployment(newDeployment({ endpoint: 'a', model: 'ma', modelVersion: 1 }))
  a2 = await store.createDeployment(newDeployment({ endpoint: 'a2', model: 'ma', modelVersion: 1 }))
  b = await store.createDeployment(newDeployment({ endpoint: 'b', model: 'mb', modelVersion: 1 }))
  const append = async (name: string, kind: AuditRecord['kind'], body: unknown): Promise<void> => {
    seqs[name] = (await appendAuditRecord(store, { kind, actor: 'test', subject: name, body })).seq
  }
  await append('other', 'gate-check', { deployment: { id: a.id } })
  await append('monitor-a', 'monitor-decision', { deployment: { id: a.id }, decision: 'ok' })
  await append('monitor-b', 'monitor-decision', { deployment: { id: b.id }, decision: 'warn' })
  await append('canary-a-b', 'canary-decision', { champion: { id: a.id }, challenger: { id: b.id }, decision: 'continue' })
  await append('canary-a-a2', 'canary-decision', { champion: { id: a2.id }, challenger: { id: a.id }, decision: 'promote' })
  all = (await makeToken(store, 'read', null, 'all')).secret
  onlyA = (await makeToken(store, 'read', ['exp-a'], 'only-a')).secret
})
after(async () => server.close())

async function get(path: string, secret: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await server.app.inject({ method: 'GET', url: path, headers: bearer(secret) })
  return { status: response.statusCode, body: response.json() as Record<string, unknown> }
}

const code = (body: Record<string, unknown>): string => (body.error as { code: string }).code

test('one audit record by its sequence number; a missing one is ASSAY_AUDIT_RECORD_NOT_FOUND', async () => {
  const first = await get('/api/v1/audit/records/1', all)
  assert.equal(first.status, 200)
  assert.equal((first.body.record as AuditRecord).seq, 1)
  const monitor = await get(`/api/v1/audit/records/${seqs['monitor-a']}`, all)
  assert.equal((monitor.body.record as AuditRecord).subject, 'monitor-a')
  const missing = await get('/api/v1/audit/records/999', all)
  assert.equal(missing.status, 404)
  assert.equal(code(missing.body), 'ASSAY_AUDIT_RECORD_NOT_FOUND')
  assert.equal((await get('/api/v1/audit/records/0', all)).status, 400)
  assert.equal((await get('/api/v1/audit/records/x', all)).status, 400)
  const limited = await get('/api/v1/audit/records/1', onlyA)
  assert.equal(limited.status, 403, 'the audit log is store-wide: a limited token reads none of it')
})

test("a deployment's decisions, in sequence order and paged; a limited token sees none that name a foreign deployment", async () => {
  const whole = await get(`/api/v1/deployments/${a.id}/decisions`, all)
  assert.equal(whole.status, 200)
  assert.deepEqual((whole.body.decisions as AuditRecord[]).map((r) => r.subject), ['monitor-a', 'canary-a-b', 'canary-a-a2'])
  assert.equal(whole.body.nextCursor, null)
  // One a page: the cursor goes on after each, and the last page says there is no more.
  const paged: string[] = []
  let cursor: string | null = null
  for (let i = 0; i < 10; i++) {
    const page = await get(`/api/v1/deployments/${a.id}/decisions?limit=1${cursor === null ? '' : `&cursor=${cursor}`}`, all)
    paged.push(...(page.body.decisions as AuditRecord[]).map((r) => r.subject))
    cursor = page.body.nextCursor as string | null
    if (cursor === null) break
  }
  assert.deepEqual(paged, ['monitor-a', 'canary-a-b', 'canary-a-a2'])
  const limited = await get(`/api/v1/deployments/${a.id}/decisions`, onlyA)
  assert.equal(limited.status, 200)
  assert.deepEqual((limited.body.decisions as AuditRecord[]).map((r) => r.subject), ['monitor-a', 'canary-a-a2'])
  const foreign = await get(`/api/v1/deployments/${b.id}/decisions`, onlyA)
  assert.equal(foreign.status, 403)
  assert.equal(code(foreign.body), 'ASSAY_FORBIDDEN')
})

test("a deployment's lineage down to its run, for a token that may read the deployment only", async () => {
  const lineage = await get(`/api/v1/deployments/${a.id}/lineage`, onlyA)
  assert.equal(lineage.status, 200)
  const l = lineage.body.lineage as { run: { id: string }; modelVersion: { model: string; version: number } }
  assert.equal(l.run.id, runA)
  assert.deepEqual([l.modelVersion.model, l.modelVersion.version], ['ma', 1])
  const foreign = await get(`/api/v1/deployments/${b.id}/lineage`, onlyA)
  assert.equal(foreign.status, 403)
  assert.equal(code(foreign.body), 'ASSAY_FORBIDDEN')
  assert.equal((await get(`/api/v1/deployments/${'0'.repeat(32)}/lineage`, all)).status, 404)
})
