import type { Readable } from 'node:stream'
import type {
  AliasEvent,
  ApiToken,
  AuditRecord,
  GatePolicy,
  ModelVersion,
  RegisteredModel,
  ArtifactDirection,
  ArtifactRef,
  DatasetVersion,
  EvalColumns,
  EvalRecord,
  ExperimentSummary,
  HoldoutRead,
  Params,
  RunRecord,
  RunStatus,
  RunSummary,
} from '../record/types.js'
import type { EvalChunk, MetricColumns, MetricStepsValues } from './chunk-codec.js'
import type { Deployment, Feedback, NewDeployment, Trace, TraceInput, TraceSummary } from '../record/production.js'
import type { TraceRow } from '../record/trace-row.js'
import type { TraceColumnNeeds, TraceColumns } from '../record/trace-columns.js'

/**
 * The store contract. Every backend (sqlite/ and postgres/ through the core in sql-store.ts, and
 * the HTTP client) implements exactly this; shared code never branches on which one it holds:
 * where backends differ in what they can do, they say so in `capabilities`. Inputs arrive validated by
 * the SDK, but each backend re-checks what only it can check (a run's state, a param conflict)
 * inside the same transaction as the write, so nothing half-written is ever visible.
 */
export interface Store {
  /** A name of the backend, for messages and /health only: code branches on `capabilities`. */
  readonly kind: string
  /** Where the store lives, for messages (a path or a URL without credentials). */
  readonly location: string
  readonly capabilities: StoreCapabilities

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
  /** Every run (of one experiment, passing a filter, in an order): the pages of listRunsPage, read one after another. */
  listRuns(query?: RunQuery): Promise<RunSummary[]>
  /**
   * One page of runs: at most `limit` runs after `cursor` (the previous page's nextCursor), in
   * `orderBy` (default oldest first: start time, then id), those passing `filter` (the grammar
   * of docs/cli.md, applied by the database). Params, tags and last metric values are read for
   * the page's runs only. `nextCursor` is null on the last page; a cursor belongs to one order.
   * A filter that does not parse, or names a key no run of the listing has, is ASSAY_INVALID_FILTER.
   */
  listRunsPage(query: RunPageQuery): Promise<RunPage>
  /**
   * One page of the runs of a listing (experiment, experiments, filter as listRunsPage) grouped by
   * config fingerprint or by param values, in key order (code points) after `after`: per group N,
   * its first `runsListed` runs (oldest first) and, per metric, the sufficient statistics of the
   * runs' finite last values (NaN and ±Infinity only counted). The SQL backends group in the database.
   */
  groupRunsPage(query: RunGroupPageQuery): Promise<RunGroupPage>
  /** Every experiment, by name: the pages of listExperimentsPage, read one after another. */
  listExperiments(): Promise<ExperimentSummary[]>
  /** One page of experiments by name: at most `limit` after `cursor` (the previous page's nextCursor). */
  listExperimentsPage(query: ExperimentPageQuery): Promise<ExperimentPage>
  metricHistory(runId: string, key: string): Promise<MetricColumns>
  /**
   * A metric's steps and values in logged order, without the timestamps: what a chart's buckets
   * are cut from. The SQL backends read the first two thirds of each stored chunk only.
   */
  metricStepsValues(runId: string, key: string): Promise<MetricStepsValues>
  evalColumns(runId: string, dataset: string): Promise<EvalColumns>

  putArtifact(runId: string, name: string, content: ArtifactContent, direction: ArtifactDirection): Promise<ArtifactRef>
  /**
   * An artifact's bytes as a stream (produced before consumed), hashed as they pass: bytes that
   * do not hash to the recorded sha256 end the stream with ASSAY_ARTIFACT_CORRUPT, so a reader
   * that consumed it whole has the recorded bytes. Missing bytes, or a stored size that is not the
   * recorded one, are ASSAY_ARTIFACT_CORRUPT before any byte. No backend holds the whole artifact
   * in memory (artifactBytes does, for callers that want one Buffer).
   */
  readArtifact(runId: string, name: string): Promise<ArtifactReadStream>
  /** Every produced and consumed edge of the content with this sha256: the pages of artifactLineagePage. */
  artifactLineage(sha256: string): Promise<ArtifactRef[]>
  /** One page of the content's edges, by time, run id, name and direction (only runs of `experiments` when given). */
  artifactLineagePage(query: LineagePageQuery): Promise<LineagePage>
  /** One page of the runs that logged this dataset version among their datasets, by run start time (then run and dataset name). */
  datasetRunsPage(query: DatasetRunsPageQuery): Promise<DatasetRunsPage>
  /**
   * Up to `limit` distinct artifact sha256s starting with `prefix` (lower-case hex), in order; with
   * `experiments`, only content a run of one of them has (over http: only content the token may read).
   */
  artifactSha256sWithPrefix(prefix: string, limit: number, experiments?: readonly string[]): Promise<string[]>

