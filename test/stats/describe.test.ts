import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isAssayError } from '../../src/errors.js'
import { iqm, mean, median, quantile, sd, standardError, trimmedMean, variance } from '../../src/stats/describe.js'
import { assertClose } from './assert-close.js'
import { PY, R, data } from './part-a-fixtures.js'

describe('describe: R reference values', () => {
  for (const c of R.describe) {
    it(`${c.data}: ${c.call}`, () => {
      const x = data(c.data)
      assertClose(mean(x), c.mean) // R: mean(x)
      assertClose(variance(x), c.variance) // R: var(x)
      assertClose(sd(x), c.sd) // R: sd(x)
      assertClose(standardError(x), c.standardError) // R: sd(x) / sqrt(length(x))
      assertClose(median(x), c.median) // R: median(x)
      c.probs.forEach((p: number, i: number) => assertClose(quantile(x, p), c.quantiles[i], 1e-9, `quantile ${p}`)) // R: quantile(x, p, type = 7)
      assertClose(median(Float64Array.from(x)), c.median)
    })
  }
})

describe('describe: scipy trim_mean reference values', () => {
  for (const c of PY.trimMean) {
    it(c.call, () => {
      assertClose(trimmedMean(data(c.data), c.proportion), c.value)
      if (c.proportion === 0.25) assertClose(iqm(data(c.data)), c.value) // iqm = trim_mean(x, 0.25)
    })
  }
})

describe('describe: edge cases', () => {
  it('n = 1: mean, median, quantile, iqm are the value; variance needs 2', () => {
    assert.equal(mean([3]), 3)
    assert.equal(median([3]), 3)
    assert.equal(quantile([3], 0.3), 3)
    assert.equal(iqm([3]), 3)
    assert.equal(trimmedMean([3], 0.4), 3)
    assert.throws(() => variance([3]), (e) => isAssayError(e, 'ASSAY_STATS_TOO_FEW_OBSERVATIONS'))
    assert.throws(() => sd([3]), (e) => isAssayError(e, 'ASSAY_STATS_TOO_FEW_OBSERVATIONS'))
    assert.throws(() => standardError([3]), (e) => isAssayError(e, 'ASSAY_STATS_TOO_FEW_OBSERVATIONS'))
  })
  it('all-equal input: variance exactly 0, quantiles equal the value', () => {
    const x = [0.1, 0.1, 0.1, 0.1, 0.1]
    assert.equal(variance(x), 0)
    assert.equal(quantile(x, 0.37), 0.1)
    assert.equal(iqm(x), 0.1)
  })
  it('ties: median of an even sample with tied middle values', () => {
    assert.equal(median([1, 2, 2, 9]), 2)
    assert.equal(quantile([1, 2, 2, 9], 0.5), 2)
  })
  it('iqm trims floor(n/4) from each end', () => {
    assert.equal(iqm([100, 1, 2, 3, 4, 5, 6, -100]), 3.5) // n = 8: trims 2 from each end
    assert.equal(iqm([1, 2, 3]), 2) // n = 3: trims nothing
  })
  it('bad input throws typed errors', () => {
    assert.throws(() => mean([]), (e) => isAssayError(e, 'ASSAY_STATS_EMPTY_INPUT'))
    assert.throws(() => mean([1, NaN]), (e) => isAssayError(e, 'ASSAY_STATS_NON_FINITE_INPUT'))
    assert.throws(() => median([1, Infinity]), (e) => isAssayError(e, 'ASSAY_STATS_NON_FINITE_INPUT'))
    assert.throws(() => quantile([1, 2], 1.5), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => quantile([1, 2], NaN), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => trimmedMean([1, 2], 0.5), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => trimmedMean([1, 2], -0.1), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
  })
})

describe('describe: properties', () => {
  const sample = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 60 })
  it('quantiles are monotone in p and lie within [min, max]; median is the 0.5 quantile', () => {
    fc.assert(
      fc.property(sample, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (x, p, q) => {
        const [lo, hi] = p <= q ? [p, q] : [q, p]
        assert.ok(quantile(x, lo) <= quantile(x, hi))
        assert.ok(quantile(x, lo) >= Math.min(...x) && quantile(x, hi) <= Math.max(...x))
        assert.equal(median(x), quantile(x, 0.5))
      }),
    )
  })
  it('variance is non-negative and shift invariant (up to rounding)', () => {
    fc.assert(
      fc.property(sample, fc.double({ min: -1e3, max: 1e3, noNaN: true }), (x, c) => {
        const v = variance(x)
        assert.ok(v >= 0)
        const shifted = variance(x.map((t) => t + c))
        assert.ok(Math.abs(shifted - v) <= 1e-6 * (v + 1e-300) + 1e-9 * Math.max(...x.map(Math.abs), Math.abs(c)) ** 2)
      }),
    )
  })
  it('iqm and trimmed means lie within [min, max]', () => {
    fc.assert(
      fc.property(sample, fc.double({ min: 0, max: 0.49, noNaN: true }), (x, p) => {
        const t = trimmedMean(x, p)
        assert.ok(t >= Math.min(...x) - 1e-9 * Math.max(...x.map(Math.abs)) && t <= Math.max(...x) + 1e-9 * Math.max(...x.map(Math.abs)))
        const m = iqm(x)
        assert.ok(Number.isFinite(m))
      }),
    )
  })
})
