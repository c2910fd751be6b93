/**
 * Run search in the database: stores of 1k, 10k and 100k runs (1M with ASSAY_BENCH_SEARCH_1M=1),
 * 5 params and 5 metrics each, on SQLite and PostgreSQL. For each, the first page of 100 of
 * `params.lr > 0.01 and metrics.acc >= 0.8` through the SDK (Assay.listRunsPage) and through
 * GET /api/v1/runs (a real server on a loopback port), against the same query written by hand in
 * SQL (the selection, then the page's params, tags and metrics) in the same run; then a filter
 * that few runs match, and the fifth page (or the last, for small stores).
 *
 *   ASSAY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/search.ts [--no-write] [--explain]
 *
 * The stores are built with direct SQL through the store's own schema (migrations applied by
 * opening the store) and kept between runs: SQLite under /tmp/assay-bench-search/, PostgreSQL in
 * schemas assay_bench_search_<runs>_v<schema version> (delete them with --drop). Times are medians of 11 after up to
 * 10 warm-up calls (at most 300 ms of them); prints a Markdown table and writes bench/results/search.md (unless --no-write).
 */
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import pg from 'pg'
import { Assay } from '../src/index.js'
import { buildServer } from '../src/server/app.js'
import { PostgresStore } from '../src/store/postgres/postgres-store.js'
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js'
import type { Store } from '../src/store/store.js'
import { searchBenchSchema } from './search-schema.js'

const url = process.env.ASSAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const here = path.dirname(fileURLToPath(import.meta.url))
const resultsFile = path.join(here, 'results', 'search.md')
const cacheDir = path.join(os.tmpdir(), 'assay-bench-search')
const SIZES = [1_000, 10_000, 100_000, ...(process.env.ASSAY_BENCH_SEARCH_1M === '1' ? [1_000_000] : [])]
const REPS = 11
const MAIN = 'params.lr > 0.01 and metrics.acc >= 0.8'
const FEW = 'params.lr > 0.5 and metrics.acc >= 0.9995'
const ORDER = 'metrics.acc desc'

/** A small deterministic generator, so every build of a size holds the same runs. */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface GeneratedRun {
  id: string
  start: number
  params: [string, string, number | null, string | null][]
  metrics: [string, number][]
}

/** lr log-uniform on [1e-4, 1] (half above 0.01), acc uniform on [0.5, 1] (two fifths at 0.8 or more). */
function* generate(count: number): Generator<GeneratedRun> {
  const next = random(count)
  for (let i = 0; i < count; i++) {
    const lr = 10 ** (-4 + 4 * next())
    const optimizer = ['adam', 'sgd', 'adamw'][Math.floor(next() * 3)] as string
    const values: [string, unknown][] = [['lr', lr], ['batch', 2 ** (4 + Math.floor(next() * 5))], ['optimizer', optimizer], ['dropout', Math.round(next() * 50) / 100], ['layers', 1 + Math.floor(next() * 8)]]
    yield {
      id: i.toString(16).padStart(32, '0'),
      start: 1_700_000_000_000 + i * 1000,
      params: values.map(([k, v]) => [k, JSON.stringify(v), typeof v === 'number' ? v : null, typeof v === 'string' ? v : null]),
      metrics: [['acc', 0.5 + 0.5 * next()], ['loss', next()], ['f1', next()], ['precision', next()], ['recall', next()]],
    }
  }
}

const ENV = JSON.stringify({ runtime: 'node' })
const CODE = JSON.stringify({ vcs: 'none' })

async function buildSqlite(count: number): Promise<string> {
  const root = path.join(cacheDir, `sqlite-${count}`)
  const done = path.join(root, 'built')
  if (fs.existsSync(done)) return root
  fs.rmSync(root, { recursive: true, force: true })
  await (await SqliteStore.open(root)).close()
  const db = new Database(path.join(root, 'assay.db'))
  db.pragma('journal_mode = WAL')
  const insertRun = db.prepare(`INSERT INTO runs (id, experiment_id, name, owner, status, start_time, end_time, heartbeat_at, parent_id, group_id, seed, seed_source, environment, code, config_fingerprint)
    VALUES (?, 1, ?, 'bench', 'finished', ?, ?, ?, NULL, NULL, 1, 'user', ?, ?, ?)`)
  const insertParam = db.prepare('INSERT INTO run_params (run_id, key, value, value_num, value_text) VALUES (?, ?, ?, ?, ?)')
  const insertMetric = db.prepare('INSERT INTO metric_summaries (run_id, key, last, last_step, min, max, count) VALUES (?, ?, ?, 0, ?, ?, 1)')
  db.transaction(() => {
    db.prepare("INSERT INTO experiments (id, name, created_at) VALUES (1, 'bench', 0)").run()
    for (const run of generate(count)) {
      insertRun.run(run.id, `run-${run.id.slice(-6)}`, run.start, run.start + 500, run.start + 500, ENV, CODE, run.id)
      for (const p of run.params) insertParam.run(run.id, ...p)
      for (const [k, v] of run.metrics) insertMetric.run(run.id, k, v, v, v)
    }
  })()
  db.exec('ANALYZE')
  db.close()
  fs.writeFileSync(done, new Date().toISOString())
  return root
}

