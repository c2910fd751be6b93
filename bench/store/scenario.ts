/**
 * One benchmark scenario in one fresh process (so /usr/bin/time -v sees only its memory).
 * Usage: node --import tsx bench/store/scenario.ts <scenario> <dir> <n>
 * Prints one line: RESULT {"scenario", "n", "seconds", "rssBeforeMb", ...}. Only the section
 * between the two clock reads is timed; building inputs and opening the store are not.
 */
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import Database from 'better-sqlite3'
import { Assay } from '../../src/index.js'
import type { EvalRecord } from '../../src/index.js'

const [scenario, dir, nText] = process.argv.slice(2)
const n = Number(nText)
if (!scenario || !dir || !Number.isInteger(n) || n <= 0) throw new Error('usage: scenario.ts <scenario> <dir> <n>')

const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10

/** A realistic eval record: an id, a cluster, two scores, latency, tokens and cost. */
export function makeRecord(i: number): EvalRecord {
  const tokens = 200 + ((i * 7919) % 1800)
  return {
    id: `q-${String(i).padStart(7, '0')}`,
    cluster: `topic-${i % 500}`,
    scores: { exact: (i * 2654435761) % 7 < 4 ? 1 : 0, f1: ((i * 40503) % 10007) / 10007 },
    latencyMs: 120 + ((i * 48271) % 9000) / 10,
    tokens,
    cost: tokens * 1.5e-6,
  }
}

function buildRecords(count: number): EvalRecord[] {
  const records: EvalRecord[] = new Array(count)
  for (let i = 0; i < count; i++) records[i] = makeRecord(i)
  return records
}

function datasetFile(): string {
  const file = path.join(dir, 'eval-set.jsonl')
  if (!fs.existsSync(file)) fs.writeFileSync(file, '{"id":"q-0000000","question":"placeholder"}\n')
  return file
}

function rawDb(file: string): Database.Database {
  const db = new Database(path.join(dir, file))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  return db
}

async function sdkRun(assay: Assay) {
  return assay.startRun({ experiment: 'bench', datasets: [{ name: 'eval', path: datasetFile(), role: 'test' }], codeDir: dir })
}

interface Result {
  seconds: number
  rssBeforeMb: number
  extra?: Record<string, unknown>
}

async function timed(body: () => Promise<void> | void): Promise<{ seconds: number; rssBeforeMb: number }> {
  const rssBeforeMb = mb(process.memoryUsage().rss)
  const t0 = performance.now()
  await body()
  return { seconds: (performance.now() - t0) / 1000, rssBeforeMb }
}

