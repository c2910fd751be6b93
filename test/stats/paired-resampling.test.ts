import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isAssayError } from '../../src/errors.js'
import { createRandom } from '../../src/stats/random.js'
import { indexResampler, pairedBootstrap, pairedPermutationTest, resampledMoments } from '../../src/stats/paired-resampling.js'
import { assertAbsClose, assertClose } from './assert-close.js'
import { PY, data } from './part-a-fixtures.js'

const mirror = { 'two-sided': 'two-sided', greater: 'less', less: 'greater' } as const
const eighth = fc.integer({ min: -80, max: 80 }).map((v) => v / 8)

describe('pairedPermutationTest: exact enumeration vs scipy.stats.permutation_test(permutation_type="samples")', () => {
  for (const c of PY.permutation) {
    it(c.call, () => {
      const r = pairedPermutationTest(c.a_values, c.b_values, { alternative: c.alternative, resamples: 2 ** c.a_values.length })
      assert.equal(r.exact, true)
      assertClose(r.statistic, c.statistic, 1e-12)
      assertClose(r.pValue, c.pValue, 1e-12)
      assert.equal(r.monteCarloStandardError, 0)
      assert.equal(r.resamples, 2 ** c.a_values.length)
    })
  }
})

describe('pairedPermutationTest: Monte Carlo', () => {
  const a = data('r30_a').slice(0, 16)
  const b = data('r30_b').slice(0, 16)
  for (const alternative of ['two-sided', 'greater', 'less'] as const) {
    it(`${alternative}: Monte Carlo p within 4 MCSE of the exact p (n = 16, 2^16 patterns enumerated)`, () => {
      const exact = pairedPermutationTest(a, b, { alternative, resamples: 2 ** 16 })
      assert.equal(exact.exact, true)
      const mc = pairedPermutationTest(a, b, { alternative, resamples: 10000, seed: 11 })
      assert.equal(mc.exact, false)
      assert.ok(mc.monteCarloStandardError > 0)
      assertAbsClose(mc.pValue, exact.pValue, 4 * mc.monteCarloStandardError + 1 / 10001)
    })
  }
  it('same seed gives an identical result; p = (k + 1) / (B + 1) is never 0', () => {
    const x = data('r60_a')
    const y = data('r60_b')
    assert.deepEqual(pairedPermutationTest(x, y, { seed: 5, resamples: 2000 }), pairedPermutationTest(x, y, { seed: 5, resamples: 2000 }))
    const strong = pairedPermutationTest(x.map((v) => v + 1), y, { resamples: 999, alternative: 'greater' })
    assert.equal(strong.pValue, 1 / 1000)
  })
})

describe('pairedPermutationTest: edge cases', () => {
  it('n = 1: two sign patterns, two-sided p = 1, greater p = 1/2', () => {
    assert.equal(pairedPermutationTest([3], [1]).pValue, 1)
    assert.equal(pairedPermutationTest([3], [1], { alternative: 'greater' }).pValue, 0.5)
  })
  it('all differences zero: the null distribution is degenerate at 0 and p = 1', () => {
    const r = pairedPermutationTest([1, 2, 3], [1, 2, 3])
    assert.equal(r.pValue, 1)
    assert.equal(r.statistic, 0)
  })
  it('ties and zeros among differences are handled (counted within rounding tolerance)', () => {
    // d = (1, 1, 0, -1): 16 patterns; the sum is >= 1 in 6 of them (sums are 1,1,-1 signed plus 0).
    const r = pairedPermutationTest([2, 2, 5, 0], [1, 1, 5, 1], { alternative: 'greater' })
    // Enumerate: signs of (1, 1, -1) give sums in {3, 1, 1, -1, 1, -1, -1, -3}, each twice (zero flips): P(S >= 1) = 8/16
    assert.equal(r.pValue, 0.5)
  })
  it('bad input throws', () => {
    assert.throws(() => pairedPermutationTest([1, 2], [1]), (e) => isAssayError(e, 'ASSAY_STATS_LENGTH_MISMATCH'))
    assert.throws(() => pairedPermutationTest([1, 2], [1, 2], { resamples: 0 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => pairedPermutationTest([1, 2], [1, 2], { seed: -1 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
  })
  it('properties: p in [0, 1], swap flips the estimate and mirrors p exactly, shift changes nothing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(eighth, eighth), { minLength: 1, maxLength: 24 }),
        fc.constantFrom('two-sided', 'greater', 'less' as const),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: -20, max: 20 }),
        (p, alternative, seed, shift) => {
          const a = p.map(([x]) => x)
          const b = p.map(([, y]) => y)
          const opts = { alternative, seed, resamples: 500 }
          const r = pairedPermutationTest(a, b, opts)
          assert.ok(r.pValue >= 0 && r.pValue <= 1)
          const s = pairedPermutationTest(b, a, { ...opts, alternative: mirror[alternative] })
          assert.ok(s.estimate === -r.estimate) // === treats 0 and -0 as equal
          assert.equal(s.pValue, r.pValue)
          assert.deepEqual(pairedPermutationTest(a.map((x) => x + shift), b.map((y) => y + shift), opts), r)
        },
      ),
      { numRuns: 150 },
    )
  })
})

