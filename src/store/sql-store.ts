import { AssayError } from '../errors.js'
import { assertAnchored, assertAuditHash, GENESIS_HASH } from '../audit/audit-hash.js'
import { computeEnvelope, configParts } from '../record/envelope.js'
import type {
  DatasetVersion,
  AliasEvent,
  ApiToken,
  ArtifactDirection,
  ArtifactRef,
  AuditRecord,
  EvalColumns,
  ExperimentSummary,
  GatePolicy,
  HoldoutRead,
  JsonValue,
  ModelVersion,
  Params,
  RegisteredModel,
  RunRecord,
  RunStatus,
  RunSummary,
} from '../record/types.js'
import { assertDatasetVersion, assertItemsPerRun, canonicalJson, ITEMS_PER_RUN } from '../record/validate.js'
import { contentNotFound, requireSha256, tooLarge, verifiedStream, type BlobStore } from './blob-store.js'
import { concatStepsValues, decodeMetricChunkStepsValues, encodeEvalChunk, metricChunkBytes, type EvalChunk, type MetricColumns, type MetricStepsValues } from './chunk-codec.js'
import { foldMetricSummary } from './metric-summary.js'
import {
  aliasEventFromRow,
  auditFromRow,
  gatePolicyFromRow,
  modelFromRow,
  modelVersionFromRow,
  type AliasEventRow,
  type AuditRow,
  type GatePolicyRow,
  type ModelRow,
  type ModelVersionRow,
} from './registry-rows.js'
import {
  artifactFromRow,
  configFingerprint,
  datasetFromRow,
  evalColumnsFromChunks,
  evalScoreNames,
  experimentFromRow,
  holdoutReadFromRow,
  mergeScoreNames,
  metricColumnsFromChunks,
  paramsFromRows,
  runRecordFromRows,
  runSummariesFromRows,
  runSummaryFromAggregates,
  type AggregatedRunColumns,
  summaryFromRow,
  tokenFromRow,
  type ArtifactRow,
  type DatasetRow,
  type EvalSetRow,
  type ExperimentRow,
  type HoldoutRow,
  type KeyValueRow,
  type ListedRunRow,
  type RunRow,
  type SummaryRow,
  type TokenRow,
} from './row-mapping.js'
import type { ParamColumns, SqlAdapter, SqlColumn, SqlDialect, SqlExecutor, WriteOutcome } from './sql-adapter.js'
import { refusingNulText } from './nul-guard.js'
import { prepareTraces, TraceGroupCommit, writeTraces, type PreparedTraces } from './trace-write.js'
import { allPages, decodeCursor, decodeOrderedRunCursor, decodeRunCursor, encodeCursor, encodeOrderedRunCursor, encodeRunCursor, pageLimit, pageOf } from './pages.js'
import { DEFAULT_RUN_ORDER, formatRunOrder, parseRunFilter, parseRunOrder, scopedFields, unknownKeyError, type FilterNode, type ScopedField } from './run-filter.js'
import { parseTraceFilter, traceFilterToSql } from './trace-filter.js'
import { afterKeys, filterToSql, FILTER_SCOPE_TABLES, orderToSql, requiredConditions, type SortKeys } from './run-filter-sql.js'
import {
  missingAuditFields,
  traceEvalRecord,
  validateFeedback,
  validateNewDeployment,
  type Deployment,
  type Feedback,
  type NewDeployment,
  type Trace,
  type TraceInput,
  TraceRowBuilder,
} from '../record/production.js'
import {
  deploymentFromRow,
  feedbackFromRow,
  spanFromData,
  spanSetLines,
  type SpanSetRow,
  TRACE_ROW_COLUMNS,
  traceRowFieldsFromColumns,
  traceColumnsSelect,
  shareNumberFeatures,
  writeGuardrailScores,
  writeTraceColumnRows,
  traceSummaryFromRow,
  type DeploymentRow,
  type FeedbackRow,
  type TraceRow,
  type TraceRowColumns,
} from './production-rows.js'
import {
  PAGE_SIZE,
  type AliasEventPage,
  type AliasEventPageQuery,
  type ApiTokenPage,
  type ArtifactContent,
  type ArtifactReadStream,
  type AuditPage,
  type DeploymentPage,
  type DeploymentPageQuery,
  type ExperimentPage,
  type ExperimentPageQuery,
  type GatePolicyPage,
  type GatePolicyPageQuery,
  type HoldoutReadPage,
  type HoldoutReadPageQuery,
  type LineagePage,
  type DatasetRunsPage,
  type DatasetRunsPageQuery,
  type LineagePageQuery,
  type LogTracesResult,
  type MetricSeries,
  type ModelPage,
  type ModelVersionPage,
  type ModelVersionPageQuery,
  type NewAliasEvent,
  type NewGatePolicy,
  type NewModelVersion,
  type NewRun,
  type PageQuery,
  type RunBatch,
  type RunPage,
  type RunPageQuery,
  type RunGroupPage,
  type RunGroupPageQuery,
  type RunQuery,
  type Store,
  type StoreCapabilities,
  type TraceEvalRecordPage,
  type TracePage,
  type TracePageQuery,
  type TraceRowPage,
  type TraceRowPageQuery,
  type TraceColumnsQuery,
  TRACE_COLUMN_PAGE_SIZE,
  TRACE_ROW_PAGE_SIZE,
} from './store.js'
import { TraceColumnsBuilder, type TraceColumns } from '../record/trace-columns.js'

/**
 * What a write to a run sets last: its heartbeat, and 'running' again if a reader had marked it
 * crashed while its process was stalled (a write is proof of life; an ended run never gets here).
 */
export const REVIVE_RUN = "UPDATE runs SET heartbeat_at = ?, status = 'running', end_time = NULL WHERE id = ?"
const RUN_WITH_EXPERIMENT = 'SELECT r.*, e.name AS experiment FROM runs r JOIN experiments e ON e.id = r.experiment_id'
/** The columns a run listing shows (RunSummary): not the environment or code, which getRun reads. */
const LISTED_RUN_COLUMNS = 'r.id, e.name AS experiment, r.name, r.owner, r.status, r.start_time, r.end_time, r.parent_id, r.group_id, r.seed, r.config_fingerprint'
const text = (name: string): SqlColumn => ({ name, type: 'text' })
const bigint = (name: string): SqlColumn => ({ name, type: 'bigint' })
const KEY_VALUE_COLUMNS = [text('run_id'), text('key'), text('value')]
/** A param's canonical JSON, and the number or text it holds for the filter (run-filter-sql.ts). */
const PARAM_COLUMNS = [text('run_id'), text('key'), text('value'), { name: 'value_num', type: 'float8' } as SqlColumn, text('value_text')]
const DATASET_COLUMNS = [
  text('run_id'), text('name'), text('role'), text('sha256'), text('kind'),
  bigint('size_bytes'), bigint('file_count'), bigint('rows'), text('columns'), text('source'),
]

/** The run state a write checks, read with the run row locked. */
export interface LockedRun {
  status: RunStatus
  seed: number
}

/**
 * The store core: every rule, read and error message of the SQL stores, written once over a
 * SqlAdapter (sql-adapter.ts) and a BlobStore (blob-store.ts). sqlite/ and postgres/ provide
 * those, their migrations, and override a protected method only where their dialect earns a
 * faster path (postgres-store.ts: a batch's metrics in two statements). Where a round trip is
 * what a write costs, an adapter may also do a whole operation the core defines in one statement
 * (SqlAdapter.oneStatement: createRun, logEval, and logBatch without datasets); the core
 * still decides what its outcome means (requireWritten). A new table's SQL goes here, its DDL
 * into both migration files.
 *
 * Every write method is one transaction; writers of one run are serialised by the run row
 * (PostgreSQL: SELECT … FOR UPDATE; SQLite: BEGIN IMMEDIATE holds the only write lock), which
 * also makes MAX(seq) + 1 safe for chunks and the state checks exact, so nothing half-written is
 * ever visible.
 */
export abstract class SqlStore implements Store {
  abstract readonly kind: string
  abstract readonly capabilities: StoreCapabilities

  /** The backend's adapter behind the core's one rule for text: no NUL (nul-guard.ts). */
  protected readonly sql: SqlAdapter

  /** Deployment ids trace writes have found (deployments are never deleted): a write naming only these skips their lookup. */
  private readonly knownDeployments = new Set<string>()

  /** Trace writes of concurrent callers, committed together (trace-write.ts). */
  private readonly traceWrites = new TraceGroupCommit((traces) =>
    this.sql.transaction('write', (tx) => writeTraces(tx, this.sql.forUpdate, traces, this.knownDeployments)).catch((error: unknown) => {
      // A deployment deleted by hand in SQL would fail the traces' foreign key: forget what was found, so the retry looks again.
      this.knownDeployments.clear()
      throw error
    }))

  protected constructor(
    readonly location: string,
    sql: SqlAdapter,
    protected readonly blobs: BlobStore,
  ) {
    this.sql = refusingNulText(sql)
  }

  // ---- runs: writes ---------------------------------------------------------------------------

