/**
 * Ingest on PostgreSQL: `assay server` against the reference server (bench/reference-server.ts,
 * the same rows in one INSERT per request, nothing else), measured in the same run with
 * interleaved repetitions, 32 clients each logging to its own run:
 *   (a) flat out: each client sends its next batch when the last is acknowledged;
 *   (b) paced: 64,000 points/s in all (open loop; latency counted from when a batch was due, so a
 *       stalled server is not hidden by clients that wait for it);
 *   (c) flat out over two server processes (clients split between them) against one.
 * Afterwards every assay run must hold exactly its acknowledged points, each step once.
 *
 *   npm run build && node --import tsx bench/ingest-scaling.ts [--reps 3] [--seconds 6] [--clients 32] [--batch 1000] [--rate 64000] [--log-level info] [--profile DIR] [--server-cpu Q] [--flat-only | --paced-only] [--assay-bin PATH]
 *
 * ASSAY_TEST_POSTGRES_URL (default the local test database); fresh schemas, dropped afterwards.
 * --profile DIR: every server writes a CPU profile there (node --cpu-prof; the file names hold the
 *   pids, which the run prints); bench/cpu-profile-summary.ts --after S summarises the steady state.
 * --flat-only: only scenario (a), for quick comparisons of CPU per point.
 * --paced-only: only scenario (b), so a longer --seconds gives each p99 more requests (at 6 s a
 *   repetition's p99 is about its 4th-worst of 380 batches).
 * --assay-bin PATH: the `assay` to start (default this checkout's bin/assay.js): another build
 *   (a copy of bin/, dist/ and package.json of an earlier commit) for a before/after comparison;
 *   the schema is created by this checkout, so that build must know its latest migration.
 * Every segment also reads the CPU time (user + system) of the server processes it used, and of
 * the PostgreSQL backends serving them (by application_name), from /proc: points per server CPU
 * second and per database CPU second, assay against the reference, are ratios that other jobs
 * on a loaded machine distort far less than throughput (PostgreSQL must run on this machine).
 * --server-cpu Q: every server process (assay and reference alike) gets a CPU quota of Q CPUs of
 *   its own (bench/cpu-quota.ts, cgroups, root): the servers become the bottleneck while
 *   PostgreSQL keeps headroom, so "two servers / one" shows whether a second server adds capacity.
 * Results: bench/results/ingest-scaling.md.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { encodeBatchFrame } from '../src/store/http/wire.js'
import { PostgresStore } from '../src/store/postgres/postgres-store.js'
import { limitCpu } from './cpu-quota.js'
import { createReferenceTable, REFERENCE_TABLE } from './reference-server.js'
import { cpuOfThreads, cpuSeconds, dropSchema, makeAdminToken, newRunFor } from './server-load.js'
import pg from 'pg'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const url = process.env.ASSAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : (process.argv[i + 1] as string)
}

interface Proc {
  url: string
  proc: ChildProcess
  stop(): Promise<void>
}

/** Start a server process and wait for its "listening on" line; the rest of its stderr is drained, not kept. */
async function start(command: string[], env: Record<string, string> = {}): Promise<Proc> {
  const proc = spawn(process.execPath, command, { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()))
  let seen = ''
  const address = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString()
      const m = /listening on (http:\/\/\S+)/.exec(seen)
      if (m) {
        proc.stderr?.off('data', onData)
        proc.stderr?.resume()
        resolve(m[1] as string)
      }
    }
    proc.stderr?.on('data', onData)
    proc.on('exit', (code) => reject(new Error(`${command.join(' ')} exited (${code}): ${seen}`)))
  })
  return {
    url: address,
    proc,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
      await exited
    },
  }
}

/**
 * CPU seconds used so far by each PostgreSQL backend whose application_name is `name` (the
 * database on this machine: /proc of the backend's pid). A backend that closes during a segment
 * takes its CPU with it; the pools keep their connections while clients are sending.
 */
async function backendCpu(monitor: pg.Client, name: string): Promise<Map<number, number>> {
  const rows = (await monitor.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [name])).rows
  const out = new Map<number, number>()
  for (const { pid } of rows) {
    try {
      out.set(pid, cpuSeconds(pid))
    } catch {
      // Ended since the query.
    }
  }
  return out
}

interface Segment {
  points: number
  seconds: number
  latencies: number[]
  runs: { runId: string; points: number }[]
}