/** Exact bootstrap P(mean* <= 0) and P(mean* >= 0) by enumerating all n^n index tuples. */
function exactBootstrapTails(d: number[]): { le: number; ge: number } {
  const n = d.length
  const total = n ** n
  let le = 0
  let ge = 0
  const idx = new Array<number>(n).fill(0)
  for (let t = 0; t < total; t++) {
    let s = 0
    for (let i = 0; i < n; i++) s += d[idx[i]]
    if (s <= 0) le++
    if (s >= 0) ge++
    for (let i = 0; i < n; i++) {
      if (++idx[i] < n) break
      idx[i] = 0
    }
  }
  return { le: le / total, ge: ge / total }
}

describe('pairedBootstrap', () => {
  it('estimate is mean(a) - mean(b); the standard error is close to the plug-in sd(d) / sqrt(n)', () => {
    const a = data('acc_a')
    const b = data('acc_b')
    const r = pairedBootstrap(a, b, { resamples: 10000, seed: 3 })
    const n = a.length
    const ma = a.reduce((s, v) => s + v, 0) / n
    const mb = b.reduce((s, v) => s + v, 0) / n
    assertClose(r.estimate, ma - mb, 1e-9)
    const d = a.map((v, i) => v - b[i])
    const md = d.reduce((s, v) => s + v, 0) / n
    const plugin = Math.sqrt(d.reduce((s, v) => s + (v - md) ** 2, 0) / n / n)
    // The relative Monte Carlo error of an sd from B draws is about 1 / sqrt(2B) = 0.7%; allow 4 of them.
    assertClose(r.standardError, plugin, 4 / Math.sqrt(2 * 10000))
  })
  it('draws one index set for both arms: a correlated pair has the tiny standard error of a - b', () => {
    const b = Array.from({ length: 200 }, (_, i) => i)
    const a = b.map((v, i) => v + 0.5 + (i % 2 ? 0.01 : -0.01))
    const r = pairedBootstrap(a, b, { resamples: 2000 })
    assert.ok(r.standardError < 0.002, String(r.standardError)) // independent draws would give about 8
    assert.ok(r.ci[0] > 0.49 && r.ci[1] < 0.51)
  })
  for (const alternative of ['two-sided', 'greater', 'less'] as const) {
    it(`${alternative}: bootstrap p within 4 MCSE of the exact bootstrap p (n = 6, all 6^6 resamples enumerated)`, () => {
      const a = [0.9, 0.7, 0.85, 0.6, 0.95, 0.8]
      const b = [0.8, 0.75, 0.7, 0.65, 0.7, 0.85]
      const d = a.map((v, i) => v - b[i])
      const { le, ge } = exactBootstrapTails(d)
      const expected = alternative === 'greater' ? le : alternative === 'less' ? ge : Math.min(1, 2 * Math.min(le, ge))
      const r = pairedBootstrap(a, b, { alternative, resamples: 20000, seed: 9 })
      assertAbsClose(r.pValue, expected, 4 * r.monteCarloStandardError + 2 / 20001)
    })
  }
  for (const n of [40000, 2100000]) {
    it(`large n = ${n} (the 32-bit and generic index paths): bootstrap SE close to sd(d) / sqrt(n)`, () => {
      const d = Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 1000)
      const zeros = new Float64Array(n)
      const resamples = n > 1e6 ? 30 : 200
      const r = pairedBootstrap(d, zeros, { resamples })
      const m = d.reduce((s, v) => s + v, 0) / n
      const plugin = Math.sqrt(d.reduce((s, v) => s + (v - m) ** 2, 0) / n / n)
      assertClose(r.standardError, plugin, 4 / Math.sqrt(2 * resamples))
      assert.deepEqual(pairedBootstrap(d.slice(0, 50000), zeros.subarray(0, 50000), { resamples: 3, seed: 1 }), pairedBootstrap(d.slice(0, 50000), zeros.subarray(0, 50000), { resamples: 3, seed: 1 }))
    })
  }
  it('one-sided intervals are open at ±Infinity', () => {
    const a = data('acc_a')
    const b = data('acc_b')
    assert.equal(pairedBootstrap(a, b, { alternative: 'greater', resamples: 500 }).ci[1], Infinity)
    assert.equal(pairedBootstrap(a, b, { alternative: 'less', resamples: 500 }).ci[0], -Infinity)
  })
  it('n = 1 and constant non-zero differences give no bootstrap evidence and throw; all-zero differences give p = 1, ci [0, 0]', () => {
    // Every resample of one pair, or of pairs that all differ by 2, has mean 2: a point mass, whose
    // percentile p-value would be the minimum 2 / (B + 1), "significant" from a single example.
    assert.throws(() => pairedBootstrap([3], [1], { resamples: 100 }), (e) => isAssayError(e, 'ASSAY_STATS_TOO_FEW_OBSERVATIONS'))
    for (const alternative of ['two-sided', 'greater', 'less'] as const) {
      assert.throws(() => pairedBootstrap([3, 4, 5], [1, 2, 3], { resamples: 100, alternative }), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
    }
    const z = pairedBootstrap([1, 2, 3], [1, 2, 3], { resamples: 100 })
    assert.deepEqual(z.ci, [0, 0])
    assert.equal(z.pValue, 1)
    // Two pairs that differ is enough.
    assert.ok(pairedBootstrap([3, 5], [1, 2], { resamples: 100 }).pValue > 0)
  })
  it('bad input throws', () => {
    assert.throws(() => pairedBootstrap([1, 2], [1]), (e) => isAssayError(e, 'ASSAY_STATS_LENGTH_MISMATCH'))
    assert.throws(() => pairedBootstrap([1, Infinity], [1, 2]), (e) => isAssayError(e, 'ASSAY_STATS_NON_FINITE_INPUT'))
    assert.throws(() => pairedBootstrap([1, 2], [1, 2], { confidenceLevel: 1.5 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => pairedBootstrap([1, 2], [1, 2], { resamples: 1.5 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
  })
  it('properties: ci contains the estimate, p in [0, 1], same seed identical, swap mirrors, shift changes nothing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(eighth, eighth), { minLength: 2, maxLength: 30 }),
        fc.constantFrom('two-sided', 'greater', 'less' as const),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: -20, max: 20 }),
        (p, alternative, seed, shift) => {
          const a = p.map(([x]) => x)
          const b = p.map(([, y]) => y)
          const opts = { alternative, seed, resamples: 400 }
          const d = a.map((x, i) => x - b[i])
          if (d[0] !== 0 && d.every((v) => v === d[0])) {
            // One repeated non-zero difference: no spread to resample (see the n = 1 test).
            assert.throws(() => pairedBootstrap(a, b, opts), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
            return
          }
          const r = pairedBootstrap(a, b, opts)
          assert.ok(r.ci[0] <= r.estimate && r.estimate <= r.ci[1], JSON.stringify(r))
          assert.ok(r.pValue >= 0 && r.pValue <= 1)
          assert.deepEqual(pairedBootstrap(a, b, opts), r)
          const s = pairedBootstrap(b, a, { ...opts, alternative: mirror[alternative] })
          assert.ok(s.estimate === -r.estimate) // === treats 0 and -0 as equal
          assert.equal(s.pValue, r.pValue)
          assert.deepEqual(pairedBootstrap(a.map((x) => x + shift), b.map((y) => y + shift), opts), r)
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe('resampledMoments: one pass per resample over shared draws', () => {
  /** The two-pass moments of the same draws, index by index: what the one-pass sums must reproduce. */
  function twoPass(x: Float64Array, resamples: number, seed: number): { means: number[]; sds: number[] } {
    const n = x.length
    const draw = indexResampler(seed, n)
    const indices = new Uint32Array(n)
    const means: number[] = []
    const sds: number[] = []
    for (let r = 0; r < resamples; r++) {
      draw(indices)
      let s = 0
      for (let i = 0; i < n; i++) s += x[indices[i]]
      const m = s / n
      let ss = 0
      for (let i = 0; i < n; i++) ss += (x[indices[i]] - m) ** 2
      means.push(m)
      sds.push(Math.sqrt(ss / (n - 1)))
    }
    return { means, sds }
  }
  const rng = createRandom(5)
  const continuous = Float64Array.from({ length: 500 }, () => rng.nextFloat() - 0.3)
  const offset = Float64Array.from({ length: 500 }, () => 1e6 + rng.nextFloat())
  const binary = Float64Array.from({ length: 500 }, () => (rng.nextFloat() < 0.15 ? 1 : rng.nextFloat() < 0.2 ? -1 : 0))

  for (const [name, x] of [
    ['continuous (shifted by the mean)', continuous],
    ['far from 0: 1e6 + U(0, 1) (shifted by the mean)', offset],
    ['mostly 0, values ±1 (the non-zero values only)', binary],
  ] as const) {
    it(`${name}: the moments of the same draws as two passes compute them`, () => {
      const [got] = resampledMoments([x], { resamples: 200, seed: 9 })
      const want = twoPass(x, 200, 9)
      for (let r = 0; r < 200; r++) {
        assertClose(got.means[r], want.means[r], 1e-12)
        assertClose(got.sds[r], want.sds[r], 1e-9)
      }
    })
  }

  it('integer differences: every sum is exact, so the moments equal the exact rational ones', () => {
    const [got] = resampledMoments([binary], { resamples: 100, seed: 3 })
    const draw = indexResampler(3, binary.length)
    const indices = new Uint32Array(binary.length)
    for (let r = 0; r < 100; r++) {
      draw(indices)
      let s = 0
      let q = 0
      for (const i of indices) {
        s += binary[i]
        q += binary[i] * binary[i]
      }
      const n = binary.length
      assert.equal(got.means[r], s / n)
      assert.equal(got.sds[r], Math.sqrt((q - (s * s) / n) / (n - 1)))
    }
  })

  it('samples of one length share the draws: each result is that of the sample alone', () => {
    const together = resampledMoments([continuous, offset, binary], { resamples: 150, seed: 11 })
    const alone = [continuous, offset, binary].map((x) => resampledMoments([x], { resamples: 150, seed: 11 })[0])
    assert.deepEqual(together, alone)
  })

  it('a resample of one repeated value has standard deviation exactly 0', () => {
    // n = 2: half the resamples draw the same index twice.
    for (const x of [Float64Array.of(0.1, 0.7), Float64Array.of(0, 3), Float64Array.of(1e6 + 0.1, 1e6 + 0.3)]) {
      const { means, sds } = resampledMoments([x], { resamples: 400, seed: 1 })[0]
      let single = 0
      for (let r = 0; r < 400; r++) {
        const one = Math.abs(means[r] - x[0]) < 1e-9 || Math.abs(means[r] - x[1]) < 1e-9
        if (one) {
          single++
          assert.equal(sds[r], 0)
        } else assert.ok(sds[r] > 0)
      }
      assert.ok(single > 100 && single < 300, `${single} single-value resamples of 400`)
    }
  })

  it('refuses samples of different lengths', () => {
    assert.throws(() => resampledMoments([continuous, binary.subarray(1)], { resamples: 10, seed: 0 }), (e: unknown) => isAssayError(e) && e.code === 'ASSAY_STATS_LENGTH_MISMATCH')
  })
})
