/**
 * logBatch through two checkouts' stores in one process, interleaved in slices of 30 batches, so
 * both see exactly the same machine load (a fairer A/B than separate processes on a shared machine).
 *
 *   node --import tsx bench/store-ab.ts BASE_DIR HEAD_DIR sqlite|postgres KEYSxPOINTS [WRITERS]
 *
 * WRITERS (default 1) concurrent writers per checkout and slice, each to its own run.
 * Each checkout needs its node_modules. PostgreSQL: ASSAY_TEST_POSTGRES_URL (default the local
 * test database), a fresh schema per checkout, dropped afterwards. Prints the median ms per
 * logBatch over 20 slices per checkout and their ratio.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import type { Store } from '../src/store/store.js'
import { newRun } from '../test/store/fixtures.js'

const SLICES = 20
const BATCHES_PER_SLICE = 30
const url = process.env.ASSAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

async function main(): Promise<void> {
  const [baseDir, headDir, backend, shape, writersText] = process.argv.slice(2)
  const writers = Number(writersText ?? 1)
  const [keys, points] = (shape ?? '').split('x').map(Number)
  if (!baseDir || !headDir || (backend !== 'sqlite' && backend !== 'postgres') || !(keys > 0 && points > 0)) {
    throw new Error('usage: store-ab.ts BASE_DIR HEAD_DIR sqlite|postgres KEYSxPOINTS')
  }
  const sides = { base: path.resolve(baseDir), head: path.resolve(headDir) }
  const opened: Record<string, { store: Store; cleanup: () => Promise<void>; runIds: string[] }> = {}
  for (const [side, tree] of Object.entries(sides)) {
    let store: Store
    let cleanup: () => Promise<void>
    if (backend === 'postgres') {
      const { PostgresStore } = await import(path.join(tree, 'src/store/postgres/postgres-store.ts'))
      const schema = `assay_ab_${randomBytes(4).toString('hex')}`
      store = await PostgresStore.open(url, { schema, poolSize: 10 })
      cleanup = async () => {
        const client = new pg.Client({ connectionString: url })
        await client.connect()
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
        await client.end()
      }
    } else {
      const { SqliteStore } = await import(path.join(tree, 'src/store/sqlite/sqlite-store.ts'))
      const dir = mkdtempSync(path.join(os.tmpdir(), 'assay-ab-'))
      store = await SqliteStore.open(path.join(dir, 'store'))
      cleanup = async () => rmSync(dir, { recursive: true, force: true })
    }
    const runIds: string[] = []
    for (let w = 0; w < writers; w++) {
      const run = newRun()
      await store.createRun(run)
      runIds.push(run.id)
    }
    opened[side] = { store, cleanup, runIds }
  }
  const times: Record<string, number[]> = { base: [], head: [] }
  let batch = 0
  for (let slice = 0; slice < SLICES; slice++) {
    for (const side of slice % 2 ? ['head', 'base'] : ['base', 'head']) {
      const { store, runIds } = opened[side]
      const started = performance.now()
      await Promise.all(
        runIds.map(async (runId) => {
          for (let i = 0; i < BATCHES_PER_SLICE; i++) {
            const at = batch++
            const metrics = Array.from({ length: keys }, (_, k) => ({
              key: `key_${k}`,
              steps: Float64Array.from({ length: points }, (_, x) => at * points + x),
              values: Float64Array.from({ length: points }, () => Math.random()),
              timestamps: new Float64Array(points).fill(Date.now()),
            }))
            await store.logBatch(runId, { batchId: `${side}-${at}`, metrics })
          }
        }),
      )
      times[side].push((performance.now() - started) / (BATCHES_PER_SLICE * writers))
    }
  }
  for (const { store, cleanup } of Object.values(opened)) {
    await store.close()
    await cleanup()
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  console.log(
    `${backend} ${keys}x${points}, ${writers} writer(s): ms per logBatch (median of ${SLICES} slices): base ${median(times.base).toFixed(3)}, head ${median(times.head).toFixed(3)}, head/base ${(median(times.head) / median(times.base)).toFixed(2)}; load ${os.loadavg()[0].toFixed(2)}`,
  )
}

await main()
