/**
 * Benchmark: `monitor check` (checkMonitor: the store's read of the window and its reference, the
 * decision, the audit append) over 1,000,000 traces in a window on PostgreSQL, against the raw
 * SELECT of the same rows in the same run.
 * Usage: ASSAY_TEST_POSTGRES_URL=postgres://... node --max-old-space-size=8192 --import tsx bench/monitor-check.ts [n=1000000] [reference=200000] [repetitions=3] [rows]
 *
 * Setup (not timed): a fresh schema (dropped afterwards); a model version, a deployment of it, and
 * n traces in the checked hour plus `reference` traces in the hour before, each with a `quality`
 * feedback score, written by bulk INSERT ... SELECT generate_series into the store's own tables
 * (the rows logTraces would write, without spans). The monitor: KS drift on input tokens and on
 * the quality score (Holm), lineage, p95 latency with its interval, tokens and cost per 1,000.
 *
 * Timed, per repetition: (1) the raw reference: the store's columns of the window's traces and their
 * feedback joined, read by two plain SELECTs through one pg client, every row handed to JS;
 * (1b) the raw COPY reference: the same two statements as COPY (…) TO STDOUT (FORMAT binary),
 * the bytes counted and nothing decoded (the floor of a read through the wire);
 * (2) Store.traceColumns of the window alone (on PostgreSQL one binary COPY of only the columns
 * the monitor file needs, decoded as it streams straight into typed arrays: what the monitor gets);
 * (3) checkMonitor whole (both windows read, decided, the decision appended to the audit log).
 * With `rows`, also timed: the window read as rows (readTraceRows: Store.traceRowsPage page by page,
 * the read `monitor check` made before it read columns), for a before/after in one run.
 * Also printed: the bytes of the window's typed arrays, and the process's peak resident set (which
 * includes the raw reference's row objects).
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import os from 'node:os'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { checkMonitor, readTraceRows } from '../src/monitor/check-monitor.js'
import { monitorColumnNeeds } from '../src/monitor/decide-monitor.js'
import type { TraceColumns } from '../src/record/trace-columns.js'
import { parseMonitorSpec } from '../src/monitor/monitor-spec.js'
import { addModelVersion, createModel, setAlias } from '../src/registry/registry.js'
import { PostgresStore } from '../src/store/postgres/postgres-store.js'
import { newRun } from '../test/store/fixtures.js'
import { newDeployment } from '../test/production/helpers.js'

const url = process.env.ASSAY_TEST_POSTGRES_URL
if (url === undefined) throw new Error('set ASSAY_TEST_POSTGRES_URL')
const n = Number(process.argv[2] ?? 1_000_000)
const referenceN = Number(process.argv[3] ?? 200_000)
const repetitions = Number(process.argv[4] ?? 3)
const withRows = process.argv[5] === 'rows'
const HOUR = 3_600_000
const NOW = Date.UTC(2026, 11, 1, 12)
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const seconds = (ms: number): string => (ms / 1000).toFixed(2)

const MONITOR = `monitor: bench
owner: bench
escalation: bench@example.com
rollback: { model: bench, version: 1, rationale: the first version }
inconsistent:
  drift:
    - feature: inputTokens
    - score: quality
unauditable: { require: [modelVersion, owner] }
costly:
  action: cache
  latency: { maxMs: 5000 }
  tokensPer1000: { max: 2000000 }
  costPer1000: { max: 50 }
`

/** Bytes of a window's typed arrays. */
function typedBytes(c: TraceColumns): number {
  const arrays: ArrayBufferView[] = [c.time, c.latencyMs, c.inputTokens, c.outputTokens, c.costUsd, ...Object.values(c.scores)]
  for (const f of Object.values(c.features)) {
    if (f.numbers !== undefined && !arrays.includes(f.numbers)) arrays.push(f.numbers)
    if (f.categories !== undefined) arrays.push(f.categories.codes)
  }
  for (const t of [c.attributes, c.conversationId, c.guardrailAction, c.modelVersion, c.promptVersion]) if (t !== undefined) arrays.push(t.codes)
  return arrays.reduce((sum, a) => sum + a.byteLength, 0)
}

