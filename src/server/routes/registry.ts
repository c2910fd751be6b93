import type { AliasEvent, AuditRecord, ModelVersion, RegisteredModel } from '../../record/types.js'
import { requireExperiment } from '../auth.js'
import type { RouteSpec } from '../route.js'
import { AliasQuery, AuditRecordSchema, ModelNameParam, MoveAliasSchema, NewModelVersionSchema, RegisteredModelSchema } from '../schemas.js'

/** The parts of the store contract that are the model registry and audit log, as the registry store methods. */
interface RegistryStore {
  createModel(model: RegisteredModel): Promise<void>
  getModel(name: string): Promise<RegisteredModel>
  listModels(): Promise<RegisteredModel[]>
  addModelVersion(version: Omit<ModelVersion, 'version'>): Promise<ModelVersion>
  listModelVersions(model: string): Promise<ModelVersion[]>
  aliasEvents(model: string, alias?: string): Promise<AliasEvent[]>
  appendAudit(record: AuditRecord): Promise<void>
  moveAlias(record: AuditRecord, event: Omit<AliasEvent, 'seq' | 'auditSeq'>): Promise<AliasEvent>
  auditRecords(): Promise<AuditRecord[]>
  lastAuditRecord(): Promise<AuditRecord | null>
}

function registry(store: unknown): RegistryStore {
  return store as RegistryStore
}

/**
 * Models are not experiment-scoped: reading them needs read, writing a model or version needs
 * write (a version also needs access to its run's experiment), and moving aliases or appending
 * to the store-wide audit log needs a write token valid for all experiments.
 */
export function registryRoutes(): RouteSpec[] {
  return [
    {
      method: 'POST',
      url: '/api/v1/models',
      summary: 'register a model (ASSAY_MODEL_EXISTS when the name is taken)',
      tag: 'registry',
      scope: 'write',
      touches: 'all',
      body: { json: RegisteredModelSchema },
      response: { json: '{ ok: true }', status: 201 },
      async handler({ body, state }) {
        await registry(state.store).createModel(body as unknown as RegisteredModel)
        return { ok: true }
      },
    },
    {
      method: 'GET',
      url: '/api/v1/models',
      summary: 'registered models by name',
      tag: 'registry',
      scope: 'read',
      touches: 'none',
      response: { json: '{ models: RegisteredModel[] }' },
      handler: async ({ state }) => ({ models: await registry(state.store).listModels() }),
    },
    {
      method: 'GET',
      url: '/api/v1/models/:name',
      summary: 'one registered model',
      tag: 'registry',
      scope: 'read',
      touches: 'none',
      params: ModelNameParam,
      response: { json: '{ model: RegisteredModel }' },
      handler: async ({ params, state }) => ({ model: await registry(state.store).getModel(params.name as string) }),
    },
    {
      method: 'POST',
      url: '/api/v1/models/:name/versions',
      summary: 'add a version made from a run (numbered by the store)',
      tag: 'registry',
      scope: 'write',
      touches: 'handler',
      params: ModelNameParam,
      body: { json: NewModelVersionSchema },
      response: { json: '{ version: ModelVersion }', status: 201 },
      async handler({ params, body, caller, state }) {
        const version = { ...(body as unknown as Omit<ModelVersion, 'version'>), model: params.name as string }
        if (caller.restricted) requireExperiment(caller, await state.runExperiment(version.runId))
        return { version: await registry(state.store).addModelVersion(version) }
      },
    },
    {
      method: 'GET',
      url: '/api/v1/models/:name/versions',
      summary: 'versions of a model, oldest first',
      tag: 'registry',
      scope: 'read',
      touches: 'none',
      params: ModelNameParam,
      response: { json: '{ versions: ModelVersion[] }' },
      handler: async ({ params, state }) => ({ versions: await registry(state.store).listModelVersions(params.name as string) }),
    },
    {
      method: 'GET',
      url: '/api/v1/models/:name/alias-events',
      summary: 'alias events of a model (one alias with ?alias=), oldest first',
      tag: 'registry',
      scope: 'read',
      touches: 'none',
      params: ModelNameParam,
      query: AliasQuery,
      response: { json: '{ events: AliasEvent[] }' },
      handler: async ({ params, query, state }) => ({ events: await registry(state.store).aliasEvents(params.name as string, query.alias as string | undefined) }),
    },
    {
      method: 'POST',
      url: '/api/v1/alias-moves',
      summary: 'move an alias and append its audit record in one transaction (ASSAY_AUDIT_CONFLICT when either moved since read)',
      tag: 'registry',
      scope: 'write',
      touches: 'all',
      body: { json: MoveAliasSchema },
      response: { json: '{ event: AliasEvent }', status: 201 },
      async handler({ body, state }) {
        const { record, event } = body as unknown as { record: AuditRecord; event: Omit<AliasEvent, 'seq' | 'auditSeq'> }
        return { event: await registry(state.store).moveAlias(record, event) }
      },
    },
    {
      method: 'POST',
      url: '/api/v1/audit',
      summary: 'append one audit record; it must chain onto the last (ASSAY_AUDIT_CONFLICT otherwise)',
      tag: 'registry',
      scope: 'write',
      touches: 'all',
      body: { json: AuditRecordSchema },
      response: { json: '{ ok: true }', status: 201 },
      async handler({ body, state }) {
        await registry(state.store).appendAudit(body as unknown as AuditRecord)
        return { ok: true }
      },
    },
    {
      method: 'GET',
      url: '/api/v1/audit',
      summary: 'the whole audit log in sequence order',
      tag: 'registry',
      scope: 'read',
      touches: 'none',
      response: { json: '{ records: AuditRecord[] }' },
      handler: async ({ state }) => ({ records: await registry(state.store).auditRecords() }),
    },
    {
      method: 'GET',
      url: '/api/v1/audit/last',
      summary: 'the audit record with the highest sequence number, or null',
      tag: 'registry',
      scope: 'read',
      touches: 'none',
      response: { json: '{ record: AuditRecord | null }' },
      handler: async ({ state }) => ({ record: await registry(state.store).lastAuditRecord() }),
    },
  ]
}
