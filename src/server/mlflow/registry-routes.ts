import { z } from 'zod'
import { AssayError, isAssayError } from '../../errors.js'
import type { ModelVersion, RegisteredModel } from '../../record/types.js'
import { assertName } from '../../record/validate.js'
import { promote } from '../../promotion/promotion.js'
import { registeredGate } from '../../promotion/gate-policy.js'
import { addModelVersion, createModel, currentHolder, getModelVersion, listAliases, setAlias } from '../../registry/registry.js'
import { actorOf, SCOPE_RANK, type Caller } from '../auth.js'
import { decideCriteriaInWorker, requireGateWorkWithin } from '../gate-worker.js'
import type { RouteSpec, ServerState } from '../route.js'
import { MLFLOW_ROUTES } from './paths.js'
import { tagRecord, type KeyValue } from './run-mapping.js'

const KeyValueSchema = z.looseObject({ key: z.string(), value: z.string().optional().default('') })
/** Where MLflow's source URI is kept on a version: assay versions name an artifact of their run, not a URI. */
const SOURCE_TAG = 'mlflow.source'

function mlflowModel(model: RegisteredModel): unknown {
  return { name: model.name, creation_timestamp: model.createdAt, last_updated_timestamp: model.createdAt, description: model.description, tags: Object.entries(model.tags).map(([key, value]) => ({ key, value })) }
}

async function mlflowVersion(state: ServerState, version: ModelVersion): Promise<unknown> {
  const aliases = (await listAliases(state.store, version.model)).filter((a) => a.version === version.version).map((a) => a.alias)
  const { [SOURCE_TAG]: source, ...tags } = version.tags
  return {
    name: version.model,
    version: String(version.version),
    creation_timestamp: version.createdAt,
    last_updated_timestamp: version.createdAt,
    current_stage: 'None',
    description: version.description,
    source: source ?? (version.artifact === null ? '' : version.artifact.name),
    run_id: version.runId,
    // A version is stored whole in one transaction: it is ready when it is answered.
    status: 'READY',
    tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    aliases,
  }
}

function versionNumber(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^[0-9]{1,15}$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < 1) throw new AssayError('ASSAY_INVALID_ARGUMENT', `version must be a positive integer, got ${JSON.stringify(value)}`, { field: 'version' })
  return n
}

function isAdmin(caller: Caller): boolean {
  // Without auth (loopback only) the caller has the store itself, as with assay's own admin routes.
  return caller.token === null || SCOPE_RANK[caller.token.scope] >= SCOPE_RANK.admin
}

/**
 * The MLflow model registry calls of register_model and aliases (docs/mlflow.md). The registry is
 * store-wide, so these need a token valid for all experiments, as assay's registry routes do. An
 * alias set through MLflow is a promotion: the gate registered for the alias runs; where none is
 * registered only an admin may set it by hand; anyone else is refused with PERMISSION_DENIED.
 */
