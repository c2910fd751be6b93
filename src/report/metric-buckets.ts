/**
 * A metric series cut into at most `buckets` buckets of consecutive points, each kept as its
 * first step and the min and max of its values: a chart drawn from the buckets shows every spike
 * that the full series has, at a cost set by the bucket count, not the series length. Non-finite
 * values (NaN, ±Infinity) are counted per bucket and left out of min and max.
 */
export interface MetricBuckets {
  /** Points in the whole series. */
  points: number
  /** Each bucket's first step. */
  steps: number[]
  min: (number | null)[]
  max: (number | null)[]
  /** Points per bucket. */
  counts: number[]
  /** Points in the bucket that were NaN or ±Infinity. */
  nonFinite: number[]
}

export function metricBuckets(steps: ArrayLike<number>, values: ArrayLike<number>, buckets: number): MetricBuckets {
  if (!Number.isInteger(buckets) || buckets < 1) throw new RangeError(`buckets must be a positive integer, got ${buckets}`)
  const n = values.length
  const count = Math.min(n, buckets)
  const out: MetricBuckets = { points: n, steps: [], min: [], max: [], counts: [], nonFinite: [] }
  for (let b = 0; b < count; b++) {
    // Bucket b holds points [floor(b n / count), floor((b + 1) n / count)): every point once.
    const start = Math.floor((b * n) / count)
    const end = Math.floor(((b + 1) * n) / count)
    let lo = Infinity
    let hi = -Infinity
    let bad = 0
    for (let i = start; i < end; i++) {
      const v = values[i]
      if (!Number.isFinite(v)) {
        bad++
        continue
      }
      if (v < lo) lo = v
      if (v > hi) hi = v
    }
    out.steps.push(steps[start])
    out.min.push(bad === end - start ? null : lo)
    out.max.push(bad === end - start ? null : hi)
    out.counts.push(end - start)
    out.nonFinite.push(bad)
  }
  return out
}
