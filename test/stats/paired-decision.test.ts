import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { isAssayError } from '../../src/errors.js'
import { createRandom, pairedDecision, pairedDecisions } from '../../src/stats/index.js'
import { constantGroupsEvidence } from '../../src/stats/paired-decision.js'
import type { Alternative } from '../../src/stats/validate.js'
import { assertClose, assertCloseAll } from './assert-close.js'

/** Reference values: scripts/fixtures/paired-decision.py (statsmodels OLS cluster covariance with use_t, SciPy). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const REF: any = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/paired-decision.json', import.meta.url)), 'utf8'), (_k, v: unknown) =>
  v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v,
)

describe('pairedDecision against statsmodels and SciPy', () => {
  for (const c of REF.clustered) {
    it(`cluster-robust CR1 t on C − 1 df: ${c.name}, ${c.alternative}, null ${c.nullDifference}`, () => {
      const r = pairedDecision(c.a, c.b, { clusters: c.clusters, alternative: c.alternative as Alternative, nullDifference: c.nullDifference, confidenceLevel: 0.95 })
      assert.equal(r.method, 'Cluster-robust t-test (CR1 standard error, t on C − 1 df)')
      assert.equal(r.df, c.df)
      assertClose(r.estimate, c.estimate, 1e-9)
      assertClose(r.standardError as number, c.standardError, 1e-9)
      assertClose(r.pValue, c.pValue, 1e-8)
      assertCloseAll(r.ci as [number, number], c.ci, 1e-8)
    })
  }
  for (const c of REF.paired) {
    it(`paired t: ${c.alternative}`, () => {
      const r = pairedDecision(c.a, c.b, { alternative: c.alternative as Alternative })
      assert.equal(r.method, 'Paired t-test')
      assertClose(r.pValue, c.pValue, 1e-9)
      assertClose(r.statistic as number, c.statistic, 1e-9)
      assertCloseAll(r.ci as [number, number], c.ci, 1e-9)
    })
  }
  for (const c of REF.mcnemar) {
    it(`exact McNemar on 0/1 scores: ${c.alternative}`, () => {
      const r = pairedDecision(c.a, c.b, { scoreType: 'binary', alternative: c.alternative as Alternative })
      assert.match(r.method, /Exact McNemar/)
      assertClose(r.pValue, c.pValue, 1e-9)
    })
  }
  for (const c of REF.constantGroups) {
    it(`groups with no spread: exact permutation test, ${c.a.length} runs of ${c.a[0]} vs ${c.b.length} of ${c.b[0]}`, () => {
      const shift = c.a[0] - c.b[0]
      const r = constantGroupsEvidence(c.a.length, c.b.length, shift, 0.95)
      assertClose(r.pValue, c.pValue, 1e-12)
      // The exact rule: the shift itself when p reaches the level, else no bound at all (never a zero-width guess).
      assert.deepEqual(r.ci, c.pValue <= 0.05 ? [shift, shift] : [-Infinity, Infinity])
    })
  }
  for (const c of REF.sign) {
    it(`exact sign test for constant differences: n = ${c.n}, ${c.alternative}`, () => {
      const a = Array.from({ length: c.n }, () => 1.25)
      const b = Array.from({ length: c.n }, () => 1)
      const r = pairedDecision(a, b, { alternative: c.alternative as Alternative })
      assert.equal(r.data, 'constant')
      assert.match(r.method, /^exact sign test/)
      assertClose(r.pValue, c.alternative === 'less' ? 1 : c.pValue, 1e-12)
    })
  }
})

describe('pairedDecision: degenerate data, one rule', () => {
  it('identical sides are identical: no interval, p = 1', () => {
    const r = pairedDecision([0.3, 0.5, 0.9], [0.3, 0.5, 0.9])
    assert.equal(r.data, 'identical')
    assert.equal(r.ci, null)
    assert.equal(r.pValue, 1)
  })

  it('differences of 0.1 that are not exactly equal in floating point are constant (the tolerance rule), decided by the sign test', () => {
    const a = [0.3, 0.7, 1.1, 0.9, 0.6, 0.2]
    const b = a.map((x) => x - 0.1)
    assert.ok(new Set(a.map((x, i) => x - (b[i] as number))).size > 1, 'the test needs differences that differ in the last bits')
    const r = pairedDecision(a, b)
    assert.equal(r.data, 'constant')
    assertClose(r.pValue, 2 * 0.5 ** 6, 1e-12)
    assertCloseAll(r.ci as [number, number], [0.1, 0.1], 1e-9)
  })

  it('two pairs each better by 0.25: p = 0.5 two-sided, 0.25 one-sided, an unbounded interval (no exact 95% bound from 2 signs)', () => {
    const two = pairedDecision([1, 0.75], [0.75, 0.5])
    assert.equal(two.pValue, 0.5)
    assert.deepEqual(two.ci, [-Infinity, Infinity])
    assert.equal(pairedDecision([1, 0.75], [0.75, 0.5], { alternative: 'greater' }).pValue, 0.25)
  })

  it('constant clustered differences count clusters, not examples, as independent units', () => {
    const r = pairedDecision([2, 2, 2, 2, 2, 2], [1, 1, 1, 1, 1, 1], { clusters: ['x', 'x', 'x', 'y', 'y', 'y'], alternative: 'greater' })
    assert.equal(r.pValue, 0.25)
    assert.equal(r.clusters, 2)
  })
})

describe('pairedDecision: warnings', () => {
  it('FEW_CLUSTERS below 20 clusters, and a design effect above 1', () => {
    const a = Array.from({ length: 40 }, (_, i) => (i % 7) / 7 + (i < 20 ? 0.5 : 0))
    const b = Array.from({ length: 40 }, () => 0)
    const r = pairedDecision(a, b, { clusters: a.map((_, i) => (i < 20 ? 'p' : 'q')) })
    assert.deepEqual(r.warnings.map((w) => w.code), ['FEW_CLUSTERS'])
    assert.equal(r.df, 1)
    assert.ok(r.designEffect > 1)
  })

  it('FEW_EXAMPLES below 30 pairs; none at 30', () => {
    const mk = (n: number) => pairedDecision(Array.from({ length: n }, (_, i) => Math.sin(i)), Array.from({ length: n }, (_, i) => Math.cos(i)))
    assert.ok(mk(29).warnings.some((w) => w.code === 'FEW_EXAMPLES'))
    assert.ok(!mk(30).warnings.some((w) => w.code === 'FEW_EXAMPLES'))
  })

  it('SKEWED_DIFFERENCES with the skewness when n is below Cochran’s 25 g1²; none for symmetric differences', () => {
    const skewed = Array.from({ length: 50 }, (_, i) => (i === 0 ? 40 : (i % 5) / 10))
    const r = pairedDecision(skewed, skewed.map(() => 0))
    const w = r.warnings.find((x) => x.code === 'SKEWED_DIFFERENCES')
    assert.ok(w !== undefined && r.skewness !== null && r.skewness > 5)
    assert.match(w.message, /skewness \d+\.\d\d/)
    const symmetric = Array.from({ length: 50 }, (_, i) => ((i % 10) - 4.5) / 10)
    assert.ok(!pairedDecision(symmetric, symmetric.map(() => 0)).warnings.some((x) => x.code === 'SKEWED_DIFFERENCES'))
  })
})

describe('pairedDecision: studentized bootstrap', () => {
  it('is a pure function of the seed, and its one-sided bound agrees with its p-value', () => {
    const a = Array.from({ length: 12 }, (_, i) => Math.sin(i * 1.7) + 0.4)
    const b = Array.from({ length: 12 }, (_, i) => Math.cos(i * 0.9) * 0.2)
    const opts = { alternative: 'greater' as const, confidenceLevel: 0.95, interval: 'bootstrap-t' as const, resamples: 2000, seed: 7 }
    const r1 = pairedDecision(a, b, opts)
    assert.deepEqual(pairedDecision(a, b, opts), r1)
    assert.equal(r1.ci?.[1], Infinity)
    assert.equal((r1.ci as [number, number])[0] > 0, r1.pValue < 0.05)
  })
})

describe('pairedDecisions: many pairs under one set of options', () => {
  const rng = createRandom(21)
  const baseline = Array.from({ length: 300 }, () => (rng.nextFloat() < 0.7 ? 1 : 0))
  const candidates = Array.from({ length: 6 }, (_, k) => baseline.map((v) => (rng.nextFloat() < 0.2 + 0.01 * k ? 1 - v : v)))
  const continuous = Array.from({ length: 300 }, () => rng.nextFloat())
  const pairs = [
    ...candidates.map((a) => ({ a, b: baseline })),
    { a: continuous, b: baseline },
    { a: continuous.slice(0, 120), b: baseline.slice(0, 120) },
    { a: baseline, b: baseline },
    { a: continuous, b: continuous.map((v) => v - 0.25) },
    { a: continuous.slice(0, 100), b: baseline.slice(0, 100), clusters: Array.from({ length: 100 }, (_, i) => `c${i % 25}`) },
  ]
  for (const interval of ['t', 'bootstrap-t'] as const) {
    it(`${interval}: result k is exactly pairedDecision of pair k (shared resamples change nothing)`, () => {
      const options = { interval, resamples: 500, seed: 4, alternative: 'two-sided' as const }
      const together = pairedDecisions(pairs, options)
      assert.equal(together.length, pairs.length)
      pairs.forEach((p, k) => assert.deepEqual(together[k], pairedDecision(p.a, p.b, { ...options, clusters: p.clusters })))
      if (interval === 'bootstrap-t') assert.equal(together.filter((r) => r.method === 'Paired studentized bootstrap (bootstrap-t)').length, 8)
    })
  }

  it('no pairs: no results; a bad pair is refused as pairedDecision refuses it', () => {
    assert.deepEqual(pairedDecisions([], { interval: 'bootstrap-t', resamples: 100 }), [])
    assert.throws(() => pairedDecisions([{ a: [1, 2, 3], b: [1, 2] }]), (e: unknown) => isAssayError(e) && e.code === 'ASSAY_STATS_LENGTH_MISMATCH')
  })
})
