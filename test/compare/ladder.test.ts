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

  it('fixed eta compares with the released (rounded) score R_{t−1}, as in Blum & Hardt', () => {
    const constant = (v: number): Float64Array => Float64Array.from({ length: n }, (_, i) => v + (i % 2 === 0 ? 0.01 : -0.01))
    const eta = 0.1
    // First released score: round(0.64 / 0.1) · 0.1 = 0.6. A submission at 0.72 beats R = 0.6 by
    // 0.12 > eta (accepted by the paper's rule), though it beats the best's own 0.64 by only 0.08.
    const up = ladder(
      [
        { id: 'first', scores: constant(0.64) },
        { id: 'second', scores: constant(0.72) },
      ],
      { threshold: { kind: 'fixed', eta } },
    )
    assert.ok(Math.abs(up.steps[0]!.releasedScore - 0.6) < 1e-12)
    assert.equal(up.steps[1]!.accepted, true)
    assert.ok(Math.abs(up.steps[1]!.improvement! - (0.72 - 0.6)) < 1e-12)
    assert.ok(Math.abs(up.steps[1]!.releasedScore - 0.7) < 1e-12)
    // First released 0.7 (0.66 rounds up): 0.78 beats the best's 0.66 by 0.12 but R = 0.7 by only 0.08.
    const down = ladder(
      [
        { id: 'first', scores: constant(0.66) },
        { id: 'second', scores: constant(0.78) },
      ],
      { threshold: { kind: 'fixed', eta } },
    )
    assert.equal(down.steps[1]!.accepted, false)
    assert.ok(Math.abs(down.steps[1]!.releasedScore - 0.7) < 1e-12)
    assert.equal(down.bestId, 'first')
    // Lower is better: R = 0.4 (0.36 rounded); 0.28 is 0.12 below R: accepted, released 0.3.
    const low = ladder(
      [
        { id: 'first', scores: constant(0.36) },
        { id: 'second', scores: constant(0.28) },
      ],
      { threshold: { kind: 'fixed', eta }, higherIsBetter: false },
    )
    assert.equal(low.steps[1]!.accepted, true)
    assert.ok(Math.abs(low.steps[1]!.releasedScore - 0.3) < 1e-12)
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
