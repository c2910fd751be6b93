import { compare, evalSetFor } from '../../compare/compare.js'
import { comparisonDetail } from '../../compare/comparison-detail.js'
import { resolveSide, type ResolvedSide } from '../../compare/resolve-sides.js'
import { AssayError } from '../../errors.js'
import { evalColumnsToRecords } from '../../sdk/eval-records.js'
import type { Store } from '../../store/store.js'
import { requireExperiment, type Caller } from '../auth.js'
import type { RouteSpec, ServerState } from '../route.js'
import { ROUTES } from '../../store/http/routes.js'
import { CompareDetailQuery, CompareQuery } from '../schemas.js'

/** Runs one side of a comparison the server draws may hold (docs/server.md, "Limits"). */
export const COMPARE_MAX_RUNS_PER_SIDE = 100
/** Eval records (summed over every run of both sides) one comparison the server draws may read. */
export const COMPARE_MAX_EVAL_RECORDS = 1_000_000

/**
 * A run named by id or prefix, checked against the token before anything of it is read. A prefix
 * that resolves only into an experiment the caller may not read is answered as no run at all (as
 * /runs/resolve does), so prefixes do not probe other experiments; a whole id of another
 * experiment is 403, as GET /runs/:runId is (docs/server.md).
 */
async function readableRunId(state: ServerState, caller: Caller, side: string): Promise<string> {
  const id = await state.store.resolveRunId(side)
  const experiment = await state.runExperiment(id)
  if (side !== id && caller.restricted && !caller.allows(experiment)) throw new AssayError('ASSAY_RUN_NOT_FOUND', `no run has id ${side}`, { runId: side })
  requireExperiment(caller, experiment)
  return id
}

/**
 * Runs passing `filter` (only of `experiments` when given), counted up to `limit + 1` only (a
 * page), so an oversize group is refused before its runs are read.
 */
async function countUpTo(store: Store, filter: string, limit: number, experiments: readonly string[] | undefined): Promise<number> {
  return (await store.listRunsPage({ filter, experiments, limit: limit + 1 })).runs.length
}

function tooLarge(what: string, limit: number, details: Record<string, unknown>): AssayError {
  return new AssayError('ASSAY_VALUE_TOO_LARGE', `${what}; the server's limit is ${limit.toLocaleString('en-US')} (docs/server.md, "Limits"): narrow the group, or run assay compare on the store`, { limit, ...details })
}

/** The experiments a limited token may read, else undefined (every experiment). */
function visibleExperiments(caller: Caller): readonly string[] | undefined {
  return caller.restricted ? (caller.token?.experiments ?? undefined) : undefined
}

/**
 * One side spec of a drawn comparison, resolved once and checked, and then handed to compare() as
 * it is. config: and filter: are counted and resolved within the experiments the token may read:
 * runs of other experiments are not in the group, so what they hold decides nothing about the
 * answer. Listed runs are checked one by one (a whole id of another experiment is 403).
 */
async function checkedSide(state: ServerState, caller: Caller, spec: string, name: 'a' | 'b'): Promise<ResolvedSide> {
  const text = spec.trim()
  const experiments = visibleExperiments(caller)
  if (text.startsWith('filter:') || text.startsWith('config:')) {
    const prefix = text.slice('config:'.length).trim()
    // config: is resolved with this filter by resolveSide; a prefix that is not hex matches nothing there.
    const filter = text.startsWith('filter:') ? text.slice('filter:'.length) : /^[0-9a-f]{4,}$/.test(prefix) ? `config ~ '${prefix}' and status = 'finished'` : null
    if (filter !== null && (await countUpTo(state.store, filter, COMPARE_MAX_RUNS_PER_SIDE, experiments)) > COMPARE_MAX_RUNS_PER_SIDE) {
      throw tooLarge(`side ${name} matches more than ${COMPARE_MAX_RUNS_PER_SIDE} runs`, COMPARE_MAX_RUNS_PER_SIDE, { field: name })
    }
    const side = await resolveSide(state.store, text, { experiments })
    // The scope already keeps other experiments out; checked again so a change to it cannot open a hole.
    for (const run of side.runs) requireExperiment(caller, run.experiment)
    return side
  }
  const ids = text.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (ids.length > COMPARE_MAX_RUNS_PER_SIDE) throw tooLarge(`side ${name} lists ${ids.length} runs`, COMPARE_MAX_RUNS_PER_SIDE, { field: name })
  const checked: string[] = []
  for (const id of ids) checked.push(await readableRunId(state, caller, id))
  // The checked full ids, so the runs compared are the runs checked; the label is what was asked.
  return { ...(await resolveSide(state.store, checked.join(','))), label: text }
}

