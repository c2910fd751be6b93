import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { alignExamples, alignRuns, detectScoreType } from '../../src/compare/align-examples.js'
import { binaryPairedBootstrap, binomialInverse } from '../../src/compare/binary-bootstrap.js'
import { groupComparison, summarizeGroup } from '../../src/compare/group-comparison.js'
import { twoLevelBootstrap } from '../../src/compare/two-level-bootstrap.js'
import { decideVerdict, requiredSeeds } from '../../src/compare/verdict.js'
import type { EvalColumns } from '../../src/record/types.js'
import { pairedBootstrap } from '../../src/stats/index.js'
import binomialCdf from '@stdlib/stats-base-dists-binomial-cdf'
import { uniforms } from './helpers.js'

function columns(ids: string[], scores: number[], opts: { missing?: number[]; clusters?: (string | null)[] } = {}): EvalColumns {
  return {
    dataset: 'val',
    datasetSha256: 'x',
    ids,
    clusters: opts.clusters ?? null,
    scores: { s: Float64Array.from(scores) },
    latencyMs: null,
    tokens: null,
    cost: null,
    outputHashes: null,
    missing: opts.missing ? { 'score:s': opts.missing } : {},
  }
}

describe('alignExamples', () => {
  it('takes the fast path when ids match in order', () => {
    const r = alignExamples(columns(['a', 'b', 'c'], [1, 0, 1]), columns(['a', 'b', 'c'], [0, 0, 1]), 's')
    assert.equal(r.sameOrder, true)
    assert.equal(r.pairs, 3)
    assert.equal(r.scoreType, 'binary')
    assert.deepEqual(Array.from(r.a), [1, 0, 1])
  })

  it('pairs by id in A order, counting unmatched, missing, non-finite and repeated ids per side', () => {
    const a = columns(['a', 'b', 'c', 'd', 'e', 'a'], [1, 2, NaN, 4, 5, 9], { missing: [4] })
    const b = columns(['e', 'd', 'c', 'b', 'z', 'z'], [5, 4, 3, 2, 1, 1], { clusters: ['k1', 'k1', 'k2', 'k2', null, null] })
    const r = alignExamples(a, b, 's')
    assert.equal(r.sameOrder, false)
    assert.deepEqual(r.ids, ['b', 'd'])
    assert.deepEqual(Array.from(r.b), [2, 4])
    assert.deepEqual(r.clusters, ['k2', 'k1'])
    assert.equal(r.lostA, 4)
    assert.equal(r.lostB, 4)
    assert.deepEqual(r.lost.a, { unmatched: 1, missingScore: 1, nonFinite: 1, duplicateId: 1 })
    assert.deepEqual(r.lost.b, { unmatched: 3, missingScore: 0, nonFinite: 0, duplicateId: 1 })
    assert.equal(r.scoreType, 'continuous')
  })

  it('throws ASSAY_METRIC_NOT_FOUND for a score one side lacks', () => {
    assert.throws(() => alignExamples(columns(['a'], [1]), columns(['a'], [1]), 'nope'), { code: 'ASSAY_METRIC_NOT_FOUND' })
  })

  it('aligns many runs on their common ids', () => {
    const r = alignRuns([columns(['a', 'b', 'c'], [1, 2, 3]), columns(['c', 'b'], [30, 20])], 's')
    assert.deepEqual(r.ids, ['b', 'c'])
    assert.deepEqual(r.scores.map((x) => Array.from(x)), [[2, 3], [20, 30]])
    assert.deepEqual(r.lost, [1, 0])
    assert.equal(detectScoreType(Float64Array.of(0, 1, 1)), 'binary')
  })
})

