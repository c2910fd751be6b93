import { z } from 'zod'
import { INT4_MAX, MAX_CURSOR_LENGTH } from '../store/pages.js'
import { PAGE_SIZE, TRACE_ROW_PAGE_SIZE } from '../store/store.js'

/**
 * The request schemas of `assay server`: the single source for validating requests and for the
 * OpenAPI document at /openapi.json (both read the route table in routes/). Numbers that may be
 * NaN or ±Infinity travel in JSON as the strings "NaN", "Infinity", "-Infinity"; the binary
 * forms (application/octet-stream) carry them as float64 bytes.
 */

const MAX_KEY = 250
/** A model or gate policy version: PostgreSQL keeps it in an integer (int4) column. */
const Version = z.number().int().positive().max(INT4_MAX)
// C0 controls, DEL and C1 controls: matching them is the point.
// eslint-disable-next-line no-control-regex
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f]*$/
/**
 * Text without a NUL: no stored id, key or name holds one and PostgreSQL text cannot, so a path
 * or query parameter with one is a 400 before any read (the store core refuses it too).
 */
const noNul = (text: z.ZodString) => text.refine((value) => !value.includes('\u0000'), 'a NUL character is not allowed here')

const RUN_ID_MAX = 300
export const RunIdParam = z.object({ runId: noNul(z.string().min(1).max(RUN_ID_MAX)) })

/**
 * RunIdParam's parse without zod for a valid run id (every request of the run routes: batches,
 * heartbeats); undefined for anything RunIdParam would refuse, so that the schema words the error.
 */
export function plainRunIdParam(params: unknown): { runId: string } | undefined {
  const runId = (params as { runId?: unknown } | undefined)?.runId
  if (typeof runId !== 'string' || runId.length < 1 || runId.length > RUN_ID_MAX || runId.includes('\u0000')) return undefined
  return { runId }
}
export const Sha256Param = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 is 64 lowercase hex characters') })
export const TokenIdParam = z.object({ id: noNul(z.string().min(1).max(300)) })

export const Name = z.string().min(1).max(MAX_KEY)
/** A name in a path or query parameter (a model, alias, experiment, endpoint, dataset, key): no stored name holds a control character. */
const NameParam = Name.regex(NO_CONTROL_CHARACTERS, 'a name holds no control characters')
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 is 64 lowercase hex characters')
const Time = z.number().finite()
const Params = z.record(z.string(), z.unknown())
const Tags = z.record(z.string(), z.string())
export const FloatJson = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])])
const BATCH_ID_MAX = 200
export const BatchId = noNul(z.string().min(1).max(BATCH_ID_MAX))

export const EnvironmentSchema = z.looseObject({
  runtime: z.string(),
  runtimeVersion: z.string(),
  os: z.string(),
  osRelease: z.string(),
  arch: z.string(),
  cpuModel: z.string(),
  cpuCount: z.number(),
  memoryBytes: z.number(),
  gpu: z.array(z.string()).nullable(),
  hostname: z.string(),
  argv: z.array(z.string()),
  cwd: z.string(),
  lockfile: z.object({ path: z.string(), sha256: z.string() }).nullable(),
  dependencies: z.record(z.string(), z.string()),
  envVars: z.record(z.string(), z.string()),
})

export const CodeVersionSchema = z.looseObject({
  vcs: z.enum(['git']).nullable(),
  reason: z.string().optional(),
  commit: z.string().optional(),
  branch: z.string().nullable().optional(),
  remote: z.string().nullable().optional(),
  dirty: z.boolean().optional(),
  diffSha256: z.string().nullable().optional(),
  diffArtifact: z.string().nullable().optional(),
  untracked: z.array(z.string()).optional(),
  root: z.string().optional(),
})

export const DatasetVersionSchema = z.object({
  name: Name,
  role: z.enum(['train', 'validation', 'test', 'holdout', 'other']),
  sha256: Sha256,
  kind: z.enum(['file', 'directory', 'reference']),
  sizeBytes: z.number().nonnegative(),
  fileCount: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative().nullable(),
  columns: z.array(z.string()).nullable(),
  source: z.string(),
})

