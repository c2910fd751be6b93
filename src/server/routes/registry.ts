import { verifyAuditLog } from '../../audit/append-and-verify.js'
import { auditHash } from '../../audit/audit-hash.js'
import { AssayError } from '../../errors.js'
import { checkGate } from '../../gates/check-gate.js'
import { parseGateSpec, type LoadedGate } from '../../gates/gate-spec.js'
import type { AliasEvent, AuditRecord, ModelVersion, RegisteredModel } from '../../record/types.js'
import { assertArtifactName, assertModelName, assertName, assertTags, canonicalJson } from '../../record/validate.js'
import { gatePolicyAuditBody } from '../../promotion/gate-policy.js'
import { promote } from '../../promotion/promotion.js'
import { rollback } from '../../registry/registry.js'
import { actorOf, type Caller } from '../auth.js'
import { decideCriteriaInWorker, requireGateWorkWithin } from '../gate-worker.js'
import type { RouteSpec, ServerState } from '../route.js'
import type { NewGatePolicy } from '../../store/store.js'
import { ROUTES } from '../../store/http/routes.js'
import {
  AliasQuery,
  AuditRecordSchema,
  GateCheckSchema,
  GatePolicyQuery,
  ModelNameParam,
  MoveAliasSchema,
  NewModelVersionSchema,
  PAGE_PARAMETERS,
  PageQuery,
  PromotionSchema,
  RegisteredModelSchema,
  requestedPage,
  RollbackSchema,
  SetGatePolicySchema,
} from '../schemas.js'

/** The parts of the store contract that are the model registry and audit log, as the registry store methods. */
interface RegistryStore {
  createModel(model: RegisteredModel): Promise<void>
  getModel(name: string): Promise<RegisteredModel>
  listModelsPage(query: { limit: number; cursor?: string }): Promise<{ models: RegisteredModel[]; nextCursor: string | null }>
  addModelVersion(version: Omit<ModelVersion, 'version'>): Promise<ModelVersion>
  listModelVersionsPage(query: { model: string; limit: number; cursor?: string }): Promise<{ versions: ModelVersion[]; nextCursor: string | null }>
  aliasEventsPage(query: { model: string; alias?: string; limit: number; cursor?: string }): Promise<{ events: AliasEvent[]; nextCursor: string | null }>
  appendAudit(record: AuditRecord): Promise<void>
  moveAlias(record: AuditRecord, event: Omit<AliasEvent, 'seq' | 'auditSeq'>): Promise<AliasEvent>
  auditRecordsPage(query: { limit: number; cursor?: string }): Promise<{ records: AuditRecord[]; nextCursor: string | null }>
  lastAuditRecord(): Promise<AuditRecord | null>
}

function registry(store: unknown): RegistryStore {
  return store as RegistryStore
}

/** An audit record as the server records it: its actor is the caller's token (the hash follows). */
function asCaller(record: AuditRecord, caller: Caller): AuditRecord {
  const actor = actorOf(caller, record.actor)
  if (actor === record.actor) return record
  const { hash: _claimed, ...content } = record
  return { ...content, actor, hash: auditHash({ ...content, actor }) }
}

interface GateText {
  source: string
  text: string
}

/** A gate sent to the server, parsed and held to the server's limit of work per check. */
function serverGate(sent: GateText, state: ServerState): LoadedGate {
  const gate = parseGateSpec(sent.text, sent.source)
  requireGateWorkWithin(gate.spec, state.gateWorkLimit)
  return gate
}

/**
 * The registry and audit log over HTTP (docs/server.md). They are store-wide: a model's versions
 * come from runs of any experiment and the audit log holds every promotion, so every route here
 * (reads too) needs a token valid for all experiments. Promotion, rollback and gate checks run
 * on the server with a write token; raw alias moves and raw audit appends (no gate) need an
 * admin token. Wherever the server records an actor it is the calling token (`token:<name>`),
 * never the client's claim.
 */
