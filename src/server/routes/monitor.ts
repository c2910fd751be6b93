import { checkCanary, type CheckCanaryOptions } from '../../monitor/check-canary.js'
import { promote } from '../../promotion/promotion.js'
import { decideCriteriaInWorker, requireGateWorkWithin } from '../gate-worker.js'
import { checkMonitor } from '../../monitor/check-monitor.js'
import { parseMonitorSpec } from '../../monitor/monitor-spec.js'
import { ROUTES } from '../../store/http/routes.js'
import { actorOf } from '../auth.js'
import type { RouteSpec } from '../route.js'
import { CanaryCheckSchema, MonitorCheckSchema } from '../schemas.js'

/**
 * Monitor and canary checks over HTTP (docs/production.md): run on the server, like gate checks,
 * because they append to the audit log and a monitor check may roll an alias back. They read
 * every deployment's traffic and the registry, so they need a write token valid for all
 * experiments; the actor is the calling token and the time the server's clock.
 */
export function monitorRoutes(): RouteSpec[] {
  return [
    {
      method: 'POST',
      url: ROUTES.monitorChecks,
      summary: 'run a monitor over a deployment window on the server, append the monitor-decision audit record and, when the monitor allows it, roll back; the actor is the token',
      tag: 'production',
      scope: 'write',
      touches: 'all',
      body: { json: MonitorCheckSchema },
      response: { json: '{ evidence: MonitorCheckEvidence, audit: { seq, hash }, rolledBack, rollbackRefused }', status: 201 },
      async handler({ body, caller, state }) {
        const b = body as { monitor: { source: string; text: string }; deployment?: string; window?: string; reference?: string; actor?: string }
        return checkMonitor(state.store, {
          monitor: parseMonitorSpec(b.monitor.text, b.monitor.source),
          deployment: b.deployment,
          window: b.window,
          reference: b.reference,
          actor: actorOf(caller, b.actor),
        })
      },
    },
    {
      method: 'POST',
      url: ROUTES.canaryChecks,
      summary:
        "compare a challenger deployment's traces with the champion's on the server and append the canary-decision audit record; with a monitor whose canary.act allows it, promote (through the registered gate) or roll back, citing that record; the actor is the token",
      tag: 'production',
      scope: 'write',
      touches: 'all',
      body: { json: CanaryCheckSchema },
      response: { json: '{ evidence: CanaryCheckEvidence, audit: { seq, hash }, acted, actRefused }', status: 201 },
      async handler({ body, caller, state }) {
        const { monitor, ...b } = body as Omit<CheckCanaryOptions, 'actor' | 'monitor' | 'promote'> & { actor?: string; monitor?: { source: string; text: string } }
        return checkCanary(state.store, {
          ...b,
          monitor: monitor === undefined ? undefined : parseMonitorSpec(monitor.text, monitor.source),
          actor: actorOf(caller, b.actor),
          // The same promotion as POST /api/v1/promotions: the registered gate, under the server's limits.
          promote: (input) =>
            promote(state.store, { ...input, admitGate: (gate) => requireGateWorkWithin(gate.spec, state.gateWorkLimit), decideCriteria: decideCriteriaInWorker(state.gateTimeLimitMs) }),
        })
      },
    },
  ]
}
