import Database from 'better-sqlite3'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { AssayError } from '../../errors.js'
import { computeEnvelope } from '../../record/envelope.js'
import type {
  AliasEvent,
  ApiToken,
  ArtifactDirection,
  ArtifactRef,
  DatasetVersion,
  EvalColumns,
  ExperimentSummary,
  HoldoutRead,
  ModelVersion,
  Params,
  RegisteredModel,
  AuditRecord,
  RunRecord,
  RunStatus,
  RunSummary,
} from '../../record/types.js'
import { assertAnchored, assertAuditHash } from '../../record/audit-hash.js'
import { canonicalJson } from '../../record/validate.js'
import { FileBlobStore } from '../artifacts/file-blob-store.js'
import { encodeEvalChunk, encodeMetricChunk, type EvalChunk, type MetricColumns } from '../chunk-codec.js'
import { foldMetricSummary } from '../metric-summary.js'
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
  summaryFromRow,
  tokenFromRow,
  type ArtifactRow,
  type DatasetRow,
  type EvalSetRow,
  type ExperimentRow,
  type HoldoutRow,
  type KeyValueRow,
  type RunRow,
  type SummaryRow,
  type TokenRow,
} from '../row-mapping.js'
import {
  aliasEventFromRow,
  auditFromRow,
  modelFromRow,
  modelVersionFromRow,
  type AliasEventRow,
  type AuditRow,
  type ModelRow,
  type ModelVersionRow,
} from '../registry-rows.js'
import type { ArtifactContent, NewAliasEvent, NewModelVersion, NewRun, RunBatch, Store } from '../store.js'
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js'

/** How long one write waits for other writers (SQLite busy_timeout), and how often it retries after. */
const BUSY_TIMEOUT_MS = 5_000
const BUSY_RETRIES = 12