/**
 * `clients` clients over `urls` (client c on urls[c % n]) for `seconds`: flat out when `rate` is
 * 0, else `rate` points/s in all, each client's batches due at fixed times.
 */
async function load(kind: 'assay' | 'reference', urls: string[], token: string, clients: number, batch: number, seconds: number, rate: number): Promise<Segment> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }
  const runs: { runId: string; points: number }[] = []
  for (let c = 0; c < clients; c++) {
    const run = newRunFor('ingest')
    if (kind === 'assay') {
      const response = await fetch(`${urls[c % urls.length]}/api/v1/runs`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(run) })
      if (response.status !== 201) throw new Error(`createRun: ${response.status} ${await response.text()}`)
    }
    runs.push({ runId: run.id, points: 0 })
  }
  const latencies: number[] = []
  const started = performance.now()
  const end = started + seconds * 1000
  const interval = rate > 0 ? ((clients * batch) / rate) * 1000 : 0
  await Promise.all(
    runs.map(async (run, c) => {
      const target = `${urls[c % urls.length]}/api/v1/runs/${run.runId}/batch`
      const steps = new Float64Array(batch)
      const values = new Float64Array(batch)
      const timestamps = new Float64Array(batch).fill(Date.now())
      for (let b = 0; ; b++) {
        const due = rate > 0 ? started + (c / clients) * interval + b * interval : performance.now()
        if (due >= end) break
        const wait = due - performance.now()
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        for (let i = 0; i < batch; i++) {
          steps[i] = b * batch + i
          values[i] = Math.sin(steps[i])
        }
        const body = encodeBatchFrame({ batchId: randomUUID(), metrics: [{ key: 'loss', steps, values, timestamps }] })
        const response = await fetch(target, { method: 'POST', headers, body })
        if (response.status !== 200) throw new Error(`${kind} batch: ${response.status} ${await response.text()}`)
        await response.arrayBuffer()
        latencies.push(performance.now() - due)
        run.points += batch
      }
    }),
  )
  return { points: runs.reduce((s, r) => s + r.points, 0), seconds: (performance.now() - started) / 1000, latencies, runs }
}

function quantile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

