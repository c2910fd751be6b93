/**
 * Finite inputs near ±1.8e308 must never come back as NaN (or as an infinity outside the open end of a
 * one-sided interval): either a finite, correct answer or ASSAY_STATS_DEGENERATE_INPUT ("the result
 * overflowed double precision"). These go through the public surface (index.ts), where the guard is.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { isAssayError } from '../../src/errors.js'
import * as stats from '../../src/stats/index.js'

const MAX = Number.MAX_VALUE
const huge = fc.oneof(
  fc.double({ min: 1e306, max: MAX, noNaN: true }),
  fc.double({ min: -MAX, max: -1e306, noNaN: true }),
  fc.constantFrom(MAX, -MAX, 1.7e308, -1.7e308),
  fc.double({ min: -10, max: 10, noNaN: true }),
)
const pairs = fc.integer({ min: 2, max: 8 }).chain((n) => fc.tuple(fc.array(huge, { minLength: n, maxLength: n }), fc.array(huge, { minLength: n, maxLength: n })))

/** Independent of the guard: every number finite, except ci[0] = -Infinity for 'less', ci[1] = Infinity for 'greater', and Friedman's open F. */
function assertSound(name: string, value: unknown, path = '', alternative?: unknown): void {
  if (typeof value === 'number') {
    const openLower = path.endsWith('ci[0]') && value === -Infinity && alternative === 'less'
    const openUpper = path.endsWith('ci[1]') && value === Infinity && alternative === 'greater'
    const openF = name === 'friedman' && path === 'imanDavenport.statistic' && value === Infinity
    assert.ok(Number.isFinite(value) || openLower || openUpper || openF, `${name}: ${path || 'result'} is ${value}`)
    return
  }
  if (value === null || typeof value !== 'object') return
  if (Array.isArray(value) || value instanceof Float64Array) {
    for (let i = 0; i < value.length; i++) assertSound(name, value[i], `${path}[${i}]`, alternative)
    return
  }
  const record = value as Record<string, unknown>
  const alt = 'alternative' in record ? record.alternative : alternative
  for (const [k, v] of Object.entries(record)) assertSound(name, v, path ? `${path}.${k}` : k, alt)
}

function check(name: string, call: () => unknown): void {
  let result: unknown
  try {
    result = call()
  } catch (error) {
    assert.ok(isAssayError(error), `${name} threw a bare ${(error as Error)?.name}: ${(error as Error)?.message}`)
    return
  }
  assertSound(name, result)
}

const B = { resamples: 40, seed: 1 }

