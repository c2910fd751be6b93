/**
 * Trace writes remember the deployments they found (src/store/trace-write.ts writeTraces'
 * knownDeployments): a write naming only remembered deployments does not look them up again, an
 * unknown deployment is looked up every time and never remembered, the set stops growing at
 * KNOWN_DEPLOYMENTS_LIMIT, and a deployment deleted by hand in SQL is looked up again after the
 * failed write. Real SQLite files; the executor is wrapped only to count the lookups.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import type { SqlExecutor } from '../../src/store/sql-adapter.js'
import { SqliteAdapter } from '../../src/store/sqlite/sqlite-adapter.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { KNOWN_DEPLOYMENTS_LIMIT, prepareTraces, writeTraces } from '../../src/store/trace-write.js'
import { hex, llmTrace, newDeployment } from '../production/helpers.js'

function counting(tx: SqlExecutor, lookups: { n: number }): SqlExecutor {
  return {
    ...tx,
    all: (sql, params) => {
      if (/FROM deployments/.test(sql)) lookups.n++
      return tx.all(sql, params)
    },
  }
}

test('a remembered deployment is not looked up again; an unknown one is looked up each write and not remembered; the set stops at its limit', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'assay-known-'))
  const store = await SqliteStore.open(root)
  const adapter = new SqliteAdapter(path.join(root, 'assay.db'), root)
  try {
    const d = await store.createDeployment(newDeployment({}))
    const cache = new Set<string>()
    const lookups = { n: 0 }
    const write = (deploymentId: string, known = cache) => adapter.transaction('write', (tx) => writeTraces(counting(tx, lookups), '', prepareTraces([llmTrace(deploymentId)]).traces, known))
    assert.deepEqual((await write(d.id)).rejected, [])
    assert.deepEqual([lookups.n, [...cache]], [1, [d.id]])
    assert.deepEqual((await write(d.id)).rejected, [])
    assert.equal(lookups.n, 1, 'the second write skips the lookup')
    const unknown = hex(16)
    for (let i = 0; i < 2; i++) assert.equal((await write(unknown)).rejected[0]?.code, 'ASSAY_UNKNOWN_DEPLOYMENT')
    assert.deepEqual([lookups.n, [...cache]], [3, [d.id]], 'an unknown deployment is looked up each time and not remembered')
    const full = new Set(Array.from({ length: KNOWN_DEPLOYMENTS_LIMIT }, (_, i) => `other-${i}`))
    assert.deepEqual((await write(d.id, full)).rejected, [])
    assert.equal(full.size, KNOWN_DEPLOYMENTS_LIMIT)
    assert.equal(full.has(d.id), false, 'a full set gains nothing')
  } finally {
    await adapter.close()
    await store.close()
    rmSync(root, { recursive: true, force: true })
  }
})

test('a deployment deleted by hand in SQL: the write that meets its foreign key fails, and the next one is told the deployment is unknown', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'assay-known-'))
  const store = await SqliteStore.open(root)
  const adapter = new SqliteAdapter(path.join(root, 'assay.db'), root)
  try {
    const kept = await store.createDeployment(newDeployment({}))
    assert.deepEqual((await store.logTraces([llmTrace(kept.id)])).rejected, [])
    const doomed = await store.createDeployment(newDeployment({ inputs: [] }))
    assert.deepEqual((await store.logTraces([llmTrace(doomed.id)])).rejected, [], 'found and remembered')
    // By hand, outside assay (no route or command deletes a deployment): its trace first, then the row.
    await adapter.transaction('write', async (tx) => {
      await tx.run('DELETE FROM trace_span_sets WHERE trace_id IN (SELECT trace_id FROM traces WHERE deployment_id = ?)', [doomed.id])
      await tx.run('DELETE FROM traces WHERE deployment_id = ?', [doomed.id])
      await tx.run('DELETE FROM deployments WHERE id = ?', [doomed.id])
    })
    await assert.rejects(store.logTraces([llmTrace(doomed.id)]))
    const again = await store.logTraces([llmTrace(doomed.id), llmTrace(kept.id)])
    assert.deepEqual(again.rejected.map((r) => r.code), ['ASSAY_UNKNOWN_DEPLOYMENT'])
    assert.equal(again.stored.length, 1, 'the other deployment\'s trace is stored')
  } finally {
    await adapter.close()
    await store.close()
    rmSync(root, { recursive: true, force: true })
  }
})
