import Database from 'better-sqlite3'
import { AssayError, storeFullError } from '../../errors.js'
import type { SqlAdapter, SqlColumn, SqlExecutor, TransactionKind } from '../sql-adapter.js'

/** How long one write waits for other writers (SQLite busy_timeout), and how often it retries after. */
const BUSY_TIMEOUT_MS = 5_000
const BUSY_RETRIES = 12
/** The longest pause before a retry when SQLite answered BUSY without waiting (retryOrThrow). */
const BUSY_PAUSE_MAX_MS = 1_000

/** A pause on this thread: for a statement run synchronously (the connection's setup), which cannot await. */
function pauseSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * The SQL adapter of the embedded store: one better-sqlite3 connection in WAL mode. Several
 * processes may write at once; SQLite serialises them and a writer opens its transaction with
 * BEGIN IMMEDIATE, waits while another holds the lock, then retries, so "database is locked"
 * never reaches the user (ASSAY_STORE_BUSY after the budget). In this process, transactions on
 * the one connection take turns (a queue), since the core's transactions are asynchronous.
 * synchronous=NORMAL makes a committed transaction survive the process being killed; it does not
 * promise survival of a power cut (set ASSAY_SQLITE_SYNCHRONOUS=FULL for that).
 * A full disk (SQLITE_FULL, ENOSPC) is ASSAY_STORE_FULL here, at the boundary, as PostgreSQL's
 * disk_full is in its adapter; the failed transaction is rolled back, so what was stored stays.
 */
export class SqliteAdapter implements SqlAdapter {
  readonly forUpdate = ''
  readonly dialect = 'sqlite'
  readonly db: Database.Database
  private readonly statements = new Map<string, Database.Statement>()
  /** The last transaction queued on this connection; statements outside one wait for it. */
  private queue: Promise<unknown> = Promise.resolve()
  private queued = 0
  private readonly executor: SqlExecutor

  constructor(
    file: string,
    private readonly location: string,
  ) {
    this.db = new Database(file, { timeout: BUSY_TIMEOUT_MS })
    this.db.defaultSafeIntegers(false)
    this.withBusyRetry(() => {
      this.db.pragma('journal_mode = WAL')
      this.db.pragma(`synchronous = ${process.env.ASSAY_SQLITE_SYNCHRONOUS === 'FULL' ? 'FULL' : 'NORMAL'}`)
      this.db.pragma('foreign_keys = ON')
    })
    // PostgreSQL's var_samp, which SQLite lacks, by Welford's update: a sum of squares would cancel.
    this.db.aggregate('assay_var_samp', {
      start: () => [0, 0, 0],
      step: (state: number[], value: number | null) => {
        if (value === null) return state
        const n = (state[0] as number) + 1
        const delta = value - (state[1] as number)
        const mean = (state[1] as number) + delta / n
        return [n, mean, (state[2] as number) + delta * (value - mean)]
      },
      result: (state: number[]) => ((state[0] as number) < 2 ? null : (state[2] as number) / ((state[0] as number) - 1)),
    })
    this.executor = {
      all: async <T>(sql: string, params: readonly unknown[] = []) => this.statement(sql).all(...params) as T[],
      get: async <T>(sql: string, params: readonly unknown[] = []) => this.statement(sql).get(...params) as T | undefined,
      run: async (sql: string, params: readonly unknown[] = []) => this.statement(sql).run(...params).changes,
      insertRows: async (table, columns, rows, conflict) => {
        const insert = this.statement(insertText(table, columns, conflict))
        for (const row of rows) insert.run(...row)
      },
      insertRowsReturning: async <T>(table: string, columns: readonly SqlColumn[], rows: readonly (readonly unknown[])[], tail: string) => {
        const insert = this.statement(insertText(table, columns, tail))
        return rows.flatMap((row) => insert.all(...row) as T[])
      },
      updateRows: async (table, columns, rows) => {
        const [key, ...set] = columns
        const update = this.statement(`UPDATE ${table} SET ${set.map((c) => `${c.name} = ?`).join(', ')} WHERE ${key.name} = ?`)
        for (const [k, ...values] of rows) update.run(...values, k)
      },
      serializeAppends: async () => undefined,
    }
  }

