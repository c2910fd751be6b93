/**
 * Bad input to `assay server`, each a test: artifact paths in the shapes of MLflow's
 * path-traversal CVEs (nothing read or written outside the artifact root), malformed JSON,
 * wrong types naming the field, bodies over the limit, unknown routes, SQL in filters and ids.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { encodeBatchFrame } from '../../src/store/http/wire.js'
import { newRun, series } from '../store/fixtures.js'
import { testServer, type TestServer } from './helpers.js'

type Inject = Awaited<ReturnType<TestServer['app']['inject']>>

function errorOf(response: Inject): { code: string; message: string; details?: { field?: string } } {
  return (response.json() as { error: { code: string; message: string; details?: { field?: string } } }).error
}

function expectError(response: Inject, status: number, code: string, what: string): void {
  assert.equal(response.statusCode, status, `${what}: ${response.body}`)
  assert.equal(errorOf(response).code, code, what)
}

/** Every file under dir with its size and mtime, but the SQLite files (which change on every write). */
function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as { name: string; parentPath: string; isFile(): boolean }[])
    .filter((e) => e.isFile() && !/^assay\.db/.test(e.name))
    .map((e) => {
      const full = path.join(e.parentPath, e.name)
      const st = statSync(full)
      return `${path.relative(dir, full)} ${st.size} ${st.mtimeMs}`
    })
    .sort()
}

const TRAVERSALS = [
  '../../etc/passwd',
  '../secret.txt',
  '/etc/passwd',
  'C:/',
  'C:\\Windows\\win.ini',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '%252E%252E%252Fsecret.txt',
  'http:///?/../../etc/',
  'http:///#/../../etc/',
  '..\\..\\secret.txt',
  'a\\..\\..\\secret.txt',
  'file:///etc/passwd',
  'file:///etc/',
  'a/../../secret.txt',
  './a',
  'a//b',
]