  async createRun(run: NewRun): Promise<void> {
    assertItemsPerRun('params', Object.keys(run.params).length, run.id)
    assertItemsPerRun('tags', Object.keys(run.tags).length, run.id)
    const envelope = computeEnvelope(run)
    const fast = this.sql.oneStatement
    if (fast !== undefined) {
      const created = await fast.insertRun({
        experiment: run.experiment, id: run.id, name: run.name, owner: run.owner, startTime: run.startTime, parentId: run.parentId, groupId: run.groupId,
        seed: run.seed, seedSource: run.seedSource, environment: JSON.stringify(run.environment), code: JSON.stringify(run.code), configFingerprint: envelope.config,
        configParts: configParts(envelope),
        params: Object.entries(run.params).map(([k, v]) => [k, canonicalJson(v)] as const),
        tags: Object.entries(run.tags),
        datasets: run.datasets.map(datasetRow),
      })
      if (!created) throw runExists(run.id)
      return
    }
    await this.sql.transaction('write', async (tx) => {
      const experiment = await tx.get<{ id: number }>(
        'INSERT INTO experiments (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id',
        [run.experiment, run.startTime],
      )
      const inserted = await tx.run(
        `INSERT INTO runs (id, experiment_id, name, owner, status, start_time, end_time, heartbeat_at, parent_id, group_id,
           seed, seed_source, environment, code, config_fingerprint, config_parts)
         VALUES (?, ?, ?, ?, 'running', ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        [
          run.id, experiment?.id, run.name, run.owner, run.startTime, run.startTime, run.parentId, run.groupId,
          run.seed, run.seedSource, JSON.stringify(run.environment), JSON.stringify(run.code), envelope.config, configParts(envelope),
        ],
      )
      if (inserted === 0) throw runExists(run.id)
      const params = Object.entries(run.params)
      if (params.length > 0) await tx.insertRows('run_params', PARAM_COLUMNS, params.map(([k, v]) => paramRow(run.id, k, v)))
      const tags = Object.entries(run.tags)
      if (tags.length > 0) await tx.insertRows('run_tags', KEY_VALUE_COLUMNS, tags.map(([k, v]) => [run.id, k, v]))
      if (run.datasets.length > 0) {
        await tx.insertRows('run_datasets', DATASET_COLUMNS, run.datasets.map((d) => [run.id, ...datasetRow(d)]))
      }
    })
  }

  protected async lockRun(tx: SqlExecutor, runId: string): Promise<LockedRun> {
    const run = await tx.get<LockedRun>(`SELECT status, seed FROM runs WHERE id = ?${this.sql.forUpdate}`, [runId])
    if (run === undefined) throw runNotFound(runId)
    return run
  }

  /**
   * Lock the run row (writers of one run queue here) and, with a batch id, remember it in the
   * same transaction; `applied` is true when the id was applied before (then nothing is written).
   */
  protected async lockRunForBatch(tx: SqlExecutor, runId: string, batchId: string | undefined): Promise<LockedRun & { applied: boolean }> {
    const run = await this.lockRun(tx, runId)
    if (batchId === undefined) return { ...run, applied: false }
    const remembered = await tx.run('INSERT INTO applied_batches (batch_id, run_id, applied_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [batchId, runId, Date.now()])
    return { ...run, applied: remembered === 0 }
  }

  async logBatch(runId: string, batch: RunBatch): Promise<void> {
    const metrics = (batch.metrics ?? []).filter((s) => s.values.length > 0)
    // A series that arrived as a chunk (the server's binary batch) is stored as those bytes.
    const encoded = metrics.map((s) => metricChunkBytes(s))
    const fast = this.sql.oneStatement
    const datasets = batch.datasets ?? []
    for (const [i, d] of datasets.entries()) assertDatasetVersion(d, `datasets.${i}`)
    // Datasets change the config fingerprint through parts only the core computes: they take its transaction.
    if (fast !== undefined && datasets.length === 0) {
      // Object keys are unique, so assay_log_batch counts new params without DISTINCT (migration 13).
      const params = Object.entries(batch.params ?? {}).map(([k, v]) => paramColumns(k, v))
      const outcome = await fast.appendBatch({
        runId,
        batchId: batch.batchId,
        now: Date.now(),
        maxKeys: ITEMS_PER_RUN['metric keys'],
        maxParams: ITEMS_PER_RUN.params,
        maxTags: ITEMS_PER_RUN.tags,
        series: metrics.map((s, i) => ({ key: s.key, count: s.values.length, chunk: encoded[i], summary: foldMetricSummary(undefined, s) })),
        params,
        tags: Object.entries(batch.tags ?? {}),
      })
      if (outcome.kind !== 'needs-transaction') return requireWritten(outcome, runId, { params })
    }
    await this.sql.transaction('write', async (tx) => {
      const run = await this.lockRunForBatch(tx, runId, batch.batchId)
      if (run.applied) return
      requireWritable(run.status, runId)
      const newParams = batch.params && Object.keys(batch.params).length > 0 ? await this.writeParams(tx, runId, batch.params) : false
      const newDatasets = datasets.length > 0 ? await this.writeDatasets(tx, runId, datasets) : false
      if (newParams || newDatasets) await this.refreshConfigFingerprint(tx, runId, run.seed)
      const tags = Object.entries(batch.tags ?? {})
      await assertRoomFor(tx, 'run_tags', 'tags', runId, tags.map(([k]) => k))
      await assertRoomFor(tx, 'metric_summaries', 'metric keys', runId, metrics.map((s) => s.key))
      if (tags.length > 0) {
        await tx.insertRows('run_tags', KEY_VALUE_COLUMNS, tags.map(([k, v]) => [runId, k, v]), 'ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value')
      }
      if (metrics.length > 0) await this.writeMetrics(tx, runId, metrics, encoded)
      else await tx.run(REVIVE_RUN, [Date.now(), runId])
    })
  }

  /** New params of a run; a key already stored with another value is ASSAY_PARAM_CONFLICT. True when any was new. */
  private async writeParams(tx: SqlExecutor, runId: string, params: Params): Promise<boolean> {
    const stored = new Map((await tx.all<KeyValueRow>('SELECT key, value FROM run_params WHERE run_id = ? ORDER BY key', [runId])).map((r) => [r.key, r.value]))
    const fresh: unknown[][] = []
    for (const [key, value] of Object.entries(params)) {
      const json = canonicalJson(value)
      const existing = stored.get(key)
      if (existing === undefined) {
        fresh.push(paramRow(runId, key, value))
        stored.set(key, json)
      } else if (existing !== json) {
        throw paramConflict(runId, key, existing, json)
      }
    }
    if (fresh.length === 0) return false
    assertItemsPerRun('params', stored.size, runId)
    await tx.insertRows('run_params', PARAM_COLUMNS, fresh)
    return true
  }

  /**
   * Datasets added to a running run. A name already recorded with the same sha256 is no change
   * (its stored role and source stand); with another sha256 it is ASSAY_DATASET_CONFLICT, since
   * a run read one version of each dataset. True when any was new.
   */
  private async writeDatasets(tx: SqlExecutor, runId: string, datasets: readonly DatasetVersion[]): Promise<boolean> {
    const stored = new Map((await tx.all<{ name: string; sha256: string }>('SELECT name, sha256 FROM run_datasets WHERE run_id = ? ORDER BY name', [runId])).map((r) => [r.name, r.sha256]))
    const fresh: DatasetVersion[] = []
    for (const d of datasets) {
      const existing = stored.get(d.name)
      if (existing === undefined) {
        fresh.push(d)
        stored.set(d.name, d.sha256)
      } else if (existing !== d.sha256) {
        throw new AssayError('ASSAY_DATASET_CONFLICT', `dataset ${JSON.stringify(d.name)} of run ${runId} is recorded as ${existing}; it cannot also be ${d.sha256}`, { name: d.name, stored: existing, attempted: d.sha256 })
      }
    }
    if (fresh.length === 0) return false
    assertItemsPerRun('datasets', stored.size, runId)
    await tx.insertRows('run_datasets', DATASET_COLUMNS, fresh.map((d) => [runId, ...datasetRow(d)]))
    return true
  }

  /** The config fingerprint (λ, c, D_v, e) over what the run holds now: params and datasets may be added while it runs. */
  private async refreshConfigFingerprint(tx: SqlExecutor, runId: string, seed: number): Promise<void> {
    const row = (await tx.get<{ environment: string; code: string }>('SELECT environment, code FROM runs WHERE id = ?', [runId])) as { environment: string; code: string }
    const params = paramsFromRows(await tx.all<KeyValueRow>('SELECT key, value FROM run_params WHERE run_id = ? ORDER BY key', [runId]))
    const datasets = (await tx.all<DatasetRow>('SELECT * FROM run_datasets WHERE run_id = ? ORDER BY name', [runId])).map(datasetFromRow)
    const { config, parts } = configFingerprint({ seed, ...row }, params, datasets)
    await tx.run('UPDATE runs SET config_fingerprint = ?, config_parts = ? WHERE id = ?', [config, parts, runId])
  }

  /**
   * Append one chunk per series and fold it into the series' summary; then refresh the heartbeat
   * (REVIVE_RUN). The run row is locked, so no other writer takes the same seq.
   */
  protected async writeMetrics(tx: SqlExecutor, runId: string, metrics: readonly MetricSeries[], encoded: readonly Buffer[]): Promise<void> {
    for (const [i, series] of metrics.entries()) {
      const { seq } = (await tx.get<{ seq: number }>('SELECT COALESCE(MAX(seq), -1) + 1 AS seq FROM metric_chunks WHERE run_id = ? AND key = ?', [runId, series.key])) as { seq: number }
      await tx.run('INSERT INTO metric_chunks (run_id, key, seq, count, data) VALUES (?, ?, ?, ?, ?)', [runId, series.key, seq, series.values.length, encoded[i]])
      const stored = await tx.get<SummaryRow>('SELECT * FROM metric_summaries WHERE run_id = ? AND key = ?', [runId, series.key])
      const summary = foldMetricSummary(summaryFromRow(stored), series)
      await tx.run(
        `INSERT INTO metric_summaries (run_id, key, last, last_step, min, max, count) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, key) DO UPDATE SET last = excluded.last, last_step = excluded.last_step,
           min = excluded.min, max = excluded.max, count = excluded.count`,
        [runId, series.key, Number.isNaN(summary.last) ? null : summary.last, summary.lastStep, summary.min, summary.max, summary.count],
      )
    }
    await tx.run(REVIVE_RUN, [Date.now(), runId])
  }

  async logEval(runId: string, dataset: string, datasetSha256: string, chunk: EvalChunk, batchId?: string): Promise<void> {
    const encoded = encodeEvalChunk(chunk)
    const scoreNames = evalScoreNames(chunk)
    const fast = this.sql.oneStatement
    if (fast !== undefined) {
      const outcome = await fast.appendEvalChunk({ runId, batchId, now: Date.now(), dataset, datasetSha256, count: chunk.ids.length, scoreNames, chunk: encoded })
      return requireWritten(outcome, runId, { dataset, datasetSha256 })
    }
    await this.sql.transaction('write', async (tx) => {
      const run = await this.lockRunForBatch(tx, runId, batchId)
      if (run.applied) return
      requireWritable(run.status, runId)
      const set = await tx.get<{ dataset_sha256: string; score_names: string }>('SELECT dataset_sha256, score_names FROM eval_sets WHERE run_id = ? AND dataset = ?', [runId, dataset])
      if (set === undefined) {
        await tx.run('INSERT INTO eval_sets (run_id, dataset, dataset_sha256, count, score_names) VALUES (?, ?, ?, ?, ?)', [runId, dataset, datasetSha256, chunk.ids.length, JSON.stringify(scoreNames)])
      } else {
        if (set.dataset_sha256 !== datasetSha256) {
          throw evalShaMismatch(runId, dataset, set.dataset_sha256, datasetSha256)
        }
        await tx.run('UPDATE eval_sets SET count = count + ?, score_names = ? WHERE run_id = ? AND dataset = ?', [chunk.ids.length, mergeScoreNames(set.score_names, scoreNames), runId, dataset])
      }
      await tx.run(
        `INSERT INTO eval_chunks (run_id, dataset, seq, count, data)
         SELECT ?, ?, COALESCE(MAX(seq), -1) + 1, ?, ? FROM eval_chunks WHERE run_id = ? AND dataset = ?`,
        [runId, dataset, chunk.ids.length, encoded, runId, dataset],
      )
      await tx.run(REVIVE_RUN, [Date.now(), runId])
    })
  }

  async setRunStatus(runId: string, status: Exclude<RunStatus, 'running'>, endTime: number): Promise<void> {
    // One statement: the row lock it takes re-checks the status against the latest committed
    // state. A run marked crashed may still end itself (it was alive after all).
    const changed = await this.sql.run("UPDATE runs SET status = ?, end_time = ?, heartbeat_at = ? WHERE id = ? AND status IN ('running', 'crashed')", [status, endTime, endTime, runId])
    if (changed === 0) requireWritable(await this.runStatus(runId), runId)
  }

  private async runStatus(runId: string): Promise<RunStatus> {
    const row = await this.sql.get<{ status: RunStatus }>('SELECT status FROM runs WHERE id = ?', [runId])
    if (row === undefined) throw runNotFound(runId)
    return row.status
  }

  async heartbeat(runId: string, at: number): Promise<void> {
    // A heartbeat from a run marked crashed revives it, as any write does; an ended run ignores it.
    await this.sql.run(`${REVIVE_RUN} AND status IN ('running', 'crashed')`, [at, runId])
  }

  async markCrashedRuns(staleBefore: number): Promise<number> {
    // Readers call this before every read: look first, so a read writes only when it must.
    if ((await this.sql.get("SELECT 1 AS stale FROM runs WHERE status = 'running' AND heartbeat_at < ? LIMIT 1", [staleBefore])) === undefined) return 0
    return this.sql.run("UPDATE runs SET status = 'crashed', end_time = heartbeat_at WHERE status = 'running' AND heartbeat_at < ?", [staleBefore])
  }

  // ---- runs: reads ----------------------------------------------------------------------------

  async resolveRunId(idOrPrefix: string): Promise<string> {
    if (typeof idOrPrefix !== 'string' || !/^[0-9a-f]{6,32}$/.test(idOrPrefix)) {
      throw new AssayError('ASSAY_RUN_NOT_FOUND', `${JSON.stringify(idOrPrefix)} is not a run id (32 hex characters, or a unique prefix of 6 or more)`)
    }
    const rows = await this.sql.all<{ id: string }>('SELECT id FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 2', [idOrPrefix, `${idOrPrefix}g`])
    if (rows.length === 0) throw runNotFound(idOrPrefix)
    if (rows.length > 1) throw new AssayError('ASSAY_INVALID_ARGUMENT', `run id prefix ${idOrPrefix} is ambiguous; give more characters`)
    return rows[0].id
  }

  async getRun(runId: string): Promise<RunRecord> {
    return this.sql.transaction('read', async (tx) => {
      const row = await tx.get<RunRow>(`${RUN_WITH_EXPERIMENT} WHERE r.id = ?`, [runId])
      if (row === undefined) throw runNotFound(runId)
      const rows = <T>(sql: string) => tx.all<T>(sql, [runId])
      return runRecordFromRows({
        row,
        params: await rows<KeyValueRow>('SELECT key, value FROM run_params WHERE run_id = ? ORDER BY key'),
        tags: await rows<KeyValueRow>('SELECT key, value FROM run_tags WHERE run_id = ? ORDER BY key'),
        datasets: await rows<DatasetRow>('SELECT * FROM run_datasets WHERE run_id = ? ORDER BY name'),
        metrics: await rows<SummaryRow>('SELECT * FROM metric_summaries WHERE run_id = ? ORDER BY key'),
        evals: await rows<EvalSetRow>('SELECT dataset, dataset_sha256, count, score_names FROM eval_sets WHERE run_id = ? ORDER BY dataset'),
        artifacts: await rows<ArtifactRow>('SELECT * FROM artifacts WHERE run_id = ? ORDER BY direction DESC, name'),
      })
    })
  }

  async listRuns(query: RunQuery = {}): Promise<RunSummary[]> {
    return allPages((cursor) => this.listRunsPage({ ...query, limit: PAGE_SIZE.max, cursor }), (page) => page.runs)
  }

  /**
   * One page in the query's order, most often in one statement (listRunsPageInOneStatement);
   * else, when the order's first segment does not fill the page, in a read transaction segment
   * after segment (listRunsPageByStatements). A listing reads only the columns it shows; getRun
   * reads the whole record of one run.
   */
  async listRunsPage(query: RunPageQuery): Promise<RunPage> {
    const page = pageRequest(query, this.sql.dialect)
    return (await this.listRunsPageInOneStatement(query, page)) ?? this.pageByStatements(query, page)
  }

  /**
   * The page read by several statements in one read transaction: the filter (run-filter-sql.ts)
   * and the cursor in the statement of each segment of the order until the page and one more run
   * are read, then params, tags and last metric values of the page's runs only. Every page can be
   * read this way; the tests hold listRunsPage to the same pages and cursors.
   */
  async listRunsPageByStatements(query: RunPageQuery): Promise<RunPage> {
    return this.pageByStatements(query, pageRequest(query, this.sql.dialect))
  }

  private async pageByStatements(query: RunPageQuery, page: PageRequest): Promise<RunPage> {
    const { filter, sort, after, limit, cursorOf } = page
    return this.sql.transaction('read', async (tx) => {
      const listing = await this.listingConditions(tx, query, filter)
      if (listing === null) return { runs: [], nextCursor: null }
      const { where, args } = listing
      // The order's segments one after another (orderToSql), until the page and one more run are read.
      const rows: (ListedRunRow & { key: (number | string)[] })[] = []
      for (const segment of sort.segments) {
        if (rows.length > limit) break
        const cursor = after === null ? null : afterKeys(sort, segment, after, this.sql.dialect)
        if (cursor === 'none') continue
        const conditions = [...(segment.where === null ? [] : [segment.where.sql]), ...where, ...(cursor === null ? [] : [cursor.sql])]
        const columns = segment.columns.flatMap((c, i) => (typeof c === 'string' ? [{ c, i }] : []))
        const read = await tx.all<ListedRunRow & Record<string, number | string>>(
          `SELECT ${LISTED_RUN_COLUMNS}, ${columns.map(({ c, i }) => `${c} AS k${i}`).join(', ')}
           FROM ${segment.from.sql}${conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : ''}
           ORDER BY ${columns.map(({ c, i }) => `${c} ${sort.keys[i].descending ? 'DESC' : 'ASC'}`).join(', ')} LIMIT ?`,
          [...segment.from.params, ...(segment.where?.params ?? []), ...args, ...(cursor?.params ?? []), limit + 1 - rows.length],
        )
        for (const row of read) rows.push(Object.assign(row, { key: segmentKey(sort, segment, row) }))
      }
      if (rows.length === 0 && query.experiment !== undefined && (await tx.get('SELECT 1 AS present FROM experiments WHERE name = ?', [query.experiment])) === undefined) {
        throw experimentNotFound(query.experiment)
      }
      const listed = rows.slice(0, limit)
      if (listed.length === 0) return { runs: [], nextCursor: null }
      const ids = listed.map((r) => r.id)
      // Three statements, not one UNION ALL: PostgreSQL plans that as a parallel append, and
      // starting its workers costs more than the two round trips saved.
      const ofPage = <T>(sql: string) => tx.all<T>(`${sql} WHERE run_id IN (${ids.map(() => '?').join(', ')})`, ids)
      const runs = runSummariesFromRows(
        listed,
        await ofPage<KeyValueRow & { run_id: string }>('SELECT run_id, key, value FROM run_params'),
        await ofPage<KeyValueRow & { run_id: string }>('SELECT run_id, key, value FROM run_tags'),
        await ofPage<{ run_id: string; key: string; last: number | null }>('SELECT run_id, key, last FROM metric_summaries'),
      )
      if (rows.length <= limit) return { runs, nextCursor: null }
      return { runs, nextCursor: cursorOf(listed[listed.length - 1].key) }
    })
  }

  /**
   * A page read by one statement: the page's runs from the first segment of the order
   * (orderToSql), each with its params, tags and last metric values aggregated as JSON objects
   * (PAGE_AGGREGATES, the dialects' functions for it). One statement reads one snapshot, so it
   * needs no read transaction (on PostgreSQL, BEGIN and COMMIT would be two more round trips).
   * Null when the order has more segments and the first does not fill the page (its last pages,
   * or a cursor past it): the caller then reads the page by statements in a read transaction, so
   * that a run cannot move between segments while one page is read.
   *
   * PostgreSQL: the condition counts of planFilter are not asked for: PostgreSQL estimates from
   * its own statistics how many rows pass each condition, and drives a few-match filter from the
   * index of its most selective one (bench/results/search.md prints that plan). The statement
   * also asks whether each key the filter names exists in the listing's experiments
   * (uncorrelated subqueries, evaluated once); an empty page, and a key no run has, are then told
   * apart by the general path's statements (planFilter raises the unknown key; an experiment
   * that does not exist is ASSAY_EXPERIMENT_NOT_FOUND).
   *
   * SQLite: the store never runs ANALYZE, so its planner has no statistics and nothing but
   * planFilter's counts tells a few-match condition from a common one; they are asked for first,
   * in one statement that also raises an unknown key, and the most selective condition drives
   * the page as in the general path. Two statements, not in one snapshot: the counts choose the
   * plan only, never the result. A statement on SQLite is a call into the library, not a round
   * trip, but each statement and transaction still costs: the general path took seven. When the
   * page falls back to that path (the last pages of a ranked order), the counts and this
   * statement were spent for nothing; they are asked again in its transaction.
   */
  private async listRunsPageInOneStatement(query: RunPageQuery, page: PageRequest): Promise<RunPage | null> {
    const { filter, sort, after, limit, cursorOf } = page
    const dialect = this.sql.dialect
    const scope = listingScope(query)
    if (scope === null) return { runs: [], nextCursor: null }
    const segment = sort.segments[0]
    const cursor = after === null ? null : afterKeys(sort, segment, after, dialect)
    const more = sort.segments.length > 1
    if (more && cursor === 'none') return null
    const countsFirst = dialect === 'sqlite'
    const driver = countsFirst && filter !== null ? await planFilter(this.sql, filter, dialect, scope.where, scope.args) : null
    const fields = filter === null || countsFirst ? [] : scopedFields(filter)
    let rows: (ListedRunRow & AggregatedRunColumns & Record<string, unknown>)[] = []
    if (cursor !== 'none') {
      const compiled = filter === null ? null : filterToSql(filter, dialect)
      const presence = presenceColumns(fields, scope)
      const conditions = [
        ...(segment.where === null ? [] : [segment.where.sql]),
        ...scope.where,
        ...(compiled === null ? [] : [compiled.sql]),
        ...(driver === null ? [] : [`r.id IN (SELECT x.run_id FROM ${driver.table} x WHERE ${driver.sql})`]),
        ...(cursor === null ? [] : [cursor.sql]),
      ]
      const columns = segment.columns.flatMap((c, i) => (typeof c === 'string' ? [{ c, i }] : []))
      const direction = (i: number) => (sort.keys[i].descending ? 'DESC' : 'ASC')
      const aggregates = PAGE_AGGREGATES[dialect]
      const read = await this.sql.all<ListedRunRow & Record<string, unknown>>(
        `SELECT p.*${presence.columns.map((c, i) => `, ${c} AS present${i}`).join('')},
           (SELECT ${aggregates.params} FROM run_params x WHERE x.run_id = p.id) AS params_json,
           (SELECT ${aggregates.tags} FROM run_tags x WHERE x.run_id = p.id) AS tags_json,
           (SELECT ${aggregates.metrics} FROM metric_summaries x WHERE x.run_id = p.id) AS metrics_json
         FROM (SELECT ${LISTED_RUN_COLUMNS}, ${columns.map(({ c, i }) => `${c} AS k${i}`).join(', ')}
           FROM ${segment.from.sql}${conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : ''}
           ORDER BY ${columns.map(({ c, i }) => `${c} ${direction(i)}`).join(', ')} LIMIT ?) p
         ORDER BY ${columns.map(({ i }) => `p.k${i} ${direction(i)}`).join(', ')}`,
        [
          ...presence.args,
          ...segment.from.params,
          ...(segment.where?.params ?? []),
          ...scope.args,
          ...(compiled?.params ?? []),
          ...(driver?.params ?? []),
          ...(cursor?.params ?? []),
          limit + 1,
        ],
      )
      rows = read.map((row) => Object.assign(row, { params_json: parsedJson(row.params_json), tags_json: parsedJson(row.tags_json), metrics_json: parsedJson(row.metrics_json) }) as typeof rows[number])
    }
    if (more && rows.length <= limit) return null
    const missingKey = rows.length > 0 && fields.some((_, i) => rows[0][`present${i}`] === null)
    if (rows.length === 0 || missingKey) {
      // What an empty page means, or which key is unknown: the statements of the general path.
      if (filter !== null && !countsFirst) await planFilter(this.sql, filter, dialect, scope.where, scope.args)
      if (rows.length === 0 && query.experiment !== undefined && (await this.sql.get('SELECT 1 AS present FROM experiments WHERE name = ?', [query.experiment])) === undefined) {
        throw experimentNotFound(query.experiment)
      }
      if (rows.length === 0) return { runs: [], nextCursor: null }
    }
    const listed = rows.slice(0, limit)
    const runs = listed.map((row) => runSummaryFromAggregates(row, row.params_json, row.tags_json, row.metrics_json))
    if (rows.length <= limit) return { runs, nextCursor: null }
    return { runs, nextCursor: cursorOf(segmentKey(sort, segment, listed[listed.length - 1])) }
  }

  /**
   * The WHERE conditions (over `runs r JOIN experiments e`) of a listing: its experiment scope and
   * its filter, with the filter's most selective indexed condition as a driving IN (planFilter).
   * Null when the scope holds no experiment.
   */
  private async listingConditions(tx: SqlExecutor, query: { experiment?: string; experiments?: readonly string[] }, filter: FilterNode | null): Promise<{ where: string[]; args: unknown[] } | null> {
    const scope = listingScope(query)
    if (scope === null) return null
    const driver = filter === null ? null : await planFilter(tx, filter, this.sql.dialect, scope.where, scope.args)
    const where = [...scope.where]
    const args: unknown[] = [...scope.args]
    if (filter !== null) {
      const compiled = filterToSql(filter, this.sql.dialect)
      where.push(compiled.sql)
      args.push(...compiled.params)
      if (driver !== null) {
        where.push(`r.id IN (SELECT x.run_id FROM ${driver.table} x WHERE ${driver.sql})`)
        args.push(...driver.params)
      }
    }
    return { where, args }
  }

  async groupRunsPage(query: RunGroupPageQuery): Promise<RunGroupPage> {
    const limit = pageLimit(query.limit)
    const listed = Math.max(0, Math.floor(query.runsListed))
    const filter = query.filter === undefined || query.filter.trim() === '' ? null : parseRunFilter(query.filter)
    const pg = this.sql.dialect === 'postgres'
    return this.sql.transaction('read', async (tx) => {
      const empty = { runsGrouped: 0, groupCount: 0, groups: [], more: false }
      const listing = await this.listingConditions(tx, query, filter)
      if (listing === null) return empty
      // Grouped by the stored values (short, and hashable); the key text is built per group after.
      const joins: string[] = []
      const joinArgs: unknown[] = []
      const values: string[] = []
      if (query.grouping.by === 'config') values.push('r.config_fingerprint')
      else {
        for (const [i, k] of query.grouping.keys.entries()) {
          joins.push(`LEFT JOIN run_params p${i} ON p${i}.run_id = r.id AND p${i}.key = ?`)
          joinArgs.push(k)
          values.push(`p${i}.value`)
        }
      }
      // runGroupKey's text, ordered by code point: SQLite's BINARY, PostgreSQL's "C".
      let key = query.grouping.by === 'config' ? 'v0' : `('[' || ${values.map((_, i) => `COALESCE('[' || v${i} || ']', '[]')`).join(` || ',' || `)} || ']')`
      if (pg) key = `(${key}) COLLATE "C"`
      // A last value is finite when it lies strictly between the infinities: NaN is NULL on SQLite
      // and above +Infinity on PostgreSQL, so it fails both bounds.
      const finite = (c: string) => (pg ? `(${c} > '-Infinity'::float8 AND ${c} < 'Infinity'::float8)` : `(${c} > -9e999 AND ${c} < 9e999)`)
      const variance = pg ? 'var_samp' : 'assay_var_samp'
      const metricColumns: string[] = []
      for (let i = 0; i < query.metrics.length; i++) {
        joins.push(`LEFT JOIN metric_summaries m${i} ON m${i}.run_id = r.id AND m${i}.key = ?`)
        joinArgs.push(query.metrics[i])
        const v = `CASE WHEN ${finite(`m${i}.last`)} THEN m${i}.last END`
        metricColumns.push(
          `count(${v}) AS n${i}, avg(${v}) AS mean${i}, ${variance}(${v}) AS var${i}, min(${v}) AS min${i}, max(${v}) AS max${i},` +
            ` sum(CASE WHEN ${finite(`m${i}.last`)} THEN 0 WHEN m${i}.run_id IS NOT NULL THEN 1 ELSE 0 END) AS nf${i}`,
        )
      }
      // The first runs of each group, oldest first, gathered in the same pass (PostgreSQL cuts the list there).
      const runs = pg
        ? `array_to_json((array_agg(json_build_array(r.id, r.seed, r.name) ORDER BY r.start_time, r.id))[1:${listed}])::text AS runs`
        : `json_group_array(json_array(r.id, r.seed, r.name) ORDER BY r.start_time, r.id) AS runs`
      const where = listing.where.length > 0 ? ` WHERE ${listing.where.join(' AND ')}` : ''
      // One pass: every group of the listing is aggregated (its totals need them all), this page's are returned.
      const groups = `WITH g AS (
          SELECT ${values.map((v, i) => `${v} AS v${i}`).join(', ')}, count(*) AS n${metricColumns.map((c) => `, ${c}`).join('')}${listed > 0 ? `, ${runs}` : ''}
          FROM runs r JOIN experiments e ON e.id = r.experiment_id ${joins.join(' ')}${where}
          GROUP BY ${values.join(', ')})`
      const args = [...joinArgs, ...listing.args]
      const rows = await tx.all<Record<string, number | string | null>>(
        `${groups}
         SELECT k.*, (SELECT count(*) FROM g) AS group_count, (SELECT sum(n) FROM g) AS run_count
         FROM (SELECT ${key} AS key, g.* FROM g) k${query.after === undefined ? '' : ' WHERE k.key > ?'} ORDER BY k.key LIMIT ?`,
        [...args, ...(query.after === undefined ? [] : [query.after]), limit + 1],
      )
      let totals = { runs: 0, groups: 0 }
      if (rows.length > 0) totals = { runs: Number(rows[0]?.run_count), groups: Number(rows[0]?.group_count) }
      else if (query.after !== undefined) {
        const row = await tx.get<{ runs: number | string | null; groups: number | string }>(`${groups} SELECT sum(n) AS runs, count(*) AS groups FROM g`, args)
        totals = { runs: Number(row?.runs ?? 0), groups: Number(row?.groups ?? 0) }
      }
      if (totals.runs === 0 && query.experiment !== undefined && (await tx.get('SELECT 1 AS present FROM experiments WHERE name = ?', [query.experiment])) === undefined) {
        throw new AssayError('ASSAY_EXPERIMENT_NOT_FOUND', `no experiment is named ${JSON.stringify(query.experiment)}`)
      }
      const num = (v: number | string | null | undefined) => (v === null || v === undefined ? null : Number(v))
      return {
        runsGrouped: totals.runs,
        groupCount: totals.groups,
        groups: rows.slice(0, limit).map((row) => ({
          key: String(row.key),
          n: Number(row.n),
          runs: listed === 0 ? [] : (JSON.parse(String(row.runs)) as [string, number | string, string][]).slice(0, listed).map(([id, seed, name]) => ({ id, seed: Number(seed), name })),
          metrics: query.metrics.map((_, i) => {
            const n = Number(row[`n${i}`])
            return { n, mean: n === 0 ? null : num(row[`mean${i}`]), variance: n < 2 ? null : num(row[`var${i}`]), min: num(row[`min${i}`]), max: num(row[`max${i}`]), nonFinite: Number(row[`nf${i}`] ?? 0) }
          }),
        })),
        more: rows.length > limit,
      }
    })
  }

  async listExperiments(): Promise<ExperimentSummary[]> {
    return allPages((cursor) => this.listExperimentsPage({ limit: PAGE_SIZE.max, cursor }), (page) => page.experiments)
  }

  async listExperimentsPage(query: ExperimentPageQuery): Promise<ExperimentPage> {
    const limit = pageLimit(query.limit)
    const where: string[] = []
    const args: unknown[] = []
    if (query.experiments !== undefined) {
      if (query.experiments.length === 0) return { experiments: [], nextCursor: null }
      where.push(`e.name IN (${query.experiments.map(() => '?').join(', ')})`)
      args.push(...query.experiments)
    }
    if (query.cursor !== undefined) {
      where.push('e.name > ?')
      args.push(...decodeCursor('experiment', query.cursor))
    }
    const rows = await this.sql.all<ExperimentRow>(
      `SELECT e.name, e.created_at, COUNT(r.id) AS run_count, MAX(r.start_time) AS last_run_at
       FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.id${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}
       GROUP BY e.id, e.name, e.created_at ORDER BY e.name LIMIT ?`,
      [...args, limit + 1],
    )
    const page = pageOf(rows.map(experimentFromRow), limit, 'experiment', (e) => [e.name])
    return { experiments: page.items, nextCursor: page.nextCursor }
  }

  async metricHistory(runId: string, key: string): Promise<MetricColumns> {
    // One statement: the run's row (so an unknown run is told apart from an unknown key) and its chunks.
    const rows = await this.sql.all<{ data: Buffer | null }>('SELECT c.data FROM runs r LEFT JOIN metric_chunks c ON c.run_id = r.id AND c.key = ? WHERE r.id = ? ORDER BY c.seq', [key, runId])
    if (rows.length === 0) throw runNotFound(runId)
    return metricColumnsFromChunks(rows.filter((r): r is { data: Buffer } => r.data !== null))
  }

  async metricStepsValues(runId: string, key: string): Promise<MetricStepsValues> {
    // substr (SQLite and PostgreSQL alike) leaves each chunk's timestamps, its last third, in the database.
    const rows = await this.sql.all<{ data: Buffer | null }>(
      'SELECT substr(c.data, 1, 8 + 16 * c.count) AS data FROM runs r LEFT JOIN metric_chunks c ON c.run_id = r.id AND c.key = ? WHERE r.id = ? ORDER BY c.seq',
      [key, runId],
    )
    if (rows.length === 0) throw runNotFound(runId)
    const chunks = rows.filter((r): r is { data: Buffer } => r.data !== null).map((r) => decodeMetricChunkStepsValues(r.data))
    return chunks.length === 0 ? { steps: new Float64Array(0), values: new Float64Array(0) } : concatStepsValues(chunks)
  }

  async evalColumns(runId: string, dataset: string): Promise<EvalColumns> {
    const rows = await this.sql.all<{ dataset_sha256: string | null; data: Buffer | null }>(
      `SELECT s.dataset_sha256, c.data FROM runs r
       LEFT JOIN eval_sets s ON s.run_id = r.id AND s.dataset = ?
       LEFT JOIN eval_chunks c ON c.run_id = s.run_id AND c.dataset = s.dataset
       WHERE r.id = ? ORDER BY c.seq`,
      [dataset, runId],
    )
    if (rows.length === 0) throw runNotFound(runId)
    const sha256 = rows[0].dataset_sha256
    if (sha256 === null) throw new AssayError('ASSAY_EVAL_NOT_FOUND', `run ${runId} has no eval records for dataset ${JSON.stringify(dataset)}`, { runId, dataset })
    return evalColumnsFromChunks(dataset, sha256, rows.filter((r): r is { dataset_sha256: string; data: Buffer } => r.data !== null))
  }

  // ---- artifacts and lineage ------------------------------------------------------------------

  async putArtifact(runId: string, name: string, content: ArtifactContent, direction: ArtifactDirection): Promise<ArtifactRef> {
    const status = await this.runStatus(runId)
    if (direction === 'produced') requireWritable(status, runId)
    const blob = await this.putBlob(content)
    const createdAt = Date.now()
    await this.sql.transaction('write', async (tx) => {
      const run = await this.lockRun(tx, runId)
      if (direction === 'produced') {
        requireWritable(run.status, runId)
        if (run.status === 'crashed') await tx.run(REVIVE_RUN, [createdAt, runId])
      }
      const existing = await tx.get<{ sha256: string }>('SELECT sha256 FROM artifacts WHERE run_id = ? AND name = ? AND direction = ?', [runId, name, direction])
      if (existing !== undefined && existing.sha256 !== blob.sha256) {
        throw new AssayError('ASSAY_PARAM_CONFLICT', `run ${runId} already has a ${direction} artifact ${JSON.stringify(name)} with other content (${existing.sha256})`)
      }
      await tx.run('INSERT INTO artifacts (run_id, name, direction, sha256, size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [
        runId, name, direction, blob.sha256, blob.size, createdAt,
      ])
    })
    return { runId, name, sha256: blob.sha256, sizeBytes: blob.size, direction, createdAt }
  }

  private async putBlob(content: ArtifactContent): Promise<{ sha256: string; size: number }> {
    if ('sha256' in content) {
      const size = await this.blobs.sizeOf(requireSha256(content.sha256))
      if (size === null) throw contentNotFound(content.sha256)
      return { sha256: content.sha256, size }
    }
    if ('bytes' in content) {
      if (content.bytes.byteLength > this.blobs.maxBytes) throw tooLarge(`an artifact of ${content.bytes.byteLength} bytes`, this.blobs.maxBytes, { sizeBytes: content.bytes.byteLength })
      return this.blobs.putBytes(content.bytes)
    }
    return this.blobs.putFile(content.path)
  }

  /** The produced artifact of that name (else the consumed one), streamed from the blob store and verified on the way. */
  async readArtifact(runId: string, name: string): Promise<ArtifactReadStream> {
    const rows = await this.sql.all<{ sha256: string | null; size_bytes: number | string | null }>(
      `SELECT a.sha256, a.size_bytes FROM runs r LEFT JOIN artifacts a ON a.run_id = r.id AND a.name = ?
       WHERE r.id = ? ORDER BY a.direction = 'produced' DESC LIMIT 1`,
      [name, runId],
    )
    if (rows.length === 0) throw runNotFound(runId)
    const sha256 = rows[0].sha256
    if (sha256 === null) throw new AssayError('ASSAY_ARTIFACT_NOT_FOUND', `run ${runId} has no artifact named ${JSON.stringify(name)}`, { runId, name })
    const sizeBytes = Number(rows[0].size_bytes)
    const missing = () => new AssayError('ASSAY_ARTIFACT_CORRUPT', `the bytes of artifact ${sha256} are missing from ${this.location}`, { sha256 })
    const stored = await this.blobs.sizeOf(sha256)
    if (stored === null) throw missing()
    // A size other than the recorded one is damage found before any byte is sent.
    if (stored !== sizeBytes) throw new AssayError('ASSAY_ARTIFACT_CORRUPT', `artifact ${sha256} fails verification: ${stored} bytes are stored, ${sizeBytes} were recorded`, { sha256, stored, recorded: sizeBytes })
    const source = await this.blobs.open(sha256)
    if (source === null) throw missing()
    const stream = verifiedStream(source, sha256, (actual) => new AssayError('ASSAY_ARTIFACT_CORRUPT', `artifact ${sha256} fails verification: its bytes now hash to ${actual}`, { sha256, actual }))
    return { sha256, sizeBytes, stream }
  }

  async artifactLineage(sha256: string): Promise<ArtifactRef[]> {
    return allPages((cursor) => this.artifactLineagePage({ sha256, limit: PAGE_SIZE.max, cursor }), (page) => page.edges)
  }

  async artifactLineagePage(query: LineagePageQuery): Promise<LineagePage> {
    const limit = pageLimit(query.limit)
    const where = ['a.sha256 = ?']
    const args: unknown[] = [query.sha256]
    if (query.experiments !== undefined) {
      if (query.experiments.length === 0) return { edges: [], nextCursor: null }
      where.push(`e.name IN (${query.experiments.map(() => '?').join(', ')})`)
      args.push(...query.experiments)
    }
    if (query.cursor !== undefined) {
      where.push('(a.created_at, a.run_id, a.name, a.direction) > (?, ?, ?, ?)')
      args.push(...decodeCursor('artifact lineage', query.cursor))
    }
    const from = query.experiments === undefined ? 'artifacts a' : 'artifacts a JOIN runs r ON r.id = a.run_id JOIN experiments e ON e.id = r.experiment_id'
    const rows = await this.sql.all<ArtifactRow>(`SELECT a.* FROM ${from} WHERE ${where.join(' AND ')} ORDER BY a.created_at, a.run_id, a.name, a.direction LIMIT ?`, [...args, limit + 1])
    const page = pageOf(rows, limit, 'artifact lineage', (r) => [Number(r.created_at), r.run_id, r.name, r.direction])
    return { edges: page.items.map(artifactFromRow), nextCursor: page.nextCursor }
  }

  async datasetRunsPage(query: DatasetRunsPageQuery): Promise<DatasetRunsPage> {
    const limit = pageLimit(query.limit)
    const where = ['d.sha256 = ?']
    const args: unknown[] = [query.sha256]
    if (query.experiments !== undefined) {
      if (query.experiments.length === 0) return { uses: [], nextCursor: null }
      where.push(`e.name IN (${query.experiments.map(() => '?').join(', ')})`)
      args.push(...query.experiments)
    }
    if (query.cursor !== undefined) {
      where.push('(r.start_time, d.run_id, d.name) > (?, ?, ?)')
      args.push(...decodeCursor('dataset runs', query.cursor))
    }
    const rows = await this.sql.all<{ run_id: string; run_name: string; experiment: string; start_time: number | string; name: string; role: string }>(
      `SELECT d.run_id, r.name AS run_name, e.name AS experiment, r.start_time, d.name, d.role
       FROM run_datasets d JOIN runs r ON r.id = d.run_id JOIN experiments e ON e.id = r.experiment_id
       WHERE ${where.join(' AND ')} ORDER BY r.start_time, d.run_id, d.name LIMIT ?`,
      [...args, limit + 1],
    )
    const uses = rows.map((r) => ({ runId: r.run_id, runName: r.run_name, experiment: r.experiment, startTime: Number(r.start_time), dataset: r.name, role: r.role }))
    const page = pageOf(uses, limit, 'dataset runs', (u) => [u.startTime, u.runId, u.dataset])
    return { uses: page.items, nextCursor: page.nextCursor }
  }

  async artifactSha256sWithPrefix(prefix: string, limit: number, experiments?: readonly string[]): Promise<string[]> {
    if (experiments === undefined) {
      return (await this.sql.all<{ sha256: string }>('SELECT DISTINCT sha256 FROM artifacts WHERE sha256 >= ? AND sha256 < ? ORDER BY sha256 LIMIT ?', [prefix, `${prefix}g`, limit])).map((r) => r.sha256)
    }
    if (experiments.length === 0) return []
    // One statement however much foreign content shares the prefix: the join keeps only content a run of `experiments` has.
    const rows = await this.sql.all<{ sha256: string }>(
      `SELECT DISTINCT a.sha256 FROM artifacts a JOIN runs r ON r.id = a.run_id JOIN experiments e ON e.id = r.experiment_id
       WHERE a.sha256 >= ? AND a.sha256 < ? AND e.name IN (${experiments.map(() => '?').join(', ')}) ORDER BY a.sha256 LIMIT ?`,
      [prefix, `${prefix}g`, ...experiments, limit],
    )
    return rows.map((r) => r.sha256)
  }

  // ---- holdout ledger and API tokens ----------------------------------------------------------

  async recordHoldoutRead(read: HoldoutRead): Promise<void> {
    await this.sql.run('INSERT INTO holdout_reads (read_id, dataset_sha256, dataset_name, run_ids, purpose, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [
      read.id ?? null, read.datasetSha256, read.datasetName, JSON.stringify(read.runIds), read.purpose, read.actor, read.at,
    ])
  }

  async holdoutReads(datasetSha256: string): Promise<HoldoutRead[]> {
    return allPages((cursor) => this.holdoutReadsPage({ datasetSha256, limit: PAGE_SIZE.max, cursor }), (page) => page.reads)
  }

  /**
   * One statement: with `experiments`, the database keeps only entries that name runs and whose
   * every run is in one of them, so a limited token's page costs what any page does however many
   * foreign entries come first. An entry naming no run is for tokens valid for every experiment.
   */
  async holdoutReadsPage(query: HoldoutReadPageQuery): Promise<HoldoutReadPage> {
    const limit = pageLimit(query.limit)
    const after = query.cursor === undefined ? null : decodeCursor('holdout ledger', query.cursor)
    const where = ['h.dataset_sha256 = ?']
    const args: unknown[] = [query.datasetSha256]
    if (after !== null) {
      where.push('(h.at, h.id) > (?, ?)')
      args.push(...after)
    }
    if (query.experiments !== undefined) {
      if (query.experiments.length === 0) return { reads: [], nextCursor: null }
      const runIdsOf = this.sql.dialect === 'postgres' ? 'jsonb_array_elements_text(h.run_ids::jsonb) AS j(value)' : 'json_each(h.run_ids) AS j'
      where.push(
        `EXISTS (SELECT 1 FROM ${runIdsOf})`,
        `NOT EXISTS (SELECT 1 FROM ${runIdsOf} WHERE NOT EXISTS (
           SELECT 1 FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = j.value AND e.name IN (${query.experiments.map(() => '?').join(', ')})))`,
      )
      args.push(...query.experiments)
    }
    const rows = await this.sql.all<HoldoutRow & { id: number | string }>(`SELECT h.* FROM holdout_reads h WHERE ${where.join(' AND ')} ORDER BY h.at, h.id LIMIT ?`, [...args, limit + 1])
    const page = pageOf(rows, limit, 'holdout ledger', (r) => [Number(r.at), Number(r.id)])
    return { reads: page.items.map(holdoutReadFromRow), nextCursor: page.nextCursor }
  }

  async createApiToken(token: ApiToken, secretSha256: string): Promise<void> {
    await this.sql.run('INSERT INTO api_tokens (id, secret_sha256, name, scope, experiments, created_at, created_by, revoked_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      token.id, secretSha256, token.name, token.scope, token.experiments === null ? null : JSON.stringify(token.experiments), token.createdAt, token.createdBy, token.revokedAt, token.expiresAt ?? null,
    ])
  }

  async findApiToken(secretSha256: string): Promise<ApiToken | null> {
    const row = await this.sql.get<TokenRow>('SELECT * FROM api_tokens WHERE secret_sha256 = ?', [secretSha256])
    return row === undefined ? null : tokenFromRow(row)
  }

  async listApiTokens(): Promise<ApiToken[]> {
    return allPages((cursor) => this.listApiTokensPage({ limit: PAGE_SIZE.max, cursor }), (page) => page.tokens)
  }

  async listApiTokensPage(query: PageQuery): Promise<ApiTokenPage> {
    const limit = pageLimit(query.limit)
    const rows =
      query.cursor === undefined
        ? await this.sql.all<TokenRow>('SELECT * FROM api_tokens ORDER BY created_at, id LIMIT ?', [limit + 1])
        : await this.sql.all<TokenRow>('SELECT * FROM api_tokens WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?', [...decodeCursor('API token', query.cursor), limit + 1])
    const page = pageOf(rows, limit, 'API token', (r) => [Number(r.created_at), r.id])
    return { tokens: page.items.map(tokenFromRow), nextCursor: page.nextCursor }
  }

  async revokeApiToken(id: string, at: number): Promise<void> {
    const changed = await this.sql.run('UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?', [at, id])
    if (changed === 0) throw new AssayError('ASSAY_TOKEN_NOT_FOUND', `no API token has id ${id}`)
  }

  // ---- model registry and audit log (docs/registry.md, docs/gates.md) -------------------------

  async createModel(model: RegisteredModel): Promise<void> {
    const inserted = await this.sql.run('INSERT INTO models (name, owner, description, tags, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING', [
      model.name, model.owner, model.description, canonicalJson(model.tags), model.createdAt, model.createdBy,
    ])
    if (inserted === 0) throw new AssayError('ASSAY_MODEL_EXISTS', `a model named ${JSON.stringify(model.name)} already exists`, { model: model.name })
  }

  /** The model's row; `lock` (in a write transaction) serialises version numbering and alias moves of one model. */
  private async modelRow(db: SqlExecutor, name: string, lock = false): Promise<ModelRow> {
    const row = await db.get<ModelRow>(`SELECT * FROM models WHERE name = ?${lock ? this.sql.forUpdate : ''}`, [name])
    if (row === undefined) throw new AssayError('ASSAY_MODEL_NOT_FOUND', `no registered model is named ${JSON.stringify(name)}`, { model: name })
    return row
  }

  async getModel(name: string): Promise<RegisteredModel> {
    return modelFromRow(await this.modelRow(this.sql, name))
  }

  async listModels(): Promise<RegisteredModel[]> {
    return allPages((cursor) => this.listModelsPage({ limit: PAGE_SIZE.max, cursor }), (page) => page.models)
  }

  async listModelsPage(query: PageQuery): Promise<ModelPage> {
    const limit = pageLimit(query.limit)
    const rows =
      query.cursor === undefined
        ? await this.sql.all<ModelRow>('SELECT * FROM models ORDER BY name LIMIT ?', [limit + 1])
        : await this.sql.all<ModelRow>('SELECT * FROM models WHERE name > ? ORDER BY name LIMIT ?', [...decodeCursor('model', query.cursor), limit + 1])
    const page = pageOf(rows.map(modelFromRow), limit, 'model', (m) => [m.name])
    return { models: page.items, nextCursor: page.nextCursor }
  }

  async addModelVersion(version: NewModelVersion): Promise<ModelVersion> {
    return this.sql.transaction('write', async (tx) => {
      await this.modelRow(tx, version.model, true)
      if ((await tx.get('SELECT 1 AS present FROM runs WHERE id = ?', [version.runId])) === undefined) throw runNotFound(version.runId)
      const { next } = (await tx.get<{ next: number }>('SELECT COALESCE(MAX(version), 0) + 1 AS next FROM model_versions WHERE model = ?', [version.model])) as { next: number }
      await tx.run('INSERT INTO model_versions (model, version, run_id, artifact_name, artifact_sha256, description, tags, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        version.model, next, version.runId, version.artifact?.name ?? null, version.artifact?.sha256 ?? null, version.description, canonicalJson(version.tags), version.createdAt, version.createdBy,
      ])
      return { ...version, version: Number(next) }
    })
  }

  async listModelVersions(model: string): Promise<ModelVersion[]> {
    return allPages((cursor) => this.listModelVersionsPage({ model, limit: PAGE_SIZE.max, cursor }), (page) => page.versions)
  }

  async listModelVersionsPage(query: ModelVersionPageQuery): Promise<ModelVersionPage> {
    const limit = pageLimit(query.limit)
    const after = query.cursor === undefined ? null : decodeCursor('model version', query.cursor)
    return this.sql.transaction('read', async (tx) => {
      await this.modelRow(tx, query.model)
      const rows = await tx.all<ModelVersionRow>(`SELECT * FROM model_versions WHERE model = ?${after === null ? '' : ' AND version > ?'} ORDER BY version LIMIT ?`, [query.model, ...(after ?? []), limit + 1])
      const page = pageOf(rows.map(modelVersionFromRow), limit, 'model version', (v) => [v.version])
      return { versions: page.items, nextCursor: page.nextCursor }
    })
  }

  async aliasEvents(model: string, alias?: string): Promise<AliasEvent[]> {
    return allPages((cursor) => this.aliasEventsPage({ model, alias, limit: PAGE_SIZE.max, cursor }), (page) => page.events)
  }

  async aliasEventsPage(query: AliasEventPageQuery): Promise<AliasEventPage> {
    const limit = pageLimit(query.limit)
    const where = ['model = ?']
    const args: unknown[] = [query.model]
    if (query.alias !== undefined) {
      where.push('alias = ?')
      args.push(query.alias)
    }
    if (query.cursor !== undefined) {
      where.push('seq > ?')
      args.push(...decodeCursor('alias event', query.cursor))
    }
    const rows = await this.sql.all<AliasEventRow>(`SELECT * FROM alias_events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`, [...args, limit + 1])
    const page = pageOf(rows.map(aliasEventFromRow), limit, 'alias event', (e) => [e.seq])
    return { events: page.items, nextCursor: page.nextCursor }
  }

  /**
   * Inside a write transaction: refuse a record whose hash is not its content's; hold off other
   * appenders; refuse a log whose last record is not its head anchor (its tail was removed:
   * appending would hide that) and a record that does not chain onto the last one; insert it and
   * move the anchor to it.
   */
  private async insertAudit(tx: SqlExecutor, record: AuditRecord): Promise<void> {
    assertAuditHash(record)
    await tx.serializeAppends('audit_log')
    const last = headOf(await tx.get<{ seq: number | string; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1'))
    const anchor = headOf(await tx.get<{ seq: number | string; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1'))
    assertAnchored(last, anchor)
    const expectedSeq = (last?.seq ?? 0) + 1
    const expectedPrev = last?.hash ?? GENESIS_HASH
    if (record.seq !== expectedSeq || record.prevHash !== expectedPrev) {
      throw new AssayError('ASSAY_AUDIT_CONFLICT', `audit record ${record.seq} does not follow the log's head (record ${expectedSeq - 1}); another writer appended first`, { expectedSeq })
    }
    await tx.run('INSERT INTO audit_log (seq, at, kind, actor, subject, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      record.seq, record.at, record.kind, record.actor, record.subject, canonicalJson(record.body), record.prevHash, record.hash,
    ])
    await tx.run('INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash', [record.seq, record.hash])
  }

