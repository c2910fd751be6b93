import type { RouteSpec } from '../route.js'
import { ROUTES } from '../../store/http/routes.js'

export function experimentRoutes(): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: ROUTES.experiments,
      summary: 'experiments with run counts (only those the token may read)',
      tag: 'experiments',
      scope: 'read',
      touches: 'handler',
      response: { json: '{ experiments: ExperimentSummary[] }' },
      async handler({ caller, state }) {
        await state.sweepCrashed()
        const experiments = await state.store.listExperiments()
        return { experiments: caller.restricted ? experiments.filter((e) => caller.allows(e.name)) : experiments }
      },
    },
  ]
}
