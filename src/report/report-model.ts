import type { Comparison, ComparisonWarning } from '../compare/comparison-types.js'
import type { DifferenceHistogram, Leaderboard } from '../compare/leaderboard.js'
import type { FigureProvenance, SeedGroup } from './svg-plots.js'
import { formatNumber } from '../number-format.js'

/**
 * What the Markdown and HTML reports share: the inputs, provenance, and the few derived views
 * (seed groups, formatted numbers). Pure.
 */

export const REPORT_SCHEMA = 'assay.report/v1'

export type ReportInput =
  | {
      kind: 'comparison'
      comparison: Comparison
      /** Distribution of the per-example differences a − b (paired comparisons), when the caller loaded them. */
      differences?: DifferenceHistogram | null
      generatedAt?: number
    }
  | { kind: 'leaderboard'; leaderboard: Leaderboard; generatedAt?: number }

/** Fields part of `Comparison` that newer versions add; read defensively. */
type ComparisonExtras = Partial<{ dataset: string | null; holdout: { datasetSha256: string; datasetName: string; reads: number; budget: number; overBudget: boolean }[] }>

export function comparisonExtras(c: Comparison): ComparisonExtras {
  return c as Comparison & ComparisonExtras
}

export function provenanceOf(input: ReportInput): FigureProvenance {
  if (input.kind === 'leaderboard') {
    const p = input.leaderboard.provenance
    return { assayVersion: p.assayVersion, runIds: p.runIds, datasets: p.datasets, seeds: p.seeds }
  }
  const c = input.comparison
  const runIds: string[] = []
  const seeds: { runId: string; seed: number }[] = []
  for (const side of [c.a, c.b]) {
    side.runIds.forEach((id, i) => {
      if (runIds.includes(id)) return
      runIds.push(id)
      seeds.push({ runId: id, seed: side.seeds[i] ?? NaN })
    })
  }
  const name = comparisonExtras(c).dataset ?? 'dataset'
  const datasets = [...new Set([c.a.datasetSha256, c.b.datasetSha256].filter((s): s is string => s !== null))].map((sha256) => ({ name, sha256 }))
  return { assayVersion: c.assayVersion, runIds, datasets, seeds }
}

export function seedGroupsOf(input: ReportInput): SeedGroup[] {
  if (input.kind === 'comparison') {
    const g = input.comparison.groups
    if (g === null) return []
    return [g.a, g.b].map((s) => ({
      label: s.label,
      points: s.values.map((value, i) => ({ value, seed: s.seeds[i] ?? NaN, runId: s.runIds[i] ?? '' })),
    }))
  }
  const board = input.leaderboard.boards[0]
  if (board === undefined) return []
  const groups = new Map<string, SeedGroup>()
  const add = (fp: string, name: string, point: SeedGroup['points'][number]): void => {
    const g = groups.get(fp) ?? { label: `${name} [config ${fp.slice(0, 8)}]`, points: [] }
    g.points.push(point)
    groups.set(fp, g)
  }
  add(board.baseline.configFingerprint, board.baseline.name, { value: board.baseline.mean, seed: board.baseline.seed, runId: board.baseline.runId })
  for (const e of board.entries) add(e.configFingerprint, e.name, { value: e.mean, seed: e.seed, runId: e.runId })
  return [...groups.values()]
}

export function allWarnings(input: ReportInput): ComparisonWarning[] {
  const list = input.kind === 'comparison' ? input.comparison.warnings : [...input.leaderboard.warnings, ...input.leaderboard.boards.flatMap((b) => b.warnings)]
  const seen = new Set<string>()
  return list.filter((w) => {
    const key = `${w.code}\u0000${w.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** The tests of a comparison that give a p-value, in the order they ran: what the text output and both reports list. */
export function testPValues(c: Comparison): { method: string; pValue: number }[] {
  return c.tests.filter((t) => typeof t.pValue === 'number' && typeof t.method === 'string').map((t) => ({ method: t.method as string, pValue: t.pValue as number }))
}

/** An interval as [lo, hi]; null (identical sides) as 'none (identical sides)'. */
export function fmtCi(ci: readonly [number, number] | null): string {
  return ci === null ? 'none (identical sides)' : `[${formatNumber(ci[0])}, ${formatNumber(ci[1])}]`
}

export function fmtTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'
}
