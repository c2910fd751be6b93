import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { AssayError } from '../../errors.js'
import { TraceColumnsBuilder, type TraceColumns } from '../../record/trace-columns.js'
import type { MetricSummary } from '../../record/types.js'
import { foldMetricSummary } from '../metric-summary.js'
import { summaryFromRow, type SummaryRow } from '../row-mapping.js'
import type { SqlExecutor } from '../sql-adapter.js'
import { REVIVE_RUN, SqlStore, type LockedRun } from '../sql-store.js'
import { rowScoreSql, shareNumberFeatures, traceColumnFields } from '../production-rows.js'
import { TRACE_COLUMN_PAGE_SIZE, type MetricSeries, type StoreCapabilities, type TraceColumnsQuery } from '../store.js'
import { CopyBinaryDecoder, type CopyField, type CopyTuple } from './copy-binary.js'
import { openPostgresAdapter, PostgresAdapter, type PostgresStoreOptions } from './postgres-adapter.js'
import { PostgresBlobStore } from './postgres-blob-store.js'
import { migratePostgres } from './postgres-migrations.js'

export type { PostgresStoreOptions } from './postgres-adapter.js'
export { redactUrl } from './postgres-adapter.js'

/** Rows of metric chunks per INSERT (4 parameters each; PostgreSQL allows 65,535 per statement). */
const CHUNK_ROWS_PER_INSERT = 1000

/**
 * The team store: PostgreSQL (postgres-adapter.ts), artifact bytes in a table
 * (postgres-blob-store.ts), the rules of the store core (../sql-store.ts). Several processes
 * (assay servers) may share one database: nothing lives outside it. With synchronous_commit on
 * (set for every connection), a write that returned is durable. See docs/postgres.md.
 *
 * Its own fast paths, where round trips are what a write costs: a batch's run lock and batch id
 * in one statement, and all its metric series in two.
 */
export class PostgresStore extends SqlStore {
  readonly kind = 'postgres'
  readonly capabilities: StoreCapabilities
  readonly schema: string

  private constructor(
    private readonly postgres: PostgresAdapter,
    blobs: PostgresBlobStore,
  ) {
    super(postgres.location, postgres, blobs)
    this.schema = postgres.schema
    this.capabilities = { maxArtifactBytes: blobs.maxBytes, localDirectory: null, spool: null, server: null }
  }

  /** Open (and migrate) the store at a postgres:// or postgresql:// URL. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const adapter = openPostgresAdapter(url, options)
    try {
      await migratePostgres(adapter)
    } catch (error) {
      await adapter.close()
      throw error
    }
    return new PostgresStore(adapter, new PostgresBlobStore(adapter))
  }

  /**
   * A window of traces as columns, read by `COPY (SELECT …) TO STDOUT (FORMAT binary)` and decoded
   * as it streams straight into the typed arrays (copy-binary.ts): no row object per trace, no text
   * form of each number, one statement (one snapshot, no keyset pages). The same columns, in the
   * same order, as the store core's paged read (traceColumnFields), which SQLite keeps. The feedback
   * scores come from the trace row (traces.feedback, migration 17: the latest value per name, kept
   * by addFeedback), `(feedback ->> name)::float8` per needed name: no read of trace_feedback, no
   * map by trace id. COPY takes no parameters, so the statement carries its values as literals
   * (the deployment and score names quoted by pg.escapeLiteral, the times as float8 text).
   */
  override async traceColumns(query: TraceColumnsQuery): Promise<TraceColumns> {
    const pageSize = query.pageSize ?? TRACE_COLUMN_PAGE_SIZE
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new AssayError('ASSAY_INVALID_ARGUMENT', `pageSize must be a positive integer, not ${JSON.stringify(query.pageSize)}`, { field: 'pageSize' })
    const modelVersion = await this.traceWindowModelVersion(query)
    const { needs } = query
    const time = (ms: number): string => `'${String(ms)}'::float8`
    const window = `deployment_id = ${pg.escapeLiteral(query.deployment)} AND start_time >= ${time(query.from)} AND start_time < ${time(query.to)}`
    const fields = traceColumnFields(needs, modelVersion, (name) => rowScoreSql('postgres', pg.escapeLiteral(name)))
    const sets = fields.map((f) => f.set as ((b: TraceColumnsBuilder, i: number, v: unknown) => void)[])
    const types = fields.map((f) => f.type)
    const builder = new TraceColumnsBuilder(needs)
    const block = 16_384
    let room = 0
    // Each value cast to the type it is decoded as (a no-op for a column of that type), so the
    // COPY's bytes are that type's; the decoder checks each length against it, and NULL against nullable.
    const select = fields.map((f) => `(${f.sql})::${f.type} AS ${f.name}`).join(', ')
    await this.copyOut(`SELECT ${select} FROM traces WHERE ${window} ORDER BY start_time, trace_id`, fields, (buffer, offsets, lengths) => {
      if (room === 0) {
        builder.reserve(block)
        room = block
      }
      const i = builder.length
      for (let c = 0; c < sets.length; c++) {
        const length = lengths[c]
        if (length < 0) continue
        const offset = offsets[c]
        const type = types[c]
        const value = type === 'float8' ? buffer.readDoubleBE(offset) : type === 'int4' ? buffer.readInt32BE(offset) : buffer.toString('utf8', offset, offset + length)
        for (const set of sets[c]) set(builder, i, value)
      }
      builder.commit(1)
      room--
    })
    return shareNumberFeatures(builder.finish(), needs)
  }

