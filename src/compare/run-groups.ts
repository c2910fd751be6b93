import { AssayError } from '../errors.js'
import type { JsonValue, RunSummary } from '../record/types.js'
import { decodeCursor, encodeCursor } from '../store/pages.js'
import { formatFilterKey, formatFilterLiteral } from '../store/run-filter.js'
import { PAGE_SIZE, type Store } from '../store/store.js'
import { summarizeGroup } from './group-comparison.js'
import type { GroupBy } from './resolve-sides.js'
import type { MetricBand, RunGroupMetric, RunGroupsPage } from './run-group-types.js'

export type { MetricBand, RunGroup, RunGroupMetric, RunGroupsPage } from './run-group-types.js'

/**
 * The runs of a listing grouped by config fingerprint or by params, each group with N and, per
 * chosen metric, the mean over its runs with the t interval that `assay compare --group-by`
 * reports for a seed group (summarizeGroup): the web UI's grouped runs table and group charts.
 */

/** Finished runs one grouping reads at most; past it the caller is asked to narrow the filter. */
export const MAX_GROUPED_RUNS = 100_000
/** Run ids listed per group (the rest are reached through the group's filter), and runs per band. */
export const GROUP_RUNS_LISTED = 100
export const MAX_METRICS_PER_GROUPING = 10

export const GROUP_MEAN_METHOD = 'mean over the runs (the last value of each) with its Student t interval over runs, as assay compare --group-by summarises a seed group; no interval for one run or when every run has the same value'

export interface RunGroupsQuery {
  experiment?: string
  /** Only runs of these experiments (a token limited to some). */
  experiments?: readonly string[]
  filter?: string
  groupBy: GroupBy
  metrics: readonly string[]
  confidenceLevel?: number
  /** Groups per page. */
  limit: number
  cursor?: string
}

interface Accumulating {
  label: string
  filter: string | null
  n: number
  runs: { id: string; seed: number; name: string }[]
  values: number[][]
  nonFinite: number[]
}

function groupKeyOf(run: RunSummary, groupBy: GroupBy): string {
  if (groupBy.by === 'config') return run.configFingerprint
  // [value] for a param the run has, [] for one it lacks: the two never collide.
  return JSON.stringify(groupBy.keys.map((k) => (Object.hasOwn(run.params, k) ? [run.params[k] as JsonValue] : [])))
}

function labelOf(run: RunSummary, groupBy: GroupBy): string {
  if (groupBy.by === 'config') return `config ${run.configFingerprint.slice(0, 12)}`
  return groupBy.keys.map((k) => `${k}=${Object.hasOwn(run.params, k) ? JSON.stringify(run.params[k]) : '(absent)'}`).join(', ')
}

/** The filter of the group (AND the listing's own filter): what the runs table shows for it. */
function groupFilterOf(run: RunSummary, groupBy: GroupBy, filter: string | undefined): string | null {
  const parts = [`status = 'finished'`]
  if (filter !== undefined && filter.trim() !== '') parts.unshift(`(${filter})`)
  if (groupBy.by === 'config') parts.push(`config = ${formatFilterLiteral(run.configFingerprint)}`)
  else {
    for (const k of groupBy.keys) {
      const value = run.params[k]
      if (!Object.hasOwn(run.params, k) || (value !== null && typeof value === 'object')) return null
      parts.push(`params.${formatFilterKey(k)} = ${formatFilterLiteral(value as string | number | boolean | null)}`)
    }
  }
  return parts.join(' and ')
}

export function formatGroupBy(groupBy: GroupBy): string {
  return groupBy.by === 'config' ? 'config' : groupBy.keys.map((k) => `params.${k}`).join(',')
}

/**
 * One page of groups, ordered by key. Every matching finished run is read (in pages of the
 * store's largest page, params and last metric values only) up to MAX_GROUPED_RUNS, so the work
 * is bounded by that and memory by one number per run and metric.
 */
export async function groupRuns(store: Store, query: RunGroupsQuery): Promise<RunGroupsPage> {
  const confidenceLevel = query.confidenceLevel ?? 0.95
  const metrics = [...query.metrics]
  if (metrics.length > MAX_METRICS_PER_GROUPING) throw new AssayError('ASSAY_INVALID_ARGUMENT', `at most ${MAX_METRICS_PER_GROUPING} metrics per grouping, got ${metrics.length}`, { field: 'metrics' })
  const after = query.cursor === undefined ? null : decodeCursor('run group', query.cursor)[0]
  const userFilter = query.filter === undefined || query.filter.trim() === '' ? undefined : query.filter
  const filter = userFilter === undefined ? `status = 'finished'` : `(${userFilter}) and status = 'finished'`
  const groups = new Map<string, Accumulating>()
  let runsGrouped = 0
  let cursor: string | undefined
  do {
    const page = await store.listRunsPage({ experiment: query.experiment, experiments: query.experiments, filter, limit: PAGE_SIZE.max, cursor })
    runsGrouped += page.runs.length
    if (runsGrouped > MAX_GROUPED_RUNS) {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `more than ${MAX_GROUPED_RUNS} finished runs match: grouping reads at most ${MAX_GROUPED_RUNS}; narrow the filter (an experiment, a time range)`, { field: 'filter' })
    }
    for (const run of page.runs) {
      const key = groupKeyOf(run, query.groupBy)
      let group = groups.get(key)
      if (group === undefined) {
        group = { label: labelOf(run, query.groupBy), filter: groupFilterOf(run, query.groupBy, userFilter), n: 0, runs: [], values: metrics.map(() => []), nonFinite: metrics.map(() => 0) }
        groups.set(key, group)
      }
      group.n++
      if (group.runs.length < GROUP_RUNS_LISTED) group.runs.push({ id: run.id, seed: run.seed, name: run.name })
      for (const [i, m] of metrics.entries()) {
        if (!Object.hasOwn(run.metrics, m)) continue
        const v = run.metrics[m] as number
        if (Number.isFinite(v)) (group.values[i] as number[]).push(v)
        else group.nonFinite[i] = (group.nonFinite[i] as number) + 1
      }
    }
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined)
  const keys = [...groups.keys()].sort(compareKeys).filter((k) => after === null || compareKeys(k, after) > 0)
  const shown = keys.slice(0, query.limit)
  return {
    groupBy: formatGroupBy(query.groupBy),
    metrics,
    confidenceLevel,
    method: GROUP_MEAN_METHOD,
    runsGrouped,
    groupCount: groups.size,
    groups: shown.map((key) => {
      const g = groups.get(key) as Accumulating
      return {
        key,
        label: g.label,
        n: g.n,
        runs: g.runs,
        filter: g.filter,
        metrics: metrics.map((m, i) => metricOfGroup(m, g, i, confidenceLevel)),
      }
    }),
    nextCursor: keys.length > shown.length ? encodeCursor('run group', [shown[shown.length - 1] as string]) : null,
  }
}

