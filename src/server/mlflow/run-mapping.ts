import { createHash } from 'node:crypto'
import { AssayError } from '../../errors.js'
import type { CodeVersion, DatasetRole, DatasetVersion, Environment, JsonValue, RunRecord, RunStatus } from '../../record/types.js'
import { canonicalJson } from '../../record/validate.js'
import type { MetricSeries, NewRun, RunBatch } from '../../store/store.js'
import { experimentId } from './experiment-ids.js'

/**
 * How an MLflow run and an assay run record map onto each other (docs/mlflow.md, "Mapping").
 */

/** MLflow's reserved tags that become fields of the record (they are kept as tags too). */
export const MLFLOW_TAGS = { user: 'mlflow.user', commit: 'mlflow.source.git.commit', parent: 'mlflow.parentRunId', runName: 'mlflow.runName' } as const

export interface KeyValue {
  key: string
  value: string
}

const STATUS_TO_MLFLOW: Record<RunStatus, string> = { running: 'RUNNING', finished: 'FINISHED', failed: 'FAILED', killed: 'KILLED', crashed: 'FAILED' }

/** An MLflow run (info, data, inputs) of an assay run record. */
export function mlflowRun(run: RunRecord): unknown {
  return {
    info: mlflowRunInfo(run),
    data: {
      // Summaries hold the last point's value and step; metrics/get-history has every point with its timestamp.
      metrics: run.metrics.map((m) => ({ key: m.key, value: m.last, timestamp: run.endTime ?? run.heartbeatAt, step: m.lastStep })),
      params: Object.entries(run.params).map(([key, value]) => ({ key, value: paramText(value) })),
      tags: Object.entries({ [MLFLOW_TAGS.runName]: run.name, [MLFLOW_TAGS.user]: run.owner, ...run.tags }).map(([key, value]) => ({ key, value })),
    },
    inputs: {
      dataset_inputs: run.datasets.map((d) => ({
        tags: [{ key: CONTEXT_TAG, value: d.role }],
        dataset: { name: d.name, ...mlflowDatasetOf(d) },
      })),
    },
  }
}

export function mlflowRunInfo(run: RunRecord): Record<string, unknown> {
  const experiment = experimentId(run.experiment)
  return {
    run_id: run.id,
    run_uuid: run.id,
    run_name: run.name,
    experiment_id: experiment,
    user_id: run.owner,
    status: STATUS_TO_MLFLOW[run.status],
    start_time: run.startTime,
    ...(run.endTime === null ? {} : { end_time: run.endTime }),
    artifact_uri: `mlflow-artifacts:/${experiment}/${run.id}/artifacts`,
    lifecycle_stage: 'active',
  }
}

/** MLflow params are text: a param logged through MLflow is stored as the text sent; others are shown as JSON. */
export function paramText(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** MLflow's final statuses as assay's; RUNNING and SCHEDULED change nothing (null). */
export function assayEndStatus(status: unknown): Exclude<RunStatus, 'running'> | null {
  if (status === undefined || status === 'RUNNING' || status === 'SCHEDULED') return null
  if (status === 'FINISHED') return 'finished'
  if (status === 'FAILED') return 'failed'
  if (status === 'KILLED') return 'killed'
  throw new AssayError('ASSAY_INVALID_ARGUMENT', `status must be RUNNING, SCHEDULED, FINISHED, FAILED or KILLED, got ${JSON.stringify(status)}`, { field: 'body.status' })
}

/** The environment of a run made through the MLflow API: the client does not send one. */
const UNKNOWN_ENVIRONMENT: Environment = {
  runtime: 'mlflow-client',
  runtimeVersion: 'unknown',
  os: 'unknown',
  osRelease: 'unknown',
  arch: 'unknown',
  cpuModel: 'unknown',
  cpuCount: 0,
  memoryBytes: 0,
  gpu: null,
  hostname: 'unknown',
  argv: [],
  cwd: 'unknown',
  lockfile: null,
  dependencies: {},
  envVars: {},
}

export interface CreateRunRequest {
  experiment: string
  id: string
  owner: string
  runName?: string
  startTime: number
  tags: KeyValue[]
}

/** runs/create as an assay NewRun: mlflow.user → owner, mlflow.source.git.commit → code, mlflow.parentRunId → parent. */
export function newRunOf(request: CreateRunRequest): NewRun {
  const tags = tagRecord(request.tags)
  const commit = tags[MLFLOW_TAGS.commit]
  const code: CodeVersion =
    commit !== undefined && /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(commit)
      ? { vcs: 'git', commit }
      : { vcs: null, reason: 'logged through the MLflow API without a git commit (mlflow.source.git.commit)' }
  const name = request.runName ?? tags[MLFLOW_TAGS.runName] ?? `mlflow-${request.id.slice(0, 8)}`
  return {
    id: request.id,
    experiment: request.experiment,
    name,
    owner: tags[MLFLOW_TAGS.user] ?? request.owner,
    startTime: request.startTime,
    parentId: tags[MLFLOW_TAGS.parent] ?? null,
    groupId: null,
    params: {},
    // MLflow records no seed: 0, marked as the user's, since assay did not draw it.
    seed: 0,
    seedSource: 'user',
    tags,
    environment: UNKNOWN_ENVIRONMENT,
    code,
    datasets: [],
  }
}

export function tagRecord(tags: readonly KeyValue[] | undefined): Record<string, string> {
  const record: Record<string, string> = {}
  for (const t of tags ?? []) record[t.key] = t.value
  return record
}

export interface MlflowMetric {
  key: string
  value: number | string
  timestamp?: number | string
  step?: number | string
}

/**
 * MLflow's log-batch as one assay batch. Protobuf's JSON writes int64 as strings and NaN and the
 * infinities as "NaN", "Infinity" and "-Infinity"; both forms are read.
 */
export function batchOf(metrics: readonly MlflowMetric[], params: readonly KeyValue[], tags: readonly KeyValue[]): RunBatch {
  const batch: RunBatch = {}
  if (params.length > 0) {
    batch.params = {}
    for (const p of params) {
      // As MLflow does: one batch names a param once.
      if (Object.hasOwn(batch.params, p.key)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `duplicate parameter key in one batch: ${JSON.stringify(p.key)}`, { field: 'params' })
      batch.params[p.key] = p.value
    }
  }
  if (tags.length > 0) batch.tags = tagRecord(tags)
  if (metrics.length > 0) {
    const byKey = new Map<string, { steps: number[]; values: number[]; timestamps: number[] }>()
    for (const [i, m] of metrics.entries()) {
      let series = byKey.get(m.key)
      if (series === undefined) byKey.set(m.key, (series = { steps: [], values: [], timestamps: [] }))
      series.values.push(metricValue(m.value, i))
      series.steps.push(int64(m.step ?? 0, `metrics.${i}.step`))
      series.timestamps.push(int64(m.timestamp ?? Date.now(), `metrics.${i}.timestamp`))
    }
    batch.metrics = [...byKey].map(([key, s]): MetricSeries => ({ key, steps: Float64Array.from(s.steps), values: Float64Array.from(s.values), timestamps: Float64Array.from(s.timestamps) }))
  }
  return batch
}

function metricValue(value: number | string, i: number): number {
  if (typeof value === 'number') return value
  if (value === 'NaN') return NaN
  if (value === 'Infinity') return Infinity
  if (value === '-Infinity') return -Infinity
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `metrics.${i}.value must be a number, got ${JSON.stringify(value.slice(0, 40))}`, { field: `body.metrics.${i}.value` })
  return n
}