/**
 * The embedded store: one SQLite file in WAL mode plus a content-addressed artifact folder.
 * Several processes may write at once; SQLite serialises them and a busy writer waits, then
 * retries, so "database is locked" never reaches the user (ASSAY_STORE_BUSY after the budget).
 * synchronous=NORMAL makes a committed transaction survive the process being killed; it does
 * not promise survival of a power cut (set ASSAY_SQLITE_SYNCHRONOUS=FULL for that).
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite'
  readonly location: string
  private readonly db: Database.Database
  private readonly blobs: FileBlobStore

  private constructor(root: string) {
    this.location = root
    // A store directory assay creates ignores itself, so the default ./.assay inside a git work
    // tree neither shows as untracked nor makes runs dirty. An existing directory is left alone.
    if (mkdirSync(root, { recursive: true }) !== undefined) {
      try {
        writeFileSync(path.join(root, '.gitignore'), '*\n', { flag: 'wx' })
      } catch {
        // Best effort: code capture excludes the store directory anyway.
      }
    }
    this.db = new Database(path.join(root, 'assay.db'), { timeout: BUSY_TIMEOUT_MS })
    this.db.defaultSafeIntegers(false)
    this.blobs = new FileBlobStore(path.join(root, 'artifacts'))
  }

  static async open(root: string): Promise<SqliteStore> {
    const store = new SqliteStore(root)
    store.withBusyRetry(() => {
      store.db.pragma('journal_mode = WAL')
      store.db.pragma(`synchronous = ${process.env.ASSAY_SQLITE_SYNCHRONOUS === 'FULL' ? 'FULL' : 'NORMAL'}`)
      store.db.pragma('foreign_keys = ON')
    })
    store.migrate()
    return store
  }

  private migrate(): void {
    const latest = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1].version
    this.write(() => {
      const current = this.db.pragma('user_version', { simple: true }) as number
      if (current > latest) {
        throw new AssayError('ASSAY_STORE_SCHEMA_TOO_NEW', `${this.location} has schema version ${current}; this assay knows up to ${latest}. Upgrade assay.`)
      }
      for (const migration of SQLITE_MIGRATIONS) {
        if (migration.version > current) {
          this.db.exec(migration.sql)
          this.db.pragma(`user_version = ${migration.version}`)
        }
      }
    })
  }

  /** Run `fn` in a BEGIN IMMEDIATE transaction, retrying while other writers hold the lock. */
  private write<T>(fn: () => T): T {
    return this.withBusyRetry(() => this.db.transaction(fn).immediate())
  }

  private withBusyRetry<T>(fn: () => T): T {
    for (let attempt = 0; ; attempt++) {
      try {
        return fn()
      } catch (error) {
        const code = (error as { code?: string }).code
        if ((code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT') && attempt < BUSY_RETRIES) continue
        if (code?.startsWith('SQLITE_BUSY')) {
          throw new AssayError('ASSAY_STORE_BUSY', `${this.location} stayed locked by other writers for over ${(BUSY_TIMEOUT_MS * (BUSY_RETRIES + 1)) / 1000} s`)
        }
        throw error
      }
    }
  }

  async createRun(run: NewRun): Promise<void> {
    const envelope = computeEnvelope(run)
    this.write(() => {
      if (this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(run.id) !== undefined) {
        throw new AssayError('ASSAY_INVALID_ARGUMENT', `a run with id ${run.id} already exists`, { runId: run.id })
      }
      this.db.prepare('INSERT INTO experiments (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING').run(run.experiment, run.startTime)
      const experiment = this.db.prepare('SELECT id FROM experiments WHERE name = ?').get(run.experiment) as { id: number }
      this.db
        .prepare(
          `INSERT INTO runs (id, experiment_id, name, owner, status, start_time, end_time, heartbeat_at, parent_id, group_id,
             seed, seed_source, environment, code, config_fingerprint)
           VALUES (?, ?, ?, ?, 'running', ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          run.id, experiment.id, run.name, run.owner, run.startTime, run.startTime, run.parentId, run.groupId,
          run.seed, run.seedSource, JSON.stringify(run.environment), JSON.stringify(run.code), envelope.config,
        )
      const insertParam = this.db.prepare('INSERT INTO run_params (run_id, key, value) VALUES (?, ?, ?)')
      for (const [key, value] of Object.entries(run.params)) insertParam.run(run.id, key, canonicalJson(value))
      const insertTag = this.db.prepare('INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)')
      for (const [key, value] of Object.entries(run.tags)) insertTag.run(run.id, key, value)
      const insertDataset = this.db.prepare(
        `INSERT INTO run_datasets (run_id, name, role, sha256, kind, size_bytes, file_count, rows, columns, source)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      for (const d of run.datasets) {
        insertDataset.run(run.id, d.name, d.role, d.sha256, d.kind, d.sizeBytes, d.fileCount, d.rows, d.columns === null ? null : JSON.stringify(d.columns), d.source)
      }
    })
  }

  private requireRunning(runId: string): RunRow {
    const row = this.runRow(runId)
    if (row.status === 'crashed') {
      // A reader marked it crashed while its process was stalled (paused, swapped, suspended);
      // a write is proof of life, so the run is running again and nothing it logs is lost.
      this.db.prepare("UPDATE runs SET status = 'running', end_time = NULL WHERE id = ? AND status = 'crashed'").run(runId)
      return { ...row, status: 'running', end_time: null }
    }
    if (row.status !== 'running') {
      throw new AssayError('ASSAY_RUN_NOT_ACTIVE', `run ${runId} is ${row.status}; nothing more can be logged to it`, { runId, status: row.status })
    }
    return row
  }

  private runRow(runId: string): RunRow {
    const row = this.db
      .prepare('SELECT r.*, e.name AS experiment FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?')
      .get(runId) as RunRow | undefined
    if (row === undefined) throw new AssayError('ASSAY_RUN_NOT_FOUND', `no run has id ${runId}`, { runId })
    return row
  }

  /** True when this batch id was applied before; otherwise remembers it (inside the caller's transaction). */
  private alreadyApplied(batchId: string | undefined, runId: string): boolean {
    if (batchId === undefined) return false
    return this.db.prepare('INSERT INTO applied_batches (batch_id, run_id, applied_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(batchId, runId, Date.now()).changes === 0
  }

  async logBatch(runId: string, batch: RunBatch): Promise<void> {
    const now = Date.now()
    this.write(() => {
      if (this.alreadyApplied(batch.batchId, runId)) return
      const row = this.requireRunning(runId)
      if (batch.params && Object.keys(batch.params).length > 0) {
        const existing = this.db.prepare('SELECT value FROM run_params WHERE run_id = ? AND key = ?')
        const insert = this.db.prepare('INSERT INTO run_params (run_id, key, value) VALUES (?, ?, ?)')
        for (const [key, value] of Object.entries(batch.params)) {
          const text = canonicalJson(value)
          const stored = existing.get(runId, key) as { value: string } | undefined
          if (stored === undefined) insert.run(runId, key, text)
          else if (stored.value !== text) {
            throw new AssayError('ASSAY_PARAM_CONFLICT', `param ${JSON.stringify(key)} of run ${runId} is already ${stored.value}; it cannot become ${text}`, { key, stored: stored.value, attempted: text })
          }
        }
        const config = configFingerprint(row, this.params(runId), this.datasets(runId))
        this.db.prepare('UPDATE runs SET config_fingerprint = ? WHERE id = ?').run(config, runId)
      }
      if (batch.tags) {
        const upsert = this.db.prepare('INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value')
        for (const [key, value] of Object.entries(batch.tags)) upsert.run(runId, key, value)
      }
      if (batch.metrics && batch.metrics.length > 0) {
        const nextSeq = this.db.prepare('SELECT COALESCE(MAX(seq), -1) + 1 AS seq FROM metric_chunks WHERE run_id = ? AND key = ?')
        const insertChunk = this.db.prepare('INSERT INTO metric_chunks (run_id, key, seq, count, data) VALUES (?, ?, ?, ?, ?)')
        const readSummary = this.db.prepare('SELECT * FROM metric_summaries WHERE run_id = ? AND key = ?')
        const writeSummary = this.db.prepare(
          `INSERT INTO metric_summaries (run_id, key, last, last_step, min, max, count) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (run_id, key) DO UPDATE SET last = excluded.last, last_step = excluded.last_step,
             min = excluded.min, max = excluded.max, count = excluded.count`,
        )
        for (const series of batch.metrics) {
          if (series.values.length === 0) continue
          const { seq } = nextSeq.get(runId, series.key) as { seq: number }
          insertChunk.run(runId, series.key, seq, series.values.length, encodeMetricChunk(series))
          const summary = foldMetricSummary(summaryFromRow(readSummary.get(runId, series.key) as SummaryRow | undefined), series)
          writeSummary.run(runId, series.key, nullIfNaN(summary.last), summary.lastStep, summary.min, summary.max, summary.count)
        }
      }
      this.db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ?').run(now, runId)
    })
  }

  async logEval(runId: string, dataset: string, datasetSha256: string, chunk: EvalChunk, batchId?: string): Promise<void> {
    const encoded = encodeEvalChunk(chunk)
    const scoreNames = evalScoreNames(chunk)
    this.write(() => {
      if (this.alreadyApplied(batchId, runId)) return
      this.requireRunning(runId)
      const set = this.db.prepare('SELECT dataset_sha256, count, score_names FROM eval_sets WHERE run_id = ? AND dataset = ?').get(runId, dataset) as
        | { dataset_sha256: string; count: number; score_names: string }
        | undefined
      if (set === undefined) {
        this.db
          .prepare('INSERT INTO eval_sets (run_id, dataset, dataset_sha256, count, score_names) VALUES (?, ?, ?, ?, ?)')
          .run(runId, dataset, datasetSha256, chunk.ids.length, JSON.stringify(scoreNames))
      } else {
        if (set.dataset_sha256 !== datasetSha256) {
          throw new AssayError('ASSAY_INVALID_ARGUMENT', `eval records of ${dataset} in run ${runId} were logged against ${set.dataset_sha256}, not ${datasetSha256}`)
        }
        this.db.prepare('UPDATE eval_sets SET count = count + ?, score_names = ? WHERE run_id = ? AND dataset = ?').run(chunk.ids.length, mergeScoreNames(set.score_names, scoreNames), runId, dataset)
      }
      const { seq } = this.db.prepare('SELECT COALESCE(MAX(seq), -1) + 1 AS seq FROM eval_chunks WHERE run_id = ? AND dataset = ?').get(runId, dataset) as { seq: number }
      this.db.prepare('INSERT INTO eval_chunks (run_id, dataset, seq, count, data) VALUES (?, ?, ?, ?, ?)').run(runId, dataset, seq, chunk.ids.length, encoded)
      this.db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ?').run(Date.now(), runId)
    })
  }

  async setRunStatus(runId: string, status: Exclude<RunStatus, 'running'>, endTime: number): Promise<void> {
    this.write(() => {
      this.requireRunning(runId)
      this.db.prepare('UPDATE runs SET status = ?, end_time = ?, heartbeat_at = ? WHERE id = ?').run(status, endTime, endTime, runId)
    })
  }

  async heartbeat(runId: string, at: number): Promise<void> {
    this.write(() => {
      // A heartbeat from a run marked crashed revives it, as any write does (requireRunning).
      this.db.prepare("UPDATE runs SET heartbeat_at = ?, status = 'running', end_time = NULL WHERE id = ? AND status IN ('running', 'crashed')").run(at, runId)
    })
  }

  async markCrashedRuns(staleBefore: number): Promise<number> {
    // Readers call this before every read: look first, so a read takes the write lock only when needed.
    const stale = this.db.prepare("SELECT 1 FROM runs WHERE status = 'running' AND heartbeat_at < ? LIMIT 1").get(staleBefore)
    if (stale === undefined) return 0
    return this.write(
      () => this.db.prepare("UPDATE runs SET status = 'crashed', end_time = heartbeat_at WHERE status = 'running' AND heartbeat_at < ?").run(staleBefore).changes,
    )
  }

  async resolveRunId(idOrPrefix: string): Promise<string> {
    if (typeof idOrPrefix !== 'string' || !/^[0-9a-f]{6,32}$/.test(idOrPrefix)) {
      throw new AssayError('ASSAY_RUN_NOT_FOUND', `${JSON.stringify(idOrPrefix)} is not a run id (32 hex characters, or a unique prefix of 6 or more)`)
    }
    const rows = this.db.prepare('SELECT id FROM runs WHERE id >= ? AND id < ? LIMIT 2').all(idOrPrefix, `${idOrPrefix}g`) as { id: string }[]
    if (rows.length === 0) throw new AssayError('ASSAY_RUN_NOT_FOUND', `no run has id ${idOrPrefix}`, { runId: idOrPrefix })
    if (rows.length > 1) throw new AssayError('ASSAY_INVALID_ARGUMENT', `run id prefix ${idOrPrefix} is ambiguous; give more characters`)
    return rows[0].id
  }

  private params(runId: string): Params {
    return paramsFromRows(this.paramRows(runId))
  }

  private paramRows(runId: string): KeyValueRow[] {
    return this.db.prepare('SELECT key, value FROM run_params WHERE run_id = ? ORDER BY key').all(runId) as KeyValueRow[]
  }

  private datasets(runId: string): DatasetVersion[] {
    return this.datasetRows(runId).map(datasetFromRow)
  }

  private datasetRows(runId: string): DatasetRow[] {
    return this.db.prepare('SELECT * FROM run_datasets WHERE run_id = ? ORDER BY name').all(runId) as DatasetRow[]
  }

  async getRun(runId: string): Promise<RunRecord> {
    return runRecordFromRows({
      row: this.runRow(runId),
      params: this.paramRows(runId),
      tags: this.db.prepare('SELECT key, value FROM run_tags WHERE run_id = ? ORDER BY key').all(runId) as KeyValueRow[],
      datasets: this.datasetRows(runId),
      metrics: this.db.prepare('SELECT * FROM metric_summaries WHERE run_id = ? ORDER BY key').all(runId) as SummaryRow[],
      evals: this.db.prepare('SELECT dataset, dataset_sha256, count, score_names FROM eval_sets WHERE run_id = ? ORDER BY dataset').all(runId) as EvalSetRow[],
      artifacts: this.db.prepare('SELECT * FROM artifacts WHERE run_id = ? ORDER BY direction DESC, name').all(runId) as ArtifactRow[],
    })
  }

  async listRuns(query: { experiment?: string }): Promise<RunSummary[]> {
    const rows = (
      query.experiment === undefined
        ? this.db.prepare('SELECT r.*, e.name AS experiment FROM runs r JOIN experiments e ON e.id = r.experiment_id ORDER BY r.start_time, r.id').all()
        : this.db
            .prepare('SELECT r.*, e.name AS experiment FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ? ORDER BY r.start_time, r.id')
            .all(query.experiment)
    ) as RunRow[]
    if (query.experiment !== undefined && rows.length === 0) {
      const exists = this.db.prepare('SELECT 1 FROM experiments WHERE name = ?').get(query.experiment)
      if (!exists) throw new AssayError('ASSAY_EXPERIMENT_NOT_FOUND', `no experiment is named ${JSON.stringify(query.experiment)}`)
    }
    return runSummariesFromRows(
      rows,
      this.db.prepare('SELECT run_id, key, value FROM run_params').all() as (KeyValueRow & { run_id: string })[],
      this.db.prepare('SELECT run_id, key, value FROM run_tags').all() as (KeyValueRow & { run_id: string })[],
      this.db.prepare('SELECT run_id, key, last FROM metric_summaries').all() as { run_id: string; key: string; last: number | null }[],
    )
  }

  async listExperiments(): Promise<ExperimentSummary[]> {
    const rows = this.db
      .prepare(
        `SELECT e.name, e.created_at, COUNT(r.id) AS run_count, MAX(r.start_time) AS last_run_at
         FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.id GROUP BY e.id ORDER BY e.name`,
      )
      .all() as ExperimentRow[]
    return rows.map(experimentFromRow)
  }

  async metricHistory(runId: string, key: string): Promise<MetricColumns> {
    this.runRow(runId)
    return metricColumnsFromChunks(this.db.prepare('SELECT data FROM metric_chunks WHERE run_id = ? AND key = ? ORDER BY seq').all(runId, key) as { data: Buffer }[])
  }

  async evalColumns(runId: string, dataset: string): Promise<EvalColumns> {
    this.runRow(runId)
    const set = this.db.prepare('SELECT dataset_sha256 FROM eval_sets WHERE run_id = ? AND dataset = ?').get(runId, dataset) as { dataset_sha256: string } | undefined
    if (set === undefined) throw new AssayError('ASSAY_EVAL_NOT_FOUND', `run ${runId} has no eval records for dataset ${JSON.stringify(dataset)}`, { runId, dataset })
    return evalColumnsFromChunks(dataset, set.dataset_sha256, this.db.prepare('SELECT data FROM eval_chunks WHERE run_id = ? AND dataset = ? ORDER BY seq').all(runId, dataset) as { data: Buffer }[])
  }

  async putArtifact(runId: string, name: string, content: ArtifactContent, direction: ArtifactDirection): Promise<ArtifactRef> {
    if (direction === 'produced') this.requireRunning(runId)
    else this.runRow(runId)
    let blob: { sha256: string; size: number }
    if ('bytes' in content) blob = await this.blobs.putBytes(content.bytes)
    else if ('path' in content) blob = await this.blobs.putFile(content.path)
    else {
      if (!this.blobs.has(content.sha256)) throw new AssayError('ASSAY_ARTIFACT_NOT_FOUND', `no artifact content has sha256 ${content.sha256}`)
      blob = { sha256: content.sha256, size: await this.blobs.size(content.sha256) }
    }
    const createdAt = Date.now()
    this.write(() => {
      const existing = this.db.prepare('SELECT sha256 FROM artifacts WHERE run_id = ? AND name = ? AND direction = ?').get(runId, name, direction) as { sha256: string } | undefined
      if (existing && existing.sha256 !== blob.sha256) {
        throw new AssayError('ASSAY_PARAM_CONFLICT', `run ${runId} already has a ${direction} artifact ${JSON.stringify(name)} with other content (${existing.sha256})`)
      }
      this.db
        .prepare('INSERT INTO artifacts (run_id, name, direction, sha256, size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
        .run(runId, name, direction, blob.sha256, blob.size, createdAt)
    })
    return { runId, name, sha256: blob.sha256, sizeBytes: blob.size, direction, createdAt }
  }

  async readArtifact(runId: string, name: string): Promise<Buffer> {
    this.runRow(runId)
    const row = this.db.prepare("SELECT sha256 FROM artifacts WHERE run_id = ? AND name = ? ORDER BY direction = 'produced' DESC LIMIT 1").get(runId, name) as
      | { sha256: string }
      | undefined
    if (row === undefined) throw new AssayError('ASSAY_ARTIFACT_NOT_FOUND', `run ${runId} has no artifact named ${JSON.stringify(name)}`, { runId, name })
    return this.blobs.read(row.sha256)
  }

  async artifactLineage(sha256: string): Promise<ArtifactRef[]> {
    return (this.db.prepare('SELECT * FROM artifacts WHERE sha256 = ? ORDER BY created_at, run_id').all(sha256) as ArtifactRow[]).map(artifactFromRow)
  }

  async artifactSha256sWithPrefix(prefix: string, limit: number): Promise<string[]> {
    return (this.db.prepare('SELECT DISTINCT sha256 FROM artifacts WHERE sha256 >= ? AND sha256 < ? ORDER BY sha256 LIMIT ?').all(prefix, `${prefix}g`, limit) as { sha256: string }[]).map((r) => r.sha256)
  }

  async recordHoldoutRead(read: HoldoutRead): Promise<void> {
    this.write(() => {
      this.db
        .prepare('INSERT INTO holdout_reads (read_id, dataset_sha256, dataset_name, run_ids, purpose, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
        .run(read.id ?? null, read.datasetSha256, read.datasetName, JSON.stringify(read.runIds), read.purpose, read.actor, read.at)
    })
  }

  async holdoutReads(datasetSha256: string): Promise<HoldoutRead[]> {
    return (this.db.prepare('SELECT * FROM holdout_reads WHERE dataset_sha256 = ? ORDER BY at, id').all(datasetSha256) as HoldoutRow[]).map(holdoutReadFromRow)
  }

  async createApiToken(token: ApiToken, secretSha256: string): Promise<void> {
    this.write(() => {
      this.db
        .prepare('INSERT INTO api_tokens (id, secret_sha256, name, scope, experiments, created_at, created_by, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(token.id, secretSha256, token.name, token.scope, token.experiments === null ? null : JSON.stringify(token.experiments), token.createdAt, token.createdBy, token.revokedAt)
    })
  }

  async findApiToken(secretSha256: string): Promise<ApiToken | null> {
    const row = this.db.prepare('SELECT * FROM api_tokens WHERE secret_sha256 = ?').get(secretSha256) as TokenRow | undefined
    return row === undefined ? null : tokenFromRow(row)
  }

  async listApiTokens(): Promise<ApiToken[]> {
    return (this.db.prepare('SELECT * FROM api_tokens ORDER BY created_at, id').all() as TokenRow[]).map(tokenFromRow)
  }

  async revokeApiToken(id: string, at: number): Promise<void> {
    this.write(() => {
      const changed = this.db.prepare('UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(at, id).changes
      if (changed === 0) throw new AssayError('ASSAY_TOKEN_NOT_FOUND', `no API token has id ${id}`)
    })
  }

  // ---- Model registry and audit log (docs/registry.md, docs/gates.md) ----

  async createModel(model: RegisteredModel): Promise<void> {
    this.write(() => {
      if (this.db.prepare('SELECT 1 FROM models WHERE name = ?').get(model.name) !== undefined) {
        throw new AssayError('ASSAY_MODEL_EXISTS', `a model named ${JSON.stringify(model.name)} already exists`, { model: model.name })
      }
      this.db
        .prepare('INSERT INTO models (name, owner, description, tags, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)')
        .run(model.name, model.owner, model.description, canonicalJson(model.tags), model.createdAt, model.createdBy)
    })
  }

  private modelRow(name: string): ModelRow {
    const row = this.db.prepare('SELECT * FROM models WHERE name = ?').get(name) as ModelRow | undefined
    if (row === undefined) throw new AssayError('ASSAY_MODEL_NOT_FOUND', `no registered model is named ${JSON.stringify(name)}`, { model: name })
    return row
  }

  async getModel(name: string): Promise<RegisteredModel> {
    return modelFromRow(this.modelRow(name))
  }

  async listModels(): Promise<RegisteredModel[]> {
    return (this.db.prepare('SELECT * FROM models ORDER BY name').all() as ModelRow[]).map(modelFromRow)
  }

  async addModelVersion(version: NewModelVersion): Promise<ModelVersion> {
    return this.write(() => {
      this.modelRow(version.model)
      this.runRow(version.runId)
      const { next } = this.db.prepare('SELECT COALESCE(MAX(version), 0) + 1 AS next FROM model_versions WHERE model = ?').get(version.model) as { next: number }
      this.db
        .prepare('INSERT INTO model_versions (model, version, run_id, artifact_name, artifact_sha256, description, tags, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(version.model, next, version.runId, version.artifact?.name ?? null, version.artifact?.sha256 ?? null, version.description, canonicalJson(version.tags), version.createdAt, version.createdBy)
      return { ...version, version: next }
    })
  }

  async listModelVersions(model: string): Promise<ModelVersion[]> {
    this.modelRow(model)
    return (this.db.prepare('SELECT * FROM model_versions WHERE model = ? ORDER BY version').all(model) as ModelVersionRow[]).map(modelVersionFromRow)
  }

  async aliasEvents(model: string, alias?: string): Promise<AliasEvent[]> {
    const rows =
      alias === undefined
        ? this.db.prepare('SELECT * FROM alias_events WHERE model = ? ORDER BY seq').all(model)
        : this.db.prepare('SELECT * FROM alias_events WHERE model = ? AND alias = ? ORDER BY seq').all(model, alias)
    return (rows as AliasEventRow[]).map(aliasEventFromRow)
  }

  /**
   * Inside a transaction: refuse a record whose hash is not its content's, a log whose last record
   * is not its head anchor (its tail was removed: appending would hide that), and a record that
   * does not chain onto the last one; then insert it and move the anchor to it.
   */
  private insertAudit(record: AuditRecord): void {
    assertAuditHash(record)
    const last = this.db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined
    const anchor = this.db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as { seq: number; hash: string } | undefined
    assertAnchored(last ?? null, anchor ?? null)
    const expectedSeq = (last?.seq ?? 0) + 1
    const expectedPrev = last?.hash ?? '0'.repeat(64)
    if (record.seq !== expectedSeq || record.prevHash !== expectedPrev) {
      throw new AssayError('ASSAY_AUDIT_CONFLICT', `audit record ${record.seq} does not follow the log's head (record ${expectedSeq - 1}); another writer appended first`, { expectedSeq })
    }
    this.db
      .prepare('INSERT INTO audit_log (seq, at, kind, actor, subject, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(record.seq, record.at, record.kind, record.actor, record.subject, canonicalJson(record.body), record.prevHash, record.hash)
    this.db.prepare('INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash').run(record.seq, record.hash)
  }

  async appendAudit(record: AuditRecord): Promise<void> {
    this.write(() => this.insertAudit(record))
  }

  async moveAlias(record: AuditRecord, event: NewAliasEvent): Promise<AliasEvent> {
    return this.write(() => {
      this.modelRow(event.model)
      if (event.version !== null && this.db.prepare('SELECT 1 FROM model_versions WHERE model = ? AND version = ?').get(event.model, event.version) === undefined) {
        throw new AssayError('ASSAY_MODEL_NOT_FOUND', `model ${event.model} has no version ${event.version}`, { model: event.model, version: event.version })
      }
      const latest = this.db.prepare('SELECT version FROM alias_events WHERE model = ? AND alias = ? ORDER BY seq DESC LIMIT 1').get(event.model, event.alias) as { version: number | null } | undefined
      const holder = latest === undefined ? null : latest.version
      if (holder !== event.previousVersion) {
        throw new AssayError('ASSAY_AUDIT_CONFLICT', `${event.model}@${event.alias} is held by ${holder === null ? 'nobody' : `version ${holder}`}, not ${event.previousVersion === null ? 'nobody' : `version ${event.previousVersion}`}: it moved since it was read`, {
          model: event.model,
          alias: event.alias,
          holder,
        })
      }
      // The event first, then the audit record: a failure in either rolls back both.
      const info = this.db
        .prepare('INSERT INTO alias_events (model, alias, kind, version, previous_version, actor, at, reason, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(event.model, event.alias, event.kind, event.version, event.previousVersion, event.actor, event.at, event.reason, record.seq)
      this.insertAudit(record)
      return { ...event, seq: Number(info.lastInsertRowid), auditSeq: record.seq }
    })
  }

  async auditRecords(): Promise<AuditRecord[]> {
    return (this.db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as AuditRow[]).map(auditFromRow)
  }

  async lastAuditRecord(): Promise<AuditRecord | null> {
    const row = this.db.prepare('SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1').get() as AuditRow | undefined
    return row === undefined ? null : auditFromRow(row)
  }

  async auditHead(): Promise<{ seq: number; hash: string } | null> {
    const row = this.db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as { seq: number; hash: string } | undefined
    return row === undefined ? null : { seq: Number(row.seq), hash: row.hash }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close()
  }
}

function nullIfNaN(value: number): number | null {
  return Number.isNaN(value) ? null : value
}
