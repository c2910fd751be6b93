import { canonicalJson } from '../record/validate.js'
import { compareCodePoints, type FilterField, type FilterNode, type FilterOp, type RunOrder } from './run-filter.js'
import type { SqlDialect } from './sql-adapter.js'

/**
 * The run filter grammar (run-filter.ts, one parser) compiled to SQL over `runs r JOIN
 * experiments e`, for both dialects. Every value is a bound parameter; keys too. The only text
 * that reaches the statement is written here, so a filter can only ever filter.
 *
 * Semantics are the in-memory matcher's (runMatches), exactly:
 * - A condition on a missing key is unknown, and unknown stays unknown under `not` (Kleene
 *   logic); only runs whose filter is true are listed. `not` is pushed down to the conditions
 *   first (De Morgan holds in Kleene logic), and a formula without `not` is true exactly when it
 *   is true with every unknown read as false; so each condition compiles to a two-valued test,
 *   "the run has the key and its value passes" (or, negated, "has the key and its value fails").
 * - Numbers compare as numbers and text as text (in code point order, which is UTF-8 byte
 *   order: SQLite's BINARY and PostgreSQL's COLLATE "C"); a number against text is false,
 *   `~` is "contains" and true only for text. Params are compared through the columns the
 *   write path fills from the same JSON value (run_params.value_num for numbers, value_text for
 *   text); true, false and null compare by their JSON.
 * - A metric's value is its last one; NaN (NULL in SQLite, NaN in PostgreSQL, which sorts NaN
 *   above every number) equals nothing and is neither above nor below anything.
 */
export interface SqlFragment {
  sql: string
  params: unknown[]
}

const FALSE = '(1 = 0)'
const ORDERING: Record<'<' | '<=' | '>' | '>=', string> = { '<': '<', '<=': '<=', '>': '>', '>=': '>=' }
/** The table of each scope of the grammar, one row per run and key. */
export const FILTER_SCOPE_TABLES = { params: 'run_params', metrics: 'metric_summaries', tags: 'run_tags' } as const
const SCOPE_TABLE = FILTER_SCOPE_TABLES
const STRING_ATTRIBUTES = { status: 'r.status', name: 'r.name', owner: 'r.owner', id: 'r.id', experiment: 'e.name', config: 'r.config_fingerprint' } as const

/** What differs between the two dialects in the statements this file writes. */
interface DialectParts {
  /** A bound number (PostgreSQL must be told its type, or it takes the column's: a bigint seed). */
  number: string
  /** True when `column` (float, possibly NULL or NaN) holds a comparable number. */
  isNumber(column: string): string
  /** The same test as a range an index on `column` can serve (only where it is not negated: it may be NULL). */
  numberRange(column: string): string
  contains(column: string): string
}

const DIALECTS: Record<SqlDialect, DialectParts> = {
  sqlite: {
    number: '?',
    // SQLite cannot store NaN: a NaN written becomes NULL.
    isNumber: (column) => `${column} IS NOT NULL`,
    numberRange: (column) => `${column} IS NOT NULL`,
    contains: (column) => `instr(${column}, ?) > 0`,
  },
  postgres: {
    number: 'CAST(? AS double precision)',
    isNumber: (column) => `(${column} IS NOT NULL AND ${column} <> 'NaN'::float8)`,
    // NaN sorts above every number (and NULL compares to nothing).
    numberRange: (column) => `${column} < 'NaN'::float8`,
    contains: (column) => `strpos(${column}, ?) > 0`,
  },
}

/** The filter as a WHERE condition over `runs r JOIN experiments e` (r and e are the aliases). */
export function filterToSql(node: FilterNode, dialect: SqlDialect): SqlFragment {
  const params: unknown[] = []
  const sql = compile(node, false, DIALECTS[dialect], params)
  return { sql, params }
}

function compile(node: FilterNode, negated: boolean, d: DialectParts, params: unknown[]): string {
  switch (node.kind) {
    case 'and':
    case 'or': {
      const left = compile(node.left, negated, d, params)
      const right = compile(node.right, negated, d, params)
      const joiner = (node.kind === 'and') !== negated ? 'AND' : 'OR'
      return `(${left} ${joiner} ${right})`
    }
    case 'not':
      return compile(node.operand, !negated, d, params)
    case 'compare':
      return condition(node.field, node.op, node.value, negated, d, params)
  }
}

