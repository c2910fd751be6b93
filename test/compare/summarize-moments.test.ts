import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { summarizeGroup, summarizeMoments } from '../../src/compare/group-comparison.js'

/**
 * summarizeMoments (a group's mean, t interval and sd from the count, mean, variance and range a
 * database computed) is summarizeGroup's rule: on the same numbers both answer the same, whether
 * the values spread, agree (no interval) or number one.
 */

function moments(values: readonly number[]) {
  const n = values.length
  const mean = values.reduce((s, v) => s + v, 0) / n
  const variance = n < 2 ? null : values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)
  return { n, mean, variance, min: Math.min(...values), max: Math.max(...values) }
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} is not ${b}`)

function assertSame(values: number[], confidenceLevel: number): void {
  const byValues = summarizeGroup({ label: 'g', runIds: [], seeds: [], values }, confidenceLevel)
  const byMoments = summarizeMoments(moments(values), confidenceLevel)
  close(byMoments.mean, byValues.mean, 'mean')
  close(byMoments.sd, byValues.sd, 'sd')
  assert.equal(byMoments.ci === null, byValues.ci === null, `interval of ${JSON.stringify(values)}`)
  if (byMoments.ci !== null && byValues.ci !== null) {
    close(byMoments.ci[0], byValues.ci[0], 'lower')
    close(byMoments.ci[1], byValues.ci[1], 'upper')
  }
}

test('summarizeMoments equals summarizeGroup on the same numbers', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 30 }), fc.constantFrom(0.8, 0.9, 0.95, 0.99), (values, level) => assertSame(values, level)),
  )
  assertSame([0.7, 0.74, 0.78], 0.95)
  assertSame([0.5, 0.5, 0.5, 0.5], 0.95)
  assertSame([0.1 + 0.2, 0.3, 0.3], 0.95)
  assertSame([42], 0.95)
})

test('a spread group gets the t interval: R t.test(c(0.7, 0.74, 0.78))$conf.int', () => {
  // > print(t.test(c(0.7, 0.74, 0.78))$conf.int, digits = 17)   (R)
  // [1] 0.64063449152998664 0.83936550847001323
  const s = summarizeMoments(moments([0.7, 0.74, 0.78]), 0.95)
  assert.ok(s.ci !== null)
  close(s.ci[0], 0.64063449152998664, 'lower')
  close(s.ci[1], 0.83936550847001323, 'upper')
  assert.throws(() => summarizeMoments({ n: 0, mean: 0, variance: null, min: 0, max: 0 }, 0.95), (e: { code?: string }) => e.code === 'ASSAY_GROUP_TOO_SMALL')
})
