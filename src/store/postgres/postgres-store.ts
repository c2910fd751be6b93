import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import pg from 'pg'
import { AssayError } from '../../errors.js'
import { computeEnvelope } from '../../record/envelope.js'
import type {
  AliasEvent,
  ApiToken,
  ArtifactDirection,
  ArtifactRef,
  AuditRecord,
  EvalColumns,
  ExperimentSummary,
  HoldoutRead,
  MetricSummary,
  ModelVersion,
  RegisteredModel,
  RunRecord,
  RunStatus,
  RunSummary,
} from '../../record/types.js'
import { assertAnchored, assertAuditHash } from '../../record/audit-hash.js'
import { canonicalJson } from '../../record/validate.js'
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
import type { ArtifactContent, MetricSeries, NewAliasEvent, NewModelVersion, NewRun, RunBatch, Store } from '../store.js'
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js'

export interface PostgresStoreOptions {
  /** Schema holding the tables (created when missing); overrides `?schema=`. Default `public`. */
  schema?: string
  /** Connections in this process's pool; overrides `?pool_size=`. Default 10. */
  poolSize?: number
  /** How long to wait for a connection before ASSAY_STORE_UNAVAILABLE. Default 10 s. */
  connectTimeoutMs?: number
}

const DEFAULT_POOL_SIZE = 10
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
/** First key of the advisory lock migrations hold ("assa"); the second is hashtext(schema). */
const MIGRATION_LOCK_CLASS = 0x61737361
/** Deadlocks and serialization failures are retried this many times; nothing else is. */
const TX_RETRIES = 5
/** Artifact bytes are read back in slices of this size (hex text of a slice stays far below V8's string limit). */
const READ_SLICE_BYTES = 16 * 1024 * 1024
/** bytea holds at most 1 GB and one protocol message as much; leave room for the rest of the message. */
const MAX_BLOB_BYTES = 1024 ** 3 - 16 * 1024 * 1024
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/
const SHA256_HEX = /^[0-9a-f]{64}$/
/** Rows of metric chunks per INSERT (4 parameters each; PostgreSQL allows 65,535 per statement). */
const CHUNK_ROWS_PER_INSERT = 1000

type Db = pg.Pool | pg.PoolClient

/** int8 (bigint, COUNT) as a JS number: every bigint assay stores is a safe integer. */
function parseInt8(text: string): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `a stored integer ${text} is beyond 2^53 and cannot be read as a number`)
  return n
}

const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
}

/**
 * What a write to a run sets: its heartbeat, and 'running' again if a reader had marked it
 * crashed while its process was stalled (a write is proof of life; a finished run never gets here).
 */
const ALIVE = "heartbeat_at = $2, status = 'running', end_time = NULL"

/** Named (prepared once per connection) statements of the hot paths. */
const SQL = {
  lockRun: { name: 'assay_lock_run', text: 'SELECT status, seed FROM runs WHERE id = $1 FOR UPDATE' },
  /**
   * Lock the run row, then (fed by the locked row, so strictly after the lock) remember the batch
   * id; remembered = 0 when the id was applied before. Conflict detection on the unique index
   * sees every committed id, whatever this statement's snapshot.
   */
  lockRunAndRemember: {
    name: 'assay_lock_run_remember',
    text: `WITH r AS (SELECT status, seed FROM runs WHERE id = $1 FOR UPDATE),
                b AS (INSERT INTO applied_batches (batch_id, run_id, applied_at) SELECT $2, $1, $3 FROM r ON CONFLICT DO NOTHING RETURNING 1)
           SELECT r.status, r.seed, (SELECT COUNT(*) FROM b)::int AS remembered FROM r`,
  },
  metricState: {
    name: 'assay_metric_state',
    text: `SELECT k.key, (SELECT MAX(c.seq) FROM metric_chunks c WHERE c.run_id = $1 AND c.key = k.key) AS max_seq,
             s.last, s.last_step, s.min, s.max, s.count
           FROM unnest($2::text[]) AS k(key) LEFT JOIN metric_summaries s ON s.run_id = $1 AND s.key = k.key`,
  },
  /** The last statement of every run write (run row locked, status checked): also revives a crashed run. */
  heartbeatRun: { name: 'assay_heartbeat_run', text: `UPDATE runs SET ${ALIVE} WHERE id = $1` },
  metricChunks: {
    name: 'assay_metric_chunks',
    text: `SELECT c.data FROM runs r LEFT JOIN metric_chunks c ON c.run_id = r.id AND c.key = $2 WHERE r.id = $1 ORDER BY c.seq`,
  },
} as const