/**
 * One comparison as a two-valued test: the run has the field and the comparison holds (or,
 * `negated`, fails). Each value test below is never NULL, so NOT of it is its negation.
 */
function condition(field: FilterField, op: FilterOp, value: unknown, negated: boolean, d: DialectParts, params: unknown[]): string {
  // `!=` is `=` negated: the field must be there either way.
  if (field.scope === 'run') {
    const flip = op === '!=' ? !negated : negated
    const effective = op === '!=' ? '=' : op
    const test = field.key === 'seed' ? numberTest('r.seed', effective, value, d, params) : textTest(STRING_ATTRIBUTES[field.key], effective, value, d, params)
    return flip ? `(NOT ${test})` : test
  }
  return `EXISTS (SELECT 1 FROM ${SCOPE_TABLE[field.scope]} x WHERE x.run_id = r.id AND ${keyedTest(field, op, value, negated, d, params)})`
}

/** `x.key = ? AND` the value test of a params, metrics or tags condition (x is a row of its table). */
function keyedTest(field: { scope: 'params' | 'metrics' | 'tags'; key: string }, op: FilterOp, value: unknown, negated: boolean, d: DialectParts, params: unknown[]): string {
  const flip = op === '!=' ? !negated : negated
  const effective = op === '!=' ? '=' : op
  params.push(field.key)
  const test =
    field.scope === 'params'
      ? paramTest(effective, value, d, params)
      : field.scope === 'metrics'
        ? numberTest('x.last', effective, value, d, params, d.isNumber('x.last'))
        : textTest('x.value', effective, value, d, params)
  return `x.key = ? AND ${flip ? `NOT ${test}` : test}`
}

/**
 * The params, metrics and tags conditions every listed run must pass (the filter's top-level
 * conjuncts, after `not` is pushed down), each as the rows of its table that pass it: `sql` is a
 * WHERE over alias x. A condition few rows pass can drive the search (sql-store.ts): its runs
 * first, instead of every run in the listing's order.
 */
export function requiredConditions(node: FilterNode, dialect: SqlDialect): { table: string; sql: string; params: unknown[] }[] {
  const d = DIALECTS[dialect]
  const out: { table: string; sql: string; params: unknown[] }[] = []
  const walk = (n: FilterNode, negated: boolean): void => {
    if (n.kind === 'not') walk(n.operand, !negated)
    else if (n.kind === 'and' || n.kind === 'or') {
      if ((n.kind === 'and') === negated) return
      walk(n.left, negated)
      walk(n.right, negated)
    } else if (n.kind === 'compare' && n.field.scope !== 'run') {
      const params: unknown[] = []
      const sql = keyedTest(n.field, n.op, n.value, negated, d, params)
      if (!sql.endsWith(` ${FALSE}`)) out.push({ table: SCOPE_TABLE[n.field.scope], sql, params })
    }
  }
  walk(node, false)
  return out
}

/** A column of text (never NULL): only text compares with it. */
function textTest(column: string, op: Exclude<FilterOp, '!='>, value: unknown, d: DialectParts, params: unknown[]): string {
  if (typeof value !== 'string') return FALSE
  params.push(value)
  if (op === '~') return `(${d.contains(column)})`
  return `(${column} ${op === '=' ? '=' : ORDERING[op]} ?)`
}

/** A column of numbers: only numbers compare with it; `guard` says the column holds one. */
function numberTest(column: string, op: Exclude<FilterOp, '!='>, value: unknown, d: DialectParts, params: unknown[], guard?: string): string {
  if (typeof value !== 'number' || op === '~') return FALSE
  params.push(value)
  const test = `${column} ${op === '=' ? '=' : ORDERING[op]} ${d.number}`
  return guard === undefined ? `(${test})` : `(${guard} AND ${test})`
}

