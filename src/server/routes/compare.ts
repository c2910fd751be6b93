import { compare } from '../../compare/compare.js'
import { AssayError } from '../../errors.js'
import { requireExperiment } from '../auth.js'
import type { RouteSpec } from '../route.js'
import { ROUTES } from '../../store/http/routes.js'
import { CompareQuery } from '../schemas.js'

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
        for (const side of [query.a as string, query.b as string]) {
          const id = await state.store.resolveRunId(side)
          const experiment = await state.runExperiment(id)
          // A prefix that resolves only into an experiment the caller may not read is answered as no
          // run at all (as /runs/resolve does), so prefixes do not probe other experiments; a whole
          // id of another experiment is 403, as GET /runs/:runId is (docs/server.md).
          if (side !== id && caller.restricted && !caller.allows(experiment)) throw new AssayError('ASSAY_RUN_NOT_FOUND', `no run has id ${side}`, { runId: side })
          requireExperiment(caller, experiment)
          ids.push(id)
        }
        const comparison = await compare(state.store, ids[0], ids[1], {
          metric: query.metric as string,
          dataset: query.dataset as string | undefined,
          lowerIsBetter: query.lowerIsBetter === 'true',
          margin: (query.margin as number | undefined) ?? null,
          actor: caller.token === null ? undefined : `token:${caller.token.name}`,
        })
        return { comparison }
      },
    },
  ]
}