  async appendAudit(record: AuditRecord): Promise<void> {
    await this.sql.transaction('write', (tx) => this.insertAudit(tx, record))
  }

  async moveAlias(record: AuditRecord, event: NewAliasEvent): Promise<AliasEvent> {
    return this.sql.transaction('write', async (tx) => {
      await this.modelRow(tx, event.model, true)
      if (event.version !== null && (await tx.get('SELECT 1 AS present FROM model_versions WHERE model = ? AND version = ?', [event.model, event.version])) === undefined) {
        throw new AssayError('ASSAY_MODEL_NOT_FOUND', `model ${event.model} has no version ${event.version}`, { model: event.model, version: event.version })
      }
      const latest = await tx.get<{ version: number | null }>('SELECT version FROM alias_events WHERE model = ? AND alias = ? ORDER BY seq DESC LIMIT 1', [event.model, event.alias])
      const holder = latest === undefined ? null : latest.version
      if (holder !== event.previousVersion) {
        throw new AssayError('ASSAY_AUDIT_CONFLICT', `${event.model}@${event.alias} is held by ${holder === null ? 'nobody' : `version ${holder}`}, not ${event.previousVersion === null ? 'nobody' : `version ${event.previousVersion}`}: it moved since it was read`, {
          model: event.model,
          alias: event.alias,
          holder,
        })
      }
      // The event first, then the audit record: a failure in either rolls back both.
      const inserted = (await tx.get<{ seq: number | string }>(
        'INSERT INTO alias_events (model, alias, kind, version, previous_version, actor, at, reason, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq',
        [event.model, event.alias, event.kind, event.version, event.previousVersion, event.actor, event.at, event.reason, record.seq],
      )) as { seq: number | string }
      await this.insertAudit(tx, record)
      return { ...event, seq: Number(inserted.seq), auditSeq: record.seq }
    })
  }

