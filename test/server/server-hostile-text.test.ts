/**
 * Values that pass a shape check but that PostgreSQL cannot take (a NUL in text, an integer past
 * an int4 column) are 400s at the boundary, never 500s: cursors of every listing, name-like path
 * and query parameters, a filter's string literal, and text in request bodies. The same walk runs
 * on the embedded store and on PostgreSQL (ASSAY_TEST_POSTGRES_URL), so both answer alike; the
 * store core refuses a NUL too, so SDK users get the same error as HTTP clients.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { appendAuditRecord } from '../../src/audit/append-and-verify.js'
import { isAssayError } from '../../src/errors.js'
import { buildServer } from '../../src/server/app.js'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { dropSchema, freshSchema } from '../store/backends.js'
import { newRun } from '../store/fixtures.js'
import { hex, llmTrace, newDeployment } from '../production/helpers.js'
import { bearer, makeToken } from './helpers.js'

const POSTGRES_URL = process.env.ASSAY_TEST_POSTGRES_URL
const NUL = '\u0000'
const cursor = (...parts: unknown[]): string => Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url')
const q = encodeURIComponent

interface Backend {
  name: string
  skip: string | undefined
  open(): Promise<{ store: Store; dispose(): Promise<void> }>
}

const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    skip: undefined,
    async open() {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'assay-hostile-'))
      const store = await SqliteStore.open(path.join(dir, 'store'))
      return { store, dispose: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) }
    },
  },
  {
    name: 'postgres',
    skip: POSTGRES_URL ? undefined : 'ASSAY_TEST_POSTGRES_URL is not set',
    async open() {
      const schema = freshSchema()
      const store = await PostgresStore.open(POSTGRES_URL as string, { schema, poolSize: 2 })
      return { store, dispose: async () => (await store.close(), await dropSchema(POSTGRES_URL as string, schema)) }
    },
  },
]

for (const backend of BACKENDS) {
  describe(`hostile text and integers on ${backend.name}: 400, never 500`, { skip: backend.skip }, () => {
    let store: Store
    let dispose: () => Promise<void>
    let app: FastifyInstance
    let dir: string
    let admin = ''
    let readA = ''
    const run = newRun({ experiment: 'exp-a', name: 'r0' })
    const run2 = newRun({ experiment: 'exp-a', name: 'r1' })
    let sha256 = ''
    const deployment = newDeployment({ endpoint: 'chat' })
    const trace = llmTrace(deployment.id)

    before(async () => {
      ;({ store, dispose } = await backend.open())
      dir = mkdtempSync(path.join(os.tmpdir(), 'assay-hostile-up-'))
      app = await buildServer({ store, auth: { enabled: true }, uploadDir: path.join(dir, 'uploads') })
      await store.createRun(run)
      await store.createRun(run2)
      sha256 = (await store.putArtifact(run.id, 'model.bin', { bytes: Buffer.from('bytes') }, 'produced')).sha256
      await store.createModel({ name: 'm', owner: 'alice', description: '', tags: {}, createdAt: 1000, createdBy: 'alice' })
      await store.addModelVersion({ model: 'm', runId: run.id, artifact: null, description: '', tags: {}, createdAt: 2000, createdBy: 'alice' })
      await appendAuditRecord(store, { kind: 'gate-check', actor: 'alice', subject: 'check', body: { decision: 'accept' } })
      await store.createDeployment(deployment)
      await store.logTraces([trace])
      admin = (await makeToken(store, 'admin', null, 'admin')).secret
      readA = (await makeToken(store, 'read', ['exp-a'], 'reader-a')).secret
    })
    after(async () => {
      await app.close()
      await dispose()
      rmSync(dir, { recursive: true, force: true })
    })

    async function expect400(method: 'GET' | 'POST', url: string, code: string, payload?: unknown, secret = admin): Promise<void> {
      const response = await app.inject({ method, url, headers: bearer(secret), ...(payload === undefined ? {} : { payload: payload as object }) })
      assert.equal(response.statusCode, 400, `${method} ${url.slice(0, 120)}: ${response.statusCode} ${response.body.slice(0, 300)}`)
      assert.equal((response.json() as { error: { code: string } }).error.code, code, `${method} ${url.slice(0, 120)}`)
    }

    it('a cursor with an integer past int4 or a NUL in its text is 400 on every listing', async () => {
      const ordered = (await app.inject({ method: 'GET', url: '/api/v1/runs?orderBy=name&limit=1', headers: bearer(admin) })).json() as { nextCursor: string }
      const orderedParts = JSON.parse(Buffer.from(ordered.nextCursor, 'base64url').toString('utf8')) as unknown[]
      const cases: [string, string, string?][] = [
        ['/api/v1/models/m/versions', cursor('model version', 2 ** 40)],
        ['/api/v1/models/m/versions', cursor('model version', -(2 ** 40))],
        ['/api/v1/gate-policies', cursor('gate policy', 'm', 'champion', 2 ** 40)],
        ['/api/v1/gate-policies', cursor('gate policy', `m${NUL}`, 'champion', 1)],
        ['/api/v1/gate-policies', cursor('gate policy', 'm', `champion${NUL}`, 1)],
        ['/api/v1/models', cursor('model', `m${NUL}`)],
        ['/api/v1/experiments', cursor('experiment', `e${NUL}`)],
        ['/api/v1/tokens', cursor('API token', 1, `t${NUL}`)],
        [`/api/v1/artifacts/${sha256}/lineage`, cursor('artifact lineage', 1, `${NUL}`, 'model.bin', 'produced')],
        [`/api/v1/artifacts/${sha256}/lineage`, cursor('artifact lineage', 1, run.id, `model${NUL}`, 'produced'), readA],
        [`/api/v1/artifacts/${sha256}/lineage`, cursor('artifact lineage', 1, run.id, 'model.bin', `${NUL}`)],
        ['/api/v1/runs?orderBy=name', cursor(...orderedParts.slice(0, -1), `r${NUL}`)],
      ]
      for (const [url, text, secret] of cases) await expect400('GET', `${url}${url.includes('?') ? '&' : '?'}cursor=${text}`, 'ASSAY_INVALID_ARGUMENT', undefined, secret)
      // A NUL in the cursor text itself (not its decoded key).
      await expect400('GET', `/api/v1/models?cursor=${q(`a${NUL}b`)}`, 'ASSAY_INVALID_ARGUMENT')
    })

    it('a NUL or another control character in a name-like path or query parameter is 400', async () => {
      for (const bad of [NUL, `m${NUL}`, 'a\nb', '\u001b[31m']) {
        const v = q(bad)
        for (const url of [
          `/api/v1/gate-policies?model=${v}`,
          `/api/v1/gate-policies?alias=${v}`,
          `/api/v1/models/m/alias-events?alias=${v}`,
          `/api/v1/deployments?endpoint=${v}`,
          `/api/v1/runs?experiment=${v}`,
          `/api/v1/models/${v}`,
          `/api/v1/models/${v}/versions`,
          `/api/v1/models/${v}/alias-events`,
          `/api/v1/runs/${run.id}/metrics?key=${v}`,
          `/api/v1/runs/${run.id}/evals?dataset=${v}`,
        ]) await expect400('GET', url, 'ASSAY_INVALID_ARGUMENT')
      }
      for (const url of [
        `/api/v1/runs/${q(`${run.id}${NUL}`)}`,
        `/api/v1/runs/resolve?id=${q(`ab${NUL}`)}`,
        `/api/v1/runs/${run.id}/artifacts/content?name=${q(`model${NUL}.bin`)}`,
      ]) await expect400('GET', url, 'ASSAY_INVALID_ARGUMENT')
      await expect400('POST', `/api/v1/tokens/${q(`t${NUL}`)}/revoke`, 'ASSAY_INVALID_ARGUMENT', { at: 1 })
    })

    it('a NUL in a filter literal or quoted key is 400 ASSAY_INVALID_FILTER; in an order key 400 ASSAY_INVALID_ARGUMENT', async () => {
      for (const filter of [`name = '${NUL}'`, `name ~ "a${NUL}"`, `params.\`k${NUL}\` = 1`, `tags.team = 'x${NUL}y'`]) {
        await expect400('GET', `/api/v1/runs?filter=${q(filter)}`, 'ASSAY_INVALID_FILTER')
      }
      await expect400('GET', `/api/v1/runs?orderBy=${q(`params.\`k${NUL}\``)}`, 'ASSAY_INVALID_ARGUMENT')
    })

    it('an integer past int4 in a body is 400 where PostgreSQL keeps an integer', async () => {
      await expect400('POST', '/api/v1/deployments', 'ASSAY_INVALID_ARGUMENT', { ...newDeployment(), model: 'm', modelVersion: 2 ** 40 })
      await expect400('POST', '/api/v1/promotions', 'ASSAY_INVALID_ARGUMENT', { model: 'm', version: 2 ** 40, alias: 'champion' })
    })

    it('a NUL in text of a request body is 400 and nothing is stored', async () => {
      const bodies: [string, unknown][] = [
        ['/api/v1/holdout-reads', { datasetSha256: 'c'.repeat(64), datasetName: 'test', runIds: [run.id], purpose: `p${NUL}`, actor: 'x', at: 1 }],
        ['/api/v1/models', { name: 'm2', owner: 'alice', description: `d${NUL}`, tags: {}, createdAt: 1, createdBy: 'alice' }],
        ['/api/v1/models/m/versions', { model: 'm', runId: run.id, artifact: null, description: `d${NUL}`, tags: {}, createdAt: 1, createdBy: 'alice' }],
        [`/api/v1/runs/${run.id}/batch`, { tags: { team: `a${NUL}` } }],
        [`/api/v1/runs/${run.id}/batch`, { params: { [`k${NUL}`]: 1 } }],
        ['/api/v1/runs', { ...newRun({ experiment: 'exp-a' }), tags: { team: `a${NUL}` } }],
        ['/api/v1/deployments', { ...newDeployment(), endpointVersion: `v${NUL}` }],
        ['/api/v1/feedback', { id: hex(8), traceId: trace.traceId, name: 'ok', value: 1, source: `u${NUL}`, at: 1 }],
      ]
      for (const [url, body] of bodies) {
        const response = await app.inject({ method: 'POST', url, headers: bearer(admin), payload: body as object })
        assert.equal(response.statusCode, 400, `POST ${url}: ${response.statusCode} ${response.body.slice(0, 300)}`)
        const code = (response.json() as { error: { code: string } }).error.code
        assert.ok(['ASSAY_INVALID_ARGUMENT', 'ASSAY_INVALID_KEY'].includes(code), `POST ${url}: ${code}`)
      }
      const after_ = await store.getRun(run.id)
      assert.deepEqual(after_.tags, run.tags, 'no tag was written')
      assert.equal((await store.listModels()).length, 1, 'no model was created')
      // Traces: a span whose text holds a NUL is refused, alone; the batch's other traces are stored.
      const good = llmTrace(deployment.id)
      const bad = llmTrace(deployment.id)
      bad.spans[0] = { ...bad.spans[0], name: `answer${NUL}` } as (typeof bad.spans)[0]
      const hostileAttribute = llmTrace(deployment.id)
      hostileAttribute.spans[0] = { ...hostileAttribute.spans[0], attributes: { 'assay.prompt.name': `qa${NUL}` } } as (typeof bad.spans)[0]
      const logged = await app.inject({ method: 'POST', url: '/api/v1/traces', headers: bearer(admin), payload: { traces: [good, bad, hostileAttribute] } })
      assert.ok(logged.statusCode < 500, `POST /api/v1/traces: ${logged.statusCode} ${logged.body.slice(0, 300)}`)
      if (logged.statusCode === 200) {
        const result = logged.json() as { stored: string[]; rejected: { traceId: string; code: string }[] }
        assert.deepEqual(result.stored, [good.traceId])
        assert.deepEqual(result.rejected.map((r) => r.traceId).sort(), [bad.traceId, hostileAttribute.traceId].sort())
      }
    })

    it('a key or value with a lone UTF-16 surrogate is 400, and sending it again is 400, not a 500 from a colliding row', async () => {
      const before_ = await store.getRun(run2.id)
      for (let attempt = 0; attempt < 2; attempt++) {
        await expect400('POST', `/api/v1/runs/${run2.id}/batch`, 'ASSAY_INVALID_ARGUMENT', { params: { 'q\udfff': 1 } })
        await expect400('POST', `/api/v1/runs/${run2.id}/batch`, 'ASSAY_INVALID_ARGUMENT', { tags: { team: 'x\ud800' } })
      }
      const stored = await store.getRun(run2.id)
      assert.deepEqual([stored.params, stored.tags], [before_.params, before_.tags], 'nothing was stored')
      // A well-formed pair (an astral character) is text like any other.
      const ok = await app.inject({ method: 'POST', url: `/api/v1/runs/${run2.id}/batch`, headers: bearer(admin), payload: { params: { 'emoji😀': 1 } } })
      assert.equal(ok.statusCode, 200, ok.body)
    })

    it('the store core refuses a NUL with ASSAY_INVALID_ARGUMENT, the same on every backend', async () => {
      const refused = (error: unknown) => isAssayError(error) && error.code === 'ASSAY_INVALID_ARGUMENT' && /NUL/.test(error.message)
      await assert.rejects(store.getRun(`${run.id}${NUL}`), refused)
      await assert.rejects(store.listRuns({ experiment: `exp${NUL}` }), refused)
      await assert.rejects(store.createModel({ name: 'ok', owner: 'alice', description: `x${NUL}`, tags: {}, createdAt: 1, createdBy: 'alice' }), refused)
      await assert.rejects(store.logBatch(run.id, { tags: { team: `x${NUL}` } }), refused)
      await assert.rejects(store.recordHoldoutRead({ datasetSha256: 'c'.repeat(64), datasetName: 'test', runIds: [run.id], purpose: `p${NUL}`, actor: 'x', at: 1 }), refused)
      assert.equal((await store.listModels()).length, 1)
    })
  })
}
