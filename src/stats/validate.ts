import { AssayError } from '../errors.js'

/** Input checks shared by every public statistics function: one error policy, typed errors, never NaN out. */

export type Sample = readonly number[] | Float64Array
export type Alternative = 'two-sided' | 'greater' | 'less'

export function assertSample(values: Sample, name = 'sample', minLength = 1): void {
  if (!Array.isArray(values) && !(values instanceof Float64Array)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `${name} must be an array of numbers or a Float64Array`)
  }
  if (values.length === 0) throw new AssayError('ASSAY_STATS_EMPTY_INPUT', `${name} is empty`)
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (typeof v !== 'number') {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `${name}[${i}] is not a number`)
    }
    if (!Number.isFinite(v)) {
      throw new AssayError('ASSAY_STATS_NON_FINITE_INPUT', `${name}[${i}] is ${String(v)}; samples must be finite`)
    }
  }
  if (values.length < minLength) {
    throw new AssayError('ASSAY_STATS_TOO_FEW_OBSERVATIONS', `${name} has ${values.length} observations; at least ${minLength} are needed`)
  }
}

/**
 * A checked sample in ascending order: a sorted copy, or with `sorted: true` the sample itself
 * (one pass checks the order), so a caller that sorts a column once can reuse it across statistics.
 */
export function ascending(values: Sample, name: string, sorted: boolean | undefined): Float64Array {
  if (sorted !== undefined && typeof sorted !== 'boolean') throw new AssayError('ASSAY_STATS_INVALID_OPTION', `sorted must be true or false, got ${String(sorted)}`)
  if (sorted !== true) return Float64Array.from(values).sort()
  for (let i = 1; i < values.length; i++) {
    if (values[i] < values[i - 1]) throw new AssayError('ASSAY_STATS_INVALID_OPTION', `${name} is not in ascending order (${name}[${i}] = ${values[i]} follows ${values[i - 1]}) although sorted: true`)
  }
  return values instanceof Float64Array ? values : Float64Array.from(values)
}

export function assertPaired(a: Sample, b: Sample, minLength = 1): void {
  assertSample(a, 'a', 1)
  assertSample(b, 'b', 1)
  if (a.length !== b.length) {
    throw new AssayError('ASSAY_STATS_LENGTH_MISMATCH', `paired samples differ in length: a has ${a.length}, b has ${b.length}`)
  }
  if (a.length < minLength) {
    throw new AssayError('ASSAY_STATS_TOO_FEW_OBSERVATIONS', `paired samples have ${a.length} pairs; at least ${minLength} are needed`)
  }
}

export function resolveConfidenceLevel(level: number | undefined): number {
  const value = level ?? 0.95
  if (typeof value !== 'number' || !(value > 0 && value < 1)) {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `confidenceLevel must be in (0, 1), got ${String(value)}`)
  }
  return value
}

export function resolveAlternative(alternative: Alternative | undefined): Alternative {
  const value = alternative ?? 'two-sided'
  if (value !== 'two-sided' && value !== 'greater' && value !== 'less') {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `alternative must be 'two-sided', 'greater' or 'less', got ${String(value)}`)
  }
  return value
}

export function resolveResamples(resamples: number | undefined, fallback: number): number {
  const value = resamples ?? fallback
  if (!Number.isInteger(value) || value < 1) {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `resamples must be a positive integer, got ${String(value)}`)
  }
  return value
}

export function resolveSeed(seed: number | undefined): number {
  const value = seed ?? 0
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `seed must be a non-negative safe integer, got ${String(value)}`)
  }
  return value
}

export function assertCount(value: number, name: string, max?: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new AssayError('ASSAY_STATS_INVALID_COUNT', `${name} must be a non-negative integer, got ${String(value)}`)
  }
  if (max !== undefined && value > max) {
    throw new AssayError('ASSAY_STATS_INVALID_COUNT', `${name} (${value}) exceeds its total (${max})`)
  }
}

/** Clamp a p-value computed in floating point into [0, 1]. */
export function clampProbability(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p
}
