/**
 * What is the embedded store's own: its transactions are asynchronous (the store core awaits
 * between statements) on one synchronous connection, so writes from one process take turns
 * instead of nesting, and a failed write rolls back only itself.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { isAssayError } from '../../src/errors.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { tempDir } from './backends.js'
import { newRun, series } from './fixtures.js'

describe('SQLite store: concurrent calls in one process', () => {
  const { dir, cleanup } = tempDir('assay-sqlite-')
  let store: SqliteStore

  before(async () => {
    store = await SqliteStore.open(path.join(dir, 'store'))
  })
  after(async () => {
    await store.close()
    cleanup()
  })

  test('200 writes started at once all land, each chunk numbered once', async () => {
    const run = newRun()
    await store.createRun(run)
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.logBatch(run.id, { metrics: [series('loss', [[i, i]])] })))
    const history = await store.metricHistory(run.id, 'loss')
    assert.deepEqual([...history.steps].sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i))
    assert.equal((await store.getRun(run.id)).metrics[0].count, 200)
  })

  test('a write refused in the middle of others rolls back only itself; reads never see it', async () => {
    const run = newRun({ params: {}, tags: {} })
    await store.createRun(run)
    const writes = [
      store.logBatch(run.id, { params: { lr: 0.1 }, tags: { first: 'yes' } }),
      store.logBatch(run.id, { params: { lr: 0.2 }, tags: { refused: 'yes' } }),
      store.getRun(run.id),
      store.logBatch(run.id, { params: { epochs: 3 } }),
    ]
    const results = await Promise.allSettled(writes)
    assert.equal(results[0].status, 'fulfilled')
    assert.equal(results[1].status, 'rejected')
    assert.ok(isAssayError((results[1] as PromiseRejectedResult).reason, 'ASSAY_PARAM_CONFLICT'))
    assert.equal(results[3].status, 'fulfilled')
    const record = await store.getRun(run.id)
    assert.deepEqual(record.params, { epochs: 3, lr: 0.1 })
    assert.deepEqual(record.tags, { first: 'yes' })
    // The read queued between the writes saw the first write whole, and nothing of the refused one.
    const seen = (results[2] as PromiseFulfilledResult<Awaited<ReturnType<SqliteStore['getRun']>>>).value
    assert.deepEqual(seen.params, { lr: 0.1 })
    assert.deepEqual(seen.tags, { first: 'yes' })
  })

  test('listRuns of one experiment lists only its runs', async () => {
    const mine = newRun({ experiment: 'mine', params: { a: 1 } })
    const other = newRun({ experiment: 'other', params: { a: 2 } })
    await store.createRun(mine)
    await store.createRun(other)
    const listed = await store.listRuns({ experiment: 'mine' })
    assert.deepEqual(listed.map((r) => [r.id, r.params]), [[mine.id, { a: 1 }]])
  })
})
