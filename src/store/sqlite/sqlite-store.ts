import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { AssayError } from '../../errors.js'
import { computeEnvelope } from '../../record/envelope.js'
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
  MetricSummary,
  Params,
  RunRecord,
  RunStatus,
  RunSummary,
} from '../../record/types.js'
import { canonicalJson } from '../../record/validate.js'
import { FileBlobStore } from '../artifacts/file-blob-store.js'
import {
  concatMetricChunks,
  decodeEvalChunk,
  decodeMetricChunk,
  encodeEvalChunk,
  encodeMetricChunk,
  joinEvalChunks,
  type EvalChunk,
  type MetricColumns,
} from '../chunk-codec.js'
import { foldMetricSummary } from '../metric-summary.js'
import type { ArtifactContent, NewRun, RunBatch, Store } from '../store.js'
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js'

/** How long one write waits for other writers (SQLite busy_timeout), and how often it retries after. */
const BUSY_TIMEOUT_MS = 5_000
const BUSY_RETRIES = 12

interface RunRow {
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
  environment: string
  code: string
  config_fingerprint: string
}

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
    mkdirSync(root, { recursive: true })
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
        const config = computeEnvelope({
          params: this.params(runId),
          seed: row.seed,
          environment: JSON.parse(row.environment) as Environment,
          code: JSON.parse(row.code) as CodeVersion,
          datasets: this.datasets(runId),
        }).config
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
    const scoreNames = [...chunk.numeric.keys()].filter((n) => n.startsWith('score:')).map((n) => n.slice(6))
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
        const names = [...new Set([...(JSON.parse(set.score_names) as string[]), ...scoreNames])]
        this.db.prepare('UPDATE eval_sets SET count = count + ?, score_names = ? WHERE run_id = ? AND dataset = ?').run(chunk.ids.length, JSON.stringify(names), runId, dataset)
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
      this.db.prepare("UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'").run(at, runId)
    })
  }

  async markCrashedRuns(staleBefore: number): Promise<number> {
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
    const rows = this.db.prepare('SELECT key, value FROM run_params WHERE run_id = ? ORDER BY key').all(runId) as { key: string; value: string }[]
    return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value)]))
  }

  private tags(runId: string): Record<string, string> {
    const rows = this.db.prepare('SELECT key, value FROM run_tags WHERE run_id = ? ORDER BY key').all(runId) as { key: string; value: string }[]
    return Object.fromEntries(rows.map((r) => [r.key, r.value]))
  }

  private datasets(runId: string): DatasetVersion[] {
    const rows = this.db.prepare('SELECT * FROM run_datasets WHERE run_id = ? ORDER BY name').all(runId) as DatasetRow[]
    return rows.map(datasetFromRow)
  }

  async getRun(runId: string): Promise<RunRecord> {
    const row = this.runRow(runId)
    const params = this.params(runId)
    const environment = JSON.parse(row.environment) as Environment
    const code = JSON.parse(row.code) as CodeVersion
    const datasets = this.datasets(runId)
    const metrics = (this.db.prepare('SELECT * FROM metric_summaries WHERE run_id = ? ORDER BY key').all(runId) as SummaryRow[]).map(
      (r) => summaryFromRow(r) as MetricSummary,
    )
    const evals = (
      this.db.prepare('SELECT dataset, dataset_sha256, count, score_names FROM eval_sets WHERE run_id = ? ORDER BY dataset').all(runId) as {
        dataset: string
        dataset_sha256: string
        count: number
        score_names: string
      }[]
    ).map((r) => ({ dataset: r.dataset, datasetSha256: r.dataset_sha256, count: r.count, scoreNames: JSON.parse(r.score_names) as string[] }))
    const artifacts = (this.db.prepare('SELECT * FROM artifacts WHERE run_id = ? ORDER BY direction DESC, name').all(runId) as ArtifactRow[]).map(artifactFromRow)
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
      tags: this.tags(runId),
      environment,
      code,
      datasets,
      metrics,
      evals,
      artifacts,
      envelope: computeEnvelope({ params, seed: row.seed, environment, code, datasets }),
    }
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
    const byRun = <T extends { run_id: string }>(sql: string): Map<string, T[]> => {
      const map = new Map<string, T[]>()
      for (const r of this.db.prepare(sql).all() as T[]) {
        const list = map.get(r.run_id)
        if (list) list.push(r)
        else map.set(r.run_id, [r])
      }
      return map
    }
    const params = byRun<{ run_id: string; key: string; value: string }>('SELECT run_id, key, value FROM run_params')
    const tags = byRun<{ run_id: string; key: string; value: string }>('SELECT run_id, key, value FROM run_tags')
    const metrics = byRun<{ run_id: string; key: string; last: number | null }>('SELECT run_id, key, last FROM metric_summaries')
    return rows.map((row) => ({
      id: row.id,
      experiment: row.experiment,
      name: row.name,
      owner: row.owner,
      status: row.status,
      startTime: row.start_time,
      endTime: row.end_time,
      params: Object.fromEntries((params.get(row.id) ?? []).map((p) => [p.key, JSON.parse(p.value)])),
      seed: row.seed,
      tags: Object.fromEntries((tags.get(row.id) ?? []).map((t) => [t.key, t.value])),
      parentId: row.parent_id,
      groupId: row.group_id,
      metrics: Object.fromEntries((metrics.get(row.id) ?? []).map((m) => [m.key, m.last ?? NaN])),
      configFingerprint: row.config_fingerprint,
    }))
  }

  async listExperiments(): Promise<ExperimentSummary[]> {
    const rows = this.db
      .prepare(
        `SELECT e.name, e.created_at, COUNT(r.id) AS run_count, MAX(r.start_time) AS last_run_at
         FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.id GROUP BY e.id ORDER BY e.name`,
      )
      .all() as { name: string; created_at: number; run_count: number; last_run_at: number | null }[]
    return rows.map((r) => ({ name: r.name, createdAt: r.created_at, runCount: r.run_count, lastRunAt: r.last_run_at }))
  }

  async metricHistory(runId: string, key: string): Promise<MetricColumns> {
    this.runRow(runId)
    const chunks = (this.db.prepare('SELECT data FROM metric_chunks WHERE run_id = ? AND key = ? ORDER BY seq').all(runId, key) as { data: Buffer }[]).map((r) =>
      decodeMetricChunk(r.data),
    )
    return concatMetricChunks(chunks)
  }

  async evalColumns(runId: string, dataset: string): Promise<EvalColumns> {
    this.runRow(runId)
    const set = this.db.prepare('SELECT dataset_sha256 FROM eval_sets WHERE run_id = ? AND dataset = ?').get(runId, dataset) as { dataset_sha256: string } | undefined
    if (set === undefined) throw new AssayError('ASSAY_EVAL_NOT_FOUND', `run ${runId} has no eval records for dataset ${JSON.stringify(dataset)}`, { runId, dataset })
    const chunks = (this.db.prepare('SELECT data FROM eval_chunks WHERE run_id = ? AND dataset = ? ORDER BY seq').all(runId, dataset) as { data: Buffer }[]).map((r) =>
      decodeEvalChunk(r.data),
    )
    return joinEvalChunks(dataset, set.dataset_sha256, chunks)
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

  async recordHoldoutRead(read: HoldoutRead): Promise<void> {
    this.write(() => {
      this.db
        .prepare('INSERT INTO holdout_reads (dataset_sha256, dataset_name, run_ids, purpose, actor, at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(read.datasetSha256, read.datasetName, JSON.stringify(read.runIds), read.purpose, read.actor, read.at)
    })
  }

  async holdoutReads(datasetSha256: string): Promise<HoldoutRead[]> {
    const rows = this.db.prepare('SELECT * FROM holdout_reads WHERE dataset_sha256 = ? ORDER BY at, id').all(datasetSha256) as {
      dataset_sha256: string
      dataset_name: string
      run_ids: string
      purpose: string
      actor: string
      at: number
    }[]
    return rows.map((r) => ({ datasetSha256: r.dataset_sha256, datasetName: r.dataset_name, runIds: JSON.parse(r.run_ids) as string[], purpose: r.purpose, actor: r.actor, at: r.at }))
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

  async close(): Promise<void> {
    if (this.db.open) this.db.close()
  }
}

interface TokenRow {
  id: string
  name: string
  scope: ApiToken['scope']
  experiments: string | null
  created_at: number
  created_by: string
  revoked_at: number | null
}

function tokenFromRow(r: TokenRow): ApiToken {
  return {
    id: r.id,
    name: r.name,
    scope: r.scope,
    experiments: r.experiments === null ? null : (JSON.parse(r.experiments) as string[]),
    createdAt: r.created_at,
    createdBy: r.created_by,
    revokedAt: r.revoked_at,
  }
}

interface SummaryRow {
  key: string
  last: number | null
  last_step: number
  min: number | null
  max: number | null
  count: number
}

interface DatasetRow {
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

interface ArtifactRow {
  run_id: string
  name: string
  direction: ArtifactDirection
  sha256: string
  size_bytes: number
  created_at: number
}

function summaryFromRow(row: SummaryRow | undefined): MetricSummary | undefined {
  if (row === undefined) return undefined
  return { key: row.key, last: row.last ?? NaN, lastStep: row.last_step, min: row.min, max: row.max, count: row.count }
}

function datasetFromRow(r: DatasetRow): DatasetVersion {
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

function artifactFromRow(r: ArtifactRow): ArtifactRef {
  return { runId: r.run_id, name: r.name, sha256: r.sha256, sizeBytes: r.size_bytes, direction: r.direction, createdAt: r.created_at }
}

function nullIfNaN(value: number): number | null {
  return Number.isNaN(value) ? null : value
}
