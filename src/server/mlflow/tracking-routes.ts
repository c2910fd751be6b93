import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { AssayError, isAssayError } from '../../errors.js'
import { assertName, assertTags } from '../../record/validate.js'
import { actorOf, requireExperiment, type Caller } from '../auth.js'
import type { RouteSpec, ServerState } from '../route.js'
import { experimentId, experimentName } from './experiment-ids.js'
import { MLFLOW_ROUTES } from './paths.js'
import { assayEndStatus, batchOf, datasetOfInput, int64, mlflowRun, mlflowRunInfo, newRunOf, type KeyValue, type MlflowDatasetInput, type MlflowMetric } from './run-mapping.js'
import { checkBatch } from '../routes/runs.js'
import { assayFilter, assayOrder } from './search-filter.js'

const Text = z.string().max(1_000_000)
const KeyValueSchema = z.looseObject({ key: z.string(), value: z.string().optional().default('') })
const Int64 = z.union([z.number(), z.string()])
const MetricSchema = z.looseObject({ key: z.string(), value: z.union([z.number(), z.string()]), timestamp: Int64.optional(), step: Int64.optional() })
const RunRef = z.looseObject({ run_id: z.string().optional(), run_uuid: z.string().optional() })
const DatasetInputSchema = z.looseObject({
  tags: z.array(KeyValueSchema).max(100).optional(),
  dataset: z.looseObject({ name: z.string(), digest: z.string().min(1).max(256), source_type: z.string().max(256), source: z.string(), schema: z.string().optional(), profile: z.string().optional() }),
})
const RunQuery = z.looseObject({ run_id: z.string().optional(), run_uuid: z.string().optional() })

/** MLflow sends run_id and the older run_uuid; either names the run. */
function runIdOf(sent: Record<string, unknown>): string {
  const id = sent.run_id ?? sent.run_uuid
  if (typeof id !== 'string' || id === '') throw new AssayError('ASSAY_INVALID_ARGUMENT', 'run_id is required', { field: 'run_id' })
  return id
}

/** The run's experiment, checked against the caller's token (unknown runs: RESOURCE_DOES_NOT_EXIST). */
async function runFor(state: ServerState, caller: Caller, runId: string): Promise<string> {
  requireExperiment(caller, await state.runExperiment(runId))
  return runId
}

/** The experiment's first run; null when it has none (an experiment exists once it has a run). */
async function firstRun(state: ServerState, name: string): Promise<{ startTime: number } | null> {
  try {
    return (await state.store.listRunsPage({ experiment: name, limit: 1 })).runs[0] ?? null
  } catch (error) {
    if (isAssayError(error, 'ASSAY_EXPERIMENT_NOT_FOUND')) return null
    throw error
  }
}

/**
 * An MLflow experiment of an assay experiment. By name, an experiment without runs does not exist
 * (so set_experiment creates it); by id, which is the name itself, it always does: set_experiment
 * reads the experiment back by id right after creating it, before any run.
 */
async function experimentOf(state: ServerState, caller: Caller, name: string, by: 'name' | 'id'): Promise<unknown> {
  requireExperiment(caller, name)
  const first = await firstRun(state, name)
  if (first === null && by === 'name') throw new AssayError('ASSAY_EXPERIMENT_NOT_FOUND', `no experiment is named ${JSON.stringify(name)} (an experiment exists once it has a run)`)
  const id = experimentId(name)
  const times = first === null ? {} : { creation_time: first.startTime, last_update_time: first.startTime }
  return { experiment_id: id, name, artifact_location: `mlflow-artifacts:/${id}`, lifecycle_stage: 'active', ...times, tags: [] }
}

async function logBatch(state: ServerState, runId: string, metrics: MlflowMetric[], params: KeyValue[], tags: KeyValue[]): Promise<Record<string, never>> {
  const batch = batchOf(metrics, params, tags)
  // The same checks as assay's own batch route (metric keys included): the MLflow API is no side door.
  checkBatch(batch)
  await state.store.logBatch(runId, batch)
  return {}
}

