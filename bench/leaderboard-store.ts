/**
 * The leaderboard benchmarks' store: 51 runs (run 0 the baseline; runs 1–5 better by 1–5 points,
 * the other 45 equal to it), each with 10,000 eval records carrying a binary score `correct` and a
 * continuous score `logloss` on a dataset declared with role `test`. The same seed gives the same
 * records, whichever tree's SDK writes them (bench/leaderboard-ab.ts builds one store per tree).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Assay as AssaySdk } from '../src/sdk/assay.js'
import { createRandom } from '../src/stats/index.js'

export const CANDIDATES = 50
export const EXAMPLES = 10_000

/** Writes the store under `dir` (dir/store) with `Assay` (this tree's SDK, or another tree's of the same shape); returns the store path. */
export async function buildLeaderboardStore(Assay: typeof AssaySdk, dir: string): Promise<string> {
  const storeDir = path.join(dir, 'store')
  const dataPath = path.join(dir, 'test.jsonl')
  writeFileSync(dataPath, Array.from({ length: EXAMPLES }, (_, i) => JSON.stringify({ id: `ex${i}` })).join('\n') + '\n')
  const codeDir = path.join(dir, 'code')
  mkdirSync(codeDir)
  const rng = createRandom(42)
  const difficulty = Array.from({ length: EXAMPLES }, () => rng.nextFloat())
  const assay = await Assay.open({ store: storeDir })
  for (let k = 0; k <= CANDIDATES; k++) {
    const skill = 0.7 + (k >= 1 && k <= 5 ? 0.01 * k : 0)
    const run = await assay.startRun({ experiment: 'bench', name: `model-${k}`, seed: k, codeDir, params: { k }, datasets: [{ name: 'test', path: dataPath, role: 'test' }] })
    const records = difficulty.map((d, i) => {
      const p = Math.min(0.99, Math.max(0.01, skill + 0.5 * (0.5 - d)))
      const correct = rng.nextFloat() < p ? 1 : 0
      return { id: `ex${i}`, scores: { correct, logloss: -Math.log(correct ? p : 1 - p) + 0.1 * rng.nextFloat() } }
    })
    await run.logEval({ dataset: 'test', records })
    await run.end()
  }
  await assay.close()
  return storeDir
}

/** The three leaderboards each benchmark times. */
export const LEADERBOARD_CONFIGS = [
  { label: 'correct', metric: 'correct', interval: 'analytic', test: 'exact McNemar + paired t interval' },
  { label: 'logloss', metric: 'logloss', interval: 'analytic', test: 'paired t-test + paired t interval' },
  { label: 'correct, --bootstrap', metric: 'correct', interval: 'bootstrap', test: 'exact McNemar + bootstrap-t (1,000 resamples)' },
] as const
