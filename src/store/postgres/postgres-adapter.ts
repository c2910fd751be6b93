import pg from 'pg'
import { AssayError } from '../../errors.js'
import type { RunStatus } from '../../record/types.js'
import type { BatchAppend, EvalAppend, OneStatementWrites, RunInsert, SqlAdapter, SqlColumn, SqlExecutor, TransactionKind, WriteOutcome } from '../sql-adapter.js'

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
/** Deadlocks and serialization failures are retried this many times; nothing else is. */
const TX_RETRIES = 5
/** Statement texts prepared by name per connection; texts past this many run unnamed (statement()). */
const MAX_PREPARED = 2000
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/
const BEGIN: Record<TransactionKind, string> = {
  write: 'BEGIN',
  // One snapshot for a read of several statements, so a record is never half of two writes.
  read: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
}

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

/** A statement as pg runs it: `?` numbered, and named so that each connection prepares it once. */
interface PreparedText {
  name: string
  text: string
}

/**
 * The SQL adapter of the team store: a pg pool. Every driver error passes through `translate`
 * here (connection loss, a server going down: ASSAY_STORE_UNAVAILABLE), so no SQLSTATE reaches
 * the store core or the server. A write transaction is retried on deadlock or serialization failure.
 */
export class PostgresAdapter implements SqlAdapter {
  readonly forUpdate = ' FOR UPDATE'
  readonly dialect = 'postgres'
  readonly pool: pg.Pool
  private readonly prepared = new Map<string, PreparedText>()
  private closed = false

  constructor(
    readonly location: string,
    readonly schema: string,
    config: pg.PoolConfig,
  ) {
    this.pool = new pg.Pool(config)
    // An idle connection that dies (server restart) must not take the process down; the pool
    // drops it and the next query opens a new one.
    this.pool.on('error', () => {})
  }

  /**
   * The same text always gets the same name, so pg reuses its per-connection prepared statement.
   * Run searches write a text per shape of filter, which users choose: past MAX_PREPARED texts a
   * new one runs unnamed (parsed each time), so neither this process nor the server's sessions
   * keep statements without bound.
   */
  private statement(sql: string): PreparedText | { text: string } {
    let prepared = this.prepared.get(sql)
    if (prepared === undefined) {
      let n = 0
      const text = sql.replace(/\?/g, () => `$${++n}`)
      if (this.prepared.size >= MAX_PREPARED) return { text }
      prepared = { name: `assay_${this.prepared.size}`, text }
      this.prepared.set(sql, prepared)
    }
    return prepared
  }

