import normalCdf from '@stdlib/stats-base-dists-normal-cdf'
import normalPdf from '@stdlib/stats-base-dists-normal-pdf'
import type { ComparisonWarning } from './comparison-types.js'
import { formatNumber } from '../number-format.js'

/**
 * Two selection traps.
 *
 * Winner's curse: the best of K candidates, measured on the data that picked it, looks better than
 * it is: even if all K are equal, the best one's observed difference is on average E[max of K
 * standard normals] standard errors above zero (1.54 for K = 5, 2.25 for K = 50). The cure is to
 * confirm on data that took no part in the selection: a fresh holdout.
 *
 * Best seed only: a configuration represented by its luckiest seed while its other seeds exist is
 * the same selection, made one level down.
 */

/** E[max of k i.i.d. N(0, 1)], by numerical integration of k x phi(x) Phi(x)^(k-1). */
export function expectedMaxStandardNormal(k: number): number {
  if (!Number.isInteger(k) || k < 1) return NaN
  if (k === 1) return 0
  const lo = -9
  const hi = 9
  const steps = 3600
  const h = (hi - lo) / steps
  let sum = 0
  for (let i = 0; i <= steps; i++) {
    const x = lo + i * h
    const w = i === 0 || i === steps ? 0.5 : 1
    sum += w * x * k * normalPdf(x, 0, 1) * Math.pow(normalCdf(x, 0, 1), k - 1)
  }
  return sum * h
}

export interface WinnersCurseInput {
  /** How many candidates the best was chosen from. */
  candidates: number
  bestLabel: string
  /** The dataset versions the choice was made on. */
  selectionDatasetSha256: readonly string[]
  /** The dataset version the best is now evaluated on. */
  evaluationDatasetSha256: string
  /** Standard error of the best's difference, to state the expected selection bias in metric units. */
  standardError?: number
}

/** WINNERS_CURSE when the best of K >= 2 is evaluated on a dataset version that took part in selecting it; else null. */
export function winnersCurseWarning(input: WinnersCurseInput): ComparisonWarning | null {
  if (input.candidates < 2) return null
  if (!input.selectionDatasetSha256.includes(input.evaluationDatasetSha256)) return null
  const z = expectedMaxStandardNormal(input.candidates)
  const bias =
    input.standardError !== undefined && Number.isFinite(input.standardError)
      ? ` (≈ ${formatNumber(z * input.standardError, 3)} in metric units here)`
      : ''
  return {
    code: 'WINNERS_CURSE',
    message:
      `${input.bestLabel} is the best of ${input.candidates} candidates and is evaluated on the same data that selected it (sha256 ${input.evaluationDatasetSha256.slice(0, 12)}…): ` +
      `its advantage is biased upward; even if all ${input.candidates} were equal the best would be ahead by about ${z.toFixed(2)} standard errors${bias}. ` +
      'Confirm it on a fresh holdout that took no part in the selection.',
  }
}

export interface SeedRun {
  runId: string
  /** Replicate group: same config fingerprint (or the same groupId). */
  groupKey: string
  seed: number
  /** Mean of the metric on the dataset in question; null when the run has no eval records there. */
  mean: number | null
}

/**
 * BEST_SEED_ONLY for each represented run whose replicate group has other seeds that are not
 * represented, when the represented run scores at least as well as every one of them (or they have no
 * scores on this dataset, so nobody can tell).
 */
export function bestSeedOnlyWarnings(
  represented: readonly (SeedRun & { label: string })[],
  pool: readonly SeedRun[],
  higherIsBetter: boolean,
): Map<string, ComparisonWarning> {
  const inBoard = new Set(represented.map((r) => r.runId))
  const byGroup = new Map<string, SeedRun[]>()
  for (const r of pool) {
    if (inBoard.has(r.runId)) continue
    const list = byGroup.get(r.groupKey) ?? []
    list.push(r)
    byGroup.set(r.groupKey, list)
  }
  const representedPerGroup = new Map<string, number>()
  for (const r of represented) representedPerGroup.set(r.groupKey, (representedPerGroup.get(r.groupKey) ?? 0) + 1)
  const warnings = new Map<string, ComparisonWarning>()
  for (const r of represented) {
    if (representedPerGroup.get(r.groupKey) !== 1 || r.mean === null) continue
    const others = (byGroup.get(r.groupKey) ?? []).filter((o) => o.seed !== r.seed || o.runId !== r.runId)
    if (others.length === 0) continue
    const scored = others.filter((o): o is SeedRun & { mean: number } => o.mean !== null && Number.isFinite(o.mean))
    const isBest = scored.every((o) => (higherIsBetter ? r.mean! >= o.mean : r.mean! <= o.mean))
    if (!isBest) continue
    const seeds = others.map((o) => o.seed).join(', ')
    const means = scored.length > 0 ? `; their means: ${scored.map((o) => formatNumber(o.mean, 3)).join(', ')}` : ' (they have no eval records here)'
    warnings.set(r.runId, {
      code: 'BEST_SEED_ONLY',
      message:
        `${r.label} (seed ${r.seed}) represents its configuration, whose other ${others.length === 1 ? 'seed' : 'seeds'} ${seeds} ${others.length === 1 ? 'exists' : 'exist'} but ${others.length === 1 ? 'is' : 'are'} not on the board${means}. ` +
        'Showing only the best seed overstates the configuration: include every seed, or compare replicate groups.',
    })
  }
  return warnings
}
