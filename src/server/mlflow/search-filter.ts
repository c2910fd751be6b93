import { AssayError } from '../../errors.js'

/**
 * MLflow's search filter (`metrics.acc > 0.9 and params.lr = '0.1'`) in assay's filter grammar
 * (docs/cli.md, "Filter grammar"); what maps is listed in docs/mlflow.md. MLflow's clauses are
 * joined by AND; keys may be quoted with backticks or double quotes.
 */
const TOKEN = /\s*(?:(`(?:[^`\\]|\\.)*`|"(?:[^"\\]|\\.)*")|('(?:[^'\\]|\\.)*')|(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\w.])|(<=|>=|!=|==|=|<|>)|([(),])|([A-Za-z_][\w.:/-]*))/y

type Token = { kind: 'quoted' | 'string' | 'number' | 'op' | 'punct' | 'word'; text: string }

function tokenize(filter: string): Token[] {
  const tokens: Token[] = []
  TOKEN.lastIndex = 0
  let at = 0
  while (at < filter.length) {
    if (filter.slice(at).trim() === '') break
    TOKEN.lastIndex = at
    const m = TOKEN.exec(filter)
    if (m === null) throw invalid(`cannot read the filter at character ${at + 1}`)
    at = TOKEN.lastIndex
    const kinds = ['quoted', 'string', 'number', 'op', 'punct', 'word'] as const
    const i = m.slice(1).findIndex((g) => g !== undefined)
    tokens.push({ kind: kinds[i], text: m[i + 1] })
  }
  return tokens
}

const ENTITY: Record<string, 'metrics' | 'params' | 'tags' | 'attributes'> = {
  metric: 'metrics', metrics: 'metrics', param: 'params', params: 'params', parameter: 'params', parameters: 'params',
  tag: 'tags', tags: 'tags', attribute: 'attributes', attributes: 'attributes', attr: 'attributes', run: 'attributes',
}
const ATTRIBUTES: Record<string, string> = { status: 'status', run_name: 'name', user_id: 'owner', run_id: 'id' }
const STATUSES: Record<string, string> = { RUNNING: 'running', FINISHED: 'finished', FAILED: 'failed', KILLED: 'killed' }

/** The assay filter of an MLflow filter; undefined for an empty one. */
export function assayFilter(filter: string | undefined): string | undefined {
  if (filter === undefined || filter.trim() === '') return undefined
  const tokens = tokenize(filter)
  const clauses: string[] = []
  let i = 0
  const next = (): Token => {
    const t = tokens[i++]
    if (t === undefined) throw invalid('the filter ends in the middle of a clause')
    return t
  }
  while (i < tokens.length) {
    const field = fieldOf(next(), tokens, () => i++)
    const opToken = next()
    const op = opToken.text.toUpperCase()
    if (op === 'IN' || op === 'NOT') {
      if (op === 'NOT' && next().text.toUpperCase() !== 'IN') throw invalid('NOT is supported only in NOT IN')
      if (next().text !== '(') throw invalid(`${op} needs a parenthesized list`)
      const values: string[] = []
      for (;;) {
        values.push(literal(next(), field))
        const t = next()
        if (t.text === ')') break
        if (t.text !== ',') throw invalid('values of IN are separated by commas')
      }
      clauses.push(op === 'IN' ? `(${values.map((v) => `${field.name} = ${v}`).join(' or ')})` : values.map((v) => `${field.name} != ${v}`).join(' and '))
    } else if (op === 'LIKE') {
      const t = next()
      const m = t.kind === 'string' ? /^'%([^%_]*)%'$/.exec(t.text) : null
      if (m === null) throw invalid("LIKE is supported as LIKE '%text%' (text contains) only")
      clauses.push(`${field.name} ~ '${m[1]}'`)
    } else if (opToken.kind === 'op') {
      clauses.push(`${field.name} ${op === '==' ? '=' : op} ${literal(next(), field)}`)
    } else {
      throw invalid(`comparator ${JSON.stringify(opToken.text)} is not supported (=, !=, <, <=, >, >=, LIKE '%text%', IN)`)
    }
    if (i < tokens.length) {
      const joiner = next()
      if (joiner.text.toUpperCase() !== 'AND') throw invalid(`clauses are joined by AND, got ${JSON.stringify(joiner.text)}`)
    }
  }
  return clauses.join(' and ')
}

interface Field {
  name: string
  status: boolean
}

function fieldOf(token: Token, tokens: Token[], advance: () => void): Field {
  if (token.kind !== 'word') throw invalid(`a clause starts with an identifier such as metrics.acc, got ${JSON.stringify(token.text)}`)
  const dot = token.text.indexOf('.')
  let entity = dot < 0 ? 'attributes' : ENTITY[token.text.slice(0, dot).toLowerCase()]
  let key = dot < 0 ? token.text : token.text.slice(dot + 1)
  if (entity === undefined) throw invalid(`unknown identifier ${JSON.stringify(token.text)}: use metrics., params., tags. or attributes.`)
  if (dot >= 0 && key === '') {
    // A quoted key follows the dot: tags."mlflow.runName", params.`my key`.
    const nextToken = tokens[tokens.indexOf(token) + 1]
    if (nextToken?.kind !== 'quoted') throw invalid(`${token.text} needs a key`)
    advance()
    key = nextToken.text.slice(1, -1).replace(/\\(.)/g, '$1')
  }
  if (entity === 'tags' && key === 'mlflow.runName') [entity, key] = ['attributes', 'run_name']
  if (entity === 'tags' && key === 'mlflow.user') [entity, key] = ['attributes', 'user_id']
  if (entity === 'attributes') {
    const name = ATTRIBUTES[key]
    if (name === undefined) throw invalid(`attribute ${JSON.stringify(key)} is not supported in filters (status, run_name, user_id, run_id)`)
    return { name, status: name === 'status' }
  }
  return { name: `${entity}.\`${key.replace(/[`\\]/g, '\\$&')}\``, status: false }
}