  /** One COPY (select) TO STDOUT (FORMAT binary) on a connection of the pool, each tuple handed to onTuple as it arrives. */
  private async copyOut(select: string, fields: readonly CopyField[], onTuple: CopyTuple): Promise<void> {
    const decoder = new CopyBinaryDecoder(fields, onTuple)
    await this.postgres.guard(async () => {
      const client = await this.postgres.pool.connect()
      let failed: Error | undefined
      try {
        for await (const chunk of client.query(copyTo(`COPY (${select}) TO STDOUT (FORMAT binary)`))) decoder.push(chunk as Buffer)
        decoder.end()
      } catch (error) {
        // A COPY stopped part way leaves the connection mid-protocol: it is not given back.
        failed = error as Error
        throw error
      } finally {
        client.release(failed)
      }
    })
  }

  /**
   * Lock the run row, then (fed by the locked row, so strictly after the lock) remember the batch
   * id; remembered = 0 when the id was applied before. Conflict detection on the unique index
   * sees every committed id, whatever this statement's snapshot.
   */
  protected override async lockRunForBatch(tx: SqlExecutor, runId: string, batchId: string | undefined): Promise<LockedRun & { applied: boolean }> {
    if (batchId === undefined) return { ...(await this.lockRun(tx, runId)), applied: false }
    const row = await tx.get<LockedRun & { remembered: number }>(
      `WITH r AS (SELECT status, seed FROM runs WHERE id = ? FOR UPDATE),
            b AS (INSERT INTO applied_batches (batch_id, run_id, applied_at) SELECT ?, ?, ? FROM r ON CONFLICT DO NOTHING RETURNING 1)
       SELECT r.status, r.seed, (SELECT COUNT(*) FROM b)::int AS remembered FROM r`,
      [runId, batchId, runId, Date.now()],
    )
    if (row === undefined) return { ...(await this.lockRun(tx, runId)), applied: false }
    return { status: row.status, seed: row.seed, applied: row.remembered === 0 }
  }

  /**
   * All series of a batch in two statements: the current seq and summary of each key, then the
   * chunks, the summaries and the heartbeat together. The run row is locked, so no other writer
   * can take the same seq, and this statement's snapshot already sees every earlier chunk.
   */
  protected override async writeMetrics(tx: SqlExecutor, runId: string, metrics: readonly MetricSeries[], encoded: readonly Buffer[]): Promise<void> {
    const keys = [...new Set(metrics.map((s) => s.key))]
    const state = new Map<string, { seq: number; summary: MetricSummary | undefined }>()
    const stateRows = await tx.all<SummaryRow & { max_seq: number | null }>(
      `SELECT k.key, (SELECT MAX(c.seq) FROM metric_chunks c WHERE c.run_id = ? AND c.key = k.key) AS max_seq,
         s.last, s.last_step, s.min, s.max, s.count
       FROM unnest(?::text[]) AS k(key) LEFT JOIN metric_summaries s ON s.run_id = ? AND s.key = k.key`,
      [runId, keys, runId],
    )
    for (const row of stateRows) state.set(row.key, { seq: (row.max_seq ?? -1) + 1, summary: row.count === null ? undefined : summaryFromRow(row) })
    const chunkRows: unknown[][] = []
    metrics.forEach((series, i) => {
      const s = state.get(series.key) as { seq: number; summary: MetricSummary | undefined }
      chunkRows.push([runId, series.key, s.seq, series.values.length, encoded[i]])
      s.seq += 1
      s.summary = foldMetricSummary(s.summary, series)
    })
    // Rare: a batch of more keys than one statement should carry; all but the last group go first.
    while (chunkRows.length > CHUNK_ROWS_PER_INSERT) {
      const group = chunkRows.splice(0, CHUNK_ROWS_PER_INSERT)
      await tx.run(`INSERT INTO metric_chunks (run_id, key, seq, count, data) VALUES ${chunkTuples(group.length)}`, group.flat())
    }
    const summaries = keys.map((k) => state.get(k)?.summary as MetricSummary)
    // Batches usually carry the same few keys, so these texts repeat and stay prepared.
    await tx.run(
      `WITH chunks AS (
         INSERT INTO metric_chunks (run_id, key, seq, count, data) VALUES ${chunkTuples(chunkRows.length)}
       ), summaries AS (
         INSERT INTO metric_summaries (run_id, key, last, last_step, min, max, count)
         SELECT ?, * FROM unnest(?::text[], ?::float8[], ?::float8[], ?::float8[], ?::float8[], ?::bigint[])
         ON CONFLICT (run_id, key) DO UPDATE SET last = excluded.last, last_step = excluded.last_step,
           min = excluded.min, max = excluded.max, count = excluded.count
       )
       ${REVIVE_RUN}`,
      [
        ...chunkRows.flat(),
        runId,
        summaries.map((s) => s.key),
        summaries.map((s) => s.last),
        summaries.map((s) => s.lastStep),
        summaries.map((s) => s.min),
        summaries.map((s) => s.max),
        summaries.map((s) => s.count),
        Date.now(),
        runId,
      ],
    )
  }
}

/** `count` rows of (run_id, key, seq, count, data) placeholders. */
function chunkTuples(count: number): string {
  return Array.from({ length: count }, () => '(?, ?, ?, ?, ?)').join(', ')
}