  /** Run on one connection or the pool: the statements of SqlExecutor. */
  executor(db: pg.Pool | pg.PoolClient): SqlExecutor {
    const query = async <T extends pg.QueryResultRow>(sql: string, params: readonly unknown[] = []) => db.query<T>({ ...this.statement(sql), values: params as unknown[] })
    return {
      all: async <T>(sql: string, params?: readonly unknown[]) => (await query(sql, params)).rows as T[],
      get: async <T>(sql: string, params?: readonly unknown[]) => (await query(sql, params)).rows[0] as T | undefined,
      run: async (sql, params) => (await query(sql, params)).rowCount ?? 0,
      insertRows: async (table, columns, rows, conflict) => {
        const { arrays, values } = columnArrays(columns, rows)
        await db.query({ ...this.statement(unnestInsert(table, columns, arrays, conflict)), values })
      },
      insertRowsReturning: async <T>(table: string, columns: readonly SqlColumn[], rows: readonly (readonly unknown[])[], tail: string) => {
        const { arrays, values } = columnArrays(columns, rows)
        return (await db.query({ ...this.statement(unnestInsert(table, columns, arrays, tail)), values })).rows as T[]
      },
      updateRows: async (table, columns, rows) => {
        const { arrays, values } = columnArrays(columns, rows)
        await db.query({ ...this.statement(unnestUpdate(table, columns, arrays)), values })
      },
      serializeAppends: async (table) => {
        await db.query(`LOCK TABLE ${table} IN SHARE ROW EXCLUSIVE MODE`)
      },
    }
  }

  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.guard(() => this.executor(this.pool).all<T>(sql, params))
  }

  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined> {
    return this.guard(() => this.executor(this.pool).get<T>(sql, params))
  }

  run(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.guard(() => this.executor(this.pool).run(sql, params))
  }

  insertRows(table: string, columns: readonly SqlColumn[], rows: readonly (readonly unknown[])[], conflict?: string): Promise<void> {
    return this.guard(() => this.executor(this.pool).insertRows(table, columns, rows, conflict))
  }

  insertRowsReturning<T>(table: string, columns: readonly SqlColumn[], rows: readonly (readonly unknown[])[], tail: string): Promise<T[]> {
    return this.guard(() => this.executor(this.pool).insertRowsReturning<T>(table, columns, rows, tail))
  }

  updateRows(table: string, columns: readonly SqlColumn[], rows: readonly (readonly unknown[])[]): Promise<void> {
    return this.guard(() => this.executor(this.pool).updateRows(table, columns, rows))
  }

  async serializeAppends(): Promise<void> {
    throw new Error('serializeAppends is only meaningful inside a transaction')
  }

  /**
   * The store core's hottest writes as one statement each: a call of a function of migrations 11 and 13
   * (postgres-migrations.ts), prepared once per connection, outside any BEGIN/COMMIT (the
   * statement is its own transaction). Where the core's transaction costs six round trips, this
   * costs one.
   */
  readonly oneStatement: OneStatementWrites = {
    appendBatch: async (write: BatchAppend) => {
      const s = write.series
      const p = write.params
      let row: OutcomeRow | undefined
      try {
        row = await this.callOnce<OutcomeRow>(LOG_BATCH, [
          write.runId, write.batchId ?? null, write.now, write.maxKeys,
          s.map((x) => x.key), s.map((x) => x.count), s.map((x) => x.chunk.length),
          // Every chunk in one bytea: sent as binary, where an array of bytea would travel as hex text.
          s.length === 1 ? s[0].chunk : Buffer.concat(s.map((x) => x.chunk)),
          s.map((x) => x.summary.last), s.map((x) => x.summary.lastStep), s.map((x) => x.summary.min), s.map((x) => x.summary.max),
          write.maxParams, p.map((x) => x.key), p.map((x) => x.json), p.map((x) => x.number), p.map((x) => x.text),
          write.maxTags, write.tags.map((t) => t[0]), write.tags.map((t) => t[1]),
        ])
      } catch (error) {
        // An outcome found after the function wrote: raised, so the statement was rolled back whole.
        const e = error as { code?: string; message?: string; detail?: string }
        if (e.code !== REFUSED) throw error
        row = { outcome: e.message ?? '', detail: e.detail ?? null }
      }
      return row?.outcome === 'needs-transaction' ? { kind: 'needs-transaction' } : outcomeOf(row)
    },
    appendEvalChunk: async (write: EvalAppend) =>
      outcomeOf(
        await this.callOnce<OutcomeRow>(LOG_EVAL, [
          write.runId, write.batchId ?? null, write.now, write.dataset, write.datasetSha256, write.count, write.scoreNames, JSON.stringify(write.scoreNames), write.chunk,
        ]),
      ),
    insertRun: async (run: RunInsert) => {
      try {
        await this.callOnce(CREATE_RUN, [
          run.experiment, run.id, run.name, run.owner, run.startTime, run.parentId, run.groupId, run.seed, run.seedSource, run.environment, run.code, run.configFingerprint, run.configParts,
          run.params.map((p) => p[0]), run.params.map((p) => p[1]), run.tags.map((t) => t[0]), run.tags.map((t) => t[1]),
          ...DATASET_FIELDS.map((_, i) => run.datasets.map((d) => d[i])),
        ])
        return true
      } catch (error) {
        if ((error as { code?: string }).code === RUN_EXISTS) return false
        throw error
      }
    },
  }

  /** One statement on the pool, retried like a transaction when it lost a deadlock or serialization race. */
  private async callOnce<T extends pg.QueryResultRow>(sql: string, params: readonly unknown[]): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.pool.query<T>({ ...this.statement(sql), values: params as unknown[] })).rows[0]
      } catch (error) {
        const code = (error as { code?: string }).code
        if ((code === '40001' || code === '40P01') && attempt < TX_RETRIES) continue
        if (code === RUN_EXISTS || code === REFUSED) throw error
        throw this.translate(error)
      }
    }
  }

  async transaction<T>(kind: TransactionKind, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.onConnection(BEGIN[kind], (client) => fn(this.executor(client)))
  }

  /** `fn` in one transaction on one connection (BEGIN as given); retried on deadlock or serialization failure. */
  async onConnection<T>(begin: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
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

  async guard<T>(fn: () => Promise<T>): Promise<T> {
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

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.pool.end()
  }
}