  async setGatePolicy(record: AuditRecord, policy: NewGatePolicy): Promise<GatePolicy> {
    return this.sql.transaction('write', async (tx) => {
      // The model row's lock serialises policy versions of one model, as it does alias moves.
      await this.modelRow(tx, policy.model, true)
      const { next } = (await tx.get<{ next: number | string }>('SELECT COALESCE(MAX(version), 0) + 1 AS next FROM gate_policies WHERE model = ? AND alias = ?', [policy.model, policy.alias])) as { next: number | string }
      if (Number(next) !== policy.version) {
        throw new AssayError('ASSAY_AUDIT_CONFLICT', `the gate of ${policy.model}@${policy.alias} changed since it was read (its next version is ${Number(next)}, not ${policy.version})`, { model: policy.model, alias: policy.alias })
      }
      await tx.run('INSERT INTO gate_policies (model, alias, version, gate, text, sha256, source, actor, at, reason, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        policy.model, policy.alias, policy.version, policy.gate, policy.text, policy.sha256, policy.source, policy.actor, policy.at, policy.reason, record.seq,
      ])
      await this.insertAudit(tx, record)
      return { ...policy, auditSeq: record.seq }
    })
  }

  async gatePolicies(query: { model?: string; alias?: string } = {}): Promise<GatePolicy[]> {
    return allPages((cursor) => this.gatePoliciesPage({ ...query, limit: PAGE_SIZE.max, cursor }), (page) => page.policies)
  }

  async gatePoliciesPage(query: GatePolicyPageQuery): Promise<GatePolicyPage> {
    const limit = pageLimit(query.limit)
    const where: string[] = []
    const args: unknown[] = []
    for (const column of ['model', 'alias'] as const) {
      const value = query[column]
      if (value === undefined) continue
      where.push(`p.${column} = ?`)
      args.push(value)
    }
    if (query.current === true) where.push('p.version = (SELECT MAX(l.version) FROM gate_policies l WHERE l.model = p.model AND l.alias = p.alias)')
    if (query.cursor !== undefined) {
      where.push('(p.model, p.alias, p.version) > (?, ?, ?)')
      args.push(...decodeCursor('gate policy', query.cursor))
    }
    const rows = await this.sql.all<GatePolicyRow>(`SELECT p.* FROM gate_policies p${where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`} ORDER BY p.model, p.alias, p.version LIMIT ?`, [...args, limit + 1])
    const page = pageOf(rows.map(gatePolicyFromRow), limit, 'gate policy', (p) => [p.model, p.alias, p.version])
    return { policies: page.items, nextCursor: page.nextCursor }
  }

  async auditRecords(): Promise<AuditRecord[]> {
    return allPages((cursor) => this.auditRecordsPage({ limit: PAGE_SIZE.max, cursor }), (page) => page.records)
  }

  async auditRecordsPage(query: PageQuery): Promise<AuditPage> {
    const limit = pageLimit(query.limit)
    const rows =
      query.cursor === undefined
        ? await this.sql.all<AuditRow>('SELECT * FROM audit_log ORDER BY seq LIMIT ?', [limit + 1])
        : await this.sql.all<AuditRow>('SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?', [...decodeCursor('audit log', query.cursor), limit + 1])
    const page = pageOf(rows.map(auditFromRow), limit, 'audit log', (r) => [r.seq])
    return { records: page.items, nextCursor: page.nextCursor }
  }

  async lastAuditRecord(): Promise<AuditRecord | null> {
    const row = await this.sql.get<AuditRow>('SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1')
    return row === undefined ? null : auditFromRow(row)
  }

  async auditHead(): Promise<{ seq: number; hash: string } | null> {
    return headOf(await this.sql.get<{ seq: number | string; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1'))
  }

  // ---- production: deployments, traces, feedback (docs/production.md) ------------------------

  async createDeployment(deployment: NewDeployment): Promise<Deployment> {
    validateNewDeployment(deployment)
    return this.sql.transaction('write', async (tx) => {
      const stored = await tx.get<DeploymentRow>('SELECT * FROM deployments WHERE id = ?', [deployment.id])
      if (stored !== undefined) {
        const found = deploymentFromRow(stored)
        if (found.endpoint !== deployment.endpoint || found.endpointVersion !== deployment.endpointVersion) {
          throw new AssayError('ASSAY_INVALID_ARGUMENT', `a deployment with id ${deployment.id} already exists (${found.endpoint} ${found.endpointVersion})`, { id: deployment.id })
        }
        return found
      }
      let modelVersion = deployment.modelVersion
      let experiment: string | null = null
      if (deployment.model !== null) {
        await this.modelRow(tx, deployment.model)
        if (deployment.alias !== null) {
          const latest = await tx.get<{ version: number | null }>('SELECT version FROM alias_events WHERE model = ? AND alias = ? ORDER BY seq DESC LIMIT 1', [deployment.model, deployment.alias])
          const holder = latest?.version ?? null
          if (holder === null) throw new AssayError('ASSAY_ALIAS_NOT_FOUND', `${deployment.model}@${deployment.alias} has no holder to deploy`, { model: deployment.model, alias: deployment.alias })
          if (modelVersion !== null && modelVersion !== Number(holder)) {
            throw new AssayError('ASSAY_INVALID_ARGUMENT', `${deployment.model}@${deployment.alias} is version ${holder}, not ${modelVersion}`, { model: deployment.model, alias: deployment.alias })
          }
          modelVersion = Number(holder)
        }
        if (modelVersion !== null) {
          const row = await tx.get<{ experiment: string }>(
            'SELECT e.name AS experiment FROM model_versions v JOIN runs r ON r.id = v.run_id JOIN experiments e ON e.id = r.experiment_id WHERE v.model = ? AND v.version = ?',
            [deployment.model, modelVersion],
          )
          if (row === undefined) throw new AssayError('ASSAY_MODEL_NOT_FOUND', `model ${deployment.model} has no version ${modelVersion}`, { model: deployment.model, version: modelVersion })
          experiment = row.experiment
        }
      }
      const record: Deployment = { ...deployment, modelVersion, experiment, unauditable: missingAuditFields({ ...deployment, modelVersion }) }
      await tx.run(
        `INSERT INTO deployments (id, endpoint, endpoint_version, model, model_version, alias, code_hash, inputs, environment, owner, created_at, experiment, unauditable)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          record.id, record.endpoint, record.endpointVersion, record.model, record.modelVersion, record.alias, record.codeHash, JSON.stringify(record.inputs),
          record.environment, record.owner, record.createdAt, record.experiment, JSON.stringify(record.unauditable),
        ],
      )
      const inputs = [...new Map(record.inputs.map((d) => [`${d.sha256} ${d.name}`, d])).values()]
      if (inputs.length > 0) await tx.insertRows('deployment_inputs', [text('deployment_id'), text('sha256'), text('name')], inputs.map((d) => [record.id, d.sha256, d.name]))
      return record
    })
  }

  async getDeployment(id: string): Promise<Deployment> {
    const row = await this.sql.get<DeploymentRow>('SELECT * FROM deployments WHERE id = ?', [id])
    if (row === undefined) throw deploymentNotFound(id)
    return deploymentFromRow(row)
  }

  async listDeploymentsPage(query: DeploymentPageQuery): Promise<DeploymentPage> {
    const limit = pageLimit(query.limit)
    const where: string[] = []
    const args: unknown[] = []
    if (query.endpoint !== undefined) {
      where.push('d.endpoint = ?')
      args.push(query.endpoint)
    }
    if (query.input !== undefined) {
      where.push('d.id IN (SELECT deployment_id FROM deployment_inputs WHERE sha256 = ?)')
      args.push(query.input)
    }
    if (query.experiments !== undefined) {
      if (query.experiments.length === 0) return { deployments: [], nextCursor: null }
      where.push(`d.experiment IN (${query.experiments.map(() => '?').join(', ')})`)
      args.push(...query.experiments)
    }
    if (query.cursor !== undefined) {
      const [time, id] = decodeCursor('deployment', query.cursor)
      where.push('(d.created_at > ? OR (d.created_at = ? AND d.id > ?))')
      args.push(time, time, id)
    }
    const rows = await this.sql.all<DeploymentRow>(`SELECT d.* FROM deployments d${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY d.created_at, d.id LIMIT ?`, [...args, limit + 1])
    const deployments = rows.slice(0, limit).map(deploymentFromRow)
    const last = deployments[deployments.length - 1]
    return { deployments, nextCursor: rows.length > limit && last !== undefined ? encodeCursor('deployment', [last.createdAt, last.id]) : null }
  }

  async logTraces(traces: readonly TraceInput[]): Promise<LogTracesResult> {
    return this.logPreparedTraces(prepareTraces(traces))
  }

  /** Traces checked and serialised beforehand (trace-write.ts prepareTraces, perhaps in a worker thread), written by the group commit. */
  async logPreparedTraces(batch: PreparedTraces): Promise<LogTracesResult> {
    const written = batch.traces.length === 0 ? { stored: [], unchanged: [], rejected: [] } : await this.traceWrites.submit(batch.traces)
    // A rejection's deploymentId is for the server's scope check, not part of the answer.
    return { stored: written.stored, unchanged: written.unchanged, rejected: [...batch.rejected.map(({ deploymentId: _, ...r }) => r), ...written.rejected] }
  }

  async tracesPage(query: TracePageQuery): Promise<TracePage> {
    const limit = pageLimit(query.limit)
    const where: string[] = []
    const args: unknown[] = []
    if (query.deployment !== undefined) {
      await this.getDeployment(query.deployment)
      where.push('deployment_id = ?')
      args.push(query.deployment)
    }
    if (query.from !== undefined) {
      where.push('start_time >= ?')
      args.push(query.from)
    }
    if (query.to !== undefined) {
      where.push('start_time < ?')
      args.push(query.to)
    }
    if (query.filter !== undefined && query.filter.trim() !== '') {
      const compiled = traceFilterToSql(parseTraceFilter(query.filter), this.sql.dialect)
      where.push(compiled.sql)
      args.push(...compiled.params)
    }
    if (query.cursor !== undefined) {
      const [time, id] = decodeCursor('trace', query.cursor)
      where.push('(start_time > ? OR (start_time = ? AND trace_id > ?))')
      args.push(time, time, id)
    }
    const rows = await this.sql.all<TraceRow>(`SELECT * FROM traces${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY start_time, trace_id LIMIT ?`, [...args, limit + 1])
    const page = rows.slice(0, limit).map(traceSummaryFromRow)
    const last = page[page.length - 1]
    return { traces: page, nextCursor: rows.length > limit && last !== undefined ? encodeCursor('trace', [last.startTime, last.traceId]) : null }
  }

  async getTrace(traceId: string): Promise<Trace> {
    return this.sql.transaction('read', async (tx) => {
      const row = await tx.get<TraceRow>('SELECT * FROM traces WHERE trace_id = ?', [traceId])
      if (row === undefined) throw traceNotFound(traceId)
      const spans = (await tx.all<Pick<SpanSetRow, 'spans'>>('SELECT spans FROM trace_span_sets WHERE trace_id = ? ORDER BY seq', [traceId])).flatMap((r) => spanSetLines(r).map(spanFromData))
      spans.sort((a, b) => a.startTime - b.startTime || (a.spanId < b.spanId ? -1 : 1))
      const feedback = (await tx.all<FeedbackRow>('SELECT * FROM trace_feedback WHERE trace_id = ? ORDER BY at, id', [traceId])).map(feedbackFromRow)
      return { ...traceSummaryFromRow(row), spans, feedback }
    })
  }

  async addFeedback(feedback: Feedback): Promise<void> {
    validateFeedback(feedback)
    await this.sql.transaction('write', async (tx) => {
      // The trace row locked first (PostgreSQL; SQLite's write lock is the database's): two
      // feedbacks on one trace at once then rewrite its latest values one after the other, each
      // statement seeing the other's committed insert.
      if ((await tx.get(`SELECT 1 AS present FROM traces WHERE trace_id = ?${this.sql.forUpdate}`, [feedback.traceId])) === undefined) throw traceNotFound(feedback.traceId)
      const added = await tx.run('INSERT INTO trace_feedback (id, trace_id, name, value, source, at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING', [
        feedback.id, feedback.traceId, feedback.name, feedback.value, feedback.source, feedback.at,
      ])
      if (added === 0) return
      // The row's latest value of this name (migration 17), chosen from trace_feedback by the rule
      // every read of feedback uses (time, then id in byte order): feedback arriving out of order or
      // replayed leaves the row as the table's order says, whatever the order of arrival.
      const latest = 'SELECT value FROM trace_feedback WHERE trace_id = ? AND name = ? ORDER BY at DESC, id DESC LIMIT 1'
      // float8 as text is exact (shortest round-trip form) only with extra_float_digits above 0; a
      // role or pooler may set it lower, so this transaction sets it.
      if (this.sql.dialect === 'postgres') await tx.run('SET LOCAL extra_float_digits = 3')
      await tx.run(
        this.sql.dialect === 'postgres'
          ? `UPDATE traces SET feedback = COALESCE(feedback, '{}'::jsonb) || jsonb_build_object(?::text, (${latest})::text) WHERE trace_id = ?`
          : `UPDATE traces SET feedback = json_patch(COALESCE(feedback, '{}'), json_object(?, (${latest}))) WHERE trace_id = ?`,
        [feedback.name, feedback.traceId, feedback.name, feedback.traceId],
      )
    })
  }

  async traceEvalRecordsPage(query: TracePageQuery): Promise<TraceEvalRecordPage> {
    const page = await this.tracesPage(query)
    if (page.traces.length === 0) return { records: [], nextCursor: page.nextCursor }
    const ids = page.traces.map((t) => t.traceId)
    const feedback = (await this.sql.all<FeedbackRow>(`SELECT * FROM trace_feedback WHERE trace_id IN (${marks(ids)}) ORDER BY at, id`, ids)).map(feedbackFromRow)
    const byTrace = new Map<string, Feedback[]>()
    for (const f of feedback) byTrace.set(f.traceId, [...(byTrace.get(f.traceId) ?? []), f])
    return { records: page.traces.map((t) => traceEvalRecord(t, byTrace.get(t.traceId) ?? [])), nextCursor: page.nextCursor }
  }

  async traceRowsPage(query: TraceRowPageQuery): Promise<TraceRowPage> {
    const limit = query.limit ?? TRACE_ROW_PAGE_SIZE.default
    if (!Number.isInteger(limit) || limit < 1 || limit > TRACE_ROW_PAGE_SIZE.max) {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `a page of trace rows holds 1 to ${TRACE_ROW_PAGE_SIZE.max} rows, not ${JSON.stringify(query.limit)}`, { limit: query.limit })
    }
    const modelVersion = await this.traceWindowModelVersion(query)
    const after = query.cursor === undefined ? null : decodeCursor('trace row', query.cursor)
    // Only the monitor's columns; (start_time, trace_id) row comparison keeps the keyset on the index.
    const window = (t: string): string =>
      `${t}deployment_id = ? AND ${t}start_time >= ? AND ${t}start_time < ?${after === null ? '' : ` AND (${t}start_time, ${t}trace_id) > (?, ?)`}`
    const args: unknown[] = [query.deployment, query.from, query.to, ...(after === null ? [] : after)]
    const rows = await this.sql.all<TraceRowColumns>(
      `SELECT ${TRACE_ROW_COLUMNS} FROM traces WHERE ${window('')} ORDER BY start_time, trace_id LIMIT ?`,
      [...args, limit + 1],
    )
    const page = rows.slice(0, limit)
    const last = page[page.length - 1]
    if (last === undefined) return { rows: [], nextCursor: null }
    // Feedback of exactly this page's traces: the same keyset range, joined, in time order (the latest value of a name wins).
    const feedback = await this.sql.all<{ trace_id: string; name: string; value: number }>(
      `SELECT f.trace_id, f.name, f.value FROM trace_feedback f JOIN traces t ON t.trace_id = f.trace_id
       WHERE ${window('t.')} AND (t.start_time, t.trace_id) <= (?, ?)
       ORDER BY f.at, f.id`,
      [...args, Number(last.start_time), last.trace_id],
    )
    const byTrace = new Map<string, { name: string; value: number }[]>()
    for (const f of feedback) {
      const list = byTrace.get(f.trace_id)
      const entry = { name: f.name, value: Number(f.value) }
      if (list === undefined) byTrace.set(f.trace_id, [entry])
      else list.push(entry)
    }
    const builder = new TraceRowBuilder()
    return {
      rows: page.map((r) => builder.row(traceRowFieldsFromColumns(r), byTrace.get(r.trace_id) ?? [], modelVersion)),
      nextCursor: rows.length > limit ? encodeCursor('trace row', [Number(last.start_time), last.trace_id]) : null,
    }
  }

  /** Checks a trace window's times and deployment; the deployment's model version as rows carry it. */
  protected async traceWindowModelVersion(query: { deployment: string; from: number; to: number }): Promise<string | undefined> {
    for (const [name, value] of [['from', query.from], ['to', query.to]] as const) {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${name} must be a time in milliseconds`, { field: name })
    }
    const deployment = await this.getDeployment(query.deployment)
    return deployment.model === null || deployment.modelVersion === null ? undefined : `${deployment.model}@${deployment.modelVersion}`
  }

  async traceColumns(query: TraceColumnsQuery): Promise<TraceColumns> {
    const pageSize = query.pageSize ?? TRACE_COLUMN_PAGE_SIZE
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new AssayError('ASSAY_INVALID_ARGUMENT', `pageSize must be a positive integer, not ${JSON.stringify(query.pageSize)}`, { field: 'pageSize' })
    const modelVersion = await this.traceWindowModelVersion(query)
    const { needs } = query
    const builder = new TraceColumnsBuilder(needs)
    const select = traceColumnsSelect(needs, this.sql.dialect)
    let after: [number, string] | null = null
    for (;;) {
      // The keyset of traceRowsPage, in pages of TRACE_COLUMN_PAGE_SIZE, only the needed columns; the
      // score subqueries' names come first, as their placeholders do in the text.
      const keyset: string = after === null ? '' : ' AND (start_time, trace_id) > (?, ?)'
      const rows: Record<string, unknown>[] = await this.sql.all<Record<string, unknown>>(
        `SELECT ${select} FROM traces WHERE deployment_id = ? AND start_time >= ? AND start_time < ?${keyset} ORDER BY start_time, trace_id LIMIT ?`,
        [...needs.scores, query.deployment, query.from, query.to, ...(after ?? []), pageSize],
      )
      const last: Record<string, unknown> | undefined = rows[rows.length - 1]
      if (last === undefined) break
      const start = builder.length
      builder.reserve(rows.length)
      writeTraceColumnRows(builder, rows, modelVersion)
      writeGuardrailScores(builder, start, rows)
      builder.commit(rows.length)
      if (rows.length < pageSize) break
      after = [Number(last.start_time), last.trace_id as string]
    }
    return shareNumberFeatures(builder.finish(), needs)
  }

  async close(): Promise<void> {
    await this.sql.close()
  }
}

/**
 * Refuse a write that would take a run over its LIMITS of tags or metric keys (validate.ts): the
 * run's count first, and only near the limit which of `keys` are new.
 */
async function assertRoomFor(tx: SqlExecutor, table: 'run_tags' | 'metric_summaries', kind: 'tags' | 'metric keys', runId: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return
  const unique = [...new Set(keys)]
  const { n } = (await tx.get<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table} WHERE run_id = ?`, [runId])) as { n: number | string }
  const stored = Number(n)
  if (stored + unique.length <= ITEMS_PER_RUN[kind]) return
  const present = (await tx.all<{ key: string }>(`SELECT key FROM ${table} WHERE run_id = ? AND key IN (${unique.map(() => '?').join(', ')})`, [runId, ...unique])).length
  // Only new keys count: a run stored before the limit may still update the ones it has.
  if (unique.length > present) assertItemsPerRun(kind, stored + unique.length - present, runId)
}

