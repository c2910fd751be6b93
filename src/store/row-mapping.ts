import { computeEnvelope, configParts } from '../record/envelope.js'
import type {
  ApiToken,
  ArtifactDirection,
  ArtifactRef,
  CodeVersion,
  DatasetVersion,
  EvalColumns,
  EvalSetSummary,
  Environment,
  ExperimentSummary,
  HoldoutRead,
  MetricSummary,
  Params,
  RunRecord,
  RunStatus,
  RunSummary,
} from '../record/types.js'
import { concatMetricChunks, decodeEvalChunk, decodeMetricChunk, joinEvalChunks, type EvalChunk, type MetricColumns } from './chunk-codec.js'

/**
 * Rows as every SQL backend reads them, and their mapping to records. The backends share column
 * names and meanings (sqlite-migrations.ts, postgres-migrations.ts): JSON is stored as text,
 * times as float milliseconds, and each backend's driver hands numbers back as JS numbers.
 * Keeping the mapping here means a record reads back the same whichever backend stored it.
 */

export interface RunRow {
  id: string
  experiment: string
  name: string
  owner: string
  status: RunStatus
  start_time: number
  end_time: number | null
  heartbeat_at: number
  parent_id: string | null
  group_id: string | null
  seed: number
  seed_source: 'user' | 'drawn'
  /** JSON text */
  environment: string
  /** JSON text */
  code: string
  config_fingerprint: string
}

/** The columns of a run a listing reads (RunSummary). */
export type ListedRunRow = Pick<RunRow, 'id' | 'experiment' | 'name' | 'owner' | 'status' | 'start_time' | 'end_time' | 'parent_id' | 'group_id' | 'seed' | 'config_fingerprint'>

export interface KeyValueRow {
  key: string
  value: string
}

export interface TokenRow {
  id: string
  name: string
  scope: ApiToken['scope']
  experiments: string | null
  created_at: number
  created_by: string
  revoked_at: number | null
  expires_at: number | null
}

export interface SummaryRow {
  key: string
  /** NULL (SQLite) or NaN (PostgreSQL) both mean the last value was NaN. */
  last: number | null
  last_step: number
  min: number | null
  max: number | null
  count: number
}

export interface DatasetRow {
  name: string
  role: DatasetVersion['role']
  sha256: string
  kind: DatasetVersion['kind']
  size_bytes: number
  file_count: number
  rows: number | null
  columns: string | null
  source: string
}

export interface ArtifactRow {
  run_id: string
  name: string
  direction: ArtifactDirection
  sha256: string
  size_bytes: number
  created_at: number
}

export interface EvalSetRow {
  dataset: string
  dataset_sha256: string
  count: number
  score_names: string
}

export interface HoldoutRow {
  read_id?: string | null
  dataset_sha256: string
  dataset_name: string
  run_ids: string
  purpose: string
  actor: string
  at: number
}

export interface ExperimentRow {
  name: string
  created_at: number
  run_count: number
  last_run_at: number | null
}

export function tokenFromRow(r: TokenRow): ApiToken {
  return {
    id: r.id,
    name: r.name,
    scope: r.scope,
    experiments: r.experiments === null ? null : (JSON.parse(r.experiments) as string[]),
    createdAt: r.created_at,
    createdBy: r.created_by,
    revokedAt: r.revoked_at,
    expiresAt: r.expires_at,
  }
}

export function summaryFromRow(row: SummaryRow | undefined): MetricSummary | undefined {
  if (row === undefined) return undefined
  return { key: row.key, last: row.last ?? NaN, lastStep: row.last_step, min: row.min, max: row.max, count: row.count }
}

export function datasetFromRow(r: DatasetRow): DatasetVersion {
  return {
    name: r.name,
    role: r.role,
    sha256: r.sha256,
    kind: r.kind,
    sizeBytes: r.size_bytes,
    fileCount: r.file_count,
    rows: r.rows,
    columns: r.columns === null ? null : (JSON.parse(r.columns) as string[]),
    source: r.source,
  }
}

export function artifactFromRow(r: ArtifactRow): ArtifactRef {
  return { runId: r.run_id, name: r.name, sha256: r.sha256, sizeBytes: r.size_bytes, direction: r.direction, createdAt: r.created_at }
}

export function evalSummaryFromRow(r: EvalSetRow): EvalSetSummary {
  return { dataset: r.dataset, datasetSha256: r.dataset_sha256, count: r.count, scoreNames: JSON.parse(r.score_names) as string[] }
}

export function holdoutReadFromRow(r: HoldoutRow): HoldoutRead {
  return { ...(r.read_id === null || r.read_id === undefined ? {} : { id: r.read_id }), datasetSha256: r.dataset_sha256, datasetName: r.dataset_name, runIds: JSON.parse(r.run_ids) as string[], purpose: r.purpose, actor: r.actor, at: r.at }
}

export function experimentFromRow(r: ExperimentRow): ExperimentSummary {
  return { name: r.name, createdAt: r.created_at, runCount: r.run_count, lastRunAt: r.last_run_at }
}

export function paramsFromRows(rows: readonly KeyValueRow[]): Params {
  return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value)]))
}

export function tagsFromRows(rows: readonly KeyValueRow[]): Record<string, string> {
  return Object.fromEntries(rows.map((r) => [r.key, r.value]))
}

/** The config fingerprint of a run after its params or datasets changed, and its parts (runs.config_fingerprint, runs.config_parts). */
export function configFingerprint(row: Pick<RunRow, 'seed' | 'environment' | 'code'>, params: Params, datasets: readonly DatasetVersion[]): { config: string; parts: string } {
  const envelope = computeEnvelope({
    params,
    seed: row.seed,
    environment: JSON.parse(row.environment) as Environment,
    code: JSON.parse(row.code) as CodeVersion,
    datasets,
  })
  return { config: envelope.config, parts: configParts(envelope) }
}

