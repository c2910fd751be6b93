/**
 * Load on `assay server` through the batch endpoint: C concurrent clients (HttpStore, binary
 * batches), each creating a run and logging N points in batches of B; reports points/s and
 * request latency p50/p99, then checks that every acknowledged point is stored exactly once.
 *
 *   node --import tsx bench/server-load.ts [--clients 32] [--points 200000] [--batch 5000] [--servers 1|2] [--rate POINTS_PER_S_PER_CLIENT]
 *
 * The servers are real `assay server` processes on 127.0.0.1 over PostgreSQL at
 * ASSAY_TEST_POSTGRES_URL (a fresh schema) when it is set, else over a fresh SQLite store.
 * Results: bench/results/server.md.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pgDriver from 'pg'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { hashSecret, newTokenId, newTokenSecret } from '../src/server/auth.js'
import { HttpStore } from '../src/store/http/http-store.js'
import { openStore } from '../src/store/open-store.js'
import type { NewRun, Store } from '../src/store/store.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
/** The built CLI (`npm run build` first): a server process starts in well under a second, even on a loaded machine. */
const CLI = path.join(REPO, 'bin/assay.js')
/** Only a hang takes this long; a loaded machine must not fail the start. */
const START_TIMEOUT_MS = 5 * 60_000

/**
 * CPU seconds (user + system) a process has used so far, from /proc/PID/stat (fields 14 and 15,
 * in clock ticks of 100 per second on Linux): read before and after a segment, the server's CPU
 * for it, which other jobs on the machine do not inflate the way they stretch wall time.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** CPU seconds (user + system) of these processes so far, summed (cpuSeconds of each). */
export function cpuSecondsOf(pids: readonly number[]): number {
  return pids.reduce((n, pid) => n + cpuSeconds(pid), 0)
}

/**
 * Per thread of a process, by thread id, from /proc/PID/task/TID/schedstat: the seconds it ran on a
 * CPU and the seconds it was ready to run but waited for one (the scheduler's run delay: on a
 * loaded two-core machine, the time an event loop is held up by other threads and processes).
 * Threads that ended are gone.
 */
export function cpuOfThreads(pid: number): Map<number, { ran: number; waited: number }> {
  const out = new Map<number, { ran: number; waited: number }>()
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [ran, waited] = readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ').map(Number)
      out.set(Number(task), { ran: ran / 1e9, waited: waited / 1e9 })
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out
}

/**
 * The machine's CPU so far, for a window's split: busy and idle seconds of all CPUs from /proc/stat,
 * and PostgreSQL's processes (every process named `postgres`) by their role from their title
 * ("postgres: walwriter", "postgres: autovacuum worker", a backend's "postgres: USER DB ADDR ..."),
 * each as {ran, waited} seconds from /proc/PID/schedstat. A process that ends inside a window
 * (an autovacuum worker) is missing from the later reading: its CPU is in `busy` only.
 */
export function machineCpu(): { busy: number; idle: number; postgres: Map<number, { role: string; ran: number; waited: number }> } {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n')
  const ticks = cpu.split(/\s+/).slice(1).map(Number)
  const idle = (ticks[3] + ticks[4]) / 100
  const busy = ticks.slice(0, 8).reduce((a, b) => a + b, 0) / 100 - idle
  const postgres = new Map<number, { role: string; ran: number; waited: number }>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()
      const role = !title.startsWith('postgres: ') ? 'postmaster' : /^postgres: (checkpointer|background writer|walwriter|autovacuum launcher|autovacuum worker|logical replication launcher|stats collector)/.exec(title)?.[1] ?? 'backend'
      const [ran, waited] = readFileSync(`/proc/${entry}/schedstat`, 'utf8').split(' ').map(Number)
      postgres.set(Number(entry), { role, ran: ran / 1e9, waited: waited / 1e9 })
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return { busy, idle, postgres }
}

export interface ServerProcess {
  url: string
  port: number
  proc: ChildProcess
  exited: Promise<void>
  stop(signal?: NodeJS.Signals): Promise<void>
}

