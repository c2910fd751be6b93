import type { EvalColumns, EvalRecord } from '../record/types.js'

type Builder = (i: number) => EvalRecord

/**
 * Eval columns back to records exactly as logged. A million records are a million objects, so
 * the common layout (every record has the same fields) gets a record builder compiled for its
 * field names: object literals of one shape are several times faster to make than objects
 * filled key by key. Names are validated keys, written as JSON string literals, and
 * '__proto__' (which an object literal would treat as the prototype) takes the general path.
 */
export function evalColumnsToRecords(columns: EvalColumns): EvalRecord[] {
  const n = columns.ids.length
  const records: EvalRecord[] = new Array(n)
  const build = compiledBuilder(columns) ?? generalBuilder(columns)
  for (let i = 0; i < n; i++) records[i] = build(i)
  return records
}

const OPTIONAL_NUMBERS = ['latencyMs', 'tokens', 'cost'] as const

function compiledBuilder(columns: EvalColumns): Builder | null {
  const scoreNames = Object.keys(columns.scores)
  const complete =
    Object.values(columns.missing).every((indices) => indices.length === 0) &&
    (columns.clusters === null || !columns.clusters.includes(null)) &&
    (columns.outputHashes === null || !columns.outputHashes.includes(null)) &&
    !scoreNames.includes('__proto__')
  if (!complete) return null
  const fields = ['id: c.ids[i]']
  if (columns.clusters !== null) fields.push('cluster: c.clusters[i]')
  fields.push(`scores: { ${scoreNames.map((name) => `${JSON.stringify(name)}: c.scores[${JSON.stringify(name)}][i]`).join(', ')} }`)
  for (const field of OPTIONAL_NUMBERS) if (columns[field] !== null) fields.push(`${field}: c.${field}[i]`)
  if (columns.outputHashes !== null) fields.push('outputHash: c.outputHashes[i]')
  const make = new Function('c', 'i', `return { ${fields.join(', ')} }`) as (c: EvalColumns, i: number) => EvalRecord
  return (i) => make(columns, i)
}

function generalBuilder(columns: EvalColumns): Builder {
  const absent = (name: string): Set<number> | undefined => {
    const indices = columns.missing[name]
    return indices === undefined || indices.length === 0 ? undefined : new Set(indices)
  }
  const scores = Object.entries(columns.scores).map(([name, values]) => ({ name, values, absent: absent(`score:${name}`) }))
  const optional = OPTIONAL_NUMBERS.flatMap((field) => {
    const values = columns[field]
    return values === null ? [] : [{ field, values, absent: absent(field) }]
  })
  return (i) => {
    const recordScores: Record<string, number> = {}
    for (const s of scores) if (s.absent === undefined || !s.absent.has(i)) Object.defineProperty(recordScores, s.name, { value: s.values[i], enumerable: true, writable: true, configurable: true })
    const record: EvalRecord = { id: columns.ids[i], scores: recordScores }
    const cluster = columns.clusters?.[i]
    if (cluster != null) record.cluster = cluster
    for (const o of optional) if (o.absent === undefined || !o.absent.has(i)) record[o.field] = o.values[i]
    const hash = columns.outputHashes?.[i]
    if (hash != null) record.outputHash = hash
    return record
  }
}
