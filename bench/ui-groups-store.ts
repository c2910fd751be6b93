/**
 * Store.groupRunsPage alone, without HTTP or a browser: the grouping of bench/ui-groups.ts (every
 * finished run of the 100,000 by params.optimizer,params.layers, acc and loss, then the filter
 * `params.lr > 0.01 and metrics.acc >= 0.8`) and the same by config fingerprint (100,000 groups of
 * one run: a page of 50), on PostgreSQL (bench/search.ts's store) and SQLite when built. Reports
 * the median wall time and this process's CPU time (on SQLite the whole of the work) of 5 after
 * one warm-up, with listRunsPage(limit 50) as the same-run reference.
 *
 *   ASSAY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/ui-groups-store.ts
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PostgresStore } from '../src/store/postgres/postgres-store.js'
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js'
import type { Store } from '../src/store/store.js'
import { searchBenchSchema } from './search-schema.js'

const url = process.env.ASSAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const FILTER = 'params.lr > 0.01 and metrics.acc >= 0.8'
const REPS = 5

async function measure(store: Store, fn: (s: Store) => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  await fn(store)
  const walls: number[] = []
  const cpus: number[] = []
  for (let i = 0; i < REPS; i++) {
    const c = process.cpuUsage()
    const t = performance.now()
    await fn(store)
    walls.push(performance.now() - t)
    const d = process.cpuUsage(c)
    cpus.push((d.user + d.system) / 1000)
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number
  return { wall: median(walls), cpu: median(cpus) }
}

const cases: [string, (s: Store) => Promise<unknown>][] = [
  ['reference: listRunsPage, limit 50', (s) => s.listRunsPage({ limit: 50 })],
  ['by params.optimizer,params.layers, acc and loss', (s) => s.groupRunsPage({ filter: `status = 'finished'`, grouping: { by: 'params', keys: ['optimizer', 'layers'] }, metrics: ['acc', 'loss'], limit: 50, runsListed: 100 })],
  [`… with the filter ${FILTER}`, (s) => s.groupRunsPage({ filter: `(${FILTER}) and status = 'finished'`, grouping: { by: 'params', keys: ['optimizer', 'layers'] }, metrics: ['acc', 'loss'], limit: 50, runsListed: 100 })],
  ['by config fingerprint (100,000 groups), first page of 50', (s) => s.groupRunsPage({ filter: `status = 'finished'`, grouping: { by: 'config' }, metrics: ['acc', 'loss'], limit: 50, runsListed: 100 })],
]

const loadBefore = os.loadavg()
const lines = ['| measured (100,000 runs, through the store) | backend | median wall (ms) | median CPU of this process (ms) | wall / reference |', '| --- | --- | ---: | ---: | ---: |']
const stores: [string, () => Promise<Store>][] = [['PostgreSQL', () => PostgresStore.open(url, { schema: searchBenchSchema(100_000) })]]
const sqliteRoot = path.join(os.tmpdir(), 'assay-bench-search', 'sqlite-100000')
if (fs.existsSync(path.join(sqliteRoot, 'built'))) stores.push(['SQLite', () => SqliteStore.open(sqliteRoot)])
for (const [name, open] of stores) {
  const store = await open()
  try {
    let reference = 0
    for (const [what, fn] of cases) {
      const m = await measure(store, fn)
      if (reference === 0) reference = m.wall
      lines.push(`| ${what} | ${name} | ${m.wall.toFixed(1)} | ${m.cpu.toFixed(0)} | ${(m.wall / reference).toFixed(1)} |`)
      console.error(lines[lines.length - 1])
    }
  } finally {
    await store.close()
  }
}
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ')
console.log(lines.join('\n'))
console.log(`\nload average before: ${load(loadBefore)}; after: ${load(os.loadavg())}`)
