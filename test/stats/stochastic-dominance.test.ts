import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isAssayError } from '../../src/errors.js'
import { createRandom } from '../../src/stats/random.js'
import { almostStochasticOrder, probabilityOfImprovement } from '../../src/stats/stochastic-dominance.js'
import { assertClose } from './assert-close.js'
import { R, SCIPY } from './part-b-fixtures.js'

function normalSample(n: number, mean: number, sd: number, seed: number): number[] {
  const rng = createRandom(seed)
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const u = 1 - rng.nextFloat()
    const v = rng.nextFloat()
    out.push(mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v))
  }
  return out
}

// Reference: rliable's definition for one task, scipy.stats.mannwhitneyu(x, y).statistic / (n m)
// (scripts/fixtures/stats-part-b.py).
describe('probabilityOfImprovement', () => {
  for (const c of SCIPY.probabilityOfImprovement) {
    it(c.call, () => {
      const d = R.datasets[c.name]
      const r = probabilityOfImprovement(d.a, d.b, { resamples: 200 })
      assertClose(r.estimate, c.estimate, 1e-12)
      assertClose(probabilityOfImprovement(d.b, d.a, { resamples: 10 }).estimate, c.reverse, 1e-12)
      assert.ok(r.ci[0] <= r.estimate + 1e-12 && r.estimate - 1e-12 <= r.ci[1] + 0.2)
    })
  }
  it('ties count one half; n = 1 per group', () => {
    assert.equal(probabilityOfImprovement([1], [1], { resamples: 5 }).estimate, 0.5)
    assert.equal(probabilityOfImprovement([2], [1], { resamples: 5 }).estimate, 1)
    assert.equal(probabilityOfImprovement([1, 2, 3], [2, 2, 2], { resamples: 5 }).estimate, 0.5)
  })
  it('all-equal inputs: estimate 0.5 and a zero-width interval', () => {
    const r = probabilityOfImprovement([4, 4, 4], [4, 4], { resamples: 50 })
    assert.equal(r.estimate, 0.5)
    assert.deepEqual(r.ci, [0.5, 0.5])
  })
  it('is reproducible for a seed and names its parameters', () => {
    const a = normalSample(20, 0.3, 1, 1)
    const b = normalSample(25, 0, 1, 2)
    const r = probabilityOfImprovement(a, b, { resamples: 300, seed: 9, confidenceLevel: 0.9 })
    assert.deepEqual(r, probabilityOfImprovement(a, b, { resamples: 300, seed: 9, confidenceLevel: 0.9 }))
    assert.equal(r.resamples, 300)
    assert.equal(r.seed, 9)
    assert.equal(r.confidenceLevel, 0.9)
  })
  it('P(A > B) + P(B > A) = 1 (property)', () => {
    const sample = fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 10 })
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const ab = probabilityOfImprovement(a, b, { resamples: 1 }).estimate
        const ba = probabilityOfImprovement(b, a, { resamples: 1 }).estimate
        assertClose(ab + ba, 1, 1e-12)
        assert.ok(ab >= 0 && ab <= 1)
      }),
      { numRuns: 100 },
    )
  })
  it('rejects bad input', () => {
    assert.throws(() => probabilityOfImprovement([], [1]), (e) => isAssayError(e, 'ASSAY_STATS_EMPTY_INPUT'))
    assert.throws(() => probabilityOfImprovement([1], [1], { confidenceLevel: 2 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
  })
})

describe('almostStochasticOrder', () => {
  // Independent NumPy implementation of deepsig's compute_violation_ratio (scripts/fixtures/stats-part-b.py).
  for (const c of SCIPY.violationRatio) {
    it(`violation ratio matches the independent NumPy computation: ${c.name} (dt = ${c.dt})`, () => {
      const d = c.a ? { a: c.a, b: c.b } : R.datasets[c.name]
      const ab = almostStochasticOrder(d.a, d.b, { resamples: 20, dt: c.dt })
      const ba = almostStochasticOrder(d.b, d.a, { resamples: 20, dt: c.dt })
      assertClose(ab.violationRatio, c.ab, 1e-12)
      assertClose(ba.violationRatio, c.ba, 1e-12)
      // the plug-in ratio is exactly swap-symmetric
      assertClose(ab.violationRatio + ba.violationRatio, 1, 1e-12)
    })
  }
  it('two-point quantile functions by hand: 99 of 200 grid points violate, each by 1 (0.495)', () => {
    // F_a^-1 = 1 on [0, 1/2], 2 on (1/2, 1); F_b^-1 = 0 then 3: diff = -1 on 101 grid points, +1 on 99.
    assertClose(almostStochasticOrder([1, 2], [0, 3], { resamples: 10 }).violationRatio, 99 / 200, 1e-12)
  })
  it('clear dominance gives epsilon_min near 0 and aDominates', () => {
    const a = normalSample(40, 2, 0.5, 11)
    const b = normalSample(40, 0, 0.5, 12)
    const r = almostStochasticOrder(a, b, { resamples: 300 })
    assert.ok(r.epsilonMin < 0.05, String(r.epsilonMin))
    assert.equal(r.aDominates, true)
    const back = almostStochasticOrder(b, a, { resamples: 300 })
    assert.ok(back.epsilonMin > 0.95, String(back.epsilonMin))
    assert.equal(back.aDominates, false)
  })
  it('identical distributions: the violation ratio averages 0.5 and dominance is rarely claimed', () => {
    // For one pair of samples the plug-in ratio can sit anywhere in [0, 1] (a pure location shift gives exactly 0 or 1),
    // so the property is checked over 40 independent replications.
    let sum = 0
    let claims = 0
    for (let k = 0; k < 40; k++) {
      const r = almostStochasticOrder(normalSample(50, 0, 1, 100 + 2 * k), normalSample(50, 0, 1, 101 + 2 * k), { resamples: 20 })
      sum += r.violationRatio
      if (r.aDominates) claims++
      assert.ok(r.epsilonMin >= r.violationRatio)
    }
    assert.ok(Math.abs(sum / 40 - 0.5) < 0.15, String(sum / 40))
    assert.ok(claims <= 6, String(claims))
  })
  it('swap symmetry: epsilon_min(a, b) ≈ 1 - epsilon_min(b, a), off exactly by the two confidence margins', () => {
    const a = normalSample(200, 0.3, 1, 31)
    const b = normalSample(210, 0, 2, 32)
    const ab = almostStochasticOrder(a, b, { resamples: 300 })
    const ba = almostStochasticOrder(b, a, { resamples: 300 })
    const margin = (r: typeof ab) => (r.bootstrapSigma / Math.sqrt((r.nA * r.nB) / (r.nA + r.nB))) * 1.6448536269514722
    assert.ok(ab.epsilonMin < 1 && ba.epsilonMin < 1, 'no clipping in this configuration')
    assertClose(ab.epsilonMin + ba.epsilonMin, 1 + margin(ab) + margin(ba), 1e-9)
    assert.ok(Math.abs(ab.epsilonMin - (1 - ba.epsilonMin)) < 0.5)
  })
  it('Bonferroni: more comparisons raise epsilon_min; parameters are recorded', () => {
    const a = normalSample(30, 0.3, 1, 41)
    const b = normalSample(30, 0, 1, 42)
    const one = almostStochasticOrder(a, b, { resamples: 200 })
    const five = almostStochasticOrder(a, b, { resamples: 200, numComparisons: 5 })
    assert.ok(five.epsilonMin >= one.epsilonMin)
    assertClose(five.correctedConfidenceLevel, 0.99, 1e-12)
    assert.equal(one.threshold, 0.2)
    assert.deepEqual(one, almostStochasticOrder(a, b, { resamples: 200 }))
    JSON.stringify(one)
  })
  it('identical samples are degenerate; bad options throw', () => {
    assert.throws(() => almostStochasticOrder([1, 2, 3], [3, 2, 1]), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
    assert.throws(() => almostStochasticOrder([1, 2], [3, 4], { numComparisons: 0 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => almostStochasticOrder([1, 2], [3, 4], { dt: 0 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => almostStochasticOrder([], [3, 4]), (e) => isAssayError(e, 'ASSAY_STATS_EMPTY_INPUT'))
  })
  it('n = 1 per group works (epsilon is 0 or 1)', () => {
    assert.equal(almostStochasticOrder([2], [1], { resamples: 10 }).epsilonMin, 0)
    assert.equal(almostStochasticOrder([1], [2], { resamples: 10 }).epsilonMin, 1)
  })
})