/**
 * The team store: PostgreSQL, the second implementation of the store contract. Every write
 * method is one transaction on one pooled connection; writers of the same run are serialised by
 * a row lock on the run (SELECT … FOR UPDATE), which also makes MAX(seq) + 1 safe for chunks and
 * the state checks exact. Several processes (assay servers) may share one database: nothing
 * lives outside it, artifact bytes included. With synchronous_commit on (set for every
 * connection), a write that returned is durable. See docs/postgres.md.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres'
  readonly location: string
  readonly schema: string
  private readonly pool: pg.Pool
  private closed = false

  private constructor(location: string, schema: string, config: pg.PoolConfig) {
    this.location = location
    this.schema = schema
    this.pool = new pg.Pool(config)
    // An idle connection that dies (server restart) must not take the process down; the pool
    // drops it and the next query opens a new one.
    this.pool.on('error', () => {})
  }

  /** Open (and migrate) the store at a postgres:// or postgresql:// URL. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const { location, schema, config } = connectionConfig(url, options)
    const store = new PostgresStore(location, schema, config)
    try {
      await store.migrate()
    } catch (error) {
      await store.close()
      throw error
    }
    return store
  }

  private async migrate(): Promise<void> {
    const latest = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1].version
    const current = await this.guard(() => this.schemaVersion(this.pool))
    if (current > latest) throw this.tooNew(current, latest)
    if (current === latest) return
    await this.tx(async (c) => {
      // Several processes starting at once: one migrates, the others wait here and then find nothing to do.
      await c.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [MIGRATION_LOCK_CLASS, this.schema])
      const { rows } = await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [this.schema])
      if (rows.length === 0) await c.query(`CREATE SCHEMA "${this.schema}"`)
      await c.query('CREATE TABLE IF NOT EXISTS assay_schema_migrations (version integer PRIMARY KEY, applied_at double precision NOT NULL)')
      const version = await this.schemaVersion(c)
      if (version > latest) throw this.tooNew(version, latest)
      for (const migration of POSTGRES_MIGRATIONS) {
        if (migration.version <= version) continue
        await c.query(migration.sql)
        await c.query('INSERT INTO assay_schema_migrations (version, applied_at) VALUES ($1, $2)', [migration.version, Date.now()])
      }
    })
  }

  private async schemaVersion(db: Db): Promise<number> {
    const { rows } = await db.query<{ present: boolean }>("SELECT to_regclass('assay_schema_migrations') IS NOT NULL AS present")
    if (!rows[0].present) return 0
    return (await db.query<{ version: number }>('SELECT COALESCE(MAX(version), 0) AS version FROM assay_schema_migrations')).rows[0].version
  }

  private tooNew(current: number, latest: number): AssayError {
    return new AssayError('ASSAY_STORE_SCHEMA_TOO_NEW', `${this.location} has schema version ${current}; this assay knows up to ${latest}. Upgrade assay.`)
  }

  /** Run `fn` in one transaction on one connection; retried on deadlock or serialization failure. */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.guard(() => this.pool.connect())
      let broken: Error | undefined
      try {
        await client.query(begin)
        const result = await fn(client)
        await client.query('COMMIT')
        return result
      } catch (error) {
        try {
          await client.query('ROLLBACK')
        } catch (rollbackError) {
          broken = rollbackError as Error
        }
        const code = (error as { code?: string }).code
        if ((code === '40001' || code === '40P01') && attempt < TX_RETRIES && broken === undefined) continue
        throw this.translate(error)
      } finally {
        client.release(broken)
      }
    }
  }

  /** A read-only transaction that sees one snapshot, so a record is never half of two writes. */
  private snapshot<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.tx(fn, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      throw this.translate(error)
    }
  }

  /** Driver errors to catalogue errors at the boundary; AssayErrors and the unexpected pass through. */
  private translate(error: unknown): unknown {
    if (error instanceof AssayError) return error
    const reason = unavailableReason(error)
    if (reason !== undefined) {
      return new AssayError('ASSAY_STORE_UNAVAILABLE', `cannot reach PostgreSQL at ${this.location}: ${reason}`, { location: this.location })
    }
    return error
  }

  private async lockRun(c: pg.PoolClient, runId: string): Promise<{ status: RunStatus; seed: number }> {
    const { rows } = await c.query<{ status: RunStatus; seed: number }>({ ...SQL.lockRun, values: [runId] })
    if (rows.length === 0) throw new AssayError('ASSAY_RUN_NOT_FOUND', `no run has id ${runId}`, { runId })
    return rows[0]
  }

  /**
   * Lock the run row (writers of one run queue here) and, with a batch id, remember it in the
   * same round trip; `applied` is true when the id was applied before (then nothing is written).
   */
  private async lockRunForBatch(c: pg.PoolClient, runId: string, batchId: string | undefined): Promise<{ status: RunStatus; seed: number; applied: boolean }> {
    if (batchId === undefined) return { ...(await this.lockRun(c, runId)), applied: false }
    const { rows } = await c.query<{ status: RunStatus; seed: number; remembered: number }>({ ...SQL.lockRunAndRemember, values: [runId, batchId, Date.now()] })
    if (rows.length === 0) throw new AssayError('ASSAY_RUN_NOT_FOUND', `no run has id ${runId}`, { runId })
    return { status: rows[0].status, seed: rows[0].seed, applied: rows[0].remembered === 0 }
  }

  async createRun(run: NewRun): Promise<void> {
    const envelope = computeEnvelope(run)
    await this.tx(async (c) => {
      const { rows } = await c.query<{ id: number }>(
        'INSERT INTO experiments (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id',
        [run.experiment, run.startTime],
      )
      try {
        await c.query(
          `INSERT INTO runs (id, experiment_id, name, owner, status, start_time, end_time, heartbeat_at, parent_id, group_id,
             seed, seed_source, environment, code, config_fingerprint)
           VALUES ($1, $2, $3, $4, 'running', $5, NULL, $5, $6, $7, $8, $9, $10, $11, $12)`,
          [run.id, rows[0].id, run.name, run.owner, run.startTime, run.parentId, run.groupId, run.seed, run.seedSource, JSON.stringify(run.environment), JSON.stringify(run.code), envelope.config],
        )
      } catch (error) {
        if ((error as { code?: string; constraint?: string }).code === '23505' && (error as { constraint?: string }).constraint === 'runs_pkey') {
          throw new AssayError('ASSAY_INVALID_ARGUMENT', `a run with id ${run.id} already exists`, { runId: run.id })
        }
        throw error
      }
      const params = Object.entries(run.params)
      if (params.length > 0) {
        await c.query('INSERT INTO run_params (run_id, key, value) SELECT $1, * FROM unnest($2::text[], $3::text[])', [
          run.id,
          params.map(([k]) => k),
          params.map(([, v]) => canonicalJson(v)),
        ])
      }
      const tags = Object.entries(run.tags)
      if (tags.length > 0) {
        await c.query('INSERT INTO run_tags (run_id, key, value) SELECT $1, * FROM unnest($2::text[], $3::text[])', [run.id, tags.map(([k]) => k), tags.map(([, v]) => v)])
      }
      if (run.datasets.length > 0) {
        const d = run.datasets
        await c.query(
          `INSERT INTO run_datasets (run_id, name, role, sha256, kind, size_bytes, file_count, rows, columns, source)
           SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::text[], $10::text[])`,
          [
            run.id,
            d.map((x) => x.name),
            d.map((x) => x.role),
            d.map((x) => x.sha256),
            d.map((x) => x.kind),
            d.map((x) => x.sizeBytes),
            d.map((x) => x.fileCount),
            d.map((x) => x.rows),
            d.map((x) => (x.columns === null ? null : JSON.stringify(x.columns))),
            d.map((x) => x.source),
          ],
        )
      }
    })
  }

  async logBatch(runId: string, batch: RunBatch): Promise<void> {
    const metrics = (batch.metrics ?? []).filter((s) => s.values.length > 0)
    const encoded = metrics.map((s) => encodeMetricChunk(s))
    await this.tx(async (c) => {
      const run = await this.lockRunForBatch(c, runId, batch.batchId)
      if (run.applied) return
      requireRunning(run.status, runId)
      if (batch.params && Object.keys(batch.params).length > 0) await this.writeParams(c, runId, run.seed, batch.params)
      const tags = Object.entries(batch.tags ?? {})
      if (tags.length > 0) {
        await c.query(
          `INSERT INTO run_tags (run_id, key, value) SELECT $1, * FROM unnest($2::text[], $3::text[])
           ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`,
          [runId, tags.map(([k]) => k), tags.map(([, v]) => v)],
        )
      }
      if (metrics.length > 0) await this.writeMetrics(c, runId, metrics, encoded)
      else await c.query({ ...SQL.heartbeatRun, values: [runId, Date.now()] })
    })
  }

  private async writeParams(c: pg.PoolClient, runId: string, seed: number, params: NonNullable<RunBatch['params']>): Promise<void> {
    const stored = new Map(
      (await c.query<KeyValueRow>('SELECT key, value FROM run_params WHERE run_id = $1 ORDER BY key', [runId])).rows.map((r) => [r.key, r.value]),
    )
    const fresh: [string, string][] = []
    for (const [key, value] of Object.entries(params)) {
      const text = canonicalJson(value)
      const existing = stored.get(key)
      if (existing === undefined) {
        fresh.push([key, text])
        stored.set(key, text)
      } else if (existing !== text) {
        throw new AssayError('ASSAY_PARAM_CONFLICT', `param ${JSON.stringify(key)} of run ${runId} is already ${existing}; it cannot become ${text}`, { key, stored: existing, attempted: text })
      }
    }
    if (fresh.length === 0) return
    await c.query('INSERT INTO run_params (run_id, key, value) SELECT $1, * FROM unnest($2::text[], $3::text[])', [runId, fresh.map(([k]) => k), fresh.map(([, v]) => v)])
    const { rows } = await c.query<{ environment: string; code: string }>('SELECT environment, code FROM runs WHERE id = $1', [runId])
    const datasets = (await c.query<DatasetRow>('SELECT * FROM run_datasets WHERE run_id = $1 ORDER BY name', [runId])).rows.map(datasetFromRow)
    const all = paramsFromRows([...stored].map(([key, value]) => ({ key, value })))
    await c.query('UPDATE runs SET config_fingerprint = $2 WHERE id = $1', [runId, configFingerprint({ seed, ...rows[0] }, all, datasets)])
  }

  /**
   * All series of a batch in two statements: the current seq and summary of each key, then the
   * chunks, the summaries and the heartbeat together. The run row is locked, so no other writer
   * can take the same seq, and this statement's snapshot already sees every earlier chunk.
   */
  private async writeMetrics(c: pg.PoolClient, runId: string, metrics: MetricSeries[], encoded: Buffer[]): Promise<void> {
    const keys = [...new Set(metrics.map((s) => s.key))]
    const state = new Map<string, { seq: number; summary: MetricSummary | undefined }>()
    for (const row of (await c.query<SummaryRow & { max_seq: number | null }>({ ...SQL.metricState, values: [runId, keys] })).rows) {
      state.set(row.key, { seq: (row.max_seq ?? -1) + 1, summary: row.count === null ? undefined : summaryFromRow(row) })
    }
    const chunkRows: unknown[][] = []
    metrics.forEach((series, i) => {
      const s = state.get(series.key) as { seq: number; summary: MetricSummary | undefined }
      chunkRows.push([series.key, s.seq, series.values.length, encoded[i]])
      s.seq += 1
      s.summary = foldMetricSummary(s.summary, series)
    })
    // Rare: a batch of more keys than one statement should carry; all but the last group go first.
    while (chunkRows.length > CHUNK_ROWS_PER_INSERT) {
      const group = chunkRows.splice(0, CHUNK_ROWS_PER_INSERT)
      const values: unknown[] = [runId, ...group.flat()]
      await c.query(`INSERT INTO metric_chunks (run_id, key, seq, count, data) VALUES ${chunkTuples(group.length, 2)}`, values)
    }
    const summaries = keys.map((k) => state.get(k)?.summary as MetricSummary)
    const text = `WITH chunks AS (
        INSERT INTO metric_chunks (run_id, key, seq, count, data) VALUES ${chunkTuples(chunkRows.length, 9)}
      ), summaries AS (
        INSERT INTO metric_summaries (run_id, key, last, last_step, min, max, count)
        SELECT $1, * FROM unnest($3::text[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::bigint[])
        ON CONFLICT (run_id, key) DO UPDATE SET last = excluded.last, last_step = excluded.last_step,
          min = excluded.min, max = excluded.max, count = excluded.count
      )
      UPDATE runs SET ${ALIVE} WHERE id = $1`
    const values = [
      runId,
      Date.now(),
      summaries.map((s) => s.key),
      summaries.map((s) => s.last),
      summaries.map((s) => s.lastStep),
      summaries.map((s) => s.min),
      summaries.map((s) => s.max),
      summaries.map((s) => s.count),
      ...chunkRows.flat(),
    ]
    // Batches usually carry the same few keys: prepare those shapes once per connection.
    await c.query(chunkRows.length <= 32 ? { name: `assay_write_metrics_${chunkRows.length}`, text, values } : { text, values })
  }

  async logEval(runId: string, dataset: string, datasetSha256: string, chunk: EvalChunk, batchId?: string): Promise<void> {
    const encoded = encodeEvalChunk(chunk)
    const scoreNames = evalScoreNames(chunk)
    await this.tx(async (c) => {
      const run = await this.lockRunForBatch(c, runId, batchId)
      if (run.applied) return
      requireRunning(run.status, runId)
      const { rows } = await c.query<{ dataset_sha256: string; score_names: string }>('SELECT dataset_sha256, score_names FROM eval_sets WHERE run_id = $1 AND dataset = $2', [
        runId,
        dataset,
      ])
      if (rows.length === 0) {
        await c.query('INSERT INTO eval_sets (run_id, dataset, dataset_sha256, count, score_names) VALUES ($1, $2, $3, $4, $5)', [
          runId,
          dataset,
          datasetSha256,
          chunk.ids.length,
          JSON.stringify(scoreNames),
        ])
      } else {
        const set = rows[0]
        if (set.dataset_sha256 !== datasetSha256) {
          throw new AssayError('ASSAY_INVALID_ARGUMENT', `eval records of ${dataset} in run ${runId} were logged against ${set.dataset_sha256}, not ${datasetSha256}`)
        }
        await c.query('UPDATE eval_sets SET count = count + $3, score_names = $4 WHERE run_id = $1 AND dataset = $2', [
          runId,
          dataset,
          chunk.ids.length,
          mergeScoreNames(set.score_names, scoreNames),
        ])
      }
      await c.query(
        `WITH chunk AS (
           INSERT INTO eval_chunks (run_id, dataset, seq, count, data)
           SELECT $1, $3, COALESCE(MAX(seq), -1) + 1, $4, $5 FROM eval_chunks WHERE run_id = $1 AND dataset = $3
         )
         UPDATE runs SET ${ALIVE} WHERE id = $1`,
        [runId, Date.now(), dataset, chunk.ids.length, encoded],
      )
    })
  }

  async setRunStatus(runId: string, status: Exclude<RunStatus, 'running'>, endTime: number): Promise<void> {
    await this.guard(async () => {
      // One statement: the row lock it takes re-checks the status against the latest committed
      // state. A run marked crashed may still end itself (it was alive after all).
      const { rowCount } = await this.pool.query("UPDATE runs SET status = $2, end_time = $3, heartbeat_at = $3 WHERE id = $1 AND status IN ('running', 'crashed')", [
        runId,
        status,
        endTime,
      ])
      if (rowCount === 0) requireRunning((await this.runStatus(runId)) as RunStatus, runId)
    })
  }

  private async runStatus(runId: string): Promise<RunStatus> {
    const { rows } = await this.pool.query<{ status: RunStatus }>('SELECT status FROM runs WHERE id = $1', [runId])
    if (rows.length === 0) throw new AssayError('ASSAY_RUN_NOT_FOUND', `no run has id ${runId}`, { runId })
    return rows[0].status
  }

  async heartbeat(runId: string, at: number): Promise<void> {
    // A heartbeat from a run marked crashed revives it, as any write does; an ended run ignores it.
    await this.guard(() => this.pool.query(`UPDATE runs SET ${ALIVE} WHERE id = $1 AND status IN ('running', 'crashed')`, [runId, at]))
  }

  async markCrashedRuns(staleBefore: number): Promise<number> {
    return this.guard(
      async () => (await this.pool.query("UPDATE runs SET status = 'crashed', end_time = heartbeat_at WHERE status = 'running' AND heartbeat_at < $1", [staleBefore])).rowCount ?? 0,
    )
  }

  async resolveRunId(idOrPrefix: string): Promise<string> {
    if (typeof idOrPrefix !== 'string' || !/^[0-9a-f]{6,32}$/.test(idOrPrefix)) {
      throw new AssayError('ASSAY_RUN_NOT_FOUND', `${JSON.stringify(idOrPrefix)} is not a run id (32 hex characters, or a unique prefix of 6 or more)`)
    }
    const { rows } = await this.guard(() => this.pool.query<{ id: string }>('SELECT id FROM runs WHERE id >= $1 AND id < $2 ORDER BY id LIMIT 2', [idOrPrefix, `${idOrPrefix}g`]))
    if (rows.length === 0) throw new AssayError('ASSAY_RUN_NOT_FOUND', `no run has id ${idOrPrefix}`, { runId: idOrPrefix })
    if (rows.length > 1) throw new AssayError('ASSAY_INVALID_ARGUMENT', `run id prefix ${idOrPrefix} is ambiguous; give more characters`)
    return rows[0].id
  }

  async getRun(runId: string): Promise<RunRecord> {
    return this.snapshot(async (c) => {
      const rows = async <T extends pg.QueryResultRow>(sql: string): Promise<T[]> => (await c.query<T>(sql, [runId])).rows
      const run = await rows<RunRow>('SELECT r.*, e.name AS experiment FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = $1')
      if (run.length === 0) throw new AssayError('ASSAY_RUN_NOT_FOUND', `no run has id ${runId}`, { runId })
      return runRecordFromRows({
        row: run[0],
        params: await rows<KeyValueRow>('SELECT key, value FROM run_params WHERE run_id = $1 ORDER BY key'),
        tags: await rows<KeyValueRow>('SELECT key, value FROM run_tags WHERE run_id = $1 ORDER BY key'),
        datasets: await rows<DatasetRow>('SELECT * FROM run_datasets WHERE run_id = $1 ORDER BY name'),
        metrics: await rows<SummaryRow>('SELECT * FROM metric_summaries WHERE run_id = $1 ORDER BY key'),
        evals: await rows<EvalSetRow>('SELECT dataset, dataset_sha256, count, score_names FROM eval_sets WHERE run_id = $1 ORDER BY dataset'),
        artifacts: await rows<ArtifactRow>('SELECT * FROM artifacts WHERE run_id = $1 ORDER BY direction DESC, name'),
      })
    })
  }

  async listRuns(query: { experiment?: string }): Promise<RunSummary[]> {
    return this.snapshot(async (c) => {
      const select = 'SELECT r.*, e.name AS experiment FROM runs r JOIN experiments e ON e.id = r.experiment_id'
      if (query.experiment === undefined) {
        const rows = (await c.query<RunRow>(`${select} ORDER BY r.start_time, r.id`)).rows
        return runSummariesFromRows(
          rows,
          (await c.query<KeyValueRow & { run_id: string }>('SELECT run_id, key, value FROM run_params')).rows,
          (await c.query<KeyValueRow & { run_id: string }>('SELECT run_id, key, value FROM run_tags')).rows,
          (await c.query<{ run_id: string; key: string; last: number }>('SELECT run_id, key, last FROM metric_summaries')).rows,
        )
      }
      const rows = (await c.query<RunRow>(`${select} WHERE e.name = $1 ORDER BY r.start_time, r.id`, [query.experiment])).rows
      if (rows.length === 0) {
        const exists = await c.query('SELECT 1 FROM experiments WHERE name = $1', [query.experiment])
        if (exists.rows.length === 0) throw new AssayError('ASSAY_EXPERIMENT_NOT_FOUND', `no experiment is named ${JSON.stringify(query.experiment)}`)
        return []
      }
      const ofExperiment = (sql: string) =>
        `${sql} WHERE run_id IN (SELECT r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = $1)`
      return runSummariesFromRows(
        rows,
        (await c.query<KeyValueRow & { run_id: string }>(ofExperiment('SELECT run_id, key, value FROM run_params'), [query.experiment])).rows,
        (await c.query<KeyValueRow & { run_id: string }>(ofExperiment('SELECT run_id, key, value FROM run_tags'), [query.experiment])).rows,
        (await c.query<{ run_id: string; key: string; last: number }>(ofExperiment('SELECT run_id, key, last FROM metric_summaries'), [query.experiment])).rows,
      )
    })
  }

  async listExperiments(): Promise<ExperimentSummary[]> {
    const { rows } = await this.guard(() =>
      this.pool.query<ExperimentRow>(
        `SELECT e.name, e.created_at, COUNT(r.id) AS run_count, MAX(r.start_time) AS last_run_at
         FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.id GROUP BY e.id ORDER BY e.name`,
      ),
    )
    return rows.map(experimentFromRow)
  }

  async metricHistory(runId: string, key: string): Promise<MetricColumns> {
    const { rows } = await this.guard(() => this.pool.query<{ data: Buffer | null }>({ ...SQL.metricChunks, values: [runId, key] }))
    if (rows.length === 0) throw new AssayError('ASSAY_RUN_NOT_FOUND', `no run has id ${runId}`, { runId })
    return metricColumnsFromChunks(rows.filter((r): r is { data: Buffer } => r.data !== null))
  }

  async evalColumns(runId: string, dataset: string): Promise<EvalColumns> {
    const { rows } = await this.guard(() =>
      this.pool.query<{ dataset_sha256: string | null; data: Buffer | null }>(
        `SELECT s.dataset_sha256, c.data FROM runs r
         LEFT JOIN eval_sets s ON s.run_id = r.id AND s.dataset = $2
         LEFT JOIN eval_chunks c ON c.run_id = s.run_id AND c.dataset = s.dataset
         WHERE r.id = $1 ORDER BY c.seq`,
        [runId, dataset],
      ),
    )
    if (rows.length === 0) throw new AssayError('ASSAY_RUN_NOT_FOUND', `no run has id ${runId}`, { runId })
    const sha256 = rows[0].dataset_sha256
    if (sha256 === null) throw new AssayError('ASSAY_EVAL_NOT_FOUND', `run ${runId} has no eval records for dataset ${JSON.stringify(dataset)}`, { runId, dataset })
    return evalColumnsFromChunks(dataset, sha256, rows.filter((r): r is { dataset_sha256: string; data: Buffer } => r.data !== null))
  }

  async putArtifact(runId: string, name: string, content: ArtifactContent, direction: ArtifactDirection): Promise<ArtifactRef> {
    const status = await this.guard(() => this.runStatus(runId))
    if (direction === 'produced') requireRunning(status, runId)
    const blob = await this.guard(() => this.putBlob(content))
    const createdAt = Date.now()
    await this.tx(async (c) => {
      const run = await this.lockRun(c, runId)
      if (direction === 'produced') {
        requireRunning(run.status, runId)
        if (run.status === 'crashed') await c.query("UPDATE runs SET status = 'running', end_time = NULL WHERE id = $1", [runId])
      }
      const { rows } = await c.query<{ sha256: string }>('SELECT sha256 FROM artifacts WHERE run_id = $1 AND name = $2 AND direction = $3', [runId, name, direction])
      if (rows.length > 0 && rows[0].sha256 !== blob.sha256) {
        throw new AssayError('ASSAY_PARAM_CONFLICT', `run ${runId} already has a ${direction} artifact ${JSON.stringify(name)} with other content (${rows[0].sha256})`)
      }
      await c.query('INSERT INTO artifacts (run_id, name, direction, sha256, size_bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING', [
        runId,
        name,
        direction,
        blob.sha256,
        blob.size,
        createdAt,
      ])
    })
    return { runId, name, sha256: blob.sha256, sizeBytes: blob.size, direction, createdAt }
  }

  /** Content-addressed bytes in the blobs table: stored once, whichever process puts them first. */
  private async putBlob(content: ArtifactContent): Promise<{ sha256: string; size: number }> {
    if ('sha256' in content) {
      if (typeof content.sha256 !== 'string' || !SHA256_HEX.test(content.sha256)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `not a sha256: ${JSON.stringify(content.sha256)}`)
      const { rows } = await this.pool.query<{ size_bytes: number }>('SELECT size_bytes FROM blobs WHERE sha256 = $1', [content.sha256])
      if (rows.length === 0) throw new AssayError('ASSAY_ARTIFACT_NOT_FOUND', `no artifact content has sha256 ${content.sha256}`)
      return { sha256: content.sha256, size: rows[0].size_bytes }
    }
    const bytes = 'bytes' in content ? Buffer.from(content.bytes.buffer, content.bytes.byteOffset, content.bytes.byteLength) : await readArtifactFile(content.path)
    if (bytes.length > MAX_BLOB_BYTES) {
      throw new AssayError('ASSAY_VALUE_TOO_LARGE', `an artifact of ${bytes.length} bytes is over the ${MAX_BLOB_BYTES} bytes a PostgreSQL store keeps in one value`, { sizeBytes: bytes.length })
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    const { rows } = await this.pool.query('SELECT 1 FROM blobs WHERE sha256 = $1', [sha256])
    if (rows.length === 0) {
      await this.pool.query('INSERT INTO blobs (sha256, size_bytes, data) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [sha256, bytes.length, bytes])
    }
    return { sha256, size: bytes.length }
  }

  async readArtifact(runId: string, name: string): Promise<Buffer> {
    const { rows } = await this.guard(() =>
      this.pool.query<{ sha256: string | null }>(
        `SELECT a.sha256 FROM runs r LEFT JOIN artifacts a ON a.run_id = r.id AND a.name = $2
         WHERE r.id = $1 ORDER BY a.direction = 'produced' DESC LIMIT 1`,
        [runId, name],
      ),
    )
    if (rows.length === 0) throw new AssayError('ASSAY_RUN_NOT_FOUND', `no run has id ${runId}`, { runId })
    const sha256 = rows[0].sha256
    if (sha256 === null) throw new AssayError('ASSAY_ARTIFACT_NOT_FOUND', `run ${runId} has no artifact named ${JSON.stringify(name)}`, { runId, name })
    const bytes = await this.guard(() => this.readBlob(sha256))
    const actual = createHash('sha256').update(bytes).digest('hex')
    if (actual !== sha256) {
      throw new AssayError('ASSAY_ARTIFACT_CORRUPT', `artifact ${sha256} fails verification: its bytes now hash to ${actual}`, { sha256, actual })
    }
    return bytes
  }

  /** The bytes of a blob, in slices so that no single text value nears V8's string limit. */
  private async readBlob(sha256: string): Promise<Buffer> {
    const first = await this.pool.query<{ length: number; data: Buffer | null }>(
      'SELECT octet_length(data) AS length, CASE WHEN octet_length(data) <= $2 THEN data END AS data FROM blobs WHERE sha256 = $1',
      [sha256, READ_SLICE_BYTES],
    )
    if (first.rows.length === 0) throw new AssayError('ASSAY_ARTIFACT_CORRUPT', `the bytes of artifact ${sha256} are missing from ${this.location}`, { sha256 })
    const { length, data } = first.rows[0]
    if (data !== null) return data
    const slices: Buffer[] = []
    for (let offset = 0; offset < length; offset += READ_SLICE_BYTES) {
      const { rows } = await this.pool.query<{ data: Buffer }>('SELECT substring(data FROM $2 FOR $3) AS data FROM blobs WHERE sha256 = $1', [sha256, offset + 1, READ_SLICE_BYTES])
      slices.push(rows[0].data)
    }
    return Buffer.concat(slices, length)
  }

  async artifactLineage(sha256: string): Promise<ArtifactRef[]> {
    const { rows } = await this.guard(() => this.pool.query<ArtifactRow>('SELECT * FROM artifacts WHERE sha256 = $1 ORDER BY created_at, run_id', [sha256]))
    return rows.map(artifactFromRow)
  }

  async artifactSha256sWithPrefix(prefix: string, limit: number): Promise<string[]> {
    const { rows } = await this.guard(() => this.pool.query<{ sha256: string }>('SELECT DISTINCT sha256 FROM artifacts WHERE sha256 >= $1 AND sha256 < $2 ORDER BY sha256 LIMIT $3', [prefix, `${prefix}g`, limit]))
    return rows.map((r) => r.sha256)
  }

  async recordHoldoutRead(read: HoldoutRead): Promise<void> {
    await this.guard(() =>
      this.pool.query('INSERT INTO holdout_reads (read_id, dataset_sha256, dataset_name, run_ids, purpose, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING', [
        read.id ?? null,
        read.datasetSha256,
        read.datasetName,
        JSON.stringify(read.runIds),
        read.purpose,
        read.actor,
        read.at,
      ]),
    )
  }

  async holdoutReads(datasetSha256: string): Promise<HoldoutRead[]> {
    const { rows } = await this.guard(() => this.pool.query<HoldoutRow>('SELECT * FROM holdout_reads WHERE dataset_sha256 = $1 ORDER BY at, id', [datasetSha256]))
    return rows.map(holdoutReadFromRow)
  }

  async createApiToken(token: ApiToken, secretSha256: string): Promise<void> {
    await this.guard(() =>
      this.pool.query(
        'INSERT INTO api_tokens (id, secret_sha256, name, scope, experiments, created_at, created_by, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        [token.id, secretSha256, token.name, token.scope, token.experiments === null ? null : JSON.stringify(token.experiments), token.createdAt, token.createdBy, token.revokedAt],
      ),
    )
  }

  async findApiToken(secretSha256: string): Promise<ApiToken | null> {
    const { rows } = await this.guard(() => this.pool.query<TokenRow>('SELECT * FROM api_tokens WHERE secret_sha256 = $1', [secretSha256]))
    return rows.length === 0 ? null : tokenFromRow(rows[0])
  }

  async listApiTokens(): Promise<ApiToken[]> {
    const { rows } = await this.guard(() => this.pool.query<TokenRow>('SELECT * FROM api_tokens ORDER BY created_at, id'))
    return rows.map(tokenFromRow)
  }

  async revokeApiToken(id: string, at: number): Promise<void> {
    const { rowCount } = await this.guard(() => this.pool.query('UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2', [at, id]))
    if (rowCount === 0) throw new AssayError('ASSAY_TOKEN_NOT_FOUND', `no API token has id ${id}`)
  }

  // ---- Model registry and audit log (docs/registry.md, docs/gates.md) ----

  async createModel(model: RegisteredModel): Promise<void> {
    await this.tx(async (c) => {
      const { rows } = await c.query('INSERT INTO models (name, owner, description, tags, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING name', [
        model.name,
        model.owner,
        model.description,
        canonicalJson(model.tags),
        model.createdAt,
        model.createdBy,
      ])
      if (rows.length === 0) throw new AssayError('ASSAY_MODEL_EXISTS', `a model named ${JSON.stringify(model.name)} already exists`, { model: model.name })
    })
  }

  private async modelRow(db: Db, name: string, lock = false): Promise<ModelRow> {
    const { rows } = await db.query<ModelRow>(`SELECT * FROM models WHERE name = $1${lock ? ' FOR UPDATE' : ''}`, [name])
    if (rows.length === 0) throw new AssayError('ASSAY_MODEL_NOT_FOUND', `no registered model is named ${JSON.stringify(name)}`, { model: name })
    return rows[0]
  }

  async getModel(name: string): Promise<RegisteredModel> {
    return modelFromRow(await this.guard(() => this.modelRow(this.pool, name)))
  }

  async listModels(): Promise<RegisteredModel[]> {
    const { rows } = await this.guard(() => this.pool.query<ModelRow>('SELECT * FROM models ORDER BY name'))
    return rows.map(modelFromRow)
  }

  async addModelVersion(version: NewModelVersion): Promise<ModelVersion> {
    return this.tx(async (c) => {
      // The model row lock serialises version numbering per model.
      await this.modelRow(c, version.model, true)
      if ((await c.query('SELECT 1 FROM runs WHERE id = $1', [version.runId])).rows.length === 0) {
        throw new AssayError('ASSAY_RUN_NOT_FOUND', `no run has id ${version.runId}`, { runId: version.runId })
      }
      const { rows } = await c.query<{ next: number }>('SELECT COALESCE(MAX(version), 0) + 1 AS next FROM model_versions WHERE model = $1', [version.model])
      const next = Number(rows[0].next)
      await c.query(
        'INSERT INTO model_versions (model, version, run_id, artifact_name, artifact_sha256, description, tags, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
        [version.model, next, version.runId, version.artifact?.name ?? null, version.artifact?.sha256 ?? null, version.description, canonicalJson(version.tags), version.createdAt, version.createdBy],
      )
      return { ...version, version: next }
    })
  }

  async listModelVersions(model: string): Promise<ModelVersion[]> {
    return this.snapshot(async (c) => {
      await this.modelRow(c, model)
      return (await c.query<ModelVersionRow>('SELECT * FROM model_versions WHERE model = $1 ORDER BY version', [model])).rows.map(modelVersionFromRow)
    })
  }

  async aliasEvents(model: string, alias?: string): Promise<AliasEvent[]> {
    const { rows } = await this.guard(() =>
      alias === undefined
        ? this.pool.query<AliasEventRow>('SELECT * FROM alias_events WHERE model = $1 ORDER BY seq', [model])
        : this.pool.query<AliasEventRow>('SELECT * FROM alias_events WHERE model = $1 AND alias = $2 ORDER BY seq', [model, alias]),
    )
    return rows.map(aliasEventFromRow)
  }

  /**
   * Inside a transaction: refuse a record whose hash is not its content's; lock the log; refuse a
   * log whose last record is not its head anchor (its tail was removed: appending would hide that)
   * and a record that does not chain onto the last one; insert it and move the anchor to it.
   */
  private async insertAudit(c: pg.PoolClient, record: AuditRecord): Promise<void> {
    assertAuditHash(record)
    await c.query('LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE')
    const { rows } = await c.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1')
    const anchor = await c.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1')
    assertAnchored(rows.length === 0 ? null : { seq: Number(rows[0].seq), hash: rows[0].hash }, anchor.rows.length === 0 ? null : { seq: Number(anchor.rows[0].seq), hash: anchor.rows[0].hash })
    const expectedSeq = (rows.length === 0 ? 0 : Number(rows[0].seq)) + 1
    const expectedPrev = rows.length === 0 ? '0'.repeat(64) : rows[0].hash
    if (record.seq !== expectedSeq || record.prevHash !== expectedPrev) {
      throw new AssayError('ASSAY_AUDIT_CONFLICT', `audit record ${record.seq} does not follow the log's head (record ${expectedSeq - 1}); another writer appended first`, { expectedSeq })
    }
    await c.query('INSERT INTO audit_log (seq, at, kind, actor, subject, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
      record.seq,
      record.at,
      record.kind,
      record.actor,
      record.subject,
      canonicalJson(record.body),
      record.prevHash,
      record.hash,
    ])
    await c.query('INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash', [record.seq, record.hash])
  }

  async appendAudit(record: AuditRecord): Promise<void> {
    await this.tx((c) => this.insertAudit(c, record))
  }

  async moveAlias(record: AuditRecord, event: NewAliasEvent): Promise<AliasEvent> {
    return this.tx(async (c) => {
      // Lock the model row: alias moves of one model are serialised.
      await this.modelRow(c, event.model, true)
      if (event.version !== null && (await c.query('SELECT 1 FROM model_versions WHERE model = $1 AND version = $2', [event.model, event.version])).rows.length === 0) {
        throw new AssayError('ASSAY_MODEL_NOT_FOUND', `model ${event.model} has no version ${event.version}`, { model: event.model, version: event.version })
      }
      const latest = await c.query<{ version: number | null }>('SELECT version FROM alias_events WHERE model = $1 AND alias = $2 ORDER BY seq DESC LIMIT 1', [event.model, event.alias])
      const holder = latest.rows.length === 0 ? null : latest.rows[0].version
      if (holder !== event.previousVersion) {
        throw new AssayError('ASSAY_AUDIT_CONFLICT', `${event.model}@${event.alias} is held by ${holder === null ? 'nobody' : `version ${holder}`}, not ${event.previousVersion === null ? 'nobody' : `version ${event.previousVersion}`}: it moved since it was read`, {
          model: event.model,
          alias: event.alias,
          holder,
        })
      }
      // The event first, then the audit record: a failure in either rolls back both.
      const { rows } = await c.query<{ seq: number }>(
        'INSERT INTO alias_events (model, alias, kind, version, previous_version, actor, at, reason, audit_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq',
        [event.model, event.alias, event.kind, event.version, event.previousVersion, event.actor, event.at, event.reason, record.seq],
      )
      await this.insertAudit(c, record)
      return { ...event, seq: Number(rows[0].seq), auditSeq: record.seq }
    })
  }

  async auditRecords(): Promise<AuditRecord[]> {
    const { rows } = await this.guard(() => this.pool.query<AuditRow>('SELECT * FROM audit_log ORDER BY seq'))
    return rows.map(auditFromRow)
  }

  async lastAuditRecord(): Promise<AuditRecord | null> {
    const { rows } = await this.guard(() => this.pool.query<AuditRow>('SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1'))
    return rows.length === 0 ? null : auditFromRow(rows[0])
  }

  async auditHead(): Promise<{ seq: number; hash: string } | null> {
    const { rows } = await this.guard(() => this.pool.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1'))
    return rows.length === 0 ? null : { seq: Number(rows[0].seq), hash: rows[0].hash }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.pool.end()
  }
}

/** `count` rows of ($1, key, seq, count, data) with parameters numbered from `first`. */
function chunkTuples(count: number, first: number): string {
  return Array.from({ length: count }, (_, i) => {
    const p = first + i * 4
    return `($1, $${p}, $${p + 1}, $${p + 2}, $${p + 3})`
  }).join(', ')
}

/**
 * Writes are allowed to a running run and to one a reader marked crashed (the write revives it:
 * its process was stalled, not dead); an ended run refuses them.
 */
function requireRunning(status: RunStatus, runId: string): void {
  if (status !== 'running' && status !== 'crashed') {
    throw new AssayError('ASSAY_RUN_NOT_ACTIVE', `run ${runId} is ${status}; nothing more can be logged to it`, { runId, status })
  }
}

async function readArtifactFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file)
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `cannot read artifact file ${file}: ${code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a directory' : 'permission denied'}`, { path: file })
    }
    if (code === 'ERR_FS_FILE_TOO_LARGE') {
      throw new AssayError('ASSAY_VALUE_TOO_LARGE', `artifact file ${file} is over the ${MAX_BLOB_BYTES} bytes a PostgreSQL store keeps in one value`, { path: file })
    }
    throw error
  }
}

