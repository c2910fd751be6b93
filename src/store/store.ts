import type {
  ApiToken,
  ArtifactDirection,
  ArtifactRef,
  CodeVersion,
  DatasetVersion,
  EvalColumns,
  Environment,
  ExperimentSummary,
  HoldoutRead,
  Params,
  RunRecord,
  RunStatus,
  RunSummary,
} from '../record/types.js'
import type { EvalChunk, MetricColumns } from './chunk-codec.js'

/**
 * The store contract. Every backend (sqlite/, later postgres/ and the HTTP client) implements
 * exactly this; shared code never branches on which one it holds. Inputs arrive validated by
 * the SDK, but each backend re-checks what only it can check (a run's state, a param conflict)
 * inside the same transaction as the write, so nothing half-written is ever visible.
 */
export interface Store {
  readonly kind: string
  /** Where the store lives, for messages (a path or a URL without credentials). */
  readonly location: string

  createRun(run: NewRun): Promise<void>
  /**
   * Params, tags and metric chunks of one run in one transaction; also refreshes the heartbeat.
   * A batch with a `batchId` already applied to this store is skipped: a retried upload (the
   * remote SDK's spool) is stored once.
   */
  logBatch(runId: string, batch: RunBatch): Promise<void>
  logEval(runId: string, dataset: string, datasetSha256: string, chunk: EvalChunk, batchId?: string): Promise<void>
  setRunStatus(runId: string, status: Exclude<RunStatus, 'running'>, endTime: number): Promise<void>
  heartbeat(runId: string, at: number): Promise<void>
  /** Mark running runs whose heartbeat is older than `staleBefore` as crashed; returns how many. */
  markCrashedRuns(staleBefore: number): Promise<number>

  /** A full run id, or a unique prefix of one (at least 6 characters). */
  resolveRunId(idOrPrefix: string): Promise<string>
  getRun(runId: string): Promise<RunRecord>
  listRuns(query: { experiment?: string }): Promise<RunSummary[]>
  listExperiments(): Promise<ExperimentSummary[]>
  metricHistory(runId: string, key: string): Promise<MetricColumns>
  evalColumns(runId: string, dataset: string): Promise<EvalColumns>

  putArtifact(runId: string, name: string, content: ArtifactContent, direction: ArtifactDirection): Promise<ArtifactRef>
  /** Bytes of an artifact, verified against its sha256 before they are returned. */
  readArtifact(runId: string, name: string): Promise<Buffer>
  /** Every produced and consumed edge of the content with this sha256. */
  artifactLineage(sha256: string): Promise<ArtifactRef[]>

  /** Append one entry to the holdout ledger (append-only). */
  recordHoldoutRead(read: HoldoutRead): Promise<void>
  /** Every ledger entry for one dataset version, oldest first. */
  holdoutReads(datasetSha256: string): Promise<HoldoutRead[]>

  createApiToken(token: ApiToken, secretSha256: string): Promise<void>
  /** The token whose secret hashes to this value, revoked or not; null when none. */
  findApiToken(secretSha256: string): Promise<ApiToken | null>
  listApiTokens(): Promise<ApiToken[]>
  revokeApiToken(id: string, at: number): Promise<void>

  close(): Promise<void>
}

export interface NewRun {
  id: string
  experiment: string
  name: string
  owner: string
  startTime: number
  parentId: string | null
  groupId: string | null
  params: Params
  seed: number
  seedSource: 'user' | 'drawn'
  tags: Record<string, string>
  environment: Environment
  code: CodeVersion
  datasets: DatasetVersion[]
}

export interface RunBatch {
  /** Idempotency key: a batch with an id the store has seen is not applied again. */
  batchId?: string
  params?: Params
  tags?: Record<string, string>
  metrics?: MetricSeries[]
}

export interface MetricSeries extends MetricColumns {
  key: string
}

export type ArtifactContent = { bytes: Uint8Array } | { path: string } | { sha256: string }