async function buildPostgres(count: number): Promise<string> {
  const schema = searchBenchSchema(count)
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const built = await client.query("SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'bench_built'", [schema])
    if (built.rows.length > 0) return schema
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await (await PostgresStore.open(url, { schema, poolSize: 1 })).close()
    await client.query(`SET search_path = "${schema}"`)
    await client.query('BEGIN')
    await client.query("INSERT INTO experiments (name, created_at) VALUES ('bench', 0)")
    const batch: GeneratedRun[] = []
    const flush = async () => {
      if (batch.length === 0) return
      await client.query(
        `INSERT INTO runs (id, experiment_id, name, owner, status, start_time, end_time, heartbeat_at, seed, seed_source, environment, code, config_fingerprint)
         SELECT id, (SELECT id FROM experiments WHERE name = 'bench'), 'run-' || right(id, 6), 'bench', 'finished', s, s + 500, s + 500, 1, 'user', $3, $4, id
         FROM unnest($1::text[], $2::float8[]) AS t(id, s)`,
        [batch.map((r) => r.id), batch.map((r) => r.start), ENV, CODE],
      )
      const params = batch.flatMap((r) => r.params.map((p) => [r.id, ...p]))
      await client.query('INSERT INTO run_params (run_id, key, value, value_num, value_text) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[])', [0, 1, 2, 3, 4].map((c) => params.map((p) => p[c])))
      const metrics = batch.flatMap((r) => r.metrics.map(([k, v]) => [r.id, k, v]))
      await client.query('INSERT INTO metric_summaries (run_id, key, last, last_step, min, max, count) SELECT r, k, v, 0, v, v, 1 FROM unnest($1::text[], $2::text[], $3::float8[]) AS t(r, k, v)', [0, 1, 2].map((c) => metrics.map((m) => m[c])))
      batch.length = 0
    }
    for (const run of generate(count)) {
      batch.push(run)
      if (batch.length === 5000) await flush()
    }
    await flush()
    await client.query('CREATE TABLE bench_built (at double precision)')
    await client.query('COMMIT')
    // This schema's tables only: a bare VACUUM would visit every schema of the database.
    await client.query('VACUUM ANALYZE experiments, runs, run_params, run_tags, metric_summaries')
    return schema
  } finally {
    await client.end()
  }
}

/**
 * The main query written by hand, two ways: joins (what one writes first) and EXISTS (what the
 * store writes); each then reads the page's params, tags and metrics as a listing must. The
 * reference is the faster of the two in the same run.
 */
const HAND_COLUMNS = 'r.id, e.name AS experiment, r.name, r.owner, r.status, r.start_time, r.end_time, r.parent_id, r.group_id, r.seed, r.config_fingerprint'
const HAND_SELECTS = {
  join: `SELECT ${HAND_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id
    JOIN run_params p ON p.run_id = r.id AND p.key = 'lr' AND p.value_num > 0.01
    JOIN metric_summaries m ON m.run_id = r.id AND m.key = 'acc' AND m.last >= 0.8
    ORDER BY r.start_time, r.id LIMIT 100`,
  exists: `SELECT ${HAND_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id
    WHERE EXISTS (SELECT 1 FROM run_params p WHERE p.run_id = r.id AND p.key = 'lr' AND p.value_num > 0.01)
      AND EXISTS (SELECT 1 FROM metric_summaries m WHERE m.run_id = r.id AND m.key = 'acc' AND m.last >= 0.8)
    ORDER BY r.start_time, r.id LIMIT 100`,
  ordered: `SELECT ${HAND_COLUMNS} FROM metric_summaries m JOIN runs r ON r.id = m.run_id JOIN experiments e ON e.id = r.experiment_id
    WHERE m.key = 'acc' AND m.last >= 0.8
      AND EXISTS (SELECT 1 FROM run_params p WHERE p.run_id = r.id AND p.key = 'lr' AND p.value_num > 0.01)
    ORDER BY m.last DESC, m.run_id DESC LIMIT 100`,
}

