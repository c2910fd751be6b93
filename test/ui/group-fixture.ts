/**
 * The store the Compare and Leaderboard tests read (browser and server routes): two
 * configurations of five seeds each in experiment "vision", every run with 120 continuous eval
 * records on one dataset version, and one run of experiment "secret" a limited token may not read.
 */
import type { EvalRecord } from '../../src/record/types.js'
import { createFixture, uniforms, type Fixture } from '../compare/helpers.js'

export const EXAMPLES = 120
export const SEEDS = [1, 2, 3, 4, 5]

export interface GroupFixture {
  fixture: Fixture
  a: string[]
  b: string[]
  hidden: string
  /** Every run's records as logged, by run id. */
  records: Map<string, EvalRecord[]>
}

/** Config a scores about 0.1 above config b on every example, with seed and example noise; every record has a latency and a cluster. */
export async function groupFixture(): Promise<GroupFixture> {
  const fixture = await createFixture()
  const data = fixture.dataset('val.csv', 'id\nshared-val\n')
  const records = new Map<string, EvalRecord[]>()
  const log = async (experiment: string, config: string, seed: number, shift: number): Promise<string> => {
    const u = uniforms(seed * 7919 + config.charCodeAt(0), EXAMPLES)
    const recs: EvalRecord[] = u.map((x, i) => ({ id: `ex-${i}`, cluster: `c${i % 12}`, scores: { score: shift + 0.2 * x + 0.001 * (i % 7) }, latencyMs: 10 + i }))
    const id = await fixture.logRun({ experiment, params: { config }, seed, datasetPath: data, records: recs })
    records.set(id, recs)
    return id
  }
  const a: string[] = []
  const b: string[] = []
  for (const seed of SEEDS) a.push(await log('vision', 'a', seed, 0.6))
  for (const seed of SEEDS) b.push(await log('vision', 'b', seed, 0.5))
  const hidden = await log('secret', 'a', 9, 0.6)
  await fixture.assay.close()
  return { fixture, a, b, hidden, records }
}
