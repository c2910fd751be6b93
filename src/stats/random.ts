import { AssayError } from '../errors.js'

/**
 * A seeded pseudo-random generator: xoshiro128** seeded through splitmix32.
 *
 * Only 32-bit integer arithmetic (Math.imul, shifts) is used, so the same seed yields
 * bit-identical streams on every platform and Node.js version. Every resampling function in
 * assay/stats takes `{ seed }` and builds one of these, so a stored result can be recomputed.
 */
export interface RandomGenerator {
  /** The seed this generator started from. */
  readonly seed: number
  /** A uniform integer in [0, 2^32). */
  nextUint32(): number
  /** A uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number
  /** A uniform integer in [0, n), without modulo bias (Lemire's method). n must be in [1, 2^32). */
  nextInt(n: number): number
}

const TWO_POW_32 = 4294967296

export function createRandom(seed: number): RandomGenerator {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `seed must be a non-negative safe integer, got ${String(seed)}`)
  }
  // splitmix32 over the low and high 32-bit halves fills the 128-bit state; an all-zero state is impossible.
  let sm = (seed >>> 0) ^ Math.imul(Math.floor(seed / TWO_POW_32) >>> 0, 0x9e3779b9)
  const splitmix = (): number => {
    sm = (sm + 0x9e3779b9) | 0
    let z = sm
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
  let s0 = splitmix()
  let s1 = splitmix()
  let s2 = splitmix()
  let s3 = splitmix()
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
    const t = s1 << 9
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = rotl(s3, 11)
    return result
  }

  return {
    seed,
    nextUint32,
    nextFloat: () => ((nextUint32() >>> 5) * 67108864 + (nextUint32() >>> 6)) / 9007199254740992,
    nextInt: (n: number): number => {
      // Lemire's multiply-and-reject: m = x * n is below 2^64 / 2^32 * n < 2^53, so exact in a double.
      let m = nextUint32() * n
      let low = m % TWO_POW_32
      if (low < n) {
        const threshold = (TWO_POW_32 - n) % n
        while (low < threshold) {
          m = nextUint32() * n
          low = m % TWO_POW_32
        }
      }
      return Math.floor(m / TWO_POW_32)
    },
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}
