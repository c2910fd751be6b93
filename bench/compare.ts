/**
 * Benchmark: compare two runs with 1,000,000 eval records each on the embedded store.
 * Usage: node --import tsx bench/compare.ts [n=1000000] [repetitions=5]
 *
 * Setup (not timed): a fresh embedded store in a temp dir, two runs logged through the SDK with n
 * records each (id, cluster, binary score `correct`, same ids in the same order).
 * Timed, per repetition: assay.compare(A, B, { metric: 'correct' }) — resolve both runs, load both eval
 * sets from SQLite, pair by id, McNemar, paired bootstrap with 2,000 resamples, cluster-robust SE,
 * effect size, top examples — plus rendering the text report. Phases are timed separately too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { renderComparison } from '../src/cli/compare-command.js'
import { alignExamples } from '../src/compare/align-examples.js'
import { pairedExampleComparison } from '../src/compare/paired-comparison.js'
import type { EvalRecord } from '../src/record/types.js'
import { Assay } from '../src/sdk/assay.js'

const n = Number(process.argv[2] ?? 1_000_000)
const repetitions = Number(process.argv[3] ?? 5)
const dir = mkdtempSync(path.join(os.tmpdir(), 'assay-bench-compare-'))
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

async function main(): Promise<void> {
  const assay = await Assay.open({ store: path.join(dir, 'store') })
  const data = path.join(dir, 'val.csv')
  writeFileSync(data, 'id\nbench\n')
  const ids: string[] = []
  let setup = performance.now()
  for (const [name, rate] of [['candidate', 0.802], ['baseline', 0.8]] as const) {
    const run = await assay.startRun({ experiment: 'bench', name, params: { name }, seed: 1, datasets: [{ name: 'val', path: data, role: 'validation' }] })
    const chunk = 100_000
    for (let start = 0; start < n; start += chunk) {
      const records: EvalRecord[] = []
      for (let i = start; i < Math.min(n, start + chunk); i++) {
        const h = ((Math.imul(i, 2654435761) >>> 0) ^ (name === 'candidate' ? 0x5bd1e995 : 0)) >>> 0
        records.push({ id: `q-${String(i).padStart(7, '0')}`, cluster: `topic-${i % 500}`, scores: { correct: h / 4294967296 < rate ? 1 : 0 } })
      }
      await run.logEval({ dataset: 'val', records })
    }
    await run.end('finished')
    ids.push(run.id)
  }
  setup = performance.now() - setup
  const [a, b] = ids as [string, string]
  const totals: number[] = []
  const phases: Record<string, number[]> = { load: [], align: [], analyse: [], render: [] }
  let last = ''
  for (let r = 0; r < repetitions; r++) {
    const t0 = performance.now()
    const c = await assay.compare(a, b, { metric: 'correct' })
    last = renderComparison(c)
    totals.push(performance.now() - t0)
    // The same work split into phases (a second pass, for the breakdown only).
    const p0 = performance.now()
    const ca = await assay.store.evalColumns(a, 'val')
    const cb = await assay.store.evalColumns(b, 'val')
    const p1 = performance.now()
    const aligned = alignExamples(ca, cb, 'correct')
    const p2 = performance.now()
    const result = pairedExampleComparison(aligned, { confidenceLevel: 0.95, resamples: 2000, seed: 0, higherIsBetter: true, top: 10 })
    const p3 = performance.now()
    renderComparison(c)
    const p4 = performance.now()
    phases.load!.push(p1 - p0)
    phases.align!.push(p2 - p1)
    phases.analyse!.push(p3 - p2)
    phases.render!.push(p4 - p3)
    if (result.n !== n) throw new Error(`expected ${n} pairs, got ${result.n}`)
  }
  await assay.close()
  console.log(last.split('\n').slice(0, 4).join('\n'))
  console.log(`setup (not timed): ${(setup / 1000).toFixed(1)} s to log 2 × ${n} eval records`)
  console.log(`total per comparison (median of ${repetitions}): ${(median(totals) / 1000).toFixed(3)} s; all: ${totals.map((t) => (t / 1000).toFixed(3)).join(', ')}`)
  for (const [k, v] of Object.entries(phases)) console.log(`  ${k}: ${(median(v) / 1000).toFixed(3)} s`)
  console.log(`target ≤ 3 s: ${median(totals) <= 3000 ? 'met' : 'NOT met'}`)
}

main()
  .finally(() => rmSync(dir, { recursive: true, force: true }))
  .catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
