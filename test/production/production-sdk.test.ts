/**
 * The SDK's production calls against a real `assay server`: deploy with input datasets hashed as a
 * run's are, traces and feedback logged while the server is down (spooled), uploaded once after
 * it returns, and the eval-record view of the traces.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { Assay } from '../../src/sdk/assay.js'
import { listen, type RunningServer } from '../../src/server/server-process.js'
import type { HttpStore } from '../../src/store/http/http-store.js'
import { rejectsWith } from '../store/fixtures.js'
import { hex } from './helpers.js'

let dir: string
let server: RunningServer

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'assay-production-sdk-'))
  process.env.ASSAY_SPOOL_DIR = path.join(dir, 'spool')
  server = await listen({ store: path.join(dir, 'store'), port: 0, auth: false })
})
after(async () => {
  await server.close()
  delete process.env.ASSAY_SPOOL_DIR
  rmSync(dir, { recursive: true, force: true })
})

test('deploy, then traces and feedback through an outage: spooled, uploaded once, and readable as eval records', async () => {
  const features = path.join(dir, 'features.csv')
  writeFileSync(features, 'a,b\n1,2\n')
  const assay = await Assay.open({ store: server.url })
  const store = assay.store as HttpStore
  const deployment = await assay.deploy({ endpoint: 'qa', version: '2026.12.1', code: 'c'.repeat(40), inputs: [{ name: 'features', path: features, role: 'other' }], owner: 'alice' })
  assert.equal(deployment.inputs[0].sha256, createHash('sha256').update('a,b\n1,2\n').digest('hex'))
  assert.deepEqual(deployment.unauditable, ['modelVersion'], 'no model version: stored, flagged')
  const fed = await assay.listDeploymentsPage({ input: deployment.inputs[0].sha256 })
  assert.deepEqual(fed.deployments.map((d) => d.id), [deployment.id])

  const port = Number(new URL(server.url).port)
  await server.close()
  const traceIds = [hex(16), hex(16)]
  const logged = await assay.logTraces(traceIds.map((traceId, i) => ({
    traceId,
    deploymentId: deployment.id,
    spans: [{ name: 'chat', startTime: 1_700_000_000_000 + i, endTime: 1_700_000_000_200 + i, attributes: { 'gen_ai.usage.input_tokens': 10, 'gen_ai.conversation.id': `c${i}`, 'assay.cost.usd': 0.5 } }],
  })))
  assert.deepEqual(logged.stored, traceIds)
  await assay.feedback(traceIds[0], { name: 'helpful', value: 1, source: 'user' })
  assert.equal(store.spool.pending, 2, 'traces and feedback were spooled')
  await rejectsWith(assay.getTrace(traceIds[0]), 'ASSAY_STORE_UNAVAILABLE')

  server = await listen({ store: path.join(dir, 'store'), port, auth: false })
  const trace = await assay.getTrace(traceIds[0])
  assert.equal(store.spool.pending, 0)
  assert.equal(trace.spans.length, 1)
  assert.deepEqual(trace.feedback.map((f) => [f.name, f.value, f.source]), [['helpful', 1, 'user']])
  const { records } = await assay.traceEvalRecordsPage({ deployment: deployment.id })
  assert.deepEqual(records, [
    { id: traceIds[0], cluster: 'c0', scores: { helpful: 1 }, latencyMs: 200, tokens: 10, cost: 0.5 },
    { id: traceIds[1], cluster: 'c1', scores: {}, latencyMs: 200, tokens: 10, cost: 0.5 },
  ])
  assert.deepEqual(readdirSync(store.spool.dir).filter((f) => f.endsWith('.wal')), [], 'the spool is empty')

  // Online, a bad trace is an error with its code; the good one beside it is stored.
  const good = hex(16)
  const error = await rejectsWith(
    assay.logTraces([
      { traceId: good, deploymentId: deployment.id, spans: [{ name: 'ok', startTime: 1, endTime: 2 }] },
      { deploymentId: hex(16), spans: [{ name: 'lost', startTime: 1, endTime: 2 }] },
    ]),
    'ASSAY_UNKNOWN_DEPLOYMENT',
  )
  assert.match(error.message, /1 of 2 traces were rejected/)
  assert.equal((await assay.getTrace(good)).spanCount, 1)
  await assay.close()
})
