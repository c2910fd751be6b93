import type { EvalColumns, EvalRecord, RunRecord } from '../record/types.js'
import { isConstantSample } from '../stats/paired-decision.js'
import { tInterval } from '../stats/index.js'
import type { Store } from '../store/store.js'
import { alignExamples, alignRuns } from './align-examples.js'
import { evalSetFor } from './compare.js'
import type { Comparison, ComparisonDetail, ExampleDelta, ExampleRecords, ForestRow } from './comparison-types.js'
import { differenceHistogramOf } from './leaderboard.js'

/**
 * What a comparison looks like drawn (the web UI's Compare view): each run's and each side's mean
 * with an interval (the forest plot), the per-example differences (the histogram) and the examples
 * that moved most with every run's eval record of them. Descriptive only: the verdict, estimate,
 * interval and p-value stay the comparison's own (compare()), never re-derived here.
 */

/** Records of `columns` at `indices`, as logged (the converter is the SDK's, passed in from above). */
export type RecordsOf = (columns: EvalColumns) => EvalRecord[]

function finiteMean(values: Float64Array): { mean: number; n: number; finite: Float64Array } {
  const finite = values.filter((v) => Number.isFinite(v))
  let s = 0
  for (const v of finite) s += v
  return { mean: finite.length === 0 ? NaN : s / finite.length, n: finite.length, finite }
}

function interval(values: Float64Array, confidenceLevel: number): [number, number] | null {
  if (values.length < 2 || isConstantSample(values)) return null
  return tInterval(values, { confidenceLevel }).ci
}

/** The columns at `indices` only, so that only those records are built. */
export function pickColumns(columns: EvalColumns, indices: readonly number[]): EvalColumns {
  const at = new Map(indices.map((i, k) => [i, k]))
  const pick = (a: Float64Array | null): Float64Array | null => (a === null ? null : Float64Array.from(indices, (i) => a[i] as number))
  const missing: Record<string, number[]> = {}
  for (const [name, list] of Object.entries(columns.missing)) missing[name] = list.filter((i) => at.has(i)).map((i) => at.get(i) as number)
  return {
    dataset: columns.dataset,
    datasetSha256: columns.datasetSha256,
    ids: indices.map((i) => columns.ids[i] as string),
    clusters: columns.clusters === null ? null : indices.map((i) => columns.clusters?.[i] ?? null),
    scores: Object.fromEntries(Object.entries(columns.scores).map(([name, values]) => [name, pick(values) as Float64Array])),
    latencyMs: pick(columns.latencyMs),
    tokens: pick(columns.tokens),
    cost: pick(columns.cost),
    outputHashes: columns.outputHashes === null ? null : indices.map((i) => columns.outputHashes?.[i] ?? null),
    missing,
  }
}

/** The `top` largest of key(i) > 0, largest first (ties: first index first). */
function topBy(n: number, key: (i: number) => number, top: number): number[] {
  const idx: number[] = []
  for (let i = 0; i < n; i++) if (key(i) > 0) idx.push(i)
  return idx.sort((x, y) => key(y) - key(x) || x - y).slice(0, top)
}