  /** Append one entry to the holdout ledger (append-only). */
  recordHoldoutRead(read: HoldoutRead): Promise<void>
  /** Every ledger entry for one dataset version, oldest first: the pages of holdoutReadsPage. */
  holdoutReads(datasetSha256: string): Promise<HoldoutRead[]>
  /**
   * One page of the ledger of one dataset version, oldest first. With `experiments`, only entries
   * that name runs, every one in one of them (an entry naming no run is for callers of every
   * experiment); the page is still full (entries left out do not count).
   */
  holdoutReadsPage(query: HoldoutReadPageQuery): Promise<HoldoutReadPage>

  createApiToken(token: ApiToken, secretSha256: string): Promise<void>
  /** The token whose secret hashes to this value, revoked or not; null when none. */
  findApiToken(secretSha256: string): Promise<ApiToken | null>
  /** Every API token: the pages of listApiTokensPage. */
  listApiTokens(): Promise<ApiToken[]>
  /** One page of API tokens, oldest first (creation time, then id). */
  listApiTokensPage(query: PageQuery): Promise<ApiTokenPage>
  revokeApiToken(id: string, at: number): Promise<void>

  // Model registry and audit log (docs/registry.md, docs/gates.md). Alias events and audit
  // records are append-only; the current holder of an alias is its latest event's version.
  /** Throws ASSAY_MODEL_EXISTS when the name is taken. */
  createModel(model: RegisteredModel): Promise<void>
  /** Throws ASSAY_MODEL_NOT_FOUND. */
  getModel(name: string): Promise<RegisteredModel>
  /** Every registered model, by name: the pages of listModelsPage. */
  listModels(): Promise<RegisteredModel[]>
  /** One page of registered models by name: at most `limit` after `cursor`. */
  listModelsPage(query: PageQuery): Promise<ModelPage>
  /** Append a version numbered one above the model's highest (in one transaction); the run must exist. */
  addModelVersion(version: NewModelVersion): Promise<ModelVersion>
  /** Versions of a model, oldest first: the pages of listModelVersionsPage. Throws ASSAY_MODEL_NOT_FOUND. */
  listModelVersions(model: string): Promise<ModelVersion[]>
  /** One page of a model's versions, oldest first. Throws ASSAY_MODEL_NOT_FOUND. */
  listModelVersionsPage(query: ModelVersionPageQuery): Promise<ModelVersionPage>
  /** Alias events of a model (one alias, or all), oldest first: the pages of aliasEventsPage. */
  aliasEvents(model: string, alias?: string): Promise<AliasEvent[]>
  /** One page of a model's alias events (one alias, or all), oldest first (by seq). */
  aliasEventsPage(query: AliasEventPageQuery): Promise<AliasEventPage>
  /**
   * Append one audit record. It must chain onto the last one (seq = last + 1, prevHash = last
   * hash), checked in the same transaction; otherwise ASSAY_AUDIT_CONFLICT and nothing is written.
   */
  appendAudit(record: AuditRecord): Promise<void>
  /**
   * Move an alias: append the alias event AND its audit record in one transaction, or neither.
   * Throws ASSAY_AUDIT_CONFLICT when the audit log's head or the alias's holder is no longer the
   * one the caller read (event.previousVersion), ASSAY_MODEL_NOT_FOUND for an unknown model or version.
   */
  moveAlias(record: AuditRecord, event: NewAliasEvent): Promise<AliasEvent>
  /**
   * Register a version of the gate a model's alias is promoted through, and its audit record, in
   * one transaction or neither. `policy.version` must be the next one (the latest + 1), else
   * ASSAY_AUDIT_CONFLICT (another admin set it since it was read); ASSAY_MODEL_NOT_FOUND for an
   * unknown model. Over HTTP this needs an admin token.
   */
  setGatePolicy(record: AuditRecord, policy: NewGatePolicy): Promise<GatePolicy>
  /** Every version of the gate policies (of one model, and one alias), by model, alias and version. */
  gatePolicies(query?: { model?: string; alias?: string }): Promise<GatePolicy[]>
  /** One page of gate policy versions by model, alias and version (with `current`, each alias's latest version only). */
  gatePoliciesPage(query: GatePolicyPageQuery): Promise<GatePolicyPage>
  /** The whole audit log in sequence order: the pages of auditRecordsPage. */
  auditRecords(): Promise<AuditRecord[]>
  /** One page of the audit log in sequence order. */
  auditRecordsPage(query: PageQuery): Promise<AuditPage>
  /** The record with the highest sequence number; null when the log is empty. */
  lastAuditRecord(): Promise<AuditRecord | null>
  /**
   * The head anchor (seq and hash of the last record appended, written in the same transaction as
   * each append) that verify compares with the log to detect a removed tail; null when nothing was
   * ever appended. Optional: a backend without it is verified without the anchor.
   */
  auditHead?(): Promise<{ seq: number; hash: string } | null>