describe('server bad input', () => {
  let s: TestServer
  const run = newRun({ experiment: 'exp-a' })
  let before_: string[]
  const secret = 'the sentinel secret that must never be served'

  before(async () => {
    s = await testServer({ auth: { enabled: false } })
    await s.store.createRun(run)
    writeFileSync(path.join(s.dir, 'secret.txt'), secret)
    before_ = listing(s.dir)
  })
  after(() => s.close())

  const json = (method: 'GET' | 'POST' | 'PUT', url: string, payload: string, headers: Record<string, string> = {}): Promise<Inject> =>
    s.app.inject({ method, url, payload, headers: { 'content-type': 'application/json', ...headers } })

  for (const name of TRAVERSALS) {
    it(`artifact name ${JSON.stringify(name)} is refused for upload, by-sha256 and download; nothing outside the root is touched`, async () => {
      const bytes = Buffer.from('payload')
      const sha = createHash('sha256').update(bytes).digest('hex')
      for (const query of [`name=${encodeURIComponent(name)}`, `name=${name.replaceAll('#', '%23')}`]) {
        const up = await s.app.inject({
          method: 'PUT',
          url: `/api/v1/runs/${run.id}/artifacts?${query}`,
          payload: bytes,
          headers: { 'content-type': 'application/octet-stream', 'x-assay-sha256': sha },
        })
        assert.ok(up.statusCode === 400, `upload ${query}: ${up.statusCode} ${up.body}`)
        assert.ok(['ASSAY_INVALID_ARTIFACT_NAME', 'ASSAY_INVALID_ARGUMENT'].includes(errorOf(up).code), up.body)
        const down = await s.app.inject({ method: 'GET', url: `/api/v1/runs/${run.id}/artifacts/content?${query}` })
        assert.equal(down.statusCode, 400, `download ${query}: ${down.body}`)
        assert.ok(!down.body.includes(secret) && !down.body.includes('root:'), 'no file content is ever served')
      }
      const ref = await json('POST', `/api/v1/runs/${run.id}/artifacts/by-sha256`, JSON.stringify({ name, sha256: sha, direction: 'consumed' }))
      expectError(ref, 400, 'ASSAY_INVALID_ARTIFACT_NAME', 'by-sha256')
      assert.deepEqual(listing(s.dir), before_, 'no file was written, moved or touched')
      assert.equal(readFileSync(path.join(s.dir, 'secret.txt'), 'utf8'), secret)
      assert.deepEqual((await s.store.getRun(run.id)).artifacts, [])
    })
  }

  it('a sha256 that is a path is refused: as content reference, in lineage, as x-assay-sha256', async () => {
    for (const sha256 of ['../../etc/passwd', 'file:///etc/passwd', '/etc/passwd', `${'a'.repeat(62)}/..`]) {
      const ref = await json('POST', `/api/v1/runs/${run.id}/artifacts/by-sha256`, JSON.stringify({ name: 'ok.bin', sha256, direction: 'consumed' }))
      expectError(ref, 400, 'ASSAY_INVALID_ARGUMENT', `by-sha256 ${sha256}`)
      assert.equal(errorOf(ref).details?.field, 'body.sha256')
      const lineage = await s.app.inject({ method: 'GET', url: `/api/v1/artifacts/${encodeURIComponent(sha256)}/lineage` })
      assert.ok([400, 404].includes(lineage.statusCode), lineage.body)
    }
    const up = await s.app.inject({
      method: 'PUT',
      url: `/api/v1/runs/${run.id}/artifacts?name=ok.bin`,
      payload: Buffer.from('x'),
      headers: { 'content-type': 'application/octet-stream', 'x-assay-sha256': '../../etc/passwd' },
    })
    expectError(up, 400, 'ASSAY_INVALID_ARGUMENT', 'x-assay-sha256 path')
    const source = await json('PUT', `/api/v1/runs/${run.id}/artifacts?name=ok.bin`, JSON.stringify({ path: '/etc/passwd', source: 'file:///etc/passwd' }))
    expectError(source, 400, 'ASSAY_INVALID_ARGUMENT', 'a JSON body naming a server-side source')
    assert.deepEqual(listing(s.dir), before_)
  })

  it('an upload whose bytes do not match x-assay-sha256 is 400 and nothing is stored', async () => {
    const response = await s.app.inject({
      method: 'PUT',
      url: `/api/v1/runs/${run.id}/artifacts?name=model.bin`,
      payload: Buffer.from('the real bytes'),
      headers: { 'content-type': 'application/octet-stream', 'x-assay-sha256': createHash('sha256').update('other bytes').digest('hex') },
    })
    expectError(response, 400, 'ASSAY_INVALID_ARGUMENT', 'sha256 mismatch')
    assert.match(errorOf(response).message, /nothing was stored/)
    assert.deepEqual((await s.store.getRun(run.id)).artifacts, [])
    assert.deepEqual(existsSync(s.uploads) ? readdirSync(s.uploads) : [], [], 'the staging file is gone')
    assert.deepEqual(listing(s.dir), before_)
  })

  it('malformed JSON is 400 ASSAY_MALFORMED_JSON', async () => {
    for (const body of ['{"id":', '{id: 1}', 'not json', '[1,2', '{"a":1}}']) {
      expectError(await json('POST', '/api/v1/runs', body), 400, 'ASSAY_MALFORMED_JSON', body)
    }
    expectError(await json('POST', `/api/v1/runs/${run.id}/status`, ''), 400, 'ASSAY_MALFORMED_JSON', 'empty JSON body')
  })

  it('wrong types are 400 ASSAY_INVALID_ARGUMENT naming the field', async () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/v1/runs', { ...newRun(), seed: 'seven' }, 'body.seed'],
      ['POST', '/api/v1/runs', { ...newRun(), id: 42 }, 'body.id'],
      ['POST', '/api/v1/runs', { ...newRun(), datasets: [{ name: 'x' }] }, 'body.datasets.0.role'],
      ['POST', '/api/v1/runs', { ...newRun(), unexpected: true }, 'body'],
      ['POST', `/api/v1/runs/${run.id}/batch`, { metrics: [{ key: 'loss', steps: [0], values: ['abc'], timestamps: [1] }] }, 'body.metrics.0.values.0'],
      ['POST', `/api/v1/runs/${run.id}/batch`, { tags: { a: 1 } }, 'body.tags.a'],
      ['POST', `/api/v1/runs/${run.id}/status`, { status: 'running', endTime: 1 }, 'body.status'],
      ['POST', `/api/v1/runs/${run.id}/heartbeat`, { at: 'now' }, 'body.at'],
      ['POST', '/api/v1/runs/mark-crashed', { staleBefore: null }, 'body.staleBefore'],
    ]
    for (const [method, url, payload, field] of cases) {
      const response = await json(method as 'POST', url, JSON.stringify(payload))
      expectError(response, 400, 'ASSAY_INVALID_ARGUMENT', `${url} ${field}`)
      assert.equal(errorOf(response).details?.field, field, response.body)
      assert.ok(errorOf(response).message.startsWith(field), errorOf(response).message)
    }
    const noKey = await s.app.inject({ method: 'GET', url: `/api/v1/runs/${run.id}/metrics` })
    expectError(noKey, 400, 'ASSAY_INVALID_ARGUMENT', 'missing query key')
    assert.equal(errorOf(noKey).details?.field, 'query.key')
    const badStep = await json('POST', `/api/v1/runs/${run.id}/batch`, JSON.stringify({ metrics: [{ key: 'l', steps: [0.5], values: [1], timestamps: [1] }] }))
    expectError(badStep, 400, 'ASSAY_INVALID_ARGUMENT', 'fractional step')
    assert.equal(errorOf(badStep).details?.field, 'metrics.0.steps.0')
    assert.equal((await s.store.getRun(run.id)).metrics.length, 0)
  })

  it('binary bodies that are not what they claim are 400', async () => {
    const octet = { 'content-type': 'application/octet-stream' }
    const post = (url: string, payload: Buffer): Promise<Inject> => s.app.inject({ method: 'POST', url, payload, headers: octet })
    expectError(await post(`/api/v1/runs/${run.id}/batch`, Buffer.from('garbage that is not a batch')), 400, 'ASSAY_INVALID_ARGUMENT', 'garbage batch')
    const frame = encodeBatchFrame({ metrics: [series('loss', [[0, 1], [1, 2]])] })
    expectError(await post(`/api/v1/runs/${run.id}/batch`, frame.subarray(0, frame.length - 8)), 400, 'ASSAY_INVALID_ARGUMENT', 'cut short')
    expectError(await post(`/api/v1/runs/${run.id}/batch`, Buffer.concat([frame, Buffer.alloc(8)])), 400, 'ASSAY_INVALID_ARGUMENT', 'trailing bytes')
    const header = Buffer.alloc(8)
    header.writeUInt32LE(0x42415341, 0)
    header.writeUInt32LE(5, 4)
    expectError(await post(`/api/v1/runs/${run.id}/batch`, Buffer.concat([header, Buffer.from('{nope')])), 400, 'ASSAY_MALFORMED_JSON', 'bad header JSON')
    expectError(await post(`/api/v1/runs/${run.id}/evals?dataset=val&datasetSha256=${'d'.repeat(64)}`, Buffer.from('not an eval chunk')), 400, 'ASSAY_INVALID_ARGUMENT', 'eval garbage')
    assert.equal((await s.store.getRun(run.id)).metrics.length, 0)
  })

  it('a binary batch header outside the plain shape is held to the schema: each bad field is 400 naming it, nothing stored', async () => {
    const frame = encodeBatchFrame({ metrics: [series('loss', [[0, 1], [1, 2]])] })
    const chunk = frame.subarray(Math.ceil((8 + frame.readUInt32LE(4)) / 8) * 8)
    const withHeader = (header: unknown): Buffer => {
      const text = Buffer.from(JSON.stringify(header))
      const start = Buffer.alloc(Math.ceil((8 + text.length) / 8) * 8)
      start.writeUInt32LE(0x42415341, 0)
      start.writeUInt32LE(text.length, 4)
      text.copy(start, 8)
      return Buffer.concat([start, chunk])
    }
    const post = (header: unknown): Promise<Inject> =>
      s.app.inject({ method: 'POST', url: `/api/v1/runs/${run.id}/batch`, payload: withHeader(header), headers: { 'content-type': 'application/octet-stream' } })
    const cases: [unknown, string][] = [
      [{ metrics: [{ key: 'loss', count: -1 }] }, 'body.metrics.0.count'],
      [{ metrics: [{ key: 'loss', count: 2.5 }] }, 'body.metrics.0.count'],
      [{ metrics: [{ key: 'loss', count: '2' }] }, 'body.metrics.0.count'],
      [{ metrics: [{ key: '', count: 2 }] }, 'body.metrics.0.key'],
      [{ metrics: [{ key: 'k'.repeat(251), count: 2 }] }, 'body.metrics.0.key'],
      [{ metrics: [{ key: 'loss', count: 2, extra: 1 }] }, 'body.metrics.0'],
      [{ batchId: '', metrics: [{ key: 'loss', count: 2 }] }, 'body.batchId'],
      [{ batchId: 'a\u0000b', metrics: [{ key: 'loss', count: 2 }] }, 'body.batchId'],
      [{ batchId: 7, metrics: [{ key: 'loss', count: 2 }] }, 'body.batchId'],
      [{ metrics: { key: 'loss', count: 2 } }, 'body.metrics'],
      [{ batchId: 'b', metrics: [{ key: 'loss', count: 2 }], other: true }, 'body'],
    ]
    for (const [header, field] of cases) {
      const response = await post(header)
      expectError(response, 400, 'ASSAY_INVALID_ARGUMENT', JSON.stringify(header).slice(0, 80))
      assert.equal(errorOf(response).details?.field, field, JSON.stringify(header).slice(0, 80))
    }
    assert.equal((await s.store.getRun(run.id)).metrics.length, 0)
    const plain = await post({ batchId: 'plain-1', metrics: [{ key: 'loss', count: 2 }] })
    assert.equal(plain.statusCode, 200, plain.body)
    assert.deepEqual([...(await s.store.getRun(run.id)).metrics.map((m) => m.key)], ['loss'])
  })

  it('bodies over the limit are 413 ASSAY_BODY_TOO_LARGE (JSON and binary)', async () => {
    const small = await testServer({ auth: { enabled: false }, bodyLimit: 1024, jsonLimit: 1024 })
    try {
      const r = newRun()
      await small.store.createRun(r)
      const big = JSON.stringify({ tags: { a: 'x'.repeat(2000) } })
      const j = await small.app.inject({ method: 'POST', url: `/api/v1/runs/${r.id}/batch`, payload: big, headers: { 'content-type': 'application/json' } })
      expectError(j, 413, 'ASSAY_BODY_TOO_LARGE', 'JSON over 1 KiB')
      const frame = encodeBatchFrame({ metrics: [series('loss', Array.from({ length: 100 }, (_, i) => [i, i] as const))] })
      const b = await small.app.inject({ method: 'POST', url: `/api/v1/runs/${r.id}/batch`, payload: frame, headers: { 'content-type': 'application/octet-stream' } })
      expectError(b, 413, 'ASSAY_BODY_TOO_LARGE', 'binary over 1 KiB')
      assert.equal((await small.store.getRun(r.id)).metrics.length, 0)
    } finally {
      await small.close()
    }
    // The documented defaults: 4 MiB of JSON, 64 MiB of binary batch.
    const over = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20)
    const response = await s.app.inject({ method: 'POST', url: `/api/v1/runs/${run.id}/batch`, payload: over, headers: { 'content-type': 'application/json' } })
    expectError(response, 413, 'ASSAY_BODY_TOO_LARGE', 'JSON over 4 MiB')
    const overBinary = Buffer.alloc(64 * 1024 * 1024 + 1, 0x20)
    const binary = await s.app.inject({ method: 'POST', url: `/api/v1/runs/${run.id}/batch`, payload: overBinary, headers: { 'content-type': 'application/octet-stream' } })
    expectError(binary, 413, 'ASSAY_BODY_TOO_LARGE', 'binary batch over 64 MiB')
  })

  it('unknown routes and methods are 404 ASSAY_ROUTE_NOT_FOUND', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/nope'],
      ['GET', '/api/v2/runs'],
      ['DELETE', `/api/v1/runs/${run.id}`],
      ['PATCH', '/api/v1/runs'],
      ['GET', '/../../etc/passwd'],
      // GET / is the web UI's page (docs/ui.md); nothing else at the root is served.
      ['POST', '/'],
      ['GET', '/index.html'],
      ['GET', '/ui/nope.js'],
    ] as const) {
      expectError(await s.app.inject({ method, url }), 404, 'ASSAY_ROUTE_NOT_FOUND', `${method} ${url}`)
    }
  })

  it('SQL in experiment names, run ids and prefixes changes nothing but the lookup', async () => {
    const injections = ["exp-a' OR '1'='1", "'; DROP TABLE runs; --", 'exp-a" OR 1=1 --', "x') UNION SELECT * FROM api_tokens --"]
    for (const text of injections) {
      expectError(await s.app.inject({ method: 'GET', url: `/api/v1/runs?experiment=${encodeURIComponent(text)}` }), 404, 'ASSAY_EXPERIMENT_NOT_FOUND', text)
      expectError(await s.app.inject({ method: 'GET', url: `/api/v1/runs/resolve?id=${encodeURIComponent(text)}` }), 404, 'ASSAY_RUN_NOT_FOUND', text)
      expectError(await s.app.inject({ method: 'GET', url: `/api/v1/runs/${encodeURIComponent(text)}` }), 404, 'ASSAY_RUN_NOT_FOUND', text)
      const metrics = await s.app.inject({ method: 'GET', url: `/api/v1/runs/${run.id}/metrics?key=${encodeURIComponent(text)}` })
      assert.equal(metrics.statusCode, 200, 'a metric key is data: an empty series')
      assert.equal(metrics.rawPayload.length, 8, 'no points')
    }
    const all = (await s.app.inject({ method: 'GET', url: '/api/v1/runs' })).json() as { runs: { id: string }[] }
    assert.deepEqual(all.runs.map((r) => r.id), [run.id], 'the runs table is intact')
  })
})