/** An int64 of protobuf's JSON (a number or a decimal string) as a safe integer. */
export function int64(value: number | string, field: string): number {
  const n = typeof value === 'number' ? value : /^-?[0-9]{1,16}$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(n)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${field} must be an integer, got ${JSON.stringify(value)}`, { field: `body.${field}` })
  return n
}

/** The dataset input tag MLflow names a dataset's use with (training, validation, ...). */
const CONTEXT_TAG = 'mlflow.data.context'

/** MLflow's contexts as assay's roles; any other context, or none, is `other`. */
const CONTEXT_ROLES: Record<string, DatasetRole> = {
  train: 'train',
  training: 'train',
  validation: 'validation',
  val: 'validation',
  eval: 'validation',
  evaluation: 'validation',
  test: 'test',
  testing: 'test',
  holdout: 'holdout',
}

export interface MlflowDatasetInput {
  tags?: KeyValue[]
  dataset: { name: string; digest: string; source_type: string; source: string; schema?: string; profile?: string }
}

/**
 * An MLflow dataset input as an assay dataset of kind `reference` (docs/mlflow.md, "Datasets").
 * MLflow's digest is a short hash its client computed, not a sha256 of content assay can check;
 * so the source holds { digest, source, source_type } as canonical JSON and the sha256 is that
 * text's: the same digest and source give the same version, and a new digest a new one.
 */
export function datasetOfInput(input: MlflowDatasetInput): DatasetVersion {
  const d = input.dataset
  const source = canonicalJson({ digest: d.digest, source: d.source, source_type: d.source_type })
  const context = tagRecord(input.tags)[CONTEXT_TAG]
  return {
    name: d.name,
    role: (context !== undefined ? CONTEXT_ROLES[context.toLowerCase()] : undefined) ?? 'other',
    sha256: createHash('sha256').update(source, 'utf8').digest('hex'),
    kind: 'reference',
    sizeBytes: 0,
    fileCount: 0,
    rows: numRows(d.profile),
    columns: columnNames(d.schema),
    source,
  }
}

/** A reference dataset shows the digest, source and source type it was logged with; others their sha256, kind and path. */
function mlflowDatasetOf(d: DatasetVersion): { digest: string; source_type: string; source: string } {
  if (d.kind === 'reference') {
    try {
      const logged = JSON.parse(d.source) as Record<string, unknown>
      if (typeof logged.digest === 'string' && typeof logged.source === 'string' && typeof logged.source_type === 'string') {
        return { digest: logged.digest, source_type: logged.source_type, source: logged.source }
      }
    } catch {
      // Not one logged through MLflow: shown as any other dataset.
    }
  }
  return { digest: d.sha256, source_type: d.kind, source: d.source }
}

/** num_rows of an MLflow dataset profile ('{"num_rows": 150, ...}'), when it has one. */
function numRows(profile: string | undefined): number | null {
  const parsed = parseJson(profile) as { num_rows?: unknown } | null
  const n = parsed?.num_rows
  return Number.isSafeInteger(n) && (n as number) >= 0 ? (n as number) : null
}

/** Column names of an MLflow dataset schema ('{"mlflow_colspec": [{"name": "x", ...}]}'), when it has them. */
function columnNames(schema: string | undefined): string[] | null {
  const parsed = parseJson(schema) as { mlflow_colspec?: unknown } | null
  const spec = parsed?.mlflow_colspec
  if (!Array.isArray(spec)) return null
  const names = spec.map((c: unknown) => (c !== null && typeof c === 'object' ? (c as { name?: unknown }).name : undefined))
  return names.every((n): n is string => typeof n === 'string') ? names : null
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return null
  try {
    const value: unknown = JSON.parse(text)
    return value !== null && typeof value === 'object' ? value : null
  } catch {
    return null
  }
}
