/**
 * Benchmark: a leaderboard of 50 candidates (plus the baseline) on 10,000 examples, loaded from the
 * embedded store. Target: at most 2 s. Run: node --import tsx bench/leaderboard.ts [--reps N]
 *
 * Builds a store in a temp dir with 51 runs, each with 10,000 eval records carrying a binary score
 * `correct` and a continuous score `logloss`, then times Assay.open + leaderboard + close for each
 * score (median of N repetitions, default 7). Prints a Markdown table.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Assay } from '../src/sdk/assay.js'
import { buildLeaderboardStore, CANDIDATES, EXAMPLES, LEADERBOARD_CONFIGS as configs } from './leaderboard-store.js'

const reps = Number(process.argv[process.argv.indexOf('--reps') + 1] || 7) || 7

const dir = mkdtempSync(path.join(os.tmpdir(), 'assay-bench-leaderboard-'))
try {
  const buildStart = performance.now()
  const storeDir = await buildLeaderboardStore(Assay, dir)
  const buildSeconds = (performance.now() - buildStart) / 1000

  const timings: Record<string, number[]> = Object.fromEntries(configs.map((c) => [c.label, []]))
  let last: Awaited<ReturnType<Assay['leaderboard']>> | undefined
  for (let r = 0; r < reps; r++) {
    for (const c of configs) {
      const t0 = performance.now()
      const a = await Assay.open({ store: storeDir })
      const board = await a.leaderboard({ datasets: ['test'], metric: c.metric, interval: c.interval, higherIsBetter: c.metric === 'correct', holdoutBudget: 1_000_000 })
      await a.close()
      timings[c.label].push(performance.now() - t0)
      if (c.label === 'correct') last = board
    }
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]
  const cpu = os.cpus()[0]?.model ?? 'unknown'
  console.log(`machine: nproc ${os.availableParallelism()}, ${cpu}, node ${process.version}`)
  console.log(`store built in ${buildSeconds.toFixed(1)} s (${CANDIDATES + 1} runs × ${EXAMPLES} eval records)\n`)
  console.log('| metric | test | repetitions | median ms | min ms | max ms | target ≤ 2000 ms |')
  console.log('| --- | --- | --- | --- | --- | --- | --- |')
  for (const c of configs) {
    const xs = timings[c.label]
    const m = median(xs)
    console.log(`| ${c.label} | ${c.test} | ${xs.length} | ${m.toFixed(0)} | ${Math.min(...xs).toFixed(0)} | ${Math.max(...xs).toFixed(0)} | ${m <= 2000 ? 'met' : 'NOT met'} |`)
  }
  const board = last!.boards[0]
  const found = board.entries.filter((e) => e.verdict === 'better').map((e) => e.name)
  console.log(`\nbetter than the baseline after Holm (correct): ${found.join(', ') || 'none'} (truly better: model-1 … model-5)`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
