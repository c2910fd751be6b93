import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isAssayError } from '../../src/errors.js'
import { bootstrapInterval, intervalFromDistribution, stratifiedBootstrapInterval, type BootstrapMethod } from '../../src/stats/bootstrap.js'
import { assertClose } from './assert-close.js'
import { PY, data } from './part-a-fixtures.js'

describe('bootstrap intervals from scipy.stats.bootstrap\'s own bootstrap distribution', () => {
  for (const c of PY.bootstrap) {
    for (const method of ['percentile', 'basic', 'BCa'] as BootstrapMethod[]) {
      it(c.intervals[method].call, () => {
        const r = intervalFromDistribution(Float64Array.from(data(c.data)), c.statistic, Float64Array.from(c.distribution), method, c.confidenceLevel)
        assertClose(r.ci[0], c.intervals[method].ci[0], 1e-9)
        assertClose(r.ci[1], c.intervals[method].ci[1], 1e-9)
      })
    }
  }
})

describe('bootstrapInterval', () => {
  const x = data('r30_a')
  it('same seed gives an identical result; different seeds differ', () => {
    for (const method of ['percentile', 'basic', 'BCa'] as const) {
      const r = bootstrapInterval(x, 'mean', { method, resamples: 2000, seed: 4 })
      assert.deepEqual(bootstrapInterval(x, 'mean', { method, resamples: 2000, seed: 4 }), r)
      assert.notDeepEqual(bootstrapInterval(x, 'mean', { method, resamples: 2000, seed: 5 }).ci, r.ci)
      assert.equal(r.resamples, 2000)
      assert.equal(r.seed, 4)
    }
  })
  it('mean: percentile interval is close to the normal interval mean ± 1.96 * plug-in SE (n = 30, B = 20000)', () => {
    const r = bootstrapInterval(x, 'mean', { resamples: 20000, seed: 1 })
    const n = x.length
    const m = x.reduce((s, v) => s + v, 0) / n
    const se = Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / n / n)
    assertClose(r.standardError, se, 4 / Math.sqrt(2 * 20000))
    assert.ok(Math.abs(r.ci[0] - (m - 1.96 * se)) < 0.15 * se)
    assert.ok(Math.abs(r.ci[1] - (m + 1.96 * se)) < 0.15 * se)
  })
  it('median, iqm and custom statistics; a custom function equal to the mean reproduces the built-in mean', () => {
    const custom = bootstrapInterval(x, (s) => s.reduce((t, v) => t + v, 0) / s.length, { resamples: 500, seed: 2 })
    const builtin = bootstrapInterval(x, 'mean', { resamples: 500, seed: 2 })
    assertClose(custom.ci[0], builtin.ci[0], 1e-12)
    assertClose(custom.ci[1], builtin.ci[1], 1e-12)
    assert.equal(custom.statistic, 'custom')
    assert.equal(bootstrapInterval(x, 'median', { resamples: 200 }).statistic, 'median')
    assert.equal(bootstrapInterval(x, 'iqm', { resamples: 200, method: 'BCa' }).interval, 'BCa')
  })
  it('all-equal input: percentile and basic give a zero-width interval; BCa throws DEGENERATE_INPUT (scipy returns NaN)', () => {
    const c = [0.5, 0.5, 0.5, 0.5]
    assert.deepEqual(bootstrapInterval(c, 'mean', { resamples: 100 }).ci, [0.5, 0.5])
    assert.deepEqual(bootstrapInterval(c, 'median', { resamples: 100, method: 'basic' }).ci, [0.5, 0.5])
    assert.throws(() => bootstrapInterval(c, 'mean', { method: 'BCa', resamples: 100 }), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
  })
  it('n = 1: percentile interval is the value; BCa throws DEGENERATE_INPUT', () => {
    assert.deepEqual(bootstrapInterval([7], 'mean', { resamples: 50 }).ci, [7, 7])
    assert.throws(() => bootstrapInterval([7], 'mean', { method: 'BCa', resamples: 50 }), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
  })
  it('ties: median of heavily tied data stays on the observed values', () => {
    const r = bootstrapInterval([1, 1, 1, 2, 2, 3], 'median', { resamples: 1000 })
    assert.ok(r.ci[0] >= 1 && r.ci[1] <= 3)
  })
  it('bad input throws', () => {
    assert.throws(() => bootstrapInterval([], 'mean'), (e) => isAssayError(e, 'ASSAY_STATS_EMPTY_INPUT'))
    assert.throws(() => bootstrapInterval([1, 2], 'mode' as 'mean'), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => bootstrapInterval([1, 2], 'mean', { method: 'studentized' as 'basic' }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => bootstrapInterval([1, 2], () => NaN, { resamples: 10 }), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
  })
  it('properties: percentile interval of the mean contains the estimate, and is JSON-serialisable', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -100, max: 100 }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 0, max: 1000 }), (v, seed) => {
        const r = bootstrapInterval(v, 'mean', { resamples: 300, seed })
        assert.ok(r.ci[0] <= r.estimate && r.estimate <= r.ci[1])
        assert.deepEqual(JSON.parse(JSON.stringify(r)), r)
      }),
      { numRuns: 100 },
    )
  })
})

