import { LEADERBOARD_RESAMPLES, LEADERBOARD_SEED, leaderboard, type LeaderboardOptions } from '../../compare/leaderboard.js'
import { AssayError } from '../../errors.js'
import { requireExperiment } from '../auth.js'
import type { RouteSpec } from '../route.js'
import { ROUTES } from '../../store/http/routes.js'
import { LeaderboardQuery } from '../schemas.js'

/** Candidate runs one leaderboard on the server may rank (docs/server.md, "Limits"). */
export const LEADERBOARD_MAX_RUNS = 200
/** Bootstrap resamples one leaderboard on the server may ask for (ten times the CLI's default of --bootstrap). */
export const LEADERBOARD_MAX_RESAMPLES = 10 * LEADERBOARD_RESAMPLES

function list(text: unknown): string[] | undefined {
  if (typeof text !== 'string') return undefined
  const items = text.split(',').map((x) => x.trim()).filter((x) => x !== '')
  return items.length === 0 ? undefined : items
}

export function leaderboardRoutes(): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: ROUTES.leaderboard,
      summary: `assay leaderboard over HTTP with the CLI's defaults: ?dataset (names, comma-separated), ?experiment, ?filter, ?runs, ?baseline, ?metric, ?lowerIsBetter=true, ?adjust=holm|BH, ?alpha, ?confidence, ?bootstrap=RESAMPLES, ?seed, ?mcnemar, ?systemBy, ?allowDifferentVersions=true; the assay.leaderboard/v1 object (intervals, raw and adjusted p-values, the ranking across datasets with the critical difference, holdout ledger reads, warnings). At most ${LEADERBOARD_MAX_RUNS} candidate runs and ${LEADERBOARD_MAX_RESAMPLES} resamples (413 ASSAY_VALUE_TOO_LARGE); a token limited to some experiments must name one of them in ?experiment. Holdout reads are counted in the ledger`,
      tag: 'compare',
      scope: 'read',
      touches: 'handler',
      query: LeaderboardQuery,
      response: { json: '{ leaderboard: Leaderboard } (NaN and ±Infinity as strings)' },
      async handler({ query, caller, state }) {
        await state.sweepCrashed()
        const experiment = query.experiment as string | undefined
        if (caller.restricted && experiment === undefined) {
          throw new AssayError('ASSAY_FORBIDDEN', `a leaderboard over every experiment needs a token valid for all experiments; token ${caller.token?.id} is limited to some: name one in ?experiment`, { tokenId: caller.token?.id })
        }
        if (experiment !== undefined) requireExperiment(caller, experiment)
        const filter = query.filter as string | undefined
        const candidates = (await state.store.listRunsPage({ experiment, filter: filter === undefined || filter.trim() === '' ? undefined : filter, limit: LEADERBOARD_MAX_RUNS + 1 })).runs.length
        const runs = list(query.runs)
        if (Math.min(candidates, runs?.length ?? Infinity) > LEADERBOARD_MAX_RUNS) {
          throw new AssayError('ASSAY_VALUE_TOO_LARGE', `the leaderboard would rank more than ${LEADERBOARD_MAX_RUNS} candidate runs, the server's limit (docs/server.md, "Limits"): narrow it with ?experiment, ?filter or ?runs, or run assay leaderboard on the store`, { limit: LEADERBOARD_MAX_RUNS, field: 'filter' })
        }
        const resamples = query.bootstrap as number | undefined
        if (resamples !== undefined && resamples > LEADERBOARD_MAX_RESAMPLES) {
          throw new AssayError('ASSAY_VALUE_TOO_LARGE', `?bootstrap=${resamples} is over the server's limit of ${LEADERBOARD_MAX_RESAMPLES} resamples (docs/server.md, "Limits")`, { limit: LEADERBOARD_MAX_RESAMPLES, field: 'bootstrap' })
        }
        // A named run of another experiment is refused as GET /runs/:runId refuses it; a prefix into one is no run.
        const readable = async (given: string): Promise<string> => {
          const id = await state.store.resolveRunId(given)
          const of = await state.runExperiment(id)
          if (given !== id && caller.restricted && !caller.allows(of)) throw new AssayError('ASSAY_RUN_NOT_FOUND', `no run has id ${given}`, { runId: given })
          requireExperiment(caller, of)
          return id
        }
        const baseline = query.baseline === undefined ? undefined : await readable(query.baseline as string)
        if (runs !== undefined) for (const [k, r] of runs.entries()) runs[k] = await readable(r)
        const options: LeaderboardOptions = {
          datasets: list(query.dataset),
          experiment,
          ...(caller.restricted ? { siblingsExperiment: experiment } : {}),
          filter,
          runs,
          baseline,
          metric: query.metric as string | undefined,
          higherIsBetter: query.lowerIsBetter !== 'true',
          adjust: query.adjust as 'holm' | 'BH',
          alpha: query.alpha as number,
          confidenceLevel: query.confidence as number,
          seed: (query.seed as number | undefined) ?? LEADERBOARD_SEED,
          mcnemar: query.mcnemar as 'exact' | 'asymptotic',
          systemBy: query.systemBy as string,
          allowDifferentVersions: query.allowDifferentVersions === 'true',
          ...(caller.token === null ? {} : { actor: `token:${caller.token.name}` }),
          // A limited token sees the holdout ledger as GET /holdout-reads/:sha256 gives it: entries of its experiments only.
          ...(caller.restricted && caller.token?.experiments != null ? { holdoutVisibleExperiments: caller.token.experiments } : {}),
          ...(resamples === undefined ? {} : { interval: 'bootstrap' as const, resamples }),
        }
        return { leaderboard: await leaderboard(state.store, options) }
      },
    },
  ]
}