export function compareRoutes(): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: ROUTES.compare,
      summary:
        'compare two runs (?a, ?b: ids or unique prefixes) on ?metric (?dataset, ?lowerIsBetter=true, ?margin) with the defaults of assay compare: the assay.comparison/v1 object (verdict, estimate, interval, p-value and method, sample sizes, warnings); a holdout dataset read this way is counted in the holdout ledger',
      tag: 'compare',
      scope: 'read',
      touches: 'handler',
      query: CompareQuery,
      response: { json: '{ comparison: Comparison } (NaN and ±Infinity as strings)' },
      async handler({ query, caller, state }) {
        await state.sweepCrashed()
        // Only single runs, each checked against the token before anything of it is read.
        const ids: string[] = []
        for (const side of [query.a as string, query.b as string]) ids.push(await readableRunId(state, caller, side))
        const experiments = visibleExperiments(caller)
        const comparison = await compare(state.store, ids[0], ids[1], {
          metric: query.metric as string,
          dataset: query.dataset as string | undefined,
          lowerIsBetter: query.lowerIsBetter === 'true',
          margin: (query.margin as number | undefined) ?? null,
          actor: caller.token === null ? undefined : `token:${caller.token.name}`,
          ...(experiments === undefined ? {} : { holdoutVisibleExperiments: experiments }),
        })
        return { comparison }
      },
    },
    {
      method: 'GET',
      url: ROUTES.compareDetail,
      summary: `compare two runs or two groups (?a, ?b: a run id or prefix, RUN1,RUN2,..., config:<fingerprint prefix> or filter:<expression>) on ?metric (?dataset, ?lowerIsBetter=true, ?margin) with the defaults of assay compare, and what the web UI draws of it: each run's and side's mean with its interval (forest plot), the per-example differences (histogram) and the examples that regressed and improved most with every run's eval record of them. At most ${COMPARE_MAX_RUNS_PER_SIDE} runs a side and ${COMPARE_MAX_EVAL_RECORDS.toLocaleString('en-US')} eval records in all (413 ASSAY_VALUE_TOO_LARGE); for a token limited to some experiments config: and filter: groups hold only runs of those experiments, and a listed run of another is 403; holdout reads are counted in the ledger (a limited token's counts are of the entries it may read)`,
      tag: 'compare',
      scope: 'read',
      touches: 'handler',
      query: CompareDetailQuery,
      response: { json: '{ comparison: Comparison, detail: ComparisonDetail } (NaN and ±Infinity as strings)' },
      async handler({ query, caller, state }) {
        await state.sweepCrashed()
        const metric = query.metric as string
        const dataset = query.dataset as string | undefined
        const sides = [await checkedSide(state, caller, query.a as string, 'a'), await checkedSide(state, caller, query.b as string, 'b')]
        let records = 0
        for (const run of sides.flatMap((s) => s.runs)) {
          const set = evalSetFor(run, metric, dataset ?? null)
          if (set !== null) records += run.evals.find((e) => e.dataset === set.dataset)?.count ?? 0
        }
        if (records > COMPARE_MAX_EVAL_RECORDS) throw tooLarge(`the runs hold ${records.toLocaleString('en-US')} eval records of ${metric}`, COMPARE_MAX_EVAL_RECORDS, { records })
        // The sides as checked: compare() resolves nothing again, so no run joins after the check.
        const experiments = visibleExperiments(caller)
        const comparison = await compare(state.store, sides[0] as ResolvedSide, sides[1] as ResolvedSide, {
          metric,
          dataset,
          lowerIsBetter: query.lowerIsBetter === 'true',
          margin: (query.margin as number | undefined) ?? null,
          actor: caller.token === null ? undefined : `token:${caller.token.name}`,
          ...(experiments === undefined ? {} : { holdoutVisibleExperiments: experiments }),
        })
        const detail = await comparisonDetail(state.store, comparison, { recordsOf: evalColumnsToRecords })
        return { comparison, detail }
      },
    },
  ]
}
