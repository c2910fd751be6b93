import type { HoldoutRead } from '../../record/types.js'
import { AssayError } from '../../errors.js'
import { actorOf, requireExperiment, timeOf } from '../auth.js'
import type { RouteSpec } from '../route.js'
import { HoldoutReadSchema, PAGE_PARAMETERS, PageQuery, requestedPage, Sha256Param } from '../schemas.js'
import { ROUTES } from '../../store/http/routes.js'

export function holdoutRoutes(): RouteSpec[] {
  return [
    {
      method: 'POST',
      url: ROUTES.holdoutReads,
      summary: 'append one entry to the holdout ledger at the server\'s time (a token limited to experiments must name runs, each in one of its experiments)',
      tag: 'holdout',
      scope: 'write',
      touches: 'handler',
      body: { json: HoldoutReadSchema },
      response: { json: '{ ok: true }', status: 201 },
      async handler({ body, caller, state }) {
        const read = body as unknown as HoldoutRead
        if (caller.restricted) {
          // An entry about no run would spend every team's budget of this dataset.
          if (read.runIds.length === 0) throw new AssayError('ASSAY_FORBIDDEN', 'a token limited to experiments must name the runs a holdout-ledger entry is about', { tokenId: caller.token?.id })
          for (const runId of read.runIds) requireExperiment(caller, await state.runExperiment(runId))
        }
        // As with the actor, the server's clock, not the client's claim (a back-dated entry).
        await state.store.recordHoldoutRead({ ...read, actor: actorOf(caller, read.actor), at: timeOf(caller, read.at) })
        return { ok: true }
      },
    },
    {
      method: 'GET',
      url: ROUTES.holdoutReadsOf,
      summary: `one page of the ledger of one dataset version, oldest first (entries about other experiments are left out for limited tokens; their pages are still full): ${PAGE_PARAMETERS}`,
      tag: 'holdout',
      scope: 'read',
      touches: 'handler',
      params: Sha256Param,
      query: PageQuery,
      response: { json: '{ reads: HoldoutRead[], nextCursor: string | null }' },
      async handler({ params, query, caller, state }) {
        // A limited token's experiments go into the query, so its pages are full.
        const experiments = caller.restricted ? (caller.token?.experiments ?? undefined) : undefined
        return state.store.holdoutReadsPage({ datasetSha256: params.sha256 as string, experiments, ...requestedPage(query) })
      },
    },
  ]
}
