import { writeFileSync } from 'node:fs'
import path from 'node:path'
import type { DatasetRole } from '../../src/record/types.js'
import { createRandom } from '../../src/stats/index.js'
import type { Harness } from '../sdk/harness.js'

/** Shared by the leaderboard, holdout and report tests: runs logged through the SDK into a real embedded store. */

export function writeDataset(h: Harness, name: string, content = 'id\n'): string {
  const file = path.join(h.dir, `${name}.csv`)
  writeFileSync(file, content)
  return file
}

export interface LoggedRun {
  id: string
  name: string
  seed: number
}

/**
 * Log one run with binary scores `correct` on `n` examples: example i is right with probability
 * `skill`, drawn from a generator seeded by `seed` (so runs are independent but reproducible).
 */
export async function logBinaryRun(
  h: Harness,
  options: { name: string; seed: number; skill: number; n: number; dataset: string; file: string; role?: DatasetRole; params?: Record<string, number | string>; experiment?: string },
): Promise<LoggedRun> {
  const run = await h.start({
    experiment: options.experiment ?? 'exp',
    name: options.name,
    seed: options.seed,
    params: options.params ?? { name: options.name },
    datasets: [{ name: options.dataset, path: options.file, role: options.role ?? 'validation' }],
  })
  const rng = createRandom(1000 + options.seed * 7919 + hash(options.name))
  const records = Array.from({ length: options.n }, (_, i) => ({ id: `ex${i}`, scores: { correct: rng.nextFloat() < options.skill ? 1 : 0 } }))
  await run.logEval({ dataset: options.dataset, records })
  await run.end()
  return { id: run.id, name: options.name, seed: options.seed }
}

/** Log one run with a continuous score `score` on several datasets: mean `means[d]` plus noise. */
export async function logMultiRun(
  h: Harness,
  options: { name: string; seed: number; datasets: { name: string; file: string; mean: number }[]; n: number },
): Promise<LoggedRun> {
  const run = await h.start({
    name: options.name,
    seed: options.seed,
    params: { name: options.name },
    datasets: options.datasets.map((d) => ({ name: d.name, path: d.file, role: 'validation' as const })),
  })
  const rng = createRandom(options.seed * 31 + hash(options.name))
  for (const d of options.datasets) {
    await run.logEval({ dataset: d.name, records: Array.from({ length: options.n }, (_, i) => ({ id: `x${i}`, scores: { score: d.mean + 0.05 * (rng.nextFloat() - 0.5) } })) })
  }
  await run.end()
  return { id: run.id, name: options.name, seed: options.seed }
}

function hash(s: string): number {
  let x = 0
  for (const c of s) x = (x * 31 + c.charCodeAt(0)) % 100003
  return x
}
