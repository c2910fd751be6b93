import { clopperPearsonInterval, createRandom, type RandomGenerator } from '../../src/stats/index.js'

/**
 * Seeded simulation with known ground truth: data generators, and the rates (false positives,
 * interval coverage) each setting measures with their Clopper–Pearson 95% intervals. Shared by the
 * quick calibration test (test/calibration/) and the full benchmark (bench/calibration.ts).
 */

export interface Normal {
  next(): number
}

/** Standard normal draws (Box–Muller) from the seeded generator of assay/stats. */
export function normals(rng: RandomGenerator): Normal {
  let spare: number | null = null
  return {
    next(): number {
      if (spare !== null) {
        const s = spare
        spare = null
        return s
      }
      let u = 0
      while (u === 0) u = rng.nextFloat()
      const v = rng.nextFloat()
      const r = Math.sqrt(-2 * Math.log(u))
      spare = r * Math.sin(2 * Math.PI * v)
      return r * Math.cos(2 * Math.PI * v)
    },
  }
}

/** One simulated paired data set: scores of A and B per example, cluster ids or null, and the true mean difference A − B. */
export interface PairedData {
  a: Float64Array
  b: Float64Array
  clusters: string[] | null
  trueDelta: number
}

/** Continuous scores: a shared per-example difficulty, differences N(delta, 0.5²). */
export function continuousPairs(rng: RandomGenerator, n: number, delta = 0): PairedData {
  const z = normals(rng)
  const a = new Float64Array(n)
  const b = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const u = z.next()
    b[i] = u
    a[i] = u + delta + 0.5 * z.next()
  }
  return { a, b, clusters: null, trueDelta: delta }
}

/** 0/1 scores: each example has its own probability of being right, the same for A and B (true Δ = 0). */
export function binaryPairs(rng: RandomGenerator, n: number): PairedData {
  const a = new Float64Array(n)
  const b = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const p = 0.2 + 0.7 * rng.nextFloat()
    a[i] = rng.nextFloat() < p ? 1 : 0
    b[i] = rng.nextFloat() < p ? 1 : 0
  }
  return { a, b, clusters: null, trueDelta: 0 }
}

/**
 * Clustered differences: d = delta + v_cluster + e, Var(v) = icc, Var(e) = 1 − icc, so the design
 * effect of the mean is 1 + (m − 1) icc for clusters of m examples (50 × 10 with icc 0.267: ≈ 3.4).
 */
export function clusteredPairs(rng: RandomGenerator, clusters: number, perCluster: number, icc: number, delta = 0): PairedData {
  const z = normals(rng)
  const n = clusters * perCluster
  const a = new Float64Array(n)
  const b = new Float64Array(n)
  const ids: string[] = []
  for (let c = 0; c < clusters; c++) {
    const v = Math.sqrt(icc) * z.next()
    for (let j = 0; j < perCluster; j++) {
      const i = c * perCluster + j
      const u = z.next()
      b[i] = u
      a[i] = u + delta + v + Math.sqrt(1 - icc) * z.next()
      ids.push(`c${c}`)
    }
  }
  return { a, b, clusters: ids, trueDelta: delta }
}

/** Heavily right-skewed differences: lognormal(0, sigma) minus its mean exp(sigma²/2), plus delta. */
export function skewedPairs(rng: RandomGenerator, n: number, sigma: number, delta = 0): PairedData {
  const z = normals(rng)
  const a = new Float64Array(n)
  const b = new Float64Array(n)
  const centre = Math.exp((sigma * sigma) / 2)
  for (let i = 0; i < n; i++) {
    b[i] = z.next()
    a[i] = b[i] + delta + Math.exp(sigma * z.next()) - centre
  }
  return { a, b, clusters: null, trueDelta: delta }
}