/** Network and server-availability failures, as a short reason; undefined for any other error. */
function unavailableReason(error: unknown): string | undefined {
  const e = error as { code?: string; message?: string; errors?: unknown[] }
  if (e === null || typeof e !== 'object') return undefined
  const code = e.code ?? ''
  const network = ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']
  if (network.includes(code)) return `${code} (${e.message ?? 'network error'})`
  if (Array.isArray(e.errors)) {
    // Node's happy-eyeballs connect rejects with an AggregateError over every address it tried.
    for (const inner of e.errors) {
      const reason = unavailableReason(inner)
      if (reason !== undefined) return reason
    }
  }
  // SQLSTATE classes 08 (connection exception), 57P0x (shutdown, cannot connect now), 53300
  // (too many connections), 28 (login rejected), 3D000 (no such database).
  if (/^(08|57P0|28)/.test(code) || code === '53300' || code === '3D000') return `${e.message ?? code} (SQLSTATE ${code})`
  const message = e.message ?? ''
  if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection timeout/i.test(message)) return message
  return undefined
}

/** The pool configuration of a URL, its location for messages (no password) and its schema. */
function connectionConfig(url: string, options: PostgresStoreOptions): { location: string; schema: string; config: pg.PoolConfig } {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new AssayError('ASSAY_INVALID_STORE_URL', `cannot open a store at ${redactUrl(url)}: not a valid URL`)
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new AssayError('ASSAY_INVALID_STORE_URL', `cannot open a PostgreSQL store at ${redactUrl(url)}: the URL must start with postgres:// or postgresql://`)
  }
  const schema = options.schema ?? parsed.searchParams.get('schema') ?? 'public'
  if (!SCHEMA_NAME.test(schema)) {
    throw new AssayError('ASSAY_INVALID_STORE_URL', `schema ${JSON.stringify(schema)} is not allowed: use lowercase letters, digits and underscores (at most 63, not starting with a digit)`)
  }
  const poolText = parsed.searchParams.get('pool_size')
  const poolSize = options.poolSize ?? (poolText === null ? DEFAULT_POOL_SIZE : Number(poolText))
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000) {
    throw new AssayError('ASSAY_INVALID_STORE_URL', `pool size ${JSON.stringify(poolText ?? poolSize)} is not an integer from 1 to 1000`)
  }
  const location = new URL(parsed.href)
  location.password = ''
  const extraOptions = parsed.searchParams.get('options')
  for (const name of ['schema', 'pool_size', 'options']) parsed.searchParams.delete(name)
  return {
    location: location.href,
    schema,
    config: {
      connectionString: parsed.href,
      // Every connection: our schema only, and a commit that returns only once it is on disk.
      options: [extraOptions, `-c search_path=${schema}`, '-c synchronous_commit=on'].filter((o) => o).join(' '),
      application_name: parsed.searchParams.get('application_name') ?? 'assay',
      max: poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      keepAlive: true,
      types: TYPES,
    },
  }
}

/** A URL for messages: the password (if any) replaced. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/:]*):[^@/]*@/, '//$1:***@')
}
