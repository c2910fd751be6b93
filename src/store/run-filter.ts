import { AssayError } from '../errors.js'
import type { JsonValue, RunSummary } from '../record/types.js'

/**
 * The run filter grammar (docs/cli.md). Parsed into a tree and evaluated in memory, never
 * pasted into SQL, so a filter can only ever filter.
 *
 *   filter     := or
 *   or         := and ("or" and)*
 *   and        := unary ("and" unary)*
 *   unary      := "not" unary | "(" or ")" | comparison
 *   comparison := field op literal
 *   field      := ("params" | "metrics" | "tags") "." key | "status" | "name" | "owner" | "seed" | "experiment" | "id" | "config"
 *   key        := [A-Za-z0-9_\-/:.]+ | `any text`
 *   op         := "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "~"   (~ is "contains", for text)
 *   literal    := number | 'text' | "text" | true | false | null
 */
export type FilterNode<F = FilterField> =
  | { kind: 'and' | 'or'; left: FilterNode<F>; right: FilterNode<F> }
  | { kind: 'not'; operand: FilterNode<F> }
  | { kind: 'compare'; field: F; op: FilterOp; value: JsonValue }

export type FilterField = { scope: 'params' | 'metrics' | 'tags'; key: string } | { scope: 'run'; key: RunAttribute }
export type FilterOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | '~'
export type RunAttribute = 'status' | 'name' | 'owner' | 'seed' | 'experiment' | 'id' | 'config'

const RUN_ATTRIBUTES: readonly RunAttribute[] = ['status', 'name', 'owner', 'seed', 'experiment', 'id', 'config']
const MAX_FILTER_LENGTH = 4096

type Token = FilterToken