export const NewRunSchema = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{32}$/, 'a run id is 32 lowercase hex characters'),
  experiment: Name,
  name: Name,
  owner: Name,
  startTime: Time,
  parentId: z.string().min(1).max(MAX_KEY).nullable(),
  groupId: z.string().min(1).max(MAX_KEY).nullable(),
  params: Params,
  seed: z.number().int().min(0).max(2 ** 53),
  seedSource: z.enum(['user', 'drawn']),
  tags: Tags,
  environment: EnvironmentSchema,
  code: CodeVersionSchema,
  datasets: z.array(DatasetVersionSchema).max(1000),
})

export const MetricSeriesJson = z.strictObject({
  key: Name,
  steps: z.array(FloatJson),
  values: z.array(FloatJson),
  timestamps: z.array(FloatJson),
})

/** POST /api/v1/runs/:runId/batch as JSON. */
export const JsonBatchSchema = z.strictObject({
  batchId: BatchId.optional(),
  params: Params.optional(),
  tags: Tags.optional(),
  datasets: z.array(DatasetVersionSchema).max(1000).optional(),
  metrics: z.array(MetricSeriesJson).optional(),
})

/** The JSON header of a binary batch (docs/server.md). */
export const BatchHeaderSchema = z.strictObject({
  batchId: BatchId.optional(),
  params: Params.optional(),
  tags: Tags.optional(),
  datasets: z.array(DatasetVersionSchema).max(1000).optional(),
  metrics: z.array(z.strictObject({ key: Name, count: z.number().int().nonnegative() })),
})

/**
 * The header of a binary batch in the shape the SDK sends on every step (a batchId and each
 * series' key and count, nothing else), checked by BatchHeaderSchema's rules for that shape
 * without zod, whose parse was a visible part of each batch's CPU. Anything else (params, tags,
 * datasets, an unknown field, a wrong type or length) is undefined: the schema then checks it
 * and words the error.
 */
export function plainBatchHeader(value: unknown): z.infer<typeof BatchHeaderSchema> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const header = value as { batchId?: unknown; metrics?: unknown }
  for (const field of Object.keys(header)) if (field !== 'batchId' && field !== 'metrics') return undefined
  const { batchId, metrics } = header
  if (batchId !== undefined && !(typeof batchId === 'string' && batchId.length >= 1 && batchId.length <= BATCH_ID_MAX && !batchId.includes('\u0000'))) return undefined
  if (!Array.isArray(metrics)) return undefined
  for (const m of metrics as unknown[]) {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return undefined
    const fields = Object.keys(m)
    if (fields.length !== 2) return undefined
    const { key, count } = m as { key?: unknown; count?: unknown }
    if (typeof key !== 'string' || key.length < 1 || key.length > MAX_KEY) return undefined
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) return undefined
  }
  return header as z.infer<typeof BatchHeaderSchema>
}

export const EvalQuery = z.strictObject({ dataset: NameParam, datasetSha256: Sha256, batchId: BatchId.optional() })
export const EvalReadQuery = z.strictObject({ dataset: NameParam })
export const MetricQuery = z.strictObject({ key: NameParam })
/** Buckets of a metric series for a chart: at most 10,000 (a screen is narrower). */
export const MetricBucketsQuery = z.strictObject({ key: NameParam, buckets: z.coerce.number().int().min(1).max(10_000).default(1000) })
export const RunChartsQuery = z.strictObject({ buckets: z.coerce.number().int().min(1).max(10_000).default(300) })
/** The charts of one run answer at most this many buckets in all (metrics × buckets), so one answer's memory is bounded; the UI's 300 a metric fits the most metric keys a run may have (1,000). */
export const RUN_CHARTS_MAX_BUCKETS = 300_000
/** Two runs (ids or unique prefixes) and a metric: the comparison the web UI shows. */
export const CompareQuery = z.strictObject({
  a: z.string().regex(/^[A-Za-z0-9_-]{6,300}$/, 'a run id or a unique prefix of 6+ characters'),
  b: z.string().regex(/^[A-Za-z0-9_-]{6,300}$/, 'a run id or a unique prefix of 6+ characters'),
  metric: NameParam,
  dataset: NameParam.optional(),
  lowerIsBetter: z.enum(['true', 'false']).optional(),
  margin: z.coerce.number().positive().optional(),
})
/**
 * Two sides (a run id or prefix, RUN1,RUN2,..., config:<fingerprint prefix> or filter:<expression>)
 * and a metric: the comparison the web UI draws (GET /api/v1/compare/detail).
 */
