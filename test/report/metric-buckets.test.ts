import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { metricBuckets } from '../../src/report/metric-buckets.js'

describe('metricBuckets', () => {
  it('keeps a one-point spike in a million points as its bucket max', () => {
    const n = 1_000_000
    const steps = Float64Array.from({ length: n }, (_, i) => i)
    const values = Float64Array.from({ length: n }, (_, i) => (i === 654_321 ? 1e6 : Math.sin(i / 1000)))
    const b = metricBuckets(steps, values, 1000)
    assert.equal(b.steps.length, 1000)
    assert.equal(b.points, n)
    assert.equal(Math.max(...(b.max as number[])), 1e6)
    assert.equal(b.max[654], 1e6, 'bucket 654 holds points 654,000 to 654,999')
    assert.equal(b.steps[654], 654_000)
  })

  it('counts every point once, and each bucket min and max are those of its points', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: false }), { maxLength: 300 }), fc.integer({ min: 1, max: 50 }), (values, buckets) => {
        const steps = values.map((_, i) => i * 2)
        const b = metricBuckets(steps, values, buckets)
        assert.equal(b.counts.reduce((x, y) => x + y, 0), values.length)
        assert.equal(b.steps.length, Math.min(values.length, buckets))
        let start = 0
        b.counts.forEach((count, k) => {
          const part = values.slice(start, start + count)
          const finite = part.filter(Number.isFinite)
          assert.equal(b.steps[k], steps[start])
          assert.equal(b.nonFinite[k], count - finite.length)
          assert.equal(b.min[k], finite.length === 0 ? null : Math.min(...finite))
          assert.equal(b.max[k], finite.length === 0 ? null : Math.max(...finite))
          start += count
        })
      }),
    )
  })

  it('refuses a bucket count that is not a positive integer', () => {
    assert.throws(() => metricBuckets([1], [1], 0), RangeError)
    assert.throws(() => metricBuckets([1], [1], 1.5), RangeError)
  })
})
