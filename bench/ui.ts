/**
 * The web UI at scale: with 100,000 runs in PostgreSQL, how long the runs page's data request
 * takes (GET /api/v1/runs as the page asks it, over a real loopback port) and how long headless
 * Chromium takes from navigation to the rendered table; a chart of a 1,000,000-point metric
 * (SQLite: the buckets and charts requests, and the run page's chart drawn, timed by the mark the
 * chart puts in the page's performance timeline; bench/results/ui.md says what the 500 ms
 * covers); and the size of the UI's JavaScript and CSS
 * compressed with gzip. References measured in the same run: GET /api/v1/health for requests,
 * and the same page rendering the compare form (no run data) for the browser.
 *
 *   ASSAY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/ui.ts [--no-write]
 *
 * The 100,000 runs are bench/search.ts's PostgreSQL store (schema assay_bench_search_100000_v<schema version>, 5
 * params and 5 metrics per run), which that benchmark builds and keeps: run it once first.
 * Times are medians of 7 (requests) and 5 (page loads, each in a new browser context) after one
 * warm-up. Writes bench/results/ui.md unless --no-write.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { chromium, type Browser } from 'playwright-core'
import { buildServer } from '../src/server/app.js'
import { UI_ASSETS_DIR } from '../src/server/ui-routes.js'
import { PostgresStore } from '../src/store/postgres/postgres-store.js'
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js'
import type { Store } from '../src/store/store.js'
import { searchBenchSchema } from './search-schema.js'

const url = process.env.ASSAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const SCHEMA = searchBenchSchema(100_000)
const here = path.dirname(fileURLToPath(import.meta.url))
const resultsFile = path.join(here, 'results', 'ui.md')
const CHROMIUM = '/usr/bin/chromium'
const FILTER = 'params.lr > 0.01 and metrics.acc >= 0.8'

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

async function timed(reps: number, fn: () => Promise<void>): Promise<number> {
  await fn()
  const times: number[] = []
  for (let i = 0; i < reps; i++) {
    const t = performance.now()
    await fn()
    times.push(performance.now() - t)
  }
  return median(times)
}

async function serve(store: Store): Promise<{ app: FastifyInstance; base: string }> {
  const app = await buildServer({ store, auth: { enabled: false } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  return { app, base: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}` }
}

async function get(base: string, pathAndQuery: string): Promise<void> {
  const response = await fetch(`${base}${pathAndQuery}`)
  if (!response.ok) throw new Error(`${pathAndQuery}: HTTP ${response.status} ${await response.text()}`)
  await response.arrayBuffer()
}

/** Navigation start to `selector` present, in the page's own clock (performance.now()), in a fresh context. */
async function pageLoad(browser: Browser, target: string, selector: string, reps = 5): Promise<number> {
  const once = async (): Promise<number> => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(target)
    await page.waitForSelector(selector)
    const ms = await page.evaluate(() => performance.now())
    await context.close()
    return ms
  }
  await once()
  const times: number[] = []
  for (let i = 0; i < reps; i++) times.push(await once())
  return median(times)
}

/**
 * A run page with its chart, in a fresh context, by the page's own clock: navigation start (0)
 * and the start of its charts request (resource timing) to the chart drawn, which is the mark the
 * chart puts in the performance timeline once uPlot's first draw is on the canvas (src/ui/chart.tsx).
 * Read from the page after the fact, so Playwright's polling adds nothing.
 */
async function chartTimes(browser: Browser, target: string, reps = 5): Promise<{ fromNavigation: number; fromRequest: number }> {
  const once = async (): Promise<{ fromNavigation: number; fromRequest: number }> => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(target)
    await page.waitForSelector('.chart [data-drawn]')
    const times = await page.evaluate(() => {
      const drawn = performance.getEntriesByName('assay:chart-drawn')[0]
      const request = performance.getEntriesByType('resource').find((e) => e.name.includes('/charts?'))
      return { fromNavigation: drawn?.startTime ?? NaN, fromRequest: drawn === undefined || request === undefined ? NaN : drawn.startTime - request.startTime }
    })
    await context.close()
    return times
  }
  await once()
  const all: { fromNavigation: number; fromRequest: number }[] = []
  for (let i = 0; i < reps; i++) all.push(await once())
  return { fromNavigation: median(all.map((t) => t.fromNavigation)), fromRequest: median(all.map((t) => t.fromRequest)) }
}

