import normalCdf from '@stdlib/stats-base-dists-normal-cdf'
import signrankCdf from '@stdlib/stats-base-dists-signrank-cdf'
import { AssayError } from '../errors.js'
import { differences } from './paired.js'
import { clampProbability, resolveAlternative, type Alternative, type Sample } from './validate.js'

export type WilcoxonMethod = 'exact' | 'asymptotic' | 'auto'
export type ZeroMethod = 'wilcox' | 'pratt' | 'zsplit'

export interface WilcoxonOptions {
  /** 'auto' (default): exact when n < 50 and there are no ties and no zeros, as R. */
  method?: WilcoxonMethod
  /** 'wilcox' (default, R): drop zero differences. 'pratt' and 'zsplit' as scipy.stats.wilcoxon. */
  zeroMethod?: ZeroMethod
  /** Continuity correction of the normal approximation. Default true (R's default). */
  correction?: boolean
  alternative?: Alternative
}

export interface WilcoxonResult {
  method: string
  /** R's V: the sum of the ranks of the positive differences (zsplit adds half the ranks of the zeros). */
  statistic: number
  pValue: number
  /** Standardised statistic of the normal approximation (absent for the exact test). */
  zStatistic?: number
  /** Number of differences ranked (non-zero ones for 'wilcox', all for 'pratt' and 'zsplit'). */
  n: number
  zeros: number
  ties: boolean
  /** Whether the p-value is exact (signed-rank distribution) rather than the normal approximation. */
  exact: boolean
  /** The method option as asked for ('auto', 'exact' or 'asymptotic'); `exact` says what was used. */
  requestedMethod: WilcoxonMethod
  zeroMethod: ZeroMethod
  correction: boolean
  alternative: Alternative
  /** Set when an exact test was asked for but ties or zeros forced the normal approximation (R warns). */
  warning?: string
}

/**
 * Wilcoxon signed-rank test of d = a - b (or of a when b is omitted) against 0.
 * 'wilcox' zero handling and exact/asymptotic p-values match R wilcox.test(a, b, paired = TRUE, exact, correct);
 * 'pratt' and 'zsplit' match scipy.stats.wilcoxon(a, b, zero_method, correction, mode = 'approx') and are
 * always asymptotic when zeros are present. All differences zero throws ASSAY_STATS_DEGENERATE_INPUT.
 */
