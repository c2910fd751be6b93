/**
 * Would a fallback test hold the level where SKEWED_DIFFERENCES fires? Seeded lognormal(0, 1)
 * differences minus their mean (true Δ = 0, test/calibration/simulation.ts skewedPairs); two-sided
 * α = 0.05. Per n, the false-positive rate of: the paired t-test (the decision today); the
 * studentized bootstrap (pairedDecision interval 'bootstrap-t', 999 resamples); the paired sign-flip
 * permutation test (1,999 resamples, exact at n = 10); and "t, but bootstrap-t whenever
 * SKEWED_DIFFERENCES fires". Clopper–Pearson 95% intervals.
 * Run: node --import tsx bench/skewed-fallbacks.ts [--replications R]   (results: bench/results/calibration.md)
 */
import { pairedDecision, pairedPermutationTest } from '../src/stats/index.js'
import { formatRates, simulate, skewedPairs, summarize, type Rate } from '../test/calibration/simulation.js'

const i = process.argv.indexOf('--replications')
const replications = i < 0 ? 2000 : Number(process.argv[i + 1])
const ALPHA = 0.05
const measures = {
  t: 'paired t-test (today)',
  bootstrapT: 'studentized bootstrap (bootstrap-t)',
  signFlip: 'sign-flip permutation test',
  fallback: 't, bootstrap-t when SKEWED_DIFFERENCES fires',
} as const
const rates: Rate[] = []
for (const [k, n] of [10, 20, 50].entries()) {
  const counts = simulate(7000 + k, replications, (rng, rep) => {
    const { a, b } = skewedPairs(rng, n, 1)
    const t = pairedDecision(a, b)
    const boot = pairedDecision(a, b, { interval: 'bootstrap-t', resamples: 999, seed: rep })
    const skewed = t.warnings.some((w) => w.code === 'SKEWED_DIFFERENCES')
    return {
      t: t.pValue < ALPHA,
      bootstrapT: boot.pValue < ALPHA,
      signFlip: pairedPermutationTest(a, b, { resamples: 1999, seed: rep }).pValue < ALPHA,
      fallback: (skewed ? boot : t).pValue < ALPHA,
    }
  })
  for (const [key, measure] of Object.entries(measures)) {
    const c = counts[key as keyof typeof measures]
    rates.push({ setting: `skewed differences (lognormal σ = 1), n = ${n}`, feature: 'compare', measure: `${measure}: p < 0.05 under Δ = 0`, kind: 'at-most', nominal: ALPHA, hits: c.hits, replications: c.replications })
  }
}
const summaries = rates.map(summarize)
process.stdout.write(`${formatRates(summaries)}\n`)
