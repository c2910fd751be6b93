import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isAssayError } from '../../src/errors.js'
import { cliffsDelta, cohensD, hedgesG } from '../../src/stats/effect-size.js'
import { assertClose } from './assert-close.js'
import { R } from './part-b-fixtures.js'

// Reference: textbook formulas written out in R (scripts/fixtures/stats-part-b.R; the effsize package is not installed):
// Cohen (1988) d = (mean(a) - mean(b)) / s_pooled; paired d_z = mean(a - b) / sd(a - b);
// Hedges & Olkin (1985) g = d (1 - 3 / (4 df - 1)); Cliff (1993) delta = mean(sign(outer(a, b, '-'))).
describe('effect sizes against R formulas', () => {
  for (const c of R.effectSize) {
    it(`${c.data} (paired = ${c.paired})`, () => {
      const d = c.a ? { a: c.a, b: c.b } : R.datasets[c.data]
      const cd = cohensD(d.a, d.b, { paired: c.paired })
      assertClose(cd.estimate, c.d, 1e-9, 'd')
      assert.equal(cd.df, c.df)
      const g = hedgesG(d.a, d.b, { paired: c.paired })
      assertClose(g.estimate, c.g, 1e-9, 'g')
      assertClose(g.d, c.d, 1e-9)
      assertClose(cliffsDelta(d.a, d.b).estimate, c.cliff, 1e-12, 'cliff')
    })
  }
})

describe('effect size edge cases', () => {
  it('n = 1 in one group is allowed for d when the other group varies; Hedges needs df >= 2', () => {
    const r = cohensD([2], [0, 1])
    assert.equal(r.df, 1)
    assertClose(r.estimate, (2 - 0.5) / Math.sqrt(0.5))
    assert.throws(() => hedgesG([2], [0, 1]), (e) => isAssayError(e, 'ASSAY_STATS_TOO_FEW_OBSERVATIONS'))
    assert.throws(() => cohensD([2], [1]), (e) => isAssayError(e, 'ASSAY_STATS_TOO_FEW_OBSERVATIONS'))
  })
  it('all-equal inputs are degenerate for d; Cliff gives 0 with all ties', () => {
    assert.throws(() => cohensD([1, 1], [2, 2]), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
    assert.throws(() => cohensD([1, 2, 3], [0, 1, 2], { paired: true }), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
    const c = cliffsDelta([3, 3], [3, 3, 3])
    assert.equal(c.estimate, 0)
    assert.equal(c.ties, 6)
    assert.equal(c.magnitude, 'negligible')
  })
  it('paired needs equal lengths', () => {
    assert.throws(() => cohensD([1, 2, 3], [1, 2], { paired: true }), (e) => isAssayError(e, 'ASSAY_STATS_LENGTH_MISMATCH'))
  })
  it('Cliff magnitudes (Romano et al. 2006) and complete separation', () => {
    assert.equal(cliffsDelta([5, 6, 7], [1, 2, 3]).estimate, 1)
    assert.equal(cliffsDelta([5, 6, 7], [1, 2, 3]).magnitude, 'large')
    assert.equal(cliffsDelta([1, 2, 3], [5, 6, 7]).estimate, -1)
  })
  it('swapping a and b flips d, g and delta (property)', () => {
    const sample = fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 2, maxLength: 10 })
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const ca = cliffsDelta(a, b).estimate
        assertClose(ca, -cliffsDelta(b, a).estimate, 1e-12)
        assert.ok(ca >= -1 && ca <= 1)
        if (new Set(a).size > 1 || new Set(b).size > 1) {
          assertClose(cohensD(a, b).estimate, -cohensD(b, a).estimate, 1e-12)
          assertClose(hedgesG(a, b).estimate, -hedgesG(b, a).estimate, 1e-12)
        }
      }),
    )
  })
})
