import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isAssayError } from '../../src/errors.js'
import { mcnemar, pairedTTest, signTest } from '../../src/stats/paired.js'
import { assertClose } from './assert-close.js'
import { PY, R, alt, data, num } from './part-a-fixtures.js'

const mirror = { 'two-sided': 'two-sided', greater: 'less', less: 'greater' } as const

describe('pairedTTest: R t.test(a, b, paired = TRUE)', () => {
  for (const c of R.pairedTTest) {
    it(c.call, () => {
      const r = pairedTTest(data(c.a), data(c.b), { alternative: alt(c.alternative), mu: c.mu, confidenceLevel: c.confidenceLevel })
      assertClose(r.statistic, c.statistic)
      assertClose(r.pValue, c.pValue)
      assertClose(r.estimate, c.estimate)
      assertClose(r.standardError, c.standardError)
      assertClose(r.ci[0], num(c.ci[0]))
      assertClose(r.ci[1], num(c.ci[1]))
      assert.equal(r.df, c.df)
      assert.equal(r.method, 'Paired t-test')
    })
  }
  it('n = 1 throws TOO_FEW_OBSERVATIONS', () => {
    assert.throws(() => pairedTTest([1], [2]), (e) => isAssayError(e, 'ASSAY_STATS_TOO_FEW_OBSERVATIONS'))
  })
  it('all differences equal throws DEGENERATE_INPUT (R: data are essentially constant), also when all are zero', () => {
    assert.throws(() => pairedTTest([1, 2, 3], [0.5, 1.5, 2.5]), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
    assert.throws(() => pairedTTest([1, 2, 3], [1, 2, 3]), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
  })
  it('bad input: mismatched lengths, NaN, empty, bad options', () => {
    assert.throws(() => pairedTTest([1, 2, 3], [1, 2]), (e) => isAssayError(e, 'ASSAY_STATS_LENGTH_MISMATCH'))
    assert.throws(() => pairedTTest([1, NaN], [1, 2]), (e) => isAssayError(e, 'ASSAY_STATS_NON_FINITE_INPUT'))
    assert.throws(() => pairedTTest([], []), (e) => isAssayError(e, 'ASSAY_STATS_EMPTY_INPUT'))
    assert.throws(() => pairedTTest([1, 2, 4], [1, 1, 1], { confidenceLevel: 0 }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
    assert.throws(() => pairedTTest([1, 2, 4], [1, 1, 1], { mu: NaN }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
  })
  it('one-sided intervals use ±Infinity for the open end (null in JSON)', () => {
    const r = pairedTTest(data('acc_a'), data('acc_b'), { alternative: 'greater' })
    assert.equal(r.ci[1], Infinity)
    assert.equal(JSON.parse(JSON.stringify(r)).ci[1], null)
  })
  // Multiples of 1/8 keep every difference and shift exact, so shift invariance can be checked exactly.
  const eighth = fc.integer({ min: -800, max: 800 }).map((v) => v / 8)
  const pairs = fc.array(fc.tuple(eighth, eighth), { minLength: 3, maxLength: 40 }).filter((p) => new Set(p.map(([x, y]) => x - y)).size > 1)
  it('properties: ci contains the estimate, p in [0, 1], swapping flips the estimate and mirrors one-sided p, shift invariance', () => {
    fc.assert(
      fc.property(pairs, fc.constantFrom('two-sided', 'greater', 'less' as const), fc.integer({ min: -50, max: 50 }), (p, alternative, shift) => {
        const a = p.map(([x]) => x)
        const b = p.map(([, y]) => y)
        const r = pairedTTest(a, b, { alternative })
        assert.ok(r.ci[0] <= r.estimate && r.estimate <= r.ci[1])
        assert.ok(r.pValue >= 0 && r.pValue <= 1)
        const s = pairedTTest(b, a, { alternative: mirror[alternative] })
        assert.ok(s.estimate === -r.estimate) // === treats 0 and -0 as equal
        assertClose(s.pValue, r.pValue, 1e-9)
        const t = pairedTTest(a.map((x) => x + shift), b.map((y) => y + shift), { alternative })
        assert.deepEqual(t, r)
      }),
      { numRuns: 200 },
    )
  })
})

describe('signTest: R binom.test on the signs', () => {
  for (const c of R.signTest) {
    it(c.call, () => {
      const r = signTest(data(c.a), data(c.b), { alternative: alt(c.alternative) })
      assert.equal(r.statistic, c.statistic)
      assert.equal(r.n, c.n)
      assertClose(r.pValue, c.pValue, 1e-12)
      assertClose(r.estimate, c.estimate)
      assertClose(r.ci[0], c.ci[0])
      assertClose(r.ci[1], c.ci[1])
    })
  }
  it('zeros are dropped; one-sample form uses a itself', () => {
    const r = signTest([1, -1, 0, 2, 3])
    assert.equal(r.n, 4)
    assert.equal(r.zeros, 1)
    assert.equal(r.statistic, 3)
    // R: binom.test(3, 4)$p.value = 0.625
    assertClose(r.pValue, 0.625, 1e-12)
  })
  it('n = 1 non-zero difference: R binom.test(1, 1) p = 1', () => {
    assert.equal(signTest([2], [1]).pValue, 1)
  })
  it('all differences zero throws DEGENERATE_INPUT', () => {
    assert.throws(() => signTest([1, 2], [1, 2]), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
  })
  it('all positive (n successes): R binom.test(8, 8)$p.value = 2^-7', () => {
    const r = signTest([1, 2, 3, 4, 5, 6, 7, 8], [0, 0, 0, 0, 0, 0, 0, 0])
    assertClose(r.pValue, 2 ** -7, 1e-12)
    assert.equal(r.ci[1], 1)
  })
})

describe('mcnemar', () => {
  for (const c of R.mcnemar) {
    it(`R ${c.call}`, () => {
      const r = mcnemar(c.b, c.c, { correction: c.correction })
      assertClose(r.statistic, c.statistic)
      assertClose(r.pValue, c.pValue)
      assert.equal(r.df, c.df)
    })
  }
  for (const c of PY.mcnemarExact) {
    it(`statsmodels ${c.call}`, () => {
      const r = mcnemar(c.b, c.c, { exact: true })
      assert.equal(r.statistic, c.statistic)
      assertClose(r.pValue, c.pValue, 1e-12)
      assert.equal(r.exact, true)
    })
  }
  it('no discordant pairs throws DEGENERATE_INPUT; bad counts throw INVALID_COUNT', () => {
    assert.throws(() => mcnemar(0, 0), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
    assert.throws(() => mcnemar(0, 0, { exact: true }), (e) => isAssayError(e, 'ASSAY_STATS_DEGENERATE_INPUT'))
    assert.throws(() => mcnemar(-1, 3), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_COUNT'))
    assert.throws(() => mcnemar(1.5, 3), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_COUNT'))
  })
  it('properties: symmetric in b and c, p in [0, 1]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 400 }), fc.boolean(), fc.boolean(), (b, c, exact, correction) => {
        fc.pre(b + c > 0)
        const r = mcnemar(b, c, { exact, correction })
        assert.ok(r.pValue >= 0 && r.pValue <= 1)
        assert.equal(mcnemar(c, b, { exact, correction }).pValue, r.pValue)
      }),
    )
  })
})

describe('part A results are plain JSON-serialisable objects that name their method', () => {
  it('two-sided results survive a JSON round trip unchanged and have no undefined or NaN fields', async () => {
    const s = await import('../../src/stats/index.js')
    const a = data('acc_a')
    const b = data('acc_b')
    const results: object[] = [
      s.tInterval(a),
      s.wilsonInterval(3, 10),
      s.clopperPearsonInterval(3, 10),
      s.clusteredStandardError(a, a.map((_, i) => i % 5)),
      s.bootstrapInterval(a, 'mean', { resamples: 200, method: 'BCa' }),
      s.stratifiedBootstrapInterval(a, a.map((_, i) => i % 4), { resamples: 200 }),
      s.pairedTTest(a, b),
      s.wilcoxonSignedRank(a, b),
      s.wilcoxonSignedRank(data('tie_a'), data('tie_b'), { method: 'exact' }),
      s.signTest(a, b),
      s.mcnemar(12, 5),
      s.mcnemar(12, 5, { exact: true }),
      s.pairedPermutationTest(a, b, { resamples: 500 }),
      s.pairedBootstrap(a, b, { resamples: 500 }),
      s.tost(a, b, { margin: 0.01 }),
    ]
    for (const r of results) {
      assert.deepEqual(JSON.parse(JSON.stringify(r)), r)
      assert.equal(typeof (r as { method: unknown }).method, 'string')
      for (const [k, v] of Object.entries(r)) {
        assert.ok(v !== undefined && !(typeof v === 'number' && Number.isNaN(v)), `${(r as { method: string }).method}.${k}`)
      }
    }
  })
})
