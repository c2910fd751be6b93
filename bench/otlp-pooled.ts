/**
 * The paced p99 of bench/otlp-ingest.ts over several runs, pooled. One run's 469 paced requests
 * give its p99 as about its 5th-worst request, which moves by 2× between runs on this machine,
 * and its distribution-free 95% interval reaches the run's worst request. Pooling every run's
 * requests of a phase gives the latency that 99 % of all of them met, with two 95% intervals:
 * the order-statistic one (src/stats quantileInterval), which takes the requests as independent,
 * and a bootstrap over runs (src/stats bootstrapInterval of whole runs, percentile), which does
 * not: slow requests come together (a stall holds up every request under way) and runs differ.
 * Read the second. Runs pool by phase and database connection (TCP or Unix socket).
 *
 *   node --import tsx bench/otlp-pooled.ts FILE... [--bound 100]
 *
 * FILE: written by `bench/otlp-ingest.ts --latencies FILE` (one JSON line per phase and run).
 * p99 here is the bench's own: the request at rank floor(0.99 n) of n, ascending.
 * Results: bench/results/otlp.md ("The event loop waits for a CPU", "Several runs pooled").
 */
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { isAssayError } from '../src/errors.js'
import { bootstrapInterval } from '../src/stats/bootstrap.js'
import { quantileInterval } from '../src/stats/quantile-interval.js'

export interface LatencyLine {
  /** When the run started (ISO time). */
  run: string
  /** How the run reached PostgreSQL: runs over different connections are not pooled together. */
  connection: 'tcp' | 'unix socket'
  phase: string
  /** Milliseconds from each request's due time (paced) or send time (flat out) to its answer. */
  latencies: number[]
}

const RESAMPLES = 2000

function p99(sorted: ArrayLike<number>): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))]
}

function parseArgs(args: readonly string[]): { files: string[]; bound: number } {
  const files: string[] = []
  let bound = 100
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--bound') bound = Number(args[++i])
    else if (args[i].startsWith('--')) throw new Error(`unknown option ${args[i]} (usage: otlp-pooled.ts FILE... [--bound MS])`)
    else files.push(args[i])
  }
  if (!(Number.isFinite(bound) && bound > 0)) throw new Error('--bound takes a positive number of milliseconds')
  if (files.length === 0) throw new Error('name at least one file written by bench/otlp-ingest.ts --latencies FILE')
  return { files, bound }
}

function cli(): void {
  const { files, bound } = parseArgs(process.argv.slice(2))
  const groups = new Map<string, LatencyLine[]>()
  for (const file of files) {
    for (const text of readFileSync(file, 'utf8').split('\n')) {
      if (text.trim() === '') continue
      const line = JSON.parse(text) as LatencyLine
      const key = `${line.phase}, ${line.connection}`
      groups.set(key, [...(groups.get(key) ?? []), line])
    }
  }
  console.log(`| phase, connection | runs | requests | per-run p99 ms (min–max) | runs with p99 < ${bound} ms | pooled p99 ms | 95% interval, requests independent | 95% interval, bootstrap over runs | pooled requests over ${bound} ms |`)
  console.log('|---|---:|---:|---|---:|---:|---|---|---:|')
  for (const [key, lines] of groups) {
    const runs = lines.map((l) => Float64Array.from(l.latencies).sort())
    const perRun = runs.map(p99)
    const pooled = Float64Array.from(lines.flatMap((l) => l.latencies)).sort()
    const over = pooled.filter((l) => l > bound).length
    let independent: string
    try {
      const q = quantileInterval(pooled, 0.99, { sorted: true })
      independent = `[${q.ci[0].toFixed(1)}, ${q.ci[1].toFixed(1)}]`
    } catch (error) {
      if (!isAssayError(error, 'ASSAY_STATS_TOO_FEW_OBSERVATIONS')) throw error
      independent = 'too few requests'
    }
    // Whole runs resampled: the statistic pools the latencies of the drawn runs (indices into `runs`).
    const pooledP99 = (drawn: Float64Array): number => p99(Float64Array.from(Array.from(drawn).flatMap((i) => Array.from(runs[i]))).sort())
    const overRuns = runs.length < 2 ? 'one run' : (() => {
      const b = bootstrapInterval(Float64Array.from(runs.keys()), pooledP99, { resamples: RESAMPLES, seed: 1 })
      return `[${b.ci[0].toFixed(1)}, ${b.ci[1].toFixed(1)}]`
    })()
    console.log(`| ${key} | ${lines.length} | ${pooled.length} | ${Math.min(...perRun).toFixed(1)}–${Math.max(...perRun).toFixed(1)} | ${perRun.filter((p) => p < bound).length} of ${lines.length} | ${p99(pooled).toFixed(1)} | ${independent} | ${overRuns} | ${over} (${((100 * over) / pooled.length).toFixed(2)} %) |`)
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) cli()