function marks(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ')
}

function deploymentNotFound(id: string): AssayError {
  return new AssayError('ASSAY_DEPLOYMENT_NOT_FOUND', `no deployment has id ${id}`, { id })
}

function traceNotFound(traceId: string): AssayError {
  return new AssayError('ASSAY_TRACE_NOT_FOUND', `no trace has id ${traceId}`, { traceId })
}

/**
 * A run_params row: the canonical JSON, and the number (value_num) or text (value_text) the
 * filter compares. Text with a NUL character is left out of value_text: PostgreSQL text cannot
 * hold it (and run_params.value keeps it, escaped).
 */
function paramRow(runId: string, key: string, value: JsonValue): unknown[] {
  const p = paramColumns(key, value)
  return [runId, p.key, p.json, p.number, p.text]
}

/** A param's canonical JSON, and the number or text it holds for the filter (run-filter-sql.ts). */
function paramColumns(key: string, value: JsonValue): ParamColumns {
  return { key, json: canonicalJson(value), number: typeof value === 'number' ? value : null, text: typeof value === 'string' && !value.includes('\u0000') ? value : null }
}

/** What listRunsPage reads: the page's size, filter, order and the cursor's keys, and how a cursor is written. */
interface PageRequest {
  limit: number
  filter: FilterNode | null
  sort: SortKeys
  after: (number | string)[] | null
  cursorOf: (key: (number | string)[]) => string
}

