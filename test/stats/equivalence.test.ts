import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isAssayError } from '../../src/errors.js'
import { nonInferiority, tost } from '../../src/stats/equivalence.js'
import { assertClose } from './assert-close.js'
import { PY, R, data } from './part-a-fixtures.js'

describe('nonInferiority: R t.test(a, b, paired = TRUE, mu = -margin, alternative = "greater")', () => {
  for (const c of R.nonInferiority) {
    it(`margin ${c.margin}: ${c.call}`, () => {
      const r = nonInferiority(data(c.a), data(c.b), { margin: c.margin, alternative: c.alternative, confidenceLevel: c.confidenceLevel })
      assertClose(r.statistic, c.statistic)
      assertClose(r.pValue, c.pValue)
      assertClose(r.bound, c.bound)
      assert.equal(r.decision, r.pValue < 1 - c.confidenceLevel)
    })
  }
  it('decision agrees with the bound: lower bound above -margin (higher is better)', () => {
    const a = data('acc_a')
    const b = data('acc_b')
    const r = nonInferiority(a, b, { margin: 0.005 })
    assert.equal(r.decision, r.bound > -0.005)
    assert.deepEqual(r.ci, [r.bound, Infinity])
    assert.equal(r.alternative, 'greater')
  })
  it('degenerate and bad input', () => {
    assert.throws(() => nonInferiority([1, 2, 3], [0, 1, 2], { margin: 0.1 }), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
    assert.throws(() => nonInferiority([1], [0], { margin: 0.1 }), (e) => isAssayError(e, 'ASSAY_STATS_TOO_FEW_OBSERVATIONS'))
    assert.throws(() => nonInferiority([1, 2], [0, 0], { margin: -0.1 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => nonInferiority([1, 2], [0, 0], { margin: NaN }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => nonInferiority([1, 2], [0, 0], { margin: 1, alternative: 'two-sided' as 'less' }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
  })
})

describe('tost: statsmodels ttost_paired(a, b, lower, upper)', () => {
  for (const c of PY.tost) {
    it(c.call, () => {
      const r = tost(data(c.a), data(c.b), { lower: c.lower, upper: c.upper })
      assertClose(r.pValue, c.pValue)
      assertClose(r.statisticLower, c.statisticLower)
      assertClose(r.pValueLower, c.pValueLower)
      assertClose(r.statisticUpper, c.statisticUpper)
      assertClose(r.pValueUpper, c.pValueUpper)
      assert.equal(r.df, c.df)
      assert.equal(r.decision, c.pValue < 0.05)
    })
  }
  it('margin m is the region (-m, m); decision iff the 90% interval lies inside', () => {
    const a = data('acc_a')
    const b = data('acc_b')
    const r = tost(a, b, { margin: 0.01 })
    assert.equal(r.lower, -0.01)
    assert.equal(r.upper, 0.01)
    assert.equal(r.decision, r.ci[0] > -0.01 && r.ci[1] < 0.01)
    assert.equal(r.decision, r.pValue < 0.05)
  })
  it('bad options', () => {
    const a = [1, 2, 4]
    const b = [0, 0, 0]
    assert.throws(() => tost(a, b, {}), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => tost(a, b, { margin: 1, lower: -1, upper: 1 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => tost(a, b, { lower: 1, upper: -1 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => tost(a, b, { margin: 0 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => tost(a, b, { margin: 1, confidenceLevel: 0.4 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => tost([1, 1], [0, 0], { margin: 1 }), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
  })
  it('properties: p in [0, 1]; swapping a and b with a mirrored region gives the same p; shift invariance', () => {
    const eighth = fc.integer({ min: -80, max: 80 }).map((v) => v / 8)
    fc.assert(
      fc.property(
        fc.array(fc.tuple(eighth, eighth), { minLength: 3, maxLength: 30 }).filter((p) => new Set(p.map(([x, y]) => x - y)).size > 1),
        fc.integer({ min: 1, max: 40 }).map((v) => v / 8),
        fc.integer({ min: -20, max: 20 }),
        (p, margin, shift) => {
          const a = p.map(([x]) => x)
          const b = p.map(([, y]) => y)
          const r = tost(a, b, { lower: -margin / 2, upper: margin })
          assert.ok(r.pValue >= 0 && r.pValue <= 1)
          const s = tost(b, a, { lower: -margin, upper: margin / 2 })
          assertClose(s.pValue, r.pValue, 1e-9)
          assert.ok(s.estimate === -r.estimate)
          assert.deepEqual(tost(a.map((x) => x + shift), b.map((y) => y + shift), { lower: -margin / 2, upper: margin }), r)
          const ni = nonInferiority(a, b, { margin })
          assert.ok(ni.pValue >= 0 && ni.pValue <= 1 && ni.bound <= ni.estimate)
        },
      ),
      { numRuns: 200 },
    )
  })
})