export function wilcoxonSignedRank(a: Sample, b?: Sample, opts: WilcoxonOptions = {}): WilcoxonResult {
  const all = differences(a, b)
  const alternative = resolveAlternative(opts.alternative)
  const method = opts.method ?? 'auto'
  const zeroMethod = opts.zeroMethod ?? 'wilcox'
  const correctionOpt = opts.correction ?? true
  if (method !== 'exact' && method !== 'asymptotic' && method !== 'auto') {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `method must be 'exact', 'asymptotic' or 'auto', got ${String(method)}`)
  }
  if (zeroMethod !== 'wilcox' && zeroMethod !== 'pratt' && zeroMethod !== 'zsplit') {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `zeroMethod must be 'wilcox', 'pratt' or 'zsplit', got ${String(zeroMethod)}`)
  }
  if (typeof correctionOpt !== 'boolean') throw new AssayError('ASSAY_STATS_INVALID_OPTION', 'correction must be a boolean')

  let zeros = 0
  for (let i = 0; i < all.length; i++) if (all[i] === 0) zeros++
  if (zeros === all.length) {
    throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', 'Wilcoxon signed-rank test: every difference is zero')
  }
  let d = all
  if (zeroMethod === 'wilcox' && zeros > 0) {
    d = new Float64Array(all.length - zeros)
    let j = 0
    for (let i = 0; i < all.length; i++) if (all[i] !== 0) d[j++] = all[i]
  }
  const n = d.length
  const { ranks, tieGroups } = absoluteRanks(d)

  let statistic = 0
  let zeroRankSum = 0
  for (let i = 0; i < n; i++) {
    if (d[i] > 0) statistic += ranks[i]
    else if (d[i] === 0) zeroRankSum += ranks[i]
  }
  if (zeroMethod === 'zsplit') statistic += zeroRankSum / 2

  // Ties among the non-zero differences (the zero group, when kept, is handled per zero method below).
  let tieSumNonZero = 0
  let tiesNonZero = false
  let zeroGroupTerm = 0
  for (const g of tieGroups) {
    const term = g.size * g.size * g.size - g.size
    if (g.zero) zeroGroupTerm = term
    else {
      tieSumNonZero += term
      if (g.size > 1) tiesNonZero = true
    }
  }
  const hasZeros = zeros > 0
  const exactPossible = !tiesNonZero && !hasZeros
  const exact = method === 'exact' ? exactPossible : method === 'auto' ? exactPossible && n < 50 : false
  const warning =
    method === 'exact' && !exactPossible
      ? `cannot compute exact p-value with ${tiesNonZero ? 'ties' : 'zeros'}; used the normal approximation`
      : undefined

  const base = { n, zeros, ties: tiesNonZero, requestedMethod: method, zeroMethod, alternative }
  if (exact) {
    const total = (n * (n + 1)) / 2
    // P(V <= v) and P(V >= v) = P(V <= total - v) by symmetry (precise in both tails).
    const lower = (v: number): number => signrankCdf(v, n)
    let pValue: number
    if (alternative === 'less') pValue = lower(statistic)
    else if (alternative === 'greater') pValue = lower(total - statistic)
    else pValue = Math.min(1, 2 * (statistic > total / 2 ? lower(total - statistic) : lower(statistic)))
    return { method: 'Wilcoxon signed rank exact test', statistic, pValue: clampProbability(pValue), ...base, exact: true, correction: false }
  }

  let mean: number
  let variance: number
  if (zeroMethod === 'pratt') {
    // Cureton (1967), as scipy: zeros take the lowest ranks but do not count in V.
    mean = (n * (n + 1) - zeros * (zeros + 1)) / 4
    variance = (n * (n + 1) * (2 * n + 1) - zeros * (zeros + 1) * (2 * zeros + 1)) / 24 - tieSumNonZero / 48
  } else {
    mean = (n * (n + 1)) / 4
    variance = (n * (n + 1) * (2 * n + 1)) / 24 - (tieSumNonZero + (zeroMethod === 'zsplit' ? zeroGroupTerm : 0)) / 48
  }
  const centred = statistic - mean
  const shift = !correctionOpt ? 0 : alternative === 'two-sided' ? Math.sign(centred) * 0.5 : alternative === 'greater' ? 0.5 : -0.5
  const z = (centred - shift) / Math.sqrt(variance)
  const pValue =
    alternative === 'less' ? normalCdf(z, 0, 1) : alternative === 'greater' ? normalCdf(-z, 0, 1) : 2 * normalCdf(-Math.abs(z), 0, 1)
  const result: WilcoxonResult = {
    method: correctionOpt ? 'Wilcoxon signed rank test with continuity correction' : 'Wilcoxon signed rank test',
    statistic,
    pValue: clampProbability(pValue),
    zStatistic: z,
    ...base,
    exact: false,
    correction: correctionOpt,
  }
  if (warning !== undefined) result.warning = warning
  return result
}

/** Average ranks of |d| (R rank, ties.method = 'average') and the groups of tied values. */
function absoluteRanks(d: Float64Array): { ranks: Float64Array; tieGroups: { size: number; zero: boolean }[] } {
  const n = d.length
  const abs = new Float64Array(n)
  for (let i = 0; i < n; i++) abs[i] = Math.abs(d[i])
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => abs[i] - abs[j])
  const ranks = new Float64Array(n)
  const tieGroups: { size: number; zero: boolean }[] = []
  let i = 0
  while (i < n) {
    let j = i
    while (j + 1 < n && abs[order[j + 1]] === abs[order[i]]) j++
    const rank = (i + j + 2) / 2
    for (let k = i; k <= j; k++) ranks[order[k]] = rank
    tieGroups.push({ size: j - i + 1, zero: abs[order[i]] === 0 })
    i = j + 1
  }
  return { ranks, tieGroups }
}
