import type { MetricSummary, RunStatus } from '../record/types.js'

/**
 * What the store core (sql-store.ts) needs of a SQL backend: statements in, rows out, and a
 * transaction of a kind. Statement text is written once with `?` placeholders; an adapter
 * translates it for its driver and prepares each text once (per connection), never per call.
 * A query builder was not chosen: better-sqlite3 is synchronous and Kysely's SQLite driver cannot
 * issue BEGIN IMMEDIATE, which the embedded store's concurrent writers rely on (docs/postgres.md).
 */
export interface SqlExecutor {
  /** Every row of a statement. */
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>
  /** The first row of a statement, or undefined. */
  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined>
  /** A statement that returns no rows; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>
  /**
   * Many rows into one table in as few round trips as the dialect allows (PostgreSQL: one
   * unnest statement; SQLite: one prepared INSERT run per row). `conflict` is appended verbatim.
   */
  insertRows(table: string, columns: readonly SqlColumn[], rows: readonly (readonly unknown[])[], conflict?: string): Promise<void>
  /**
   * insertRows with a tail that returns rows (`ON CONFLICT (k) DO NOTHING RETURNING k`): the rows
   * the tail returns, so a caller learns which rows it inserted (PostgreSQL: one statement;
   * SQLite: one prepared INSERT … RETURNING run per row).
   */
  insertRowsReturning<T>(table: string, columns: readonly SqlColumn[], rows: readonly (readonly unknown[])[], tail: string): Promise<T[]>
  /**
   * Many rows of one table updated by their key: `columns[0]` is the key, the others are set
   * (PostgreSQL: one UPDATE … FROM unnest; SQLite: one prepared UPDATE run per row).
   */
  updateRows(table: string, columns: readonly SqlColumn[], rows: readonly (readonly unknown[])[]): Promise<void>
  /**
   * Inside a write transaction: hold off other appenders to `table` until commit (PostgreSQL
   * locks the table; SQLite's BEGIN IMMEDIATE already serialises every writer).
   */
  serializeAppends(table: string): Promise<void>
}

/** A column of insertRows, with the type PostgreSQL's unnest needs. */
export interface SqlColumn {
  name: string
  type: 'text' | 'bigint' | 'float8' | 'bytea'
}

/**
 * 'write': a transaction whose checks and writes are atomic with respect to other writers.
 * 'read': one consistent snapshot for a read of several statements.
 */
export type TransactionKind = 'write' | 'read'

/** Which SQL a statement is written in, where the two differ (run-filter-sql.ts); placeholders are `?` in both. */
export type SqlDialect = 'sqlite' | 'postgres'

export interface SqlAdapter extends SqlExecutor {
  readonly dialect: SqlDialect
  /** ' FOR UPDATE' where the dialect locks rows it reads in a write transaction; '' otherwise. */
  readonly forUpdate: string
  /**
   * The backend's own one-statement form of the hottest writes, where a round trip is what a
   * write costs (PostgreSQL); undefined where transactions are local calls (SQLite). The store
   * core defines each operation below and turns its outcome into catalogue errors.
   */
  readonly oneStatement?: OneStatementWrites
  /** Run `fn` in one transaction; retried from the start when the backend says the attempt lost a race. */
  transaction<T>(kind: TransactionKind, fn: (tx: SqlExecutor) => Promise<T>): Promise<T>
  close(): Promise<void>
}

/**
 * Writes of the store core done in one statement each (PostgreSQL: functions of migrations 11 and 13,
 * postgres-migrations.ts). Each checks what the core's transaction checks, in the same order:
 * the run exists (locked), a batch id applied before makes the write a no-op, the run is
 * writable, the limits hold; then it writes, remembers the batch id and refreshes the heartbeat
 * (REVIVE_RUN). Nothing is written unless the outcome is 'written'.
 */
export interface OneStatementWrites {
  /**
   * A batch of metric series, params and tags (no datasets): SqlStore.logBatch. 'needs-transaction'
   * when the statement cannot recompute the config fingerprint for new params (nothing written):
   * the core's transaction does the batch instead.
   */
  appendBatch(write: BatchAppend): Promise<WriteOutcome | { kind: 'needs-transaction' }>
  /** One eval chunk: SqlStore.logEval. */
  appendEvalChunk(write: EvalAppend): Promise<WriteOutcome>
  /** A new run with its experiment, params, tags and datasets: SqlStore.createRun. False when the id is taken (nothing written). */
  insertRun(run: RunInsert): Promise<boolean>
}

export interface BatchAppend {
  runId: string
  batchId: string | undefined
  now: number
  /** The run's limits of metric keys, params and tags (ITEMS_PER_RUN). */
  maxKeys: number
  maxParams: number
  maxTags: number
  /** One entry per series, in batch order: its key, chunk and its points folded alone (foldMetricSummary). */
  series: readonly { key: string; count: number; chunk: Buffer; summary: MetricSummary }[]
  /** In batch order, as the core stores them (paramColumns): canonical JSON, and the number or text for search. */
  params: readonly ParamColumns[]
  tags: readonly (readonly [string, string])[]
}

/** A param as run_params holds it. */
export interface ParamColumns {
  key: string
  json: string
  number: number | null
  text: string | null
}

export interface EvalAppend {
  runId: string
  batchId: string | undefined
  now: number
  dataset: string
  datasetSha256: string
  count: number
  /** The chunk's score names, and their JSON array as stored for a new set. */
  scoreNames: readonly string[]
  chunk: Buffer
}

export interface RunInsert {
  experiment: string
  id: string
  name: string
  owner: string
  startTime: number
  parentId: string | null
  groupId: string | null
  seed: number
  seedSource: string
  environment: string
  code: string
  configFingerprint: string
  /** configParts of the run's envelope (runs.config_parts). */
  configParts: string
  params: readonly (readonly [string, string])[]
  tags: readonly (readonly [string, string])[]
  /** Rows in the column order of run_datasets after run_id. */
  datasets: readonly (readonly unknown[])[]
}

/** What a one-statement write did; anything but 'written' and 'applied' wrote nothing. */
export type WriteOutcome =
  | { kind: 'written' }
  | { kind: 'applied' }
  | { kind: 'missing' }
  | { kind: 'ended'; status: RunStatus }
  | { kind: 'too-many'; items: 'metric keys' | 'params' | 'tags'; count: number }
  | { kind: 'param-conflict'; key: string; stored: string }
  | { kind: 'sha-mismatch'; stored: string }
