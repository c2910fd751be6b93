/**
 * GET /api/v1/runs/:runId/charts, the run page's one request for its charts, on SQLite and
 * PostgreSQL: every metric of the run as min/max buckets in the run record's metric order, each
 * the same as the one-metric buckets route answers; a one-point spike kept; a token limited to one
 * experiment gets 403 for another's run; a bad bucket count is 400 with a stable code.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildServer } from '../../src/server/app.js'
import { STORE_BACKENDS, type OpenedStore } from '../store/backends.js'
import { newRun, series } from '../store/fixtures.js'
import { bearer, makeToken } from './helpers.js'

interface Buckets {
  key: string
  points: number
  steps: number[]
  min: (number | null)[]
  max: (number | null)[]
  counts: number[]
  nonFinite: number[]
}

for (const backend of STORE_BACKENDS.filter((b) => b.name !== 'http')) {
  describe(`GET /api/v1/runs/:runId/charts on ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStore
    let app: FastifyInstance
    let visionReader: string
    const vision = newRun({ experiment: 'vision', name: 'v1' })
    const secret = newRun({ experiment: 'secret', name: 's1' })

    before(async () => {
      opened = await backend.open()
      const store = opened.store
      await store.createRun(vision)
      await store.createRun(secret)
      // 5,000 loss points over two batches (two chunks) with a spike of 99 at step 4321; acc has 3 points, one NaN.
      const loss = Array.from({ length: 5000 }, (_, i) => [i, i === 4321 ? 99 : 0] as const)
      await store.logBatch(vision.id, { metrics: [series('loss', loss.slice(0, 2500))] })
      await store.logBatch(vision.id, { metrics: [series('loss', loss.slice(2500)), series('acc', [[0, 0.5], [1, NaN], [2, 0.7]])] })
      await store.logBatch(secret.id, { metrics: [series('loss', [[0, 1]])] })
      visionReader = (await makeToken(store, 'read', ['vision'], 'vision-reader')).secret
      app = await buildServer({ store, auth: { enabled: true } })
    })
    after(async () => {
      await app?.close()
      await opened?.dispose()
    })

    const get = (url: string) => app.inject({ method: 'GET', url, headers: bearer(visionReader) })

    it("answers every metric of the run as buckets, in the run's metric order, each as the one-metric route answers it", async () => {
      const response = await get(`/api/v1/runs/${vision.id}/charts?buckets=100`)
      assert.equal(response.statusCode, 200, response.body)
      const { charts } = JSON.parse(response.body) as { charts: Buckets[] }
      const record = JSON.parse((await get(`/api/v1/runs/${vision.id}`)).body) as { run: { metrics: { key: string }[] } }
      assert.deepEqual(charts.map((c) => c.key), record.run.metrics.map((m) => m.key))
      assert.deepEqual(charts.map((c) => c.key).sort(), ['acc', 'loss'])
      const loss = charts.find((c) => c.key === 'loss') as Buckets
      assert.equal(loss.points, 5000)
      assert.equal(loss.steps.length, 100)
      assert.equal(loss.max[86], 99, 'step 4321 is in bucket 86 (steps 4300-4349), across the chunk boundary at 2500')
      assert.equal(Math.max(...(loss.max as number[])), 99)
      const acc = charts.find((c) => c.key === 'acc') as Buckets
      assert.deepEqual(acc, { key: 'acc', points: 3, steps: [0, 1, 2], min: [0.5, null, 0.7], max: [0.5, null, 0.7], counts: [1, 1, 1], nonFinite: [0, 1, 0] })
      for (const chart of charts) {
        const one = JSON.parse((await get(`/api/v1/runs/${vision.id}/metrics/buckets?key=${chart.key}&buckets=100`)).body) as Buckets
        assert.deepEqual(chart, one)
      }
    })

    it('uses 300 buckets by default, refuses a foreign run (403) and a bad bucket count (400)', async () => {
      const plain = JSON.parse((await get(`/api/v1/runs/${vision.id}/charts`)).body) as { charts: Buckets[] }
      assert.equal(plain.charts.find((c) => c.key === 'loss')?.steps.length, 300)
      assert.equal((await get(`/api/v1/runs/${secret.id}/charts`)).statusCode, 403)
      const bad = await get(`/api/v1/runs/${vision.id}/charts?buckets=0`)
      assert.equal(bad.statusCode, 400)
      assert.equal(JSON.parse(bad.body).error.code, 'ASSAY_INVALID_ARGUMENT')
      assert.equal((await get(`/api/v1/runs/${vision.id}/charts?buckets=10&key=loss`)).statusCode, 400, 'no key: every metric')
    })

    it('refuses more than 300,000 buckets in one answer (metrics × buckets), naming the most it would take', async () => {
      const wide = newRun({ experiment: 'vision', name: 'wide' })
      await opened.store.createRun(wide)
      await opened.store.logBatch(wide.id, { metrics: Array.from({ length: 31 }, (_, i) => series(`m${i}`, [[0, i]])) })
      const over = await get(`/api/v1/runs/${wide.id}/charts?buckets=10000`)
      assert.equal(over.statusCode, 400)
      const error = JSON.parse(over.body).error as { code: string; message: string }
      assert.equal(error.code, 'ASSAY_INVALID_ARGUMENT')
      assert.match(error.message, /31 metrics × 10000 buckets .* at most 9677 buckets/)
      const under = await get(`/api/v1/runs/${wide.id}/charts?buckets=9677`)
      assert.equal(under.statusCode, 200)
      assert.equal((JSON.parse(under.body) as { charts: Buckets[] }).charts.length, 31)
    })
  })
}
