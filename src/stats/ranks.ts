import betainc from '@stdlib/math-base-special-betainc'
import gammainc from '@stdlib/math-base-special-gammainc'
import studentizedRangeQuantile from '@stdlib/stats-base-dists-studentized-range-quantile'
import { AssayError } from '../errors.js'
import { midranks, tieCorrectionSum } from './sample-helpers.js'
import { clampProbability } from './validate.js'

/** Rows are blocks (datasets, tasks), columns are systems. */
export type ScoreMatrix = readonly (readonly number[] | Float64Array)[]

export interface AverageRanksOptions {
  /** Default true: the highest score in a row gets rank 1 (best). With false the lowest score (e.g. an error rate) does. */
  higherIsBetter?: boolean
}

export interface AverageRanksResult {
  method: string
  higherIsBetter: boolean
  /** Rank of each system within each block (1 = best; ties get the mean of the ranks they span). */
  ranks: number[][]
  /** Mean rank of each system over the blocks (column means of `ranks`). */
  averageRanks: number[]
  nBlocks: number
  k: number
}

export interface FriedmanResult {
  method: string
  /** Friedman's chi-squared, with the tie correction of R's friedman.test. */
  statistic: number
  df: number
  pValue: number
  /** Iman & Davenport (1980) F = (n-1) chi2 / (n(k-1) - chi2) on (k-1, (k-1)(n-1)) df; +Infinity (p = 0) when every block ranks the systems identically. */
  imanDavenport: { statistic: number; df1: number; df2: number; pValue: number }
  averageRanks: number[]
  higherIsBetter: boolean
  nBlocks: number
  k: number
}

export interface NemenyiResult {
  method: string
  k: number
  n: number
  alpha: number
  /** q_alpha = qtukey(1 - alpha, k, Inf) / sqrt(2) (Demšar 2006, Table 5a). */
  qAlpha: number
  /** CD = q_alpha sqrt(k (k + 1) / (6 n)): two systems differ when their average ranks differ by at least CD. */
  criticalDifference: number
}

function assertMatrix(matrix: ScoreMatrix, minRows: number): { n: number; k: number } {
  if (!Array.isArray(matrix)) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'matrix must be an array of rows')
  const n = matrix.length
  if (n === 0) throw new AssayError('ASSAY_STATS_EMPTY_INPUT', 'matrix has no rows')
  const first = matrix[0]
  if (!Array.isArray(first) && !(first instanceof Float64Array)) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'matrix[0] is not an array')
  const k = first.length
  for (let i = 0; i < n; i++) {
    const row = matrix[i]
    if (!Array.isArray(row) && !(row instanceof Float64Array)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `matrix[${i}] is not an array`)
    if (row.length !== k) {
      throw new AssayError('ASSAY_STATS_LENGTH_MISMATCH', `matrix rows differ in length: row 0 has ${k}, row ${i} has ${row.length}`)
    }
    for (let j = 0; j < k; j++) {
      const v = row[j]
      if (typeof v !== 'number') throw new AssayError('ASSAY_INVALID_ARGUMENT', `matrix[${i}][${j}] is not a number`)
      if (!Number.isFinite(v)) throw new AssayError('ASSAY_STATS_NON_FINITE_INPUT', `matrix[${i}][${j}] is ${String(v)}; scores must be finite`)
    }
  }
  if (k < 2) throw new AssayError('ASSAY_STATS_TOO_FEW_OBSERVATIONS', `at least 2 systems (columns) are needed, got ${k}`)
  if (n < minRows) throw new AssayError('ASSAY_STATS_TOO_FEW_OBSERVATIONS', `at least ${minRows} blocks (rows) are needed, got ${n}`)
  return { n, k }
}

/** Rank systems within each block (1 = best) and average over blocks (Demšar 2006). */
export function averageRanks(matrix: ScoreMatrix, options: AverageRanksOptions = {}): AverageRanksResult {
  const higherIsBetter = options.higherIsBetter ?? true
  if (typeof higherIsBetter !== 'boolean') throw new AssayError('ASSAY_STATS_INVALID_OPTION', 'higherIsBetter must be a boolean')
  const { n, k } = assertMatrix(matrix, 1)
  const ranks: number[][] = []
  const sums = new Array<number>(k).fill(0)
  for (let i = 0; i < n; i++) {
    const row = matrix[i]
    const keyed = Float64Array.from(row, (v) => (higherIsBetter ? -v : v))
    const r = Array.from(midranks(keyed))
    ranks.push(r)
    for (let j = 0; j < k; j++) sums[j] += r[j]
  }
  return {
    method: 'average ranks (1 = best, ties share the mean rank)',
    higherIsBetter,
    ranks,
    averageRanks: sums.map((s) => s / n),
    nBlocks: n,
    k,
  }
}

