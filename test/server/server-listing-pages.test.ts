import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { appendAuditRecord } from '../../src/audit/append-and-verify.js'
import type { ArtifactRef, HoldoutRead } from '../../src/record/types.js'
import { MAX_CURSOR_LENGTH } from '../../src/store/pages.js'
import { newRun } from '../store/fixtures.js'
import { bearer, makeToken, testServer, type TestServer } from './helpers.js'

interface Page {
  nextCursor?: string | null
  error?: { code: string; message: string }
  [items: string]: unknown
}

/**
 * Every listing of the server beyond runs, experiments and models (server-run-pages.test.ts) comes
 * in pages: ?limit and ?cursor, nextCursor in the answer, 400 for a bad page size or a cursor that
 * is not the listing's. A token limited to experiments sees only its experiments' lineage edges
 * and ledger entries, in full pages.
 */
describe('every listing in pages over HTTP', () => {
  let s: TestServer
  let readA = ''
  let readAll = ''
  let admin = ''
  let sha256 = ''
  const datasetSha256 = 'd'.repeat(64)
  const runExperiment = new Map<string, string>()

  before(async () => {
    s = await testServer()
    const runs = Array.from({ length: 9 }, (_, i) => newRun({ experiment: i % 3 === 0 ? 'exp-b' : 'exp-a', name: `r${i}`, startTime: Date.now() + i }))
    for (const run of runs) {
      await s.store.createRun(run)
      runExperiment.set(run.id, run.experiment)
    }
    sha256 = (await s.store.putArtifact(runs[0].id, 'model.bin', { bytes: Buffer.from('shared') }, 'produced')).sha256
    for (const run of runs.slice(1)) await s.store.putArtifact(run.id, 'input.bin', { sha256 }, 'consumed')
    for (const [i, run] of runs.entries()) {
      const runIds = i === 4 ? [run.id, runs[0].id] : [run.id]
      await s.store.recordHoldoutRead({ datasetSha256, datasetName: 'test', runIds, purpose: `read ${i}`, actor: 'alice', at: 1000 + i })
    }
    await s.store.createModel({ name: 'm', owner: 'alice', description: '', tags: {}, createdAt: 1000, createdBy: 'alice' })
    for (let i = 0; i < 3; i++) await s.store.addModelVersion({ model: 'm', runId: runs[1].id, artifact: null, description: '', tags: {}, createdAt: 2000 + i, createdBy: 'alice' })
    for (let i = 0; i < 3; i++) await appendAuditRecord(s.store, { kind: 'gate-check', actor: 'alice', subject: `check ${i}`, body: { decision: 'accept' } })
    readA = (await makeToken(s.store, 'read', ['exp-a'], 'reader-a')).secret
    readAll = (await makeToken(s.store, 'read', null, 'reader-all')).secret
    admin = (await makeToken(s.store, 'admin', null, 'admin')).secret
  })
  after(() => s.close())

  const get = async (url: string, secret: string): Promise<{ status: number; body: Page }> => {
    const response = await s.app.inject({ method: 'GET', url, headers: bearer(secret) })
    return { status: response.statusCode, body: response.json() as Page }
  }

  /** Every page of `url` at `limit`: each full but the last; the items joined. */
  async function walk<T>(url: string, key: string, limit: number, secret: string): Promise<{ items: T[]; pages: number }> {
    const items: T[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const { status, body } = await get(`${url}?limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, secret)
      assert.equal(status, 200, JSON.stringify(body))
      const got = body[key] as T[]
      pages++
      assert.ok(body.nextCursor === null || got.length === limit, `page ${pages} of ${url} is not the last, so it is full`)
      items.push(...got)
      cursor = body.nextCursor ?? null
    } while (cursor !== null)
    return { items, pages }
  }

  it("a limited token walks full pages of the lineage edges of its experiments' runs only", async () => {
    const all = await walk<ArtifactRef>(`/api/v1/artifacts/${sha256}/lineage`, 'edges', 2, readAll)
    assert.equal(all.items.length, 9)
    const expected = all.items.filter((e) => runExperiment.get(e.runId) === 'exp-a')
    assert.equal(expected.length, 6)
    const mine = await walk<ArtifactRef>(`/api/v1/artifacts/${sha256}/lineage`, 'edges', 2, readA)
    assert.deepEqual(mine, { items: expected, pages: 3 }, 'three full pages of two, nothing of exp-b')
  })

  it('a limited token walks full pages of the ledger entries whose every run is in its experiments', async () => {
    const all = await walk<HoldoutRead>(`/api/v1/holdout-reads/${datasetSha256}`, 'reads', 2, readAll)
    assert.deepEqual(all.items.map((r) => r.purpose), Array.from({ length: 9 }, (_, i) => `read ${i}`))
    const mine = await walk<HoldoutRead>(`/api/v1/holdout-reads/${datasetSha256}`, 'reads', 2, readA)
    // Runs 0, 3, 6 are exp-b's; entry 4 names run 0 too.
    assert.deepEqual(mine.items.map((r) => r.purpose), ['read 1', 'read 2', 'read 5', 'read 7', 'read 8'])
    assert.equal(mine.pages, 3)
  })

  it('registry, audit and token listings walk in pages; the whole walk is the store\'s listing', async () => {
    assert.deepEqual((await walk('/api/v1/models/m/versions', 'versions', 2, readAll)).items, await s.store.listModelVersions('m'))
    assert.deepEqual((await walk('/api/v1/audit', 'records', 2, readAll)).items, await s.store.auditRecords())
    assert.deepEqual((await walk('/api/v1/tokens', 'tokens', 2, admin)).items, await s.store.listApiTokens())
    assert.equal((await get('/api/v1/audit?limit=2', readA)).status, 403, 'the audit log is for tokens valid for every experiment')
  })

  it('bad page sizes, foreign, malformed and over-long cursors are 400 ASSAY_INVALID_ARGUMENT on every paged route', async () => {
    const runCursor = (await get('/api/v1/runs?limit=1', readAll)).body.nextCursor as string
    assert.ok(typeof runCursor === 'string')
    const routes: [string, string][] = [
      ['/api/v1/models/m/versions', readAll],
      ['/api/v1/models/m/alias-events', readAll],
      ['/api/v1/gate-policies', readAll],
      ['/api/v1/audit', readAll],
      ['/api/v1/tokens', admin],
      [`/api/v1/artifacts/${sha256}/lineage`, readA],
      [`/api/v1/holdout-reads/${datasetSha256}`, readA],
    ]
    for (const [url, secret] of routes) {
      const fine = await get(`${url}?limit=1`, secret)
      assert.equal(fine.status, 200, url)
      assert.ok('nextCursor' in fine.body, `${url} answers with nextCursor`)
      for (const query of ['?limit=0', '?limit=1001', '?limit=x', '?cursor=bogus', `?cursor=${runCursor}`, `?cursor=${'x'.repeat(MAX_CURSOR_LENGTH + 1)}`]) {
        const { status, body } = await get(`${url}${query}`, secret)
        assert.equal(status, 400, `${url}${query.slice(0, 40)}`)
        assert.equal(body.error?.code, 'ASSAY_INVALID_ARGUMENT', `${url}${query.slice(0, 40)}`)
      }
    }
  })

  it('the OpenAPI document gives every paged listing ?limit and ?cursor', async () => {
    const doc = (await s.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, { get?: { parameters?: { name: string; in: string }[] } }> }
    for (const path of ['/api/v1/models/{name}/versions', '/api/v1/models/{name}/alias-events', '/api/v1/gate-policies', '/api/v1/audit', '/api/v1/tokens', '/api/v1/artifacts/{sha256}/lineage', '/api/v1/holdout-reads/{sha256}']) {
      const names = (doc.paths[path]?.get?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name)
      assert.ok(names.includes('limit') && names.includes('cursor'), `${path}: ${names.join(', ')}`)
    }
  })
})
