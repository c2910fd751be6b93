/**
 * Benchmark: the cost of a feedback write on PostgreSQL (Store.addFeedback: since migration 17 it
 * also keeps the trace row's latest value of the name), against the statements a feedback write
 * made before, sent raw through one pg client in the same run.
 * Usage: ASSAY_TEST_POSTGRES_URL=postgres://... node --import tsx bench/feedback-write.ts [n=5000]
 *
 * Setup (not timed): a fresh schema (dropped afterwards), a deployment and n traces, bulk-inserted.
 * Timed, one call after the other, each on n feedbacks of its own (two per trace, names `a` and
 * `b`, every other one older than the one before it, so half do not change the row's latest):
 * (1) the reference: BEGIN; SELECT 1 FROM traces WHERE trace_id = $1; INSERT INTO trace_feedback …
 * ON CONFLICT DO NOTHING; COMMIT, raw; (2) Store.addFeedback. Printed: wall time and this process's
 * CPU of each, their ratio, and the load average (run it from an older checkout for a before/after).
 */
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { PostgresStore } from '../src/store/postgres/postgres-store.js'
import { newDeployment } from '../test/production/helpers.js'

const url = process.env.ASSAY_TEST_POSTGRES_URL
if (url === undefined) throw new Error('set ASSAY_TEST_POSTGRES_URL')
const n = Number(process.argv[2] ?? 5000)
const schema = `assay_bench_feedback_${randomBytes(4).toString('hex')}`
const store = await PostgresStore.open(url, { schema, poolSize: 2 })
const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` })
await client.connect()
try {
  const d = await store.createDeployment(newDeployment())
  const traces = Math.ceil(n / 2)
  await client.query(
    `INSERT INTO traces (trace_id, deployment_id, start_time, end_time, latency_ms, status, span_count)
     SELECT md5('t' || g::text), $1, g, g + 1, 1, 'ok', 1 FROM generate_series(0, $2 - 1) AS g`,
    [d.id, traces],
  )
  await client.query('ANALYZE traces')
  const { rows } = await client.query<{ trace_id: string }>('SELECT trace_id FROM traces ORDER BY start_time')
  const ids = rows.map((r) => r.trace_id)
  // Feedback k: trace k / 2, name by the trace's turn, time falling every other call.
  const feedback = (prefix: string) =>
    Array.from({ length: n }, (_, k) => ({ id: `${prefix}-${k}`, traceId: ids[Math.floor(k / 2) % ids.length] as string, name: k % 4 < 2 ? 'a' : 'b', value: k / n, source: 'judge', at: k % 2 === 0 ? 10 : 5 }))
  const load = [os.loadavg().map((x) => x.toFixed(2)).join(', ')]
  const measure = async (fn: () => Promise<void>): Promise<{ wall: number; cpu: number }> => {
    const t = performance.now()
    const cpu = process.cpuUsage()
    await fn()
    const used = process.cpuUsage(cpu)
    return { wall: performance.now() - t, cpu: (used.user + used.system) / 1000 }
  }
  const raw = await measure(async () => {
    for (const f of feedback('raw')) {
      await client.query('BEGIN')
      await client.query('SELECT 1 AS present FROM traces WHERE trace_id = $1', [f.traceId])
      await client.query('INSERT INTO trace_feedback (id, trace_id, name, value, source, at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING', [f.id, f.traceId, f.name, f.value, f.source, f.at])
      await client.query('COMMIT')
    }
  })
  const stored = await measure(async () => {
    for (const f of feedback('store')) await store.addFeedback(f)
  })
  load.push(os.loadavg().map((x) => x.toFixed(2)).join(', '))
  const ms = (x: number): string => x.toFixed(0)
  process.stdout.write(
    [
      `${n} feedback writes on ${traces} traces, one after the other; load average at start ${load[0]}, at end ${load[1]}`,
      `raw statements of a feedback write before migration 17 (reference): ${ms(raw.wall)} ms wall, ${ms(raw.cpu)} ms process CPU`,
      `Store.addFeedback: ${ms(stored.wall)} ms wall (${(stored.wall / raw.wall).toFixed(2)}x the reference), ${ms(stored.cpu)} ms process CPU`,
      '',
    ].join('\n'),
  )
} finally {
  await store.close()
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await client.end()
}
