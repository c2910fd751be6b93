/**
 * Grouped runs at scale: with 100,000 runs in PostgreSQL (bench/search.ts's store, schema
 * assay_bench_search_100000: run that benchmark once first), how long GET /api/v1/run-groups
 * takes grouping every run by two params (24 groups) with the means and intervals of two metrics,
 * the same under the filter of bench/ui.ts (about 20,000 runs), and how long headless Chromium
 * takes from navigation to the grouped table drawn. References in the same run: GET
 * /api/v1/health and GET /api/v1/runs?limit=50 for requests, the plain runs table for the browser.
 * Then, when bench/search.ts has built its SQLite store of 100,000 runs (/tmp/assay-bench-search),
 * the same grouping through the store (Store.groupRunsPage) against its first page of 50 runs.
 *
 *   ASSAY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/ui-groups.ts [--no-write]
 *
 * Medians of 5 after one warm-up. Writes bench/results/ui-groups.md unless --no-write.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser } from 'playwright-core'
import { buildServer } from '../src/server/app.js'
import { PostgresStore } from '../src/store/postgres/postgres-store.js'
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js'
import { searchBenchSchema } from './search-schema.js'

const url = process.env.ASSAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const SCHEMA = searchBenchSchema(100_000)
const here = path.dirname(fileURLToPath(import.meta.url))
const resultsFile = path.join(here, 'results', 'ui-groups.md')
const FILTER = 'params.lr > 0.01 and metrics.acc >= 0.8'
const GROUPS = `/api/v1/run-groups?groupBy=${encodeURIComponent('params.optimizer,params.layers')}&metrics=acc,loss&limit=50`
const REPS = 5

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

async function timed(fn: () => Promise<void>): Promise<number> {
  await fn()
  const times: number[] = []
  for (let i = 0; i < REPS; i++) {
    const t = performance.now()
    await fn()
    times.push(performance.now() - t)
  }
  return median(times)
}

async function get(base: string, pathAndQuery: string): Promise<unknown> {
  const response = await fetch(`${base}${pathAndQuery}`)
  if (!response.ok) throw new Error(`${pathAndQuery}: HTTP ${response.status} ${await response.text()}`)
  return response.json()
}

async function pageLoad(browser: Browser, target: string, selector: string): Promise<number> {
  const once = async (): Promise<number> => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(target)
    await page.waitForSelector(selector, { timeout: 120_000 })
    const ms = await page.evaluate(() => performance.now())
    await context.close()
    return ms
  }
  await once()
  const times: number[] = []
  for (let i = 0; i < REPS; i++) times.push(await once())
  return median(times)
}

const store = await PostgresStore.open(url, { schema: SCHEMA })
const app = await buildServer({ store, auth: { enabled: false } })
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] })
const loadBefore = os.loadavg()
const lines: string[] = []
try {
  const first = (await get(base, GROUPS)) as { runsGrouped: number; groupCount: number }
  if (first.runsGrouped < 100_000) throw new Error(`the store holds ${first.runsGrouped} finished runs, not 100,000: rebuild it with bench/search.ts`)
  const health = await timed(async () => void (await get(base, '/api/v1/health')))
  const runs = await timed(async () => void (await get(base, '/api/v1/runs?limit=50')))
  const all = await timed(async () => void (await get(base, GROUPS)))
  const filtered = await timed(async () => void (await get(base, `${GROUPS}&filter=${encodeURIComponent(FILTER)}`)))
  const runsPage = await pageLoad(browser, `${base}/#/runs?columns=metrics.acc`, 'table.runs tbody tr')
  const groupsPage = await pageLoad(browser, `${base}/#/runs?groupBy=${encodeURIComponent('params.optimizer,params.layers')}&columns=metrics.acc,metrics.loss`, 'table.groups tbody tr')
  const f = (ms: number) => ms.toFixed(1)
  lines.push(
    `| measured (100,000 runs, PostgreSQL; ${first.groupCount} groups) | median (ms) | / reference |`,
    '| --- | ---: | ---: |',
    `| reference: GET /api/v1/health | ${f(health)} | 1.00 |`,
    `| reference: GET /api/v1/runs?limit=50 | ${f(runs)} | ${(runs / health).toFixed(1)} |`,
    `| GET /api/v1/run-groups, every run by params.optimizer,params.layers, acc and loss | ${f(all)} | ${(all / health).toFixed(1)} (${(all / runs).toFixed(1)} × the runs page) |`,
    `| … with the filter ${FILTER} | ${f(filtered)} | ${(filtered / health).toFixed(1)} |`,
    `| reference: Chromium, navigation to the runs table drawn | ${f(runsPage)} | 1.00 |`,
    `| Chromium, navigation to the grouped table drawn (every run grouped) | ${f(groupsPage)} | ${(groupsPage / runsPage).toFixed(2)} |`,
  )
} finally {
  await browser.close()
  await app.close()
  await store.close()
}
const sqliteRoot = path.join(os.tmpdir(), 'assay-bench-search', 'sqlite-100000')
if (fs.existsSync(path.join(sqliteRoot, 'built'))) {
  const sqlite = await SqliteStore.open(sqliteRoot)
  try {
    const grouping = { by: 'params' as const, keys: ['optimizer', 'layers'] }
    const group = (filter: string) => sqlite.groupRunsPage({ filter, grouping, metrics: ['acc', 'loss'], limit: 50, runsListed: 100 })
    const runs = await timed(async () => void (await sqlite.listRunsPage({ limit: 50 })))
    const all = await timed(async () => void (await group(`status = 'finished'`)))
    const filtered = await timed(async () => void (await group(`(${FILTER}) and status = 'finished'`)))
    const f = (ms: number) => ms.toFixed(1)
    lines.push(
      '',
      '| measured (100,000 runs, SQLite, through the store) | median (ms) | / reference |',
      '| --- | ---: | ---: |',
      `| reference: listRunsPage, limit 50 | ${f(runs)} | 1.00 |`,
      `| groupRunsPage, every run by params.optimizer,params.layers, acc and loss | ${f(all)} | ${(all / runs).toFixed(1)} |`,
      `| … with the filter ${FILTER} | ${f(filtered)} | ${(filtered / runs).toFixed(1)} |`,
    )
  } finally {
    await sqlite.close()
  }
}
const loadAfter = os.loadavg()
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ')
const table = lines.join('\n')
console.log(table)
console.log(`\nload average before: ${load(loadBefore)}; after: ${load(loadAfter)}`)
if (!process.argv.includes('--no-write')) {
  const header = fs.existsSync(resultsFile)
    ? (fs.readFileSync(resultsFile, 'utf8').split('\n## Run of ')[0] as string)
    : '# Grouped runs at scale\n\nCommand: `ASSAY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/ui-groups.ts` (bench/ui-groups.ts says what each row measures).\n'
  fs.writeFileSync(resultsFile, `${header.trimEnd()}\n\n## Run of ${new Date().toISOString().slice(0, 16)} UTC\n\nLoad average (1, 5, 15 min): ${load(loadBefore)} before, ${load(loadAfter)} after.\n\n${table}\n`)
}
