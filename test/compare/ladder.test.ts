import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ladder } from '../../src/compare/ladder.js'

const n = 100
const base = Float64Array.from({ length: n }, (_, i) => Math.sin(i))
/** base + shift + an alternating ±wiggle (mean zero over an even n): the paired sd is the wiggle. */
const shifted = (from: Float64Array, shift: number, wiggle: number): Float64Array => Float64Array.from(from, (v, i) => v + shift + (i % 2 === 0 ? wiggle : -wiggle))

describe('ladder (Blum & Hardt)', () => {
  it('releases a new best only past one paired standard error', () => {
    const s1 = shifted(base, 0, 0.01) // no improvement
    const s2 = shifted(base, 0.5, 0.01) // a big one
    const s3 = shifted(s2, 0.001, 0.1) // 0.001 < SE ≈ 0.1/sqrt(100) = 0.01
    const s4 = shifted(s2, 0.05, 0.1) // 0.05 > 0.01
    const result = ladder([
      { id: 'b', scores: base },
      { id: 's1', scores: s1 },
      { id: 's2', scores: s2 },
      { id: 's3', scores: s3 },
      { id: 's4', scores: s4 },
    ])
    assert.deepEqual(
      result.steps.map((s) => s.accepted),
      [true, false, true, false, true],
    )
    assert.deepEqual(
      result.steps.map((s) => s.bestId),
      ['b', 'b', 's2', 's2', 's4'],
    )
    const mean = (x: Float64Array): number => x.reduce((a, v) => a + v, 0) / x.length
    assert.equal(result.steps[3].releasedScore, mean(s2), 'a rejected submission shows the old best')
    assert.ok(Math.abs(result.steps[3].threshold! - 0.1 * Math.sqrt(n / (n - 1)) / Math.sqrt(n)) < 1e-12)
    assert.equal(result.bestId, 's4')
  })

  it('fixed threshold eta: the original Ladder with released scores rounded to multiples of eta', () => {
    const result = ladder(
      [
        { id: 'b', scores: base },
        { id: 'small', scores: shifted(base, 0.05, 0) },
        { id: 'big', scores: shifted(base, 0.2, 0) },
      ],
      { threshold: { kind: 'fixed', eta: 0.1 } },
    )
    assert.deepEqual(
      result.steps.map((s) => s.accepted),
      [true, false, true],
    )
    const released = result.steps[2].releasedScore
    assert.ok(Math.abs(released / 0.1 - Math.round(released / 0.1)) < 1e-9)
  })

  it('lower is better flips the direction; NaN examples are left out of the pairs', () => {
    const worse = shifted(base, 0.5, 0.01)
    const better = shifted(base, -0.5, 0.01)
    better[3] = NaN
    const result = ladder(
      [
        { id: 'b', scores: base },
        { id: 'worse', scores: worse },
        { id: 'better', scores: better },
      ],
      { higherIsBetter: false },
    )
    assert.deepEqual(
      result.steps.map((s) => s.accepted),
      [true, false, true],
    )
    assert.equal(result.steps[2].pairs, n - 1)
  })
})