function pageRequest(query: RunPageQuery, dialect: SqlDialect): PageRequest {
  const limit = pageLimit(query.limit)
  const filter = query.filter === undefined || query.filter.trim() === '' ? null : parseRunFilter(query.filter)
  const order = parseRunOrder(query.orderBy)
  const orderText = formatRunOrder(order)
  const defaultOrder = orderText === formatRunOrder(DEFAULT_RUN_ORDER)
  const sort = orderToSql(order, dialect, filter)
  let after: (number | string)[] | null = null
  if (query.cursor !== undefined) {
    // The default order keeps the cursor it always had (start time and id), so old cursors still work.
    const cursor = defaultOrder ? decodeRunCursor(query.cursor) : null
    after = cursor !== null ? [cursor.startTime, cursor.id] : decodeOrderedRunCursor(query.cursor, orderText, sort.keys.map((k) => k.kind))
  }
  const cursorOf = (key: (number | string)[]) => (defaultOrder ? encodeRunCursor({ startTime: key[0] as number, id: key[1] as string }) : encodeOrderedRunCursor(orderText, key))
  return { limit, filter, sort, after, cursorOf }
}

/** A listed row's keys in the order (its k0, k1... columns, or the segment's constants): what its cursor holds. */
function segmentKey(sort: SortKeys, segment: SortKeys['segments'][number], row: Record<string, unknown>): (number | string)[] {
  return segment.columns.map((c, i) => (typeof c === 'object' ? c.constant : sort.keys[i].kind === 'number' ? Number(row[`k${i}`]) : String(row[`k${i}`])))
}