const LOG_BATCH = `SELECT outcome, detail FROM assay_log_batch(${Array.from({ length: 20 }, () => '?').join(', ')})`
const LOG_EVAL = 'SELECT outcome, detail FROM assay_log_eval(?, ?, ?, ?, ?, ?, ?, ?, ?)'
const CREATE_RUN = `SELECT assay_create_run(${Array.from({ length: 26 }, () => '?').join(', ')})`
/** The SQLSTATE assay_create_run raises when the run id is taken (class AY: assay's own). */
const RUN_EXISTS = 'AY001'
/** The SQLSTATE assay_log_batch raises with an outcome (its message) found after it wrote, so nothing it wrote stays. */
const REFUSED = 'AY002'
/** run_datasets columns after run_id, as RunInsert.datasets carries them. */
const DATASET_FIELDS = ['name', 'role', 'sha256', 'kind', 'size_bytes', 'file_count', 'rows', 'columns', 'source'] as const

interface OutcomeRow {
  outcome: string
  detail: string | null
}

const TOO_MANY = { 'too-many-keys': 'metric keys', 'too-many-params': 'params', 'too-many-tags': 'tags' } as const

/** A function's (outcome, detail) as the core's WriteOutcome. */
function outcomeOf(row: OutcomeRow | undefined): WriteOutcome {
  switch (row?.outcome) {
    case 'written':
    case 'applied':
    case 'missing':
      return { kind: row.outcome }
    case 'ended':
      return { kind: 'ended', status: row.detail as RunStatus }
    case 'too-many-keys':
    case 'too-many-params':
    case 'too-many-tags':
      return { kind: 'too-many', items: TOO_MANY[row.outcome], count: Number(row.detail) }
    case 'param-conflict': {
      const [key, stored] = JSON.parse(row.detail ?? '[]') as [string, string]
      return { kind: 'param-conflict', key, stored }
    }
    case 'sha-mismatch':
      return { kind: 'sha-mismatch', stored: row.detail ?? '' }
    default:
      throw new Error(`a one-statement write answered ${JSON.stringify(row)}`)
  }
}

/**
 * A text column whose values are all strings (or null) free of NUL and UTF-16 surrogates travels
 * as one JSON array (JSON.stringify is native; pg's array literal escapes each element with
 * regular expressions, about 40 µs for a 1 KB span's JSON). Other columns, and text columns
 * holding those characters (which PostgreSQL's json rejects where an array literal keeps them
 * as the driver encodes them), travel as pg arrays.
 */
const SURROGATE = /[\ud800-\udfff]/
const jsonSafe = (v: unknown): boolean => v === null || v === undefined || (typeof v === 'string' && !v.includes('\u0000') && !SURROGATE.test(v))

