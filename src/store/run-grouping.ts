import type { JsonValue, RunSummary } from '../record/types.js'
import { canonicalJson } from '../record/validate.js'
import { AssayError } from '../errors.js'
import { compareCodePoints } from './run-filter.js'
import { PAGE_SIZE, type RunGroupPage, type RunGroupPageQuery, type RunGrouping, type RunPage, type RunPageQuery, type StoredRunGroup } from './store.js'

/**
 * Grouping of runs read whole (listRunsPage): what a store that cannot group where its runs live
 * does (the HTTP client), and the reference the SQL grouping is tested against. Welford's update
 * keeps the variance stable where a sum of squares would cancel.
 */

/** The group key of a run (StoredRunGroup.key): the SQL backends build the same text. */
export function runGroupKey(run: Pick<RunSummary, 'configFingerprint' | 'params'>, grouping: RunGrouping): string {
  if (grouping.by === 'config') return run.configFingerprint
  return `[${grouping.keys.map((k) => (Object.hasOwn(run.params, k) ? `[${canonicalJson(run.params[k] as JsonValue)}]` : '[]')).join(',')}]`
}

/** Runs a store that groups in memory reads at most. */
export const MAX_RUNS_GROUPED_IN_MEMORY = 100_000

interface Moments {
  n: number
  mean: number
  m2: number
  min: number
  max: number
  nonFinite: number
}

export async function groupRunsFromPages(listRunsPage: (query: RunPageQuery) => Promise<RunPage>, query: RunGroupPageQuery): Promise<RunGroupPage> {
  const runs: RunSummary[] = []
  let cursor: string | undefined
  do {
    const page = await listRunsPage({ experiment: query.experiment, experiments: query.experiments, filter: query.filter, limit: PAGE_SIZE.max, cursor })
    runs.push(...page.runs)
    // Every run is held here, unlike in a database: past the cap the caller narrows the listing.
    if (runs.length > MAX_RUNS_GROUPED_IN_MEMORY) {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `more than ${MAX_RUNS_GROUPED_IN_MEMORY} runs match: this store groups them in memory and holds at most ${MAX_RUNS_GROUPED_IN_MEMORY}; narrow the filter (an experiment, a time range)`, { field: 'filter' })
    }
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined)
  const groups = new Map<string, { n: number; runs: StoredRunGroup['runs']; moments: Moments[] }>()
  for (const run of runs) {
    const key = runGroupKey(run, query.grouping)
    let group = groups.get(key)
    if (group === undefined) {
      group = { n: 0, runs: [], moments: query.metrics.map(() => ({ n: 0, mean: 0, m2: 0, min: Infinity, max: -Infinity, nonFinite: 0 })) }
      groups.set(key, group)
    }
    group.n++
    if (group.runs.length < query.runsListed) group.runs.push({ id: run.id, seed: run.seed, name: run.name })
    for (const [i, metric] of query.metrics.entries()) {
      if (!Object.hasOwn(run.metrics, metric)) continue
      const v = run.metrics[metric] as number
      const m = group.moments[i] as Moments
      if (!Number.isFinite(v)) {
        m.nonFinite++
        continue
      }
      m.n++
      const delta = v - m.mean
      m.mean += delta / m.n
      m.m2 += delta * (v - m.mean)
      m.min = Math.min(m.min, v)
      m.max = Math.max(m.max, v)
    }
  }
  const keys = [...groups.keys()].sort(compareCodePoints).filter((k) => query.after === undefined || compareCodePoints(k, query.after) > 0)
  const shown = keys.slice(0, query.limit)
  return {
    runsGrouped: runs.length,
    groupCount: groups.size,
    groups: shown.map((key) => {
      const g = groups.get(key) as { n: number; runs: StoredRunGroup['runs']; moments: Moments[] }
      return {
        key,
        n: g.n,
        runs: g.runs,
        metrics: g.moments.map((m) => ({
          n: m.n,
          mean: m.n === 0 ? null : m.mean,
          variance: m.n < 2 ? null : m.m2 / (m.n - 1),
          min: m.n === 0 ? null : m.min,
          max: m.n === 0 ? null : m.max,
          nonFinite: m.nonFinite,
        })),
      }
    }),
    more: keys.length > shown.length,
  }
}
