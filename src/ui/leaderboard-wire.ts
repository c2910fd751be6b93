import type { ComparisonWarning } from '../compare/comparison-types.js'
import type { HoldoutRead } from '../record/types.js'

/** A number, or "NaN", "Infinity", "-Infinity" (JSON cannot hold them): api.ts's WireNumber. */
type WireNumber = number | string

/**
 * What the Leaderboard view reads of the assay.leaderboard/v1 object (src/compare/leaderboard.ts,
 * which the UI cannot import: it reads the store). test/ui/ui-compare.test.ts checks that the
 * library's Leaderboard type is assignable to this one, so the two cannot drift apart.
 */
export interface LeaderboardWire {
  metric: string
  higherIsBetter: boolean
  alpha: number
  confidenceLevel: number
  adjustment: string
  methods: { binary: string; continuous: string; interval: string }
  boards: {
    dataset: { name: string; sha256: string; role: string; versions: string[] }
    baseline: { runId: string; name: string; seed: number; datasetSha256: string; mean: WireNumber; n: number; rule: string }
    entries: {
      rank: number
      runId: string
      name: string
      seed: number
      datasetSha256: string
      mean: WireNumber
      pairs: number
      estimate: WireNumber
      ci: [WireNumber, WireNumber] | null
      test: { method: string }
      pValue: WireNumber
      adjustedPValue: WireNumber
      verdict: string
      histogram: { bins: { lo: WireNumber; hi: WireNumber; count: number }[] }
      warnings: ComparisonWarning[]
    }[]
    adjustment: { method: string; hypotheses: number }
    holdout: { datasetSha256: string; datasetName: string; reads: number; budget: number; overBudget: boolean; actors: string[]; entries: HoldoutRead[]; view?: 'readable experiments'; hiddenReads?: number }[]
    warnings: ComparisonWarning[]
  }[]
  ranking: {
    datasets: { name: string; sha256: string }[]
    systems: { system: string; runIds: string[]; averageRank: number; means: WireNumber[] }[]
    friedman: { statistic: WireNumber; df: number; pValue: WireNumber } | null
    nemenyi: { criticalDifference: number }
    cliques: number[][]
    alpha: number
    note: string | null
  } | null
  provenance: { runIds: string[]; datasets: { name: string; sha256: string }[]; seeds: { runId: string; seed: number }[] }
  warnings: ComparisonWarning[]
}
