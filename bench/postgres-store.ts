/**
 * PostgreSQL store throughput: logBatch (with batch ids, as the server sends them) from 1 and 8
 * concurrent writers, each to its own run, through one PostgresStore (pool of 10), in a fresh
 * schema that is dropped afterwards.
 *
 *   ASSAY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/postgres-store.ts [--no-write]
 *
 * Prints a Markdown table and writes bench/results/postgres-store.md (unless --no-write).
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { PostgresStore } from '../src/store/postgres/postgres-store.js'
import type { MetricSeries, NewRun } from '../src/store/store.js'
import { newRun } from '../test/store/fixtures.js'

const url = process.env.ASSAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const resultsFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'postgres-store.md')

/** [writers, keys per batch, points per key, batches per writer] */
const SHAPES: [number, number, number, number][] = [
  [1, 1, 100, 300],
  [1, 5, 200, 200],
  [1, 1, 10_000, 40],
  [8, 1, 100, 300],
  [8, 5, 200, 150],
  [8, 10, 1_000, 25],
]

function seriesOf(key: string, from: number, count: number): MetricSeries {
  const steps = new Float64Array(count)
  const values = new Float64Array(count)
  const timestamps = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    steps[i] = from + i
    values[i] = Math.random()
    timestamps[i] = Date.now()
  }
  return { key, steps, values, timestamps }
}

async function main(): Promise<void> {
  const schema = `assay_bench_${randomBytes(4).toString('hex')}`
  const store = await PostgresStore.open(url, { schema, poolSize: 10 })
  const lines = ['| writers | keys × points per batch | batches/s | points/s |', '| --- | --- | --- | --- |']
  try {
    for (const [writers, keys, points, batches] of SHAPES) {
      const runs: NewRun[] = Array.from({ length: writers }, () => newRun())
      for (const run of runs) await store.createRun(run)
      const started = performance.now()
      await Promise.all(
        runs.map(async (run) => {
          for (let b = 0; b < batches; b++) {
            const metrics = Array.from({ length: keys }, (_, k) => seriesOf(`key_${k}`, b * points, points))
            await store.logBatch(run.id, { batchId: `${run.id}-${b}`, metrics })
          }
        }),
      )
      const seconds = (performance.now() - started) / 1000
      const line = `| ${writers} | ${keys} × ${points.toLocaleString('en-US')} | ${Math.round((writers * batches) / seconds).toLocaleString('en-US')} | ${Math.round((writers * batches * keys * points) / seconds).toLocaleString('en-US')} |`
      lines.push(line)
      console.log(line)
    }
  } finally {
    await store.close()
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    const version = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version
    await client.end()
    if (!process.argv.includes('--no-write')) {
      const text = [
        '# PostgreSQL store throughput',
        '',
        `\`node --import tsx bench/postgres-store.ts\` on ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} CPUs), Node ${process.version},`,
        `PostgreSQL ${version} on the same host (synchronous_commit on). One PostgresStore, pool of 10;`,
        'each writer logs batches with batch ids to its own run, one after another.',
        '',
        ...lines,
        '',
      ].join('\n')
      fs.writeFileSync(resultsFile, text)
    }
  }
}

await main()
