/**
 * The leaderboard benchmark (bench/leaderboard.ts) in several checkouts side by side, in one process:
 * each tree builds the same store with its own SDK, then every repetition times each leaderboard
 * (`correct`, `logloss`, `correct` with --bootstrap) once in every tree, rotating which tree goes
 * first, so all trees see the same machine load.
 *
 *   node --import tsx bench/leaderboard-ab.ts [--reps N] [--no-bootstrap] LABEL=DIR [LABEL=DIR ...]
 *
 * Each row gives every tree's median (and min) over N repetitions (default 7) and the ratio of
 * medians for every pair of trees (later / earlier on the command line: below 1 is faster). Each DIR needs its node_modules; its
 * src/sdk/assay.ts is imported directly (tsx), so no build is needed.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import type { Assay as AssaySdk } from '../src/sdk/assay.js'
import { buildLeaderboardStore, CANDIDATES, EXAMPLES, LEADERBOARD_CONFIGS } from './leaderboard-store.js'

const args = process.argv.slice(2)
const repsAt = args.indexOf('--reps')
const reps = repsAt >= 0 ? Number(args[repsAt + 1]) : 7
// --no-bootstrap: only the two default (analytic) leaderboards, for more repetitions of them.
const configs = LEADERBOARD_CONFIGS.filter((c) => !args.includes('--no-bootstrap') || c.interval !== 'bootstrap')
const trees = args.filter((a, i) => a.includes('=') && i !== repsAt + 1).map((a) => {
  const [label, dir] = a.split('=')
  return { label, dir: path.resolve(dir) }
})
if (trees.length < 2 || !(reps > 0)) throw new Error('usage: leaderboard-ab.ts [--reps N] LABEL=DIR LABEL=DIR ...')

const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' / ')
const work = mkdtempSync(path.join(os.tmpdir(), 'assay-bench-leaderboard-ab-'))
try {
  const loadAtStart = load()
  const sides: { label: string; Assay: typeof AssaySdk; store: string }[] = []
  for (const [k, t] of trees.entries()) {
    const { Assay } = (await import(path.join(t.dir, 'src/sdk/assay.ts'))) as { Assay: typeof AssaySdk }
    const dir = path.join(work, String(k))
    mkdirSync(dir)
    sides.push({ label: t.label, Assay, store: await buildLeaderboardStore(Assay, dir) })
  }
  const times = new Map<string, number[]>()
  const key = (side: string, config: string): string => `${side}\u0000${config}`
  const verdicts = new Map<string, string>()
  for (let r = 0; r < reps; r++) {
    for (const c of configs) {
      // Rotate the order of the trees with each repetition.
      const order = sides.map((_, k) => sides[(k + r) % sides.length])
      for (const side of order) {
        const t0 = performance.now()
        const a = await side.Assay.open({ store: side.store })
        const board = await a.leaderboard({ datasets: ['test'], metric: c.metric, interval: c.interval, higherIsBetter: c.metric === 'correct', holdoutBudget: 1_000_000 })
        await a.close()
        const ms = performance.now() - t0
        times.set(key(side.label, c.label), [...(times.get(key(side.label, c.label)) ?? []), ms])
        verdicts.set(key(side.label, c.label), board.boards[0].entries.filter((e) => e.verdict === 'better').map((e) => e.name).sort().join(', '))
      }
    }
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]
  console.log(`machine: nproc ${os.availableParallelism()}, ${os.cpus()[0]?.model ?? 'unknown'}, node ${process.version}`)
  console.log(`${CANDIDATES} candidates × ${EXAMPLES} examples, ${reps} repetitions; load average (1 / 5 / 15 min) at the start ${loadAtStart}, at the end ${load()}\n`)
  // Ratios of medians for every pair of trees: later / earlier on the command line.
  const ratioPairs = sides.flatMap((s, i) => sides.slice(i + 1).map((t, j) => [i, i + 1 + j] as const))
  console.log(`| leaderboard | ${sides.map((s) => `${s.label} median (min) ms`).join(' | ')} | ${ratioPairs.map(([i, j]) => `${sides[j].label} / ${sides[i].label}`).join(' | ')} |`)
  console.log(`| --- | ${sides.map(() => '---:').join(' | ')} | ${ratioPairs.map(() => '---:').join(' | ')} |`)
  for (const c of configs) {
    const xs = sides.map((s) => times.get(key(s.label, c.label))!)
    console.log(`| ${c.label} | ${xs.map((x) => `${median(x).toFixed(0)} (${Math.min(...x).toFixed(0)})`).join(' | ')} | ${ratioPairs.map(([i, j]) => (median(xs[j]) / median(xs[i])).toFixed(2)).join(' | ')} |`)
  }
  console.log('')
  for (const c of configs) {
    console.log(`${c.label}, better than the baseline after Holm: ${sides.map((s) => `${s.label}: ${verdicts.get(key(s.label, c.label)) || 'none'}`).join('; ')}`)
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
