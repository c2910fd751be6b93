/**
 * The run record r = (λ params, s seed, e environment, D_v datasets, c code, m metrics, A_r artifacts)
 * and the values that travel between the SDK, the store contract and the CLI.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }
export type Params = Record<string, JsonValue>

export type RunStatus = 'running' | 'finished' | 'failed' | 'killed' | 'crashed'
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'finished', 'failed', 'killed', 'crashed']

export type DatasetRole = 'train' | 'validation' | 'test' | 'holdout' | 'other'
export const DATASET_ROLES: readonly DatasetRole[] = ['train', 'validation', 'test', 'holdout', 'other']

/** e: where the run executed. Captured automatically at startRun. */
export interface Environment {
  runtime: string
  runtimeVersion: string
  os: string
  osRelease: string
  arch: string
  cpuModel: string
  cpuCount: number
  memoryBytes: number
  gpu: string[] | null
  hostname: string
  argv: string[]
  /**
   * Node's own options (process.execArgv), e.g. ['--import', 'tsx'] for `node --import tsx train.ts`.
   * Not fingerprinted. Absent in records made before it was recorded.
   */
  execArgv?: string[]
  cwd: string
  /** sha256 of the calling project's lockfile, with which file it was. */
  lockfile: { path: string; sha256: string } | null
  /** Direct dependencies of the calling project and the versions actually installed. */
  dependencies: Record<string, string>
  /** Environment variables on the allowlist only; names that look like secrets are never kept. */
  envVars: Record<string, string>
}

/** c: the code version. */
export interface CodeVersion {
  vcs: 'git' | null
  /** Why there is no code version, when vcs is null. */
  reason?: string
  commit?: string
  branch?: string | null
  remote?: string | null
  dirty?: boolean
  /** sha256 of the diff from HEAD to the working tree (binary, untracked files included), when dirty. */
  diffSha256?: string | null
  /** The artifact holding that diff, so a dirty run can be replayed. */
  diffArtifact?: string | null
  /** Names of untracked (not ignored) files. */
  untracked?: string[]
  /**
   * True when the diff holds the untracked files' content too (runs recorded since it does);
   * absent in older records, whose untracked files replay lists as not reproducible.
   */
  untrackedInDiff?: boolean
  root?: string
}

/** One dataset version in D_v, named by its content hash. */
export interface DatasetVersion {
  name: string
  role: DatasetRole
  /**
   * sha256 of the file, or of the manifest of a directory's files; of a reference, the sha256 of
   * its source text (a digest its logger computed, docs/run-record.md).
   */
  sha256: string
  /** A reference is a dataset assay did not read: one logged through the MLflow API (docs/mlflow.md). */
  kind: 'file' | 'directory' | 'reference'
  sizeBytes: number
  fileCount: number
  rows: number | null
  columns: string[] | null
  source: string
}

/** Fingerprints of the envelope E(r) = {D_v, c, e, s, H}. */
export interface Envelope {
  datasets: string
  code: string
  environment: string
  seed: string
  hardware: string
  hardwareClass: string
  /** Hash of (λ, c, D_v, e) without s: replicate runs that differ only by seed share it. */
  config: string
}

export interface MetricPoint {
  key: string
  value: number
  step: number
  timestamp: number
}

export interface MetricSummary {
  key: string
  /** Value at the highest step (the last logged among equal steps). */
  last: number
  lastStep: number
  /** Min and max over finite values; null when there are none. */
  min: number | null
  max: number | null
  count: number
}

export interface EvalRecord {
  id: string
  cluster?: string
  scores: Record<string, number>
  latencyMs?: number
  tokens?: number
  cost?: number
  outputHash?: string
}

/** Eval records of one (run, dataset) in columns: what statistics read. */
export interface EvalColumns {
  dataset: string
  datasetSha256: string
  ids: string[]
  clusters: (string | null)[] | null
  scores: Record<string, Float64Array>
  latencyMs: Float64Array | null
  tokens: Float64Array | null
  cost: Float64Array | null
  outputHashes: (string | null)[] | null
  /**
   * Positions where a record had no value for a column ('score:<name>', 'latencyMs', 'tokens',
   * 'cost'); those positions hold NaN in the arrays. A NaN that was logged is not listed here.
   */
  missing: Record<string, number[]>
}

export interface EvalSetSummary {
  dataset: string
  datasetSha256: string
  count: number
  scoreNames: string[]
}

export type ArtifactDirection = 'produced' | 'consumed'

export interface ArtifactRef {
  runId: string
  name: string
  sha256: string
  sizeBytes: number
  direction: ArtifactDirection
  createdAt: number
}