const SideSpec = noNul(z.string().min(1).max(4200))
export const CompareDetailQuery = z.strictObject({
  a: SideSpec,
  b: SideSpec,
  metric: NameParam,
  dataset: NameParam.optional(),
  lowerIsBetter: z.enum(['true', 'false']).optional(),
  margin: z.coerce.number().positive().optional(),
})
/** assay leaderboard's options as a query (GET /api/v1/leaderboard); defaults are the CLI's. */
export const LeaderboardQuery = z.strictObject({
  dataset: noNul(z.string().min(1).max(4096)).optional(),
  experiment: NameParam.optional(),
  filter: z.string().max(4096).optional(),
  runs: noNul(z.string().min(1).max(65_536)).optional(),
  baseline: noNul(z.string().min(1).max(300)).optional(),
  metric: NameParam.optional(),
  lowerIsBetter: z.enum(['true', 'false']).optional(),
  adjust: z.enum(['holm', 'BH']).default('holm'),
  alpha: z.coerce.number().gt(0).lt(1).default(0.05),
  confidence: z.coerce.number().gt(0).lt(1).default(0.95),
  bootstrap: z.coerce.number().int().min(100).optional(),
  seed: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  mcnemar: z.enum(['exact', 'asymptotic']).default('exact'),
  systemBy: noNul(z.string().min(1).max(300)).default('run'),
  allowDifferentVersions: z.enum(['true', 'false']).optional(),
})
/** ?limit and ?cursor of every paginated listing. */
export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(PAGE_SIZE.max).optional(),
  cursor: noNul(z.string().min(1).max(MAX_CURSOR_LENGTH)).optional(),
})
/** How a listing's summary names its page parameters. */
export const PAGE_PARAMETERS = `?limit (default ${PAGE_SIZE.default}, at most ${PAGE_SIZE.max}) and ?cursor (the nextCursor of the previous page)`

/** The page a request asks for (a PageQuery it passed): ?limit (default PAGE_SIZE.default) and ?cursor. */
export function requestedPage(query: Record<string, unknown>): { limit: number; cursor: string | undefined } {
  return { limit: (query.limit as number | undefined) ?? PAGE_SIZE.default, cursor: query.cursor as string | undefined }
}
// The filter's and order's own parsers refuse what is too long, with their codes (ASSAY_INVALID_FILTER for a filter).
export const ListRunsQuery = PageQuery.extend({ experiment: NameParam.optional(), filter: z.string().max(65_536).optional(), orderBy: z.string().max(65_536).optional() })
export const ResolveQuery = z.strictObject({ id: noNul(z.string().min(1).max(300)) })
export const Sha256PrefixQuery = z.strictObject({
  prefix: z.string().regex(/^[0-9a-f]{1,64}$/, 'a sha256 prefix is 1 to 64 lowercase hex characters'),
  limit: z.coerce.number().int().min(1).max(100),
})

export const StatusSchema = z.strictObject({ status: z.enum(['finished', 'failed', 'killed', 'crashed']), endTime: Time })
export const HeartbeatSchema = z.strictObject({ at: Time })
export const MarkCrashedSchema = z.strictObject({ staleBefore: Time })

const Direction = z.enum(['produced', 'consumed'])
export const ArtifactUploadQuery = z.strictObject({ name: noNul(z.string().min(1).max(2048)), direction: Direction.default('produced') })
export const ArtifactReadQuery = z.strictObject({ name: noNul(z.string().min(1).max(2048)) })
export const ArtifactRefSchema = z.strictObject({ name: z.string().min(1).max(2048), sha256: Sha256, direction: Direction })