describe('binary paired bootstrap from counts', () => {
  it('inverts the binomial CDF exactly', () => {
    for (const [n, p] of [[10, 0.3], [1000, 0.01], [1_000_000, 0.17]] as const) {
      for (const u of uniforms(3, 50)) {
        const k = binomialInverse(u, n, p)
        assert.ok(binomialCdf(k, n, p) >= u)
        if (k > 0) assert.ok(binomialCdf(k - 1, n, p) < u)
      }
    }
  })

  it('matches the resampling paired bootstrap of assay/stats in distribution', () => {
    const n = 4000
    const u = uniforms(9, n)
    const v = uniforms(10, n)
    const a = Float64Array.from(u, (x) => (x < 0.8 ? 1 : 0))
    const b = Float64Array.from(v, (x) => (x < 0.75 ? 1 : 0))
    let bb = 0
    let cc = 0
    for (let i = 0; i < n; i++) {
      if (a[i]! > b[i]!) bb++
      if (a[i]! < b[i]!) cc++
    }
    const ours = binaryPairedBootstrap(n, bb, cc, { resamples: 20000, seed: 1, confidenceLevel: 0.95 })
    const reference = pairedBootstrap(a, b, { resamples: 20000, seed: 1 })
    assert.ok(Math.abs(ours.estimate - reference.estimate) < 1e-12)
    // Monte Carlo error of a 2.5% quantile with 20000 resamples is ~1% of the SE; allow 5%.
    assert.ok(Math.abs(ours.ci[0] - reference.ci[0]) < 0.05 * reference.standardError * 4)
    assert.ok(Math.abs(ours.ci[1] - reference.ci[1]) < 0.05 * reference.standardError * 4)
    assert.ok(Math.abs(ours.standardError - reference.standardError) < 0.03 * reference.standardError)
  })
})

describe('two-level bootstrap', () => {
  it('is wider than the examples-only bootstrap when seeds vary, and reproducible', () => {
    const base = uniforms(1, 300)
    const runs = (shift: number, seeds: number[]): Float64Array[] => seeds.map((s) => Float64Array.from(base, (x) => x + shift + s))
    const a = runs(0.02, [0.03, -0.03, 0.01, -0.01])
    const b = runs(0, [0.02, -0.02, 0.0, 0.01])
    const r = twoLevelBootstrap(a, b, { resamples: 2000, seed: 3, confidenceLevel: 0.95 })
    assert.deepEqual(r, twoLevelBootstrap(a, b, { resamples: 2000, seed: 3, confidenceLevel: 0.95 }))
    const meanA = a.reduce((s, x) => s + x.reduce((p, q) => p + q, 0) / x.length, 0) / a.length
    const meanB = b.reduce((s, x) => s + x.reduce((p, q) => p + q, 0) / x.length, 0) / b.length
    assert.ok(Math.abs(r.estimate - (meanA - meanB)) < 1e-12)
    // Examples are shared and every run is base + constant: all the spread comes from seeds.
    assert.ok(r.standardError > 0.005)
  })
})

describe('group summaries', () => {
  it('gives a group whose runs all have the same value no interval (never a zero-width one)', () => {
    const g = summarizeGroup({ label: 'A', runIds: ['r1', 'r2', 'r3'], seeds: [1, 2, 3], values: [0.644, 0.644, 0.644] }, 0.95)
    assert.equal(g.ci, null)
    assert.equal(g.sd, 0)
    assert.ok(summarizeGroup({ label: 'B', runIds: ['r1', 'r2'], seeds: [1, 2], values: [0.6, 0.7] }, 0.95).ci !== null)
  })
})