/**
 * The one-statement page's params, tags and last metric values of a run (x), as JSON objects by
 * key. PostgreSQL orders the keys in the aggregate; SQLite reads them in key order from the
 * primary key (run_id, key) it looks the run up by, and an ORDER BY there would sort each run's
 * rows again in a temporary B-tree. A params value is stored as JSON text (json() embeds it as
 * JSON); a NaN last value is NULL on SQLite and "NaN" on PostgreSQL (runSummaryFromAggregates).
 */
const PAGE_AGGREGATES: Record<SqlDialect, { params: string; tags: string; metrics: string }> = {
  postgres: {
    params: 'json_object_agg(x.key, x.value::json ORDER BY x.key)',
    tags: 'json_object_agg(x.key, x.value ORDER BY x.key)',
    metrics: 'json_object_agg(x.key, x.last ORDER BY x.key)',
  },
  sqlite: {
    params: 'json_group_object(x.key, json(x.value))',
    tags: 'json_group_object(x.key, x.value)',
    metrics: 'json_group_object(x.key, x.last)',
  },
}

/** An aggregated column: pg parses json columns itself, better-sqlite3 returns SQLite's JSON as text. */
function parsedJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value
}

/** A required condition at most this many rows pass drives a search (planFilter). */
const DRIVING_ROWS = 2000