export const HoldoutReadSchema = z.strictObject({
  /** Idempotency key: an entry whose id is already stored is not added again (a replayed upload). */
  id: z.string().min(1).max(200).optional(),
  datasetSha256: Sha256,
  datasetName: Name,
  runIds: z.array(z.string().min(1).max(300)).max(10_000),
  purpose: z.string().max(1000),
  actor: z.string().max(MAX_KEY),
  at: Time,
})

export const TokenScopeSchema = z.enum(['read', 'write', 'admin'])
export const ApiTokenSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'a token id is 1-100 letters, digits, _ or -'),
  name: Name,
  scope: TokenScopeSchema,
  experiments: z.array(Name).min(1).nullable(),
  createdAt: Time,
  createdBy: Name,
  revokedAt: Time.nullable(),
  // Optional so that clients from before expiry still create tokens (that never expire).
  expiresAt: Time.nullable().default(null),
})
export const CreateTokenSchema = z.strictObject({ token: ApiTokenSchema, secretSha256: Sha256 })
export const RevokeTokenSchema = z.strictObject({ at: Time })

// Model registry and audit log (docs/registry.md)
const Tags2 = z.record(z.string(), z.string())
export const ModelNameParam = z.object({ name: NameParam })
export const RegisteredModelSchema = z.strictObject({
  name: Name,
  owner: Name,
  description: z.string().max(65_536),
  tags: Tags2,
  createdAt: Time,
  createdBy: Name,
})
export const NewModelVersionSchema = z.strictObject({
  model: Name,
  runId: z.string().min(1).max(300),
  artifact: z.strictObject({ name: z.string().min(1).max(2048), sha256: Sha256 }).nullable(),
  description: z.string().max(65_536),
  tags: Tags2,
  createdAt: Time,
  createdBy: Name,
})
export const AuditRecordSchema = z.strictObject({
  seq: z.number().int().positive(),
  at: Time,
  kind: z.enum(['gate-check', 'promotion', 'rollback', 'alias-set', 'gate-policy', 'monitor-decision', 'canary-decision', 'promotion-refused']),
  actor: z.string().max(MAX_KEY),
  subject: z.string().max(1000),
  body: z.record(z.string(), z.unknown()),
  prevHash: Sha256,
  hash: Sha256,
})
export const NewAliasEventSchema = z.strictObject({
  model: Name,
  alias: Name,
  kind: z.enum(['set', 'promote', 'rollback']),
  version: Version.nullable(),
  previousVersion: Version.nullable(),
  actor: z.string().max(MAX_KEY),
  at: Time,
  reason: z.string().max(65_536),
})
export const MoveAliasSchema = z.strictObject({ record: AuditRecordSchema, event: NewAliasEventSchema })
export const AliasQuery = PageQuery.extend({ alias: NameParam.optional() })
export const GatePolicyQuery = PageQuery.extend({ model: NameParam.optional(), alias: NameParam.optional(), current: z.enum(['true', 'false']).optional() })
export const SetGatePolicySchema = z.strictObject({
  record: AuditRecordSchema,
  policy: z.strictObject({
    model: Name,
    alias: Name,
    version: Version,
    gate: z.string().min(1).max(MAX_KEY),
    text: z.string().min(1).max(1_000_000),
    sha256: Sha256,
    source: z.string().min(1).max(4096),
    actor: z.string().max(MAX_KEY),
    at: Time,
    reason: z.string().min(1).max(65_536),
  }),
})

// Promotion, rollback and gate checks run on the server (the gate file's text travels in the request).
const GateText = z.strictObject({ source: z.string().min(1).max(4096), text: z.string().min(1).max(1_000_000) })
const Side = z.string().min(1).max(100_000)
const Claimed = z.string().max(MAX_KEY).optional()
export const PromotionSchema = z.strictObject({
  model: Name,
  version: Version,
  alias: Name,
  /** The gate the client expects; the server runs the registered one and refuses a different hash. */
  gateSha256: Sha256.optional(),
  baseline: Side.nullable().optional(),
  acceptWarnings: z.boolean().optional(),
  reason: z.string().max(65_536).optional(),
  actor: Claimed,
})
export const RollbackSchema = z.strictObject({ model: Name, alias: Name, reason: z.string().max(65_536).optional(), actor: Claimed })
export const GateCheckSchema = z.strictObject({ gate: GateText, candidate: Side, baseline: Side.nullable().optional(), actor: Claimed })

