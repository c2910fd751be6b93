/**
 * The web UI's server side, in process: the page and its files, the sign-in cookie (HttpOnly,
 * SameSite=Strict, read requests only, the same scope checks as a Bearer header), and the two
 * read routes the UI added (metric buckets, compare of two runs) under tokens limited to one
 * experiment.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { binaryRecords } from '../compare/helpers.js'
import { newRun, series } from '../store/fixtures.js'
import { bearer, makeToken, testServer, type TestServer } from './helpers.js'
import { evalRecordsToChunk } from '../../src/sdk/eval-batch.js'
import { SESSION_COOKIE, sessionToken } from '../../src/server/ui-routes.js'

describe('the web UI on assay server', () => {
  let server: TestServer
  let reader: string
  let visionReader: string
  let writer: string
  const vision = newRun({ experiment: 'vision', name: 'v1' })
  const secret = newRun({ experiment: 'secret', name: 's1' })

  before(async () => {
    server = await testServer()
    await server.store.createRun(vision)
    await server.store.createRun(secret)
    const points = Array.from({ length: 5000 }, (_, i) => [i, i === 4321 ? 99 : 0] as const)
    await server.store.logBatch(vision.id, { metrics: [series('loss', points)] })
    reader = (await makeToken(server.store, 'read')).secret
    visionReader = (await makeToken(server.store, 'read', ['vision'], 'vision-reader')).secret
    writer = (await makeToken(server.store, 'write', null, 'writer')).secret
  })
  after(() => server.close())

  const cookie = (secretValue: string) => ({ cookie: `other=1; ${SESSION_COOKIE}=${secretValue}` })

  it('serves the page and its files without a token, with a CSP that allows nothing from elsewhere', async () => {
    const page = await server.app.inject({ method: 'GET', url: '/' })
    assert.equal(page.statusCode, 200)
    assert.match(page.headers['content-type'] as string, /text\/html/)
    assert.match(page.body, /<script type="module" src="\/ui\/app.js">/)
    assert.match(page.headers['content-security-policy'] as string, /default-src 'self'/)
    const js = await server.app.inject({ method: 'GET', url: '/ui/app.js' })
    assert.equal(js.statusCode, 200)
    assert.match(js.headers['content-type'] as string, /text\/javascript/)
    assert.doesNotMatch(js.body, /cdn\.|unpkg\.com|jsdelivr/, 'nothing is loaded from a CDN')
    assert.equal((await server.app.inject({ method: 'GET', url: '/ui/secret.txt' })).statusCode, 404)
    assert.equal((await server.app.inject({ method: 'GET', url: '/ui/..%2Fpackage.json' })).statusCode, 404)
  })

  it('signs in: a known token becomes an HttpOnly, SameSite=Strict cookie; an unknown one is 401 and sets none', async () => {
    const bad = await server.app.inject({ method: 'POST', url: '/ui/session', payload: { token: 'assay_unknown-token-000000000000000000000' } })
    assert.equal(bad.statusCode, 401)
    assert.equal(bad.headers['set-cookie'], undefined)
    const good = await server.app.inject({ method: 'POST', url: '/ui/session', payload: { token: visionReader } })
    assert.equal(good.statusCode, 200)
    const set = String(good.headers['set-cookie'])
    assert.match(set, new RegExp(`^${SESSION_COOKIE}=${visionReader}; Path=/; HttpOnly; SameSite=Strict$`))
    assert.equal(JSON.parse(good.body).token.name, 'vision-reader')
    const out = await server.app.inject({ method: 'DELETE', url: '/ui/session' })
    assert.match(String(out.headers['set-cookie']), /Max-Age=0/)
  })

  it('reads with the cookie under the same scope checks as a Bearer token', async () => {
    assert.equal((await server.app.inject({ method: 'GET', url: '/api/v1/runs' })).statusCode, 401)
    const runs = await server.app.inject({ method: 'GET', url: '/api/v1/runs', headers: cookie(visionReader) })
    assert.equal(runs.statusCode, 200)
    assert.deepEqual(JSON.parse(runs.body).runs.map((r: { name: string }) => r.name), ['v1'])
    assert.equal((await server.app.inject({ method: 'GET', url: `/api/v1/runs/${secret.id}`, headers: cookie(visionReader) })).statusCode, 403)
    assert.equal((await server.app.inject({ method: 'GET', url: '/api/v1/models', headers: cookie(visionReader) })).statusCode, 403)
    assert.equal((await server.app.inject({ method: 'GET', url: '/api/v1/models', headers: cookie(reader) })).statusCode, 200)
  })

  it('never takes the cookie for a write, even of a write token (no cross-site writes)', async () => {
    const write = await server.app.inject({ method: 'POST', url: `/api/v1/runs/${vision.id}/heartbeat`, headers: cookie(writer), payload: { at: Date.now() } })
    assert.equal(write.statusCode, 401)
    const withBearer = await server.app.inject({ method: 'POST', url: `/api/v1/runs/${vision.id}/heartbeat`, headers: bearer(writer), payload: { at: Date.now() } })
    assert.equal(withBearer.statusCode, 200)
  })

  it('reads the session token from a Cookie header', () => {
    assert.equal(sessionToken(undefined), undefined)
    assert.equal(sessionToken('a=1'), undefined)
    assert.equal(sessionToken(`a=1; ${SESSION_COOKIE}=assay_x`), 'assay_x')
    assert.equal(sessionToken(`${SESSION_COOKIE}=`), undefined)
    assert.equal(sessionToken(`x${SESSION_COOKIE}=assay_y`), undefined)
  })

  it('answers a metric as buckets that keep its spike, for the runs the token may read', async () => {
    const response = await server.app.inject({ method: 'GET', url: `/api/v1/runs/${vision.id}/metrics/buckets?key=loss&buckets=100`, headers: bearer(visionReader) })
    assert.equal(response.statusCode, 200)
    const b = JSON.parse(response.body)
    assert.equal(b.points, 5000)
    assert.equal(b.steps.length, 100)
    assert.equal(b.max[86], 99, 'step 4321 is in bucket 86 (steps 4300-4349)')
    assert.equal(Math.max(...b.max), 99)
    assert.equal((await server.app.inject({ method: 'GET', url: `/api/v1/runs/${vision.id}/metrics/buckets?key=loss&buckets=0`, headers: bearer(visionReader) })).statusCode, 400)
    assert.equal((await server.app.inject({ method: 'GET', url: `/api/v1/runs/${secret.id}/metrics/buckets?key=loss`, headers: bearer(visionReader) })).statusCode, 403)
  })

  it('compares two runs, and refuses a run of another experiment or a group expression', async () => {
    const a = newRun({ experiment: 'vision', name: 'a' })
    const b = newRun({ experiment: 'vision', name: 'b' })
    const c = newRun({ experiment: 'secret', name: 'c' })
    for (const [run, hit] of [
      [a, (i: number) => i % 10 !== 0],
      [b, (i: number) => i % 3 !== 0],
      [c, (i: number) => i % 2 !== 0],
    ] as const) {
      await server.store.createRun(run)
      await server.store.logEval(run.id, run.datasets[0].name, run.datasets[0].sha256, evalRecordsToChunk(binaryRecords(200, hit), new Set()))
    }
    const ok = await server.app.inject({ method: 'GET', url: `/api/v1/compare?a=${a.id}&b=${b.id}&metric=correct`, headers: bearer(visionReader) })
    assert.equal(ok.statusCode, 200, ok.body)
    const comparison = JSON.parse(ok.body).comparison
    assert.equal(comparison.verdict, 'better')
    assert.equal(comparison.sampleSizes.pairs, 200)
    assert.match(comparison.method, /McNemar/)
    // A whole id of another experiment is 403 (as GET /runs/:runId); a prefix into it is answered as no run at all (as /runs/resolve).
    assert.equal((await server.app.inject({ method: 'GET', url: `/api/v1/compare?a=${c.id}&b=${b.id}&metric=correct`, headers: bearer(visionReader) })).statusCode, 403)
    const refused = await server.app.inject({ method: 'GET', url: `/api/v1/compare?a=${c.id.slice(0, 6)}&b=${b.id}&metric=correct`, headers: bearer(visionReader) })
    assert.equal(refused.statusCode, 404, refused.body)
    assert.equal((refused.json() as { error: { code: string } }).error.code, 'ASSAY_RUN_NOT_FOUND')
    assert.equal((await server.app.inject({ method: 'GET', url: `/api/v1/compare?a=ffffff&b=${b.id}&metric=correct`, headers: bearer(visionReader) })).statusCode, 404)
    assert.equal((await server.app.inject({ method: 'GET', url: `/api/v1/compare?a=${encodeURIComponent("filter:params.x = 'y'")}&b=${b.id}&metric=correct`, headers: bearer(reader) })).statusCode, 400)
  })
})
