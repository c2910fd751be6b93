import { AssayError } from '../errors.js'
import type { JsonValue } from '../record/types.js'
import { decodeCursor, encodeCursor } from '../store/pages.js'
import { formatFilterKey, formatFilterLiteral } from '../store/run-filter.js'
import type { Store, StoredRunGroup } from '../store/store.js'
import { summarizeGroup, summarizeMoments } from './group-comparison.js'
import { checkGroupBy, type GroupBy } from './resolve-sides.js'
import type { MetricBand, RunGroupMetric, RunGroupsPage } from './run-group-types.js'

export type { MetricBand, RunGroup, RunGroupMetric, RunGroupsPage } from './run-group-types.js'

/**
 * The runs of a listing grouped by config fingerprint or by params, each group with N and, per
 * chosen metric, the mean over its runs with the t interval that `assay compare --group-by`
 * reports for a seed group (summarizeGroup): the web UI's grouped runs table and group charts.
 */

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

/** The grouping params' values of a group's key (runGroupKey): [value] where the runs have the param, [] where they lack it. */
function paramValuesOf(key: string): ([JsonValue] | [])[] {
  return JSON.parse(key) as ([JsonValue] | [])[]
}

function labelOf(key: string, groupBy: GroupBy): string {
  if (groupBy.by === 'config') return `config ${key.slice(0, 12)}`
  const values = paramValuesOf(key)
  return groupBy.keys.map((k, i) => `${k}=${(values[i] as [JsonValue] | []).length === 1 ? JSON.stringify((values[i] as [JsonValue])[0]) : '(absent)'}`).join(', ')
}

/** The filter of the group (AND the listing's own filter): what the runs table shows for it. */
function groupFilterOf(key: string, groupBy: GroupBy, filter: string | undefined): string | null {
  const parts = [`status = 'finished'`]
  if (filter !== undefined && filter.trim() !== '') parts.unshift(`(${filter})`)
  if (groupBy.by === 'config') parts.push(`config = ${formatFilterLiteral(key)}`)
  else {
    const values = paramValuesOf(key)
    for (const [i, k] of groupBy.keys.entries()) {
      const held = values[i] as [JsonValue] | []
      if (held.length === 0) return null
      const value = held[0] as JsonValue
      if (value !== null && typeof value === 'object') return null
      parts.push(`params.${formatFilterKey(k)} = ${formatFilterLiteral(value as string | number | boolean | null)}`)
    }
  }
  return parts.join(' and ')
}

export function formatGroupBy(groupBy: GroupBy): string {
  return groupBy.by === 'config' ? 'config' : groupBy.keys.map((k) => `params.${k}`).join(',')
}

/**
 * One page of groups, ordered by key. The store groups the finished runs (in the database for the
 * SQL backends) and answers per group N, its first runs and each metric's moments; the mean and
 * its interval follow from those by summarizeMoments, summarizeGroup's rule.
 */
export async function groupRuns(store: Store, query: RunGroupsQuery): Promise<RunGroupsPage> {
  const confidenceLevel = query.confidenceLevel ?? 0.95
  const metrics = [...query.metrics]
  if (metrics.length > MAX_METRICS_PER_GROUPING) throw new AssayError('ASSAY_INVALID_ARGUMENT', `at most ${MAX_METRICS_PER_GROUPING} metrics per grouping, got ${metrics.length}`, { field: 'metrics' })
  const after = query.cursor === undefined ? undefined : decodeCursor('run group', query.cursor)[0]
  const userFilter = query.filter === undefined || query.filter.trim() === '' ? undefined : query.filter
  const filter = userFilter === undefined ? `status = 'finished'` : `(${userFilter}) and status = 'finished'`
  const groupBy = checkGroupBy(query.groupBy)
  const grouping = groupBy.by === 'config' ? { by: 'config' as const } : { by: 'params' as const, keys: groupBy.keys }
  const page = await store.groupRunsPage({ experiment: query.experiment, experiments: query.experiments, filter, grouping, metrics, limit: query.limit, after, runsListed: GROUP_RUNS_LISTED })
  return {
    groupBy: formatGroupBy(groupBy),
    metrics,
    confidenceLevel,
    method: GROUP_MEAN_METHOD,
    runsGrouped: page.runsGrouped,
    groupCount: page.groupCount,
    groups: page.groups.map((g) => ({
      key: g.key,
      label: labelOf(g.key, groupBy),
      n: g.n,
      runs: g.runs,
      filter: groupFilterOf(g.key, groupBy, userFilter),
      metrics: metrics.map((m, i) => metricOfGroup(m, g.metrics[i] as StoredRunGroup['metrics'][number], confidenceLevel)),
    })),
    nextCursor: page.more && page.groups.length > 0 ? encodeCursor('run group', [(page.groups[page.groups.length - 1] as StoredRunGroup).key]) : null,
  }
}

function metricOfGroup(key: string, stats: StoredRunGroup['metrics'][number], confidenceLevel: number): RunGroupMetric {
  const { n, mean, nonFinite } = stats
  if (n === 0 || mean === null) return { key, n: 0, mean: null, ci: null, sd: null, nonFinite }
  const s = summarizeMoments({ n, mean, variance: stats.variance, min: stats.min ?? mean, max: stats.max ?? mean }, confidenceLevel)
  return { key, n, mean: s.mean, ci: s.ci, sd: s.sd, nonFinite }
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
