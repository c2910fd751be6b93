import { appendChained } from '../audit/append-and-verify.js'
import { AssayError } from '../errors.js'
import { parseGateSpec, type LoadedGate } from '../gates/gate-spec.js'
import type { GatePolicy, JsonValue } from '../record/types.js'
import { assertName } from '../record/validate.js'
import type { NewGatePolicy, Store } from '../store/store.js'

/**
 * Gate policies (docs/gates.md): the gate a model's alias is promoted through is held by the
 * store, set by an admin, versioned, and each version is written with its audit record. Promotion
 * always runs the registered gate (promotion.ts), so whoever promotes cannot choose a laxer one.
 */

export interface SetGatePolicyInput {
  model: string
  alias: string
  /** The gate file's text, stored as is; it must parse as a gate. */
  text: string
  /** Where the text came from (a path), for messages. */
  source: string
  actor: string
  /** Why the gate changes (required: the audit log says who and why). */
  reason: string
  at?: number
}

/** The audit record's body for one policy version: what the chain vouches for (the text through its sha256). */
export function gatePolicyAuditBody(policy: NewGatePolicy): { [key: string]: JsonValue } {
  return { model: policy.model, alias: policy.alias, version: policy.version, gate: policy.gate, sha256: policy.sha256, source: policy.source, reason: policy.reason }
}

/** Register a new version of the gate for `model@alias`, with its audit record, in one transaction. */
export async function setGatePolicy(store: Store, input: SetGatePolicyInput): Promise<GatePolicy> {
  assertName(input.alias, 'alias')
  const reason = input.reason.trim()
  if (reason === '') throw new AssayError('ASSAY_INVALID_ARGUMENT', 'setting a gate policy needs a reason (--reason "...")')
  await store.getModel(input.model)
  const gate = parseGateSpec(input.text, input.source)
  if (gate.spec.model !== undefined && gate.spec.model !== input.model) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `gate ${gate.spec.gate} guards model ${gate.spec.model}, not ${input.model}`, { gate: gate.spec.gate, model: input.model })
  }
  const at = input.at ?? Date.now()
  const latestVersion = async (): Promise<number> => (await store.gatePolicies({ model: input.model, alias: input.alias })).at(-1)?.version ?? 0
  const previous = await latestVersion()
  const policy: NewGatePolicy = {
    model: input.model,
    alias: input.alias,
    version: previous + 1,
    gate: gate.spec.gate,
    text: input.text,
    sha256: gate.sha256,
    source: input.source,
    actor: input.actor,
    at,
    reason,
  }
  const { written } = await appendChained(
    store,
    { kind: 'gate-policy', actor: input.actor, subject: `${input.model}@${input.alias}`, at, body: gatePolicyAuditBody(policy) },
    (record) => store.setGatePolicy(record, policy),
    // Retried only while no other admin set a version meanwhile.
    async () => (await latestVersion()) === previous,
  )
  return written
}

/** One version of the policy for `model@alias` (default: the latest); ASSAY_NO_GATE_POLICY when there is none. */
export async function gatePolicy(store: Store, model: string, alias: string, version?: number): Promise<GatePolicy> {
  const versions = await store.gatePolicies({ model, alias })
  const found = version === undefined ? versions.at(-1) : versions.find((p) => p.version === version)
  if (found === undefined) {
    throw new AssayError(
      'ASSAY_NO_GATE_POLICY',
      version === undefined
        ? `no gate is registered for ${model}@${alias}: an admin registers one with \`assay gates set ${model} --alias ${alias} GATE.yaml --reason "..."\`; nothing was promoted`
        : `${model}@${alias} has no gate policy version ${version} (it has ${versions.length})`,
      { model, alias, version: version ?? null },
    )
  }
  return found
}

/** The latest version of every policy (of one model), by model and alias. */
export async function currentGatePolicies(store: Store, model?: string): Promise<GatePolicy[]> {
  const latest = new Map<string, GatePolicy>()
  for (const p of await store.gatePolicies(model === undefined ? {} : { model })) latest.set(`${p.model}\u0000${p.alias}`, p)
  return [...latest.values()]
}

/** The registered gate of `model@alias`, parsed from the text the store holds. */
export async function registeredGate(store: Store, model: string, alias: string): Promise<{ policy: GatePolicy; gate: LoadedGate }> {
  const policy = await gatePolicy(store, model, alias)
  return { policy, gate: parseGateSpec(policy.text, `gate policy ${model}@${alias} v${policy.version} (${policy.source})`) }
}