// ---- production (docs/production.md); the store checks every field again (record/production.ts) ----

const Hex32 = z.string().regex(/^[0-9a-f]{32}$/, 'an id is 32 lowercase hex characters')
// Monitor and canary checks run on the server (the monitor file's text travels in the request, as a gate's).
const DurationText = z.string().min(2).max(32)
export const MonitorCheckSchema = z.strictObject({
  monitor: GateText,
  deployment: Hex32.optional(),
  window: DurationText.optional(),
  reference: z.string().min(1).max(300).optional(),
  actor: Claimed,
})
export const CanaryCheckSchema = z.strictObject({
  champion: Hex32,
  challenger: Hex32,
  window: DurationText.optional(),
  metrics: z.array(z.strictObject({ metric: z.string().min(1).max(MAX_KEY), higherIsBetter: z.boolean().optional(), margin: z.number().nonnegative().optional() })).max(100).optional(),
  pairing: z.enum(['auto', 'paired', 'unpaired']).optional(),
  confidenceLevel: z.number().gt(0).lt(1).optional(),
  /** The monitor file whose canary.act allows acting on the decision. */
  monitor: GateText.optional(),
  actor: Claimed,
})
export const DeploymentIdParam = z.object({ id: Hex32 })
export const TraceIdParam = z.object({ traceId: Hex32 })
export const NewDeploymentSchema = z.strictObject({
  id: Hex32,
  endpoint: Name,
  endpointVersion: z.string().min(1).max(4096),
  model: Name.nullable(),
  modelVersion: Version.nullable(),
  alias: Name.nullable(),
  codeHash: z.string().min(1).max(4096).nullable(),
  inputs: z.array(DatasetVersionSchema).max(1000),
  environment: Name,
  owner: Name.nullable(),
  createdAt: Time,
})
export const DeploymentsQuery = PageQuery.extend({ endpoint: NameParam.optional(), input: Sha256.optional() })
export const TracesQuery = PageQuery.extend({
  deployment: Hex32.optional(),
  from: z.coerce.number().finite().optional(),
  to: z.coerce.number().finite().optional(),
  filter: z.string().max(4096).optional(),
})
export const TraceRowsQuery = z.strictObject({
  deployment: Hex32,
  from: z.coerce.number().finite(),
  to: z.coerce.number().finite(),
  limit: z.coerce.number().int().min(1).max(TRACE_ROW_PAGE_SIZE.max).optional(),
  cursor: z.string().min(1).max(MAX_CURSOR_LENGTH).optional(),
})
/** Spans are checked by the store, which rejects a bad trace and stores the others (LogTracesResult). */
export const LogTracesSchema = z.strictObject({ traces: z.array(z.unknown()).max(100_000) })
export const FeedbackSchema = z.strictObject({
  id: z.string().min(1).max(128),
  traceId: Hex32,
  name: Name,
  value: z.number().finite(),
  source: Name,
  at: Time,
})

/** Whole run ids, comma-separated (the web UI's group charts and seed variance name their runs). */
const RunIdList = z.string().regex(/^[0-9a-f]{6,64}(,[0-9a-f]{6,64}){0,99}$/, 'run ids (lowercase hex), comma-separated, 1 to 100 of them')
const Confidence = z.coerce.number().gt(0).lt(1).default(0.95)
/** Runs grouped by config fingerprint or params, with per-metric means and intervals (the web UI's grouped runs table). */
export const RunGroupsQuery = PageQuery.extend({
  experiment: NameParam.optional(),
  filter: z.string().max(65_536).optional(),
  groupBy: noNul(z.string().min(1).max(4096)),
  metrics: noNul(z.string().max(4096)).optional(),
  confidence: Confidence,
})
export const GroupBandQuery = z.strictObject({ runs: RunIdList, key: NameParam, buckets: z.coerce.number().int().min(1).max(10_000).default(300), confidence: Confidence })
export const VarianceQuery = z.strictObject({ runs: RunIdList, metric: NameParam, dataset: NameParam.optional(), confidence: Confidence })
