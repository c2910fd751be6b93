import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isAssayError } from '../../src/errors.js'
import { averageRanks, friedman, nemenyiCriticalDifference } from '../../src/stats/ranks.js'
import { assertClose } from './assert-close.js'
import { R } from './part-b-fixtures.js'

// Reference: R 4.2 friedman.test(matrix) and the Iman–Davenport formula written out in R
// (scripts/fixtures/stats-part-b.R): F = (n-1) chi2 / (n(k-1) - chi2), pf(F, k-1, (k-1)(n-1), lower.tail = FALSE).
describe('friedman against R friedman.test', () => {
  for (const c of R.friedman) {
    it(c.call, () => {
      const r = friedman(c.matrix)
      assertClose(r.statistic, c.statistic, 1e-9, 'chi-squared')
      assert.equal(r.df, c.df)
      assertClose(r.pValue, c.pValue, 1e-9, 'p')
      assertClose(r.imanDavenport.statistic, c.imanDavenport.statistic, 1e-9, 'F')
      assert.equal(r.imanDavenport.df1, c.imanDavenport.df1)
      assert.equal(r.imanDavenport.df2, c.imanDavenport.df2)
      assertClose(r.imanDavenport.pValue, c.imanDavenport.pValue, 1e-9, 'F p')
      // R ranks ascending (1 = lowest); assay's default ranks 1 = highest
      const ascending = averageRanks(c.matrix, { higherIsBetter: false }).averageRanks
      c.meanRanksAscending.forEach((v: number, j: number) => assertClose(ascending[j], v, 1e-12))
      const k = c.matrix[0].length
      r.averageRanks.forEach((v, j) => assertClose(v, k + 1 - c.meanRanksAscending[j], 1e-12))
    })
  }
  it('perfect agreement: Iman-Davenport F is +Infinity with p = 0', () => {
    const r = friedman([[3, 2, 1], [30, 20, 10], [0.3, 0.2, 0.1]])
    assert.equal(r.imanDavenport.statistic, Infinity)
    assert.equal(r.imanDavenport.pValue, 0)
    assertClose(r.statistic, 6) // chi2 = n (k - 1)
  })
  it('k = 2 systems works (fixture "k2") and all-tied blocks are degenerate', () => {
    assert.equal(friedman([[1, 2], [2, 3]]).df, 1)
    assert.throws(() => friedman([[1, 1, 1], [2, 2, 2]]), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
  })
  it('rejects bad matrices', () => {
    assert.throws(() => friedman([[1, 2, 3]]), (e) => isAssayError(e, 'ASSAY_STATS_TOO_FEW_OBSERVATIONS'))
    assert.throws(() => friedman([[1], [2]]), (e) => isAssayError(e, 'ASSAY_STATS_TOO_FEW_OBSERVATIONS'))
    assert.throws(() => friedman([[1, 2], [1, 2, 3]]), (e) => isAssayError(e, 'ASSAY_STATS_LENGTH_MISMATCH'))
    assert.throws(() => friedman([]), (e) => isAssayError(e, 'ASSAY_STATS_EMPTY_INPUT'))
    assert.throws(() => friedman([[1, NaN], [1, 2]]), (e) => isAssayError(e, 'ASSAY_STATS_NON_FINITE_INPUT'))
  })
})

describe('averageRanks', () => {
  it('ties get mean ranks; 1 = best by default', () => {
    const r = averageRanks([
      [0.9, 0.8, 0.8, 0.1],
      [0.5, 0.6, 0.7, 0.7],
    ])
    assert.deepEqual(r.ranks, [
      [1, 2.5, 2.5, 4],
      [4, 3, 1.5, 1.5],
    ])
    assert.deepEqual(r.averageRanks, [2.5, 2.75, 2, 2.75])
    assert.equal(averageRanks([[1, 2]], { higherIsBetter: false }).ranks[0][0], 1)
  })
  it('one block (n = 1) and all-equal rows', () => {
    assert.deepEqual(averageRanks([[5, 5, 5]]).averageRanks, [2, 2, 2])
  })
  it('average ranks sum to k(k+1)/2 per row (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 7 }), fc.integer({ min: 1, max: 6 }), fc.integer(), (k, n, seed) => {
        const rows = Array.from({ length: n }, (_, i) => Array.from({ length: k }, (_, j) => ((seed + i * 31 + j * 17) * 7919) % 5))
        const r = averageRanks(rows)
        for (const row of r.ranks) assertClose(row.reduce((s, v) => s + v, 0), (k * (k + 1)) / 2, 1e-12)
        assertClose(r.averageRanks.reduce((s, v) => s + v, 0), (k * (k + 1)) / 2, 1e-12)
      }),
    )
  })
  it('k < 2 systems is refused', () => {
    assert.throws(() => averageRanks([[1], [2]]), (e) => isAssayError(e, 'ASSAY_STATS_TOO_FEW_OBSERVATIONS'))
  })
})

// Reference: R qtukey(1 - alpha, k, Inf) / sqrt(2) (Demšar 2006 Table 5). R's qtukey is itself an iterative
// solution documented to about 4 decimals, and stdlib's port stops at a slightly different point, so the
// tolerance here is 1e-7 relative.
describe('nemenyiCriticalDifference against R qtukey', () => {
  for (const c of R.nemenyi) {
    it(`${c.call}, n = ${c.n}`, () => {
      const r = nemenyiCriticalDifference(c.k, c.n, c.alpha)
      assertClose(r.qAlpha, c.qAlpha, 1e-7)
      assertClose(r.criticalDifference, c.criticalDifference, 1e-7)
    })
  }
  it("matches Demšar's printed table (q_0.05: k = 2 1.960, k = 5 2.728, k = 10 3.164)", () => {
    assert.equal(nemenyiCriticalDifference(2, 10).qAlpha.toFixed(3), '1.960')
    assert.equal(nemenyiCriticalDifference(5, 10).qAlpha.toFixed(3), '2.728')
    assert.equal(nemenyiCriticalDifference(10, 10).qAlpha.toFixed(3), '3.164')
  })
  it('rejects k < 2, n < 1 and alpha outside (0, 1)', () => {
    assert.throws(() => nemenyiCriticalDifference(1, 10), (e) => isAssayError(e, 'ASSAY_STATS_TOO_FEW_OBSERVATIONS'))
    assert.throws(() => nemenyiCriticalDifference(3, 0), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_COUNT'))
    assert.throws(() => nemenyiCriticalDifference(3, 5, 1), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => nemenyiCriticalDifference(-2, 5), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_COUNT'))
  })
})
