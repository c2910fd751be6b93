/**
 * CPU per re-sent and per late span of OTLP ingest into PostgreSQL without HTTP, the write path of
 * a trace already stored (docs/production.md "Storage"): over the same protobuf bodies as
 * bench/otlp-store-cpu.ts, 16 concurrent callers of `logTraces` in this process,
 *   1. first: every trace without its last span (stored as new traces);
 *   2. late: the last span of every trace alone (each joins its stored trace as a new set);
 *   3. re-sent: every body again, whole (every trace unchanged: an exporter's retry);
 * each pass's CPU per span of that pass (decoding not counted: done beforehand), this process's (process.cpuUsage) and PostgreSQL's (utime
 * + stime of the pool's backends from /proc; Linux, server on this host). Then the span sets' stored
 * bytes per span and the WAL per span of writing those rows again (`EXPLAIN (ANALYZE, WAL)` of an
 * INSERT … SELECT of them into a copy of the table: exact, whatever else the cluster does).
 *
 *   ASSAY_TEST_POSTGRES_URL=postgres://… node --import tsx bench/otlp-resend.ts [--root DIR] [--spans 20480] [--callers 16] [--bodies FILE]
 *
 * `--root DIR` takes the store and decoder from DIR/dist (a built checkout; default this one), so
 * two builds are compared on the same bodies (`--bodies FILE`, written when missing).
 */
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import pg from 'pg'
import type { TraceInput } from '../src/record/production.js'
import type { Store } from '../src/store/store.js'
import { encodeBodies } from './otlp-ingest.js'
import { cpuSecondsOf, dropSchema } from './server-load.js'

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}

/** The bodies, from --bodies FILE when it holds them (its deployment id replaced by this one: same length, so the protobuf stays valid). */
async function bodiesFor(deploymentId: string, spans: number, file: string | undefined): Promise<Buffer[]> {
  if (file !== undefined && existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { deploymentId: string; bodies: { base64: string }[] }
    const from = Buffer.from(saved.deploymentId)
    const to = Buffer.from(deploymentId)
    return saved.bodies.map((b) => {
      const bytes = Buffer.from(b.base64, 'base64')
      for (let at = bytes.indexOf(from); at !== -1; at = bytes.indexOf(from, at + to.length)) to.copy(bytes, at)
      return bytes
    })
  }
  const bodies = await encodeBodies('protobuf', deploymentId, spans, 512, 0)
  if (file !== undefined) writeFileSync(file, JSON.stringify({ deploymentId, bodies: bodies.map((b) => ({ base64: b.bytes.toString('base64') })) }))
  return bodies.map((b) => b.bytes)
}

async function cli(): Promise<void> {
  const pgUrl = process.env.ASSAY_TEST_POSTGRES_URL
  if (pgUrl === undefined) throw new Error('set ASSAY_TEST_POSTGRES_URL')
  const root = path.resolve(arg('root') ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'))
  const { openStore } = (await import(pathToFileURL(path.join(root, 'dist/store/open-store.js')).href)) as { openStore: (url: string) => Promise<Store> }
  const { decodeProtobufTraces } = (await import(pathToFileURL(path.join(root, 'dist/otlp/decode-traces.js')).href)) as { decodeProtobufTraces: (b: Buffer) => { traces: TraceInput[] } }
  const spans = Number(arg('spans') ?? 20_480)
  const callers = Number(arg('callers') ?? 16)
  const schema = `bench_resend_${randomBytes(4).toString('hex')}`
  const app = `assay_resend_${randomBytes(3).toString('hex')}`
  const store = await openStore(`${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${schema}&application_name=${app}`)
  const admin = new pg.Client({ connectionString: pgUrl, options: `-c search_path=${schema}` })
  await admin.connect()
  try {
    const deploymentId = randomBytes(16).toString('hex')
    await store.createDeployment({ id: deploymentId, endpoint: 'support-bot', endpointVersion: '1', model: null, modelVersion: null, alias: null, codeHash: 'c'.repeat(40), inputs: [], environment: 'production', owner: 'bench', createdAt: Date.now() } as never)
    const bodies = await bodiesFor(deploymentId, spans, arg('bodies'))
    const decoded = bodies.map((b) => decodeProtobufTraces(b).traces)
    // A trace of one span has no late span; it is sent whole first and only re-sent.
    const first = decoded.map((traces) => traces.map((t) => (t.spans.length > 1 ? { ...t, spans: t.spans.slice(0, -1) } : t)))
    const late = decoded.map((traces) => traces.filter((t) => t.spans.length > 1).map((t) => ({ ...t, spans: t.spans.slice(-1) })))
    await Promise.all(Array.from({ length: callers }, () => store.tracesPage({ deployment: deploymentId, limit: 1 })))
    const pids = (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [app])).rows.map((r) => r.pid)
    console.log(`root ${root}; load average before: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}; ${callers} callers; ${bodies.length} bodies`)
    /** One pass: each body's traces (decoded beforehand: the decoder's CPU is not counted) through logTraces. */
    const pass = async (name: string, all: TraceInput[][], expect: 'stored' | 'unchanged'): Promise<void> => {
      const pg0 = cpuSecondsOf(pids)
      const node0 = process.cpuUsage()
      let next = 0
      let count = 0
      await Promise.all(
        Array.from({ length: callers }, async () => {
          for (let i = next++; i < all.length; i = next++) {
            const traces = all[i]
            const result = await store.logTraces(traces)
            if (result.rejected.length > 0) throw new Error(`rejected: ${result.rejected[0].message}`)
            if (result[expect].length !== traces.length) throw new Error(`${name}: ${result[expect].length} of ${traces.length} traces ${expect}`)
            count += traces.reduce((n, t) => n + t.spans.length, 0)
          }
        }),
      )
      const node = process.cpuUsage(node0)
      const pgCpu = cpuSecondsOf(pids) - pg0
      console.log(`${name}: ${count} spans; node CPU per span ${((node.user + node.system) / count).toFixed(1)} µs; PostgreSQL CPU per span ${((pgCpu * 1e6) / count).toFixed(1)} µs`)
    }
    await pass('first (each trace but its last span)', first, 'stored')
    await pass('late (the last span of each trace)', late, 'stored')
    await pass('re-sent (every body again)', decoded, 'unchanged')
    const stored = Number((await admin.query<{ n: string }>('SELECT sum(span_count) AS n FROM traces')).rows[0].n)
    const size = Number((await admin.query<{ n: string }>("SELECT pg_total_relation_size('trace_span_sets') AS n")).rows[0].n)
    await admin.query('CREATE TABLE copied_sets (LIKE trace_span_sets INCLUDING ALL)')
    const plan = (await admin.query<{ 'QUERY PLAN': [{ Plan: { 'WAL Bytes': number; 'WAL Records': number } }] }>('EXPLAIN (ANALYZE, WAL, FORMAT JSON) INSERT INTO copied_sets SELECT * FROM trace_span_sets')).rows[0]['QUERY PLAN'][0].Plan
    console.log(`trace_span_sets: ${stored} spans, ${Math.round(size / stored)} bytes/span stored (heap, index, TOAST); its rows written again: ${Math.round(plan['WAL Bytes'] / stored)} WAL bytes/span, ${(plan['WAL Records'] / stored).toFixed(2)} records/span`)
  } finally {
    await admin.end()
    await store.close()
    await dropSchema(pgUrl, schema)
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await cli()
