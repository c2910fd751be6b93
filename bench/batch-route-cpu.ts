/**
 * The server's own CPU per batch on POST /api/v1/runs/:runId/batch, in process: a built server
 * (dist/server/app.js of this checkout or of another build) over PostgreSQL, auth on, the request
 * log on, fed binary batches through Fastify's inject (routing, hooks, body, handler, store call;
 * no socket), `--concurrency` runs at a time, each its own run. process.cpuUsage() over the
 * batches after a warm-up, divided by the points: the CPU of the request path without the HTTP
 * socket and without the client's own timing noise, so two builds can be compared on a loaded
 * machine by alternating processes (the pg client's CPU is in both).
 *
 *   npm run build && node --import tsx bench/batch-route-cpu.ts [--dist DIR] [--batches 3000] [--warmup 1000] [--concurrency 32] [--points 1000]
 *
 * Prints one line: µs of process CPU per batch and per 1,000 points. ASSAY_TEST_POSTGRES_URL
 * (default the local test database); a fresh schema, dropped afterwards.
 */
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { encodeBatchFrame } from '../src/store/http/wire.js'
import { dropSchema, makeAdminToken, newRunFor } from './server-load.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const url = process.env.ASSAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : (process.argv[i + 1] as string)
}

const dist = path.resolve(arg('dist', path.join(REPO, 'dist')))
const batches = Number(arg('batches', '3000'))
const warmup = Number(arg('warmup', '1000'))
const concurrency = Number(arg('concurrency', '32'))
const points = Number(arg('points', '1000'))

const { buildServer } = (await import(pathToFileURL(path.join(dist, 'server/app.js')).href)) as typeof import('../src/server/app.js')
const { PostgresStore } = (await import(pathToFileURL(path.join(dist, 'store/postgres/postgres-store.js')).href)) as typeof import('../src/store/postgres/postgres-store.js')

const schema = `bench_route_${randomUUID().slice(0, 8)}`
const store = await PostgresStore.open(`${url}${url.includes('?') ? '&' : '?'}schema=${schema}`)
try {
  const token = await makeAdminToken(store)
  const runs: string[] = []
  for (let c = 0; c < concurrency; c++) {
    const run = newRunFor('route-cpu')
    await store.createRun(run)
    runs.push(run.id)
  }
  const lines: string[] = []
  const app = await buildServer({ store, auth: { enabled: true }, logger: { level: 'info', stream: { write: (line) => void lines.push(line) } } })
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }
  // Every frame encoded beforehand, so that the client's encoding is not in the CPU measured.
  const frames = (count: number, offset: number): Buffer[][] =>
    runs.map(() =>
      Array.from({ length: Math.ceil(count / concurrency) }, (_, b) => {
        const s = Float64Array.from({ length: points }, (_, i) => (offset + b) * points + i)
        return encodeBatchFrame({ batchId: randomUUID(), metrics: [{ key: 'loss', steps: s, values: s, timestamps: s }] })
      }),
    )
  let queued: Buffer[][] = []
  const send = async (c: number): Promise<void> => {
    const payload = queued[c]?.shift()
    if (payload === undefined) throw new Error('ran out of frames')
    const response = await app.inject({ method: 'POST', url: `/api/v1/runs/${runs[c]}/batch`, headers, payload })
    if (response.statusCode !== 200) throw new Error(`batch refused: ${response.statusCode} ${response.body}`)
  }
  /** Each run sends its own share of `count` batches, one at a time. */
  const drive = async (): Promise<void> => {
    await Promise.all(runs.map(async (_, c) => {
      while ((queued[c]?.length ?? 0) > 0) await send(c)
    }))
  }
  queued = frames(warmup, 0)
  await drive()
  queued = frames(batches, Math.ceil(warmup / concurrency))
  const sent = queued.reduce((n, q) => n + q.length, 0)
  lines.length = 0
  const before = process.cpuUsage()
  const started = performance.now()
  await drive()
  const used = process.cpuUsage(before)
  const seconds = (performance.now() - started) / 1000
  const cpuUs = used.user + used.system
  console.log(`${dist}: ${sent} batches of ${points} points, ${concurrency} at a time: ${(cpuUs / sent).toFixed(0)} µs CPU per batch (${((cpuUs / sent / points) * 1000).toFixed(0)} µs per 1,000 points), ${(sent / seconds).toFixed(0)} batches/s, ${lines.length} log lines`)
  await app.close()
} finally {
  await store.close()
  await dropSchema(url, schema)
}