function literal(token: Token, field: Field): string {
  if (token.kind === 'number') return token.text
  if (token.kind !== 'string' && token.kind !== 'quoted') throw invalid(`a value must be a number or a quoted string, got ${JSON.stringify(token.text)}`)
  let text = token.text.slice(1, -1).replace(/\\(.)/g, '$1')
  if (field.status) {
    const status = STATUSES[text.toUpperCase()]
    if (status === undefined) throw invalid(`unknown status ${JSON.stringify(text)}`)
    text = status
  }
  return `'${text.replace(/['\\]/g, '\\$&')}'`
}

function invalid(message: string): AssayError {
  return new AssayError('ASSAY_INVALID_FILTER', `MLflow filter: ${message}`)
}

/** MLflow's order_by (["metrics.acc DESC"]) as assay's orderBy; one key, as assay orders by one. */
export function assayOrder(orderBy: readonly string[] | undefined): string | undefined {
  if (orderBy === undefined || orderBy.length === 0) return undefined
  if (orderBy.length > 1) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'order_by: assay orders by one key', { field: 'body.order_by' })
  const m = /^\s*(?:(metrics?|params?|parameters?)\.(?:`([^`]+)`|"([^"]+)"|(\S+))|(?:attributes?\.)?(start_time|end_time|run_name))\s*(ASC|DESC)?\s*$/i.exec(orderBy[0])
  if (m === null) throw new AssayError('ASSAY_INVALID_ARGUMENT', `order_by ${JSON.stringify(orderBy[0])}: order by metrics.KEY, params.KEY, start_time, end_time or run_name`, { field: 'body.order_by' })
  const direction = (m[6] ?? 'asc').toLowerCase()
  if (m[5] !== undefined) return `${m[5] === 'run_name' ? 'name' : m[5].toLowerCase()} ${direction}`
  const entity = m[1].toLowerCase().startsWith('metric') ? 'metrics' : 'params'
  return `${entity}.\`${(m[2] ?? m[3] ?? m[4]).replace(/[`\\]/g, '\\$&')}\` ${direction}`
}