describe('no public statistic returns NaN on finite inputs near ±1.8e308', () => {
  test('one-sample functions', () => {
    fc.assert(
      fc.property(fc.array(huge, { minLength: 2, maxLength: 8 }), (x) => {
        const clusters = x.map((_, i) => i % 2)
        check('mean', () => stats.mean(x))
        check('variance', () => stats.variance(x))
        check('sd', () => stats.sd(x))
        check('standardError', () => stats.standardError(x))
        check('median', () => stats.median(x))
        check('quantile', () => stats.quantile(x, 0.3))
        check('iqm', () => stats.iqm(x))
        check('trimmedMean', () => stats.trimmedMean(x, 0.1))
        for (const alternative of ['two-sided', 'greater', 'less'] as const) check('tInterval', () => stats.tInterval(x, { alternative }))
        check('clusteredStandardError', () => stats.clusteredStandardError(x, clusters))
        for (const method of ['percentile', 'basic', 'BCa'] as const) {
          check('bootstrapInterval', () => stats.bootstrapInterval(x, 'mean', { ...B, method }))
          check('bootstrapInterval', () => stats.bootstrapInterval(x, 'median', { ...B, method }))
        }
        check('stratifiedBootstrapInterval', () => stats.stratifiedBootstrapInterval(x, clusters, { ...B, statistic: 'mean' }))
        check('expectedMaxPerformance', () => stats.expectedMaxPerformance(x, 2))
        check('sampleSizePaired', () => stats.sampleSizePaired({ delta: x[0] === 0 ? 1 : x[0], sdDifference: Math.abs(x[1]) || 1 }))
        check('minimumDetectableEffect', () => stats.minimumDetectableEffect({ n: 10, sdDifference: Math.abs(x[0]) || 1 }))
      }),
      { numRuns: 60 },
    )
  })

  test('paired and two-sample functions', () => {
    fc.assert(
      fc.property(pairs, ([a, b]) => {
        for (const alternative of ['two-sided', 'greater', 'less'] as const) {
          check('pairedTTest', () => stats.pairedTTest(a, b, { alternative }))
          check('pairedPermutationTest', () => stats.pairedPermutationTest(a, b, { ...B, alternative }))
          check('pairedBootstrap', () => stats.pairedBootstrap(a, b, { ...B, alternative }))
          check('welchTTest', () => stats.welchTTest(a, b, { alternative }))
          check('studentTTest', () => stats.studentTTest(a, b, { alternative }))
          check('mannWhitneyU', () => stats.mannWhitneyU(a, b, { alternative }))
          check('permutationTest', () => stats.permutationTest(a, b, { ...B, alternative }))
          check('signTest', () => stats.signTest(a, b, { alternative }))
          check('wilcoxonSignedRank', () => stats.wilcoxonSignedRank(a, b, { alternative }))
        }
        check('nonInferiority', () => stats.nonInferiority(a, b, { margin: 1 }))
        check('tost', () => stats.tost(a, b, { margin: 1e308 }))
        check('probabilityOfImprovement', () => stats.probabilityOfImprovement(a, b, B))
        check('almostStochasticOrder', () => stats.almostStochasticOrder(a, b, { resamples: 20, seed: 1 }))
        check('cohensD', () => stats.cohensD(a, b))
        check('cohensD', () => stats.cohensD(a, b, { paired: true }))
        check('hedgesG', () => stats.hedgesG(a, b))
        check('cliffsDelta', () => stats.cliffsDelta(a, b))
        const matrix = a.map((v, i) => [v, b[i], 0])
        check('averageRanks', () => stats.averageRanks(matrix))
        check('friedman', () => stats.friedman(matrix))
      }),
      { numRuns: 60 },
    )
  })
})

