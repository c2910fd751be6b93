/**
 * runs/log-inputs as the MLflow Python client sends it (mlflow.log_input), replayed against a real
 * server over SQLite. The store's rule behind it (datasets added to a running run) is tested on
 * every backend in test/store/store-contract.test.ts.
 * Source (repository mlflow/mlflow): mlflow/store/tracking/rest_store.py @
 * 001cc178a1442b488da41853c497adc5285a284d, log_inputs: POST runs/log-inputs with
 * message_to_json(LogInputs(run_id, datasets=[DatasetInput.to_proto()])), field names as in the
 * proto (snake case): { run_id, datasets: [{ tags: [{ key, value }], dataset: { name, digest,
 * source_type, source, schema, profile } }] }. The values are of the form mlflow.data.from_pandas
 * writes: an 8-hex digest, source as JSON text, schema as mlflow_colspec, profile with num_rows.
 * The npm `mlflow` client has no call for log-inputs, so no second client drives this route.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, test } from 'node:test'
import { computeEnvelope } from '../../src/record/envelope.js'
import { bearer, makeToken, testServer, type TestServer } from '../server/helpers.js'

let server: TestServer
let write: string
let read: string

before(async () => {
  server = await testServer()
  write = (await makeToken(server.store, 'write')).secret
  read = (await makeToken(server.store, 'read')).secret
})
after(async () => server.close())

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- MLflow answers are read field by field
async function post(url: string, body: unknown, secret = write): Promise<{ status: number; json: Record<string, any> }> {
  const res = await server.app.inject({ method: 'POST', url, headers: { ...bearer(secret), 'content-type': 'application/json' }, payload: JSON.stringify(body) })
  return { status: res.statusCode, json: res.body === '' ? {} : JSON.parse(res.body) }
}

async function startRun(): Promise<string> {
  const run = await post('/api/2.0/mlflow/runs/create', { experiment_id: '0', start_time: String(Date.now()), tags: [] })
  assert.equal(run.status, 200, JSON.stringify(run.json))
  return run.json.run.info.run_id as string
}

const SCHEMA = JSON.stringify({ mlflow_colspec: [{ type: 'double', name: 'sepal length (cm)', required: true }, { type: 'long', name: 'target', required: true }] })

function input(name: string, digest: string, context: string | null): unknown {
  return {
    tags: context === null ? [] : [{ key: 'mlflow.data.context', value: context }],
    dataset: { name, digest, source_type: 'local', source: `{"uri": "/data/${name}.csv"}`, schema: SCHEMA, profile: JSON.stringify({ num_rows: 150, num_elements: 300 }) },
  }
}

test('log_input records each dataset input as a reference dataset and get_run gives it back as logged', async () => {
  const runId = await startRun()
  const before = await server.store.getRun(runId)
  const body = { run_id: runId, datasets: [input('iris-train', 'a1b2c3d4', 'training'), input('iris-eval', '0f9e8d7c', 'validation'), input('iris-x', '11223344', null)] }
  const logged = await post('/api/2.0/mlflow/runs/log-inputs', body)
  assert.equal(logged.status, 200, JSON.stringify(logged.json))
  assert.deepEqual(logged.json, {})

  const record = await server.store.getRun(runId)
  const train = record.datasets.find((d) => d.name === 'iris-train')
  // Canonical JSON: keys sorted, the source text kept as the client wrote it (json.dumps, with its space).
  const source = JSON.stringify({ digest: 'a1b2c3d4', source: '{"uri": "/data/iris-train.csv"}', source_type: 'local' })
  assert.deepEqual(train, {
    name: 'iris-train',
    role: 'train',
    kind: 'reference',
    // The sha256 of the canonical JSON of { digest, source, source_type } (docs/mlflow.md).
    sha256: createHash('sha256').update(source).digest('hex'),
    sizeBytes: 0,
    fileCount: 0,
    rows: 150,
    columns: ['sepal length (cm)', 'target'],
    source,
  })
  assert.deepEqual(
    record.datasets.map((d) => [d.name, d.role]),
    [['iris-eval', 'validation'], ['iris-train', 'train'], ['iris-x', 'other']],
  )
  // Added while running, the datasets are part of the config fingerprint as if recorded at creation.
  assert.deepEqual(record.envelope, computeEnvelope({ ...before, datasets: record.datasets }))
  assert.notEqual(record.envelope.config, before.envelope.config)

  const got = await server.app.inject({ method: 'GET', url: `/api/2.0/mlflow/runs/get?run_id=${runId}`, headers: bearer(write) })
  const inputs = JSON.parse(got.body).run.inputs.dataset_inputs as { tags: unknown[]; dataset: Record<string, string> }[]
  const shown = inputs.find((i) => i.dataset.name === 'iris-train')
  assert.deepEqual(shown, { tags: [{ key: 'mlflow.data.context', value: 'train' }], dataset: { name: 'iris-train', digest: 'a1b2c3d4', source_type: 'local', source: '{"uri": "/data/iris-train.csv"}' } })

  // The same inputs again change nothing but the heartbeat (every write to a run is one).
  const again = await post('/api/2.0/mlflow/runs/log-inputs', body)
  assert.equal(again.status, 200, JSON.stringify(again.json))
  assert.deepEqual({ ...(await server.store.getRun(runId)), heartbeatAt: 0 }, { ...record, heartbeatAt: 0 })
})

test('another digest under a logged name is a 4xx conflict, an ended run refuses inputs, and nothing is written', async () => {
  const runId = await startRun()
  assert.equal((await post('/api/2.0/mlflow/runs/log-inputs', { run_id: runId, datasets: [input('iris', 'a1b2c3d4', 'training')] })).status, 200)
  const before = await server.store.getRun(runId)

  const conflict = await post('/api/2.0/mlflow/runs/log-inputs', { run_id: runId, datasets: [input('other', '99999999', 'testing'), input('iris', 'ffffffff', 'training')] })
  assert.equal(conflict.status, 400)
  assert.equal(conflict.json.error_code, 'INVALID_PARAMETER_VALUE')
  assert.equal(conflict.json.assay_code, 'ASSAY_DATASET_CONFLICT')
  assert.match(conflict.json.message, /iris/)
  assert.deepEqual(await server.store.getRun(runId), before)

  const models = await post('/api/2.0/mlflow/runs/log-inputs', { run_id: runId, models: [{ model_id: 'm-1' }] })
  assert.equal(models.status, 400)
  assert.equal(models.json.error_code, 'INVALID_PARAMETER_VALUE')

  const readOnly = await post('/api/2.0/mlflow/runs/log-inputs', { run_id: runId, datasets: [input('new', '12345678', 'training')] }, read)
  assert.equal(readOnly.status, 403)
  assert.equal(readOnly.json.error_code, 'PERMISSION_DENIED')

  const unknown = await post('/api/2.0/mlflow/runs/log-inputs', { run_id: 'f'.repeat(32), datasets: [input('new', '12345678', 'training')] })
  assert.equal(unknown.status, 404)
  assert.equal(unknown.json.error_code, 'RESOURCE_DOES_NOT_EXIST')

  assert.equal((await post('/api/2.0/mlflow/runs/update', { run_id: runId, status: 'FINISHED', end_time: String(Date.now()) })).status, 200)
  const ended = await post('/api/2.0/mlflow/runs/log-inputs', { run_id: runId, datasets: [input('new', '12345678', 'training')] })
  assert.equal(ended.status, 400)
  assert.equal(ended.json.error_code, 'INVALID_PARAMETER_VALUE')
  assert.equal(ended.json.assay_code, 'ASSAY_RUN_NOT_ACTIVE')
  assert.deepEqual((await server.store.getRun(runId)).datasets, before.datasets)
})