/** A page as the hand-written SQL reads it: the runs, then their params, tags and last metric values. */
interface HandPage {
  rows: Record<string, unknown>[]
  params: { run_id: string; key: string; value: string }[]
  tags: { run_id: string; key: string; value: string }[]
  metrics: { run_id: string; key: string; last: number | null }[]
}

function handSqlite(root: string): (form: keyof typeof HAND_SELECTS) => Promise<HandPage> {
  const db = new Database(path.join(root, 'assay.db'), { readonly: true })
  const selects = Object.fromEntries(Object.entries(HAND_SELECTS).map(([form, sql]) => [form, db.prepare(sql)]))
  return async (form) => {
    const rows = selects[form].all() as { id: string }[]
    const marks = rows.map(() => '?').join(', ')
    const ids = rows.map((r) => r.id)
    return {
      rows,
      params: db.prepare(`SELECT run_id, key, value FROM run_params WHERE run_id IN (${marks})`).all(...ids) as HandPage['params'],
      tags: db.prepare(`SELECT run_id, key, value FROM run_tags WHERE run_id IN (${marks})`).all(...ids) as HandPage['tags'],
      metrics: db.prepare(`SELECT run_id, key, last FROM metric_summaries WHERE run_id IN (${marks})`).all(...ids) as HandPage['metrics'],
    }
  }
}

function handPostgres(pool: pg.Pool): (form: keyof typeof HAND_SELECTS) => Promise<HandPage> {
  return async (form) => {
    const rows = (await pool.query<{ id: string }>(HAND_SELECTS[form])).rows
    const ids = rows.map((r) => r.id)
    return {
      rows,
      params: (await pool.query('SELECT run_id, key, value FROM run_params WHERE run_id = ANY($1)', [ids])).rows,
      tags: (await pool.query('SELECT run_id, key, value FROM run_tags WHERE run_id = ANY($1)', [ids])).rows,
      metrics: (await pool.query('SELECT run_id, key, last FROM metric_summaries WHERE run_id = ANY($1)', [ids])).rows,
    }
  }
}

/**
 * The same-transport ceiling of GET /api/v1/runs: a minimal node:http server that runs the hand
 * SQL and answers the page as JSON in the listing's shape (each run with its params, tags and
 * metrics), without validation, auth or a store. `?form=exists|ordered`.
 */
