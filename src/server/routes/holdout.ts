import type { HoldoutRead } from '../../record/types.js'
import { actorOf, requireExperiment } from '../auth.js'
import type { RouteSpec } from '../route.js'
import { HoldoutReadSchema, Sha256Param } from '../schemas.js'
import { ROUTES } from '../../store/http/routes.js'

export function holdoutRoutes(): RouteSpec[] {
  return [
    {
      method: 'POST',
      url: ROUTES.holdoutReads,
      summary: 'append one entry to the holdout ledger (every run named must be in an experiment the token may write)',
      tag: 'holdout',
      scope: 'write',
      touches: 'handler',
      body: { json: HoldoutReadSchema },
      response: { json: '{ ok: true }', status: 201 },
      async handler({ body, caller, state }) {
        const read = body as unknown as HoldoutRead
        if (caller.restricted) for (const runId of read.runIds) requireExperiment(caller, await state.runExperiment(runId))
        await state.store.recordHoldoutRead({ ...read, actor: actorOf(caller, read.actor) })
        return { ok: true }
      },
    },
    {
      method: 'GET',
      url: ROUTES.holdoutReadsOf,
      summary: 'the ledger of one dataset version, oldest first (entries about other experiments are left out for limited tokens)',
      tag: 'holdout',
      scope: 'read',
      touches: 'handler',
      params: Sha256Param,
      response: { json: '{ reads: HoldoutRead[] }' },
      async handler({ params, caller, state }) {
        const reads = await state.store.holdoutReads(params.sha256 as string)
        if (!caller.restricted) return { reads }
        const visible: HoldoutRead[] = []
        for (const read of reads) {
          let ok = true
          for (const runId of read.runIds) ok &&= caller.allows(await state.runExperiment(runId).catch(() => ''))
          if (ok) visible.push(read)
        }
        return { reads: visible }
      },
    },
  ]
}