  // Production (docs/production.md): deployments, their traces, and feedback on traces.
  /**
   * Store a deployment. A model is checked, an alias resolved to its holder (both recorded), the
   * experiment of the version's run recorded for token scoping, and missing audit fields flagged
   * (`unauditable`): the deployment is stored either way. A deployment with an id already stored
   * is returned as stored (a replayed write); ASSAY_MODEL_NOT_FOUND, ASSAY_ALIAS_NOT_FOUND.
   */
  createDeployment(deployment: NewDeployment): Promise<Deployment>
  /** Throws ASSAY_DEPLOYMENT_NOT_FOUND. */
  getDeployment(id: string): Promise<Deployment>
  /** Deployments oldest first (created time, then id), of one endpoint or fed by one dataset version. */
  listDeploymentsPage(query: DeploymentPageQuery): Promise<DeploymentPage>
  /**
   * Traces (whole, or some spans of each) in one transaction. Spans already stored with the same
   * content are skipped, so a retried call is stored once; new spans of a stored trace join it and
   * its fields are extracted again. A trace naming an unknown deployment (ASSAY_UNKNOWN_DEPLOYMENT),
   * another deployment than the stored one, or a stored span id with other content
   * (ASSAY_TRACE_CONFLICT) is rejected whole and the others are stored: the result lists both.
   */
  logTraces(traces: readonly TraceInput[]): Promise<LogTracesResult>
  /** Trace summaries (no spans) by start time, then id; ASSAY_DEPLOYMENT_NOT_FOUND for an unknown deployment. */
  tracesPage(query: TracePageQuery): Promise<TracePage>
  /** A trace with its spans (by start time) and feedback (by time); ASSAY_TRACE_NOT_FOUND. */
  getTrace(traceId: string): Promise<Trace>
  /** Attach feedback to a stored trace (ASSAY_TRACE_NOT_FOUND); feedback with a stored id is not added again. */
  addFeedback(feedback: Feedback): Promise<void>
  /** The page of tracesPage as eval records (record/production.ts traceEvalRecord), feedback included. */
  traceEvalRecordsPage(query: TracePageQuery): Promise<TraceEvalRecordPage>
  /**
   * One page of a deployment's traces in [from, to) as monitor rows (record/production.ts
   * TraceRowBuilder): only the columns the monitor reads, the latest feedback of each name joined,
   * the deployment's model version on each row; by start time, then id. Pages hold up to
   * TRACE_ROW_PAGE_SIZE.max rows, so a window of any size is read in bounded memory per page.
   * ASSAY_DEPLOYMENT_NOT_FOUND.
   */
  traceRowsPage(query: TraceRowPageQuery): Promise<TraceRowPage>
  /**
   * A deployment's whole window [from, to) column-wise (record/trace-columns.ts): the values of
   * traceRowsPage's rows, but only the columns `needs` names beyond time, latency, tokens and cost,
   * read in pages of TRACE_COLUMN_PAGE_SIZE traces straight into typed arrays; by start time,
   * then id. ASSAY_DEPLOYMENT_NOT_FOUND.
   */
  traceColumns(query: TraceColumnsQuery): Promise<TraceColumns>

  close(): Promise<void>
}

export interface DeploymentPageQuery extends PageQuery {
  endpoint?: string
  /** Only deployments fed by this dataset version (sha256). */
  input?: string
  /** Only deployments whose experiment is one of these (a token limited to some); absent: all. */
  experiments?: readonly string[]
}

export interface DeploymentPage {
  deployments: Deployment[]
  nextCursor: string | null
}

export interface TracePageQuery extends PageQuery {
  deployment?: string
  /** Traces starting at or after this time (ms). */
  from?: number
  /** Traces starting before this time (ms). */
  to?: number
  /** The trace filter (store/trace-filter.ts, docs/production.md); ASSAY_INVALID_FILTER when it does not parse. */
  filter?: string
}