export function registryRoutes(): RouteSpec[] {
  return [
    {
      method: 'POST',
      url: ROUTES.models,
      summary: 'register a model (ASSAY_MODEL_EXISTS when the name is taken)',
      tag: 'registry',
      scope: 'write',
      touches: 'all',
      body: { json: RegisteredModelSchema },
      response: { json: '{ ok: true }', status: 201 },
      async handler({ body, caller, state }) {
        const model = body as unknown as RegisteredModel
        // The same checks as the SDK's createModel: the server trusts no client.
        assertModelName(model.name)
        assertName(model.owner, 'model owner')
        assertTags(model.tags)
        await registry(state.store).createModel({ ...model, createdBy: actorOf(caller, model.createdBy) })
        return { ok: true }
      },
    },
    {
      method: 'GET',
      url: ROUTES.models,
      summary: `one page of registered models by name: ${PAGE_PARAMETERS}`,
      tag: 'registry',
      scope: 'read',
      touches: 'all',
      query: PageQuery,
      response: { json: '{ models: RegisteredModel[], nextCursor: string | null }' },
      handler: async ({ query, state }) => registry(state.store).listModelsPage({ ...requestedPage(query) }),
    },
    {
      method: 'GET',
      url: ROUTES.model,
      summary: 'one registered model',
      tag: 'registry',
      scope: 'read',
      touches: 'all',
      params: ModelNameParam,
      response: { json: '{ model: RegisteredModel }' },
      handler: async ({ params, state }) => ({ model: await registry(state.store).getModel(params.name as string) }),
    },
    {
      method: 'POST',
      url: ROUTES.modelVersions,
      summary: 'add a version made from a run (numbered by the store)',
      tag: 'registry',
      scope: 'write',
      touches: 'all',
      params: ModelNameParam,
      body: { json: NewModelVersionSchema },
      response: { json: '{ version: ModelVersion }', status: 201 },
      async handler({ params, body, caller, state }) {
        const sent = body as unknown as Omit<ModelVersion, 'version'>
        if (sent.artifact !== null) assertArtifactName(sent.artifact.name)
        assertTags(sent.tags)
        const version = { ...sent, model: params.name as string, createdBy: actorOf(caller, sent.createdBy) }
        return { version: await registry(state.store).addModelVersion(version) }
      },
    },
    {
      method: 'GET',
      url: ROUTES.modelVersions,
      summary: `one page of a model's versions, oldest first: ${PAGE_PARAMETERS}`,
      tag: 'registry',
      scope: 'read',
      touches: 'all',
      params: ModelNameParam,
      query: PageQuery,
      response: { json: '{ versions: ModelVersion[], nextCursor: string | null }' },
      handler: async ({ params, query, state }) => registry(state.store).listModelVersionsPage({ model: params.name as string, ...requestedPage(query) }),
    },
    {
      method: 'GET',
      url: ROUTES.modelAliasEvents,
      summary: `one page of a model's alias events (one alias with ?alias=), oldest first: ${PAGE_PARAMETERS}`,
      tag: 'registry',
      scope: 'read',
      touches: 'all',
      params: ModelNameParam,
      query: AliasQuery,
      response: { json: '{ events: AliasEvent[], nextCursor: string | null }' },
      handler: async ({ params, query, state }) => registry(state.store).aliasEventsPage({ model: params.name as string, alias: query.alias as string | undefined, ...requestedPage(query) }),
    },
    {
      method: 'POST',
      url: ROUTES.aliasMoves,
      summary: 'raw alias move with its audit record, no gate (admin only; the actor recorded is the token). Promote through POST /api/v1/promotions',
      tag: 'registry',
      scope: 'admin',
      touches: 'all',
      body: { json: MoveAliasSchema },
      response: { json: '{ event: AliasEvent }', status: 201 },
      async handler({ body, caller, state }) {
        const { record, event } = body as unknown as { record: AuditRecord; event: Omit<AliasEvent, 'seq' | 'auditSeq'> }
        return { event: await registry(state.store).moveAlias(asCaller(record, caller), { ...event, actor: actorOf(caller, event.actor) }) }
      },
    },
    {
      method: 'POST',
      url: ROUTES.gatePolicies,
      summary: 'register a version of the gate a model alias is promoted through, with its audit record (admin only; the actor recorded is the token; ASSAY_AUDIT_CONFLICT when another version was set meanwhile)',
      tag: 'registry',
      scope: 'admin',
      touches: 'all',
      body: { json: SetGatePolicySchema },
      response: { json: '{ policy: GatePolicy }', status: 201 },
      async handler({ body, caller, state }) {
        const sent = body as unknown as { record: AuditRecord; policy: NewGatePolicy }
        const policy = { ...sent.policy, actor: actorOf(caller, sent.policy.actor) }
        // The server stores only a gate it can parse, under the hash of its text, with the audit
        // record that describes exactly this version.
        assertModelName(policy.model)
        assertName(policy.alias, 'alias')
        const gate = parseGateSpec(policy.text, policy.source)
        if (gate.sha256 !== policy.sha256 || gate.spec.gate !== policy.gate) {
          throw new AssayError('ASSAY_INVALID_ARGUMENT', `the gate policy's sha256 and name must be those of its text (sha256 ${gate.sha256}, gate ${gate.spec.gate})`)
        }
        const record = asCaller(sent.record, caller)
        if (record.kind !== 'gate-policy' || canonicalJson(record.body) !== canonicalJson(gatePolicyAuditBody(policy))) {
          throw new AssayError('ASSAY_INVALID_ARGUMENT', 'the audit record of a gate policy must be of kind gate-policy and describe exactly that policy version')
        }
        return { policy: await state.store.setGatePolicy(record, policy) }
      },
    },
    {
      method: 'GET',
      url: ROUTES.gatePolicies,
      summary: `one page of the gate policy versions (?model=, ?alias=; ?current=true: each alias's current version only), by model, alias and version: ${PAGE_PARAMETERS}`,
      tag: 'registry',
      scope: 'read',
      touches: 'all',
      query: GatePolicyQuery,
      response: { json: '{ policies: GatePolicy[], nextCursor: string | null }' },
      handler: async ({ query, state }) =>
        state.store.gatePoliciesPage({ model: query.model as string | undefined, alias: query.alias as string | undefined, current: query.current === 'true', ...requestedPage(query) }),
    },
    {
      method: 'POST',
      url: ROUTES.audit,
      summary: 'raw append of one audit record, chained onto the last (admin only; the actor recorded is the token; ASSAY_AUDIT_CONFLICT when the head moved)',
      tag: 'registry',
      scope: 'admin',
      touches: 'all',
      body: { json: AuditRecordSchema },
      response: { json: '{ ok: true }', status: 201 },
      async handler({ body, caller, state }) {
        await registry(state.store).appendAudit(asCaller(body as unknown as AuditRecord, caller))
        return { ok: true }
      },
    },
    {
      method: 'GET',
      url: ROUTES.audit,
      summary: `one page of the audit log in sequence order: ${PAGE_PARAMETERS}`,
      tag: 'registry',
      scope: 'read',
      touches: 'all',
      query: PageQuery,
      response: { json: '{ records: AuditRecord[], nextCursor: string | null }' },
      handler: async ({ query, state }) => registry(state.store).auditRecordsPage(requestedPage(query)),
    },
    {
      method: 'GET',
      url: ROUTES.auditLast,
      summary: 'the audit record with the highest sequence number, or null',
      tag: 'registry',
      scope: 'read',
      touches: 'all',
      response: { json: '{ record: AuditRecord | null }' },
      handler: async ({ state }) => ({ record: await registry(state.store).lastAuditRecord() }),
    },
    {
      method: 'GET',
      url: ROUTES.auditVerify,
      summary: "the audit log's hash chain checked as assay audit verify checks it (reads the whole log): { ok, count, head, firstBadSeq, problem }",
      tag: 'registry',
      scope: 'read',
      touches: 'all',
      response: { json: '{ verification: AuditVerification }' },
      handler: async ({ state }) => ({ verification: await verifyAuditLog(state.store) }),
    },
    {
      method: 'GET',
      url: ROUTES.auditHead,
      summary: "the audit log's head anchor { seq, hash } kept beside the log (null when the store keeps none or the log is empty)",
      tag: 'registry',
      scope: 'read',
      touches: 'all',
      response: { json: '{ head: { seq: number, hash: string } | null }' },
      handler: async ({ state }) => ({ head: state.store.auditHead === undefined ? null : await state.store.auditHead() }),
    },
    {
      method: 'POST',
      url: ROUTES.promotions,
      summary: 'promote a version through the gate registered for the model and alias, run on the server (src/promotion/promotion.ts); gateSha256, when sent, must be the registered gate\'s (ASSAY_GATE_NOT_REGISTERED); ASSAY_NO_GATE_POLICY when none is registered; the actor is the token',
      tag: 'registry',
      scope: 'write',
      touches: 'all',
      body: { json: PromotionSchema },
      response: { json: '{ check: GateCheckResult, event: AliasEvent, audit: AuditRecord }', status: 201 },
      async handler({ body, caller, state }) {
        const b = body as { model: string; version: number; alias: string; gateSha256?: string; baseline?: string | null; acceptWarnings?: boolean; reason?: string; actor?: string }
        return promote(state.store, {
          model: b.model,
          version: b.version,
          alias: b.alias,
          expectedGateSha256: b.gateSha256,
          admitGate: (gate) => requireGateWorkWithin(gate.spec, state.gateWorkLimit),
          baseline: b.baseline,
          acceptWarnings: b.acceptWarnings,
          reason: b.reason,
          actor: actorOf(caller, b.actor),
          decideCriteria: decideCriteriaInWorker(state.gateTimeLimitMs),
        })
      },
    },
    {
      method: 'POST',
      url: ROUTES.rollbacks,
      summary: "restore an alias's previous holder, run on the server (ASSAY_NOTHING_TO_ROLL_BACK when there is none); the actor is the token",
      tag: 'registry',
      scope: 'write',
      touches: 'all',
      body: { json: RollbackSchema },
      response: { json: '{ event: AliasEvent, audit: AuditRecord }', status: 201 },
      async handler({ body, caller, state }) {
        const b = body as { model: string; alias: string; reason?: string; actor?: string }
        return rollback(state.store, { model: b.model, alias: b.alias, reason: b.reason, actor: actorOf(caller, b.actor) })
      },
    },
    {
      method: 'POST',
      url: ROUTES.gateChecks,
      summary: 'run a gate on a candidate against a baseline on the server and append the evidence to the audit log; the actor is the token',
      tag: 'registry',
      scope: 'write',
      touches: 'all',
      body: { json: GateCheckSchema },
      response: { json: '{ evidence: GateEvidence, audit: { seq, hash } }', status: 201 },
      async handler({ body, caller, state }) {
        const b = body as { gate: GateText; candidate: string; baseline?: string | null; actor?: string }
        return checkGate(state.store, {
          gate: serverGate(b.gate, state),
          candidate: b.candidate,
          baseline: b.baseline,
          actor: actorOf(caller, b.actor),
          decideCriteria: decideCriteriaInWorker(state.gateTimeLimitMs),
        })
      },
    },
  ]
}
