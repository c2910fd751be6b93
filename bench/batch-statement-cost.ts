/**
 * What one metrics batch costs PostgreSQL: assay_log_batch (the statement `assay server` runs per
 * batch) against the reference's one INSERT (bench/reference-server.ts) of the same chunk, each
 * under EXPLAIN (ANALYZE, BUFFERS, WAL), and the statements inside assay_log_batch one by one
 * (auto_explain's nested statements, sent back as NOTICEs): WAL bytes and µs per point. Then
 * the two without EXPLAIN, each on its own connection, in alternating rounds: the CPU time of
 * each connection's backend (/proc/PID/schedstat, so PostgreSQL must run on this machine) per
 * point, a figure other jobs on a loaded machine distort far less than elapsed time.
 *
 *   node --import tsx bench/batch-statement-cost.ts [--batches 200] [--batch 1000] [--runs 8] [--rounds 10]
 *
 * ASSAY_TEST_POSTGRES_URL (default the local test database); a fresh schema, dropped afterwards.
 * Needs a superuser connection for auto_explain (LOAD).
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import pg from 'pg'
import { metricChunkBytes } from '../src/store/chunk-codec.js'
import { PostgresStore } from '../src/store/postgres/postgres-store.js'
import { createReferenceTable, REFERENCE_TABLE } from './reference-server.js'
import { dropSchema, newRunFor } from './server-load.js'

const url = process.env.ASSAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
function arg(name: string, fallback: string): number {
  const i = process.argv.indexOf(`--${name}`)
  return Number(i === -1 ? fallback : process.argv[i + 1])
}
const batches = arg('batches', '200')
const batchSize = arg('batch', '1000')
const runCount = arg('runs', '8')
const rounds = arg('rounds', '10')

interface Plan {
  'Execution Time': number
  Plan: { 'WAL Bytes'?: number; 'WAL Records'?: number; 'WAL FPI'?: number; 'Shared Hit Blocks'?: number; 'Shared Dirtied Blocks'?: number }
}

const schema = `cost_${randomUUID().replace(/-/g, '').slice(0, 12)}`
const store = await PostgresStore.open(url, { schema, poolSize: 2 })
await createReferenceTable(url, schema)
const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` })
await client.connect()
const referenceClient = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` })
await referenceClient.connect()
/** Nanoseconds a backend has run on a CPU (the first field of /proc/PID/schedstat). */
async function cpuNs(c: pg.Client): Promise<number> {
  const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0])
}
try {
  const runs: string[] = []
  for (let r = 0; r < runCount; r++) {
    const run = newRunFor('cost')
    await store.createRun(run)
    runs.push(run.id)
  }
  const steps = Float64Array.from({ length: batchSize }, (_, i) => i)
  const values = Float64Array.from({ length: batchSize }, (_, i) => Math.sin(i))
  const timestamps = new Float64Array(batchSize).fill(Date.now())
  const chunk = metricChunkBytes({ steps, values, timestamps })
  const assay = { wal: 0, records: 0, fpi: 0, ms: 0, n: 0 }
  const reference = { wal: 0, records: 0, fpi: 0, ms: 0, n: 0 }
  const add = (into: typeof assay, plan: Plan): void => {
    into.wal += plan.Plan['WAL Bytes'] ?? 0
    into.records += plan.Plan['WAL Records'] ?? 0
    into.fpi += plan.Plan['WAL FPI'] ?? 0
    into.ms += plan['Execution Time']
    into.n++
  }
  const logBatch = `EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) SELECT outcome, detail FROM assay_log_batch($1, $2, $3, 100000, ARRAY['loss'], ARRAY[${batchSize}], ARRAY[${chunk.length}], $4,
    ARRAY[$6::float8], ARRAY[$5::float8], ARRAY[-1::float8], ARRAY[1::float8], 1000, '{}'::text[], '{}'::text[], '{}'::float8[], '{}'::text[], 1000, '{}'::text[], '{}'::text[])`
  const insert = `EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) INSERT INTO ${REFERENCE_TABLE} (run_id, key, batch_id, count, data) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[], $5::bytea[])`
  for (let b = 0; b < batches; b++) {
    const runId = runs[b % runs.length]
    const step = Math.floor(b / runs.length) * batchSize
    const a = (await client.query<{ 'QUERY PLAN': Plan[] }>(logBatch, [runId, randomUUID(), Date.now(), chunk, step, Math.sin(step)])).rows[0]['QUERY PLAN'][0]
    add(assay, a)
    const r = (await client.query<{ 'QUERY PLAN': Plan[] }>(insert, [runId, ['loss'], [randomUUID()], [batchSize], [chunk]])).rows[0]['QUERY PLAN'][0]
    add(reference, r)
  }
  const line = (name: string, x: typeof assay): string =>
    `| ${name} | ${(x.wal / x.n).toFixed(0)} | ${(x.records / x.n).toFixed(1)} | ${(x.fpi / x.n).toFixed(2)} | ${((1000 * x.ms) / x.n / batchSize).toFixed(3)} | ${(x.wal / x.n / batchSize).toFixed(1)} |`
  console.log(`${batches} batches of ${batchSize} points over ${runCount} runs, chunk ${chunk.length} bytes`)
  console.log('| statement | WAL bytes per batch | WAL records | full-page images | µs per point | WAL bytes per point |')
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |')
  console.log(line('assay_log_batch', assay))
  console.log(line('reference INSERT', reference))
  // CPU per point without EXPLAIN: alternating rounds on two connections.
  const plain = (text: string): string => text.replace('EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) ', '')
  let assayNs = 0
  let referenceNs = 0
  let calls = 0
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? ['assay', 'reference'] : ['reference', 'assay']) {
      const c = side === 'assay' ? client : referenceClient
      const before = await cpuNs(c)
      for (let b = 0; b < 100; b++) {
        const runId = runs[b % runs.length]
        const step = 1e8 + (round * 100 + Math.floor(b / runs.length)) * batchSize
        if (side === 'assay') await c.query(plain(logBatch), [runId, randomUUID(), Date.now(), chunk, step, Math.sin(step)])
        else await c.query(plain(insert), [runId, ['loss'], [randomUUID()], [batchSize], [chunk]])
      }
      const used = (await cpuNs(c)) - before
      if (side === 'assay') assayNs += used
      else referenceNs += used
    }
    calls += 100
  }
  console.log(`\nbackend CPU per point, ${rounds} alternating rounds of 100 batches (each side's statement with its parse, bind and commit)`)
  console.log(`| assay_log_batch | ${(assayNs / calls / batchSize / 1000).toFixed(3)} µs |`)
  console.log(`| reference INSERT | ${(referenceNs / calls / batchSize / 1000).toFixed(3)} µs |`)
  console.log(`| assay / reference | ${(assayNs / referenceNs).toFixed(2)} |`)
  // The statements inside the function, one batch, as auto_explain sees them.
  await client.query("LOAD 'auto_explain'")
  await client.query("SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on; SET auto_explain.log_wal = on; SET auto_explain.log_nested_statements = on; SET auto_explain.log_level = 'notice'; SET auto_explain.log_format = 'json'")
  const notices: string[] = []
  client.on('notice', (n) => notices.push(n.message ?? ''))
  const sampled = 40
  for (let b = 0; b < sampled; b++) {
    const step = 1e9 + b * batchSize
    await client.query(logBatch.replace('EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) ', ''), [runs[b % runs.length], randomUUID(), Date.now(), chunk, step, Math.sin(step)])
  }
  const byText = new Map<string, { wal: number; records: number; ms: number; n: number }>()
  for (const n of notices) {
    const json = JSON.parse(n.slice(n.indexOf('{'))) as { 'Query Text': string; Plan: Plan['Plan'] & { 'Actual Total Time': number } }
    const text = json['Query Text'].replace(/\s+/g, ' ').replace(/"cost_[0-9a-f]+"\./g, '').slice(0, 80)
    const e = byText.get(text) ?? { wal: 0, records: 0, ms: 0, n: 0 }
    e.wal += json.Plan['WAL Bytes'] ?? 0
    e.records += json.Plan['WAL Records'] ?? 0
    e.ms += json.Plan['Actual Total Time']
    e.n++
    byText.set(text, e)
  }
  console.log(`\ninside assay_log_batch (auto_explain, nested statements, means over ${sampled} batches; timing adds its own overhead)`)
  console.log('| statement | WAL bytes | WAL records | ms |')
  console.log('| --- | ---: | ---: | ---: |')
  for (const [text, e] of byText) console.log(`| ${text} | ${(e.wal / e.n).toFixed(0)} | ${(e.records / e.n).toFixed(1)} | ${(e.ms / e.n).toFixed(3)} |`)
} finally {
  await client.end()
  await referenceClient.end()
  await store.close()
  await dropSchema(url, schema)
}
