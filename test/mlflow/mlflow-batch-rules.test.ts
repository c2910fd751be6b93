/**
 * The MLflow routes write through the same checks as assay's own batch route: a metric key assay
 * refuses is refused there too (INVALID_PARAMETER_VALUE, nothing stored), and one log-batch names a
 * param once, as MLflow's own server requires.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { bearer, makeToken, testServer, type TestServer } from '../server/helpers.js'

let server: TestServer
let write: string

before(async () => {
  server = await testServer()
  write = (await makeToken(server.store, 'write')).secret
})
after(async () => server.close())

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- MLflow answers are read field by field
async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const res = await server.app.inject({ method: 'POST', url, headers: { ...bearer(write), 'content-type': 'application/json' }, payload: JSON.stringify(body) })
  return { status: res.statusCode, json: res.body === '' ? {} : JSON.parse(res.body) }
}

async function startRun(): Promise<string> {
  const run = await post('/api/2.0/mlflow/runs/create', { experiment_id: '0', start_time: String(Date.now()), tags: [] })
  assert.equal(run.status, 200, JSON.stringify(run.json))
  return run.json.run.info.run_id as string
}

test('a metric key assay refuses is refused through log-batch and log-metric, and nothing is stored', async () => {
  const runId = await startRun()
  for (const key of ['', 'a\nb', '__proto__', 'k'.repeat(400), ' sp ']) {
    const batch = await post('/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics: [{ key, value: 1, timestamp: '1', step: '0' }] })
    assert.equal(batch.status, 400, `log-batch ${JSON.stringify(key)}: ${JSON.stringify(batch.json)}`)
    assert.equal(batch.json.error_code, 'INVALID_PARAMETER_VALUE')
    const one = await post('/api/2.0/mlflow/runs/log-metric', { run_id: runId, key, value: 1, timestamp: '1', step: '0' })
    assert.equal(one.status, 400, `log-metric ${JSON.stringify(key)}: ${JSON.stringify(one.json)}`)
  }
  assert.deepEqual(Object.keys((await server.store.getRun(runId)).metrics), [])
  const ok = await post('/api/2.0/mlflow/runs/log-metric', { run_id: runId, key: 'loss', value: 0.5, timestamp: '1', step: '0' })
  assert.equal(ok.status, 200, JSON.stringify(ok.json))
})

test('one log-batch naming a param twice is refused whole, as MLflow does', async () => {
  const runId = await startRun()
  const twice = await post('/api/2.0/mlflow/runs/log-batch', { run_id: runId, params: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }], metrics: [{ key: 'm', value: 1, timestamp: '1', step: '0' }] })
  assert.equal(twice.status, 400, JSON.stringify(twice.json))
  assert.equal(twice.json.error_code, 'INVALID_PARAMETER_VALUE')
  assert.match(twice.json.message, /duplicate parameter key/)
  const record = await server.store.getRun(runId)
  assert.equal(record.params.a, undefined)
  assert.deepEqual(Object.keys(record.metrics), [], 'nothing of the batch was stored')
})
