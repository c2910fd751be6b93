import type { RouteSpec } from '../route.js'
import { ROUTES } from '../../store/http/routes.js'
import { PAGE_PARAMETERS, PageQuery, requestedPage } from '../schemas.js'

export function experimentRoutes(): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: ROUTES.experiments,
      summary: `one page of experiments with run counts, by name (only those the token may read): ${PAGE_PARAMETERS}`,
      tag: 'experiments',
      scope: 'read',
      touches: 'handler',
      query: PageQuery,
      response: { json: '{ experiments: ExperimentSummary[], nextCursor: string | null }' },
      async handler({ query, caller, state }) {
        await state.sweepCrashed()
        // A limited token's experiments go into the query, so its pages are full.
        const experiments = caller.restricted ? (caller.token?.experiments ?? undefined) : undefined
        return state.store.listExperimentsPage({ experiments, ...requestedPage(query) })
      },
    },
  ]
}
