import { appendAuditRecord } from '../audit/append-and-verify.js'
import { AssayError } from '../errors.js'
import { checkGate, type CheckGateOptions, type GateCheckResult } from '../gates/check-gate.js'
import type { LoadedGate } from '../gates/gate-spec.js'
import type { AliasEvent, AuditKind, AuditRecord, JsonValue } from '../record/types.js'
import type { Store } from '../store/store.js'
import { currentHolder, getModelVersion, moveAliasAudited } from '../registry/registry.js'
import { registeredGate } from './gate-policy.js'
import { describeUnauditable, unauditableTraffic } from './unauditable-traffic.js'

/**
 * Promotion through the gate registered for the model and alias (docs/gates.md; gate-policy.ts):
 * the alias moves only when the gate accepts, or warns
 * and the warnings are accepted with a reason. The gate's evidence is appended to the audit log
 * first; the alias event and the promotion record are then written in one transaction, so no
 * alias moves when anything fails. Before the gate runs, a model built on unauditable traffic is
 * refused (unauditable-traffic.ts), and the refusal is recorded (kind promotion-refused).
 */

export interface PromoteInput {
  model: string
  version: number
  alias: string
  /**
   * sha256 of the gate the caller expects (`promote --gate FILE`): refused with
   * ASSAY_GATE_NOT_REGISTERED unless it is the registered gate's. The gate run is always the
   * registered one (gate-policy.ts).
   */
  expectedGateSha256?: string
  /** A limit the runner puts on the registered gate before it runs (the server's work per check). */
  admitGate?: (gate: LoadedGate) => void
  /** Side to compare against; default: the alias's current holder (model:MODEL@VERSION). */
  baseline?: string | null
  acceptWarnings?: boolean
  reason?: string
  actor: string
  now?: number
  /** Where the gate's criteria are decided (CheckGateOptions.decideCriteria). */
  decideCriteria?: CheckGateOptions['decideCriteria']
  /**
   * The holder the decision behind this promotion was about (a canary's champion version):
   * ASSAY_ALIAS_HOLDER_CHANGED when the alias holds another one; null = the alias is unset.
   */
  expectPreviousVersion?: number | null
  /** The audit record this promotion acts on (a canary decision), cited in the promotion record. */
  cause?: AuditCause
}

/** An audit record that an alias move acts on, cited in the move's own record. */
export interface AuditCause {
  kind: AuditKind
  seq: number
  hash: string
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
  const { policy, gate } = await registeredGate(store, input.model, input.alias)
  if (input.expectedGateSha256 !== undefined && input.expectedGateSha256 !== policy.sha256) {
    throw new AssayError(
      'ASSAY_GATE_NOT_REGISTERED',
      `the gate sent (sha256 ${input.expectedGateSha256.slice(0, 12)}…) is not the gate registered for ${input.model}@${input.alias} (version ${policy.version}, ${policy.gate}, sha256 ${policy.sha256.slice(0, 12)}…): promotion runs only the registered gate; see \`assay gates show ${input.model} --alias ${input.alias}\``,
      { model: input.model, alias: input.alias, sent: input.expectedGateSha256, registered: policy.sha256, policyVersion: policy.version },
    )
  }
  input.admitGate?.(gate)
  const reason = input.reason?.trim() ?? ''
  if (input.acceptWarnings === true && reason === '') {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', '--accept-warnings needs a reason (--reason "...")')
  }
  const previous = await currentHolder(store, input.model, input.alias)
  if (input.expectPreviousVersion !== undefined && input.expectPreviousVersion !== previous) {
    throw new AssayError(
      'ASSAY_ALIAS_HOLDER_CHANGED',
      `${input.model}@${input.alias} holds ${previous === null ? 'no version' : `version ${previous}`}, not version ${input.expectPreviousVersion ?? '(none)'} the decision was about: nothing was promoted`,
      { model: input.model, alias: input.alias, current: previous, expected: input.expectPreviousVersion },
    )
  }
  const now = input.now ?? Date.now()
  const unauditable = await unauditableTraffic(store, input.model, input.version)
  if (unauditable.length > 0) {
    const message = `${input.model} version ${input.version} is built on unauditable traffic: ${describeUnauditable(unauditable)}. Promotion stops until the metadata exists: record a complete deployment of the endpoint (model version, code, inputs, owner; prompt versions on its traces), then promote again`
    const record = await appendAuditRecord(store, {
      kind: 'promotion-refused',
      actor: input.actor,
      subject: `${input.model}@${input.alias}`,
      at: now,
      body: { model: input.model, alias: input.alias, version: input.version, code: 'ASSAY_UNAUDITABLE_TRAFFIC', reason: message, deployments: unauditable as unknown as JsonValue, cause: (input.cause ?? null) as unknown as JsonValue },
    })
    throw new AssayError('ASSAY_UNAUDITABLE_TRAFFIC', message, { model: input.model, version: input.version, alias: input.alias, deployments: unauditable, auditSeq: record.seq })
  }
  const baseline = input.baseline !== undefined ? input.baseline : previous === null ? null : `model:${input.model}@${previous}`
  const check = await checkGate(store, { gate, candidate: `model:${input.model}@${input.version}`, baseline, actor: input.actor, now, decideCriteria: input.decideCriteria })
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
        gate: { name: evidence.gate.name, sha256: evidence.gate.sha256, policyVersion: policy.version },
        evidence: check.audit,
        ...(input.cause === undefined ? {} : { cause: { ...input.cause } }),
      },
    },
  )
  return { check, event, audit }
}
