import { AssayError } from '../errors.js'

/**
 * Multiple-comparison adjustment of p-values, matching R's p.adjust() exactly
 * (same orderings, same cumulative min/max, same harmonic sum for BY).
 *
 * - bonferroni: min(1, m p)
 * - holm: step-down, Holm (1979)
 * - hochberg: step-up, Hochberg (1988)
 * - BH: Benjamini & Hochberg (1995) false discovery rate
 * - BY: Benjamini & Yekutieli (2001), FDR under arbitrary dependence
 */
export type PValueAdjustment = 'bonferroni' | 'holm' | 'hochberg' | 'BH' | 'BY'

export interface AdjustedPValues {
  method: string
  adjustment: PValueAdjustment
  /** Number of hypotheses m. */
  n: number
  pValues: number[]
  adjusted: number[]
}

const METHOD_NAMES: Record<PValueAdjustment, string> = {
  bonferroni: 'Bonferroni adjustment',
  holm: 'Holm step-down adjustment',
  hochberg: 'Hochberg step-up adjustment',
  BH: 'Benjamini-Hochberg false discovery rate adjustment',
  BY: 'Benjamini-Yekutieli false discovery rate adjustment',
}

/** Adjust p-values for multiple comparisons. Throws on an empty list, a p-value outside [0, 1] or an unknown method. */
export function adjustPValues(p: readonly number[] | Float64Array, method: PValueAdjustment): AdjustedPValues {
  if (!Array.isArray(p) && !(p instanceof Float64Array)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', 'p must be an array of p-values')
  }
  if (!Object.prototype.hasOwnProperty.call(METHOD_NAMES, method)) {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `method must be one of ${Object.keys(METHOD_NAMES).join(', ')}, got ${String(method)}`)
  }
  const n = p.length
  if (n === 0) throw new AssayError('ASSAY_STATS_EMPTY_INPUT', 'p is empty')
  for (let i = 0; i < n; i++) {
    const v = p[i]
    if (typeof v !== 'number' || Number.isNaN(v)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `p[${i}] is not a number`)
    if (!(v >= 0 && v <= 1)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `p[${i}] = ${v} is outside [0, 1]`)
  }
  const values = Array.from(p)
  const adjusted = new Array<number>(n)
  if (n === 1) {
    adjusted[0] = values[0]
  } else if (method === 'bonferroni') {
    for (let i = 0; i < n; i++) adjusted[i] = Math.min(1, n * values[i])
  } else if (method === 'holm') {
    // i <- seq_len(lp); o <- order(p); pmin(1, cummax((n + 1 - i) * p[o]))[ro]
    const o = stableOrder(values, false)
    let running = -Infinity
    for (let i = 1; i <= n; i++) {
      running = Math.max(running, (n + 1 - i) * values[o[i - 1]])
      adjusted[o[i - 1]] = Math.min(1, running)
    }
  } else {
    // i <- lp:1; o <- order(p, decreasing = TRUE); pmin(1, cummin(factor * p[o]))[ro]
    const o = stableOrder(values, true)
    let q = 1
    if (method === 'BY') {
      q = 0
      for (let k = 1; k <= n; k++) q += 1 / k
    }
    let running = Infinity
    for (let idx = 0; idx < n; idx++) {
      const i = n - idx
      const pv = values[o[idx]]
      const scaled = method === 'hochberg' ? (n + 1 - i) * pv : method === 'BH' ? (n / i) * pv : ((q * n) / i) * pv
      running = Math.min(running, scaled)
      adjusted[o[idx]] = Math.min(1, running)
    }
  }
  return { method: METHOD_NAMES[method], adjustment: method, n, pValues: values, adjusted }
}

function stableOrder(values: readonly number[], decreasing: boolean): number[] {
  const idx = values.map((_, i) => i)
  idx.sort((i, j) => (decreasing ? values[j] - values[i] : values[i] - values[j]) || i - j)
  return idx
}
