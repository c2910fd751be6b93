/**
 * Token scoping of the production routes: a deployment belongs to the experiment of the run behind
 * its model version; tokens limited to experiments see and write only those deployments and their
 * traces, and a deployment without a model version only to tokens valid for all experiments.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Deployment } from '../../src/record/production.js'
import { bearer, makeToken, testServer, type TestServer } from '../server/helpers.js'
import { hex, llmTrace, newDeployment, scopedDeployments } from './helpers.js'

let server: TestServer
let served: Deployment
let orphan: Deployment
let qaWriter: string
let otherReader: string
let traceId: string

before(async () => {
  server = await testServer()
  ;({ served, orphan } = await scopedDeployments(server.store))
  const trace = llmTrace(served.id)
  traceId = trace.traceId
  await server.store.logTraces([trace])
  qaWriter = (await makeToken(server.store, 'write', ['qa'])).secret
  otherReader = (await makeToken(server.store, 'read', ['other'])).secret
})
after(async () => {
  await server.close()
})

const inject = (method: 'GET' | 'POST', url: string, secret: string, payload?: unknown) =>
  server.app.inject({ method, url, headers: bearer(secret), ...(payload === undefined ? {} : { payload: payload as object }) })

test('a token limited to an experiment reads and writes the deployments of that experiment only', async () => {
  const listed = await inject('GET', '/api/v1/deployments', qaWriter)
  assert.equal(listed.statusCode, 200)
  assert.deepEqual((listed.json() as { deployments: Deployment[] }).deployments.map((d) => d.id), [served.id])
  assert.equal((await inject('GET', `/api/v1/deployments/${orphan.id}`, qaWriter)).statusCode, 403)
  assert.equal((await inject('GET', `/api/v1/deployments/${served.id}`, otherReader)).statusCode, 403)
  assert.equal((await inject('GET', `/api/v1/traces/${traceId}`, otherReader)).statusCode, 403)
  assert.equal((await inject('GET', '/api/v1/traces', qaWriter)).statusCode, 403, 'a limited token must name the deployment')
  assert.equal((await inject('GET', `/api/v1/traces?deployment=${served.id}`, qaWriter)).statusCode, 200)
  assert.equal((await inject('POST', '/api/v1/deployments', qaWriter, newDeployment())).statusCode, 403)

  const mine = llmTrace(served.id)
  const theirs = llmTrace(orphan.id)
  const logged = await inject('POST', '/api/v1/traces', qaWriter, { traces: [mine, theirs] })
  assert.equal(logged.statusCode, 200)
  const result = logged.json() as { stored: string[]; rejected: { traceId: string; code: string }[] }
  assert.deepEqual(result.stored, [mine.traceId])
  assert.deepEqual(result.rejected.map((r) => [r.traceId, r.code]), [[theirs.traceId, 'ASSAY_FORBIDDEN']])
  await assert.rejects(server.store.getTrace(theirs.traceId))

  const feedback = { id: hex(8), traceId, name: 'ok', value: 1, source: 'user', at: 1 }
  assert.equal((await inject('POST', '/api/v1/feedback', qaWriter, feedback)).statusCode, 201)
  const otherWriter = (await makeToken(server.store, 'write', ['other'])).secret
  assert.equal((await inject('POST', '/api/v1/feedback', otherWriter, { ...feedback, id: hex(8) })).statusCode, 403)
  assert.equal((await server.store.getTrace(traceId)).feedback.length, 1)
})

/** An OTLP/JSON request of `n` one-span traces per deployment, each span `pad` characters of attribute: past the route's inline limit it is decoded in a thread. */
function otlpJson(deployments: string[], n: number, pad: number): { body: string; traceIds: Map<string, string[]> } {
  const traceIds = new Map<string, string[]>()
  const spans = deployments.flatMap((d) => Array.from({ length: n }, () => {
    const traceId = hex(16)
    traceIds.set(d, [...(traceIds.get(d) ?? []), traceId])
    return {
      traceId, spanId: hex(8), name: 'chat', kind: 3, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000500000000',
      attributes: [{ key: 'assay.deployment.id', value: { stringValue: d } }, { key: 'output.text', value: { stringValue: 'x'.repeat(pad) } }],
    }
  }))
  return { body: JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 't' }, spans }] }] }), traceIds }
}

test('OTLP from a limited token: traces of other deployments are refused in partial_success, small bodies and those decoded in a thread alike', async () => {
  for (const pad of [10, 1000]) {
    const { body, traceIds } = otlpJson([served.id, orphan.id], 60, pad)
    assert.equal(body.length > 64 * 1024, pad === 1000)
    const answer = await server.app.inject({ method: 'POST', url: '/v1/traces', headers: { ...bearer(qaWriter), 'content-type': 'application/json' }, payload: body })
    assert.equal(answer.statusCode, 200, answer.body)
    const partial = (answer.json() as { partialSuccess?: { rejectedSpans: number; errorMessage: string } }).partialSuccess
    assert.equal(partial?.rejectedSpans, 60)
    assert.match(partial?.errorMessage ?? '', /ASSAY_FORBIDDEN/)
    for (const id of traceIds.get(served.id) ?? []) assert.equal((await server.store.getTrace(id)).spanCount, 1)
    for (const id of traceIds.get(orphan.id) ?? []) await assert.rejects(server.store.getTrace(id), { code: 'ASSAY_TRACE_NOT_FOUND' })
    // Only traces it may not write: 403, nothing stored.
    const only = otlpJson([orphan.id], 60, pad)
    const refused = await server.app.inject({ method: 'POST', url: '/v1/traces', headers: { ...bearer(qaWriter), 'content-type': 'application/json' }, payload: only.body })
    assert.equal(refused.statusCode, 403, refused.body)
    for (const id of only.traceIds.get(orphan.id) ?? []) await assert.rejects(server.store.getTrace(id), { code: 'ASSAY_TRACE_NOT_FOUND' })
  }
})
