/**
 * Two store objects on one database, as two server processes are: each has its own trace writer
 * (trace-write.ts TraceGroupCommit is per process), so their transactions race on the same new
 * traces — the insert that waits on the other's uncommitted row, the join read FOR UPDATE, the
 * next seq — and every span must still be stored exactly once, with the trace's fields from all
 * of them. SQLite (two connections to one file) and PostgreSQL (two pools on one schema).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import type { TraceInput } from '../../src/record/production.js'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { dropSchema, freshSchema } from '../store/backends.js'
import { hex, newDeployment, span } from './helpers.js'

const POSTGRES_URL = process.env.ASSAY_TEST_POSTGRES_URL

async function race(one: Store, two: Store): Promise<void> {
  const d = await one.createDeployment(newDeployment())
  // 40 traces of 6 spans; each store gets overlapping halves in opposite orders, in several calls at once.
  const traces: TraceInput[] = Array.from({ length: 40 }, (_, t) => {
    const root = span({ name: 'answer', kind: 'server', startTime: 1_700_000_000_000 + t, endTime: 1_700_000_000_900 + t })
    const children = Array.from({ length: 5 }, (_, k) => span({ parentSpanId: root.spanId, name: `call ${k}`, startTime: 1_700_000_000_010 + t + k, endTime: 1_700_000_000_020 + t + k, attributes: { 'gen_ai.usage.output_tokens': k + 1 } }))
    return { traceId: hex(16), deploymentId: d.id, spans: [root, ...children] }
  })
  const front = traces.map((t) => ({ ...t, spans: t.spans.slice(0, 4) }))
  const back = traces.map((t) => ({ ...t, spans: t.spans.slice(2) })).reverse()
  const halves = (list: TraceInput[]): TraceInput[][] => [list.slice(0, 20), list.slice(20)]
  const results = await Promise.all([
    ...halves(front).map((part) => one.logTraces(part)),
    ...halves(back).map((part) => two.logTraces(part)),
    ...halves(back).map((part) => one.logTraces(part)),
    ...halves(front).map((part) => two.logTraces(part)),
  ])
  for (const r of results) assert.deepEqual(r.rejected, [])
  for (const t of traces) {
    for (const store of [one, two]) {
      const stored = await store.getTrace(t.traceId)
      assert.deepEqual(stored.spans.map((s) => s.spanId).sort(), t.spans.map((s) => s.spanId).sort(), 'every span once')
      assert.equal(stored.spanCount, 6)
      assert.equal(stored.outputTokens, 15)
    }
  }
}

test('two SQLite store objects on one file: racing writers store every span once', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'assay-race-'))
  const one = await SqliteStore.open(root)
  const two = await SqliteStore.open(root)
  try {
    await race(one, two)
  } finally {
    await one.close()
    await two.close()
    rmSync(root, { recursive: true, force: true })
  }
})

test('two PostgreSQL store objects on one schema: racing writers store every span once', { skip: POSTGRES_URL === undefined ? 'ASSAY_TEST_POSTGRES_URL is not set' : undefined }, async () => {
  const schema = freshSchema()
  const one = await PostgresStore.open(POSTGRES_URL as string, { schema, poolSize: 4 })
  const two = await PostgresStore.open(POSTGRES_URL as string, { schema, poolSize: 4 })
  try {
    for (let round = 0; round < 3; round++) await race(one, two)
  } finally {
    await one.close()
    await two.close()
    await dropSchema(POSTGRES_URL as string, schema)
  }
})