async function main(): Promise<void> {
  const reps = Number(arg('reps', '3'))
  const seconds = Number(arg('seconds', '6'))
  const clients = Number(arg('clients', '32'))
  const batch = Number(arg('batch', '1000'))
  const rate = Number(arg('rate', '64000'))
  const logLevel = arg('log-level', 'info')
  const profile = arg('profile', '')
  const profiling = profile === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`]
  const serverCpu = Number(arg('server-cpu', '0'))
  const flatOnly = process.argv.includes('--flat-only')
  const pacedOnly = process.argv.includes('--paced-only')
  const assayBin = path.resolve(arg('assay-bin', path.join(REPO, 'bin/assay.js')))
  const releaseQuotas: (() => void)[] = []
  const assaySchema = `assay_ingest_${randomBytes(4).toString('hex')}`
  const refSchema = `assay_ingest_ref_${randomBytes(4).toString('hex')}`
  const location = `${url}${url.includes('?') ? '&' : '?'}schema=${assaySchema}`
  const setup = await PostgresStore.open(location)
  const token = await makeAdminToken(setup)
  await createReferenceTable(url, refSchema)
  const loadBefore = os.loadavg()
  // Reads which PostgreSQL backends serve each kind of server (their application_name is the schema).
  const monitor = new pg.Client({ connectionString: url })
  await monitor.connect()
  const procs: Proc[] = []
  const rows: { rep: number; scenario: string; kind: string; servers: number; pointsPerSecond: number; p50: number; p99: number; pointsPerCpuSecond: number; pointsPerDbCpuSecond: number }[] = []
  const acknowledged: { runId: string; points: number }[] = []
  let referencePoints = 0
  try {
    const serverLocation = `${location}&application_name=${assaySchema}`
    const assay = [0, 1].map(() => start([...profiling, assayBin, '--store', serverLocation, 'server', '--port', '0', '--log-level', logLevel]))
    const reference = [0, 1].map(() => start([...profiling, '--import', 'tsx', path.join(REPO, 'bench/reference-server.ts'), `${url}${url.includes('?') ? '&' : '?'}application_name=${refSchema}`, refSchema, token]))
    procs.push(...(await Promise.all([...assay, ...reference])))
    if (profile !== '') console.log(`CPU profiles in ${profile}: assay servers pids ${procs[0]?.proc.pid}, ${procs[1]?.proc.pid}; reference servers ${procs[2]?.proc.pid}, ${procs[3]?.proc.pid}`)
    if (serverCpu > 0) procs.forEach((p, i) => releaseQuotas.push(limitCpu(p.proc.pid as number, serverCpu, `assay-bench-server-${i}`)))
    const urls = { assay: [procs[0]?.url, procs[1]?.url] as string[], reference: [procs[2]?.url, procs[3]?.url] as string[] }
    const scenarios = [
      { name: 'flat out', servers: 1, rate: 0 },
      { name: `paced ${rate.toLocaleString('en-US')} points/s`, servers: 1, rate },
      { name: 'flat out', servers: 2, rate: 0 },
    ].filter((_, i) => (flatOnly ? i === 0 : pacedOnly ? i === 1 : true))
    // A short warm-up of every server (JIT, prepared statements, pool connections).
    for (const kind of ['assay', 'reference'] as const) {
      const warm = await load(kind, urls[kind], token, clients, batch, 1, 0)
      if (kind === 'assay') acknowledged.push(...warm.runs)
      else referencePoints += warm.points
    }
    for (let rep = 1; rep <= reps; rep++) {
      for (const scenario of scenarios) {
        const order = (rep + scenarios.indexOf(scenario)) % 2 === 0 ? (['assay', 'reference'] as const) : (['reference', 'assay'] as const)
        for (const kind of order) {
          const serving = (kind === 'assay' ? procs.slice(0, 2) : procs.slice(2, 4)).slice(0, scenario.servers).map((p) => p.proc.pid as number)
          const cpuBefore = serving.reduce((sum, pid) => sum + cpuSeconds(pid), 0)
          const backendsBefore = await backendCpu(monitor, kind === 'assay' ? assaySchema : refSchema)
          const segment = await load(kind, urls[kind].slice(0, scenario.servers), token, clients, batch, seconds, scenario.rate)
          const cpu = serving.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - cpuBefore
          const backendsAfter = await backendCpu(monitor, kind === 'assay' ? assaySchema : refSchema)
          let dbCpu = 0
          for (const [pid, after] of backendsAfter) dbCpu += after - (backendsBefore.get(pid) ?? 0)
          if (kind === 'assay') acknowledged.push(...segment.runs)
          else referencePoints += segment.points
          const sorted = segment.latencies.sort((a, b) => a - b)
          const row = { rep, scenario: scenario.name, kind, servers: scenario.servers, pointsPerSecond: segment.points / segment.seconds, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), pointsPerCpuSecond: segment.points / cpu, pointsPerDbCpuSecond: segment.points / dbCpu }
          rows.push(row)
          console.log(`rep ${rep} ${scenario.name}, ${scenario.servers} server(s), ${kind}: ${Math.round(row.pointsPerSecond).toLocaleString('en-US')} points/s, p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms, server CPU ${cpu.toFixed(2)} s, ${Math.round(row.pointsPerCpuSecond).toLocaleString('en-US')} points per server CPU second, database CPU ${dbCpu.toFixed(2)} s in ${backendsAfter.size} backends, ${Math.round(row.pointsPerDbCpuSecond).toLocaleString('en-US')} points per database CPU second (load ${os.loadavg()[0]?.toFixed(2)})`)
        }
      }
    }
    // Where the servers' CPU went by thread, start-up included: the main thread (JavaScript and
    // system calls) and V8's helpers (concurrent GC marking and sweeping), which a CPU profile of
    // the main thread does not show.
    for (const [i, name] of ['assay server 1', 'assay server 2', 'reference server 1', 'reference server 2'].entries()) {
      const pid = procs[i]?.proc.pid as number
      const byTid = [...cpuOfThreads(pid)]
      const threads = [['main thread', byTid.filter(([tid]) => tid === pid)], ['other threads', byTid.filter(([tid]) => tid !== pid)]] as const
      const seconds = threads.map(([t, ts]) => [t, ts.reduce((n, [, c]) => n + c.ran, 0)] as const).sort((a, b) => b[1] - a[1]).filter(([, s]) => s > 0)
      console.log(`${name} (pid ${procs[i]?.proc.pid}), CPU seconds: ${seconds.map(([t, s]) => `${t} ${s.toFixed(2)}`).join(', ')}`)
    }
  } finally {
    for (const p of procs) await p.stop()
    for (const release of releaseQuotas) release()
  }
  // Nothing acknowledged lost or doubled.
  const problems: string[] = []
  for (const r of acknowledged) {
    const h = await setup.metricHistory(r.runId, 'loss')
    if (h.values.length !== r.points) problems.push(`run ${r.runId}: ${h.values.length} points stored, ${r.points} acknowledged`)
    if (new Set(h.steps).size !== h.steps.length) problems.push(`run ${r.runId}: a step stored twice`)
  }
  await monitor.end()
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const stored = Number((await client.query(`SELECT COALESCE(SUM(count), 0) AS n FROM "${refSchema}".${REFERENCE_TABLE}`)).rows[0].n)
  await client.end()
  if (stored !== referencePoints) problems.push(`reference: ${stored} points stored, ${referencePoints} acknowledged`)
  await setup.close()
  await dropSchema(url, assaySchema)
  await dropSchema(url, refSchema)

  console.log(`\nmachine: ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? '?'}, node ${process.version}; ${clients} clients, batches of ${batch} points, ${seconds} s per segment, ${reps} interleaved repetitions; assay ${assayBin} --log-level ${logLevel}${serverCpu > 0 ? `; every server process capped at ${serverCpu} CPU (cgroup quota)` : ''}`)
  console.log(`load average (1/5/15 min) before: ${loadBefore.map((l) => l.toFixed(2)).join(' / ')}, after: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`)
  console.log('\n| scenario | servers | assay points/s | reference points/s | assay / reference | assay p50 | reference p50 | assay p99 | reference p99 | p99 assay / reference | assay points per server CPU s | reference | assay / reference | assay points per database CPU s | reference | assay / reference |')
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  type Field = 'pointsPerSecond' | 'p50' | 'p99' | 'pointsPerCpuSecond' | 'pointsPerDbCpuSecond'
  const medianOf = (scenario: string, servers: number, kind: string, field: Field): number =>
    median(rows.filter((r) => r.scenario === scenario && r.servers === servers && r.kind === kind).map((r) => r[field]))
  const seen = new Set<string>()
  for (const r of rows) {
    const key = `${r.scenario}|${r.servers}`
    if (seen.has(key)) continue
    seen.add(key)
    const a = (f: Field) => medianOf(r.scenario, r.servers, 'assay', f)
    const b = (f: Field) => medianOf(r.scenario, r.servers, 'reference', f)
    console.log(
      `| ${r.scenario} | ${r.servers} | ${Math.round(a('pointsPerSecond')).toLocaleString('en-US')} | ${Math.round(b('pointsPerSecond')).toLocaleString('en-US')} | ${(a('pointsPerSecond') / b('pointsPerSecond')).toFixed(2)} | ${a('p50').toFixed(1)} ms | ${b('p50').toFixed(1)} ms | ${a('p99').toFixed(1)} ms | ${b('p99').toFixed(1)} ms | ${(a('p99') / b('p99')).toFixed(2)} | ${Math.round(a('pointsPerCpuSecond')).toLocaleString('en-US')} | ${Math.round(b('pointsPerCpuSecond')).toLocaleString('en-US')} | ${(a('pointsPerCpuSecond') / b('pointsPerCpuSecond')).toFixed(2)} | ${Math.round(a('pointsPerDbCpuSecond')).toLocaleString('en-US')} | ${Math.round(b('pointsPerDbCpuSecond')).toLocaleString('en-US')} | ${(a('pointsPerDbCpuSecond') / b('pointsPerDbCpuSecond')).toFixed(2)} |`,
    )
  }
  if (!flatOnly && !pacedOnly) {
    const twoOverOne = (kind: string) => medianOf('flat out', 2, kind, 'pointsPerSecond') / medianOf('flat out', 1, kind, 'pointsPerSecond')
    console.log(`\ntwo servers / one, flat out: assay ${twoOverOne('assay').toFixed(2)}, reference ${twoOverOne('reference').toFixed(2)}`)
  }
  console.log('(medians over the repetitions; each ratio is of medians)')
  console.log(problems.length === 0 ? `verified: every acknowledged point stored exactly once (${acknowledged.length} assay runs; reference ${stored.toLocaleString('en-US')} points)` : `PROBLEMS:\n${problems.join('\n')}`)
  if (problems.length > 0) process.exitCode = 1
}

await main()
