/**
 * metricStepsValues on every backend: a metric's steps and values in logged order across several
 * stored chunks, NaN and ±Infinity kept exactly, the same as metricHistory's steps and values
 * (the SQL backends read only the first two thirds of each chunk, header, steps and values).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { isAssayError } from '../../src/errors.js'
import type { Store } from '../../src/store/store.js'
import { STORE_BACKENDS, type OpenedStore } from './backends.js'
import { newRun, series } from './fixtures.js'

for (const backend of STORE_BACKENDS) {
  describe(`metricStepsValues on ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStore
    let store: Store
    const run = newRun({ experiment: 'exp', name: 'curve' })
    const empty = newRun({ experiment: 'exp', name: 'no-metrics' })
    // Three batches, so three chunks; odd steps first, so logged order is not step order.
    const batches = [
      [[7, 0.5], [1, NaN], [3, -0]],
      [[2, Infinity], [4, -Infinity]],
      Array.from({ length: 1000 }, (_, i) => [10 + i, Math.sin(i)] as const),
    ] as const

    before(async () => {
      opened = await backend.open()
      store = opened.store
      await store.createRun(run)
      await store.createRun(empty)
      for (const points of batches) await store.logBatch(run.id, { metrics: [series('loss', points), series('acc', points.map(([s, v]) => [s, v * 2] as const))] })
    })
    after(async () => opened?.dispose())

    it('returns every point in logged order, as metricHistory does, without the timestamps', async () => {
      const got = await store.metricStepsValues(run.id, 'loss')
      const all = batches.flat()
      assert.deepStrictEqual([...got.steps], all.map((p) => p[0]))
      assert.deepStrictEqual([...got.values], all.map((p) => p[1]), 'NaN, -0 and ±Infinity are kept exactly')
      const history = await store.metricHistory(run.id, 'loss')
      assert.deepStrictEqual([...got.steps], [...history.steps])
      assert.deepStrictEqual([...got.values], [...history.values])
      assert.deepStrictEqual([...(await store.metricStepsValues(run.id, 'acc')).values], all.map((p) => p[1] * 2), 'each key its own series')
    })

    it('is empty for a key the run never logged, and ASSAY_RUN_NOT_FOUND for an unknown run', async () => {
      const none = await store.metricStepsValues(empty.id, 'loss')
      assert.equal(none.steps.length, 0)
      assert.equal(none.values.length, 0)
      await assert.rejects(store.metricStepsValues('0'.repeat(32), 'loss'), (e) => isAssayError(e, 'ASSAY_RUN_NOT_FOUND'))
    })
  })
}
