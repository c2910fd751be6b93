import { AssayError } from '../errors.js'
import { verifyAuditChain, type AuditVerification } from '../gates/audit-log.js'
import { checkGate, type GateCheckResult } from '../gates/check-gate.js'
import type { LoadedGate } from '../gates/gate-spec.js'
import type { AliasEvent, AuditRecord } from '../record/types.js'
import type { Store } from '../store/store.js'
import { currentHolder, getModelVersion, moveAliasAudited } from './registry.js'

/**
 * Promotion through a gate (docs/gates.md): the alias moves only when the gate accepts, or warns
 * and the warnings are accepted with a reason. The gate's evidence is appended to the audit log
 * first; the alias event and the promotion record are then written in one transaction, so no
 * alias moves when anything fails.
 */

export interface PromoteInput {
  model: string
  version: number
  alias: string
  gate: LoadedGate
  /** Side to compare against; default: the alias's current holder (model:MODEL@VERSION). */
  baseline?: string | null
  acceptWarnings?: boolean
  reason?: string
  actor: string
  now?: number
}

export interface PromoteResult {
  check: GateCheckResult
  event: AliasEvent
  audit: AuditRecord
}

export async function promote(store: Store, input: PromoteInput): Promise<PromoteResult> {
  const model = await store.getModel(input.model)
  if (!model.owner || model.owner.trim() === '') throw new AssayError('ASSAY_GATE_BLOCKED', `model ${input.model} has no owner: it cannot be promoted`, { model: input.model })
  await getModelVersion(store, input.model, input.version)
  if (input.gate.spec.model !== undefined && input.gate.spec.model !== input.model) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `gate ${input.gate.spec.gate} guards model ${input.gate.spec.model}, not ${input.model}`, { gate: input.gate.spec.gate, model: input.model })
  }
  const reason = input.reason?.trim() ?? ''
  if (input.acceptWarnings === true && reason === '') {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', '--accept-warnings needs a reason (--reason "...")')
  }
  const previous = await currentHolder(store, input.model, input.alias)
  const baseline = input.baseline !== undefined ? input.baseline : previous === null ? null : `model:${input.model}@${previous}`
  const now = input.now ?? Date.now()
  const check = await checkGate(store, { gate: input.gate, candidate: `model:${input.model}@${input.version}`, baseline, actor: input.actor, now })
  const { evidence } = check
  const details = { model: input.model, version: input.version, alias: input.alias, decision: evidence.decision, nextAction: evidence.nextAction, reasons: evidence.reasons, evidenceSeq: check.audit?.seq ?? null }
  if (evidence.decision === 'block') {
    throw new AssayError('ASSAY_GATE_BLOCKED', `gate ${evidence.gate.name} blocked ${input.model} version ${input.version}: ${evidence.nextAction}`, details)
  }
  if (evidence.decision === 'warn' && !(input.acceptWarnings === true && reason !== '')) {
    throw new AssayError('ASSAY_WARNINGS_NOT_ACCEPTED', `gate ${evidence.gate.name} warned on ${input.model} version ${input.version}: ${evidence.reasons.join('; ')}. Promote with --accept-warnings and --reason.`, details)
  }
  const { event, audit } = await moveAliasAudited(
    store,
    { model: input.model, alias: input.alias, kind: 'promote', version: input.version, previousVersion: previous, actor: input.actor, at: now, reason: reason || `gate ${evidence.gate.name}: ${evidence.decision}` },
    {
      kind: 'promotion',
      actor: input.actor,
      subject: `${input.model}@${input.alias}`,
      at: now,
      body: {
        model: input.model,
        alias: input.alias,
        from: previous,
        to: input.version,
        decision: evidence.decision,
        acceptedWarnings: evidence.decision === 'warn' ? evidence.reasons : [],
        reason,
        gate: { name: evidence.gate.name, sha256: evidence.gate.sha256 },
        evidence: check.audit,
      },
    },
  )
  return { check, event, audit }
}

/**
 * Verify the audit log's chain, that it reaches its head anchor, and that the alias events (and so
 * every alias's holder) are exactly the ones the chain records. The anchor is read before the
 * records, the events between them: a concurrent append only makes the log longer than the
 * anchor, and every event read has its record among those read after.
 */
export async function verifyAuditLog(store: Store, options: { expectHead?: string } = {}): Promise<AuditVerification> {
  const anchor = store.auditHead === undefined ? undefined : await store.auditHead()
  const aliasEvents: AliasEvent[] = []
  for (const m of await store.listModels()) aliasEvents.push(...(await store.aliasEvents(m.name)))
  const records = await store.auditRecords()
  return verifyAuditChain(records, { expectHead: options.expectHead, aliasEvents, anchor })
}