const scenarios: Record<string, () => Promise<Result>> = {
  /** n calls of run.log({ loss }, { step }), awaited one by one as a training loop would, then flush. */
  async 'sdk-metrics'() {
    const assay = await Assay.open({ store: path.join(dir, 'store') })
    const run = await sdkRun(assay)
    const t = await timed(async () => {
      for (let i = 0; i < n; i++) await run.log({ loss: 1 / (i + 1) }, { step: i })
      await run.flush()
    })
    const count = (await assay.getRun(run.id)).metrics.find((m) => m.key === 'loss')?.count
    if (count !== n) throw new Error(`stored ${count} points, logged ${n}`)
    await run.end()
    await assay.close()
    return t
  },
  /** n/4 calls of run.log with 4 keys each (n points), then flush. */
  async 'sdk-metrics-4keys'() {
    const assay = await Assay.open({ store: path.join(dir, 'store') })
    const run = await sdkRun(assay)
    const calls = n / 4
    const t = await timed(async () => {
      for (let i = 0; i < calls; i++) await run.log({ loss: 1 / (i + 1), acc: i / calls, lr: 1e-3, grad_norm: 0.5 + (i % 7) }, { step: i })
      await run.flush()
    })
    const total = (await assay.getRun(run.id)).metrics.reduce((sum, m) => sum + m.count, 0)
    if (total !== n) throw new Error(`stored ${total} points, logged ${n}`)
    await run.end()
    await assay.close()
    return t
  },
  /** Reference: one row per point in a plain table, prepared statement, one transaction. */
  async 'raw-metrics'() {
    const db = rawDb('raw.db')
    db.exec('CREATE TABLE points (run_id TEXT NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL, value REAL, ts REAL NOT NULL)')
    const insert = db.prepare('INSERT INTO points VALUES (?, ?, ?, ?, ?)')
    const now = Date.now()
    const t = await timed(() => {
      db.transaction(() => {
        for (let i = 0; i < n; i++) insert.run('0123456789abcdef0123456789abcdef', 'loss', i, 1 / (i + 1), now)
      })()
    })
    const { c } = db.prepare('SELECT COUNT(*) AS c FROM points').get() as { c: number }
    if (c !== n) throw new Error(`stored ${c} rows`)
    db.close()
    return t
  },
  /** run.logEval of n records already built in memory (building is not timed), then flush. */
  async 'sdk-eval-write'() {
    const assay = await Assay.open({ store: path.join(dir, 'store') })
    const run = await sdkRun(assay)
    const b0 = performance.now()
    const records = buildRecords(n)
    const buildSeconds = (performance.now() - b0) / 1000
    const t = await timed(async () => {
      await run.logEval({ dataset: 'eval', records })
      await run.flush()
    })
    const count = (await assay.getRun(run.id)).evals[0]?.count
    if (count !== n) throw new Error(`stored ${count} records`)
    await run.end()
    await assay.close()
    return { ...t, extra: { buildSeconds } }
  },
  /** Reference: the same records as rows of a plain table, one transaction. */
  async 'raw-eval-write'() {
    const db = rawDb('raw.db')
    db.exec('CREATE TABLE evals (run_id TEXT NOT NULL, id TEXT NOT NULL, cluster TEXT, exact REAL, f1 REAL, latency_ms REAL, tokens REAL, cost REAL)')
    const insert = db.prepare('INSERT INTO evals VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    const records = buildRecords(n)
    const t = await timed(() => {
      db.transaction(() => {
        for (const r of records) insert.run('0123456789abcdef0123456789abcdef', r.id, r.cluster, r.scores.exact, r.scores.f1, r.latencyMs, r.tokens, r.cost)
      })()
    })
    const { c } = db.prepare('SELECT COUNT(*) AS c FROM evals').get() as { c: number }
    if (c !== n) throw new Error(`stored ${c} rows`)
    db.close()
    return t
  },
  /** Untimed setup for the read scenarios: n records through the SDK, and the raw table. */
  async 'prepare-read'() {
    const assay = await Assay.open({ store: path.join(dir, 'store') })
    const run = await sdkRun(assay)
    await run.logEval({ dataset: 'eval', records: buildRecords(n) })
    await run.end()
    await assay.close()
    fs.writeFileSync(path.join(dir, 'run-id'), run.id)
    await scenarios['raw-eval-write']()
    return { seconds: 0, rssBeforeMb: 0 }
  },
  /** assay.evalRecords: n records back as objects. */
  async 'sdk-eval-read-records'() {
    const assay = await Assay.open({ store: path.join(dir, 'store') })
    const id = fs.readFileSync(path.join(dir, 'run-id'), 'utf8')
    let count = 0
    const t = await timed(async () => {
      count = (await assay.evalRecords(id, 'eval')).length
    })
    if (count !== n) throw new Error(`read ${count} records`)
    await assay.close()
    return t
  },
  /** assay.evalColumns: n records back as float64 columns (what comparisons read). */
  async 'sdk-eval-read-columns'() {
    const assay = await Assay.open({ store: path.join(dir, 'store') })
    const id = fs.readFileSync(path.join(dir, 'run-id'), 'utf8')
    let count = 0
    const t = await timed(async () => {
      count = (await assay.evalColumns(id, 'eval')).ids.length
    })
    if (count !== n) throw new Error(`read ${count} records`)
    await assay.close()
    return t
  },
  /** Reference: SELECT the raw rows back as objects. */
  async 'raw-eval-read'() {
    const db = rawDb('raw.db')
    let count = 0
    const t = await timed(() => {
      count = db.prepare('SELECT id, cluster, exact, f1, latency_ms, tokens, cost FROM evals WHERE run_id = ?').all('0123456789abcdef0123456789abcdef').length
    })
    if (count !== n) throw new Error(`read ${count} rows`)
    db.close()
    return t
  },
}

const body = scenarios[scenario]
if (body === undefined) throw new Error(`unknown scenario ${scenario}; known: ${Object.keys(scenarios).join(', ')}`)
const result = await body()
console.log(`RESULT ${JSON.stringify({ scenario, n, ...result, maxRssMbSelf: mb(process.resourceUsage().maxRSS * 1024) })}`)
