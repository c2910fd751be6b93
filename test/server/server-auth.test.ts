/**
 * Authentication and authorization of `assay server`, in process with app.inject: every denial
 * (401 without, with a malformed, an unknown or a revoked token; 403 for a scope too low, for
 * another experiment, for admin routes) and the requests that are allowed.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { allRoutes } from '../../src/server/app.js'
import { SCOPE_RANK } from '../../src/server/auth.js'
import { HttpStore } from '../../src/store/http/http-store.js'
import { encodeBatchFrame } from '../../src/store/http/wire.js'
import { newRun, series } from '../store/fixtures.js'
import { bearer, makeToken, testServer, type TestServer } from './helpers.js'

/**
 * The scope and experiment reach of every route, stated here once more: a new route, or a
 * changed scope, fails this table until it is looked at. Anything but GET needs at least write.
 */
const ROUTE_SCOPES: Record<string, string> = {
  'GET /api/v1/health': 'public none',
  'GET /api/v1/whoami': 'read none',
  'POST /api/v1/runs': 'write handler',
  'GET /api/v1/runs': 'read handler',
  'GET /api/v1/runs/resolve': 'read handler',
  'POST /api/v1/runs/mark-crashed': 'write all',
  'GET /api/v1/runs/:runId': 'read run',
  'POST /api/v1/runs/:runId/batch': 'write run',
  'GET /api/v1/runs/:runId/metrics': 'read run',
  'GET /api/v1/runs/:runId/metrics/buckets': 'read run',
  'GET /api/v1/runs/:runId/charts': 'read run',
  'POST /api/v1/runs/:runId/status': 'write run',
  'POST /api/v1/runs/:runId/heartbeat': 'write run',
  'POST /api/v1/runs/:runId/evals': 'write run',
  'GET /api/v1/runs/:runId/evals': 'read run',
  'PUT /api/v1/runs/:runId/artifacts': 'write run',
  'POST /api/v1/runs/:runId/artifacts/by-sha256': 'write run',
  'GET /api/v1/runs/:runId/artifacts/content': 'read run',
  'GET /api/v1/artifacts/:sha256/lineage': 'read handler',
  'GET /api/v1/datasets/:sha256/runs': 'read handler',
  'GET /api/v1/artifacts/sha256s': 'read handler',
  'GET /api/v1/experiments': 'read handler',
  'GET /api/v1/compare': 'read handler',
  'GET /api/v1/compare/detail': 'read handler',
  'GET /api/v1/leaderboard': 'read handler',
  'GET /api/v1/run-groups': 'read handler',
  'GET /api/v1/run-groups/metric-band': 'read handler',
  'GET /api/v1/variance': 'read handler',
  'POST /api/v1/holdout-reads': 'write handler',
  'GET /api/v1/holdout-reads/:sha256': 'read handler',
  'POST /api/v1/models': 'write all',
  'GET /api/v1/models': 'read all',
  'GET /api/v1/models/:name': 'read all',
  'POST /api/v1/models/:name/versions': 'write all',
  'GET /api/v1/models/:name/versions': 'read all',
  'GET /api/v1/models/:name/alias-events': 'read all',
  'POST /api/v1/alias-moves': 'admin all',
  'POST /api/v1/gate-policies': 'admin all',
  'GET /api/v1/gate-policies': 'read all',
  'POST /api/v1/audit': 'admin all',
  'GET /api/v1/audit': 'read all',
  'GET /api/v1/audit/head': 'read all',
  'GET /api/v1/audit/last': 'read all',
  'GET /api/v1/audit/verify': 'read all',
  'GET /api/v1/audit/records/:seq': 'read all',
  'POST /api/v1/promotions': 'write all',
  'POST /api/v1/rollbacks': 'write all',
  'POST /api/v1/gate-checks': 'write all',
  'POST /api/v1/tokens': 'admin all',
  'GET /api/v1/tokens': 'admin all',
  'GET /api/v1/tokens/by-secret/:sha256': 'admin all',
  'POST /api/v1/tokens/:id/revoke': 'admin all',
  'POST /api/v1/deployments': 'write all',
  'GET /api/v1/deployments': 'read handler',
  'GET /api/v1/deployments/:id': 'read handler',
  'GET /api/v1/deployments/:id/lineage': 'read handler',
  'GET /api/v1/deployments/:id/decisions': 'read handler',
  'POST /api/v1/traces': 'write handler',
  'GET /api/v1/traces': 'read handler',
  'GET /api/v1/traces/eval-records': 'read handler',
  'GET /api/v1/traces/monitor-rows': 'read handler',
  'GET /api/v1/traces/:traceId': 'read handler',
  'POST /api/v1/feedback': 'write handler',
  'POST /api/v1/monitor-checks': 'write all',
  'POST /api/v1/canary-checks': 'write all',
  'POST /v1/traces': 'write handler',
  'GET /api/2.0/mlflow/experiments/get-by-name': 'read handler',
  'GET /api/2.0/mlflow/experiments/get': 'read handler',
  'POST /api/2.0/mlflow/experiments/create': 'write handler',
  'POST /api/2.0/mlflow/runs/create': 'write handler',
  'POST /api/2.0/mlflow/runs/update': 'write handler',
  'GET /api/2.0/mlflow/runs/get': 'read handler',
  'POST /api/2.0/mlflow/runs/log-batch': 'write handler',
  'POST /api/2.0/mlflow/runs/log-inputs': 'write handler',
  'POST /api/2.0/mlflow/runs/log-metric': 'write handler',
  'POST /api/2.0/mlflow/runs/log-parameter': 'write handler',
  'POST /api/2.0/mlflow/runs/set-tag': 'write handler',
  'POST /api/2.0/mlflow/runs/search': 'read handler',
  'GET /api/2.0/mlflow/metrics/get-history': 'read handler',
  'PUT /api/2.0/mlflow-artifacts/artifacts/*': 'write handler',
  'GET /api/2.0/mlflow-artifacts/artifacts/*': 'read handler',
  'GET /api/2.0/mlflow-artifacts/artifacts': 'read handler',
  'GET /api/2.0/mlflow/artifacts/list': 'read handler',
  'POST /api/2.0/mlflow/registered-models/create': 'write all',
  'GET /api/2.0/mlflow/registered-models/get': 'read all',
  'POST /api/2.0/mlflow/model-versions/create': 'write all',
  'GET /api/2.0/mlflow/model-versions/get': 'read all',
  'GET /api/2.0/mlflow/registered-models/alias': 'read all',
  'POST /api/2.0/mlflow/registered-models/alias': 'write all',
}

