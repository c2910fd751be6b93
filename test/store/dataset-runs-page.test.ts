/**
 * datasetRunsPage on every backend: the runs that logged one dataset version, by run start time,
 * a page at a time with no run repeated or skipped; a caller limited to some experiments sees
 * only theirs (SQL backends: the HTTP store leaves that to the server, which knows the token).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { DatasetVersion } from '../../src/record/types.js'
import type { Store } from '../../src/store/store.js'
import { STORE_BACKENDS, type OpenedStore } from './backends.js'
import { newRun } from './fixtures.js'

const version = (sha256: string, name: string): DatasetVersion => ({ name, role: 'validation', sha256, kind: 'file', sizeBytes: 10, fileCount: 1, rows: null, columns: null, source: 's3://bucket/data' })
const SHA = 'a1'.repeat(32)
const OTHER = 'b2'.repeat(32)

for (const backend of STORE_BACKENDS) {
  describe(`datasetRunsPage on ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStore
    let store: Store
    // Start times out of id order, so the order is by time, not by id; one run logs the version twice under two names.
    const runs = [
      newRun({ experiment: 'exp-a', name: 'r3', startTime: 3000, datasets: [version(SHA, 'val')] }),
      newRun({ experiment: 'exp-b', name: 'r1', startTime: 1000, datasets: [version(SHA, 'val')] }),
      newRun({ experiment: 'exp-a', name: 'r2', startTime: 2000, datasets: [version(SHA, 'train'), version(SHA, 'val')] }),
      newRun({ experiment: 'exp-a', name: 'other', startTime: 1500, datasets: [version(OTHER, 'val')] }),
    ]

    before(async () => {
      opened = await backend.open()
      store = opened.store
      for (const run of runs) await store.createRun(run)
    })
    after(async () => opened?.dispose())

    it('lists every use of the version, by start time, one page at a time', async () => {
      const seen: string[] = []
      let cursor: string | undefined
      let pages = 0
      do {
        const page = await store.datasetRunsPage({ sha256: SHA, limit: 1, cursor })
        seen.push(...page.uses.map((u) => `${u.runName}/${u.dataset}/${u.experiment}/${u.startTime}`))
        cursor = page.nextCursor ?? undefined
        pages++
      } while (cursor !== undefined && pages < 10)
      assert.deepEqual(seen, ['r1/val/exp-b/1000', 'r2/train/exp-a/2000', 'r2/val/exp-a/2000', 'r3/val/exp-a/3000'])
      const whole = await store.datasetRunsPage({ sha256: SHA, limit: 100 })
      assert.deepEqual(whole.uses.map((u) => u.runId), [runs[1].id, runs[2].id, runs[2].id, runs[0].id])
      assert.equal(whole.nextCursor, null)
      assert.deepEqual((await store.datasetRunsPage({ sha256: 'c3'.repeat(32), limit: 100 })).uses, [])
    })

    if (backend.name !== 'http') {
      it("keeps to a limited caller's experiments", async () => {
        const page = await store.datasetRunsPage({ sha256: SHA, experiments: ['exp-b'], limit: 100 })
        assert.deepEqual(page.uses.map((u) => u.runName), ['r1'])
        assert.deepEqual((await store.datasetRunsPage({ sha256: SHA, experiments: [], limit: 100 })).uses, [])
      })
    }
  })
}
