/**
 * The npm `mlflow` package (2.0.7, an MLflow REST client for Node.js written elsewhere) drives the
 * tracking routes end to end against `assay server` listening on a real port: Runs, Metrics,
 * Experiments (create, get; it has no get-by-name method, so that GET goes through its own
 * MLflowBase.req) and Artifacts.list (GET artifacts/list with run_id, run_uuid and path).
 */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { after, before, test } from 'node:test'
import { bearer, makeToken, testServer, type TestServer } from '../server/helpers.js'

const require = createRequire(import.meta.url)
interface Client {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- MLflow answers are read field by field
  Runs: Record<string, (args: Record<string, unknown>) => Promise<any>>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- MLflow answers are read field by field
  Metrics: Record<string, (args: Record<string, unknown>) => Promise<any>>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- MLflow answers are read field by field
  Experiments: Record<string, (args: Record<string, unknown>) => Promise<any>> & { req: (method: string, path: string, param: Record<string, unknown>) => Promise<any> }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- MLflow answers are read field by field
  Artifacts: Record<string, (args: Record<string, unknown>) => Promise<any>>
}
const MLflow = require('mlflow') as new (options: { endpoint: string; headers: Record<string, string> }) => Client

let server: TestServer
let client: Client
let address: string
let secret: string
let quietLog: typeof console.log

before(async () => {
  server = await testServer()
  secret = (await makeToken(server.store, 'write')).secret
  address = await server.app.listen({ host: '127.0.0.1', port: 0 })
  client = new MLflow({ endpoint: address, headers: bearer(secret) })
  // The package prints every request body it sends.
  quietLog = console.log
  console.log = () => undefined
})
after(async () => {
  console.log = quietLog
  await server.close()
})

test('the npm mlflow client creates a run, logs, ends it and reads it back', async () => {
  const { run } = await client.Runs.create({ experiment_id: '0', user_id: 'grace', start_time: Date.now(), tags: [{ key: 'mlflow.runName', value: 'npm-run' }] })
  const runId = run.info.run_id as string
  await client.Runs.logParameter({ run_id: runId, key: 'optimizer', value: 'adam' })
  for (let step = 0; step < 3; step++) await client.Runs.logMetric({ run_id: runId, key: 'loss', value: 1 / (step + 1), timestamp: Date.now(), step })
  await client.Runs.logBatch({ run_id: runId, metrics: [{ key: 'acc', value: 0.75, timestamp: Date.now(), step: 0 }], params: [{ key: 'batch', value: '32' }], tags: [{ key: 'stage', value: 'dev' }] })
  await client.Runs.setTag({ run_id: runId, key: 'note', value: 'from node' })
  await client.Runs.update({ run_id: runId, status: 'FINISHED', end_time: Date.now() })

  const got = await client.Runs.get({ run_id: runId })
  assert.equal(got.run.info.status, 'FINISHED')
  assert.equal(got.run.info.user_id, 'grace')
  assert.equal(got.run.info.run_name, 'npm-run')
  const history = await client.Metrics.getHistory({ run_id: runId, metric_key: 'loss' })
  assert.deepEqual(history.metrics.map((m: { value: number }) => m.value), [1, 0.5, 1 / 3])
  const found = await client.Runs.search({ experiment_ids: ['0'], filter: "params.optimizer = 'adam'" })
  assert.deepEqual(found.runs.map((r: { info: { run_id: string } }) => r.info.run_id), [runId])

  const stored = await server.store.getRun(runId)
  assert.deepEqual(stored.params, { optimizer: 'adam', batch: '32' })
  assert.equal(stored.experiment, 'Default')
  // The client turns a non-200 answer into an error carrying MLflow's body.
  await assert.rejects(client.Runs.get({ run_id: 'f'.repeat(32) }), /RESOURCE_DOES_NOT_EXIST/)
})

test('the npm mlflow client walks set_experiment: create, get by id, get by name', async () => {
  // The package has no get-by-name method; its own transport (MLflowBase.req) sends the GET as MLflow's client does.
  await assert.rejects(client.Experiments.req('get', '/get-by-name', { experiment_name: 'npm-exp' }), /RESOURCE_DOES_NOT_EXIST/)
  // create sends { name, artifact_location }; an undefined artifact_location is dropped by JSON.stringify.
  const created = await client.Experiments.create({ name: 'npm-exp' })
  assert.match(created.experiment_id, /^[0-9]+$/)
  const byId = await client.Experiments.get({ experiment_id: created.experiment_id })
  assert.equal(byId.experiment.experiment_id, created.experiment_id)
  assert.equal(byId.experiment.name, 'npm-exp')
  // An experiment exists once it has a run (docs/mlflow.md): until then, by name it is still missing
  // and another create answers the same id.
  await assert.rejects(client.Experiments.req('get', '/get-by-name', { experiment_name: 'npm-exp' }), /RESOURCE_DOES_NOT_EXIST/)
  assert.equal((await client.Experiments.create({ name: 'npm-exp' })).experiment_id, created.experiment_id)
  const { run } = await client.Runs.create({ experiment_id: created.experiment_id, start_time: Date.now(), tags: [] })
  assert.equal((await server.store.getRun(run.info.run_id as string)).experiment, 'npm-exp')
  const byName = await client.Experiments.req('get', '/get-by-name', { experiment_name: 'npm-exp' })
  assert.equal(byName.experiment.experiment_id, created.experiment_id)
  assert.equal(byName.experiment.name, 'npm-exp')
  assert.equal(typeof byName.experiment.creation_time, 'number')
  await assert.rejects(client.Experiments.create({ name: 'npm-exp' }), /RESOURCE_ALREADY_EXISTS/)
})

test('the npm mlflow client lists artifacts (Artifacts.list) logged through the proxy', async () => {
  const { run } = await client.Runs.create({ experiment_id: '0', start_time: Date.now(), tags: [] })
  const { run_id: runId, experiment_id: experimentId } = run.info as { run_id: string; experiment_id: string }
  const put = await fetch(`${address}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/model/MLmodel`, { method: 'PUT', headers: { ...bearer(secret), 'content-type': 'text/plain' }, body: 'flavors: {}\n' })
  assert.equal(put.status, 200, await put.text())
  const root = await client.Artifacts.list({ run_id: runId })
  assert.equal(root.root_uri, `mlflow-artifacts:/${experimentId}/${runId}/artifacts`)
  assert.deepEqual(root.files, [{ path: 'model', is_dir: true }])
  const inner = await client.Artifacts.list({ run_id: runId, path: 'model' })
  assert.deepEqual(inner.files, [{ path: 'model/MLmodel', is_dir: false, file_size: 12 }])
  await assert.rejects(client.Artifacts.list({ run_id: 'f'.repeat(32) }), /RESOURCE_DOES_NOT_EXIST/)
})