/**
 * The MLflow tracking API (docs/mlflow.md): experiments, runs, metrics, params and tags as the
 * MLflow Python client sends them, over the store's own rules. Every write goes through the
 * store's one batch path, as assay's own routes do.
 */
export function mlflowTrackingRoutes(): RouteSpec[] {
  const route = (spec: Omit<RouteSpec, 'tag'>): RouteSpec => ({ ...spec, tag: 'mlflow' })
  return [
    route({
      method: 'GET',
      url: MLFLOW_ROUTES.experimentByName,
      summary: 'MLflow GetExperimentByName: ?experiment_name',
      scope: 'read',
      touches: 'handler',
      query: z.looseObject({ experiment_name: z.string() }),
      response: { json: '{ experiment }' },
      async handler({ query, caller, state }) {
        const name = query.experiment_name as string
        assertName(name, 'experiment_name')
        return { experiment: await experimentOf(state, caller, name, 'name') }
      },
    }),
    route({
      method: 'GET',
      url: MLFLOW_ROUTES.experiment,
      summary: 'MLflow GetExperiment: ?experiment_id',
      scope: 'read',
      touches: 'handler',
      query: z.looseObject({ experiment_id: z.string() }),
      response: { json: '{ experiment }' },
      async handler({ query, caller, state }) {
        return { experiment: await experimentOf(state, caller, experimentName(query.experiment_id), 'id') }
      },
    }),
    route({
      method: 'POST',
      url: MLFLOW_ROUTES.createExperiment,
      summary: 'MLflow CreateExperiment: { name } (the experiment is stored with its first run; artifact_location and tags are not kept)',
      scope: 'write',
      touches: 'handler',
      body: { json: z.looseObject({ name: z.string() }) },
      response: { json: '{ experiment_id }' },
      async handler({ body, caller, state }) {
        const name = (body as { name: string }).name
        assertName(name, 'experiment name')
        requireExperiment(caller, name)
        if ((await firstRun(state, name)) !== null) {
          throw new AssayError('ASSAY_EXPERIMENT_EXISTS', `experiment ${JSON.stringify(name)} already exists`)
        }
        return { experiment_id: experimentId(name) }
      },
    }),
    route({
      method: 'POST',
      url: MLFLOW_ROUTES.createRun,
      summary: 'MLflow CreateRun: { experiment_id, user_id, start_time, tags, run_name }',
      scope: 'write',
      touches: 'handler',
      body: { json: z.looseObject({ experiment_id: z.union([z.string(), z.number()]).optional(), user_id: z.string().optional(), start_time: Int64.optional(), run_name: z.string().optional(), tags: z.array(KeyValueSchema).max(10_000).optional() }) },
      response: { json: '{ run }' },
      async handler({ body, caller, state }) {
        const b = body as { experiment_id?: string; user_id?: string; start_time?: number | string; run_name?: string; tags?: KeyValue[] }
        const experiment = experimentName(b.experiment_id ?? '0')
        requireExperiment(caller, experiment)
        const run = newRunOf({
          experiment,
          id: randomUUID().replaceAll('-', ''),
          owner: b.user_id !== undefined && b.user_id !== '' ? b.user_id : actorOf(caller, 'mlflow'),
          runName: b.run_name === '' ? undefined : b.run_name,
          startTime: int64(b.start_time ?? Date.now(), 'start_time'),
          tags: b.tags ?? [],
        })
        assertName(run.name, 'run name')
        assertName(run.owner, 'owner')
        assertTags(run.tags)
        if (run.parentId !== null) await runFor(state, caller, run.parentId)
        await state.store.createRun(run)
        state.rememberRun(run.id, run.experiment)
        return { run: mlflowRun(await state.store.getRun(run.id)) }
      },
    }),
    route({
      method: 'POST',
      url: MLFLOW_ROUTES.updateRun,
      summary: 'MLflow UpdateRun: { run_id, status, end_time } (FINISHED, FAILED or KILLED end the run; renaming is refused)',
      scope: 'write',
      touches: 'handler',
      body: { json: RunRef.extend({ status: z.string().optional(), end_time: Int64.optional(), run_name: z.string().optional() }) },
      response: { json: '{ run_info }' },
      async handler({ body, caller, state }) {
        const b = body as { status?: string; end_time?: number | string; run_name?: string }
        const runId = await runFor(state, caller, runIdOf(body as Record<string, unknown>))
        const status = assayEndStatus(b.status)
        const before = await state.store.getRun(runId)
        if (b.run_name !== undefined && b.run_name !== '' && b.run_name !== before.name) {
          throw new AssayError('ASSAY_INVALID_ARGUMENT', `run ${runId} is named ${JSON.stringify(before.name)}: assay does not rename runs`, { field: 'body.run_name' })
        }
        if (status !== null) {
          try {
            await state.store.setRunStatus(runId, status, int64(b.end_time ?? Date.now(), 'end_time'))
          } catch (error) {
            // An end sent again (a retried request) is accepted, as on assay's own route.
            if (!isAssayError(error, 'ASSAY_RUN_NOT_ACTIVE') || before.status !== status) throw error
          }
        }
        return { run_info: mlflowRunInfo(await state.store.getRun(runId)) }
      },
    }),
    route({
      method: 'GET',
      url: MLFLOW_ROUTES.run,
      summary: 'MLflow GetRun: ?run_id',
      scope: 'read',
      touches: 'handler',
      query: RunQuery,
      response: { json: '{ run }' },
      async handler({ query, caller, state }) {
        await state.sweepCrashed()
        const runId = await runFor(state, caller, runIdOf(query))
        return { run: mlflowRun(await state.store.getRun(runId)) }
      },
    }),
    route({
      method: 'POST',
      url: MLFLOW_ROUTES.logBatch,
      summary: 'MLflow LogBatch: { run_id, metrics, params, tags } in one transaction',
      scope: 'write',
      touches: 'handler',
      body: { json: RunRef.extend({ metrics: z.array(MetricSchema).max(1_000_000).optional(), params: z.array(KeyValueSchema).max(100_000).optional(), tags: z.array(KeyValueSchema).max(100_000).optional() }) },
      response: { json: '{}' },
      async handler({ body, caller, state }) {
        const b = body as { metrics?: MlflowMetric[]; params?: KeyValue[]; tags?: KeyValue[] }
        return logBatch(state, await runFor(state, caller, runIdOf(body as Record<string, unknown>)), b.metrics ?? [], b.params ?? [], b.tags ?? [])
      },
    }),
    route({
      method: 'POST',
      url: MLFLOW_ROUTES.logMetric,
      summary: 'MLflow LogMetric: { run_id, key, value, timestamp, step }',
      scope: 'write',
      touches: 'handler',
      body: { json: RunRef.extend(MetricSchema.shape) },
      response: { json: '{}' },
      async handler({ body, caller, state }) {
        return logBatch(state, await runFor(state, caller, runIdOf(body as Record<string, unknown>)), [body as MlflowMetric], [], [])
      },
    }),
    route({
      method: 'POST',
      url: MLFLOW_ROUTES.logParam,
      summary: 'MLflow LogParam: { run_id, key, value } (stored as text; another value for a logged key is refused)',
      scope: 'write',
      touches: 'handler',
      body: { json: RunRef.extend({ key: z.string(), value: Text }) },
      response: { json: '{}' },
      async handler({ body, caller, state }) {
        return logBatch(state, await runFor(state, caller, runIdOf(body as Record<string, unknown>)), [], [body as KeyValue], [])
      },
    }),
    route({
      method: 'POST',
      url: MLFLOW_ROUTES.setTag,
      summary: 'MLflow SetTag: { run_id, key, value }',
      scope: 'write',
      touches: 'handler',
      body: { json: RunRef.extend({ key: z.string(), value: Text }) },
      response: { json: '{}' },
      async handler({ body, caller, state }) {
        return logBatch(state, await runFor(state, caller, runIdOf(body as Record<string, unknown>)), [], [], [body as KeyValue])
      },
    }),
    route({
      method: 'POST',
      url: MLFLOW_ROUTES.logInputs,
      summary: 'MLflow LogInputs: { run_id, datasets: [{ tags, dataset: { name, digest, source_type, source, schema, profile } }] } (datasets of kind reference; model inputs are refused)',
      scope: 'write',
      touches: 'handler',
      body: { json: RunRef.extend({ datasets: z.array(DatasetInputSchema).max(1000).optional(), models: z.array(z.unknown()).optional() }) },
      response: { json: '{}' },
      async handler({ body, caller, state }) {
        const b = body as { datasets?: MlflowDatasetInput[]; models?: unknown[] }
        const runId = await runFor(state, caller, runIdOf(body as Record<string, unknown>))
        if ((b.models ?? []).length > 0) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'model inputs (logged models) are not served; log datasets only', { field: 'body.models' })
        const datasets = (b.datasets ?? []).map(datasetOfInput)
        if (datasets.length > 0) await state.store.logBatch(runId, { datasets })
        return {}
      },
    }),
    route({
      method: 'POST',
      url: MLFLOW_ROUTES.searchRuns,
      summary: "MLflow SearchRuns: { experiment_ids, filter, max_results, order_by, page_token } (the filter in assay's grammar, docs/mlflow.md)",
      scope: 'read',
      touches: 'handler',
      body: { json: z.looseObject({ experiment_ids: z.array(z.union([z.string(), z.number()])).max(1000).optional(), filter: z.string().max(65_536).optional(), max_results: Int64.optional(), order_by: z.array(z.string()).optional(), page_token: z.string().optional() }) },
      response: { json: '{ runs, next_page_token }' },
      async handler({ body, caller, state }) {
        const b = body as { experiment_ids?: (string | number)[]; filter?: string; max_results?: number | string; order_by?: string[]; page_token?: string }
        const names = (b.experiment_ids ?? []).map((id) => experimentName(id))
        for (const name of names) requireExperiment(caller, name)
        const experiments = names.length > 0 ? names : caller.restricted ? (caller.token?.experiments ?? undefined) : undefined
        const limit = Math.min(int64(b.max_results ?? 1000, 'max_results'), 1000)
        if (limit < 1) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'max_results must be at least 1', { field: 'body.max_results' })
        await state.sweepCrashed()
        let page
        try {
          page = await state.store.listRunsPage({ experiments, filter: assayFilter(b.filter), orderBy: assayOrder(b.order_by), limit, cursor: b.page_token === '' ? undefined : b.page_token })
        } catch (error) {
          // MLflow answers a key no run has with no runs; assay's own listing calls it a typo.
          if (isAssayError(error, 'ASSAY_INVALID_FILTER') && error.details?.known !== undefined) return { runs: [] }
          throw error
        }
        const runs = []
        for (const summary of page.runs) runs.push(mlflowRun(await state.store.getRun(summary.id)))
        return page.nextCursor === null ? { runs } : { runs, next_page_token: page.nextCursor }
      },
    }),
    route({
      method: 'GET',
      url: MLFLOW_ROUTES.metricHistory,
      summary: 'MLflow GetMetricHistory: ?run_id&metric_key (every point, in step order)',
      scope: 'read',
      touches: 'handler',
      query: RunQuery.extend({ metric_key: z.string() }),
      response: { json: '{ metrics }' },
      async handler({ query, caller, state }) {
        const runId = await runFor(state, caller, runIdOf(query))
        const key = query.metric_key as string
        const columns = await state.store.metricHistory(runId, key)
        const metrics = Array.from(columns.values, (value, i) => ({ key, value, timestamp: columns.timestamps[i], step: columns.steps[i] }))
        return { metrics }
      },
    }),
  ]
}
