/**
 * The reported Monte Carlo standard error of a bootstrap interval end must match how much that end
 * actually moves from seed to seed. Independent check: rerun with 200 seeds and compare the empirical
 * standard deviation of each end with the average reported value (200 seeds pin the empirical sd to
 * about ±5 %; the estimate itself is an approximation, so the ratio must lie in [0.75, 1.33]).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { almostStochasticOrder, bootstrapInterval, pairedBootstrap, probabilityOfImprovement, stratifiedBootstrapInterval } from '../../src/stats/index.js'

const SEEDS = 200

function sample(n: number, shift: number, k: number): number[] {
  // A fixed, skewed sample (no generator involved): quantiles of an exponential, permuted.
  return Array.from({ length: n }, (_, i) => shift - Math.log(1 - ((i * k) % n + 0.5) / n))
}

function sd(values: number[]): number {
  const m = values.reduce((s, v) => s + v, 0) / values.length
  return Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1))
}

function agrees(what: string, ends: number[], reported: number[], upper = 1.33): void {
  const ratio = sd(ends) / (reported.reduce((s, v) => s + v, 0) / reported.length)
  assert.ok(ratio > 0.75 && ratio < upper, `${what}: empirical sd / reported Monte Carlo SE = ${ratio.toFixed(3)}`)
}

function checkEnds(what: string, run: (seed: number) => { ci: [number, number]; ciMonteCarloStandardError: [number, number] }, upper?: number): void {
  const results = Array.from({ length: SEEDS }, (_, seed) => run(seed))
  for (const end of [0, 1]) agrees(`${what} ci[${end}]`, results.map((r) => r.ci[end]), results.map((r) => r.ciMonteCarloStandardError[end]), upper)
}

describe('Monte Carlo standard errors of interval ends', () => {
  const x = sample(40, 0, 7)
  const y = sample(40, 0.3, 11)

  test('bootstrapInterval: percentile, basic and BCa', () => {
    for (const method of ['percentile', 'basic'] as const) {
      checkEnds(`bootstrapInterval ${method}`, (seed) => bootstrapInterval(x, 'mean', { method, resamples: 400, seed }))
    }
    // BCa: the estimate leaves out the Monte Carlo error of the bias correction z0 (documented), so it
    // runs low (about 1.25x here); it must still be of the right size.
    checkEnds('bootstrapInterval BCa', (seed) => bootstrapInterval(x, 'mean', { method: 'BCa', resamples: 400, seed }), 1.6)
    checkEnds('bootstrapInterval median', (seed) => bootstrapInterval(x, 'median', { resamples: 400, seed }))
    const r = bootstrapInterval(x, 'mean', { resamples: 400 })
    assert.match(r.ciMonteCarloMethod, /order statistics/)
  })

  test('stratifiedBootstrapInterval', () => {
    const strata = x.map((_, i) => i % 4)
    checkEnds('stratified', (seed) => stratifiedBootstrapInterval(x, strata, { statistic: 'mean', resamples: 400, seed }))
  })

  test('pairedBootstrap: two-sided, and the closed end of a one-sided interval (the open end has 0)', () => {
    checkEnds('pairedBootstrap', (seed) => pairedBootstrap(x, y, { resamples: 400, seed }))
    const greater = Array.from({ length: SEEDS }, (_, seed) => pairedBootstrap(x, y, { resamples: 400, seed, alternative: 'greater' }))
    agrees('pairedBootstrap greater ci[0]', greater.map((r) => r.ci[0]), greater.map((r) => r.ciMonteCarloStandardError[0]))
    assert.ok(greater.every((r) => r.ciMonteCarloStandardError[1] === 0))
    // Reported SEs shrink like 1/sqrt(B).
    const small = pairedBootstrap(x, y, { resamples: 1000, seed: 1 }).ciMonteCarloStandardError[0]
    const large = pairedBootstrap(x, y, { resamples: 16000, seed: 1 }).ciMonteCarloStandardError[0]
    assert.ok(large / small > 0.15 && large / small < 0.35, `ratio ${large / small} (expected about 1/4)`)
  })

  test('probabilityOfImprovement', () => {
    checkEnds('probabilityOfImprovement', (seed) => probabilityOfImprovement(x, y, { resamples: 400, seed }))
  })

  test('almostStochasticOrder: epsilonMin', () => {
    const results = Array.from({ length: SEEDS }, (_, seed) => almostStochasticOrder(y, x, { resamples: 100, seed }))
    assert.ok(results.every((r) => r.epsilonMin > 0 && r.epsilonMin < 1), 'not clipped, so the estimate applies')
    agrees('almostStochasticOrder epsilonMin', results.map((r) => r.epsilonMin), results.map((r) => r.epsilonMinMonteCarloStandardError))
  })
})
