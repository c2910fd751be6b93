import { AssayError } from '../errors.js'
import { createRandom, mean } from '../stats/index.js'
import { quantileSorted } from '../stats/describe.js'

/**
 * Two-level (hierarchical) bootstrap of the difference of group means when each side is a group of
 * replicate runs (seeds) scored on the same examples.
 *
 * One resample: draw one multiset of n example indices with replacement (shared by every run of both
 * sides, so the pairing of examples between A and B is kept), then draw kA runs of A and kB runs of B
 * with replacement; each drawn run contributes its mean score over the drawn examples, each side's
 * value is the mean over its drawn runs, and the replicate is A − B. Both sources of variance —
 * which seeds were run and which examples were sampled — are in the spread (Davison & Hinkley 1997,
 * §3.8; Bouthillier et al. 2021).
 *
 * Interval: percentile (R type 7). p-value: as assay/stats pairedBootstrap, min(1, 2 min((k≤0 + 1),
 * (k≥0 + 1)) / (B + 1)). Cost: B × (n + (distinct drawn runs) × n).
 */

export interface TwoLevelBootstrapResult {
  method: 'Two-level bootstrap (seeds, then examples)'
  estimate: number
  ci: [number, number]
  standardError: number
  pValue: number
  runsA: number
  runsB: number
  examples: number
  resamples: number
  seed: number
  confidenceLevel: number
}

/** `a` and `b`: one Float64Array of scores per run, every array over the same n examples in the same order. */
export function twoLevelBootstrap(
  a: readonly Float64Array[],
  b: readonly Float64Array[],
  options: { resamples: number; seed: number; confidenceLevel: number },
): TwoLevelBootstrapResult {
  const { resamples, seed, confidenceLevel } = options
  const runs = [...a, ...b]
  if (a.length < 1 || b.length < 1) throw new AssayError('ASSAY_GROUP_TOO_SMALL', 'the two-level bootstrap needs at least one run per side')
  const n = (runs[0] as Float64Array).length
  if (n < 1 || runs.some((r) => r.length !== n)) {
    throw new AssayError('ASSAY_STATS_LENGTH_MISMATCH', 'the two-level bootstrap needs every run scored on the same non-empty set of examples')
  }
  const kA = a.length
  const kB = b.length
  const meanSide = (side: readonly Float64Array[]): number => mean(side.map((r) => mean(r)))
  const estimate = meanSide(a) - meanSide(b)

  const rng = createRandom(seed)
  const counts = new Uint32Array(n)
  const cache = new Float64Array(runs.length)
  const cached = new Uint8Array(runs.length)
  const reps = new Float64Array(resamples)
  const weighted = (k: number): number => {
    if (cached[k] === 0) {
      const r = runs[k] as Float64Array
      let s = 0
      for (let i = 0; i < n; i++) {
        const c = counts[i] as number
        if (c !== 0) s += c * (r[i] as number)
      }
      cache[k] = s / n
      cached[k] = 1
    }
    return cache[k] as number
  }
  let kLe = 0
  let kGe = 0
  let sum = 0
  for (let rep = 0; rep < resamples; rep++) {
    counts.fill(0)
    cached.fill(0)
    for (let i = 0; i < n; i++) counts[rng.nextInt(n)]++
    let sa = 0
    for (let j = 0; j < kA; j++) sa += weighted(rng.nextInt(kA))
    let sb = 0
    for (let j = 0; j < kB; j++) sb += weighted(kA + rng.nextInt(kB))
    const v = sa / kA - sb / kB
    reps[rep] = v
    sum += v
    if (v <= 0) kLe++
    if (v >= 0) kGe++
  }
  const m = sum / resamples
  let ss = 0
  for (let rep = 0; rep < resamples; rep++) ss += ((reps[rep] as number) - m) ** 2
  reps.sort()
  const alpha = (1 - confidenceLevel) / 2
  return {
    method: 'Two-level bootstrap (seeds, then examples)',
    estimate,
    ci: [quantileSorted(reps, alpha), quantileSorted(reps, 1 - alpha)],
    standardError: resamples > 1 ? Math.sqrt(ss / (resamples - 1)) : 0,
    pValue: Math.min(1, (2 * (Math.min(kLe, kGe) + 1)) / (resamples + 1)),
    runsA: kA,
    runsB: kB,
    examples: n,
    resamples,
    seed,
    confidenceLevel,
  }
}