/** A param's JSON value: numbers through value_num, text through value_text, the rest by canonical JSON. */
function paramTest(op: Exclude<FilterOp, '!='>, value: unknown, d: DialectParts, params: unknown[]): string {
  // true, false and null by their JSON; a list or an object equals no literal.
  if (op === '=' && typeof value !== 'number' && typeof value !== 'string') {
    params.push(canonicalJson(value))
    return '(x.value = ?)'
  }
  if (typeof value === 'number') return numberTest('x.value_num', op, value, d, params, 'x.value_num IS NOT NULL')
  // value_text is NULL unless the param is text.
  if (typeof value === 'string') return `(x.value_text IS NOT NULL AND ${textTest('x.value_text', op, value, d, params)})`
  return FALSE
}

/**
 * A listing order as the statements that read it. The sort key (what a cursor carries) is a row
 * of numbers and text, never NULL: a missing value is a rank (0, 1, 2) in a key before it. Each
 * rank is a segment of its own, read by its own statement after the one before it runs out, so
 * that within a segment every key that varies is a plain column an index is ordered by:
 * `metrics.acc desc` walks metric_summaries_last (key, last, run_id) backwards and stops after
 * the page, instead of sorting every matching run by a CASE expression.
 *
 * Each segment names its FROM (always with `runs r` and `experiments e`, which the filter refers
 * to), the WHERE that selects its rank, and for each key of the sort either the column that holds
 * it or the one value every run of the segment has there.
 */
export interface SortKeys {
  keys: { kind: 'number' | 'text'; descending: boolean }[]
  segments: OrderSegment[]
}

export interface OrderSegment {
  from: SqlFragment
  where: SqlFragment | null
  columns: (string | { constant: number | string })[]
}

const RUNS_FROM = 'runs r JOIN experiments e ON e.id = r.experiment_id'

export function orderToSql(order: RunOrder, dialect: SqlDialect, filter: FilterNode | null = null): SortKeys {
  const sort = orderSegments(order, dialect)
  const field = order.field
  if (filter === null || field.scope === 'run') return sort
  // A rank no run the filter keeps can hold is not read: the last statement of a listing would
  // otherwise look at every run for the ones without the key, only to find none.
  const kinds = requiredKinds(filter).filter((r) => r.scope === field.scope && r.key === field.key)
  const ranks = field.scope === 'metrics' ? ['number', 'none'] : ['number', 'text', 'none']
  const segments = sort.segments.filter((_, i) => kinds.every((k) => ranks[i] === k.kind))
  return { ...sort, segments }
}

/**
 * What the filter's top-level conditions require of a param or metric: a number, or text. A
 * run the filter keeps passes every one of them (requiredConditions), and a comparison that is
 * not negated holds only for a value of the literal's kind.
 */
function requiredKinds(node: FilterNode): { scope: 'params' | 'metrics'; key: string; kind: 'number' | 'text' }[] {
  const out: { scope: 'params' | 'metrics'; key: string; kind: 'number' | 'text' }[] = []
  const walk = (n: FilterNode, negated: boolean): void => {
    if (n.kind === 'not') walk(n.operand, !negated)
    else if (n.kind === 'and' || n.kind === 'or') {
      if ((n.kind === 'and') === negated) return
      walk(n.left, negated)
      walk(n.right, negated)
    } else if (n.kind === 'compare' && (n.field.scope === 'params' || n.field.scope === 'metrics')) {
      if (negated !== (n.op === '!=')) return
      if (typeof n.value === 'number' && n.op !== '~') out.push({ scope: n.field.scope, key: n.field.key, kind: 'number' })
      else if (typeof n.value === 'string' && n.field.scope === 'params') out.push({ scope: n.field.scope, key: n.field.key, kind: 'text' })
    }
  }
  walk(node, false)
  return out
}

