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
  // The 128-bit state: four splitmix32 outputs of the low 32-bit half, the last three XORed with
  // words derived from the high half by bijections that map 0 to 0. s0 fixes the low half and, given
  // it, s1 fixes the high half, so distinct seeds give distinct states (the former XOR-fold of the
  // halves made 2654435769 and 2^32 collide), the first output (a function of s1) depends on both
  // halves, and seeds below 2^32 keep the streams they always had.
  const high = Math.floor(seed / TWO_POW_32) >>> 0
  let sm = seed >>> 0
  const splitmix = (): number => {
    sm = (sm + 0x9e3779b9) | 0
    return mix32(sm)
  }
  const h1 = mix32(high)
  const h2 = mix32(Math.imul(h1, 0x9e3779b9))
  const h3 = mix32(Math.imul(h2, 0x85ebca6b))
  let s0 = splitmix()
  let s1 = (splitmix() ^ h1) >>> 0
  let s2 = (splitmix() ^ h2) >>> 0
  let s3 = (splitmix() ^ h3) >>> 0
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

/** The splitmix32 finaliser (murmur3 fmix32): a bijection of 32-bit words that maps 0 to 0. */
function mix32(x: number): number {
  let z = x
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}
