import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { isAssayError } from '../../src/errors.js'
import { ksTwoSample, quantileInterval, type Alternative } from '../../src/stats/index.js'
import { assertClose } from './assert-close.js'

// Reference: the SciPy fixtures of drift.test.ts (scripts/fixtures/stats-drift.py), given already sorted.
const F = JSON.parse(readFileSync(new URL('./fixtures/drift-scipy.json', import.meta.url), 'utf8')) as {
  data: Record<string, number[]>
  ks: { a: string; b: string; alternative: Alternative; call: string; statistic: number; pValue: number; location: number }[]
  quantileInterval: { data: string; p: number; confidenceLevel: number; call: string; ranks: [number, number]; ci: [number, number]; estimate: number }[]
}

const sorted = (xs: readonly number[]): Float64Array => Float64Array.from(xs).sort()

describe('sorted: true reuses a sample sorted once (ksTwoSample, quantileInterval)', () => {
  for (const c of F.ks) {
    it(`ksTwoSample ${c.call}: the same result from sorted samples, not copied`, () => {
      const a = sorted(F.data[c.a])
      const b = sorted(F.data[c.b])
      const r = ksTwoSample(a, b, { alternative: c.alternative, sorted: true })
      assertClose(r.statistic, c.statistic, 1e-12, 'statistic')
      assert.equal(r.location, c.location)
      assert.deepEqual(r, ksTwoSample(F.data[c.a], F.data[c.b], { alternative: c.alternative }))
    })
  }
  for (const c of F.quantileInterval) {
    it(`quantileInterval ${c.call}: the same interval from a sorted sample`, () => {
      const r = quantileInterval(sorted(F.data[c.data]), c.p, { confidenceLevel: c.confidenceLevel, sorted: true })
      assert.deepEqual(r.ranks, c.ranks)
      assert.deepEqual(r.ci, c.ci)
      assert.deepEqual(r, quantileInterval(F.data[c.data], c.p, { confidenceLevel: c.confidenceLevel }))
    })
  }
  it('a plain array given as sorted is read as it is', () => {
    assert.deepEqual(ksTwoSample([1, 2, 3, 4], [2, 3, 5, 8], { sorted: true }), ksTwoSample([4, 3, 2, 1], [8, 5, 3, 2]))
  })
  it('a sample that is not in ascending order is refused, not silently misread', () => {
    const invalid = (e: unknown): boolean => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION') && /not in ascending order/.test((e as Error).message)
    assert.throws(() => ksTwoSample([1, 3, 2], [1, 2, 3], { sorted: true }), invalid)
    assert.throws(() => ksTwoSample([1, 2, 3], Float64Array.of(3, 1), { sorted: true }), invalid)
    const many = Array.from({ length: 200 }, (_, i) => i)
    many[150] = -1
    assert.throws(() => quantileInterval(many, 0.5, { sorted: true }), invalid)
    assert.throws(() => quantileInterval(many, 0.5, { sorted: 'yes' as never }), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
  })
})