describe('stratifiedBootstrapInterval (rliable StratifiedBootstrap)', () => {
  it('strata that are constant inside make every resample identical', () => {
    const r = stratifiedBootstrapInterval([1, 1, 1, 5, 5, 9], ['a', 'a', 'a', 'b', 'b', 'c'], { statistic: 'mean', resamples: 200 })
    assertClose(r.ci[0], 22 / 6, 1e-12)
    assertClose(r.ci[1], 22 / 6, 1e-12)
    assert.equal(r.strata, 3)
  })
  it('standard error of the mean matches the stratified formula sqrt(sum n_s^2 var_s / n_s) / N', () => {
    const x = data('r60_a')
    const strata = x.map((_, i) => i % 4)
    const r = stratifiedBootstrapInterval(x, strata, { statistic: 'mean', resamples: 20000, seed: 8 })
    let v = 0
    for (let s = 0; s < 4; s++) {
      const g = x.filter((_, i) => i % 4 === s)
      const m = g.reduce((t, u) => t + u, 0) / g.length
      v += g.reduce((t, u) => t + (u - m) ** 2, 0) // n_s^2 * plug-in var_s / n_s = sum of squares
    }
    const expected = Math.sqrt(v) / x.length
    assertClose(r.standardError, expected, 4 / Math.sqrt(2 * 20000))
  })
  it('defaults to the IQM, percentile, 10000 resamples, seed 0; same seed identical', () => {
    const x = data('r30_a')
    const strata = x.map((_, i) => (i < 10 ? 'task1' : i < 20 ? 'task2' : 'task3'))
    const r = stratifiedBootstrapInterval(x, strata)
    assert.equal(r.statistic, 'iqm')
    assert.equal(r.interval, 'percentile')
    assert.equal(r.resamples, 10000)
    assert.equal(r.seed, 0)
    assert.deepEqual(stratifiedBootstrapInterval(x, strata), r)
    assert.ok(r.ci[0] <= r.estimate && r.estimate <= r.ci[1])
  })
  it('refuses BCa, mismatched lengths and bad labels', () => {
    assert.throws(() => stratifiedBootstrapInterval([1, 2], [1, 1], { method: 'BCa' as 'basic' }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => stratifiedBootstrapInterval([1, 2], [1]), (e) => isAssayError(e, 'ASSAY_STATS_LENGTH_MISMATCH'))
    assert.throws(() => stratifiedBootstrapInterval([1, 2], [1, null as unknown as number]), (e) => isAssayError(e, 'ASSAY_INVALID_ARGUMENT'))
  })
})