  /** Prepared once per text and kept for the life of the connection. */
  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql)
    if (statement === undefined) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.outside(() => this.executor.all<T>(sql, params))
  }

  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined> {
    return this.outside(() => this.executor.get<T>(sql, params))
  }

  run(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.outside(() => this.withBusyRetry(() => this.executor.run(sql, params)))
  }

  insertRows(table: string, columns: readonly SqlColumn[], rows: readonly (readonly unknown[])[], conflict?: string): Promise<void> {
    return this.transaction('write', (tx) => tx.insertRows(table, columns, rows, conflict))
  }

  insertRowsReturning<T>(table: string, columns: readonly SqlColumn[], rows: readonly (readonly unknown[])[], tail: string): Promise<T[]> {
    return this.transaction('write', (tx) => tx.insertRowsReturning<T>(table, columns, rows, tail))
  }

  updateRows(table: string, columns: readonly SqlColumn[], rows: readonly (readonly unknown[])[]): Promise<void> {
    return this.transaction('write', (tx) => tx.updateRows(table, columns, rows))
  }

  async serializeAppends(): Promise<void> {}

  /** A statement outside a transaction: at once when none is open here, else after the queue. */
  private outside<T>(fn: () => Promise<T>): Promise<T> {
    if (this.queued === 0) return fn()
    return this.enqueue(fn)
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    this.queued++
    const result = this.queue.then(fn).finally(() => this.queued--)
    this.queue = result.catch(() => undefined)
    return result
  }

  transaction<T>(kind: TransactionKind, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    // A write takes the write lock up front (IMMEDIATE), so two writers never both read and then
    // collide on the upgrade; a read is a deferred transaction: one WAL snapshot.
    const begin = kind === 'write' ? 'BEGIN IMMEDIATE' : 'BEGIN'
    return this.enqueue(() =>
      this.withBusyRetry(async () => {
        this.db.exec(begin)
        try {
          const result = await fn(this.executor)
          this.db.exec('COMMIT')
          return result
        } catch (error) {
          if (this.db.inTransaction) this.db.exec('ROLLBACK')
          throw error
        }
      }),
    )
  }

  /** `fn` (sync, or async and then awaited), retried while another process holds the write lock. */
  private withBusyRetry<T>(fn: () => T): T {
    return this.attempt(0, fn, performance.now())
  }

  private attempt<T>(attempt: number, fn: () => T, started: number): T {
    const tried = performance.now()
    try {
      const result = fn()
      if (result instanceof Promise) {
        return result.catch(async (error: unknown) => {
          const pause = this.busyPause(error, attempt, started, tried)
          if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause))
          return this.attempt(attempt + 1, fn, started)
        }) as T
      }
      return result
    } catch (error) {
      const pause = this.busyPause(error, attempt, started, tried)
      // Synchronous: the connection's setup, which cannot await.
      if (pause > 0) pauseSync(pause)
      return this.attempt(attempt + 1, fn, started)
    }
  }

  /**
   * After a failed try: the pause before the next one, or the error to throw. Only SQLITE_BUSY is
   * retried, up to BUSY_RETRIES. SQLite answers BUSY without calling its busy handler in some
   * states (a journal-mode change on a fresh file, WAL recovery, a stale snapshot), so a try that
   * failed sooner than busy_timeout did not wait: the next comes after a growing pause with jitter
   * (10 ms doubling, at most 1 s). Without it eight processes opening one fresh store could spend
   * every try within milliseconds (test/reliability/concurrent-writers.test.ts).
   */
  private busyPause(error: unknown, attempt: number, started: number, tried: number): number {
    const code = (error as { code?: string }).code
    if ((code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT') && attempt < BUSY_RETRIES) {
      return performance.now() - tried < BUSY_TIMEOUT_MS ? Math.min(BUSY_PAUSE_MAX_MS, 10 * 2 ** attempt) * (0.5 + Math.random()) : 0
    }
    if (code?.startsWith('SQLITE_BUSY')) {
      throw new AssayError('ASSAY_STORE_BUSY', `${this.location} stayed locked by other writers for ${((performance.now() - started) / 1000).toFixed(1)} s (${attempt + 1} tries)`)
    }
    throw storeFullError(error) ?? error
  }

  async close(): Promise<void> {
    await this.queue
    if (this.db.open) this.db.close()
  }
}

function insertText(table: string, columns: readonly SqlColumn[], conflict = ''): string {
  return `INSERT INTO ${table} (${columns.map((c) => c.name).join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ${conflict}`.trimEnd()
}
