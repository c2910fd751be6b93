import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isAssayError } from '../../src/errors.js'
import { clopperPearsonInterval, clusteredStandardError, tInterval, wilsonInterval } from '../../src/stats/intervals.js'
import { assertClose } from './assert-close.js'
import { PY, R, alt, data, num } from './part-a-fixtures.js'

describe('tInterval: R t.test(x)$conf.int', () => {
  for (const c of R.tInterval) {
    it(c.call, () => {
      const r = tInterval(data(c.data), { alternative: alt(c.alternative), confidenceLevel: c.confidenceLevel })
      assertClose(r.estimate, c.estimate)
      assertClose(r.standardError, c.standardError)
      assertClose(r.ci[0], num(c.ci[0]))
      assertClose(r.ci[1], num(c.ci[1]))
      assert.equal(r.df, c.df)
      assert.equal(r.alternative, alt(c.alternative))
    })
  }
  it('n = 1 throws TOO_FEW_OBSERVATIONS; all-equal throws DEGENERATE_INPUT (R: data are essentially constant)', () => {
    assert.throws(() => tInterval([1]), (e) => isAssayError(e, 'ASSAY_STATS_TOO_FEW_OBSERVATIONS'))
    assert.throws(() => tInterval([0.3, 0.3, 0.3]), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
    assert.throws(() => tInterval([1, 2], { confidenceLevel: 1 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
  })
})

describe('tInterval: properties', () => {
  it('the interval contains the estimate; one-sided intervals are open at ±Infinity; wider at higher levels', () => {
    const eighth = fc.integer({ min: -800, max: 800 }).map((v) => v / 8)
    fc.assert(
      fc.property(fc.array(eighth, { minLength: 2, maxLength: 40 }).filter((x) => new Set(x).size > 1), fc.constantFrom('two-sided', 'greater', 'less' as const), (x, alternative) => {
        const r = tInterval(x, { alternative })
        assert.ok(r.ci[0] <= r.estimate && r.estimate <= r.ci[1])
        if (alternative === 'greater') assert.equal(r.ci[1], Infinity)
        if (alternative === 'less') assert.equal(r.ci[0], -Infinity)
        const wide = tInterval(x, { alternative, confidenceLevel: 0.99 })
        assert.ok(wide.ci[0] <= r.ci[0] && wide.ci[1] >= r.ci[1])
      }),
    )
  })
})

describe('wilsonInterval and clopperPearsonInterval: R prop.test(correct=FALSE) and binom.test', () => {
  for (const c of R.proportions) {
    const opts = { alternative: alt(c.alternative), confidenceLevel: c.confidenceLevel }
    it(c.wilsonCall, () => {
      const r = wilsonInterval(c.successes, c.n, opts)
      assertClose(r.ci[0], c.wilson[0])
      assertClose(r.ci[1], c.wilson[1])
      assert.equal(r.estimate, c.successes / c.n)
    })
    it(c.clopperPearsonCall, () => {
      const r = clopperPearsonInterval(c.successes, c.n, opts)
      assertClose(r.ci[0], c.clopperPearson[0])
      assertClose(r.ci[1], c.clopperPearson[1])
    })
  }
  for (const c of PY.wilson) {
    it(`statsmodels ${c.call}`, () => {
      const r = wilsonInterval(c.successes, c.n, { confidenceLevel: c.confidenceLevel })
      assertClose(r.ci[0], c.ci[0], 1e-9)
      assertClose(r.ci[1], c.ci[1], 1e-9)
    })
  }
  it('0 successes: lower bound is exactly 0; n successes: upper bound is exactly 1', () => {
    assert.equal(wilsonInterval(0, 17).ci[0], 0)
    assert.equal(clopperPearsonInterval(0, 17).ci[0], 0)
    assert.equal(wilsonInterval(17, 17).ci[1], 1)
    assert.equal(clopperPearsonInterval(17, 17).ci[1], 1)
  })
  it('bad counts throw INVALID_COUNT', () => {
    for (const [x, n] of [[-1, 5], [6, 5], [1.5, 5], [0, 0], [1, 2.5], [NaN, 3]]) {
      assert.throws(() => wilsonInterval(x, n), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_COUNT'))
      assert.throws(() => clopperPearsonInterval(x, n), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_COUNT'))
    }
  })
  it('properties: the interval contains the estimate and lies in [0, 1]; Clopper-Pearson contains Wilson at x = 0', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0.5, max: 0.999, noNaN: true }), (n, f, cl) => {
        const x = Math.round(f * n)
        for (const r of [wilsonInterval(x, n, { confidenceLevel: cl }), clopperPearsonInterval(x, n, { confidenceLevel: cl })]) {
          assert.ok(r.ci[0] >= 0 && r.ci[1] <= 1)
          assert.ok(r.ci[0] <= r.estimate + 1e-12 && r.estimate <= r.ci[1] + 1e-12, JSON.stringify(r))
        }
      }),
    )
  })
})

describe('clusteredStandardError: statsmodels OLS on a constant, cov_type="cluster"', () => {
  for (const c of PY.clustered) {
    it(`${c.data} with ${new Set(c.clusters).size} clusters: ${c.call}`, () => {
      const r = clusteredStandardError(data(c.data), c.clusters)
      assertClose(r.estimate, c.estimate)
      assertClose(r.standardError, c.standardError)
    })
  }
  it('singleton clusters reduce to the HC1-like sd/sqrt(n) * sqrt(n/(n-1)) * sqrt((n-1)/n) = sd/sqrt(n)', () => {
    const x = data('x1')
    const r = clusteredStandardError(x, x.map((_, i) => i))
    // With C = n singleton clusters: SE^2 = n/(n-1) * sum (x - m)^2 / n^2 = var(x) / n.
    const m = x.reduce((s, v) => s + v, 0) / x.length
    const v = x.reduce((s, t) => s + (t - m) ** 2, 0) / (x.length - 1)
    assertClose(r.standardError, Math.sqrt(v / x.length))
  })
  it('one cluster throws TOO_FEW_OBSERVATIONS; mismatched lengths throw LENGTH_MISMATCH', () => {
    assert.throws(() => clusteredStandardError([1, 2, 3], ['a', 'a', 'a']), (e) => isAssayError(e, 'ASSAY_STATS_TOO_FEW_OBSERVATIONS'))
    assert.throws(() => clusteredStandardError([1, 2, 3], ['a', 'b']), (e) => isAssayError(e, 'ASSAY_STATS_LENGTH_MISMATCH'))
    assert.throws(() => clusteredStandardError([], []), (e) => isAssayError(e, 'ASSAY_STATS_EMPTY_INPUT'))
  })
  it('all-equal values give a standard error of exactly 0', () => {
    assert.equal(clusteredStandardError([2, 2, 2, 2], [1, 1, 2, 2]).standardError, 0)
  })
  it('result is JSON-serialisable', () => {
    const r = clusteredStandardError([1, 2, 3, 4], [1, 1, 2, 2])
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r)
  })
})