/** The whole record of one run from its rows (each list already in the documented order). */
export function runRecordFromRows(parts: {
  row: RunRow
  params: readonly KeyValueRow[]
  tags: readonly KeyValueRow[]
  datasets: readonly DatasetRow[]
  metrics: readonly SummaryRow[]
  evals: readonly EvalSetRow[]
  artifacts: readonly ArtifactRow[]
}): RunRecord {
  const { row } = parts
  const params = paramsFromRows(parts.params)
  const environment = JSON.parse(row.environment) as Environment
  const code = JSON.parse(row.code) as CodeVersion
  const datasets = parts.datasets.map(datasetFromRow)
  return {
    id: row.id,
    experiment: row.experiment,
    name: row.name,
    owner: row.owner,
    status: row.status,
    startTime: row.start_time,
    endTime: row.end_time,
    heartbeatAt: row.heartbeat_at,
    parentId: row.parent_id,
    groupId: row.group_id,
    params,
    seed: row.seed,
    seedSource: row.seed_source,
    tags: tagsFromRows(parts.tags),
    environment,
    code,
    datasets,
    metrics: parts.metrics.map((r) => summaryFromRow(r) as MetricSummary),
    evals: parts.evals.map(evalSummaryFromRow),
    artifacts: parts.artifacts.map(artifactFromRow),
    envelope: computeEnvelope({ params, seed: row.seed, environment, code, datasets }),
  }
}

/** Listing rows of runs, with every run's params, tags and last metric values (rows of all runs). */
export function runSummariesFromRows(
  rows: readonly ListedRunRow[],
  params: readonly (KeyValueRow & { run_id: string })[],
  tags: readonly (KeyValueRow & { run_id: string })[],
  metrics: readonly { run_id: string; key: string; last: number | null }[],
): RunSummary[] {
  const paramsByRun = groupByRun(params)
  const tagsByRun = groupByRun(tags)
  const metricsByRun = groupByRun(metrics)
  return rows.map((row) =>
    listedRunSummary(
      row,
      paramsFromRows(paramsByRun.get(row.id) ?? []),
      tagsFromRows(tagsByRun.get(row.id) ?? []),
      Object.fromEntries((metricsByRun.get(row.id) ?? []).map((m) => [m.key, m.last ?? NaN])),
    ),
  )
}

/** A listed run's summary from its row and its params, tags and last metric values: the one mapping both listing reads share. */
function listedRunSummary(row: ListedRunRow, params: Params, tags: Record<string, string>, metrics: Record<string, number>): RunSummary {
  return {
    id: row.id,
    experiment: row.experiment,
    name: row.name,
    owner: row.owner,
    status: row.status,
    startTime: row.start_time,
    endTime: row.end_time,
    params,
    seed: row.seed,
    tags,
    parentId: row.parent_id,
    groupId: row.group_id,
    metrics,
    configFingerprint: row.config_fingerprint,
  }
}

/**
 * The params, tags and last metric values of a listed run as the page's one statement aggregates
 * them (sql-store.ts): JSON objects by key, NULL (PostgreSQL) or {} (SQLite) for none. A last
 * value that is not finite arrives on PostgreSQL as the JSON text it writes for it ("NaN",
 * "Infinity", "-Infinity"); on SQLite ±Infinity arrive as numbers (±9.0e+999) and NaN, stored as
 * NULL, as null.
 */
export interface AggregatedRunColumns {
  params_json: Params | null
  tags_json: Record<string, string> | null
  metrics_json: Record<string, number | string | null> | null
}

export function runSummaryFromAggregates(row: ListedRunRow, params: Params | null, tags: Record<string, string> | null, metrics: Record<string, number | string | null> | null): RunSummary {
  // Object.fromEntries, not assignment: a key named __proto__ stays a key. NaN is NULL on SQLite.
  const last = Object.fromEntries(Object.entries(metrics ?? {}).map(([key, value]) => [key, typeof value === 'number' ? value : value === null ? NaN : Number(value)]))
  return listedRunSummary(row, params ?? {}, tags ?? {}, last)
}

function groupByRun<T extends { run_id: string }>(rows: readonly T[]): Map<string, T[]> {
  const map = new Map<string, T[]>()
  for (const r of rows) {
    const list = map.get(r.run_id)
    if (list) list.push(r)
    else map.set(r.run_id, [r])
  }
  return map
}

/** A metric series from its stored chunks, in seq order. */
export function metricColumnsFromChunks(chunks: readonly { data: Uint8Array }[]): MetricColumns {
  return concatMetricChunks(chunks.map((r) => decodeMetricChunk(r.data)))
}

/** Eval columns of one (run, dataset) from its stored chunks, in seq order. */
export function evalColumnsFromChunks(dataset: string, datasetSha256: string, chunks: readonly { data: Uint8Array }[]): EvalColumns {
  return joinEvalChunks(dataset, datasetSha256, chunks.map((r) => decodeEvalChunk(r.data)))
}

/** Score names a chunk carries (its 'score:<name>' columns), in column order. */
export function evalScoreNames(chunk: EvalChunk): string[] {
  return [...chunk.numeric.keys()].filter((n) => n.startsWith('score:')).map((n) => n.slice(6))
}

/** Score names of an eval set after a chunk is added: the stored ones, then new ones in order. */
export function mergeScoreNames(storedJson: string, added: readonly string[]): string {
  return JSON.stringify([...new Set([...(JSON.parse(storedJson) as string[]), ...added])])
}