/**
 * Two groups of seeds scored on the same examples, under the population null: each configuration
 * has its own per-example effect (fixed across its seeds, drawn afresh with the examples), each
 * seed its own offset, each score its own noise. The two configurations have the same distribution,
 * so the true difference over the population of examples and seeds is 0; holding the examples fixed
 * (Welch over run means) leaves the per-example effects out of the error.
 */
export function twoLevelGroups(rng: RandomGenerator, seeds: number, examples: number): { a: Float64Array[]; b: Float64Array[] } {
  const z = normals(rng)
  const difficulty = Array.from({ length: examples }, () => z.next())
  const side = (): Float64Array[] => {
    const effect = difficulty.map(() => 0.8 * z.next())
    return Array.from({ length: seeds }, () => {
      const offset = 0.03 * z.next()
      return Float64Array.from(difficulty, (u, i) => u + (effect[i] as number) + offset + z.next())
    })
  }
  return { a: side(), b: side() }
}

/** Run-level values of two groups of seeds with the same distribution. */
export function seedGroups(rng: RandomGenerator, seeds: number): { a: number[]; b: number[] } {
  const z = normals(rng)
  return { a: Array.from({ length: seeds }, () => 0.8 + 0.02 * z.next()), b: Array.from({ length: seeds }, () => 0.8 + 0.02 * z.next()) }
}

/** A rate measured over replications, with what it is held against. */
export interface Rate {
  setting: string
  feature: 'compare' | 'leaderboard' | 'gate' | 'drift' | 'monitor'
  /** What is counted, in words. */
  measure: string
  /** 'at-most': a false-positive rate must not exceed `nominal`; 'at-least': coverage must not fall short of it. */
  kind: 'at-most' | 'at-least'
  nominal: number
  hits: number
  replications: number
  /** false: reported only (e.g. skewed data, where the promise is a warning, not the level). */
  enforced?: boolean
}

export interface RateSummary extends Rate {
  rate: number
  ci: [number, number]
  /** The interval lies wholly on the wrong side of the nominal level. */
  miscalibrated: boolean
}

export function summarize(rate: Rate): RateSummary {
  const cp = clopperPearsonInterval(rate.hits, rate.replications, { confidenceLevel: 0.95 })
  const miscalibrated = rate.enforced !== false && (rate.kind === 'at-most' ? cp.ci[0] > rate.nominal : cp.ci[1] < rate.nominal)
  return { ...rate, rate: rate.hits / rate.replications, ci: cp.ci, miscalibrated }
}

/** Runs `replications` seeded replications of one setting; `measure` returns, per replication, the hit flags of each rate. */
export function simulate<K extends string>(seed: number, replications: number, once: (rng: RandomGenerator, rep: number) => Record<K, boolean>): Record<K, { hits: number; replications: number }> {
  const rng = createRandom(seed)
  const counts = {} as Record<K, { hits: number; replications: number }>
  for (let rep = 0; rep < replications; rep++) {
    const flags = once(rng, rep)
    for (const key of Object.keys(flags) as K[]) {
      const c = (counts[key] ??= { hits: 0, replications: 0 })
      c.replications++
      if (flags[key]) c.hits++
    }
  }
  return counts
}

export function covers(ci: readonly [number, number] | null, value: number): boolean {
  return ci !== null && ci[0] <= value && value <= ci[1]
}

export function formatRates(rates: readonly RateSummary[]): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`
  const lines = ['| setting | feature | measure | nominal | rate | 95% CI | replications | status |', '| --- | --- | --- | --- | --- | --- | --- | --- |']
  for (const r of rates) {
    lines.push(
      `| ${r.setting} | ${r.feature} | ${r.measure} | ${r.kind === 'at-most' ? '≤' : '≥'} ${pct(r.nominal)} | ${pct(r.rate)} | [${pct(r.ci[0])}, ${pct(r.ci[1])}] | ${r.replications} | ${r.miscalibrated ? '**MISCALIBRATED**' : r.enforced === false ? 'reported' : 'ok'} |`,
    )
  }
  return lines.join('\n')
}
