import { AssayError } from '../errors.js'
import { averageRanks, friedman, nemenyiCriticalDifference, type FriedmanResult, type NemenyiResult } from '../stats/index.js'

/**
 * Many systems over several datasets (Demšar 2006): rank the systems within each dataset, average
 * the ranks, test "all systems rank alike" with Friedman's test and its Iman–Davenport F, and draw
 * the Nemenyi critical difference: two systems whose average ranks differ by less than CD are not
 * told apart. Pure: a matrix of per-dataset means in, ranks and tests out.
 */

export interface SystemRank {
  system: string
  /** Run ids that make up this system (several when seeds are averaged). */
  runIds: string[]
  averageRank: number
  /** Mean of the metric on each dataset, in `datasets` order. */
  means: number[]
}

export interface CriticalDifferenceResult {
  method: string
  higherIsBetter: boolean
  datasets: { name: string; sha256: string }[]
  /** Best average rank first. */
  systems: SystemRank[]
  /** Rank of each system (columns, in `systems` order) within each dataset (rows). */
  ranks: number[][]
  friedman: FriedmanResult | null
  nemenyi: NemenyiResult
  alpha: number
  /**
   * Maximal groups of systems (indices into `systems`) whose average ranks all lie within CD of each
   * other: the bars of the critical-difference diagram. Only groups of 2 or more.
   */
  cliques: number[][]
  /** Why the Friedman test is missing, when it is. */
  note: string | null
}

export interface CriticalDifferenceInput {
  systems: { system: string; runIds: string[] }[]
  datasets: { name: string; sha256: string }[]
  /** matrix[i][j]: mean of system j on dataset i. */
  matrix: number[][]
  higherIsBetter?: boolean
  alpha?: number
}

export function criticalDifference(input: CriticalDifferenceInput): CriticalDifferenceResult {
  const higherIsBetter = input.higherIsBetter ?? true
  const alpha = input.alpha ?? 0.05
  const k = input.systems.length
  const n = input.datasets.length
  if (k < 2) throw new AssayError('ASSAY_LEADERBOARD_EMPTY', `a critical-difference diagram needs at least 2 systems, got ${k}`)
  if (n < 1 || input.matrix.length !== n) throw new AssayError('ASSAY_INVALID_ARGUMENT', `the score matrix needs one row per dataset (${n}), got ${input.matrix.length}`)
  const avg = averageRanks(input.matrix, { higherIsBetter })
  let test: FriedmanResult | null = null
  let note: string | null = null
  if (n < 2) note = 'the Friedman test needs at least 2 datasets'
  else {
    try {
      test = friedman(input.matrix, { higherIsBetter })
    } catch (error) {
      note = error instanceof Error ? error.message : String(error)
    }
  }
  const nemenyi = nemenyiCriticalDifference(k, n, alpha)
  const order = avg.averageRanks.map((_, j) => j).sort((x, y) => avg.averageRanks[x] - avg.averageRanks[y] || x - y)
  const systems: SystemRank[] = order.map((j) => ({
    system: input.systems[j].system,
    runIds: input.systems[j].runIds,
    averageRank: avg.averageRanks[j],
    means: input.matrix.map((row) => row[j]),
  }))
  const ranks = avg.ranks.map((row) => order.map((j) => row[j]))
  return {
    method: 'average ranks, Friedman test with Iman-Davenport F, Nemenyi critical difference (Demšar 2006)',
    higherIsBetter,
    datasets: input.datasets,
    systems,
    ranks,
    friedman: test,
    nemenyi,
    alpha,
    cliques: cliquesWithin(
      systems.map((s) => s.averageRank),
      nemenyi.criticalDifference,
    ),
    note,
  }
}

/** Maximal runs of consecutive (sorted) ranks spanning less than cd; each of size >= 2, none inside another. */
export function cliquesWithin(sortedRanks: readonly number[], cd: number): number[][] {
  const groups: number[][] = []
  let lastEnd = -1
  for (let i = 0; i < sortedRanks.length; i++) {
    let j = i
    while (j + 1 < sortedRanks.length && sortedRanks[j + 1] - sortedRanks[i] < cd) j++
    if (j > i && j > lastEnd) {
      groups.push(Array.from({ length: j - i + 1 }, (_, t) => i + t))
      lastEnd = j
    }
  }
  return groups
}
