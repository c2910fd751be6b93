/**
 * CPU per span of OTLP ingest without HTTP, robust to a loaded machine where wall-clock rates are
 * not: `decodeProtobufTraces` then the PostgreSQL store's `logTraces` over bodies encoded by the
 * real protobuf exporter (bench/otlp-ingest.ts), 16 concurrent callers in this process. Reports
 * this process's CPU per span (process.cpuUsage) and PostgreSQL's (utime + stime of the pool's
 * backends from /proc, found by a unique application_name; Linux, server on this host).
 *
 *   ASSAY_TEST_POSTGRES_URL=postgres://… node --import tsx bench/otlp-store-cpu.ts [--spans 20480] [--callers 16] [--bodies FILE] [--profile FILE] [--warmup BODIES]
 *
 * `--bodies FILE` keeps the encoded bodies in FILE (written when missing, read when present), so
 * runs to compare (and a CPU profile of one) use the same bodies and skip the SDK's encoding.
 * `--profile FILE` writes a V8 CPU profile of the measured part alone (no start-up, no encoding) to
 * FILE, to read with bench/cpuprofile-top.ts. `--warmup N` stores the first N bodies before measuring
 * (default 0), so that the figure is the steady state of a running server rather than one that
 * includes compiling the hot functions.
 *
 * Results: bench/results/otlp.md ("CPU per span, in process").
 */
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import os from 'node:os'
import { pathToFileURL } from 'node:url'
import pg from 'pg'
import { decodeProtobufTraces } from '../src/otlp/decode-traces.js'
import { openStore } from '../src/store/open-store.js'
import { encodeBodies } from './otlp-ingest.js'
import { cpuSecondsOf, dropSchema } from './server-load.js'

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}

/** The bodies of `spans` spans for this deployment, from --bodies FILE when it holds them (the deployment id is replaced). */
async function cachedBodies(deploymentId: string, spans: number): Promise<{ bytes: Buffer; spans: number }[]> {
  const i = process.argv.indexOf('--bodies')
  const file = i === -1 ? undefined : process.argv[i + 1]
  if (file !== undefined && existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { deploymentId: string; bodies: { base64: string; spans: number }[] }
    const from = Buffer.from(saved.deploymentId)
    const to = Buffer.from(deploymentId)
    return saved.bodies.map((b) => {
      const bytes = Buffer.from(b.base64, 'base64')
      // The id is a 32-character string attribute: the same length, so the protobuf stays valid.
      for (let at = bytes.indexOf(from); at !== -1; at = bytes.indexOf(from, at + to.length)) to.copy(bytes, at)
      return { bytes, spans: b.spans }
    })
  }
  const bodies = await encodeBodies('protobuf', deploymentId, spans, 512, 0)
  if (file !== undefined) writeFileSync(file, JSON.stringify({ deploymentId, bodies: bodies.map((b) => ({ base64: b.bytes.toString('base64'), spans: b.spans })) }))
  return bodies
}

async function cli(): Promise<void> {
  const pgUrl = process.env.ASSAY_TEST_POSTGRES_URL
  if (pgUrl === undefined) throw new Error('set ASSAY_TEST_POSTGRES_URL')
  const spans = arg('spans', 20_480)
  const callers = arg('callers', 16)
  const schema = `bench_otlp_cpu_${randomBytes(4).toString('hex')}`
  const app = `assay_cpu_${randomBytes(3).toString('hex')}`
  const store = await openStore(`${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${schema}&application_name=${app}`)
  const admin = new pg.Client({ connectionString: pgUrl })
  await admin.connect()
  try {
    const deploymentId = randomBytes(16).toString('hex')
    await store.createDeployment({ id: deploymentId, endpoint: 'support-bot', endpointVersion: '1', model: null, modelVersion: null, alias: null, codeHash: 'c'.repeat(40), inputs: [], environment: 'production', owner: 'bench', createdAt: Date.now() })
    const bodies = await cachedBodies(deploymentId, spans)
    // Open every pooled connection before measuring, so their start-up is not counted.
    await Promise.all(Array.from({ length: callers }, () => store.tracesPage({ deployment: deploymentId, limit: 1 })))
    const store16 = async (list: readonly { bytes: Buffer; spans: number }[]): Promise<number> => {
      let next = 0
      let stored = 0
      await Promise.all(
        Array.from({ length: callers }, async () => {
          for (let i = next++; i < list.length; i = next++) {
            const decoded = decodeProtobufTraces(list[i].bytes)
            const result = await store.logTraces(decoded.traces)
            if (result.rejected.length > 0) throw new Error(`rejected: ${result.rejected[0].message}`)
            stored += list[i].spans
          }
        }),
      )
      return stored
    }
    const warmup = Math.min(arg('warmup', 0), bodies.length - 1)
    await store16(bodies.slice(0, warmup))
    const pids = (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [app])).rows.map((r) => r.pid)
    const profileAt = process.argv.indexOf('--profile')
    const profiler = profileAt === -1 ? null : new Session()
    if (profiler !== null) {
      profiler.connect()
      await profiler.post('Profiler.enable')
      await profiler.post('Profiler.start')
    }
    const load = os.loadavg()
    const pg0 = cpuSecondsOf(pids)
    const node0 = process.cpuUsage()
    const t0 = performance.now()
    const stored = await store16(bodies.slice(warmup))
    const seconds = (performance.now() - t0) / 1000
    const node = process.cpuUsage(node0)
    const pgCpu = cpuSecondsOf(pids) - pg0
    if (profiler !== null) {
      const { profile } = await profiler.post('Profiler.stop')
      writeFileSync(process.argv[profileAt + 1], JSON.stringify(profile))
      profiler.disconnect()
    }
    console.log(`load average before: ${load.map((l) => l.toFixed(2)).join(' / ')}; ${callers} callers; ${stored} spans in ${bodies.length - warmup} bodies measured after ${warmup} to warm up`)
    console.log(`node CPU per span: ${((node.user + node.system) / stored).toFixed(1)} µs; PostgreSQL CPU per span: ${((pgCpu * 1e6) / stored).toFixed(1)} µs (${pids.length} backends); wall: ${Math.round(stored / seconds).toLocaleString('en-US')} spans/s`)
  } finally {
    await admin.end()
    await store.close()
    await dropSchema(pgUrl, schema)
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await cli()
