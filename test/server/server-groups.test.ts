/**
 * The web UI's group routes in process: runs grouped by config fingerprint and by params with N,
 * the mean and its t interval (checked against values worked out here from the fixture's numbers,
 * with Student t quantiles from R), a group's curve as per-bucket mean and interval, the seed
 * variance of `assay variance`, and their access checks (a limited token sees no other
 * experiment's runs; a foreign run is 403) and bad input (400 with a stable code).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { RunGroupsPage, MetricBand } from '../../src/compare/run-groups.js'
import { newRun, series } from '../store/fixtures.js'
import { bearer, makeToken, testServer, type TestServer } from './helpers.js'

// > print(qt(0.975, c(2, 4)), digits = 17)   (R)
// [1] 4.3026527297494619 2.7764451051977934
const T975_DF2 = 4.3026527297494619
const T975_DF4 = 2.7764451051977934

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} is not ${expected}`)

describe('the group routes of the web UI', () => {
  let server: TestServer
  let reader: string
  let visionReader: string
  const ids: Record<string, string[]> = { a: [], b: [], secret: [] }
  const accA = [0.7, 0.74, 0.78]
  const accB = [0.8, 0.82, 0.84, 0.86, 0.88]

  before(async () => {
    server = await testServer()
    const make = async (experiment: string, lr: number, seed: number, acc: number, status: 'finished' | 'running' = 'finished') => {
      const run = newRun({ experiment, name: `lr${lr}-s${seed}`, params: { lr }, seed, startTime: 1_700_000_000_000 + seed })
      await server.store.createRun(run)
      // A curve per run: value = seed + step / 100 at steps 0..99.
      const curve = Array.from({ length: 100 }, (_, s) => [s, seed + s / 100] as const)
      await server.store.logBatch(run.id, { metrics: [series('acc', [[1, acc]]), series('loss', curve)] })
      if (status === 'finished') await server.store.setRunStatus(run.id, 'finished', 1_700_000_100_000)
      return run.id
    }
    for (const [i, acc] of accA.entries()) ids.a.push(await make('vision', 0.1, i + 1, acc))
    for (const [i, acc] of accB.entries()) ids.b.push(await make('vision', 0.2, i + 1, acc))
    await make('vision', 0.1, 9, 0.01, 'running') // not finished: in no group
    ids.secret.push(await make('secret', 0.1, 4, 0.1))
    reader = (await makeToken(server.store, 'read')).secret
    visionReader = (await makeToken(server.store, 'read', ['vision'], 'vision-reader')).secret
  })
  after(() => server.close())

  const get = (url: string, secret = reader) => server.app.inject({ method: 'GET', url, headers: bearer(secret) })

  it('groups by params with N, the mean and its t interval per metric; a limited token groups only its experiment', async () => {
    const all = await get('/api/v1/run-groups?groupBy=params.lr&metrics=acc')
    assert.equal(all.statusCode, 200, all.body)
    const page = JSON.parse(all.body) as RunGroupsPage
    assert.equal(page.runsGrouped, 9)
    assert.deepEqual(page.groups.map((g) => [g.label, g.n]), [['lr=0.1', 4], ['lr=0.2', 5]], 'the secret run joins lr=0.1 for an unrestricted token')

    const limited = JSON.parse((await get('/api/v1/run-groups?groupBy=params.lr&metrics=metrics.acc', visionReader)).body) as RunGroupsPage
    assert.equal(limited.runsGrouped, 8)
    const [a, b] = limited.groups
    assert.equal(a?.n, 3)
    assert.deepEqual(a?.runs.map((r) => r.id).sort(), [...ids.a].sort(), 'no run of experiment secret')
    assert.deepEqual(a?.runs.map((r) => r.seed).sort(), [1, 2, 3])
    const ma = a?.metrics[0]
    assert.equal(ma?.n, 3)
    close(ma?.mean as number, 0.74, 'mean of A')
    // sd 0.04, se 0.04 / sqrt(3), t(0.975, 2)
    const halfA = T975_DF2 * (0.04 / Math.sqrt(3))
    close(ma?.ci?.[0] as number, 0.74 - halfA, 'lower of A')
    close(ma?.ci?.[1] as number, 0.74 + halfA, 'upper of A')
    const mb = b?.metrics[0]
    close(mb?.mean as number, 0.84, 'mean of B')
    const halfB = T975_DF4 * (Math.sqrt(0.001) / Math.sqrt(5))
    close(mb?.ci?.[0] as number, 0.84 - halfB, 'lower of B')
    close(mb?.ci?.[1] as number, 0.84 + halfB, 'upper of B')
    assert.match(limited.method, /Student t interval/)
    assert.equal(a?.filter, "status = 'finished' and params.lr = 0.1")
  })

  it('groups by config fingerprint, pages groups, and names the runs of each', async () => {
    const first = JSON.parse((await get('/api/v1/run-groups?groupBy=config&metrics=acc&limit=1', visionReader)).body) as RunGroupsPage
    assert.equal(first.groupCount, 2)
    assert.equal(first.groups.length, 1)
    assert.notEqual(first.nextCursor, null)
    const second = JSON.parse((await get(`/api/v1/run-groups?groupBy=config&metrics=acc&limit=1&cursor=${first.nextCursor}`, visionReader)).body) as RunGroupsPage
    assert.equal(second.groups.length, 1)
    assert.equal(second.nextCursor, null)
    const ns = [first.groups[0]?.n, second.groups[0]?.n].sort()
    assert.deepEqual(ns, [3, 5])
    for (const g of [...first.groups, ...second.groups]) assert.match(g.filter ?? '', /^status = 'finished' and config = '[0-9a-f]+'$/)
    // The group's filter lists exactly its runs.
    const g = first.groups[0] as RunGroupsPage['groups'][number]
    const listed = JSON.parse((await get(`/api/v1/runs?filter=${encodeURIComponent(g.filter as string)}`, visionReader)).body) as { runs: { id: string }[] }
    assert.deepEqual(listed.runs.map((r) => r.id).sort(), g.runs.map((r) => r.id).sort())
  })

  it('draws a group as the per-bucket mean and interval over its runs', async () => {
    const res = await get(`/api/v1/run-groups/metric-band?runs=${ids.a.join(',')}&key=loss&buckets=10`, visionReader)
    assert.equal(res.statusCode, 200, res.body)
    const band = JSON.parse(res.body) as MetricBand
    assert.deepEqual(band.steps, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90])
    assert.deepEqual(band.points, [100, 100, 100])
    assert.deepEqual(band.n, Array(10).fill(3))
    // Bucket b: run r's mean is r + (10 b + 4.5) / 100; over r = 1, 2, 3 the mean is 2 + …, sd 1.
    const half = T975_DF2 / Math.sqrt(3)
    for (let b = 0; b < 10; b++) {
      const m = 2 + (10 * b + 4.5) / 100
      close(band.mean[b] as number, m, `mean of bucket ${b}`)
      close(band.lower[b] as number, m - half, `lower of bucket ${b}`)
      close(band.upper[b] as number, m + half, `upper of bucket ${b}`)
    }
  })

  it('measures seed variance as assay variance does', async () => {
    const res = await get(`/api/v1/variance?runs=${ids.b.join(',')}&metric=acc`, visionReader)
    assert.equal(res.statusCode, 200, res.body)
    const v = JSON.parse(res.body).variance
    assert.equal(v.source, 'run-metrics')
    assert.deepEqual(v.runs.map((r: { seed: number }) => r.seed), [1, 2, 3, 4, 5])
    close(v.mean, 0.84, 'mean')
    close(v.seeds.sd, Math.sqrt(0.001), 'sd over seeds')
    assert.equal(v.shares.seeds, 1)
    // One run means its config group.
    const one = JSON.parse((await get(`/api/v1/variance?runs=${ids.a[0]}&metric=acc`, visionReader)).body).variance
    assert.deepEqual([...one.group.runIds].sort(), [...ids.a].sort())
  })

  it('refuses another experiment with 403 and bad input with 400', async () => {
    const forbidden = async (url: string) => {
      const res = await get(url, visionReader)
      assert.equal(res.statusCode, 403, `${url}: ${res.body}`)
      assert.equal(JSON.parse(res.body).error.code, 'ASSAY_FORBIDDEN')
    }
    await forbidden(`/api/v1/run-groups/metric-band?runs=${ids.a[0]},${ids.secret[0]}&key=loss`)
    await forbidden(`/api/v1/variance?runs=${ids.secret[0]}&metric=acc`)
    await forbidden('/api/v1/run-groups?groupBy=config&experiment=secret')
    const bad = async (url: string, code: string) => {
      const res = await get(url)
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`)
      assert.equal(JSON.parse(res.body).error.code, code, url)
    }
    await bad('/api/v1/run-groups', 'ASSAY_INVALID_ARGUMENT')
    await bad('/api/v1/run-groups?groupBy=params.', 'ASSAY_INVALID_ARGUMENT')
    await bad(`/api/v1/run-groups?groupBy=config&metrics=${Array.from({ length: 11 }, (_, i) => `m${i}`).join(',')}`, 'ASSAY_INVALID_ARGUMENT')
    await bad('/api/v1/run-groups?groupBy=config&confidence=1.5', 'ASSAY_INVALID_ARGUMENT')
    // Each key is one join in SQL (SQLite stops at 64 tables): more than 10 distinct keys are refused, repeats count once.
    await bad(`/api/v1/run-groups?groupBy=${Array.from({ length: 11 }, (_, i) => `params.k${i}`).join(',')}`, 'ASSAY_INVALID_ARGUMENT')
    await bad(`/api/v1/run-groups?groupBy=${Array.from({ length: 300 }, (_, i) => `k${i}`).join(',')}`, 'ASSAY_INVALID_ARGUMENT')
    const repeated = await get(`/api/v1/run-groups?groupBy=${Array(40).fill('params.lr').join(',')}&metrics=acc`)
    assert.equal(repeated.statusCode, 200, repeated.body)
    assert.equal((JSON.parse(repeated.body) as RunGroupsPage).groupBy, 'params.lr')
    await bad('/api/v1/run-groups?groupBy=config&cursor=not-a-cursor', 'ASSAY_INVALID_ARGUMENT')
    await bad('/api/v1/run-groups?groupBy=config&filter=params.lr%20%3E', 'ASSAY_INVALID_FILTER')
    await bad('/api/v1/run-groups/metric-band?runs=NOT-HEX&key=loss', 'ASSAY_INVALID_ARGUMENT')
    await bad(`/api/v1/run-groups/metric-band?runs=${ids.a[0]}&key=loss&buckets=0`, 'ASSAY_INVALID_ARGUMENT')
    await bad(`/api/v1/run-groups/metric-band?runs=${Array(101).fill(ids.a[0]).join(',')}&key=loss`, 'ASSAY_INVALID_ARGUMENT')
    await bad('/api/v1/variance?runs=abcdef', 'ASSAY_INVALID_ARGUMENT')
    // A run-group cursor is not a runs cursor, and the other way round.
    const runsPage = JSON.parse((await get('/api/v1/runs?limit=1')).body) as { nextCursor: string }
    await bad(`/api/v1/run-groups?groupBy=config&cursor=${runsPage.nextCursor}`, 'ASSAY_INVALID_ARGUMENT')
    assert.equal((await get(`/api/v1/run-groups/metric-band?runs=${'f'.repeat(32)}&key=loss`)).statusCode, 404)
  })
})