async function withReferenceServer<T>(read: (form: keyof typeof HAND_SELECTS) => Promise<HandPage>, fn: (get: (form: keyof typeof HAND_SELECTS) => Promise<number>) => Promise<T>): Promise<T> {
  const server = http.createServer((request, response) => {
    const form = new URL(request.url ?? '/', 'http://x').searchParams.get('form') as keyof typeof HAND_SELECTS
    read(form).then(
      (page) => {
        const byRun = new Map(page.rows.map((r) => [r.id as string, { ...r, params: {} as Record<string, unknown>, tags: {} as Record<string, string>, metrics: {} as Record<string, number | string> }]))
        for (const p of page.params) (byRun.get(p.run_id) as { params: Record<string, unknown> }).params[p.key] = JSON.parse(p.value)
        for (const t of page.tags) (byRun.get(t.run_id) as { tags: Record<string, string> }).tags[t.key] = t.value
        for (const m of page.metrics) (byRun.get(m.run_id) as { metrics: Record<string, number | string> }).metrics[m.key] = m.last ?? 'NaN'
        response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
        response.end(JSON.stringify({ runs: [...byRun.values()], nextCursor: 'x' }))
      },
      (error: unknown) => {
        response.writeHead(500)
        response.end(String(error))
      },
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  try {
    return await fn(async (form) => {
      const response = await fetch(`http://127.0.0.1:${port}/runs?form=${form}`)
      if (!response.ok) throw new Error(`reference server: ${response.status} ${await response.text()}`)
      return ((await response.json()) as { runs: unknown[] }).runs.length
    })
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
}

/** Warm-up calls before timing: enough for V8 to compile both the store's and the hand query's code paths (one was not: the first store measured ran 2-4x slower than the later ones), fewer for a form that takes long. */
const WARM_UP_MS = 300
const WARM_UPS = 10

async function median(fn: () => Promise<number>): Promise<{ ms: number; count: number }> {
  const warmStarted = performance.now()
  const count = await fn()
  for (let i = 1; i < WARM_UPS && performance.now() - warmStarted < WARM_UP_MS; i++) await fn()
  const times: number[] = []
  for (let i = 0; i < REPS; i++) {
    const started = performance.now()
    await fn()
    times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  return { ms: times[Math.floor(REPS / 2)] as number, count }
}

/** Through GET /api/v1/runs of a real server on a loopback port (auth off). */
async function withServer<T>(store: Store, fn: (get: (query: Record<string, string>) => Promise<{ runs: unknown[]; nextCursor: string | null }>) => Promise<T>): Promise<T> {
  const uploads = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-bench-uploads-'))
  const app = await buildServer({ store, auth: { enabled: false }, uploadDir: uploads })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  try {
    return await fn(async (query) => {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/runs?${new URLSearchParams(query).toString()}`)
      if (!response.ok) throw new Error(`GET /api/v1/runs: ${response.status} ${await response.text()}`)
      return (await response.json()) as { runs: unknown[]; nextCursor: string | null }
    })
  } finally {
    await app.close()
    fs.rmSync(uploads, { recursive: true, force: true })
  }
}

/** The cursor of the fifth page of the main filter (or of the last, when there are fewer), and that page's number. */
async function laterCursor(page: (cursor?: string) => Promise<{ nextCursor: string | null }>): Promise<{ cursor: string | undefined; number: number }> {
  let cursor: string | undefined
  let number = 1
  for (; number < 5; number++) {
    const next = (await page(cursor)).nextCursor
    if (next === null) break
    cursor = next
  }
  return { cursor, number }
}

interface Row {
  backend: string
  runs: number
  sdk: number
  http: number
  handJoin: number
  handExists: number
  hand: number
  reference: number
  matches: number
  few: number
  fewMatches: number
  fifth: number
  page: number
  orderedSdk: number
  orderedHttp: number
  orderedHand: number
  orderedReference: number
  orderedMatches: number
}

async function measure(backend: 'sqlite' | 'postgres', runs: number, explain: boolean): Promise<Row> {
  const location = backend === 'sqlite' ? await buildSqlite(runs) : await buildPostgres(runs)
  const storeUri = backend === 'sqlite' ? location : `${url}${url.includes('?') ? '&' : '?'}schema=${location}`
  const assay = await Assay.open({ store: storeUri, create: false })
  const pool = backend === 'postgres' ? new pg.Pool({ connectionString: url, options: `-c search_path=${location}`, max: 2 }) : null
  try {
    const read = backend === 'sqlite' ? handSqlite(location) : handPostgres(pool as pg.Pool)
    const hand = (form: keyof typeof HAND_SELECTS) => async () => (await read(form)).rows.length
    const sdkPage = (filter: string, cursor?: string, orderBy?: string) => assay.listRunsPage({ filter, limit: 100, cursor, orderBy })
    const sdk = await median(async () => (await sdkPage(MAIN)).runs.length)
    const handJoin = await median(hand('join'))
    const handExists = await median(hand('exists'))
    const few = await median(async () => (await sdkPage(FEW)).runs.length)
    const later = await laterCursor((c) => sdkPage(MAIN, c))
    const fifth = await median(async () => (await sdkPage(MAIN, later.cursor)).runs.length)
    const orderedSdk = await median(async () => (await sdkPage(MAIN, undefined, ORDER)).runs.length)
    const orderedHand = await median(hand('ordered'))
    const [http, orderedHttp] = await withServer(assay.store, async (get) => [
      await median(async () => (await get({ filter: MAIN, limit: '100' })).runs.length),
      await median(async () => (await get({ filter: MAIN, orderBy: ORDER, limit: '100' })).runs.length),
    ])
    const [reference, orderedReference] = await withReferenceServer(read, async (get) => [await median(() => get('exists')), await median(() => get('ordered'))])
    if (explain && pool !== null) await explainFew(pool)
    return {
      backend, runs, sdk: sdk.ms, http: http.ms, handJoin: handJoin.ms, handExists: handExists.ms, hand: Math.min(handJoin.ms, handExists.ms), reference: reference.ms,
      matches: sdk.count, few: few.ms, fewMatches: few.count, fifth: fifth.ms, page: later.number,
      orderedSdk: orderedSdk.ms, orderedHttp: orderedHttp.ms, orderedHand: orderedHand.ms, orderedReference: orderedReference.ms, orderedMatches: orderedSdk.count,
    }
  } finally {
    await assay.close()
    await pool?.end()
  }
}

/** The plan PostgreSQL chooses for the few-match filter, as the store writes it. */
async function explainFew(pool: pg.Pool): Promise<void> {
  const { filterToSql } = await import('../src/store/run-filter-sql.js')
  const { parseRunFilter } = await import('../src/store/run-filter.js')
  const compiled = filterToSql(parseRunFilter(FEW), 'postgres')
  let n = 0
  const text = `EXPLAIN ANALYZE SELECT r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE ${compiled.sql} ORDER BY r.start_time, r.id LIMIT 101`.replace(/\?/g, () => `$${++n}`)
  const plan = await pool.query(text, compiled.params)
  console.log(plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'))
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  if (args.includes('--drop')) {
    fs.rmSync(cacheDir, { recursive: true, force: true })
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    const schemas = await client.query<{ name: string }>("SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'assay_bench_search_%'")
    for (const { name } of schemas.rows) await client.query(`DROP SCHEMA "${name}" CASCADE`)
    await client.end()
    return
  }
  const loadBefore = os.loadavg()
  const rows: Row[] = []
  for (const backend of ['sqlite', 'postgres'] as const) {
    for (const runs of SIZES) {
      const row = await measure(backend, runs, args.includes('--explain') && runs === SIZES[SIZES.length - 1])
      rows.push(row)
      console.error(`${backend} ${runs}: sdk ${row.sdk.toFixed(1)} ms, http ${row.http.toFixed(1)} ms, hand ${row.hand.toFixed(1)} ms, node:http ${row.reference.toFixed(1)} ms; ordered: sdk ${row.orderedSdk.toFixed(1)}, http ${row.orderedHttp.toFixed(1)}, hand ${row.orderedHand.toFixed(1)}, node:http ${row.orderedReference.toFixed(1)} ms`)
    }
  }
  const loadAfter = os.loadavg()
  const f = (ms: number) => ms.toFixed(1)
  const table = [
    '| backend | runs | SDK, first page (ms) | GET /api/v1/runs (ms) | hand SQL: joins / EXISTS (ms) | node:http + hand SQL (ms) | SDK / hand | HTTP / hand | HTTP / node:http | matches on page | few-match filter (ms, matches) | later page (ms, page) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.backend} | ${r.runs.toLocaleString('en')} | ${f(r.sdk)} | ${f(r.http)} | ${f(r.handJoin)} / ${f(r.handExists)} | ${f(r.reference)} | ${(r.sdk / r.hand).toFixed(2)} | ${(r.http / r.hand).toFixed(2)} | ${(r.http / r.reference).toFixed(2)} | ${r.matches} | ${f(r.few)} (${r.fewMatches}) | ${f(r.fifth)} (${r.page}) |`),
    '',
    `Ordered by \`${ORDER}\` (the same filter, first page of 100):`,
    '',
    '| backend | runs | SDK (ms) | GET /api/v1/runs (ms) | hand SQL (ms) | node:http + hand SQL (ms) | SDK / hand | HTTP / hand | HTTP / node:http | matches on page |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.backend} | ${r.runs.toLocaleString('en')} | ${f(r.orderedSdk)} | ${f(r.orderedHttp)} | ${f(r.orderedHand)} | ${f(r.orderedReference)} | ${(r.orderedSdk / r.orderedHand).toFixed(2)} | ${(r.orderedHttp / r.orderedHand).toFixed(2)} | ${(r.orderedHttp / r.orderedReference).toFixed(2)} | ${r.orderedMatches} |`),
  ].join('\n')
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ')
  console.log(table)
  console.log(`\nload average before: ${load(loadBefore)}; after: ${load(loadAfter)}`)
  if (!args.includes('--no-write')) writeResults(table, `${load(loadBefore)} before, ${load(loadAfter)} after`)
}

function writeResults(table: string, load: string): void {
  const header = fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, 'utf8').split('\n## Run of ')[0] : '# Run search in the database\n'
  fs.writeFileSync(resultsFile, `${header.trimEnd()}\n\n## Run of ${new Date().toISOString().slice(0, 16)} UTC\n\nLoad average (1, 5, 15 min): ${load}.\n\n${table}\n`)
}

await main()