export interface TracePage {
  traces: TraceSummary[]
  nextCursor: string | null
}

/** Pages of monitor rows are larger than listings' pages: a monitor window reads every trace of it. */
export const TRACE_ROW_PAGE_SIZE = { default: 5000, max: 10_000 } as const

export interface TraceRowPageQuery {
  deployment: string
  /** Traces starting at or after this time (ms). */
  from: number
  /** Traces starting before this time (ms). */
  to: number
  /** 1 to TRACE_ROW_PAGE_SIZE.max (default TRACE_ROW_PAGE_SIZE.default). */
  limit?: number
  cursor?: string
}

/** Traces per query of Store.traceColumns: few round trips, and a page's row objects stay small next to the columns. */
export const TRACE_COLUMN_PAGE_SIZE = 50_000

export interface TraceColumnsQuery {
  deployment: string
  /** Traces starting at or after this time (ms). */
  from: number
  /** Traces starting before this time (ms). */
  to: number
  needs: TraceColumnNeeds
  /** Traces per query (default TRACE_COLUMN_PAGE_SIZE); small pages exercise the keyset in tests. */
  pageSize?: number
}

export interface TraceRowPage {
  rows: TraceRow[]
  nextCursor: string | null
}

export interface TraceEvalRecordPage {
  records: EvalRecord[]
  nextCursor: string | null
}

export interface LogTracesResult {
  /** Traces stored or extended by this call. */
  stored: string[]
  /** Traces whose every span was already stored with the same content. */
  unchanged: string[]
  /** Traces refused whole, with the catalogue code and message. */
  rejected: { traceId: string; spans: number; code: string; message: string }[]
}

/** What a backend can do, so that callers need not know which backend they hold. */
export interface StoreCapabilities {
  /** The largest artifact the store keeps and hands back (Store.readArtifact returns one Buffer). */
  readonly maxArtifactBytes: number
  /** The store's own directory on this machine (code capture leaves it out); null when it has none. */
  readonly localDirectory: string | null
  /**
   * Writes the store could not deliver and keeps to upload later (`assay sync`); null for a store
   * that writes straight to its database.
   */
  readonly spool: SpooledWrites | null
  /**
   * The assay server a remote store writes through: registry decisions (promotion, rollback,
   * recorded gate checks) are made there, not by the client. null for a store the SDK writes itself.
   */
  readonly server: RemoteServer | null
}

export interface RemoteServer {
  readonly url: string
  /** A JSON request to one of the server's routes (store/http/routes.ts), once every spooled write has reached it. */
  call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>
}

/** Writes spooled on this machine while a server was unreachable (store/http/spool.ts). */
export interface SpooledWrites {
  /** The folder they are kept in. */
  readonly dir: string
  /** Upload this process's spool and those of processes that have exited. */
  sync(): Promise<{ replayed: number; rejected: number; remaining: number; liveFiles: number }>
}

/** Which runs a listing holds, and in which order. */
export interface RunQuery {
  experiment?: string
  /** The run filter grammar (docs/cli.md), e.g. "params.lr > 0.01 and metrics.acc >= 0.8". */
  filter?: string
  /** start_time, end_time, name, params.KEY or metrics.KEY, then asc (default) or desc. */
  orderBy?: string
}

export interface RunPageQuery extends RunQuery {
  /** Only runs of these experiments (a token limited to some); absent: all. */
  experiments?: readonly string[]
  /** 1 to MAX_PAGE_SIZE. */
  limit: number
  cursor?: string
}

export interface RunPage {
  runs: RunSummary[]
  nextCursor: string | null
}

/** Runs grouped by their config fingerprint, or by the values of params (a run lacking one is its own value). */
export type RunGrouping = { by: 'config' } | { by: 'params'; keys: readonly string[] }

export interface RunGroupPageQuery {
  experiment?: string
  /** Only runs of these experiments (a token limited to some); absent: all. */
  experiments?: readonly string[]
  filter?: string
  grouping: RunGrouping
  /** Metric keys whose last values are summarised per group. */
  metrics: readonly string[]
  /** Groups per page: 1 to PAGE_SIZE.max. */
  limit: number
  /** The last key of the previous page. */
  after?: string
  /** Runs listed per group (oldest first). */
  runsListed: number
}

/**
 * A group's key: the config fingerprint, or the JSON array holding per grouping param [value]
 * (its canonical JSON) or [] (the run lacks it), so a missing param never equals a null one.
 */
