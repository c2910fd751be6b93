import { AssayError } from '../errors.js'
import type { Sample } from './validate.js'

/**
 * Small private helpers shared by the part-B modules (two-sample tests, ranks, effect sizes).
 * Not exported from index.ts; mean and variance come from describe.ts.
 */

/** Midranks (ties get the mean of the ranks they span), 1-based, like R's rank(ties.method = 'average'). */
export function midranks(values: ArrayLike<number>): Float64Array {
  const n = values.length
  const order = Array.from({ length: n }, (_, i) => i)
  order.sort((i, j) => values[i] - values[j])
  const ranks = new Float64Array(n)
  let i = 0
  while (i < n) {
    let j = i
    while (j + 1 < n && values[order[j + 1]] === values[order[i]]) j++
    const r = (i + j + 2) / 2
    for (let k = i; k <= j; k++) ranks[order[k]] = r
    i = j + 1
  }
  return ranks
}

/** Sum over tie groups of (t^3 - t), from any array whose equal entries mark ties. */
export function tieCorrectionSum(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort()
  let total = 0
  let i = 0
  while (i < sorted.length) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[i]) j++
    const t = j - i + 1
    if (t > 1) total += t * t * t - t
    i = j + 1
  }
  return total
}

export function toFloat64(x: Sample): Float64Array {
  return x instanceof Float64Array ? x : Float64Array.from(x)
}

export function assertProbabilityIn(value: number, name: string, lowerOpen = true, upperOpen = true): void {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (lowerOpen ? value > 0 : value >= 0) &&
    (upperOpen ? value < 1 : value <= 1)
  if (!ok) {
    const range = `${lowerOpen ? '(' : '['}0, 1${upperOpen ? ')' : ']'}`
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `${name} must be in ${range}, got ${String(value)}`)
  }
}

/** Brent's root finder as in R's uniroot() (R_zeroin2 in src/library/stats/src/zeroin.c), ported step by step
 *  so that results that depend on the search path (roots of step functions) match R. */
export function zeroinR(f: (x: number) => number, ax: number, bx: number, fa: number, fb: number, tolerance: number, maxIterations = 1000): number {
  const EPSILON = Number.EPSILON
  let a = ax
  let b = bx
  let c = a
  let fc = fa
  let maxit = maxIterations + 1
  const tol = tolerance
  if (fa === 0) return a
  if (fb === 0) return b
  while (maxit--) {
    const prevStep = b - a
    if (Math.abs(fc) < Math.abs(fb)) {
      a = b
      b = c
      c = a
      fa = fb
      fb = fc
      fc = fa
    }
    const tolAct = 2 * EPSILON * Math.abs(b) + tol / 2
    let newStep = (c - b) / 2
    if (Math.abs(newStep) <= tolAct || fb === 0) return b
    if (Math.abs(prevStep) >= tolAct && Math.abs(fa) > Math.abs(fb)) {
      let p: number
      let q: number
      const cb = c - b
      if (a === c) {
        const t1 = fb / fa
        p = cb * t1
        q = 1 - t1
      } else {
        q = fa / fc
        const t1 = fb / fc
        const t2 = fb / fa
        p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1))
        q = (q - 1) * (t1 - 1) * (t2 - 1)
      }
      if (p > 0) q = -q
      else p = -p
      if (p < 0.75 * cb * q - Math.abs(tolAct * q) / 2 && p < Math.abs((prevStep * q) / 2)) newStep = p / q
    }
    if (Math.abs(newStep) < tolAct) newStep = newStep > 0 ? tolAct : -tolAct
    a = b
    fa = fb
    b += newStep
    fb = f(b)
    if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
      c = a
      fc = fa
    }
  }
  return b
}

/** Number of entries < v. */
export function lowerBound(sorted: Float64Array, v: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid] < v) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Number of entries <= v. */
export function upperBound(sorted: Float64Array, v: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid] <= v) lo = mid + 1
    else hi = mid
  }
  return lo
}
