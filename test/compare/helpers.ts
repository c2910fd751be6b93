import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { EvalRecord } from '../../src/record/types.js'
import { Assay } from '../../src/sdk/assay.js'
import { runCliOn } from '../cli/run-cli.js'

/** A real embedded store in a temp dir, with helpers that log real runs through the SDK. */
export interface Fixture {
  dir: string
  store: string
  assay: Assay
  /** Write a dataset file; different `content` gives a different dataset version (sha256). */
  dataset(name: string, content: string): string
  logRun(options: {
    experiment?: string
    params?: Record<string, string | number | boolean>
    seed: number
    datasetPath?: string
    datasetName?: string
    role?: 'validation' | 'test' | 'holdout'
    records?: EvalRecord[]
    metrics?: Record<string, number>
  }): Promise<string>
  dispose(): Promise<void>
}

export async function createFixture(): Promise<Fixture> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'assay-compare-'))
  const store = path.join(dir, 'store')
  const assay = await Assay.open({ store })
  const defaultData = path.join(dir, 'val-default.csv')
  writeFileSync(defaultData, 'id\nshared\n')
  return {
    dir,
    store,
    assay,
    dataset(name, content) {
      const file = path.join(dir, name)
      writeFileSync(file, content)
      return file
    },
    async logRun(o) {
      const datasetName = o.datasetName ?? 'val'
      const run = await assay.startRun({
        experiment: o.experiment ?? 'exp',
        params: o.params ?? { config: 'x' },
        seed: o.seed,
        datasets: [{ name: datasetName, path: o.datasetPath ?? defaultData, role: o.role ?? 'validation' }],
      })
      if (o.metrics) await run.log(o.metrics, { step: 1 })
      if (o.records) await run.logEval({ dataset: datasetName, records: o.records })
      await run.end('finished')
      return run.id
    },
    async dispose() {
      await assay.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Binary records: example i is correct when pattern(i) is true. */
export function binaryRecords(n: number, correct: (i: number) => boolean, cluster?: (i: number) => string): EvalRecord[] {
  return Array.from({ length: n }, (_, i) => ({ id: `ex-${i}`, scores: { correct: correct(i) ? 1 : 0 }, ...(cluster ? { cluster: cluster(i) } : {}) }))
}

export function continuousRecords(values: number[], idOffset = 0, cluster?: (i: number) => string): EvalRecord[] {
  return values.map((v, i) => ({ id: `ex-${i + idOffset}`, scores: { score: v }, ...(cluster ? { cluster: cluster(i) } : {}) }))
}

/** Deterministic pseudo-random uniforms (LCG), independent of the code under test. */
export function uniforms(seed: number, n: number): number[] {
  let s = seed >>> 0
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  })
}

export const cli = runCliOn

/** Two-sided exact binomial p-value with p = 1/2, summed directly from the pmf in log space. */
export function exactBinomialTwoSided(k: number, n: number): number {
  const logChoose = (m: number, r: number): number => {
    let s = 0
    for (let i = 1; i <= r; i++) s += Math.log(m - r + i) - Math.log(i)
    return s
  }
  const x = Math.min(k, n - k)
  if (2 * x === n) return 1
  let tail = 0
  for (let i = 0; i <= x; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2)
  return Math.min(1, 2 * tail)
}
