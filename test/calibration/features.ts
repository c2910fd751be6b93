import { detectScoreType, type AlignedExamples } from '../../src/compare/align-examples.js'
import { groupComparison } from '../../src/compare/group-comparison.js'
import { leaderboardPair } from '../../src/compare/leaderboard.js'
import { pairedExampleComparison } from '../../src/compare/paired-comparison.js'
import { twoLevelBootstrap } from '../../src/compare/two-level-bootstrap.js'
import { decideVerdict } from '../../src/compare/verdict.js'
import { decideNonInferiority, decideSuperiority, type CriterionContext } from '../../src/gates/criteria.js'
import { adjustPValues } from '../../src/stats/index.js'
import type { PairedData } from './simulation.js'

/**
 * The decision of each feature on simulated data, through its pure entry point: compare's pieces
 * composed as compareSingleRuns/compareGroups compose them, gates' criteria, the leaderboard's pair.
 */

export interface FeatureDecision {
  verdict: 'better' | 'worse' | 'equivalent' | 'inconclusive'
  ci: [number, number] | null
  pValue: number
  warnings: string[]
}


function aligned(data: PairedData): AlignedExamples {
  const n = data.a.length
  return {
    metric: 'score',
    ids: Array.from({ length: n }, (_, i) => `e${i}`),
    a: data.a,
    b: data.b,
    clusters: data.clusters,
    indexA: Int32Array.from({ length: n }, (_, i) => i),
    indexB: Int32Array.from({ length: n }, (_, i) => i),
    nA: n,
    nB: n,
    pairs: n,
    lostA: 0,
    lostB: 0,
    lost: { a: { unmatched: 0, missingScore: 0, nonFinite: 0, duplicateId: 0 }, b: { unmatched: 0, missingScore: 0, nonFinite: 0, duplicateId: 0 } },
    sameOrder: true,
    scoreType: detectScoreType(data.a, data.b),
  }
}

export function compareExamples(data: PairedData, options: { margin?: number | null; resamples?: number } = {}): FeatureDecision {
  const r = pairedExampleComparison(aligned(data), { confidenceLevel: 0.95, resamples: options.resamples ?? 2000, seed: 0, higherIsBetter: true, top: 0 })
  const d = decideVerdict({ estimate: r.estimate, ci: r.ci, pValue: r.pValue, alpha: 0.05, margin: options.margin ?? null, higherIsBetter: true })
  return { verdict: d.verdict, ci: r.ci, pValue: r.pValue, warnings: r.warnings.map((w) => w.code) }
}

export function compareSeedGroups(a: number[], b: number[]): FeatureDecision {
  const g = groupComparison({ label: 'A', runIds: [], seeds: [], values: a }, { label: 'B', runIds: [], seeds: [], values: b }, { confidenceLevel: 0.95, resamples: 500, seed: 0 })
  const d = decideVerdict({ estimate: g.estimate, ci: g.ci, pValue: g.pValue, alpha: 0.05, margin: null, higherIsBetter: true })
  return { verdict: d.verdict, ci: g.ci, pValue: g.pValue, warnings: g.warnings.map((w) => w.code) }
}

export function compareTwoLevel(a: Float64Array[], b: Float64Array[], resamples = 1000): FeatureDecision {
  const mean = (x: Float64Array): number => x.reduce((s, v) => s + v, 0) / x.length
  const g = groupComparison({ label: 'A', runIds: [], seeds: [], values: a.map(mean) }, { label: 'B', runIds: [], seeds: [], values: b.map(mean) }, { confidenceLevel: 0.95, resamples: 200, seed: 0 })
  const t = twoLevelBootstrap(a, b, { resamples, seed: 0, confidenceLevel: 0.95 })
  const d = decideVerdict({ estimate: g.estimate, ci: t.ci, pValue: t.pValue, alpha: 0.05, margin: null, higherIsBetter: true })
  return { verdict: d.verdict, ci: t.ci, pValue: t.pValue, warnings: g.warnings.map((w) => w.code) }
}

const context: CriterionContext = { name: 'calibration', dataset: 'sim', line: null, seed: 0 }

export function gateSuperiority(data: PairedData, options: { test: 'paired-t' | 'paired-bootstrap'; resamples?: number }): { pass: boolean; warnings: string[] } {
  const r = decideSuperiority(
    { kind: 'superiority', metric: 'score', test: options.test, higherIsBetter: true, minEffect: 0, resamples: options.resamples ?? 2000, alpha: 0.05, onFailure: 'block', rationale: 'calibration', fewExamples: 'warn' },
    context,
    { candidate: data.a, baseline: data.b, nCandidate: data.a.length, nBaseline: data.b.length, clusters: data.clusters },
  )
  return { pass: r.status === 'pass', warnings: [] }
}

export function gateNonInferiority(data: PairedData, options: { test: 'paired-t' | 'paired-bootstrap'; margin: number; resamples?: number }): { pass: boolean; warnings: string[] } {
  const r = decideNonInferiority(
    { kind: 'non-inferiority', metric: 'score', test: options.test, higherIsBetter: true, margin: options.margin, resamples: options.resamples ?? 2000, alpha: 0.05, onFailure: 'block', rationale: 'calibration', fewExamples: 'warn' },
    context,
    { candidate: data.a, baseline: data.b, nCandidate: data.a.length, nBaseline: data.b.length, clusters: data.clusters },
  )
  return { pass: r.status === 'pass', warnings: [] }
}

/** Each candidate against the baseline as one leaderboard board decides it: the per-pair decision, Holm over the family. */
export function leaderboardBoard(baseline: Float64Array, candidates: Float64Array[], clusters: string[] | null): { significant: boolean[]; pValues: number[] } {
  const pValues = candidates.map(
    (cand) =>
      leaderboardPair(cand, baseline, { clusters, binary: detectScoreType(cand, baseline) === 'binary', confidenceLevel: 0.95, interval: 'analytic', resamples: 1000, seed: 0, mcnemar: 'exact' }).decision.pValue,
  )
  const adjusted = adjustPValues(pValues, 'holm').adjusted
  return { significant: Array.from(adjusted, (p) => p < 0.05), pValues }
}
