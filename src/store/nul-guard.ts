import { AssayError } from '../errors.js'
import type { OneStatementWrites, SqlAdapter, SqlExecutor } from './sql-adapter.js'

/**
 * The store core's adapter with one rule in front of every statement: no text value holds a NUL
 * character or a lone UTF-16 surrogate. PostgreSQL text cannot hold one (the driver fails the statement), so the store core
 * refuses it on every backend with ASSAY_INVALID_ARGUMENT (400 over HTTP) before any statement
 * runs, and the embedded store answers as the team store does. JSON text is unaffected: it
 * escapes a NUL as \u0000.
 */
export function refusingNulText(adapter: SqlAdapter): SqlAdapter {
  const fast = adapter.oneStatement
  return {
    ...guardExecutor(adapter),
    dialect: adapter.dialect,
    forUpdate: adapter.forUpdate,
    ...(fast === undefined ? {} : { oneStatement: guardOneStatement(fast) }),
    transaction: (kind, fn) => adapter.transaction(kind, (tx) => fn(guardExecutor(tx))),
    close: () => adapter.close(),
  }
}

function guardExecutor(executor: SqlExecutor): SqlExecutor {
  return {
    all: (sql, params) => (refuseNul(params), executor.all(sql, params)),
    get: (sql, params) => (refuseNul(params), executor.get(sql, params)),
    run: (sql, params) => (refuseNul(params), executor.run(sql, params)),
    insertRows: (table, columns, rows, conflict) => (refuseNul(rows), executor.insertRows(table, columns, rows, conflict)),
    insertRowsReturning: (table, columns, rows, tail) => (refuseNul(rows), executor.insertRowsReturning(table, columns, rows, tail)),
    updateRows: (table, columns, rows) => (refuseNul(rows), executor.updateRows(table, columns, rows)),
    serializeAppends: (table) => executor.serializeAppends(table),
  }
}

function guardOneStatement(fast: OneStatementWrites): OneStatementWrites {
  return {
    appendBatch: (write) => (refuseNul(write), fast.appendBatch(write)),
    appendEvalChunk: (write) => (refuseNul(write), fast.appendEvalChunk(write)),
    insertRun: (run) => (refuseNul(run), fast.insertRun(run)),
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** Throws ASSAY_INVALID_ARGUMENT when a string in `value` (arrays and plain objects walked, bytes skipped) holds a NUL. */
export function refuseNul(value: unknown): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `${JSON.stringify(value.slice(0, 80))} holds a NUL character (U+0000), which no stored text may hold`)
    }
    // A lone UTF-16 surrogate is not text: the drivers store it as U+FFFD, so the value read back
    // (and a key looked up again) differs from the one written, and a retried write collides.
    if (LONE_SURROGATE.test(value)) {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `${JSON.stringify(value.slice(0, 80))} holds a lone UTF-16 surrogate, which is not text (no stored text may hold one)`)
    }
  } else if (Array.isArray(value)) {
    for (const item of value) refuseNul(item)
  } else if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && !ArrayBuffer.isView(value)) {
    for (const item of Object.values(value)) refuseNul(item)
  }
}

/**
 * A NUL or a lone surrogate escaped in JSON text (JSON.stringify writes a NUL as \u0000 and a
 * lone surrogate as \udXXX, never raw): a backslash run of odd length before the `u`, so an
 * escaped backslash followed by the letters "u0000" is not one.
 */
const ESCAPED_NUL_OR_SURROGATE = /(?<!\\)(?:\\\\)*\\u(?:0000|[dD][89abcdefABCDEF])/

/**
 * refuseNul(value) for a value whose JSON.stringify text is `json`, without walking the value
 * when the text shows neither character (almost always: then it holds no \u escape at all).
 * The walk, when the text has one, refuses exactly as refuseNul does.
 */
export function refuseNulInJson(json: string, value: unknown): void {
  if (json.includes('\\u') && ESCAPED_NUL_OR_SURROGATE.test(json)) refuseNul(value)
}