/**
 * Start `assay server --store LOCATION --port PORT` (0: any) and wait until it listens.
 * ASSAY_BENCH_SERVER_NODE_ARGS (space-separated) are given to the server's node alone, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile its event loop, or `--perf-basic-prof` for perf.
 */
export async function startServerProcess(store: string, port = 0, extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
  const nodeArgs = (process.env.ASSAY_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')
  const proc = spawn(process.execPath, [...nodeArgs, CLI, '--store', store, 'server', '--port', String(port)], {
    cwd: REPO,
    env: { ...process.env, ...extraEnv },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${START_TIMEOUT_MS / 1000} s: ${stderr}`)), START_TIMEOUT_MS)
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      const m = /listening on (http:\/\/\S+)/.exec(stderr)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    proc.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited (${code}) before listening: ${stderr}`))
    })
  })
  return {
    url,
    port: Number(new URL(url).port),
    proc,
    exited,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
      await exited
    },
  }
}

export function newRunFor(experiment: string): NewRun {
  return {
    id: randomUUID().replaceAll('-', ''),
    experiment,
    name: `load-${randomBytes(3).toString('hex')}`,
    owner: 'bench',
    startTime: Date.now(),
    parentId: null,
    groupId: null,
    params: {},
    seed: 0,
    seedSource: 'user',
    tags: {},
    environment: {
      runtime: 'node', runtimeVersion: process.version, os: process.platform, osRelease: os.release(), arch: process.arch, cpuModel: os.cpus()[0]?.model ?? '?',
      cpuCount: os.cpus().length, memoryBytes: os.totalmem(), gpu: null, hostname: 'bench', argv: [], cwd: '/', lockfile: null, dependencies: {}, envVars: {},
    },
    code: { vcs: null, reason: 'benchmark' },
    datasets: [],
  }
}

export interface LoadResult {
  clients: number
  points: number
  requests: number
  seconds: number
  pointsPerSecond: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  runs: { runId: string; points: number }[]
}

/**
 * C clients, each its own HttpStore on urls[i % urls.length], each logging `batches` batches of
 * `batchSize` points to its own run. Stops early when `deadline` passes (bounded in time).
 */
