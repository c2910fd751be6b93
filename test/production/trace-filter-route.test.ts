/**
 * GET /api/v1/traces?deployment=D&filter=…: the trace filter on the route, its errors by code,
 * and token scoping (a filter never reaches another deployment's traces).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Deployment, TraceSummary } from '../../src/record/production.js'
import { bearer, makeToken, testServer, type TestServer } from '../server/helpers.js'
import { llmTrace, scopedDeployments } from './helpers.js'

let server: TestServer
let served: Deployment
let orphan: Deployment
let qaReader: string
let otherReader: string
const servedTraces: string[] = []
let orphanTrace: string

before(async () => {
  server = await testServer()
  ;({ served, orphan } = await scopedDeployments(server.store))
  for (let i = 0; i < 3; i++) {
    const trace = llmTrace(served.id, 1_700_000_001_000 + i * 1000)
    servedTraces.push(trace.traceId)
    await server.store.logTraces([trace])
  }
  const theirs = llmTrace(orphan.id)
  orphanTrace = theirs.traceId
  await server.store.logTraces([theirs])
  qaReader = (await makeToken(server.store, 'read', ['qa'])).secret
  otherReader = (await makeToken(server.store, 'read', ['other'])).secret
})
after(async () => {
  await server.close()
})

const get = (query: Record<string, string>, secret: string) => server.app.inject({ method: 'GET', url: `/api/v1/traces?${new URLSearchParams(query).toString()}`, headers: bearer(secret) })

test('the filter narrows the listing and pages with its cursor', async () => {
  const filter = `start_time >= 1700000002000 and model = 'gpt-x' and not id = '${servedTraces[2]}'`
  const res = await get({ deployment: served.id, filter }, qaReader)
  assert.equal(res.statusCode, 200, res.body)
  assert.deepEqual((res.json() as { traces: TraceSummary[] }).traces.map((t) => t.traceId), [servedTraces[1]])
  const first = (await get({ deployment: served.id, filter: 'latency_ms >= 400', limit: '2' }, qaReader)).json() as { traces: TraceSummary[]; nextCursor: string }
  assert.deepEqual(first.traces.map((t) => t.traceId), servedTraces.slice(0, 2))
  const second = (await get({ deployment: served.id, filter: 'latency_ms >= 400', limit: '2', cursor: first.nextCursor }, qaReader)).json() as { traces: TraceSummary[]; nextCursor: string | null }
  assert.deepEqual(second.traces.map((t) => t.traceId), [servedTraces[2]])
  assert.equal(second.nextCursor, null)
})

test('a bad filter is 400 ASSAY_INVALID_FILTER, with the reason', async () => {
  for (const filter of ['latency > 5', "status = 'ok' or", "model = 'x'); DROP TABLE traces; --"]) {
    const res = await get({ deployment: served.id, filter }, qaReader)
    assert.equal(res.statusCode, 400, filter)
    const body = res.json() as { error: { code: string; message: string } }
    assert.equal(body.error.code, 'ASSAY_INVALID_FILTER', filter)
    assert.match(body.error.message, /filter error at character/)
  }
  assert.equal((await server.store.tracesPage({ deployment: served.id, limit: 10 })).traces.length, 3, 'the traces are all still there')
  assert.equal((await get({ deployment: served.id, filter: 'x'.repeat(5000) }, qaReader)).statusCode, 400)
})

test('a limited token sees only its deployments, filter or not', async () => {
  assert.equal((await get({ deployment: served.id, filter: 'latency_ms > 0' }, otherReader)).statusCode, 403)
  assert.equal((await get({ filter: `id = '${orphanTrace}'` }, qaReader)).statusCode, 403, 'a limited token must name the deployment')
  assert.equal((await get({ deployment: orphan.id, filter: 'latency_ms > 0' }, qaReader)).statusCode, 403)
  const res = await get({ deployment: served.id, filter: `id = '${orphanTrace}' or latency_ms < 0` }, qaReader)
  assert.equal(res.statusCode, 200)
  assert.deepEqual((res.json() as { traces: TraceSummary[] }).traces, [])
})
