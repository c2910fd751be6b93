/**
 * The work of a page for a caller limited to some experiments is bounded by the page, not by the
 * foreign entries before it: the holdout ledger page and the sha256-prefix lookup are one
 * statement each however many entries or blobs of other experiments come first (counted on the
 * store core's adapter, on SQLite and on PostgreSQL). An entry naming no run is for callers of
 * every experiment only.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { SqlAdapter, SqlExecutor } from '../../src/store/sql-adapter.js'
import type { Store } from '../../src/store/store.js'
import { STORE_BACKENDS, type OpenedStore } from './backends.js'
import { newRun } from './fixtures.js'

const FOREIGN = 5000
const dataset = 'e'.repeat(64)

/** Count every statement the store core sends from now on (inside transactions too). */
function countStatements(store: Store): { count: () => number } {
  const sql = (store as unknown as { sql: SqlAdapter }).sql
  let statements = 0
  const counted = (executor: SqlExecutor): void => {
    for (const method of ['all', 'get', 'run', 'insertRows'] as const) {
      const original = executor[method].bind(executor) as (...args: unknown[]) => Promise<unknown>
      ;(executor as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => (statements++, original(...args))
    }
  }
  counted(sql)
  const transaction = sql.transaction.bind(sql)
  ;(sql as { transaction: SqlAdapter['transaction'] }).transaction = (kind, fn) => transaction(kind, (tx) => (counted(tx), fn(tx)))
  return { count: () => statements }
}

for (const backend of STORE_BACKENDS.filter((b) => b.name !== 'http')) {
  describe(`a limited caller's page on ${backend.name} costs one statement however much foreign data comes first`, { skip: backend.skip }, () => {
    let opened: OpenedStore
    let store: Store
    const mine = newRun({ experiment: 'exp-a', name: 'mine', startTime: 1 })
    const theirs = newRun({ experiment: 'exp-b', name: 'theirs', startTime: 2 })
    let mineSha = ''

    before(async () => {
      opened = await backend.open()
      store = opened.store
      await store.createRun(mine)
      await store.createRun(theirs)
      await store.recordHoldoutRead({ datasetSha256: dataset, datasetName: 'test', runIds: [], purpose: 'no run', actor: 'admin', at: 0 })
      // FOREIGN entries of exp-b, then three of exp-a, all in one statement (the same SQL on both backends).
      await opened.rawSql(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${FOREIGN})
        INSERT INTO holdout_reads (dataset_sha256, dataset_name, run_ids, purpose, actor, at)
        SELECT '${dataset}', 'test', '["${theirs.id}"]', 'theirs', 'bob', 1 + i FROM n`)
      for (let i = 0; i < 3; i++) await store.recordHoldoutRead({ datasetSha256: dataset, datasetName: 'test', runIds: [mine.id], purpose: `mine ${i}`, actor: 'alice', at: 10_000 + i })
      // Many blobs of exp-b share the prefix 'a' with one of exp-a's.
      for (let i = 0; i < 200; i++) await store.putArtifact(theirs.id, `t${i}`, { bytes: Buffer.from(`theirs ${i}`) }, 'produced')
      mineSha = (await store.putArtifact(mine.id, 'mine.bin', { bytes: Buffer.from('mine') }, 'produced')).sha256
    })
    after(() => opened.dispose())

    it('the ledger page of a limited caller is one statement and skips every foreign entry', async () => {
      const counter = countStatements(store)
      const first = await store.holdoutReadsPage({ datasetSha256: dataset, experiments: ['exp-a'], limit: 1 })
      assert.equal(counter.count(), 1, 'one statement for the page')
      assert.deepEqual(first.reads.map((r) => r.purpose), ['mine 0'])
      const rest = await store.holdoutReadsPage({ datasetSha256: dataset, experiments: ['exp-a'], limit: 5, cursor: first.nextCursor as string })
      assert.deepEqual(rest.reads.map((r) => r.purpose), ['mine 1', 'mine 2'])
      assert.equal(rest.nextCursor, null)
      assert.equal(counter.count(), 2)
      assert.deepEqual((await store.holdoutReadsPage({ datasetSha256: dataset, experiments: [], limit: 5 })).reads, [], 'no experiment: no entry')
    })

    it('an entry naming no run is seen by callers of every experiment only', async () => {
      const everyone = await store.holdoutReadsPage({ datasetSha256: dataset, limit: 2 })
      assert.deepEqual(everyone.reads.map((r) => r.purpose), ['no run', 'theirs'])
      const both = await store.holdoutReadsPage({ datasetSha256: dataset, experiments: ['exp-a', 'exp-b'], limit: 2 })
      assert.deepEqual(both.reads.map((r) => r.purpose), ['theirs', 'theirs'])
    })

    it('the sha256-prefix lookup of a limited caller is one statement and names only its content', async () => {
      const prefix = mineSha.slice(0, 1)
      const counter = countStatements(store)
      assert.deepEqual(await store.artifactSha256sWithPrefix(prefix, 2, ['exp-a']), [mineSha])
      assert.equal(counter.count(), 1)
      const all = await store.artifactSha256sWithPrefix(prefix, 1000)
      assert.ok(all.length > 1 && all.includes(mineSha), 'unlimited, the foreign content sharing the prefix is named too')
      assert.deepEqual(await store.artifactSha256sWithPrefix(prefix, 2, []), [])
    })
  })
}