export interface StoredRunGroup {
  key: string
  n: number
  runs: { id: string; seed: number; name: string }[]
  /** Per metric of the query: the finite last values' count, mean, sample variance (null below 2), min and max, and how many runs had a NaN or infinite last value. */
  metrics: { n: number; mean: number | null; variance: number | null; min: number | null; max: number | null; nonFinite: number }[]
}

export interface RunGroupPage {
  /** Runs of the listing (every group, not only this page's). */
  runsGrouped: number
  groupCount: number
  groups: StoredRunGroup[]
  /** Whether groups follow this page. */
  more: boolean
}

/** One page of a listing: 1 to PAGE_SIZE.max items after `cursor` (the previous page's nextCursor). */
export interface PageQuery {
  limit: number
  cursor?: string
}

export interface ExperimentPageQuery extends PageQuery {
  /** Only these experiments (a token limited to some); absent: all. */
  experiments?: readonly string[]
}

export interface ExperimentPage {
  experiments: ExperimentSummary[]
  nextCursor: string | null
}

export interface ModelPage {
  models: RegisteredModel[]
  nextCursor: string | null
}

export interface ModelVersionPageQuery extends PageQuery {
  model: string
}

export interface ModelVersionPage {
  versions: ModelVersion[]
  nextCursor: string | null
}

export interface AliasEventPageQuery extends PageQuery {
  model: string
  alias?: string
}

export interface AliasEventPage {
  events: AliasEvent[]
  nextCursor: string | null
}

export interface GatePolicyPageQuery extends PageQuery {
  model?: string
  alias?: string
  /** Only the current (latest) version of each model alias's policy. */
  current?: boolean
}

export interface GatePolicyPage {
  policies: GatePolicy[]
  nextCursor: string | null
}

export interface AuditPage {
  records: AuditRecord[]
  nextCursor: string | null
}

export interface ApiTokenPage {
  tokens: ApiToken[]
  nextCursor: string | null
}

export interface LineagePageQuery extends PageQuery {
  sha256: string
  /** Only edges of runs of these experiments (a token limited to some); absent: all. */
  experiments?: readonly string[]
}

export interface LineagePage {
  edges: ArtifactRef[]
  nextCursor: string | null
}

export interface DatasetRunsPageQuery extends PageQuery {
  sha256: string
  /** Only runs of these experiments (a token limited to some); absent: all. */
  experiments?: readonly string[]
}

/** A run that logged a dataset version, under the name and role it gave it. */
export interface DatasetUse {
  runId: string
  runName: string
  experiment: string
  startTime: number
  dataset: string
  role: string
}

export interface DatasetRunsPage {
  uses: DatasetUse[]
  nextCursor: string | null
}

export interface HoldoutReadPageQuery extends PageQuery {
  datasetSha256: string
  /** Only entries whose every run is in one of these experiments (a token limited to some); absent: all. */
  experiments?: readonly string[]
}

export interface HoldoutReadPage {
  reads: HoldoutRead[]
  nextCursor: string | null
}

/** Page sizes of every listing (docs/server.md): the default, and the most one page may hold. */
export const PAGE_SIZE = { default: 100, max: 1000 } as const

export type NewModelVersion = Omit<ModelVersion, 'version'>
export type NewAliasEvent = Omit<AliasEvent, 'seq' | 'auditSeq'>
export type NewGatePolicy = Omit<GatePolicy, 'auditSeq'>

/** What a run is created with: its record before any metric, eval set or artifact exists. */
export type NewRun = Pick<
  RunRecord,
  'id' | 'experiment' | 'name' | 'owner' | 'startTime' | 'parentId' | 'groupId' | 'params' | 'seed' | 'seedSource' | 'tags' | 'environment' | 'code' | 'datasets'
>

export interface RunBatch {
  /** Idempotency key: a batch with an id the store has seen is not applied again. */
  batchId?: string
  params?: Params
  tags?: Record<string, string>
  metrics?: MetricSeries[]
  /**
   * Datasets added to a running run: a name the run records with the same sha256 is no change,
   * with another sha256 ASSAY_DATASET_CONFLICT. The config fingerprint is recomputed over them.
   */
  datasets?: DatasetVersion[]
}

export interface MetricSeries extends MetricColumns {
  key: string
}

export interface ArtifactReadStream {
  /** The sha256 the run's record holds for the artifact. */
  sha256: string
  sizeBytes: number
  stream: Readable
}

export type ArtifactContent = { bytes: Uint8Array } | { path: string } | { sha256: string }
