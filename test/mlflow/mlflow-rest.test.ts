/**
 * Requests as the MLflow Python client sends them, replayed against a real server over SQLite.
 * Sources (repository mlflow/mlflow):
 * - mlflow/store/tracking/rest_store.py @ 1ca4249eef8aada2d141f0f6f5833194f9afdc06: create_run,
 *   update_run_info, get_run (run_uuid and run_id both sent), create_experiment; log_batch
 *   ({ run_id, metrics, params, tags }, no run_uuid), log_metric ({ run_uuid, run_id, key, value,
 *   timestamp, step }), log_param ({ run_uuid, run_id, key, value }), set_tag ({ run_uuid, run_id,
 *   key, value }), get_metric_history (GET { run_uuid, run_id, metric_key }), _search_runs
 *   ({ experiment_ids as strings, filter, run_view_type as the ViewType enum name, max_results, order_by }).
 * - mlflow/store/model_registry/rest_store.py @ 001cc178a1442b488da41853c497adc5285a284d:
 *   create_registered_model ({ name, tags, description } -> registered_model), create_model_version
 *   ({ name, source, run_id, run_link, tags, description } -> model_version), get_model_version
 *   (GET { name, version: str(version) } -> model_version; register_model polls it until status is
 *   READY), get_registered_model (GET { name }), set_registered_model_alias ({ name, alias, version }
 *   -> {}), get_model_version_by_alias (GET { name, alias } -> model_version).
 * - mlflow/utils/rest_utils.py @ 001cc178a1442b488da41853c497adc5285a284d: GET sends the body as
 *   query parameters, POST as JSON; "Authorization: Bearer <MLFLOW_TRACKING_TOKEN>"; any status
 *   but 200 is an error read from { error_code, message }.
 * - mlflow/exceptions.py @ 001cc178a1442b488da41853c497adc5285a284d: error codes and HTTP statuses
 *   (RESOURCE_DOES_NOT_EXIST 404, RESOURCE_ALREADY_EXISTS 400, PERMISSION_DENIED 403, UNAUTHENTICATED 401).
 * - mlflow/store/artifact/http_artifact_repo.py @ 17b36c9d1577b67dc22ffb9751c51689f9e6fdf3: PUT of a
 *   file to /mlflow-artifacts/artifacts/PATH, GET ?path= listing { files: [{ path, is_dir, file_size }] }.
 * Protobuf's JSON (message_to_json) writes int64 fields as strings.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { bearer, makeToken, testServer, type TestServer } from '../server/helpers.js'

let server: TestServer
let write: string
let read: string
let admin: string

before(async () => {
  server = await testServer()
  write = (await makeToken(server.store, 'write')).secret
  read = (await makeToken(server.store, 'read')).secret
  admin = (await makeToken(server.store, 'admin')).secret
})
after(async () => server.close())

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- MLflow answers are read field by field
async function call(method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown, secret = write): Promise<{ status: number; json: Record<string, any> }> {
  const res = await server.app.inject({
    method,
    url: method === 'GET' && body !== undefined ? `${url}?${new URLSearchParams(body as Record<string, string>)}` : url,
    headers: { ...bearer(secret), ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(method === 'POST' ? { payload: JSON.stringify(body) } : {}),
  })
  return { status: res.statusCode, json: res.body === '' ? {} : JSON.parse(res.body) }
}

test('set_experiment, start_run, log-batch, end_run and get_run as the Python client sends them', async () => {
  const missing = await call('GET', '/api/2.0/mlflow/experiments/get-by-name', { experiment_name: 'mnist' })
  assert.equal(missing.status, 404)
  assert.equal(missing.json.error_code, 'RESOURCE_DOES_NOT_EXIST')
  const created = await call('POST', '/api/2.0/mlflow/experiments/create', { name: 'mnist' })
  assert.equal(created.status, 200)
  const experimentId = created.json.experiment_id as string
  assert.match(experimentId, /^[0-9]+$/)
  // set_experiment reads the new experiment back by id before any run exists.
  const readBack = await call('GET', '/api/2.0/mlflow/experiments/get', { experiment_id: experimentId })
  assert.equal(readBack.status, 200)
  assert.equal(readBack.json.experiment.name, 'mnist')

  const commit = 'a'.repeat(40)
  const run = await call('POST', '/api/2.0/mlflow/runs/create', {
    experiment_id: experimentId,
    user_id: 'ada',
    start_time: '1700000000000',
    tags: [{ key: 'mlflow.user', value: 'ada' }, { key: 'mlflow.source.git.commit', value: commit }, { key: 'mlflow.runName', value: 'bright-owl-1' }],
    run_name: 'bright-owl-1',
  })
  assert.equal(run.status, 200, JSON.stringify(run.json))
  const runId = run.json.run.info.run_id as string
  assert.match(runId, /^[0-9a-f]{32}$/)
  assert.equal(run.json.run.info.status, 'RUNNING')
  assert.equal(run.json.run.info.artifact_uri, `mlflow-artifacts:/${experimentId}/${runId}/artifacts`)
  const record = await server.store.getRun(runId)
  assert.equal(record.experiment, 'mnist')
  assert.equal(record.owner, 'ada')
  assert.deepEqual(record.code, { vcs: 'git', commit })

  const batch = await call('POST', '/api/2.0/mlflow/runs/log-batch', {
    run_id: runId,
    metrics: [
      { key: 'loss', value: 0.5, timestamp: '1700000000100', step: '0' },
      { key: 'loss', value: 0.25, timestamp: '1700000000200', step: '1' },
      { key: 'loss', value: 'NaN', timestamp: '1700000000300', step: '2' },
    ],
    params: [{ key: 'lr', value: '0.01' }],
    tags: [{ key: 'team', value: 'vision' }],
  })
  assert.equal(batch.status, 200, JSON.stringify(batch.json))
  assert.deepEqual(batch.json, {})
  assert.equal((await call('POST', '/api/2.0/mlflow/runs/log-metric', { run_uuid: runId, run_id: runId, key: 'acc', value: 0.9, timestamp: '1700000000400', step: '0' })).status, 200)
  assert.equal((await call('POST', '/api/2.0/mlflow/runs/log-parameter', { run_uuid: runId, run_id: runId, key: 'epochs', value: '3' })).status, 200)
  assert.equal((await call('POST', '/api/2.0/mlflow/runs/set-tag', { run_uuid: runId, run_id: runId, key: 'stage', value: 'dev' })).status, 200)

  // Another value for a logged param: MLflow refuses it too, with INVALID_PARAMETER_VALUE.
  const conflict = await call('POST', '/api/2.0/mlflow/runs/log-parameter', { run_id: runId, key: 'lr', value: '0.02' })
  assert.equal(conflict.status, 400)
  assert.equal(conflict.json.error_code, 'INVALID_PARAMETER_VALUE')
  assert.equal(conflict.json.assay_code, 'ASSAY_PARAM_CONFLICT')

  const history = await call('GET', '/api/2.0/mlflow/metrics/get-history', { run_uuid: runId, run_id: runId, metric_key: 'loss' })
  assert.deepEqual(history.json.metrics.map((m: { value: unknown; step: number }) => [m.step, m.value]), [[0, 0.5], [1, 0.25], [2, 'NaN']])

  const ended = await call('POST', '/api/2.0/mlflow/runs/update', { run_uuid: runId, run_id: runId, status: 'FINISHED', end_time: '1700000001000' })
  assert.equal(ended.status, 200)
  assert.equal(ended.json.run_info.status, 'FINISHED')
  assert.equal(ended.json.run_info.end_time, 1700000001000)

  const got = await call('GET', '/api/2.0/mlflow/runs/get', { run_uuid: runId, run_id: runId }, read)
  assert.equal(got.status, 200)
  const data = got.json.run.data
  assert.deepEqual(data.params.sort((a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key)), [{ key: 'epochs', value: '3' }, { key: 'lr', value: '0.01' }])
  assert.ok(data.tags.some((t: { key: string; value: string }) => t.key === 'team' && t.value === 'vision'))

  // A write to a finished run: MLflow allows some, assay refuses all, with a 4xx the client does not retry.
  const late = await call('POST', '/api/2.0/mlflow/runs/set-tag', { run_id: runId, key: 'late', value: 'x' })
  assert.equal(late.status, 400)
  assert.equal(late.json.error_code, 'INVALID_PARAMETER_VALUE')
  assert.equal(late.json.assay_code, 'ASSAY_RUN_NOT_ACTIVE')

  assert.equal((await call('GET', '/api/2.0/mlflow/experiments/get-by-name', { experiment_name: 'mnist' })).json.experiment.experiment_id, experimentId)
  const again = await call('POST', '/api/2.0/mlflow/experiments/create', { name: 'mnist' })
  assert.equal(again.status, 400)
  assert.equal(again.json.error_code, 'RESOURCE_ALREADY_EXISTS')

  const found = await call('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [experimentId], filter: "metrics.acc > 0.5 and params.lr = '0.01' and attributes.status = 'FINISHED'", run_view_type: 'ACTIVE_ONLY', max_results: 10, order_by: ['metrics.acc DESC'] }, read)
  assert.equal(found.status, 200, JSON.stringify(found.json))
  assert.deepEqual(found.json.runs.map((r: { info: { run_id: string } }) => r.info.run_id), [runId])
  const none = await call('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [experimentId], filter: 'metrics.nothing > 0', run_view_type: 'ACTIVE_ONLY' }, read)
  assert.deepEqual(none.json, { runs: [] })
  const bad = await call('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [experimentId], filter: "params.lr ILIKE '%1'" }, read)
  assert.equal(bad.status, 400)
  assert.equal(bad.json.error_code, 'INVALID_PARAMETER_VALUE')
})

test('errors are MLflow bodies with MLflow codes, never a 5xx for a predictable failure', async () => {
  const unknownRun = await call('GET', '/api/2.0/mlflow/runs/get', { run_id: 'f'.repeat(32) })
  assert.equal(unknownRun.status, 404)
  assert.equal(unknownRun.json.error_code, 'RESOURCE_DOES_NOT_EXIST')
  const noToken = await server.app.inject({ method: 'GET', url: '/api/2.0/mlflow/runs/get?run_id=x' })
  assert.equal(noToken.statusCode, 401)
  assert.equal(JSON.parse(noToken.body).error_code, 'UNAUTHENTICATED')
  const readOnly = await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0' }, read)
  assert.equal(readOnly.status, 403)
  assert.equal(readOnly.json.error_code, 'PERMISSION_DENIED')
  const unknownRoute = await call('POST', '/api/2.0/mlflow/runs/delete', { run_id: 'x' })
  assert.equal(unknownRoute.status, 404)
  assert.equal(unknownRoute.json.error_code, 'ENDPOINT_NOT_FOUND')
  const badExperiment = await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: 'abc' })
  assert.equal(badExperiment.json.error_code, 'RESOURCE_DOES_NOT_EXIST')
})

test('log_artifact through the artifact proxy, list and download', async () => {
  const run = await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0', start_time: String(Date.now()), tags: [] })
  const info = run.json.run.info
  const base = `/api/2.0/mlflow-artifacts/artifacts/${info.experiment_id}/${info.run_id}/artifacts`
  const put = await server.app.inject({ method: 'PUT', url: `${base}/model/MLmodel`, headers: { ...bearer(write), 'content-type': 'text/plain' }, payload: 'flavors: {}\n' })
  assert.equal(put.statusCode, 200, put.body)
  const listed = await call('GET', '/api/2.0/mlflow-artifacts/artifacts', { path: `${info.experiment_id}/${info.run_id}/artifacts` })
  assert.deepEqual(listed.json.files, [{ path: 'model', is_dir: true }])
  const inner = await call('GET', '/api/2.0/mlflow-artifacts/artifacts', { path: `${info.experiment_id}/${info.run_id}/artifacts/model` })
  assert.deepEqual(inner.json.files, [{ path: 'MLmodel', is_dir: false, file_size: 12 }])
  const got = await server.app.inject({ method: 'GET', url: `${base}/model/MLmodel`, headers: bearer(read) })
  assert.equal(got.body, 'flavors: {}\n')
  const escape = await server.app.inject({ method: 'PUT', url: `${base}/../../x`, headers: { ...bearer(write), 'content-type': 'text/plain' }, payload: 'x' })
  assert.equal(escape.statusCode, 400)
})

test('register_model and aliases: an alias is a promotion (a registered gate, or an admin token)', async () => {
  const run = await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0', tags: [] })
  const runId = run.json.run.info.run_id
  const model = await call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'digits' })
  assert.equal(model.status, 200, JSON.stringify(model.json))
  assert.equal((await call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'digits' })).json.error_code, 'RESOURCE_ALREADY_EXISTS')
  const version = await call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'digits', source: `runs:/${runId}/model`, run_id: runId })
  assert.equal(version.status, 200, JSON.stringify(version.json))
  assert.equal(version.json.model_version.version, '1')
  assert.equal(version.json.model_version.status, 'READY')

  const denied = await call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'digits', alias: 'champion', version: '1' })
  assert.equal(denied.status, 403)
  assert.equal(denied.json.error_code, 'PERMISSION_DENIED')
  assert.equal((await call('GET', '/api/2.0/mlflow/registered-models/alias', { name: 'digits', alias: 'champion' })).json.error_code, 'RESOURCE_DOES_NOT_EXIST')

  const set = await call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'digits', alias: 'champion', version: '1' }, admin)
  assert.equal(set.status, 200, JSON.stringify(set.json))
  const byAlias = await call('GET', '/api/2.0/mlflow/registered-models/alias', { name: 'digits', alias: 'champion' }, read)
  assert.equal(byAlias.json.model_version.version, '1')
  assert.deepEqual(byAlias.json.model_version.aliases, ['champion'])
  const audit = await server.store.auditRecords()
  assert.ok(audit.some((r) => r.kind === 'alias-set' && r.subject === 'digits@champion'))
})

test('the registry as MlflowClient drives it: create, register_model waiting for READY, alias by alias', async () => {
  const run = await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0', user_id: 'ada', start_time: '1700000000000', tags: [] })
  const runId = run.json.run.info.run_id as string
  // create_registered_model: message_to_json drops an unset description; tags is an empty list.
  const model = await call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'mnist-cnn', tags: [] })
  assert.equal(model.status, 200, JSON.stringify(model.json))
  assert.equal(model.json.registered_model.name, 'mnist-cnn')
  assert.equal(typeof model.json.registered_model.creation_timestamp, 'number')
  const gotModel = await call('GET', '/api/2.0/mlflow/registered-models/get', { name: 'mnist-cnn' }, read)
  assert.equal(gotModel.status, 200)
  assert.equal(gotModel.json.registered_model.name, 'mnist-cnn')
  const noModel = await call('GET', '/api/2.0/mlflow/registered-models/get', { name: 'nothing-here' }, read)
  assert.equal(noModel.status, 404)
  assert.equal(noModel.json.error_code, 'RESOURCE_DOES_NOT_EXIST')

  const source = `runs:/${runId}/model`
  const created = await call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'mnist-cnn', source, run_id: runId, tags: [] })
  assert.equal(created.status, 200, JSON.stringify(created.json))
  const mv = created.json.model_version
  assert.equal(mv.name, 'mnist-cnn')
  assert.equal(mv.version, '1')
  assert.equal(mv.source, source)
  assert.equal(mv.run_id, runId)
  assert.deepEqual(mv.aliases, [])
  // register_model polls get_model_version (version sent as a string) until status leaves PENDING_REGISTRATION.
  const polled = await call('GET', '/api/2.0/mlflow/model-versions/get', { name: 'mnist-cnn', version: '1' }, read)
  assert.equal(polled.status, 200, JSON.stringify(polled.json))
  assert.equal(polled.json.model_version.status, 'READY')
  assert.equal(polled.json.model_version.version, '1')
  assert.equal(polled.json.model_version.run_id, runId)
  const noVersion = await call('GET', '/api/2.0/mlflow/model-versions/get', { name: 'mnist-cnn', version: '9' }, read)
  assert.equal(noVersion.status, 404)
  assert.equal(noVersion.json.error_code, 'RESOURCE_DOES_NOT_EXIST')
  const second = await call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'mnist-cnn', source, run_id: runId, tags: [] })
  assert.equal(second.json.model_version.version, '2')

  const set = await call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'mnist-cnn', alias: 'champion', version: '2' }, admin)
  assert.equal(set.status, 200, JSON.stringify(set.json))
  assert.deepEqual(set.json, {})
  const byAlias = await call('GET', '/api/2.0/mlflow/registered-models/alias', { name: 'mnist-cnn', alias: 'champion' }, read)
  assert.equal(byAlias.status, 200, JSON.stringify(byAlias.json))
  assert.equal(byAlias.json.model_version.name, 'mnist-cnn')
  assert.equal(byAlias.json.model_version.version, '2')
  assert.equal(byAlias.json.model_version.status, 'READY')
  assert.deepEqual(byAlias.json.model_version.aliases, ['champion'])
  // The alias shows on the version it names, and only there.
  assert.deepEqual((await call('GET', '/api/2.0/mlflow/model-versions/get', { name: 'mnist-cnn', version: '2' }, read)).json.model_version.aliases, ['champion'])
  assert.deepEqual((await call('GET', '/api/2.0/mlflow/model-versions/get', { name: 'mnist-cnn', version: '1' }, read)).json.model_version.aliases, [])
  // Setting the same alias again is idempotent.
  assert.equal((await call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'mnist-cnn', alias: 'champion', version: '2' }, admin)).status, 200)
})

test('GET artifacts/list: root_uri, files relative to the run, a subdirectory, an unknown run', async () => {
  const run = await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0', start_time: String(Date.now()), tags: [] })
  const info = run.json.run.info
  const base = `/api/2.0/mlflow-artifacts/artifacts/${info.experiment_id}/${info.run_id}/artifacts`
  for (const [name, body] of [['model/MLmodel', 'flavors: {}\n'], ['notes.txt', 'hi']] as const) {
    const put = await server.app.inject({ method: 'PUT', url: `${base}/${name}`, headers: { ...bearer(write), 'content-type': 'text/plain' }, payload: body })
    assert.equal(put.statusCode, 200, put.body)
  }
  const empty = await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0', start_time: String(Date.now()), tags: [] })
  const none = await call('GET', '/api/2.0/mlflow/artifacts/list', { run_id: empty.json.run.info.run_id }, read)
  assert.equal(none.status, 200, JSON.stringify(none.json))
  assert.deepEqual(none.json.files ?? [], [])

  const root = await call('GET', '/api/2.0/mlflow/artifacts/list', { run_id: info.run_id, run_uuid: info.run_id }, read)
  assert.equal(root.status, 200, JSON.stringify(root.json))
  assert.equal(root.json.root_uri, `mlflow-artifacts:/${info.experiment_id}/${info.run_id}/artifacts`)
  const byPath = (files: { path: string }[]) => [...files].sort((a, b) => a.path.localeCompare(b.path))
  assert.deepEqual(byPath(root.json.files), [{ path: 'model', is_dir: true }, { path: 'notes.txt', is_dir: false, file_size: 2 }])
  // ListArtifacts answers paths relative to the run's root, so a subdirectory's files keep its prefix.
  const inner = await call('GET', '/api/2.0/mlflow/artifacts/list', { run_id: info.run_id, path: 'model' }, read)
  assert.equal(inner.status, 200, JSON.stringify(inner.json))
  assert.deepEqual(inner.json.files, [{ path: 'model/MLmodel', is_dir: false, file_size: 12 }])
  const missingRun = await call('GET', '/api/2.0/mlflow/artifacts/list', { run_id: 'f'.repeat(32) }, read)
  assert.equal(missingRun.status, 404)
  assert.equal(missingRun.json.error_code, 'RESOURCE_DOES_NOT_EXIST')
  const noRun = await call('GET', '/api/2.0/mlflow/artifacts/list', { path: 'model' }, read)
  assert.equal(noRun.status, 400)
  assert.equal(noRun.json.error_code, 'INVALID_PARAMETER_VALUE')
})
