import { checkGate, type GateCheckResult } from '../gates/check-gate.js'
import type { LoadedGate } from '../gates/gate-spec.js'
import type { AliasEvent, AuditRecord } from '../record/types.js'
import { promote, type PromoteResult } from '../registry/promotion.js'
import { rollback } from '../registry/registry.js'
import { HttpStore } from '../store/http/http-store.js'
import type { Store } from '../store/store.js'

export interface GateCheckInput {
  gate: LoadedGate
  candidate: string
  baseline?: string | null
  actor: string
  record?: boolean
  now?: number
}

export interface PromoteInput {
  model: string
  version: number
  alias: string
  gate: LoadedGate
  baseline?: string | null
  acceptWarnings?: boolean
  reason?: string
  actor: string
  now?: number
}

export interface RollbackInput {
  model: string
  alias: string
  reason?: string
  actor: string
}

/**
 * Where registry decisions are made. On an embedded or PostgreSQL store the SDK decides itself;
 * against a team server the server decides (its token is the actor, its clock the time), so a
 * client cannot move an alias without a gate. Chosen once when the store is opened.
 */
export interface RegistryActions {
  checkGate(input: GateCheckInput): Promise<GateCheckResult>
  promote(input: PromoteInput): Promise<PromoteResult>
  rollback(input: RollbackInput): Promise<{ event: AliasEvent; audit: AuditRecord }>
}

export function registryActionsFor(store: Store): RegistryActions {
  const local: RegistryActions = {
    checkGate: (input) => checkGate(store, input),
    promote: (input) => promote(store, input),
    rollback: (input) => rollback(store, input),
  }
  if (!(store instanceof HttpStore)) return local
  return {
    // An unrecorded check reads only, so it can run here; a recorded one appends evidence on the server.
    checkGate: (input) =>
      input.record === false ? local.checkGate(input) : store.checkGateOnServer({ gate: input.gate, candidate: input.candidate, baseline: input.baseline, actor: input.actor }),
    promote: ({ now: _serverClock, ...input }) => store.promoteOnServer(input),
    rollback: (input) => store.rollbackOnServer(input),
  }
}