describe('group comparison without spread (the constant-data rule)', () => {
  const group = (label: string, values: number[]): Parameters<typeof groupComparison>[0] => ({ label, runIds: values.map((_, i) => `r${i}`), seeds: values.map((_, i) => i), values })
  const options = { confidenceLevel: 0.95, resamples: 200, seed: 0 }
  it('summarizes runs that agree up to rounding (0.7 three times) without an interval instead of throwing', () => {
    const values = [0.7, 0.7, 0.7] // their mean is 0.6999999999999998: an SD of rounding noise
    assert.equal(summarizeGroup(group('A', values), 0.95).ci, null)
  })
  it('reports identical groups as identical: no interval (never [0, 0]), p = 1, IDENTICAL_SIDES, inconclusive', () => {
    const r = groupComparison(group('A', [0.644, 0.644, 0.644]), group('B', [0.644, 0.644, 0.644]), options)
    assert.equal(r.ci, null)
    assert.equal(r.pValue, 1)
    assert.deepEqual(r.warnings.map((w) => w.code), ['IDENTICAL_SIDES'])
    assert.equal(decideVerdict({ estimate: r.estimate, ci: r.ci, pValue: r.pValue, alpha: 0.05, margin: 0.1, higherIsBetter: true }).verdict, 'inconclusive')
  })
  it('decides constant groups by the exact permutation test: 3 vs 3 cannot reach 0.05 (p = 0.1, SciPy), 5 vs 5 can', () => {
    const three = groupComparison(group('A', [0.7, 0.7, 0.7]), group('B', [0.6, 0.6, 0.6]), options)
    assert.ok(Math.abs(three.pValue - 0.1) < 1e-12, `p = ${three.pValue}`)
    assert.deepEqual(three.ci, [-Infinity, Infinity])
    assert.equal(decideVerdict({ estimate: three.estimate, ci: three.ci, pValue: three.pValue, alpha: 0.05, margin: null, higherIsBetter: true }).verdict, 'inconclusive')
    const five = groupComparison(group('A', Array(5).fill(0.7)), group('B', Array(5).fill(0.6)), options)
    assert.ok(Math.abs(five.pValue - 2 / 252) < 1e-12, `p = ${five.pValue}`)
    assert.equal(decideVerdict({ estimate: five.estimate, ci: five.ci, pValue: five.pValue, alpha: 0.05, margin: null, higherIsBetter: true }).verdict, 'better')
  })
})

describe('verdict rule', () => {
  const base = { alpha: 0.05, margin: null, higherIsBetter: true }
  it('needs both p < alpha and an interval excluding 0', () => {
    assert.equal(decideVerdict({ ...base, estimate: 0.1, ci: [0.05, 0.15], pValue: 0.01 }).verdict, 'better')
    assert.equal(decideVerdict({ ...base, estimate: -0.1, ci: [-0.15, -0.05], pValue: 0.01 }).verdict, 'worse')
    assert.equal(decideVerdict({ ...base, estimate: 0.1, ci: [-0.01, 0.2], pValue: 0.04 }).verdict, 'inconclusive')
    assert.equal(decideVerdict({ ...base, estimate: 0.1, ci: [0.01, 0.2], pValue: 0.06 }).verdict, 'inconclusive')
    // Identical sides have no interval: never better, never equivalent.
    assert.equal(decideVerdict({ ...base, estimate: 0, ci: null, pValue: 1 }).verdict, 'inconclusive')
    assert.equal(decideVerdict({ ...base, margin: 0.1, estimate: 0, ci: null, pValue: 1 }).verdict, 'inconclusive')
    assert.equal(decideVerdict({ ...base, higherIsBetter: false, estimate: -0.1, ci: [-0.15, -0.05], pValue: 0.01 }).verdict, 'better')
  })
  it('says equivalent only with a margin the interval lies inside', () => {
    assert.equal(decideVerdict({ ...base, margin: 0.2, estimate: 0.1, ci: [0.05, 0.15], pValue: 0.01 }).verdict, 'equivalent')
    assert.equal(decideVerdict({ ...base, margin: 0.1, estimate: 0.1, ci: [0.05, 0.15], pValue: 0.01 }).verdict, 'better')
    assert.equal(decideVerdict({ ...base, margin: 0.1, estimate: 0, ci: [-0.2, 0.2], pValue: 0.9 }).verdict, 'inconclusive')
  })
  it('computes seeds per group from the two-sample normal approximation', () => {
    // n = ((z_.975 + z_.8) / delta)^2 (sdA^2 + sdB^2)
    const z = 1.959963984540054 + 0.8416212335729143
    assert.equal(requiredSeeds({ estimate: 0.01, sdA: 0.01, sdB: 0.01, alpha: 0.05 }), Math.ceil(z * z * 2))
    assert.equal(requiredSeeds({ estimate: 0, sdA: 0.01, sdB: 0.01, alpha: 0.05 }), null)
  })
})