function tokenize(input: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < input.length) {
    const ch = input[i]
    if (/\s/.test(ch)) {
      i++
      continue
    }
    const start = i
    if (ch === '(' || ch === ')') {
      tokens.push({ type: 'paren', text: ch, at: start })
      i++
    } else if (ch === "'" || ch === '"' || ch === '`') {
      let text = ''
      i++
      while (i < input.length && input[i] !== ch) {
        if (input[i] === '\\' && i + 1 < input.length) i++
        text += input[i++]
      }
      if (i >= input.length) throw filterError(`unterminated ${ch === '`' ? 'quoted key' : 'string'}`, start)
      // No stored key or text value holds a NUL (PostgreSQL text cannot), so none can match one.
      if (text.includes('\u0000')) throw filterError(`a ${ch === '`' ? 'quoted key' : 'string'} cannot hold a NUL character`, start)
      i++
      tokens.push({ type: ch === '`' ? 'quoted-key' : 'string', text, at: start })
    } else if ('=!<>~'.includes(ch)) {
      const two = input.slice(i, i + 2)
      const op = ['==', '!=', '<=', '>='].includes(two) ? two : ch
      if (op === '!') throw filterError("'!' must be followed by '='", start)
      tokens.push({ type: 'op', text: op, at: start })
      i += op.length
    } else if (/[-+0-9.]/.test(ch) && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.test(input.slice(i)) && !/[A-Za-z_]/.test(input[i - 1] ?? ' ')) {
      const match = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(input.slice(i)) as RegExpExecArray
      tokens.push({ type: 'number', text: match[0], at: start })
      i += match[0].length
    } else if (/[A-Za-z0-9_\-/:.]/.test(ch)) {
      while (i < input.length && /[A-Za-z0-9_\-/:.]/.test(input[i])) i++
      tokens.push({ type: 'word', text: input.slice(start, i), at: start })
    } else {
      throw filterError(`unexpected character ${JSON.stringify(ch)}`, start)
    }
  }
  tokens.push({ type: 'end', text: '', at: input.length })
  return tokens
}

export function parseRunFilter(input: string): FilterNode {
  return parseFilterWith(input, (token, quotedKey) => {
    if (token.type !== 'word') throw filterError(`expected a field such as params.lr or metrics.acc, found ${describeToken(token)}`, token.at)
    const dot = token.text.indexOf('.')
    const head = (dot === -1 ? token.text : token.text.slice(0, dot)).toLowerCase()
    if (head === 'params' || head === 'metrics' || head === 'tags') {
      let key = dot === -1 ? '' : token.text.slice(dot + 1)
      if (key === '') key = quotedKey() ?? ''
      if (key === '') throw filterError(`${head} needs a key, as in ${head}.name or ${head}.\`a key\``, token.at)
      return { scope: head, key }
    }
    if (dot === -1 && (RUN_ATTRIBUTES as readonly string[]).includes(head)) return { scope: 'run', key: head as RunAttribute }
    throw filterError(`unknown field ${JSON.stringify(token.text)}; use params.<key>, metrics.<key>, tags.<key> or one of ${RUN_ATTRIBUTES.join(', ')}`, token.at)
  })
}

/** A token of the filter grammar as a field reader sees it (the field's own token). */
export interface FilterToken {
  type: 'word' | 'string' | 'number' | 'op' | 'paren' | 'quoted-key' | 'end'
  text: string
  at: number
}

/**
 * One grammar, several field sets: the tokenizer, and/or/not, parentheses, operators and literals
 * are this function's; `parseField` reads a field from its token (`quotedKey` takes a backquoted
 * key that follows, if there is one) and `checkComparison` may refuse an operator or literal for
 * the field (the trace grammar is typed). Runs (parseRunFilter) and traces (trace-filter.ts).
 */
export function parseFilterWith<F>(
  input: string,
  parseField: (token: FilterToken, quotedKey: () => string | undefined) => F,
  checkComparison?: (field: F, op: FilterOp, value: JsonValue, at: number) => void,
): FilterNode<F> {
  if (typeof input !== 'string') throw new AssayError('ASSAY_INVALID_FILTER', 'a filter must be a string')
  if (input.length > MAX_FILTER_LENGTH) throw new AssayError('ASSAY_INVALID_FILTER', `a filter is limited to ${MAX_FILTER_LENGTH} characters`)
  const tokens = tokenize(input)
  let pos = 0
  const peek = (): Token => tokens[pos]
  const isWord = (word: string): boolean => peek().type === 'word' && peek().text.toLowerCase() === word

  const parseOr = (): FilterNode<F> => {
    let node = parseAnd()
    while (isWord('or')) {
      pos++
      node = { kind: 'or', left: node, right: parseAnd() }
    }
    return node
  }
  const parseAnd = (): FilterNode<F> => {
    let node = parseUnary()
    while (isWord('and')) {
      pos++
      node = { kind: 'and', left: node, right: parseUnary() }
    }
    return node
  }
  const parseUnary = (): FilterNode<F> => {
    if (isWord('not')) {
      pos++
      return { kind: 'not', operand: parseUnary() }
    }
    const token = peek()
    if (token.type === 'paren' && token.text === '(') {
      pos++
      const node = parseOr()
      const close = peek()
      if (close.type !== 'paren' || close.text !== ')') throw filterError("expected ')'", close.at)
      pos++
      return node
    }
    return parseComparison()
  }
  const readField = (): F => {
    const token = peek()
    pos++
    return parseField(token, () => (peek().type === 'quoted-key' ? tokens[pos++].text : undefined))
  }
  const parseComparison = (): FilterNode<F> => {
    const field = readField()
    const opToken = peek()
    if (opToken.type !== 'op') throw filterError(`expected a comparison operator (= != < <= > >= ~), found ${describeToken(opToken)}`, opToken.at)
    pos++
    const op = (opToken.text === '==' ? '=' : opToken.text) as FilterOp
    const valueToken = peek()
    pos++
    let value: JsonValue
    if (valueToken.type === 'number') value = Number(valueToken.text)
    else if (valueToken.type === 'string') value = valueToken.text
    else if (valueToken.type === 'word' && ['true', 'false', 'null'].includes(valueToken.text.toLowerCase())) {
      value = JSON.parse(valueToken.text.toLowerCase()) as JsonValue
    } else throw filterError(`expected a number, a quoted string, true, false or null, found ${describeToken(valueToken)}`, valueToken.at)
    if (op === '~' && typeof value !== 'string') throw filterError("'~' (contains) takes a quoted string", valueToken.at)
    checkComparison?.(field, op, value, valueToken.at)
    return { kind: 'compare', field, op, value }
  }

  const tree = parseOr()
  if (peek().type !== 'end') throw filterError(`unexpected ${describeToken(peek())}; join conditions with 'and' or 'or'`, peek().at)
  return tree
}

/**
 * The runs that pass the filter. A condition on a params, metrics or tags key that none of the
 * runs has is refused (ASSAY_INVALID_FILTER naming the keys that exist, closest first) rather than
 * answered with an empty list: `metrics.val_acc` where runs log `val/acc` is a typo, not a result.
 */
export function filterRuns(node: FilterNode, runs: readonly RunSummary[]): RunSummary[] {
  if (runs.length > 0) {
    for (const field of scopedFields(node)) {
      if (runs.some((run) => Object.hasOwn(run[field.scope], field.key))) continue
      throw unknownKeyError(field, [...new Set(runs.flatMap((run) => Object.keys(run[field.scope])))])
    }
  }
  return runs.filter((run) => runMatches(node, run))
}

/** ASSAY_INVALID_FILTER for a key no candidate run has, naming the `known` keys of its scope, closest first. */
export function unknownKeyError(field: ScopedField, known: readonly string[]): AssayError {
  const closest = closestFirst(field.key, known)
  const shown = closest.slice(0, 10).map((k) => `${field.scope}.${formatKey(k)}`)
  return new AssayError(
    'ASSAY_INVALID_FILTER',
    `no run has ${field.scope}.${formatKey(field.key)}; ` +
      (known.length === 0 ? `the runs have no ${field.scope}` : `${field.scope} keys that exist, closest first: ${shown.join(', ')}${known.length > shown.length ? `, … (${known.length} in all)` : ''}`),
    { scope: field.scope, key: field.key, known: closest },
  )
}

export interface ScopedField {
  scope: 'params' | 'metrics' | 'tags'
  key: string
}

/** The params, metrics and tags keys a filter names, each once. */
export function scopedFields(node: FilterNode): ScopedField[] {
  const seen = new Map<string, ScopedField>()
  for (const field of allScopedFields(node)) seen.set(`${field.scope}\u0000${field.key}`, field)
  return [...seen.values()]
}

function allScopedFields(node: FilterNode): ScopedField[] {
  switch (node.kind) {
    case 'and':
    case 'or':
      return [...allScopedFields(node.left), ...allScopedFields(node.right)]
    case 'not':
      return allScopedFields(node.operand)
    case 'compare':
      return node.field.scope === 'run' ? [] : [{ scope: node.field.scope, key: node.field.key }]
  }
}

/** A key as the filter grammar writes it: bare when it can be, else in backquotes. */
function formatKey(key: string): string {
  return /^[A-Za-z0-9_\-/:.]+$/.test(key) ? key : `\`${key}\``
}

/** A key written so that parseRunFilter reads it back exactly (backquoted, `\\` escaping). */
export function formatFilterKey(key: string): string {
  return /^[A-Za-z0-9_\-/:.]+$/.test(key) ? key : `\`${key.replace(/[\\`]/g, (c) => `\\${c}`)}\``
}

