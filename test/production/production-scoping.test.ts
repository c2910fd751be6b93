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