export interface RunRecord {
  id: string
  experiment: string
  name: string
  owner: string
  status: RunStatus
  startTime: number
  endTime: number | null
  heartbeatAt: number
  parentId: string | null
  groupId: string | null
  params: Params
  seed: number
  seedSource: 'user' | 'drawn'
  tags: Record<string, string>
  environment: Environment
  code: CodeVersion
  datasets: DatasetVersion[]
  metrics: MetricSummary[]
  evals: EvalSetSummary[]
  artifacts: ArtifactRef[]
  envelope: Envelope
}

/** What a listing shows of a run: enough to filter on without loading series. */
export type RunSummary = Pick<
  RunRecord,
  'id' | 'experiment' | 'name' | 'owner' | 'status' | 'startTime' | 'endTime' | 'params' | 'seed' | 'tags' | 'parentId' | 'groupId'
> & { metrics: Record<string, number>; configFingerprint: string }

export interface ExperimentSummary {
  name: string
  createdAt: number
  runCount: number
  lastRunAt: number | null
}

/** One comparison that read a holdout or test dataset: counted against that dataset version. */
export interface HoldoutRead {
  /** Idempotency key (a UUID made by the writer): an entry with an id already stored is not added again. */
  id?: string
  datasetSha256: string
  datasetName: string
  runIds: string[]
  /** What read it, e.g. "compare accuracy" or "leaderboard". */
  purpose: string
  actor: string
  at: number
}

export type TokenScope = 'read' | 'write' | 'admin'

/** An API token of the team server. The secret itself is never stored, only its sha256. */
export interface ApiToken {
  id: string
  name: string
  scope: TokenScope
  /** Experiments the token may touch; null means all. */
  experiments: string[] | null
  createdAt: number
  createdBy: string
  revokedAt: number | null
  /** When the token stops being accepted (ms since the epoch); null: never. */
  expiresAt: number | null
}

/** A registered model (docs/registry.md). Every model has an owner. */
export interface RegisteredModel {
  name: string
  owner: string
  description: string
  tags: Record<string, string>
  createdAt: number
  createdBy: string
}

/** A version of a registered model, made from one run (and, usually, one of its artifacts). */
export interface ModelVersion {
  model: string
  /** 1, 2, 3 … per model, assigned by the store. */
  version: number
  runId: string
  /** The artifact of the run the version is; its sha256 is the lineage edge version → run. */
  artifact: { name: string; sha256: string } | null
  description: string
  tags: Record<string, string>
  createdAt: number
  createdBy: string
}

/** What an alias event did: set by hand, promoted through a gate, or rolled back. */
export type AliasEventKind = 'set' | 'promote' | 'rollback'

/** One move of an alias (append-only); the current holder is the version of the latest event. */
export interface AliasEvent {
  /** Store-wide order of alias events, assigned by the store. */
  seq: number
  model: string
  alias: string
  kind: AliasEventKind
  /** The version the alias points at after this event; null when the alias was removed. */
  version: number | null
  /** The version it pointed at before (null when none). */
  previousVersion: number | null
  actor: string
  at: number
  reason: string
  /** Sequence number of the audit record written with this event. */
  auditSeq: number | null
}

export type AuditKind = 'gate-check' | 'promotion' | 'rollback' | 'alias-set' | 'gate-policy' | 'monitor-decision' | 'canary-decision' | 'promotion-refused'

/**
 * One version of the gate a model's alias is promoted through (docs/gates.md): set by an admin,
 * versioned per model and alias (append-only), each version with its audit record.
 */
export interface GatePolicy {
  model: string
  alias: string
  /** 1, 2, … per model and alias. */
  version: number
  /** The gate's name (its `gate:` field). */
  gate: string
  /** The gate file's text, exactly as registered: promotion parses it. */
  text: string
  /** sha256 of `text`: the evidence of every promotion names it. */
  sha256: string
  /** The file it was registered from (for messages). */
  source: string
  actor: string
  at: number
  reason: string
  /** Sequence number of the audit record written with this version. */
  auditSeq: number
}

/**
 * One record of the append-only audit log. hash = sha256(canonical JSON of
 * { seq, at, kind, actor, subject, body } + prevHash); the first record's prevHash is 64 zeros.
 */
export interface AuditRecord {
  seq: number
  at: number
  kind: AuditKind
  actor: string
  /** What the record is about, e.g. "sentiment@champion" or a gate name. */
  subject: string
  body: { [key: string]: JsonValue }
  prevHash: string
  hash: string
}
