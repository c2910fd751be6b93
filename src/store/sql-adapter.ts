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
  /** Run `fn` in one transaction; retried from the start when the backend says the attempt lost a race. */
  transaction<T>(kind: TransactionKind, fn: (tx: SqlExecutor) => Promise<T>): Promise<T>
  close(): Promise<void>
}