/**
 * Friedman rank-sum test across blocks, as R's friedman.test(matrix) (with its tie correction), plus the
 * Iman–Davenport F refinement recommended by Demšar (2006). Needs at least 2 blocks and 2 systems.
 * Throws ASSAY_STATS_DEGENERATE_INPUT when every block is entirely tied.
 */
export function friedman(matrix: ScoreMatrix, options: AverageRanksOptions = {}): FriedmanResult {
  const { n, k } = assertMatrix(matrix, 2)
  const avg = averageRanks(matrix, options)
  // Direction does not change the statistic: R ranks ascending; sum of (R_j - n(k+1)/2)^2 is symmetric.
  const colSums = avg.averageRanks.map((r) => r * n)
  let ties = 0
  for (let i = 0; i < n; i++) ties += tieCorrectionSum(matrix[i])
  let ss = 0
  for (let j = 0; j < k; j++) ss += (colSums[j] - (n * (k + 1)) / 2) ** 2
  const denominator = n * k * (k + 1) - ties / (k - 1)
  if (!(denominator > 0)) throw new AssayError('ASSAY_STATS_DEGENERATE_INPUT', 'every block is entirely tied: the Friedman statistic is undefined')
  const statistic = (12 * ss) / denominator
  const df = k - 1
  // Upper tails straight from the regularised incomplete gamma and beta functions: 1 - cdf
  // would lose every digit below about 1e-16.
  const pValue = clampProbability(gammainc(statistic / 2, df / 2, true, true))
  const df1 = k - 1
  const df2 = (k - 1) * (n - 1)
  const idDenominator = n * (k - 1) - statistic
  let idStatistic: number
  let idP: number
  if (idDenominator <= 1e-12 * n * (k - 1)) {
    idStatistic = Infinity
    idP = 0
  } else {
    idStatistic = ((n - 1) * statistic) / idDenominator
    idP = clampProbability(betainc(df2 / (df2 + df1 * idStatistic), df2 / 2, df1 / 2, true, false))
  }
  return {
    method: 'Friedman rank-sum test with Iman-Davenport F',
    statistic,
    df,
    pValue,
    imanDavenport: { statistic: idStatistic, df1, df2, pValue: idP },
    averageRanks: avg.averageRanks,
    higherIsBetter: avg.higherIsBetter,
    nBlocks: n,
    k,
  }
}

/**
 * Nemenyi critical difference for comparing k systems over n blocks by average rank (Demšar 2006, section 3.2.2):
 * q_alpha = qtukey(1 - alpha, k, Inf) / sqrt(2), CD = q_alpha sqrt(k (k + 1) / (6 n)).
 */
export function nemenyiCriticalDifference(k: number, n: number, alpha = 0.05): NemenyiResult {
  if (!Number.isInteger(k) || k < 2) {
    throw new AssayError(Number.isInteger(k) && k >= 0 ? 'ASSAY_STATS_TOO_FEW_OBSERVATIONS' : 'ASSAY_STATS_INVALID_COUNT', `k must be an integer >= 2 systems, got ${String(k)}`)
  }
  if (!Number.isInteger(n) || n < 1) throw new AssayError('ASSAY_STATS_INVALID_COUNT', `n must be a positive integer number of blocks, got ${String(n)}`)
  if (typeof alpha !== 'number' || !(alpha > 0 && alpha < 1)) {
    throw new AssayError('ASSAY_STATS_INVALID_OPTION', `alpha must be in (0, 1), got ${String(alpha)}`)
  }
  const qAlpha = studentizedRangeQuantile(1 - alpha, k, Infinity) / Math.SQRT2
  return {
    method: 'Nemenyi critical difference (Demšar 2006)',
    k,
    n,
    alpha,
    qAlpha,
    criticalDifference: qAlpha * Math.sqrt((k * (k + 1)) / (6 * n)),
  }
}