export function mlflowRegistryRoutes(): RouteSpec[] {
  const route = (spec: Omit<RouteSpec, 'tag' | 'touches'>): RouteSpec => ({ ...spec, tag: 'mlflow', touches: 'all' })
  return [
    route({
      method: 'POST',
      url: MLFLOW_ROUTES.createModel,
      summary: 'MLflow CreateRegisteredModel: { name, tags, description } (the owner is the token)',
      scope: 'write',
      body: { json: z.looseObject({ name: z.string(), tags: z.array(KeyValueSchema).max(1000).optional(), description: z.string().max(100_000).optional() }) },
      response: { json: '{ registered_model }' },
      async handler({ body, caller, state }) {
        const b = body as { name: string; tags?: KeyValue[]; description?: string }
        const actor = actorOf(caller, 'mlflow')
        const model = await createModel(state.store, { name: b.name, owner: actor, description: b.description, tags: tagRecord(b.tags), actor })
        return { registered_model: mlflowModel(model) }
      },
    }),
    route({
      method: 'GET',
      url: MLFLOW_ROUTES.model,
      summary: 'MLflow GetRegisteredModel: ?name',
      scope: 'read',
      query: z.looseObject({ name: z.string() }),
      response: { json: '{ registered_model }' },
      async handler({ query, state }) {
        return { registered_model: mlflowModel(await state.store.getModel(query.name as string)) }
      },
    }),
    route({
      method: 'POST',
      url: MLFLOW_ROUTES.createModelVersion,
      summary: "MLflow CreateModelVersion: { name, source, run_id, tags, description }; the version is the run's artifact named by source when it is one file, READY at once",
      scope: 'write',
      body: { json: z.looseObject({ name: z.string(), source: z.string().max(10_000).optional(), run_id: z.string().optional(), tags: z.array(KeyValueSchema).max(1000).optional(), description: z.string().max(100_000).optional() }) },
      response: { json: '{ model_version }' },
      async handler({ body, caller, state }) {
        const b = body as { name: string; source?: string; run_id?: string; tags?: KeyValue[]; description?: string }
        if (b.run_id === undefined || b.run_id === '') throw new AssayError('ASSAY_INVALID_ARGUMENT', 'run_id is required: an assay model version is made from a run', { field: 'body.run_id' })
        const source = b.source ?? ''
        const run = await state.store.getRun(b.run_id)
        // mlflow-artifacts:/EXP/RUN/artifacts/NAME or runs:/RUN/NAME: a single produced file becomes the version's artifact.
        const named = /^mlflow-artifacts:\/+[0-9]+\/[^/]+\/artifacts\/(.+)$/.exec(source)?.[1] ?? /^runs:\/+[^/]+\/(.+)$/.exec(source)?.[1]
        const artifact = named !== undefined && run.artifacts.some((a) => a.direction === 'produced' && a.name === named) ? named : undefined
        const tags = { ...tagRecord(b.tags), ...(source === '' ? {} : { [SOURCE_TAG]: source }) }
        const version = await addModelVersion(state.store, { model: b.name, run: run.id, artifact, description: b.description, tags, actor: actorOf(caller, 'mlflow') })
        return { model_version: await mlflowVersion(state, version) }
      },
    }),
    route({
      method: 'GET',
      url: MLFLOW_ROUTES.modelVersion,
      summary: 'MLflow GetModelVersion: ?name&version',
      scope: 'read',
      query: z.looseObject({ name: z.string(), version: z.string() }),
      response: { json: '{ model_version }' },
      async handler({ query, state }) {
        return { model_version: await mlflowVersion(state, await getModelVersion(state.store, query.name as string, versionNumber(query.version))) }
      },
    }),
    route({
      method: 'GET',
      url: MLFLOW_ROUTES.alias,
      summary: 'MLflow GetModelVersionByAlias: ?name&alias',
      scope: 'read',
      query: z.looseObject({ name: z.string(), alias: z.string() }),
      response: { json: '{ model_version }' },
      async handler({ query, state }) {
        const model = query.name as string
        const alias = query.alias as string
        await state.store.getModel(model)
        const holder = await currentHolder(state.store, model, alias)
        if (holder === null) throw new AssayError('ASSAY_ALIAS_NOT_FOUND', `model ${model} has no version with alias ${JSON.stringify(alias)}`, { model, alias })
        return { model_version: await mlflowVersion(state, await getModelVersion(state.store, model, holder)) }
      },
    }),
    route({
      method: 'POST',
      url: MLFLOW_ROUTES.alias,
      summary: 'MLflow SetRegisteredModelAlias: { name, alias, version }: a promotion through the gate registered for the alias; without one, admin tokens only',
      scope: 'write',
      body: { json: z.looseObject({ name: z.string(), alias: z.string(), version: z.union([z.string(), z.number()]) }) },
      response: { json: '{}' },
      async handler({ body, caller, state }) {
        const b = body as { name: string; alias: string; version: string | number }
        assertName(b.alias, 'alias')
        const version = versionNumber(b.version)
        const actor = actorOf(caller, 'mlflow')
        await getModelVersion(state.store, b.name, version)
        if ((await currentHolder(state.store, b.name, b.alias)) === version) return {}
        const gated = await registeredGate(state.store, b.name, b.alias).then(
          () => true,
          (error: unknown) => {
            if (isAssayError(error, 'ASSAY_NO_GATE_POLICY')) return false
            throw error
          },
        )
        if (gated) {
          await promote(state.store, {
            model: b.name,
            version,
            alias: b.alias,
            admitGate: (gate) => requireGateWorkWithin(gate.spec, state.gateWorkLimit),
            actor,
            decideCriteria: decideCriteriaInWorker(state.gateTimeLimitMs),
          })
          return {}
        }
        if (!isAdmin(caller)) {
          throw new AssayError('ASSAY_NO_GATE_POLICY', `no gate is registered for ${b.name}@${b.alias}: an alias set through MLflow is a promotion, so it needs a registered gate (\`assay gates set\`) or an admin token`, { model: b.name, alias: b.alias })
        }
        await setAlias(state.store, { model: b.name, alias: b.alias, version, actor, reason: 'set through the MLflow API by an admin token; no gate is registered for this alias' })
        return {}
      },
    }),
  ]
}