function orderSegments(order: RunOrder, dialect: SqlDialect): SortKeys {
  const d = DIALECTS[dialect]
  const desc = order.direction === 'desc'
  const rank = { kind: 'number' as const, descending: false }
  const value = (kind: 'number' | 'text') => ({ kind, descending: desc })
  const runs = { sql: RUNS_FROM, params: [] }
  const c = (constant: number | string) => ({ constant })
  const field = order.field
  if (field.scope === 'run') {
    if (field.key === 'start_time') return { keys: [value('number'), value('text')], segments: [{ from: runs, where: null, columns: ['r.start_time', 'r.id'] }] }
    if (field.key === 'name') return { keys: [value('text'), value('text')], segments: [{ from: runs, where: null, columns: ['r.name', 'r.id'] }] }
    return {
      keys: [rank, value('number'), value('text')],
      segments: [
        { from: runs, where: { sql: 'r.end_time IS NOT NULL', params: [] }, columns: [c(0), 'r.end_time', 'r.id'] },
        { from: runs, where: { sql: 'r.end_time IS NULL', params: [] }, columns: [c(1), c(0), 'r.id'] },
      ],
    }
  }
  // The row of the ordering key is o; its segments start from it, so its index sets the order.
  const table = SCOPE_TABLE[field.scope]
  const keyed = { sql: `${table} o JOIN runs r ON r.id = o.run_id JOIN experiments e ON e.id = r.experiment_id`, params: [] }
  const key = (condition: string) => ({ sql: `o.key = ? AND ${condition}`, params: [field.key] })
  const without = (condition: string) => ({ sql: `NOT EXISTS (SELECT 1 FROM ${table} o WHERE o.run_id = r.id AND o.key = ? AND ${condition})`, params: [field.key] })
  if (field.scope === 'metrics') {
    return {
      keys: [rank, value('number'), value('text')],
      segments: [
        { from: keyed, where: key(d.numberRange('o.last')), columns: [c(0), 'o.last', 'o.run_id'] },
        { from: runs, where: without(d.isNumber('o.last')), columns: [c(1), c(0), 'r.id'] },
      ],
    }
  }
  // A param is a number (value_num), text (value_text) or neither (true, null, a list): never both.
  return {
    keys: [rank, value('number'), value('text'), value('text')],
    segments: [
      { from: keyed, where: key('o.value_num IS NOT NULL'), columns: [c(0), 'o.value_num', c(''), 'o.run_id'] },
      { from: keyed, where: key('o.value_text IS NOT NULL'), columns: [c(1), c(0), 'o.value_text', 'o.run_id'] },
      { from: runs, where: without('(o.value_num IS NOT NULL OR o.value_text IS NOT NULL)'), columns: [c(2), c(0), c(''), 'r.id'] },
    ],
  }
}

/**
 * The rows of a segment after `values` (a cursor) in the order of `sort`: a row comparison
 * written out, led by a bound on the first column so an index on it starts at the cursor instead
 * of skipping to it. Where the segment holds one value for a key, that key is compared here
 * instead: `'none'` when no row of the segment comes after the cursor, null when every row does.
 */
export function afterKeys(sort: SortKeys, segment: OrderSegment, values: readonly (number | string)[], dialect: SqlDialect): SqlFragment | null | 'none' {
  const d = DIALECTS[dialect]
  const bound = (i: number) => ({ sql: sort.keys[i].kind === 'number' ? d.number : '?', params: [values[i]] })
  const alternatives: SqlFragment[][] = []
  const equal: SqlFragment[] = []
  let lead: SqlFragment | null = null
  for (const [i, column] of segment.columns.entries()) {
    const { descending } = sort.keys[i]
    if (typeof column === 'object') {
      const v = values[i]
      const order = typeof column.constant === 'number' ? Math.sign(column.constant - (v as number)) : compareCodePoints(column.constant, v as string)
      const after = descending ? -order : order
      if (after > 0) alternatives.push([...equal])
      if (after !== 0) break
      continue
    }
    const b = bound(i)
    if (lead === null) lead = { sql: `${column} ${descending ? '<=' : '>='} ${b.sql}`, params: b.params }
    alternatives.push([...equal, { sql: `${column} ${descending ? '<' : '>'} ${b.sql}`, params: b.params }])
    equal.push({ sql: `${column} = ${b.sql}`, params: b.params })
  }
  if (alternatives.length === 0) return 'none'
  if (alternatives.some((parts) => parts.length === 0)) return null
  const parts = [lead as SqlFragment, ...alternatives.flat()]
  return {
    sql: `(${(lead as SqlFragment).sql} AND (${alternatives.map((a) => `(${a.map((p) => p.sql).join(' AND ')})`).join(' OR ')}))`,
    params: parts.flatMap((p) => p.params),
  }
}