describe('overflow: the cases named in the review, checked by independent reasoning', () => {
  test('mean([1.7e308, 1.7e308]) is 1.7e308; a mean of huge values of both signs is their exact mean', () => {
    assert.equal(stats.mean([1.7e308, 1.7e308]), 1.7e308)
    assert.equal(stats.mean([MAX, MAX, MAX]), MAX)
    // 2^1023 · (1 + 1 − 1) / 3 = 2^1023 / 3 (the plain sum overflows), to the last bit or two.
    const m = stats.mean([2 ** 1023, 2 ** 1023, -(2 ** 1023)])
    assert.ok(Math.abs(m - 2 ** 1023 / 3) <= 2 * Number.EPSILON * (2 ** 1023 / 3), String(m))
    assert.equal(stats.sd([1e308, -1e308]), Math.SQRT2 * 1e308)
  })

  test('a result that cannot be represented is ASSAY_STATS_DEGENERATE_INPUT naming the overflow, not NaN', () => {
    // The variance of ±1e308 is 2e616.
    assert.throws(() => stats.variance([1e308, -1e308]), { code: 'ASSAY_STATS_DEGENERATE_INPUT', message: /overflowed double precision/ })
    // mean(a - b) = (1.7 + 2.7 + 1) e308 / 3 = 1.8e308 > MAX.
    for (const f of [stats.pairedPermutationTest, stats.pairedBootstrap]) {
      assert.throws(() => f([1.7e308, 1.7e308, 1e308], [0, -1e308, 0], B), { code: 'ASSAY_STATS_DEGENERATE_INPUT', message: /overflowed/ })
    }
  })

  test('t procedures and resampling at ~1e307 give the answer of the data scaled down (t, df, p are scale-free)', () => {
    const a = [1, 2, 3, 4.5]
    const b = [-1, 0, 0.5, 1]
    const c = 1e307
    const ac = a.map((v) => v * c)
    const bc = b.map((v) => v * c)
    const close = (x: number, y: number, what: string) => assert.ok(Math.abs(x - y) <= 1e-12 * Math.abs(y), `${what}: ${x} vs ${y}`)
    for (const [name, f] of [['welch', stats.welchTTest], ['student', stats.studentTTest], ['paired', stats.pairedTTest]] as const) {
      const small = f(a, b)
      const big = f(ac, bc)
      close(big.statistic, small.statistic, `${name} t`)
      close(big.pValue, small.pValue, `${name} p`)
      close(big.estimate, small.estimate * c, `${name} estimate`)
      close(big.ci[0], small.ci[0] * c, `${name} ci`)
      close(big.ci[1], small.ci[1] * c, `${name} ci`)
    }
    // A difference that overflows (MAX − (−MAX/2) = 1.5 MAX) in a mean that does not: (1.5 + 1 + 0.5 − 0.5) MAX / 4.
    const pa = [MAX, MAX, MAX / 2, 0]
    const pb = [-MAX / 2, 0, 0, MAX / 2]
    const perm = stats.pairedPermutationTest(pa, pb)
    close(perm.estimate, 0.625 * MAX, 'permutation estimate')
    // Exact enumeration of the 2^4 sign patterns of (1.5, 1, 0.5, −0.5)·MAX, observed sum 2.5 MAX: the sums
    // ≥ 2.5 are (+,+,+,+) = 2.5, (+,+,+,−) = 3.5 and (+,+,−,−) = 2.5, so p_greater = 3/16.
    assert.equal(stats.pairedPermutationTest(pa, pb, { alternative: 'greater' }).pValue, 3 / 16)
    assert.ok(perm.pValue > 0 && perm.pValue <= 1)
    // Scale-free p-value: the same test on the data divided by 2^1023 (exact) gives the same p.
    const scaled = stats.pairedPermutationTest(pa.map((v) => v / 2 ** 1023), pb.map((v) => v / 2 ** 1023))
    assert.equal(perm.pValue, scaled.pValue)
    const boot = stats.pairedBootstrap(ac, bc, { resamples: 2000, seed: 3 })
    const bootSmall = stats.pairedBootstrap(a.map((v) => v * 2 ** -1000), b.map((v) => v * 2 ** -1000), { resamples: 2000, seed: 3 })
    assert.ok(Number.isFinite(boot.ci[0]) && Number.isFinite(boot.ci[1]) && boot.ci[0] < boot.ci[1])
    assert.equal(boot.pValue, bootSmall.pValue)
  })

  test('wilsonInterval at confidence 1 − 1e-16: the Wilson formula with z = qnorm(1e-16/2, lower = FALSE)', () => {
    // R: z <- qnorm((1 - cl)/2, lower.tail = FALSE); (p + z^2/(2n) ± z sqrt(p(1-p)/n + z^2/(4n^2))) / (1 + z^2/n)
    // with cl <- 1 - 1e-16, p = 0.3, n = 10 (R's prop.test itself returns NaN here).
    const r = stats.wilsonInterval(3, 10, { confidenceLevel: 1 - 1e-16 })
    assert.ok(Math.abs(r.ci[0] - 0.012194665778964768) < 1e-14)
    assert.ok(Math.abs(r.ci[1] - 0.93702022964904019) < 1e-14)
    const t = stats.tInterval([1, 2, 4], { confidenceLevel: 1 - 1e-16 })
    assert.ok(Number.isFinite(t.ci[0]) && Number.isFinite(t.ci[1]) && t.ci[0] < t.ci[1])
  })
})