/** A number, text, true, false or null written so that parseRunFilter reads it back exactly. */
export function formatFilterLiteral(value: string | number | boolean | null): string {
  if (typeof value === 'string') return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`
  if (typeof value === 'number' && !Number.isFinite(value)) throw new AssayError('ASSAY_INVALID_FILTER', `${value} cannot be written in a filter`)
  return String(value)
}

/**
 * `candidates` sorted by how close they are to a mistyped `name`: first those that contain its
 * letters in order (an abbreviation: val_acc for validation/accuracy), then by edit distance.
 */
export function closestFirst(name: string, candidates: readonly string[]): string[] {
  const rank = new Map(candidates.map((c) => [c, (abbreviates(name, c) ? 0 : 1_000_000) + editDistance(name, c)]))
  return [...candidates].sort((a, b) => (rank.get(a) as number) - (rank.get(b) as number) || a.localeCompare(b))
}

function abbreviates(name: string, candidate: string): boolean {
  const letters = name.toLowerCase().replace(/[^a-z0-9]/g, '')
  const target = candidate.toLowerCase()
  let at = 0
  for (const ch of letters) {
    at = target.indexOf(ch, at) + 1
    if (at === 0) return false
  }
  return letters.length > 0
}

/** Levenshtein distance, case-insensitive: how far a mistyped key is from one that exists. */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j)
  for (let i = 1; i <= x.length; i++) {
    const current = [i]
    for (let j = 1; j <= y.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1))
    previous = current
  }
  return previous[y.length]
}

/**
 * Whether a run passes the filter. Conditions on a missing field are unknown, as NULL is in SQL,
 * and unknown stays unknown under 'not' (Kleene logic), so a missing field matches nothing:
 * "not params.x = 1" lists the same runs as "params.x != 1".
 */
export function runMatches(node: FilterNode, run: RunSummary): boolean {
  return evaluate(node, run) === true
}

function evaluate(node: FilterNode, run: RunSummary): boolean | null {
  switch (node.kind) {
    case 'and': {
      const left = evaluate(node.left, run)
      if (left === false) return false
      const right = evaluate(node.right, run)
      return right === false ? false : left === null || right === null ? null : true
    }
    case 'or': {
      const left = evaluate(node.left, run)
      if (left === true) return true
      const right = evaluate(node.right, run)
      return right === true ? true : left === null || right === null ? null : false
    }
    case 'not': {
      const operand = evaluate(node.operand, run)
      return operand === null ? null : !operand
    }
    case 'compare': {
      const actual = fieldValue(node.field, run)
      return actual === undefined ? null : compare(actual, node.op, node.value)
    }
  }
}

function fieldValue(field: FilterField, run: RunSummary): JsonValue | undefined {
  if (field.scope === 'run') return field.key === 'config' ? run.configFingerprint : run[field.key]
  const scope: Record<string, JsonValue> = run[field.scope]
  return Object.hasOwn(scope, field.key) ? scope[field.key] : undefined
}

/** Numbers compare as numbers, text as text (a missing field never gets here). */
function compare(actual: JsonValue, op: FilterOp, expected: JsonValue): boolean {
  if (op === '~') return typeof actual === 'string' && actual.includes(expected as string)
  if (op === '=' || op === '!=') {
    const equal = typeof actual === 'object' && actual !== null ? JSON.stringify(actual) === JSON.stringify(expected) : actual === expected
    return op === '=' ? equal : !equal
  }
  const bothNumbers = typeof actual === 'number' && typeof expected === 'number'
  const bothStrings = typeof actual === 'string' && typeof expected === 'string'
  if (!bothNumbers && !bothStrings) return false
  if (bothNumbers) {
    const a = actual as number
    const b = expected as number
    return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b
  }
  const order = compareCodePoints(actual as string, expected as string)
  return op === '<' ? order < 0 : op === '<=' ? order <= 0 : op === '>' ? order > 0 : order >= 0
}

/**
 * Text in code point order, which is the byte order of UTF-8 and so the order SQLite (BINARY)
 * and PostgreSQL (COLLATE "C") compare text in: JavaScript's own `<` compares UTF-16 code units,
 * which puts U+10000 and above before U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // Only surrogates (U+D800–U+DFFF, the halves of code points above U+FFFF) sort out of order.
    const xs = x >= 0xd800 && x <= 0xdfff
    const ys = y >= 0xd800 && y <= 0xdfff
    if (xs === ys) return x < y ? -1 : 1
    return xs ? 1 : -1
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

export function describeToken(token: Token): string {
  return token.type === 'end' ? 'the end of the filter' : JSON.stringify(token.text)
}

export function filterError(message: string, at: number): AssayError {
  return new AssayError('ASSAY_INVALID_FILTER', `filter error at character ${at + 1}: ${message}`, { at })
}

/**
 * The order of a run listing (docs/cli.md): a field and a direction, ties broken by run id in
 * the same direction.
 *
 *   order := ("start_time" | "end_time" | "name" | ("params" | "metrics") "." key) ["asc" | "desc"]
 *
 * Runs without the field (a running run's end_time, a missing param or metric, a metric whose
 * last value is NaN) come last in either direction; params that are numbers sort before params
 * that are text, and other params (true, a list) after those.
 */
export type RunOrder = { field: { scope: 'run'; key: 'start_time' | 'end_time' | 'name' } | { scope: 'params' | 'metrics'; key: string }; direction: 'asc' | 'desc' }

export const DEFAULT_RUN_ORDER: RunOrder = { field: { scope: 'run', key: 'start_time' }, direction: 'asc' }

export function parseRunOrder(input: string | undefined): RunOrder {
  if (input === undefined || input.trim() === '') return DEFAULT_RUN_ORDER
  const orderError = (why: string) => new AssayError('ASSAY_INVALID_ARGUMENT', `order ${JSON.stringify(input.slice(0, 200))}: ${why}; write start_time, end_time, name, params.KEY or metrics.KEY, then asc or desc`, { orderBy: input.slice(0, 200) })
  if (typeof input !== 'string' || input.length > 1024) throw orderError('not an order')
  const match = /^\s*(?:(start_time|end_time|name)|(params|metrics)\.(?:([A-Za-z0-9_\-/:.]+)|`([^`]+)`))(?:\s+(asc|desc))?\s*$/i.exec(input)
  if (match === null || input.includes('\u0000')) throw orderError('not an order')
  const direction = (match[5]?.toLowerCase() ?? 'asc') as 'asc' | 'desc'
  if (match[1] !== undefined) return { field: { scope: 'run', key: match[1].toLowerCase() as 'start_time' | 'end_time' | 'name' }, direction }
  return { field: { scope: match[2].toLowerCase() as 'params' | 'metrics', key: match[3] ?? match[4] }, direction }
}

/** An order as parseRunOrder reads it back, one spelling per order (cursors carry it). */
export function formatRunOrder(order: RunOrder): string {
  const field = order.field.scope === 'run' ? order.field.key : `${order.field.scope}.${formatKey(order.field.key)}`
  return `${field} ${order.direction}`
}
