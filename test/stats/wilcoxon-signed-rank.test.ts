import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isAssayError } from '../../src/errors.js'
import { wilcoxonSignedRank, type WilcoxonMethod, type ZeroMethod } from '../../src/stats/wilcoxon-signed-rank.js'
import { assertClose } from './assert-close.js'
import { PY, R, alt, data } from './part-a-fixtures.js'

const mirror = { 'two-sided': 'two-sided', greater: 'less', less: 'greater' } as const

describe('wilcoxonSignedRank, zeroMethod "wilcox": R wilcox.test(a, b, paired = TRUE)', () => {
  for (const c of R.wilcoxon) {
    it(c.call, () => {
      const r = wilcoxonSignedRank(data(c.a), data(c.b), {
        alternative: alt(c.alternative),
        method: c.method as WilcoxonMethod,
        correction: c.correction,
      })
      assert.equal(r.statistic, c.statistic)
      const exact = String(c.rMethod).includes('exact')
      assert.equal(r.exact, exact, c.rMethod)
      // exact p-values to 1e-12, normal approximation to 1e-9
      assertClose(r.pValue, c.pValue, exact ? 1e-12 : 1e-9)
    })
  }
})

describe('wilcoxonSignedRank, zeroMethod "pratt" / "zsplit": scipy.stats.wilcoxon(mode="approx")', () => {
  for (const c of PY.wilcoxon) {
    it(c.call, () => {
      const r = wilcoxonSignedRank(data(c.a), data(c.b), {
        alternative: c.alternative,
        method: 'asymptotic',
        zeroMethod: c.zeroMethod as ZeroMethod,
        correction: c.correction,
      })
      assertClose(r.statistic, c.statistic, 1e-12)
      assertClose(r.pValue, c.pValue, 1e-9)
    })
  }
})

describe('wilcoxonSignedRank: edge cases', () => {
  it('ties: exact requested falls back to the normal approximation with a warning (as R)', () => {
    const r = wilcoxonSignedRank([1, 2, 3, 4], [0, 0, 0, 2], { method: 'exact' })
    assert.equal(r.exact, false)
    assert.equal(r.ties, true)
    assert.match(r.warning ?? '', /ties/)
  })
  it('zeros: "wilcox" drops them and n counts only non-zero differences', () => {
    const r = wilcoxonSignedRank([1, 2, 3, 4, 5], [1, 0, 0, 0, 0])
    assert.equal(r.n, 4)
    assert.equal(r.zeros, 1)
    assert.equal(r.exact, false) // R: zeros force the normal approximation
    const p = wilcoxonSignedRank([1, 2, 3, 4, 5], [1, 0, 0, 0, 0], { zeroMethod: 'pratt' })
    assert.equal(p.n, 5)
  })
  it('n = 1: exact p of a single positive difference is 1 two-sided, 0.5 one-sided (R psignrank)', () => {
    const r = wilcoxonSignedRank([2], [1])
    assert.equal(r.statistic, 1)
    assert.equal(r.pValue, 1)
    assert.equal(wilcoxonSignedRank([2], [1], { alternative: 'greater' }).pValue, 0.5)
  })
  it('all differences zero throws DEGENERATE_INPUT for every zero method', () => {
    for (const zeroMethod of ['wilcox', 'pratt', 'zsplit'] as const) {
      assert.throws(() => wilcoxonSignedRank([1, 2, 3], [1, 2, 3], { zeroMethod }), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
    }
  })
  it('all-equal non-zero differences: ties only, normal approximation', () => {
    const r = wilcoxonSignedRank([2, 2, 2, 2, 2, 2], [1, 1, 1, 1, 1, 1])
    assert.equal(r.statistic, 21)
    assert.equal(r.exact, false)
    assert.ok(r.pValue > 0 && r.pValue < 1)
  })
  it('one-sample form tests a against 0; "auto" is exact below 50 without ties', () => {
    const x = data('dep_x').map((v, i) => v - data('dep_y')[i])
    assert.deepEqual(wilcoxonSignedRank(x), wilcoxonSignedRank(data('dep_x'), data('dep_y')))
    const big = Array.from({ length: 50 }, (_, i) => (i % 2 ? 1 : -1) * (i + 1 + 0.001 * i))
    assert.equal(wilcoxonSignedRank(big).exact, false)
    assert.equal(wilcoxonSignedRank(big.slice(0, 49)).exact, true)
  })
  it('bad options throw INVALID_OPTION', () => {
    assert.throws(() => wilcoxonSignedRank([1, 2], [0, 0], { method: 'x' as WilcoxonMethod }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => wilcoxonSignedRank([1, 2], [0, 0], { zeroMethod: 'x' as ZeroMethod }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => wilcoxonSignedRank([1, 2], [0]), (e) => isAssayError(e, 'ASSAY_STATS_LENGTH_MISMATCH'))
  })
})

describe('wilcoxonSignedRank: properties', () => {
  const eighth = fc.integer({ min: -80, max: 80 }).map((v) => v / 8)
  const pairs = fc.array(fc.tuple(eighth, eighth), { minLength: 1, maxLength: 30 }).filter((p) => p.some(([x, y]) => x !== y))
  it('p in [0, 1]; swapping a and b mirrors one-sided p; shifting both arms changes nothing', () => {
    fc.assert(
      fc.property(
        pairs,
        fc.constantFrom('two-sided', 'greater', 'less' as const),
        fc.constantFrom('wilcox', 'pratt', 'zsplit' as const),
        fc.constantFrom('auto', 'asymptotic' as const),
        fc.integer({ min: -20, max: 20 }),
        (p, alternative, zeroMethod, method, shift) => {
          const a = p.map(([x]) => x)
          const b = p.map(([, y]) => y)
          const r = wilcoxonSignedRank(a, b, { alternative, zeroMethod, method })
          assert.ok(r.pValue >= 0 && r.pValue <= 1)
          const s = wilcoxonSignedRank(b, a, { alternative: mirror[alternative], zeroMethod, method })
          assertClose(s.pValue, r.pValue, 1e-9)
          const t = wilcoxonSignedRank(a.map((x) => x + shift), b.map((y) => y + shift), { alternative, zeroMethod, method })
          assert.deepEqual(t, r)
        },
      ),
      { numRuns: 300 },
    )
  })
})