export async function runLoad(options: {
  urls: string[]
  token: string
  clients: number
  batches: number
  batchSize: number
  spoolDir: string
  /** Points per second per client (open loop: batch b is sent at b × batchSize / rate); 0 or absent: as fast as acknowledged. */
  rate?: number
  deadlineMs?: number
  onBatch?: () => void
}): Promise<LoadResult> {
  const latencies: number[] = []
  const runs: { runId: string; points: number }[] = []
  const stores: HttpStore[] = []
  const deadline = Date.now() + (options.deadlineMs ?? 120_000)
  for (let c = 0; c < options.clients; c++) {
    const store = new HttpStore(options.urls[c % options.urls.length], { token: options.token, spoolDir: options.spoolDir })
    const run = newRunFor('load')
    await store.createRun(run)
    stores.push(store)
    runs.push({ runId: run.id, points: 0 })
  }
  const started = performance.now()
  await Promise.all(
    stores.map(async (store, c) => {
      const steps = new Float64Array(options.batchSize)
      const values = new Float64Array(options.batchSize)
      const timestamps = new Float64Array(options.batchSize).fill(Date.now())
      for (let b = 0; b < options.batches && Date.now() < deadline; b++) {
        for (let i = 0; i < options.batchSize; i++) {
          steps[i] = b * options.batchSize + i
          values[i] = Math.sin(steps[i])
        }
        if (options.rate) {
          const due = started + ((b * options.batchSize) / options.rate) * 1000 + (c / options.clients) * ((options.batchSize / options.rate) * 1000)
          const wait = due - performance.now()
          if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        }
        const t0 = performance.now()
        await store.logBatch(runs[c].runId, { metrics: [{ key: 'loss', steps, values, timestamps }] })
        latencies.push(performance.now() - t0)
        runs[c].points += options.batchSize
        options.onBatch?.()
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  for (const store of stores) await store.close()
  latencies.sort((a, b) => a - b)
  const points = runs.reduce((s, r) => s + r.points, 0)
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN
  return { clients: options.clients, points, requests: latencies.length, seconds, pointsPerSecond: points / seconds, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: latencies[latencies.length - 1] ?? NaN, runs }
}

/** Every run holds exactly its acknowledged points, steps 0..n-1 each once. */
export async function verifyStored(store: Store, runs: { runId: string; points: number }[]): Promise<string[]> {
  const problems: string[] = []
  for (const r of runs) {
    const h = await store.metricHistory(r.runId, 'loss')
    if (h.values.length !== r.points) problems.push(`run ${r.runId}: ${h.values.length} points stored, ${r.points} acknowledged`)
    const seen = new Set(h.steps)
    if (seen.size !== h.steps.length) problems.push(`run ${r.runId}: duplicate steps`)
  }
  return problems
}

export async function makeAdminToken(store: Store): Promise<string> {
  const secret = newTokenSecret()
  await store.createApiToken({ id: newTokenId(), name: 'bench', scope: 'write', experiments: null, createdAt: Date.now(), createdBy: 'bench', revokedAt: null, expiresAt: null }, hashSecret(secret))
  return secret
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pgDriver.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  } finally {
    await client.end()
  }
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}

async function cli(): Promise<void> {
  const clients = arg('clients', 32)
  const points = arg('points', 200_000)
  const batch = arg('batch', 5_000)
  const servers = arg('servers', 1)
  const rate = arg('rate', 0)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'assay-load-'))
  const pg = process.env.ASSAY_TEST_POSTGRES_URL
  const schema = `assay_load_${randomBytes(4).toString('hex')}`
  const location = pg ? `${pg}${pg.includes('?') ? '&' : '?'}schema=${schema}` : path.join(dir, 'store')
  const setup = await openStore(location)
  const token = await makeAdminToken(setup)
  const procs: ServerProcess[] = []
  const loadBefore = os.loadavg()
  try {
    for (let i = 0; i < servers; i++) procs.push(await startServerProcess(location))
    const result = await runLoad({ urls: procs.map((p) => p.url), token, clients, batches: Math.ceil(points / batch), batchSize: batch, rate, spoolDir: path.join(dir, 'spool') })
    const problems = await verifyStored(setup, result.runs)
    const cpu = os.cpus()[0]?.model ?? '?'
    console.log(`backend: ${pg ? 'postgresql' : 'sqlite'}; servers: ${servers}; clients: ${clients}; batch: ${batch} points; ${rate ? `paced at ${rate} points/s per client` : 'flat out'}; machine: ${os.cpus().length} CPUs, ${cpu}, node ${process.version}`)
    console.log(`points: ${result.points} in ${result.requests} requests over ${result.seconds.toFixed(2)} s`)
    console.log(`throughput: ${Math.round(result.pointsPerSecond).toLocaleString('en-US')} points/s; latency p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, max ${result.maxMs.toFixed(1)} ms`)
    // The machines are shared: a p99 means little without the load it was measured under.
    console.log(`load average (1/5/15 min) before: ${loadBefore.map((l) => l.toFixed(2)).join(' / ')}, after: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`)
    console.log(problems.length === 0 ? 'verified: every acknowledged point stored exactly once' : `PROBLEMS:\n${problems.join('\n')}`)
    const missed = result.pointsPerSecond < 50_000 || result.p99Ms >= 100
    console.log(`targets (≥ 50,000 points/s, p99 < 100 ms): ${missed ? 'MISSED' : 'met'}`)
    if (problems.length > 0 || missed) process.exitCode = 1
  } finally {
    for (const p of procs) await p.stop()
    await setup.close()
    if (pg) await dropSchema(pg, schema)
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await cli()