/** MLflow's SearchRuns is a POST that only reads (its filter travels in the body). */
const READS_BY_POST = new Set(['POST /api/2.0/mlflow/runs/search'])

type Inject = Awaited<ReturnType<TestServer['app']['inject']>>

function code(response: Inject): string {
  // MLflow routes answer MLflow's body, with the catalogue code as assay_code.
  const body = response.json() as { error?: { code: string }; assay_code?: string }
  return body.error?.code ?? body.assay_code ?? 'none'
}

function denied(response: Inject, status: number, errorCode: string, what: string): void {
  assert.equal(response.statusCode, status, `${what}: ${response.body}`)
  assert.equal(code(response), errorCode, what)
}

describe('server auth', () => {
  let s: TestServer
  // Live runs (a fresh heartbeat): the server marks runs with a stale one crashed before reads.
  const runA = newRun({ experiment: 'exp-a', name: 'a', startTime: Date.now() })
  const runB = newRun({ experiment: 'exp-b', name: 'b', startTime: Date.now() })
  const secrets: Record<string, string> = {}
  let revokedId = ''

  before(async () => {
    s = await testServer()
    await s.store.createRun(runA)
    await s.store.createRun(runB)
    await s.store.putArtifact(runB.id, 'model.bin', { bytes: Buffer.from('b weights') }, 'produced')
    for (const [label, scope, experiments] of [
      ['admin', 'admin', null],
      ['write', 'write', null],
      ['read', 'read', null],
      ['writeA', 'write', ['exp-a']],
      ['readA', 'read', ['exp-a']],
      ['adminA', 'admin', ['exp-a']],
      ['revoked', 'write', null],
    ] as const) {
      const { secret, token } = await makeToken(s.store, scope, experiments === null ? null : [...experiments], label)
      secrets[label] = secret
      if (label === 'revoked') revokedId = token.id
    }
    await s.store.revokeApiToken(revokedId, Date.now())
  })
  after(() => s.close())

  const inject = (method: 'GET' | 'POST' | 'PUT', url: string, token?: string, payload?: unknown, headers: Record<string, string> = {}): Promise<Inject> =>
    s.app.inject({
      method,
      url,
      headers: { ...(token ? bearer(token) : {}), ...(payload !== undefined && !Buffer.isBuffer(payload) ? { 'content-type': 'application/json' } : {}), ...headers },
      payload: payload === undefined ? undefined : Buffer.isBuffer(payload) ? payload : JSON.stringify(payload),
    })

  it('serves health and the OpenAPI document without a token', async () => {
    assert.equal((await inject('GET', '/api/v1/health')).statusCode, 200)
    const doc = (await inject('GET', '/openapi.json')).json() as { openapi: string; paths: Record<string, Record<string, { 'x-assay-scope': string }>> }
    assert.equal(doc.openapi, '3.0.3')
    for (const route of allRoutes()) {
      const url = route.url.replace(/:([A-Za-z0-9]+)/g, '{$1}')
      assert.equal(doc.paths[url]?.[route.method.toLowerCase()]?.['x-assay-scope'], route.scope, `${route.method} ${route.url} is documented with its scope`)
    }
  })

  it('every route has the scope this file states, and every route that is not a GET needs write or admin', () => {
    const actual = Object.fromEntries(allRoutes().map((r) => [`${r.method} ${r.url}`, `${r.scope} ${r.touches}`]))
    assert.deepEqual(actual, ROUTE_SCOPES)
    for (const route of allRoutes()) {
      if (route.method === 'GET' || READS_BY_POST.has(`${route.method} ${route.url}`)) continue
      assert.ok(route.scope !== 'public' && SCOPE_RANK[route.scope] >= SCOPE_RANK.write, `${route.method} ${route.url} mutates and must need write or admin, not ${route.scope}`)
    }
  })

  it('401 without a token on every route that needs one', async () => {
    for (const route of allRoutes().filter((r) => r.scope !== 'public')) {
      const url = route.url.replace(':runId', runA.id).replace(':sha256', 'a'.repeat(64)).replace(':name', 'm').replace(':id', 'tok_x')
      const response = await s.app.inject({ method: route.method, url })
      denied(response, 401, 'ASSAY_UNAUTHENTICATED', `${route.method} ${route.url}`)
    }
  })

  it('authenticates before the body is read: an unauthenticated 70 MB body is 401, not 413', async () => {
    const big = Buffer.alloc(70 * 1024 * 1024, 0x20)
    for (const [type, label] of [['application/json', 'JSON'], ['application/octet-stream', 'binary']] as const) {
      const response = await s.app.inject({ method: 'POST', url: `/api/v1/runs/${runA.id}/batch`, payload: big, headers: { 'content-type': type } })
      denied(response, 401, 'ASSAY_UNAUTHENTICATED', `unauthenticated ${label} body of 70 MB`)
      const wrong = await s.app.inject({ method: 'POST', url: `/api/v1/runs/${runA.id}/batch`, payload: big, headers: { 'content-type': type, ...bearer('assay_' + 'x'.repeat(43)) } })
      denied(wrong, 401, 'ASSAY_UNAUTHENTICATED', `unknown token, ${label} body of 70 MB`)
    }
    const tooLow = await s.app.inject({ method: 'POST', url: `/api/v1/runs/${runA.id}/batch`, payload: big, headers: { 'content-type': 'application/json', ...bearer(secrets.read) } })
    denied(tooLow, 403, 'ASSAY_FORBIDDEN', 'read token, 70 MB body')
    // An authenticated writer still meets the body limit.
    const writer = await s.app.inject({ method: 'POST', url: `/api/v1/runs/${runA.id}/batch`, payload: big, headers: { 'content-type': 'application/json', ...bearer(secrets.write) } })
    denied(writer, 413, 'ASSAY_BODY_TOO_LARGE', 'write token, 70 MB body')
  })

  it('401 with a malformed Authorization header, an unknown token and a revoked token', async () => {
    denied(await inject('GET', '/api/v1/runs', undefined, undefined, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }), 401, 'ASSAY_UNAUTHENTICATED', 'Basic')
    denied(await inject('GET', '/api/v1/runs', 'not-an-assay-token'), 401, 'ASSAY_UNAUTHENTICATED', 'not assay_')
    denied(await inject('GET', '/api/v1/runs', 'assay_' + 'x'.repeat(43)), 401, 'ASSAY_UNAUTHENTICATED', 'unknown')
    const revoked = await inject('POST', `/api/v1/runs/${runA.id}/batch`, secrets.revoked, { tags: { t: 'x' } })
    denied(revoked, 401, 'ASSAY_UNAUTHENTICATED', 'revoked')
    assert.match((revoked.json() as { error: { message: string } }).error.message, /revoked/)
    assert.deepEqual((await s.store.getRun(runA.id)).tags, runA.tags, 'nothing was written')
  })

  it('403 for a read token on every route that writes, and nothing is written', async () => {
    for (const route of allRoutes().filter((r) => r.scope === 'write' || r.scope === 'admin')) {
      const url = route.url.replace(':runId', runA.id).replace(':sha256', 'a'.repeat(64)).replace(':name', 'm').replace(':id', 'tok_x')
      const response = await s.app.inject({ method: route.method, url, headers: bearer(secrets.read) })
      denied(response, 403, 'ASSAY_FORBIDDEN', `read token on ${route.method} ${route.url}`)
    }
    const frame = encodeBatchFrame({ metrics: [series('loss', [[0, 1]])] })
    denied(await inject('POST', `/api/v1/runs/${runA.id}/batch`, secrets.read, frame, { 'content-type': 'application/octet-stream' }), 403, 'ASSAY_FORBIDDEN', 'binary batch')
    denied(await inject('POST', '/api/v1/runs', secrets.read, newRun({ experiment: 'exp-a' })), 403, 'ASSAY_FORBIDDEN', 'createRun')
    denied(await inject('PUT', `/api/v1/runs/${runA.id}/artifacts?name=x.bin`, secrets.read, Buffer.from('x'), { 'content-type': 'application/octet-stream', 'x-assay-sha256': 'a'.repeat(64) }), 403, 'ASSAY_FORBIDDEN', 'artifact')
    assert.equal((await s.store.metricHistory(runA.id, 'loss')).values.length, 0)
    assert.equal((await s.store.listRuns({})).length, 2)
    assert.deepEqual((await s.store.getRun(runA.id)).artifacts, [])
  })

  it('marking runs crashed needs write for all experiments; a read client gets 0 and the server marks stale runs itself', async () => {
    const stale = newRun({ experiment: 'exp-c', name: 'stale', startTime: Date.now() - 3_600_000 })
    await s.store.createRun(stale)
    const ask = { staleBefore: Date.now() + 1000 }
    denied(await inject('POST', '/api/v1/runs/mark-crashed', secrets.read, ask), 403, 'ASSAY_FORBIDDEN', 'read token marks runs crashed')
    denied(await inject('POST', '/api/v1/runs/mark-crashed', secrets.writeA, ask), 403, 'ASSAY_FORBIDDEN', 'write token of one experiment marks runs crashed')
    assert.equal((await s.store.getRun(stale.id)).status, 'running', 'nothing was marked')
    const address = await s.app.listen({ host: '127.0.0.1', port: 0 })
    const reader = new HttpStore(address, { token: secrets.read, spoolDir: `${s.dir}/spool` })
    try {
      assert.equal(await reader.markCrashedRuns(Date.now() + 1000), 0, 'the HTTP store of a read token marks nothing and does not fail')
      assert.equal((await s.store.getRun(stale.id)).status, 'running')
      // The server's own sweep (its timeout, 60 s here) on a read: the stale run is crashed, the live ones are not.
      const runs = await reader.listRuns({})
      assert.equal(runs.find((r) => r.id === stale.id)?.status, 'crashed')
      assert.equal(runs.find((r) => r.id === runA.id)?.status, 'running')
    } finally {
      await reader.close()
    }
    const allowed = await inject('POST', '/api/v1/runs/mark-crashed', secrets.write, ask)
    assert.equal(allowed.statusCode, 200, allowed.body)
    assert.equal((allowed.json() as { count: number }).count, 0, 'clamped to the server timeout: live runs stay running')
    assert.equal((await s.store.getRun(runA.id)).status, 'running')
  })

  it('a read token reads; a write token writes', async () => {
    assert.equal((await inject('GET', `/api/v1/runs/${runA.id}`, secrets.read)).statusCode, 200)
    const frame = encodeBatchFrame({ metrics: [series('loss', [[0, 1], [1, NaN]])] })
    const written = await inject('POST', `/api/v1/runs/${runA.id}/batch`, secrets.write, frame, { 'content-type': 'application/octet-stream' })
    assert.equal(written.statusCode, 200, written.body)
    assert.equal((await s.store.metricHistory(runA.id, 'loss')).values.length, 2)
  })

  it('403 for a token of one experiment touching another; its own experiment works', async () => {
    const w = secrets.writeA
    const r = secrets.readA
    denied(await inject('GET', `/api/v1/runs/${runB.id}`, r), 403, 'ASSAY_FORBIDDEN', 'getRun of exp-b')
    denied(await inject('GET', `/api/v1/runs/${runB.id}/metrics?key=loss`, r), 403, 'ASSAY_FORBIDDEN', 'metrics of exp-b')
    denied(await inject('GET', `/api/v1/runs/${runB.id}/artifacts/content?name=model.bin`, r), 403, 'ASSAY_FORBIDDEN', 'artifact of exp-b')
    denied(await inject('GET', `/api/v1/runs/resolve?id=${runB.id.slice(0, 10)}`, r), 404, 'ASSAY_RUN_NOT_FOUND', 'resolve into exp-b answers as for an unknown id')
    denied(await inject('GET', '/api/v1/runs?experiment=exp-b', r), 403, 'ASSAY_FORBIDDEN', 'list exp-b')
    denied(await inject('POST', `/api/v1/runs/${runB.id}/batch`, w, { tags: { x: 'y' } }), 403, 'ASSAY_FORBIDDEN', 'batch to exp-b')
    denied(await inject('POST', `/api/v1/runs/${runB.id}/status`, w, { status: 'finished', endTime: Date.now() }), 403, 'ASSAY_FORBIDDEN', 'end a run of exp-b')
    denied(await inject('POST', '/api/v1/runs', w, newRun({ experiment: 'exp-b' })), 403, 'ASSAY_FORBIDDEN', 'createRun in exp-b')
    denied(
      await inject('POST', '/api/v1/holdout-reads', w, { datasetSha256: 'c'.repeat(64), datasetName: 'test', runIds: [runA.id, runB.id], purpose: 'compare', actor: 'x', at: 1 }),
      403,
      'ASSAY_FORBIDDEN',
      'holdout read naming a run of exp-b',
    )
    denied(await inject('POST', '/api/v1/audit', w, {}), 403, 'ASSAY_FORBIDDEN', 'store-wide audit log')
    assert.deepEqual((await s.store.getRun(runB.id)).tags, runB.tags)
    assert.equal((await s.store.getRun(runB.id)).status, 'running')

    const listed = (await inject('GET', '/api/v1/runs', r)).json() as { runs: { id: string }[] }
    assert.deepEqual(listed.runs.map((x) => x.id), [runA.id], 'listings show only exp-a')
    const experiments = (await inject('GET', '/api/v1/experiments', r)).json() as { experiments: { name: string }[] }
    assert.deepEqual(experiments.experiments.map((e) => e.name), ['exp-a'])
    const sha = (await s.store.getRun(runB.id)).artifacts[0].sha256
    assert.deepEqual(((await inject('GET', `/api/v1/artifacts/${sha}/lineage`, r)).json() as { edges: unknown[] }).edges, [])
    assert.equal(((await inject('GET', `/api/v1/artifacts/${sha}/lineage`, secrets.read)).json() as { edges: unknown[] }).edges.length, 1)
    // sha256 prefixes resolve within what the token may read: exp-b's content is not named to a token of exp-a.
    const byPrefix = async (secret: string) => ((await inject('GET', `/api/v1/artifacts/sha256s?prefix=${sha.slice(0, 8)}&limit=2`, secret)).json() as { sha256s: string[] }).sha256s
    assert.deepEqual(await byPrefix(r), [])
    assert.deepEqual(await byPrefix(secrets.read), [sha])

    assert.equal((await inject('GET', `/api/v1/runs/${runA.id}`, r)).statusCode, 200)
    assert.equal((await inject('POST', `/api/v1/runs/${runA.id}/batch`, w, { tags: { ok: 'yes' } })).statusCode, 200)
    const created = newRun({ experiment: 'exp-a', name: 'made-by-a' })
    assert.equal((await inject('POST', '/api/v1/runs', w, created)).statusCode, 201)
    assert.equal((await s.store.getRun(created.id)).experiment, 'exp-a')
  })

  it('the registry and the audit log are store-wide: tokens limited to some experiments read none of it', async () => {
    await s.store.createModel({ name: 'm-b', owner: 'bob', description: '', tags: {}, createdAt: 1, createdBy: 'bob' })
    await s.store.addModelVersion({ model: 'm-b', runId: runB.id, artifact: null, description: 'from exp-b', tags: {}, createdAt: 2, createdBy: 'bob' })
    const reads = ['/api/v1/models', '/api/v1/models/m-b', '/api/v1/models/m-b/versions', '/api/v1/models/m-b/alias-events', '/api/v1/audit', '/api/v1/audit/last']
    for (const url of reads) {
      denied(await inject('GET', url, secrets.readA), 403, 'ASSAY_FORBIDDEN', `read token of exp-a on ${url}`)
      denied(await inject('GET', url, secrets.writeA), 403, 'ASSAY_FORBIDDEN', `write token of exp-a on ${url}`)
      const allowed = await inject('GET', url, secrets.read)
      assert.equal(allowed.statusCode, 200, `read token of all experiments on ${url}: ${allowed.body}`)
    }
    const version = { runId: runA.id, artifact: null, description: '', tags: {}, createdAt: 3, createdBy: 'a' }
    denied(await inject('POST', '/api/v1/models/m-b/versions', secrets.writeA, { ...version, model: 'm-b' }), 403, 'ASSAY_FORBIDDEN', 'write token of exp-a adds a version')
    assert.equal((await s.store.listModelVersions('m-b')).length, 1)
  })

  it('token routes are admin-only, and only for admins of all experiments', async () => {
    for (const label of ['read', 'write', 'adminA']) {
      denied(await inject('GET', '/api/v1/tokens', secrets[label]), 403, 'ASSAY_FORBIDDEN', `${label} lists tokens`)
      denied(await inject('POST', `/api/v1/tokens/${revokedId}/revoke`, secrets[label], { at: 1 }), 403, 'ASSAY_FORBIDDEN', `${label} revokes`)
    }
    const listed = (await inject('GET', '/api/v1/tokens', secrets.admin)).json() as { tokens: { id: string; name: string }[] }
    assert.equal(listed.tokens.length, 7)
    assert.ok(!JSON.stringify(listed).includes('secret'), 'no secret or its hash is ever listed')
    const { secret, token } = await makeToken(s.store, 'read', null, 'soon-revoked')
    assert.equal((await inject('GET', '/api/v1/runs', secret)).statusCode, 200)
    assert.equal((await inject('POST', `/api/v1/tokens/${token.id}/revoke`, secrets.admin, { at: Date.now() })).statusCode, 200)
    denied(await inject('GET', '/api/v1/runs', secret), 401, 'ASSAY_UNAUTHENTICATED', 'revoked through the API')
    denied(await inject('POST', '/api/v1/tokens/tok_nope/revoke', secrets.admin, { at: 1 }), 404, 'ASSAY_TOKEN_NOT_FOUND', 'unknown token id')
  })

  it('whoami names the token', async () => {
    const me = (await inject('GET', '/api/v1/whoami', secrets.readA)).json() as { token: { name: string; scope: string; experiments: string[] } }
    assert.deepEqual([me.token.name, me.token.scope, me.token.experiments], ['readA', 'read', ['exp-a']])
  })
})
