import { groupMetricBand, groupRuns } from '../../compare/run-groups.js'
import { parseGroupBy } from '../../compare/resolve-sides.js'
import { validationVariance } from '../../compare/validation-variance.js'
import { requireExperiment, type Caller } from '../auth.js'
import type { RouteSpec, ServerState } from '../route.js'
import { ROUTES } from '../../store/http/routes.js'
import { GroupBandQuery, PAGE_PARAMETERS, requestedPage, RunGroupsQuery, VarianceQuery } from '../schemas.js'

/** The web UI's groups: runs grouped with means and intervals, a group's curve as a band, and seed variance. */
export function groupRoutes(): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: ROUTES.runGroups,
      summary: `finished runs (only the experiments the token may read; ?experiment, ?filter as GET /runs) grouped by ?groupBy (config, or params.K1,params.K2), each group with N, its first 100 runs and seeds, the filter that lists it, and per metric of ?metrics (comma-separated, at most 10; the last value of each run) the mean with its t interval (?confidence, default 0.95); groups in key order, ${PAGE_PARAMETERS}; grouped in the database, so every matching run counts`,
      tag: 'compare',
      scope: 'read',
      touches: 'handler',
      query: RunGroupsQuery,
      response: { json: '{ groupBy, metrics, confidenceLevel, method, runsGrouped, groupCount, groups: [{ key, label, n, runs, filter, metrics: [{ key, n, mean, ci, sd, nonFinite }] }], nextCursor }' },
      async handler({ query, caller, state }) {
        const experiment = query.experiment as string | undefined
        if (experiment !== undefined) requireExperiment(caller, experiment)
        await state.sweepCrashed()
        const metrics = ((query.metrics as string | undefined) ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '').map((m) => (m.startsWith('metrics.') ? m.slice('metrics.'.length) : m))
        return groupRuns(state.store, {
          experiment,
          // A limited token's experiments go into the query, so no other experiment's run is read.
          experiments: caller.restricted ? (caller.token?.experiments ?? undefined) : undefined,
          filter: query.filter as string | undefined,
          groupBy: parseGroupBy(query.groupBy as string),
          metrics,
          confidenceLevel: query.confidence as number,
          ...requestedPage(query),
        })
      },
    },
    {
      method: 'GET',
      url: ROUTES.runGroupBand,
      summary: 'one metric (?key) over the runs of ?runs (1 to 100 whole ids, comma-separated), at most ?buckets (default 300) buckets of steps: per bucket the number of runs, their mean and its t interval (?confidence): a group drawn as its mean with a band; every run must be readable by the token',
      tag: 'compare',
      scope: 'read',
      touches: 'handler',
      query: GroupBandQuery,
      response: { json: '{ key, runIds, points, confidenceLevel, method, steps, n, mean, lower, upper }' },
      async handler({ query, caller, state }) {
        const ids = await readableRuns(query.runs as string, caller, state)
        return groupMetricBand(state.store, ids, query.key as string, query.buckets as number, query.confidence as number)
      },
    },
    {
      method: 'GET',
      url: ROUTES.variance,
      summary: 'the validation variance of assay variance: ?runs (one whole run id, meaning its config group, or 1 to 100 ids), ?metric (an eval score, or a run-level metric), ?dataset, ?confidence: per-seed values, the spread, and the share of variance from seeds, examples and data splits; every run must be readable by the token',
      tag: 'compare',
      scope: 'read',
      touches: 'handler',
      query: VarianceQuery,
      response: { json: '{ variance: VarianceResult } (assay.variance/v1; NaN and ±Infinity as strings)' },
      async handler({ query, caller, state }) {
        const ids = await readableRuns(query.runs as string, caller, state)
        await state.sweepCrashed()
        // One run expands to its config group, which lies in that run's experiment (resolveSide).
        const variance = await validationVariance(state.store, ids.join(','), { metric: query.metric as string, dataset: query.dataset as string | undefined, confidenceLevel: query.confidence as number })
        return { variance }
      },
    },
  ]
}

/** The listed runs, each of an experiment the caller may read (403 otherwise, 404 for no such run). */
async function readableRuns(list: string, caller: Caller, state: ServerState): Promise<string[]> {
  const ids = [...new Set(list.split(','))]
  for (const id of ids) requireExperiment(caller, await state.runExperiment(id))
  return ids
}