async function main(): Promise<void> {
  const write = !process.argv.includes('--no-write')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const built = await client.query("SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'bench_built'", [SCHEMA])
  await client.end()
  if (built.rows.length === 0) throw new Error(`no store of 100,000 runs in schema ${SCHEMA}: run bench/search.ts once first (it builds and keeps it)`)
  if (!fs.existsSync(path.join(UI_ASSETS_DIR, 'app.js'))) throw new Error('the UI is not built: npm run build')

  const loadBefore = os.loadavg()
  const js = fs.readFileSync(path.join(UI_ASSETS_DIR, 'app.js'))
  const css = fs.readFileSync(path.join(UI_ASSETS_DIR, 'app.css'))
  const gz = (b: Buffer) => gzipSync(b, { level: 9 }).length

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] })
  const lines: string[] = []
  try {
    const store = await PostgresStore.open(url, { schema: SCHEMA })
    const { app, base } = await serve(store)
    try {
      const health = await timed(7, () => get(base, '/api/v1/health'))
      const plain = await timed(7, () => get(base, '/api/v1/runs?limit=50'))
      const filtered = await timed(7, () => get(base, `/api/v1/runs?limit=50&filter=${encodeURIComponent(FILTER)}`))
      const sorted = await timed(7, () => get(base, `/api/v1/runs?limit=50&filter=${encodeURIComponent(FILTER)}&orderBy=${encodeURIComponent('metrics.acc desc')}`))
      const reference = await pageLoad(browser, `${base}/#/compare`, '#compare-title')
      const runsPage = await pageLoad(browser, `${base}/#/runs?filter=${encodeURIComponent(FILTER)}&columns=params.lr,metrics.acc`, 'table.runs tbody tr')
      const sortedPage = await pageLoad(browser, `${base}/#/runs?filter=${encodeURIComponent(FILTER)}&orderBy=${encodeURIComponent('metrics.acc desc')}&columns=params.lr,metrics.acc`, 'table.runs tbody tr')
      const f = (ms: number) => ms.toFixed(1)
      lines.push(
        '| measured (100,000 runs, PostgreSQL) | median (ms) | / reference |',
        '| --- | ---: | ---: |',
        `| reference: GET /api/v1/health | ${f(health)} | 1.00 |`,
        `| GET /api/v1/runs?limit=50 (the runs page, no filter) | ${f(plain)} | ${(plain / health).toFixed(1)} |`,
        `| GET /api/v1/runs?limit=50&filter=${FILTER} | ${f(filtered)} | ${(filtered / health).toFixed(1)} |`,
        `| … &orderBy=metrics.acc desc | ${f(sorted)} | ${(sorted / health).toFixed(1)} |`,
        `| reference: Chromium, navigation to the compare form drawn (no run data) | ${f(reference)} | 1.00 |`,
        `| Chromium, navigation to the filtered runs table drawn (50 rows, 2 chosen columns) | ${f(runsPage)} | ${(runsPage / reference).toFixed(2)} |`,
        `| … ordered by metrics.acc desc | ${f(sortedPage)} | ${(sortedPage / reference).toFixed(2)} |`,
      )
    } finally {
      await app.close()
      await store.close()
    }

    // A chart of 1,000,000 points: the buckets request and the run page drawn, on SQLite.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-bench-ui-'))
    const sqlite = await SqliteStore.open(dir)
    try {
      const { Assay } = await import('../src/index.js')
      const assay = await Assay.open({ store: dir })
      const run = await assay.startRun({ experiment: 'bench', name: 'million', params: {}, seed: 1 })
      const n = 1_000_000
      const steps = Float64Array.from({ length: n }, (_, i) => i)
      const values = Float64Array.from({ length: n }, (_, i) => (i === 777_777 ? 10 : Math.sin(i / 5000)))
      await sqlite.logBatch(run.id, { metrics: [{ key: 'loss', steps, values, timestamps: new Float64Array(n).fill(Date.now()) }] })
      await run.end('finished')
      await assay.close()
      const { app, base } = await serve(sqlite)
      try {
        const health = await timed(7, () => get(base, '/api/v1/health'))
        const buckets = await timed(7, () => get(base, `/api/v1/runs/${run.id}/metrics/buckets?key=loss&buckets=300`))
        const charts = await timed(7, () => get(base, `/api/v1/runs/${run.id}/charts?buckets=300`))
        const reference = await pageLoad(browser, `${base}/#/compare`, '#compare-title')
        const chart = await chartTimes(browser, `${base}/#/run/${run.id}`)
        const f = (ms: number) => ms.toFixed(1)
        lines.push(
          '',
          '| measured (one metric of 1,000,000 points, SQLite) | median (ms) | / reference |',
          '| --- | ---: | ---: |',
          `| reference: GET /api/v1/health | ${f(health)} | 1.00 |`,
          `| GET …/metrics/buckets?key=loss&buckets=300 | ${f(buckets)} | ${(buckets / health).toFixed(1)} |`,
          `| GET …/charts?buckets=300 (the run page's charts request) | ${f(charts)} | ${(charts / health).toFixed(1)} |`,
          `| reference: Chromium, navigation to the compare form drawn | ${f(reference)} | 1.00 |`,
          `| Chromium, navigation to the run page's chart drawn | ${f(chart.fromNavigation)} | ${(chart.fromNavigation / reference).toFixed(2)} |`,
          `| Chromium, the run page's charts request started to the chart drawn | ${f(chart.fromRequest)} | ${(chart.fromRequest / reference).toFixed(2)} |`,
        )
      } finally {
        await app.close()
      }
    } finally {
      await sqlite.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  } finally {
    await browser.close()
  }
  lines.push('', '| file (dist/ui) | bytes | gzip -9 bytes |', '| --- | ---: | ---: |', `| app.js | ${js.length} | ${gz(js)} |`, `| app.css | ${css.length} | ${gz(css)} |`)
  const loadAfter = os.loadavg()
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ')
  const table = lines.join('\n')
  console.log(table)
  console.log(`\nload average before: ${load(loadBefore)}; after: ${load(loadAfter)}`)
  if (write) {
    const header = fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, 'utf8').split('\n## Run of ')[0] : '# The web UI at scale\n\nCommand: `ASSAY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/ui.ts` (bench/ui.ts says what each row measures).\n'
    fs.writeFileSync(resultsFile, `${header.trimEnd()}\n\n## Run of ${new Date().toISOString().slice(0, 16)} UTC\n\nLoad average (1, 5, 15 min): ${load(loadBefore)} before, ${load(loadAfter)} after.\n\n${table}\n`)
  }
}

await main()
