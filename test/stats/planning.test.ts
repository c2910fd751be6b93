import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isAssayError } from '../../src/errors.js'
import {
  expectedMaxPerformance,
  minimumDetectableEffect,
  sampleSizePaired,
  sampleSizeProportions,
  seedsNeeded,
} from '../../src/stats/planning.js'
import { assertClose } from './assert-close.js'
import { R } from './part-b-fixtures.js'

const P = R.planning

// Reference: formulas written out in R with qnorm (scripts/fixtures/stats-part-b.R):
// n = ((qnorm(1 - alpha/tails) + qnorm(power)) * sd_d / delta)^2, sd_d^2 = sA^2 + sB^2 - 2 rho sA sB (Miller 2024).
describe('sampleSizePaired', () => {
  for (const c of P.paired) {
    it(`delta ${c.delta}, sdA ${c.sdA}, sdB ${c.sdB}, rho ${c.correlation}, ${c.alternative}`, () => {
      const r = sampleSizePaired({ delta: c.delta, sdA: c.sdA, sdB: c.sdB, correlation: c.correlation, alpha: c.alpha, power: c.power, alternative: c.alternative })
      assertClose(r.nExact, c.nExact, 1e-9)
      assert.equal(r.n, c.n)
      assertClose(r.sdDifference, c.sdDifference, 1e-12)
      const direct = sampleSizePaired({ delta: c.delta, sdDifference: c.sdDifference, alpha: c.alpha, power: c.power, alternative: c.alternative })
      assert.equal(direct.n, c.n)
    })
  }
  it('rejects delta = 0, conflicting spreads, |rho| > 1 and a zero-variance difference', () => {
    assert.throws(() => sampleSizePaired({ delta: 0, sdDifference: 1 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => sampleSizePaired({ delta: 1, sdDifference: 1, sdA: 1 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => sampleSizePaired({ delta: 1, sdA: 1, sdB: 1, correlation: 1.5 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => sampleSizePaired({ delta: 1, sdA: 1, sdB: 1, correlation: 1 }), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
    assert.throws(() => sampleSizePaired({ delta: 1, sdDifference: 1, power: 1 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
  })
})

// Reference: R power.prop.test(p1, p2, sig.level, power, tol = 1e-12)$n (uniroot on the same equation).
describe('sampleSizeProportions against R power.prop.test', () => {
  for (const c of P.proportions) {
    it(c.call, () => {
      const r = sampleSizeProportions({ p1: c.p1, p2: c.p2, alpha: c.alpha, power: c.power, alternative: c.alternative })
      assertClose(r.nExact, c.nExact, 1e-9)
      assert.equal(r.n, c.n)
    })
  }
  it('p1 = p2 is degenerate; probabilities must be in (0, 1)', () => {
    assert.throws(() => sampleSizeProportions({ p1: 0.5, p2: 0.5 }), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
    assert.throws(() => sampleSizeProportions({ p1: 0, p2: 0.5 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
  })
})

describe('minimumDetectableEffect', () => {
  for (const c of P.mde) {
    it(`n ${c.n}, sd_d ${c.sdDifference} (R: (qnorm(1 - alpha/2) + qnorm(power)) * sd / sqrt(n))`, () => {
      const r = minimumDetectableEffect({ n: c.n, sdDifference: c.sdDifference, alpha: c.alpha, power: c.power })
      assertClose(r.minimumDetectableEffect, c.mde, 1e-9)
    })
  }
  it('is the inverse of sampleSizePaired', () => {
    const mde = minimumDetectableEffect({ n: 400, sdA: 0.45, sdB: 0.5, correlation: 0.6 }).minimumDetectableEffect
    assertClose(sampleSizePaired({ delta: mde, sdA: 0.45, sdB: 0.5, correlation: 0.6 }).nExact, 400, 1e-9)
  })
  it('rejects n = 0', () => {
    assert.throws(() => minimumDetectableEffect({ n: 0, sdDifference: 1 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_COUNT'))
  })
})

// Reference: Noether (1987) formula written out in R: (qnorm(1 - alpha) + qnorm(power))^2 / (6 (gamma - 1/2)^2).
describe('seedsNeeded', () => {
  for (const c of P.seeds) {
    it(`gamma ${c.gamma}, alpha ${c.alpha}, power ${c.power}`, () => {
      const r = seedsNeeded({ gamma: c.gamma, alpha: c.alpha, power: c.power })
      assertClose(r.nExact, c.nExact, 1e-9)
      assert.equal(r.n, c.n)
    })
  }
  it('defaults reproduce Bouthillier et al. (2021): 29 runs for gamma = 0.75, alpha = beta = 0.05', () => {
    assert.equal(seedsNeeded().n, 29)
  })
  it('rejects gamma outside (0.5, 1)', () => {
    assert.throws(() => seedsNeeded({ gamma: 0.5 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => seedsNeeded({ gamma: 1 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
  })
})

// Reference: Dodge et al. (2019) formulas written out in R (with replacement: CDF form; without: choose()).
describe('expectedMaxPerformance', () => {
  const e = P.expectedMax
  it('with replacement, curve for n = 1..15', () => {
    const r = expectedMaxPerformance(e.scores, 15)
    assert.equal(r.curve.length, 15)
    r.curve.forEach((v, i) => assertClose(v, e.withReplacement[i], 1e-12, `n = ${i + 1}`))
    assert.equal(r.expectedMax, r.curve[14])
  })
  it('without replacement, curve for n = 1..N ends at the maximum', () => {
    const r = expectedMaxPerformance(e.scores, 10, { replacement: false })
    r.curve.forEach((v, i) => assertClose(v, e.withoutReplacement[i], 1e-12, `n = ${i + 1}`))
    assertClose(r.expectedMax, Math.max(...e.scores), 1e-12)
  })
  it('n = 1 is the mean; a single score is itself; all-equal scores are constant', () => {
    assertClose(expectedMaxPerformance([1, 2, 3, 6], 1).expectedMax, 3)
    assert.deepEqual(expectedMaxPerformance([0.7], 3).curve, [0.7, 0.7, 0.7])
    for (const v of expectedMaxPerformance([0.5, 0.5, 0.5], 3, { replacement: false }).curve) assertClose(v, 0.5, 1e-12)
  })
  it('rejects n > N without replacement, n < 1 and empty scores', () => {
    assert.throws(() => expectedMaxPerformance([1, 2], 3, { replacement: false }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_COUNT'))
    assert.throws(() => expectedMaxPerformance([1, 2], 0), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_COUNT'))
    assert.throws(() => expectedMaxPerformance([], 1), (e) => isAssayError(e, 'ASSAY_STATS_EMPTY_INPUT'))
  })
  it('the curve is non-decreasing and bounded by min and max (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 12 }), fc.boolean(), (s, rep) => {
        const n = rep ? 8 : s.length
        const c = expectedMaxPerformance(s, n, { replacement: rep }).curve
        for (let i = 0; i < c.length; i++) {
          assert.ok(c[i] >= Math.min(...s) - 1e-9 && c[i] <= Math.max(...s) + 1e-9)
          if (i > 0) assert.ok(c[i] >= c[i - 1] - 1e-9)
        }
      }),
    )
  })
})