/**
 * Cheaper still, for a text column of non-empty strings free of NUL, surrogates and the record
 * separator U+001E (which canonical JSON escapes, and ids and hashes never hold): the strings
 * joined by U+001E in one Buffer, which pg sends in binary, so PostgreSQL only checks its UTF-8
 * and splits it (string_to_array), about 1 µs per span's JSON against 11-19 µs to parse it out
 * of a JSON array (bench/results/otlp.md).
 */
const SEPARATOR = '\u001e'
const separable = (v: unknown): boolean => typeof v === 'string' && v !== '' && !v.includes(SEPARATOR) && !v.includes('\u0000') && !SURROGATE.test(v)

/**
 * The strings as UTF-8 joined by U+001E, each written into one buffer: about 1 µs per span's JSON,
 * where join then Buffer.from, or the driver's encoding of one long JSON text, took 9-14 µs.
 */
function separatedUtf8(strings: readonly string[]): Buffer {
  let length = strings.length - 1
  for (const s of strings) length += Buffer.byteLength(s, 'utf8')
  const out = Buffer.allocUnsafe(length)
  let at = 0
  for (let i = 0; i < strings.length; i++) {
    if (i > 0) out[at++] = 0x1e
    at += out.write(strings[i], at, 'utf8')
  }
  return out
}

function columnArrays(columns: readonly SqlColumn[], rows: readonly (readonly unknown[])[]): { arrays: string[]; values: unknown[] } {
  const arrays: string[] = []
  const values: unknown[] = []
  columns.forEach((c, i) => {
    const column = rows.map((row) => row[i])
    if (c.type === 'text' && column.length > 0 && column.every(separable)) {
      arrays.push("string_to_array(?::text, E'\\x1e')")
      values.push(separatedUtf8(column as string[]))
    } else if (c.type === 'text' && column.every(jsonSafe)) {
      arrays.push('ARRAY(SELECT e FROM json_array_elements_text(?::json) WITH ORDINALITY AS x(e, i) ORDER BY i)')
      values.push(JSON.stringify(column))
    } else {
      arrays.push(`?::${c.type}[]`)
      values.push(column)
    }
  })
  return { arrays, values }
}

/** INSERT … SELECT * FROM unnest(one array per column): any number of rows in one statement. */
function unnestInsert(table: string, columns: readonly SqlColumn[], arrays: readonly string[], conflict = ''): string {
  return `INSERT INTO ${table} (${columns.map((c) => c.name).join(', ')}) SELECT * FROM unnest(${arrays.join(', ')}) ${conflict}`.trimEnd()
}

/** UPDATE … FROM unnest(one array per column): rows keyed by the first column, in one statement. */
function unnestUpdate(table: string, columns: readonly SqlColumn[], arrays: readonly string[]): string {
  const [key, ...set] = columns
  return `UPDATE ${table} AS t SET ${set.map((c) => `${c.name} = u.${c.name}`).join(', ')} FROM unnest(${arrays.join(', ')}) AS u(${columns.map((c) => c.name).join(', ')}) WHERE t.${key.name} = u.${key.name}`
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

/** The adapter of a postgres:// or postgresql:// URL: its pool, its location for messages (no password) and its schema. */
export function openPostgresAdapter(url: string, options: PostgresStoreOptions): PostgresAdapter {
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
  return new PostgresAdapter(location.href, schema, {
    connectionString: parsed.href,
    // Every connection: our schema only, and a commit that returns only once it is on disk.
    options: [extraOptions, `-c search_path=${schema}`, '-c synchronous_commit=on'].filter((o) => o).join(' '),
    application_name: parsed.searchParams.get('application_name') ?? 'assay',
    max: poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    keepAlive: true,
    types: TYPES,
  })
}

/** A URL for messages: the password (if any) replaced. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/:]*):[^@/]*@/, '//$1:***@')
}