type Condition = { table: string; sql: string; params: unknown[] }

/**
 * Before a filtered listing, in one statement: whether some run of the listing's experiments
 * has each params, metrics and tags key the filter names, and how many rows pass each required
 * condition (requiredConditions), counted up to DRIVING_ROWS + 1 so asking costs the same in
 * any size of store.
 *
 * A key no run has is ASSAY_INVALID_FILTER naming the keys that exist, as filterRuns does in
 * memory (a typo, not an empty result); nothing is refused when there are no runs at all.
 *
 * Returns the required condition the fewest rows pass, when at most DRIVING_ROWS do, else null.
 * Without it a search reads runs in the listing's order and tests each: cheap when many match,
 * a scan of the store when few do. With it the runs that pass that condition are read first
 * (through its index, key and value) and sorted. It is in the WHERE already: adding it again as
 * `r.id IN (…)` changes the plan, never the result.
 */
async function planFilter(tx: SqlExecutor, filter: FilterNode, dialect: SqlDialect, scope: readonly string[], scopeArgs: readonly unknown[]): Promise<Condition | null> {
  const fields = scopedFields(filter)
  const required = requiredConditions(filter, dialect)
  const within = scope.length === 0 ? '' : ` WHERE ${scope.join(' AND ')}`
  const presence = presenceColumns(fields, { where: scope, args: scopeArgs })
  const columns = [
    ...presence.columns.map((c, i) => `${c} AS present${i}`),
    ...required.map((c, i) => `(SELECT COUNT(*) FROM (SELECT 1 AS one FROM ${c.table} x WHERE ${c.sql} LIMIT ${DRIVING_ROWS + 1}) c${i}) AS rows${i}`),
  ]
  if (columns.length === 0) return null
  const args = [...presence.args, ...required.flatMap((c) => c.params)]
  const row = (await tx.get<Record<string, number | string | null>>(`SELECT ${columns.join(', ')}`, args)) as Record<string, number | string | null>
  for (const [i, field] of fields.entries()) {
    if (row[`present${i}`] !== null) continue
    if ((await tx.get(`SELECT 1 AS present FROM runs r JOIN experiments e ON e.id = r.experiment_id${within} LIMIT 1`, [...scopeArgs])) === undefined) return null
    const table = FILTER_SCOPE_TABLES[field.scope]
    const known = await tx.all<{ key: string }>(`SELECT DISTINCT x.key FROM ${table} x JOIN runs r ON r.id = x.run_id JOIN experiments e ON e.id = r.experiment_id${within}`, [...scopeArgs])
    throw unknownKeyError(field, known.map((k) => k.key))
  }
  let best: Condition | null = null
  let fewest = DRIVING_ROWS + 1
  for (const [i, condition] of required.entries()) {
    const n = Number(row[`rows${i}`])
    if (n < fewest) {
      fewest = n
      best = condition
    }
  }
  return best
}

/**
 * The experiment scope of a listing as WHERE conditions over `runs r JOIN experiments e`; null
 * when it names no experiment at all (an empty `experiments`).
 */
function listingScope(query: { experiment?: string; experiments?: readonly string[] }): { where: string[]; args: unknown[] } | null {
  const where: string[] = []
  const args: unknown[] = []
  if (query.experiment !== undefined) {
    where.push('e.name = ?')
    args.push(query.experiment)
  }
  if (query.experiments !== undefined) {
    if (query.experiments.length === 0) return null
    where.push(`e.name IN (${query.experiments.map(() => '?').join(', ')})`)
    args.push(...query.experiments)
  }
  return { where, args }
}

/** For each params, metrics or tags key a filter names, a subquery that is 1 when some run in scope has it and NULL otherwise. */
function presenceColumns(fields: readonly ScopedField[], scope: { where: readonly string[]; args: readonly unknown[] }): { columns: string[]; args: unknown[] } {
  const inScope = (table: string) =>
    scope.where.length === 0 ? `FROM ${table} x WHERE x.key = ?` : `FROM ${table} x JOIN runs r ON r.id = x.run_id JOIN experiments e ON e.id = r.experiment_id WHERE x.key = ? AND ${scope.where.join(' AND ')}`
  return {
    columns: fields.map((f) => `(SELECT 1 ${inScope(FILTER_SCOPE_TABLES[f.scope])} LIMIT 1)`),
    args: fields.flatMap((f) => [f.key, ...scope.args]),
  }
}

function experimentNotFound(name: string): AssayError {
  return new AssayError('ASSAY_EXPERIMENT_NOT_FOUND', `no experiment is named ${JSON.stringify(name)}`)
}

function runExists(runId: string): AssayError {
  return new AssayError('ASSAY_INVALID_ARGUMENT', `a run with id ${runId} already exists`, { runId })
}

function evalShaMismatch(runId: string, dataset: string, stored: string, given: string): AssayError {
  return new AssayError('ASSAY_INVALID_ARGUMENT', `eval records of ${dataset} in run ${runId} were logged against ${stored}, not ${given}`)
}

/** A run_datasets row after its run_id. */
function datasetRow(d: NewRun['datasets'][number]): unknown[] {
  return [d.name, d.role, d.sha256, d.kind, d.sizeBytes, d.fileCount, d.rows, d.columns === null ? null : JSON.stringify(d.columns), d.source]
}

/**
 * The outcome of a one-statement write (SqlAdapter.oneStatement) as the transaction of the same
 * operation would have ended: the same catalogue errors, from the same functions.
 */
function requireWritten(outcome: WriteOutcome, runId: string, write?: { dataset?: string; datasetSha256?: string; params?: readonly ParamColumns[] }): void {
  switch (outcome.kind) {
    case 'written':
    case 'applied':
      return
    case 'missing':
      throw runNotFound(runId)
    case 'ended':
      return requireWritable(outcome.status, runId)
    case 'too-many':
      return assertItemsPerRun(outcome.items, outcome.count, runId)
    case 'param-conflict':
      throw paramConflict(runId, outcome.key, outcome.stored, write?.params?.find((p) => p.key === outcome.key)?.json ?? '')
    case 'sha-mismatch':
      throw evalShaMismatch(runId, write?.dataset ?? '', outcome.stored, write?.datasetSha256 ?? '')
  }
}

function paramConflict(runId: string, key: string, stored: string, attempted: string): AssayError {
  return new AssayError('ASSAY_PARAM_CONFLICT', `param ${JSON.stringify(key)} of run ${runId} is already ${stored}; it cannot become ${attempted}`, { key, stored, attempted })
}

function runNotFound(runId: string): AssayError {
  return new AssayError('ASSAY_RUN_NOT_FOUND', `no run has id ${runId}`, { runId })
}

/**
 * Writes are allowed to a running run and to one a reader marked crashed (the write revives it:
 * its process was stalled, not dead); an ended run refuses them.
 */
function requireWritable(status: RunStatus, runId: string): void {
  if (status !== 'running' && status !== 'crashed') {
    throw new AssayError('ASSAY_RUN_NOT_ACTIVE', `run ${runId} is ${status}; nothing more can be logged to it`, { runId, status })
  }
}

function headOf(row: { seq: number | string; hash: string } | undefined): { seq: number; hash: string } | null {
  return row === undefined ? null : { seq: Number(row.seq), hash: row.hash }
}

/** The message of a store whose schema is newer than this assay's migrations. */
export function schemaTooNew(location: string, current: number, latest: number): AssayError {
  return new AssayError('ASSAY_STORE_SCHEMA_TOO_NEW', `${location} has schema version ${current}; this assay knows up to ${latest}. Upgrade assay.`)
}