const schema = `assay_bench_${randomBytes(4).toString('hex')}`
const store = await PostgresStore.open(url, { schema, poolSize: 4 })
const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` })
await client.connect()
try {
  const run = newRun({ experiment: 'bench' })
  await store.createRun(run)
  await createModel(store, { name: 'bench', owner: 'bench', actor: 'bench', at: 1 })
  await addModelVersion(store, { model: 'bench', run: run.id, actor: 'bench', at: 2 })
  await setAlias(store, { model: 'bench', alias: 'champion', version: 1, actor: 'bench', at: 3 })
  const d = await store.createDeployment(newDeployment({ model: 'bench', alias: 'champion' }))

  let t = performance.now()
  // Pseudo-random but reproducible columns from the row number; trace ids are 32 hex characters.
  const insert = (count: number, from: number, offset: number, shift: number) =>
    client.query(
      `INSERT INTO traces (trace_id, deployment_id, start_time, end_time, latency_ms, status, operation, request_model, input_tokens, output_tokens,
         conversation_id, prompt_name, prompt_version, retrieval_index_version, cost_usd, guardrail_action, guardrail_outcome, output_hash, span_count)
       SELECT md5('t' || (g + $5)::text), $1, $2 + g * ($3::float8 / $4), $2 + g * ($3::float8 / $4) + lat, lat, 'ok', 'chat', 'gpt-x',
         it, ot, 'conv-' || ((g + $5) / 3)::text, 'qa', '3', NULL, it * 2.5e-6 + ot * 1e-5, 'none', 'pass', NULL, 1
       FROM (SELECT g, round(400 + $6 + 100 * (random() - 0.5))::float8 AS it, round(150 + 30 * random())::float8 AS ot, round(exp(6 + 0.3 * random()))::float8 AS lat
             FROM generate_series(0, $4 - 1) AS g) s`,
      [d.id, from, HOUR, count, offset, shift],
    )
  await insert(referenceN, NOW - 2 * HOUR, 10_000_000, 0)
  await insert(n, NOW - HOUR, 0, 2)
  await client.query(`INSERT INTO trace_feedback (id, trace_id, name, value, source, at) SELECT 'q-' || trace_id, trace_id, 'quality', random(), 'judge', start_time FROM traces WHERE deployment_id = $1`, [d.id])
  // The rows' latest feedback (traces.feedback, migration 17), as addFeedback keeps it; a store
  // before 17 has no such column (run from an older checkout for a before/after).
  const rowFeedback = (await client.query("SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'traces' AND column_name = 'feedback'", [schema])).rows.length > 0
  if (rowFeedback) {
    const { TRACE_FEEDBACK_FILL } = (await import('../src/store/postgres/postgres-migrations.js')) as { TRACE_FEEDBACK_FILL: string }
    await client.query(TRACE_FEEDBACK_FILL)
  }
  await client.query('ANALYZE traces; ANALYZE trace_feedback')
  const setup = performance.now() - t

  /** The raw reference: the window's columns and its feedback through one pg client, every row handed to JS. */
  const rawSelect = async (deployment: string): Promise<{ rows: number; feedback: number }> => {
    const plain = await client.query(
      `SELECT trace_id, start_time, latency_ms, input_tokens, output_tokens, cost_usd, conversation_id, guardrail_action, guardrail_outcome, operation, request_model, prompt_name, prompt_version, retrieval_index_version, output_hash
       FROM traces WHERE deployment_id = $1 AND start_time >= $2 AND start_time < $3`,
      [deployment, NOW - HOUR, NOW],
    )
    const feedback = await client.query(
      `SELECT f.trace_id, f.name, f.value FROM trace_feedback f JOIN traces t ON t.trace_id = f.trace_id WHERE t.deployment_id = $1 AND t.start_time >= $2 AND t.start_time < $3`,
      [deployment, NOW - HOUR, NOW],
    )
    return { rows: plain.rows.length, feedback: feedback.rows.length }
  }

  /** The raw COPY reference: the same two statements as rawSelect, as COPY … (FORMAT binary), every byte handed to JS and counted, none decoded. */
  const rawCopy = async (deployment: string): Promise<number> => {
    const lit = (v: string | number) => (typeof v === 'number' ? `'${v}'::float8` : pg.escapeLiteral(v))
    const where = (t: string) => `${t}deployment_id = ${lit(deployment)} AND ${t}start_time >= ${lit(NOW - HOUR)} AND ${t}start_time < ${lit(NOW)}`
    let bytes = 0
    for (const select of [
      `SELECT trace_id, start_time, latency_ms, input_tokens, output_tokens, cost_usd, conversation_id, guardrail_action, guardrail_outcome, operation, request_model, prompt_name, prompt_version, retrieval_index_version, output_hash FROM traces WHERE ${where('')}`,
      `SELECT f.trace_id, f.name, f.value FROM trace_feedback f JOIN traces t ON t.trace_id = f.trace_id WHERE ${where('t.')}`,
    ]) {
      for await (const chunk of client.query(copyTo(`COPY (${select}) TO STDOUT (FORMAT binary)`))) bytes += (chunk as Buffer).length
    }
    return bytes
  }

  const monitor = parseMonitorSpec(MONITOR, 'bench.monitor.yaml')
  const needs = monitorColumnNeeds(monitor.spec)
  let columnBytes = 0
  const raw: number[] = []
  const copied: number[] = []
  let copyBytes = 0
  const read: number[] = []
  const readCpu: number[] = []
  const rowsRead: number[] = []
  const whole: number[] = []
  let rows = 0
  let feedbackRows = 0
  let decision = ''
  const load = [os.loadavg().map((x) => x.toFixed(2)).join(', ')]
  for (let r = 0; r < repetitions; r++) {
    t = performance.now()
    // In a function, so the reference's row objects are garbage before the store's read starts.
    const counts = await rawSelect(d.id)
    raw.push(performance.now() - t)
    rows = counts.rows
    feedbackRows = counts.feedback

    t = performance.now()
    copyBytes = await rawCopy(d.id)
    copied.push(performance.now() - t)

    t = performance.now()
    const cpu = process.cpuUsage()
    const window = await store.traceColumns({ deployment: d.id, from: NOW - HOUR, to: NOW, needs })
    read.push(performance.now() - t)
    const used = process.cpuUsage(cpu)
    readCpu.push((used.user + used.system) / 1000)
    if (window.length !== n) throw new Error(`read ${window.length} traces, expected ${n}`)
    columnBytes = typedBytes(window)

    if (withRows) {
      t = performance.now()
      const asRows = await readTraceRows(store, d.id, NOW - HOUR, NOW)
      rowsRead.push(performance.now() - t)
      if (asRows.length !== n) throw new Error(`read ${asRows.length} rows, expected ${n}`)
    }

    t = performance.now()
    const result = await checkMonitor(store, { monitor, deployment: d.id, window: '1h', reference: 'trailing:1h', now: NOW, actor: 'bench' })
    whole.push(performance.now() - t)
    decision = `${result.evidence.decision}: ${result.evidence.reason}`
  }
  load.push(os.loadavg().map((x) => x.toFixed(2)).join(', '))
  const [m, rd, w] = [median(raw), median(read), median(whole)]
  process.stdout.write(
    [
      `setup (bulk insert of ${n + referenceN} traces and feedback): ${seconds(setup)} s`,
      `window ${rows} traces (${feedbackRows} feedback rows), reference ${referenceN}; repetitions ${repetitions}; load average at start ${load[0]}, at end ${load[1]}`,
      `raw SELECT of the window and its feedback: median ${seconds(m)} s (all ${raw.map(seconds).join(', ')})`,
      `raw COPY (FORMAT binary) of the same two statements, bytes counted only (${(copyBytes / 1e6).toFixed(1)} MB): median ${seconds(median(copied))} s (all ${copied.map(seconds).join(', ')}); ${(median(copied) / m).toFixed(2)}x the raw SELECT`,
      `Store.traceColumns (window only): median ${seconds(rd)} s (all ${read.map(seconds).join(', ')}); ${(rd / m).toFixed(2)}x the raw SELECT, ${(rd / median(copied)).toFixed(2)}x the raw COPY`,
      `Store.traceColumns process CPU (user + system, this process only, not PostgreSQL's): median ${seconds(median(readCpu))} s (all ${readCpu.map(seconds).join(', ')}); scores from ${rowFeedback ? 'the trace row' : 'trace_feedback'}`,
      ...(withRows ? [`readTraceRows (window only, rows as before): median ${seconds(median(rowsRead))} s (all ${rowsRead.map(seconds).join(', ')}); ${(median(rowsRead) / m).toFixed(2)}x the raw SELECT`] : []),
      `checkMonitor (window + reference, decide, audit): median ${seconds(w)} s (all ${whole.map(seconds).join(', ')}); ${(w / m).toFixed(2)}x the raw SELECT, ${(w / median(copied)).toFixed(2)}x the raw COPY`,
      `decision: ${decision}`,
      `the window's typed arrays: ${(columnBytes / 1e6).toFixed(1)} MB (scores ${needs.scores.join(', ') || 'none'}; features ${needs.features.join(', ') || 'none'}), plus ${n} trace id strings`,
      `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (the raw reference's row objects included)`,
      '',
    ].join('\n'),
  )
} finally {
  await store.close()
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await client.end()
}