function metricOfGroup(key: string, group: Accumulating, i: number, confidenceLevel: number): RunGroupMetric {
  const values = group.values[i] as number[]
  const nonFinite = group.nonFinite[i] as number
  if (values.length === 0) return { key, n: 0, mean: null, ci: null, sd: null, nonFinite }
  const s = summarizeGroup({ label: group.label, runIds: [], seeds: [], values }, confidenceLevel)
  return { key, n: values.length, mean: s.mean, ci: s.ci, sd: s.sd, nonFinite }
}

/** Code point order, so pages follow one order whatever the locale. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export const BAND_METHOD = 'per bucket of steps: each run’s mean over its points in the bucket, then the mean over runs with its Student t interval (as a seed group is summarised); no band where fewer than 2 runs have points or all agree'

/**
 * Pure: the mean and t interval over runs of one metric at bucketed steps. Steps from the
 * smallest to the largest of any run are cut into at most `buckets` buckets of equal width; a run
 * counts once per bucket (its mean there), so a run that logs more often does not weigh more.
 */
export function metricBand(series: readonly { steps: ArrayLike<number>; values: ArrayLike<number> }[], buckets: number, confidenceLevel: number): Pick<MetricBand, 'steps' | 'n' | 'mean' | 'lower' | 'upper'> {
  let lo = Infinity
  let hi = -Infinity
  for (const s of series) {
    for (let i = 0; i < s.steps.length; i++) {
      const step = s.steps[i] as number
      if (step < lo) lo = step
      if (step > hi) hi = step
    }
  }
  const out = { steps: [] as number[], n: [] as number[], mean: [] as (number | null)[], lower: [] as (number | null)[], upper: [] as (number | null)[] }
  if (lo > hi) return out
  const width = Math.max(1, Math.ceil((hi - lo + 1) / buckets))
  const count = Math.floor((hi - lo) / width) + 1
  const sums = series.map(() => new Float64Array(count))
  const counts = series.map(() => new Uint32Array(count))
  for (const [r, s] of series.entries()) {
    const sum = sums[r] as Float64Array
    const cnt = counts[r] as Uint32Array
    for (let i = 0; i < s.steps.length; i++) {
      const v = s.values[i] as number
      if (!Number.isFinite(v)) continue
      const b = Math.floor(((s.steps[i] as number) - lo) / width)
      sum[b] = (sum[b] as number) + v
      cnt[b] = (cnt[b] as number) + 1
    }
  }
  for (let b = 0; b < count; b++) {
    const values: number[] = []
    for (let r = 0; r < series.length; r++) {
      const c = (counts[r] as Uint32Array)[b] as number
      if (c > 0) values.push(((sums[r] as Float64Array)[b] as number) / c)
    }
    out.steps.push(lo + b * width)
    out.n.push(values.length)
    if (values.length === 0) {
      out.mean.push(null)
      out.lower.push(null)
      out.upper.push(null)
      continue
    }
    const s = summarizeGroup({ label: `bucket ${b}`, runIds: [], seeds: [], values }, confidenceLevel)
    out.mean.push(s.mean)
    out.lower.push(s.ci === null ? null : s.ci[0])
    out.upper.push(s.ci === null ? null : s.ci[1])
  }
  return out
}

/** The band of `key` over the runs (each read whole, so at most GROUP_RUNS_LISTED of them). */
export async function groupMetricBand(store: Store, runIds: readonly string[], key: string, buckets: number, confidenceLevel = 0.95): Promise<MetricBand> {
  if (runIds.length === 0 || runIds.length > GROUP_RUNS_LISTED) throw new AssayError('ASSAY_INVALID_ARGUMENT', `a band is drawn over 1 to ${GROUP_RUNS_LISTED} runs, got ${runIds.length}`, { field: 'runs' })
  const series = []
  for (const id of runIds) series.push(await store.metricHistory(id, key))
  if (series.every((s) => s.steps.length === 0)) throw new AssayError('ASSAY_METRIC_NOT_FOUND', `none of the ${runIds.length} runs has a metric named ${JSON.stringify(key)}`, { metric: key })
  return { key, runIds: [...runIds], points: series.map((s) => s.steps.length), confidenceLevel, method: BAND_METHOD, ...metricBand(series, buckets, confidenceLevel) }
}
