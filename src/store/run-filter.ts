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
 *   field      := ("params" | "metrics" | "tags") "." key | "status" | "name" | "owner" | "seed" | "experiment" | "id"
 *   key        := [A-Za-z0-9_\-/:.]+ | `any text`
 *   op         := "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "~"   (~ is "contains", for text)
 *   literal    := number | 'text' | "text" | true | false | null
 */
export type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; operand: FilterNode }
  | { kind: 'compare'; field: FilterField; op: FilterOp; value: JsonValue }

export type FilterField = { scope: 'params' | 'metrics' | 'tags'; key: string } | { scope: 'run'; key: RunAttribute }
export type FilterOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | '~'
type RunAttribute = 'status' | 'name' | 'owner' | 'seed' | 'experiment' | 'id'

const RUN_ATTRIBUTES: readonly RunAttribute[] = ['status', 'name', 'owner', 'seed', 'experiment', 'id']
const MAX_FILTER_LENGTH = 4096

interface Token {
  type: 'word' | 'string' | 'number' | 'op' | 'paren' | 'quoted-key' | 'end'
  text: string
  at: number
}

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
  if (typeof input !== 'string') throw new AssayError('ASSAY_INVALID_FILTER', 'a filter must be a string')
  if (input.length > MAX_FILTER_LENGTH) throw new AssayError('ASSAY_INVALID_FILTER', `a filter is limited to ${MAX_FILTER_LENGTH} characters`)
  const tokens = tokenize(input)
  let pos = 0
  const peek = (): Token => tokens[pos]
  const isWord = (word: string): boolean => peek().type === 'word' && peek().text.toLowerCase() === word

  const parseOr = (): FilterNode => {
    let node = parseAnd()
    while (isWord('or')) {
      pos++
      node = { kind: 'or', left: node, right: parseAnd() }
    }
    return node
  }
  const parseAnd = (): FilterNode => {
    let node = parseUnary()
    while (isWord('and')) {
      pos++
      node = { kind: 'and', left: node, right: parseUnary() }
    }
    return node
  }
  const parseUnary = (): FilterNode => {
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
  const parseField = (): FilterField => {
    const token = peek()
    if (token.type !== 'word') throw filterError(`expected a field such as params.lr or metrics.acc, found ${describeToken(token)}`, token.at)
    pos++
    const dot = token.text.indexOf('.')
    const head = (dot === -1 ? token.text : token.text.slice(0, dot)).toLowerCase()
    if (head === 'params' || head === 'metrics' || head === 'tags') {
      let key = dot === -1 ? '' : token.text.slice(dot + 1)
      if (key === '' && peek().type === 'quoted-key') key = tokens[pos++].text
      if (key === '') throw filterError(`${head} needs a key, as in ${head}.name or ${head}.\`a key\``, token.at)
      return { scope: head, key }
    }
    if (dot === -1 && (RUN_ATTRIBUTES as readonly string[]).includes(head)) return { scope: 'run', key: head as RunAttribute }
    throw filterError(`unknown field ${JSON.stringify(token.text)}; use params.<key>, metrics.<key>, tags.<key> or one of ${RUN_ATTRIBUTES.join(', ')}`, token.at)
  }
  const parseComparison = (): FilterNode => {
    const field = parseField()
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
      const known = [...new Set(runs.flatMap((run) => Object.keys(run[field.scope])))]
      const closest = closestFirst(field.key, known)
      const shown = closest.slice(0, 10).map((k) => `${field.scope}.${formatKey(k)}`)
      throw new AssayError(
        'ASSAY_INVALID_FILTER',
        `no run has ${field.scope}.${formatKey(field.key)}; ` +
          (known.length === 0 ? `the runs have no ${field.scope}` : `${field.scope} keys that exist, closest first: ${shown.join(', ')}${known.length > shown.length ? `, … (${known.length} in all)` : ''}`),
        { scope: field.scope, key: field.key, known: closest },
      )
    }
  }
  return runs.filter((run) => runMatches(node, run))
}

function scopedFields(node: FilterNode): { scope: 'params' | 'metrics' | 'tags'; key: string }[] {
  switch (node.kind) {
    case 'and':
    case 'or':
      return [...scopedFields(node.left), ...scopedFields(node.right)]
    case 'not':
      return scopedFields(node.operand)
    case 'compare':
      return node.field.scope === 'run' ? [] : [{ scope: node.field.scope, key: node.field.key }]
  }
}

/** A key as the filter grammar writes it: bare when it can be, else in backquotes. */
function formatKey(key: string): string {
  return /^[A-Za-z0-9_\-/:.]+$/.test(key) ? key : `\`${key}\``
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
  if (field.scope === 'run') return run[field.key]
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
  const a = actual as number | string
  const b = expected as number | string
  return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b
}

function describeToken(token: Token): string {
  return token.type === 'end' ? 'the end of the filter' : JSON.stringify(token.text)
}

function filterError(message: string, at: number): AssayError {
  return new AssayError('ASSAY_INVALID_FILTER', `filter error at character ${at + 1}: ${message}`, { at })
}
