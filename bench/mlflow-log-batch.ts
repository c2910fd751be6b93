/**
 * MLflow's log-batch against assay's own JSON batch route on the same data, in one run: C
 * clients, each with its own run, send R rounds of 1,000 metric points (10 keys × 100 steps) as
 * `POST /api/2.0/mlflow/runs/log-batch` and as `POST /api/v1/runs/:id/batch` (JSON), the two
 * routes alternating round by round so drift in the machine's load falls on both. Reports the
 * wall time of each route's rounds and their ratio (target: MLflow within 1.5× of assay's), then
 * checks that every point is stored.
 *
 *   node --import tsx bench/mlflow-log-batch.ts [--clients 32] [--rounds 20]
 *
 * One real `assay server` process on 127.0.0.1 (auth on, a write token) over a fresh SQLite
 * store, or PostgreSQL at ASSAY_TEST_POSTGRES_URL (a fresh schema). `npm run build` first.
 * Results: bench/results/mlflow.md.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openStore } from '../src/store/open-store.js'
import { dropSchema, makeAdminToken, newRunFor, startServerProcess } from './server-load.js'

const KEYS = 10
const STEPS = 100

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}

/** One round's 1,000 points of one client, in both bodies. */
function bodies(runId: string, round: number, route: 'mlflow' | 'assay'): string {
  const base = Date.now()
  if (route === 'mlflow') {
    const metrics = []
    for (let k = 0; k < KEYS; k++) for (let s = 0; s < STEPS; s++) metrics.push({ key: `m${k}`, value: Math.sin(s + k), timestamp: base + s, step: round * STEPS + s })
    return JSON.stringify({ run_id: runId, metrics })
  }
  const metrics = []
  for (let k = 0; k < KEYS; k++) {
    const steps: number[] = []
    const values: number[] = []
    const timestamps: number[] = []
    for (let s = 0; s < STEPS; s++) {
      steps.push(round * STEPS + s)
      values.push(Math.sin(s + k))
      timestamps.push(base + s)
    }
    metrics.push({ key: `m${k}`, steps, values, timestamps })
  }
  return JSON.stringify({ metrics })
}

async function main(): Promise<void> {
  const clients = arg('clients', 32)
  const rounds = arg('rounds', 20)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'assay-mlflow-bench-'))
  const pg = process.env.ASSAY_TEST_POSTGRES_URL
  const schema = `assay_mlflow_${randomBytes(4).toString('hex')}`
  const location = pg ? `${pg}${pg.includes('?') ? '&' : '?'}schema=${schema}` : path.join(dir, 'store')
  const setup = await openStore(location)
  const token = await makeAdminToken(setup)
  const loadBefore = os.loadavg()
  const server = await startServerProcess(location)
  try {
    const runs = { mlflow: [] as string[], assay: [] as string[] }
    for (let c = 0; c < clients; c++) {
      for (const route of ['mlflow', 'assay'] as const) {
        const run = newRunFor(`bench-${route}`)
        await setup.createRun(run)
        runs[route].push(run.id)
      }
    }
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    const seconds = { mlflow: 0, assay: 0 }
    for (let round = 0; round < rounds; round++) {
      // Alternate which route goes first, so neither always meets a warmer or cooler server.
      const order = round % 2 === 0 ? (['mlflow', 'assay'] as const) : (['assay', 'mlflow'] as const)
      for (const route of order) {
        const payloads = runs[route].map((id) => bodies(id, round, route))
        const started = process.hrtime.bigint()
        await Promise.all(
          runs[route].map(async (id, c) => {
            const url = route === 'mlflow' ? `${server.url}/api/2.0/mlflow/runs/log-batch` : `${server.url}/api/v1/runs/${id}/batch`
            const res = await fetch(url, { method: 'POST', headers, body: payloads[c] })
            if (res.status !== 200) throw new Error(`${route} round ${round}: ${res.status} ${await res.text()}`)
            await res.arrayBuffer()
          }),
        )
        seconds[route] += Number(process.hrtime.bigint() - started) / 1e9
      }
    }
    const problems: string[] = []
    for (const route of ['mlflow', 'assay'] as const) {
      for (const id of runs[route]) {
        const n = (await setup.metricHistory(id, 'm0')).values.length
        if (n !== rounds * STEPS) problems.push(`${route} run ${id}: ${n} points of m0, expected ${rounds * STEPS}`)
      }
    }
    const points = clients * rounds * KEYS * STEPS
    const ratio = seconds.mlflow / seconds.assay
    console.log(`backend: ${pg ? 'postgresql' : 'sqlite'}; clients: ${clients}; rounds: ${rounds}; ${KEYS * STEPS} points per request; machine: ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? '?'}, node ${process.version}`)
    console.log(`MLflow log-batch: ${points.toLocaleString('en-US')} points in ${seconds.mlflow.toFixed(2)} s (${Math.round(points / seconds.mlflow).toLocaleString('en-US')} points/s)`)
    console.log(`assay JSON batch: ${points.toLocaleString('en-US')} points in ${seconds.assay.toFixed(2)} s (${Math.round(points / seconds.assay).toLocaleString('en-US')} points/s)`)
    console.log(`ratio MLflow / assay: ${ratio.toFixed(2)} (target ≤ 1.5: ${ratio <= 1.5 ? 'met' : 'MISSED'})`)
    console.log(`load average (1/5/15 min) before: ${loadBefore.map((l) => l.toFixed(2)).join(' / ')}, after: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`)
    console.log(problems.length === 0 ? 'verified: every point stored' : `PROBLEMS:\n${problems.join('\n')}`)
    if (problems.length > 0 || ratio > 1.5) process.exitCode = 1
  } finally {
    await server.stop()
    await setup.close()
    if (pg) await dropSchema(pg, schema)
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
