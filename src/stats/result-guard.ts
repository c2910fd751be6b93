import { AssayError } from '../errors.js'

/**
 * The one result guard of assay/stats: every public function is wrapped in it (index.ts), so no
 * result carries NaN or an infinity it should not. Finite inputs can still overflow double
 * precision (a variance of values near 1e308, a difference of -1.7e308 and 1.7e308); such a result
 * is refused with ASSAY_STATS_DEGENERATE_INPUT instead of being returned as NaN or Infinity.
 *
 * Infinity is allowed only where it means something: the open end of a one-sided interval
 * (`ci[0] = -Infinity` with alternative 'less', `ci[1] = Infinity` with 'greater') and the fields a
 * function names in `openEnded` (Friedman's Iman–Davenport F, +Infinity when every block agrees).
 */
export function guarded<A extends unknown[], R>(name: string, fn: (...args: A) => R, openEnded: readonly string[] = []): (...args: A) => R {
  const allowed = new Set(openEnded)
  const wrapped = (...args: A): R => checkResult(name, fn(...args), allowed)
  Object.defineProperty(wrapped, 'name', { value: name })
  return wrapped
}

export function checkResult<R>(name: string, result: R, openEnded: ReadonlySet<string> = new Set()): R {
  walk(name, result, '', undefined, openEnded)
  return result
}

function walk(name: string, value: unknown, path: string, alternative: unknown, openEnded: ReadonlySet<string>): void {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return
    if (value === Infinity || value === -Infinity) {
      if (openEnded.has(path)) return
      if (path.endsWith('ci[0]') && value === -Infinity && alternative === 'less') return
      if (path.endsWith('ci[1]') && value === Infinity && alternative === 'greater') return
    }
    throw new AssayError(
      'ASSAY_STATS_DEGENERATE_INPUT',
      `${name}: the result overflowed double precision (${path || 'the value'} is ${String(value)}); the inputs are finite but too large in magnitude for this statistic`,
      { function: name, field: path || null },
    )
  }
  if (value === null || typeof value !== 'object') return
  if (Array.isArray(value) || value instanceof Float64Array) {
    for (let i = 0; i < value.length; i++) walk(name, value[i], `${path}[${i}]`, alternative, openEnded)
    return
  }
  const record = value as Record<string, unknown>
  const own = 'alternative' in record ? record.alternative : alternative
  for (const key of Object.keys(record)) walk(name, record[key], path === '' ? key : `${path}.${key}`, own, openEnded)
}