export async function comparisonDetail(store: Store, comparison: Comparison, options: { top?: number; recordsOf: RecordsOf }): Promise<ComparisonDetail> {
  const top = options.top ?? 10
  const c = comparison
  const sides = [
    { side: 'A' as const, s: c.a },
    { side: 'B' as const, s: c.b },
  ]
  const runs: { side: 'A' | 'B'; record: RunRecord; columns: EvalColumns | null }[] = []
  for (const { side, s } of sides) {
    for (const id of s.runIds) {
      const record = await store.getRun(id)
      // The comparison's dataset (A's name); a B evaluated on another dataset name (different data) has its own.
      const set = c.source === 'eval-records' ? (evalSetFor(record, c.metric, c.dataset) ?? evalSetFor(record, c.metric, null)) : null
      runs.push({ side, record, columns: set === null ? null : await store.evalColumns(id, set.dataset) })
    }
  }

  const forest: ForestRow[] = []
  for (const { side, s } of sides) {
    for (const r of runs.filter((x) => x.side === side)) {
      if (r.columns !== null) {
        const m = finiteMean(r.columns.scores[c.metric] ?? new Float64Array())
        forest.push({ side, kind: 'run', label: `${side} run ${r.record.id.slice(0, 8)} (seed ${r.record.seed})`, runIds: [r.record.id], seeds: [r.record.seed], datasetSha256: r.columns.datasetSha256, n: m.n, estimate: m.mean, ci: interval(m.finite, c.confidenceLevel) })
      } else {
        const value = r.record.metrics.find((x) => x.key === c.metric)?.last ?? NaN
        forest.push({ side, kind: 'run', label: `${side} run ${r.record.id.slice(0, 8)} (seed ${r.record.seed})`, runIds: [r.record.id], seeds: [r.record.seed], datasetSha256: null, n: 1, estimate: value, ci: null })
      }
    }
    const group = c.groups === null ? null : side === 'A' ? c.groups.a : c.groups.b
    if (group !== null) forest.push({ side, kind: 'pooled', label: `${side} pooled (${group.runIds.length} runs)`, runIds: group.runIds, seeds: group.seeds, datasetSha256: s.datasetSha256, n: group.values.length, estimate: group.mean, ci: group.ci })
  }

  const sign = c.higherIsBetter ? 1 : -1
  let differences: ComparisonDetail['differences'] = null
  let differencesNote: string | null = null
  let moved: { regressed: ExampleDelta[]; improved: ExampleDelta[] } = { regressed: [], improved: [] }
  const aRuns = runs.filter((r) => r.side === 'A')
  const bRuns = runs.filter((r) => r.side === 'B')
  if (c.mode === 'paired-examples') {
    const aligned = alignExamples(aRuns[0]?.columns as EvalColumns, bRuns[0]?.columns as EvalColumns, c.metric)
    differences = { n: aligned.pairs, what: 'A − B per paired example', histogram: differenceHistogramOf(aligned.a, aligned.b) }
    // The comparison's own most regressed and improved examples.
    moved = { regressed: c.topRegressions, improved: c.topImprovements }
  } else if ((c.mode === 'two-level' || c.mode === 'replicate-groups') && c.source === 'eval-records' && c.a.datasetSha256 !== null && runs.every((r) => r.columns !== null)) {
    // Groups on one dataset version: each side's mean over its runs at every example all runs scored.
    const aligned = alignRuns(
      runs.map((r) => r.columns as EvalColumns),
      c.metric,
    )
    const n = aligned.ids.length
    const sideMean = (from: number, count: number): Float64Array => {
      const out = new Float64Array(n)
      for (let k = from; k < from + count; k++) for (let i = 0; i < n; i++) out[i] += (aligned.scores[k] as Float64Array)[i] as number
      return out.map((v) => v / count)
    }
    const meanA = sideMean(0, aRuns.length)
    const meanB = sideMean(aRuns.length, bRuns.length)
    differences = { n, what: `per example: mean of A's ${aRuns.length} runs − mean of B's ${bRuns.length} runs (the ${n} examples every run scored)`, histogram: differenceHistogramOf(meanA, meanB) }
    const delta = (i: number): ExampleDelta => ({ id: aligned.ids[i] as string, a: meanA[i] as number, b: meanB[i] as number, delta: (meanA[i] as number) - (meanB[i] as number) })
    moved = {
      regressed: topBy(n, (i) => -sign * ((meanA[i] as number) - (meanB[i] as number)), top).map(delta),
      improved: topBy(n, (i) => sign * ((meanA[i] as number) - (meanB[i] as number)), top).map(delta),
    }
  } else if (c.source === 'run-metrics') {
    differencesNote = `a run-level metric (each run's last value of ${c.metric}): there are no per-example scores to pair`
  } else {
    differencesNote = 'the sides were evaluated on different dataset versions: examples cannot be paired'
  }

  // Every run's stored record of each example that moved most.
  const wanted = new Set([...moved.regressed, ...moved.improved].map((d) => d.id))
  const recordsById = new Map<string, Map<string, EvalRecord>>()
  for (const r of runs) {
    const byId = new Map<string, EvalRecord>()
    if (r.columns !== null && wanted.size > 0) {
      const indices: number[] = []
      const seen = new Set<string>()
      r.columns.ids.forEach((id, i) => {
        if (wanted.has(id) && !seen.has(id)) {
          seen.add(id)
          indices.push(i)
        }
      })
      for (const record of options.recordsOf(pickColumns(r.columns, indices))) byId.set(record.id, record)
    }
    recordsById.set(r.record.id, byId)
  }
  const withRecords = (d: ExampleDelta): ExampleRecords => ({
    ...d,
    records: runs.map((r) => ({ side: r.side, runId: r.record.id, seed: r.record.seed, record: recordsById.get(r.record.id)?.get(d.id) ?? null })),
  })
  return { forest, differences, differencesNote, regressed: moved.regressed.map(withRecords), improved: moved.improved.map(withRecords) }
}
