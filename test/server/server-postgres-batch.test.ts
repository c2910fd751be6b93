/**
 * Batches that set params and tags, over HTTP to a server on PostgreSQL: one statement per batch
 * (docs/postgres.md "One-statement writes"), with the answers the store core's transaction gives
 * (ASSAY_PARAM_CONFLICT 409, ASSAY_VALUE_TOO_LARGE 413), a retried batch id applied once, and the
 * SDK's remote store (HttpStore, binary frames) storing exactly what it was acknowledged for.
 * Skipped, with the reason, when ASSAY_TEST_POSTGRES_URL is not set.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, describe, it, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { LIMITS } from '../../src/record/validate.js'
import { buildServer } from '../../src/server/app.js'
import { HttpStore } from '../../src/store/http/http-store.js'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { dropSchema, freshSchema, tempDir } from '../store/backends.js'
import { newRun, plain, rejectsWith, series } from '../store/fixtures.js'
import { bearer, makeToken } from './helpers.js'

const URL_ = process.env.ASSAY_TEST_POSTGRES_URL
const SKIP = URL_ ? undefined : 'ASSAY_TEST_POSTGRES_URL is not set (.ci/run sets it when a local PostgreSQL is running)'
if (SKIP !== undefined) test('batches with params and tags over a server on PostgreSQL', { skip: SKIP }, () => {})

/** Statements the server's pool sends while `fn` runs. */
async function statements(fn: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = []
  const query = pg.Client.prototype.query
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string }
    sent.push((typeof first === 'string' ? first : (first.text ?? '')).trim().split(/\s+/).slice(0, 4).join(' '))
    return (query as (...a: unknown[]) => unknown).apply(this, args)
  } as typeof query
  try {
    await fn()
  } finally {
    pg.Client.prototype.query = query
  }
  return sent
}

describe('batches with params and tags over a server on PostgreSQL', { skip: SKIP }, () => {
  const url = URL_ as string
  const schema = freshSchema()
  const { dir, cleanup } = tempDir('assay-pg-batch-')
  let store: PostgresStore
  let app: FastifyInstance
  let base: string
  let secret: string

  before(async () => {
    store = await PostgresStore.open(url, { schema, poolSize: 4 })
    app = await buildServer({ store, auth: { enabled: true }, uploadDir: path.join(dir, 'uploads') })
    await app.listen({ host: '127.0.0.1', port: 0 })
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
    secret = (await makeToken(store, 'write')).secret
  })

  after(async () => {
    await app?.close()
    await store?.close()
    await dropSchema(url, schema)
    cleanup()
  })

  const post = (runId: string, body: unknown) =>
    fetch(`${base}/api/v1/runs/${runId}/batch`, { method: 'POST', headers: { ...bearer(secret), 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const metric = (step: number, value: number) => ({ key: 'loss', steps: [step], values: [value], timestamps: [1_700_000_000_000 + step] })

  it('a JSON batch with params, tags and metrics is one statement; a conflict is 409 with nothing written; a retried id is applied once', async () => {
    const run = newRun({ params: { lr: 0.1 }, tags: { team: 'a' } })
    await store.createRun(run)
    // The first request reads the token and the run's experiment; later ones are served from the caches.
    assert.equal((await post(run.id, { batchId: 'h-0', metrics: [metric(0, 1)] })).status, 200)
    const sent = await statements(async () => assert.equal((await post(run.id, { batchId: 'h-1', params: { fresh: 1, lr: 0.1 }, tags: { team: 'b' }, metrics: [metric(1, 0.5)] })).status, 200))
    assert.deepEqual(sent, ['SELECT outcome, detail FROM'])

    const conflict = await post(run.id, { batchId: 'h-2', params: { lr: 0.2 }, tags: { late: 'x' }, metrics: [metric(2, 0.25)] })
    assert.equal(conflict.status, 409)
    const body = (await conflict.json()) as { error: { code: string; message: string; details: unknown } }
    assert.equal(body.error.code, 'ASSAY_PARAM_CONFLICT')
    assert.equal(body.error.message, `param "lr" of run ${run.id} is already 0.1; it cannot become 0.2`)
    assert.deepEqual(body.error.details, { key: 'lr', stored: '0.1', attempted: '0.2' })

    // The client retries its corrected batch under the same id, several times at once: stored once.
    const corrected = { batchId: 'h-2', params: { lr: 0.1 }, tags: { late: 'x' }, metrics: [metric(2, 0.25)] }
    const answers = await Promise.all(Array.from({ length: 4 }, () => post(run.id, corrected)))
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200])
    const stored = await store.getRun(run.id)
    assert.deepEqual(stored.params, { lr: 0.1, fresh: 1 })
    assert.deepEqual(stored.tags, { team: 'b', late: 'x' })
    assert.deepEqual(plain(await store.metricHistory(run.id, 'loss')).values, [1, 0.5, 0.25])
  })

  it('too many tags is 413 ASSAY_VALUE_TOO_LARGE, nothing written', async () => {
    const run = newRun({ tags: Object.fromEntries(Array.from({ length: LIMITS.tagsPerRun }, (_, i) => [`t${i}`, 'v'])) })
    await store.createRun(run)
    const refused = await post(run.id, { batchId: 'tags-1', tags: { extra: 'x' }, metrics: [metric(0, 1)] })
    assert.equal(refused.status, 413)
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'ASSAY_VALUE_TOO_LARGE')
    const stored = await store.getRun(run.id)
    assert.equal(stored.tags.extra, undefined)
    assert.deepEqual(stored.metrics, [])
  })

  it('the SDK over HTTP (binary frames): params and tags with every batch, a conflict refused, every acknowledged point stored once', async () => {
    const run = newRun({ params: { lr: 0.1 } })
    await store.createRun(run)
    const remote = new HttpStore(base, { token: secret, spoolDir: path.join(dir, 'spool') })
    try {
      const batches = Array.from({ length: 20 }, (_, i) => ({ batchId: `sdk-${i}`, params: { [`p${i % 5}`]: i % 5 }, tags: { last: String(i) }, metrics: [series('acc', [[i, i / 20]])] }))
      await Promise.all(batches.map((b) => remote.logBatch(run.id, b)))
      // A retry of each (an acknowledgement lost) changes nothing.
      await Promise.all(batches.map((b) => remote.logBatch(run.id, b)))
      await rejectsWith(remote.logBatch(run.id, { params: { p0: 'other' } }), 'ASSAY_PARAM_CONFLICT', /param "p0"/)
      const stored = await store.getRun(run.id)
      assert.deepEqual(stored.params, { lr: 0.1, p0: 0, p1: 1, p2: 2, p3: 3, p4: 4 })
      assert.deepEqual([...(await store.metricHistory(run.id, 'acc')).steps].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i))
      const [listed] = (await store.listRunsPage({ filter: 'params.p4 = 4', limit: 100 })).runs.filter((r) => r.id === run.id)
      assert.equal(listed?.configFingerprint, stored.envelope.config)
    } finally {
      await remote.close()
    }
  })
})
