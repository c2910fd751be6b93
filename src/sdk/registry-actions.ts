import type { CheckGateOptions, GateCheckResult } from '../gates/check-gate.js'
import type { AliasEvent, AuditRecord } from '../record/types.js'
import type { CheckCanaryResult, CheckCanaryOptions } from '../monitor/check-canary.js'
import type { CheckMonitorOptions, CheckMonitorResult } from '../monitor/check-monitor.js'
import type { PromoteInput, PromoteResult } from '../promotion/promotion.js'
import { rollback, type RollbackInput } from '../registry/registry.js'
import type { Store } from '../store/store.js'
import { RemoteRegistryClient } from './remote-registry-client.js'

/**
 * Where registry decisions are made. On an embedded or PostgreSQL store the SDK decides itself;
 * against a team server the server decides (its token is the actor, its clock the time), so a
 * client cannot move an alias without a gate. Chosen once when the store is opened.
 */
export interface RegistryActions {
  checkGate(input: CheckGateOptions): Promise<GateCheckResult>
  promote(input: PromoteInput): Promise<PromoteResult>
  rollback(input: RollbackInput): Promise<{ event: AliasEvent; audit: AuditRecord }>
  checkMonitor(input: CheckMonitorOptions): Promise<CheckMonitorResult>
  checkCanary(input: CheckCanaryOptions): Promise<CheckCanaryResult>
}

export function registryActionsFor(store: Store): RegistryActions {
  const local: RegistryActions = {
    // Gates pull in the statistics; they load on first use (a run that never promotes skips them).
    checkGate: async (input) => (await import('../gates/check-gate.js')).checkGate(store, input),
    promote: async (input) => (await import('../promotion/promotion.js')).promote(store, input),
    rollback: (input) => rollback(store, input),
    checkMonitor: async (input) => (await import('../monitor/check-monitor.js')).checkMonitor(store, input),
    checkCanary: async (input) => {
      const [{ checkCanary }, { promote }] = await Promise.all([import('../monitor/check-canary.js'), import('../promotion/promotion.js')])
      // A promote decision the monitor allows goes through the same gated path as promote() above.
      return checkCanary(store, { ...input, promote: input.promote ?? ((p) => promote(store, p)) })
    },
  }
  if (store.capabilities.server === null) return local
  const remote = new RemoteRegistryClient(store.capabilities.server)
  return {
    // An unrecorded check reads only, so it can run here; a recorded one appends evidence on the server.
    checkGate: (input) =>
      input.record === false ? local.checkGate(input) : remote.checkGate({ gate: input.gate, candidate: input.candidate, baseline: input.baseline, actor: input.actor }),
    // The server runs its own registered gate under its own limits.
    promote: ({ now: _serverClock, admitGate: _serverLimits, decideCriteria: _serverWorker, ...input }) => remote.promote(input),
    rollback: (input) => remote.rollback(input),
    // An unrecorded check reads traces over HTTP and decides here; a recorded one runs on the server (its clock, its token).
    checkMonitor: (input) => {
      if (input.record === false) return local.checkMonitor(input)
      const { now: _serverClock, record: _recorded, ...rest } = input
      return remote.checkMonitor(rest)
    },
    checkCanary: (input) => {
      if (input.record === false) return local.checkCanary(input)
      const { now: _serverClock, record: _recorded, seed: _serverSeed, promote: _serverPromotes, ...rest } = input
      return remote.checkCanary(rest)
    },
  }
}
