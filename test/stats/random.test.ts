import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { createRandom } from '../../src/stats/random.js'

function first(seed: number, count = 8): number[] {
  const rng = createRandom(seed)
  return Array.from({ length: count }, () => rng.nextUint32())
}

describe('createRandom: seeding and golden values', () => {
  // Golden values, the same on every platform and Node.js version. They were computed by an
  // independent Python implementation (arbitrary-precision integers masked to 32 bits) of
  // xoshiro128** (Blackman & Vigna 2018) seeded as random.ts documents: s0..s3 = fmix32(lo + k·0x9e3779b9)
  // for k = 1..4, XORed (k = 2, 3, 4) with h1 = fmix32(hi), h2 = fmix32(h1·0x9e3779b9), h3 = fmix32(h2·0x85ebca6b).
  test('createRandom(0): the first 8 outputs', () => {
    assert.deepEqual(first(0), [3809008728, 1133695204, 53579671, 2891528803, 139681546, 2203266335, 104831812, 1587294886])
  })

  test('createRandom(2^40 + 7): the first 8 outputs', () => {
    assert.deepEqual(first(2 ** 40 + 7), [3801168063, 2203750644, 1003816503, 2705869069, 877712741, 595895121, 326419682, 1109680152])
  })

  test('2654435769 and 2^32 (which collided when the halves were XOR-folded) give different streams, from the first output on', () => {
    const a = first(2654435769, 64)
    const b = first(4294967296, 64)
    assert.notEqual(a[0], b[0])
    assert.ok(a.every((x, i) => x !== b[i]))
    assert.deepEqual(first(4294967296), [3990715033, 4116138025, 649553270, 115723731, 4001436330, 4136453216, 183007823, 1406193175])
  })

  test('seeds sharing a low or a high half still differ in their first output (no half is ignored)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 21 - 1 }), fc.integer({ min: 1, max: 2 ** 21 - 1 }), fc.nat({ max: 2 ** 32 - 1 }), (hi, dh, lo) => {
        const hiB = (hi + dh) % 2 ** 21
        const sameLow = [first(hi * 2 ** 32 + lo, 4), first(hiB * 2 ** 32 + lo, 4)]
        const sameHigh = [first(hi * 2 ** 32 + lo, 4), first(hi * 2 ** 32 + ((lo + 1) % 2 ** 32), 4)]
        return sameLow[0].join() !== sameLow[1].join() && sameHigh[0].join() !== sameHigh[1].join()
      }),
    )
  })

  test('the largest safe seed works; unsafe or negative seeds are refused', () => {
    assert.equal(first(Number.MAX_SAFE_INTEGER).length, 8)
    assert.throws(() => createRandom(2 ** 53), { code: 'ASSAY_STATS_INVALID_OPTION' })
    assert.throws(() => createRandom(-1), { code: 'ASSAY_STATS_INVALID_OPTION' })
  })
})
