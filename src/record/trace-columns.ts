import type { TraceRow } from './trace-row.js'

/**
 * A window of traces column-wise, as the monitor reads it: one typed array per number and a code
 * per trace for each text (an index into the distinct values), so a window of a million traces is
 * a few typed arrays, not a million row objects. The store reads a window straight into this form
 * (Store.traceColumns); traceColumnsFromRows turns trace rows into it, so the monitor decides on
 * one form only.
 *
 * Numbers: NaN where a trace has no value, +Infinity where it has one that is not a finite number
 * (NaN, a non-number): the schema check still tells a missing value from a broken one.
 */
export interface TraceColumns {
  length: number
  /** For the evidence of rejected traces; null where a row had none. */
  traceIds: (string | null)[]
  /** Event time, ms since the epoch (NaN: none). */
  time: Float64Array
  latencyMs: Float64Array
  inputTokens: Float64Array
  outputTokens: Float64Array
  costUsd: Float64Array
  /** The scores the monitor reads, by name (a score not here is missing from every trace). */
  scores: Record<string, Float64Array>
  /** The features the monitor reads, by name. */
  features: Record<string, TraceFeatureColumn>
  /** The attribute names each trace carried (for the malformed check), when read. */
  attributes?: TraceCodes<readonly string[]>
  conversationId?: TraceCodes<string>
  guardrailAction?: TraceCodes<string>
  modelVersion?: TraceCodes<string>
  promptVersion?: TraceCodes<string>
}

/** Interned values: `codes[i]` indexes `values`, -1 where trace i has none. */
export interface TraceCodes<T> {
  codes: Int32Array
  values: T[]
}

/** A feature: numbers, categories, or both (a trace with a category has NaN in `numbers`). */
export interface TraceFeatureColumn {
  numbers?: Float64Array
  categories?: TraceCodes<string>
}

/** What to read beyond time, latency, tokens and cost (always read): derived from a monitor file (monitorColumnNeeds). */
export interface TraceColumnNeeds {
  scores: readonly string[]
  features: readonly string[]
  attributes: boolean
  conversationId: boolean
  guardrailAction: boolean
  modelVersion: boolean
  promptVersion: boolean
}

export type TraceTextField = 'conversationId' | 'guardrailAction' | 'modelVersion' | 'promptVersion'
const TEXT_FIELDS: readonly TraceTextField[] = ['conversationId', 'guardrailAction', 'modelVersion', 'promptVersion']
const NUMBER_FIELDS = ['time', 'latencyMs', 'inputTokens', 'outputTokens', 'costUsd'] as const

/** A number as a column holds it: NaN for none, +Infinity for one that is not a finite number. */
export function columnNumber(v: unknown): number {
  if (v === undefined) return Number.NaN
  return typeof v === 'number' && !Number.isNaN(v) ? v : Infinity
}

/** Interned values that grow with the builder. */
class Interner<T> {
  codes: Int32Array = new Int32Array(0)
  readonly values: T[] = []
  private readonly index = new Map<string | number, number>()

  set(i: number, key: string | number, value: () => T): void {
    let code = this.index.get(key)
    if (code === undefined) {
      code = this.values.length
      this.values.push(value())
      this.index.set(key, code)
    }
    this.codes[i] = code
  }

  grow(capacity: number): void {
    this.codes = grownCodes(this.codes, capacity)
  }

  finish(length: number): TraceCodes<T> {
    return { codes: trimmed(this.codes, length), values: this.values }
  }
}

function grownNumbers(a: Float64Array, capacity: number): Float64Array {
  const b = new Float64Array(capacity).fill(Number.NaN)
  b.set(a)
  return b
}

function grownCodes(a: Int32Array, capacity: number): Int32Array {
  const b = new Int32Array(capacity).fill(-1)
  b.set(a)
  return b
}

function trimmed<A extends Float64Array | Int32Array>(a: A, length: number): A {
  return (a.length === length ? a : a.slice(0, length)) as A
}

/**
 * Builds TraceColumns a page at a time: `reserve(k)` makes room for k more traces (arrays double,
 * so references to them are valid until the next reserve), the caller writes trace `length + j`,
 * then `commit(k)`. Columns start as "none" (NaN, -1).
 */
export class TraceColumnsBuilder {
  length = 0
  private capacity = 0
  readonly traceIds: (string | null)[] = []
  time: Float64Array = new Float64Array(0)
  latencyMs: Float64Array = new Float64Array(0)
  inputTokens: Float64Array = new Float64Array(0)
  outputTokens: Float64Array = new Float64Array(0)
  costUsd: Float64Array = new Float64Array(0)
  readonly scores: Record<string, Float64Array> = {}
  readonly featureNumbers: Record<string, Float64Array> = {}
  readonly featureCategories: Record<string, Interner<string>> = {}
  readonly text: Partial<Record<TraceTextField, Interner<string>>> = {}
  readonly attributes: Interner<readonly string[]> | null

  constructor(readonly needs: TraceColumnNeeds) {
    for (const name of needs.scores) this.scores[name] = new Float64Array(0)
    for (const name of needs.features) {
      this.featureNumbers[name] = new Float64Array(0)
      this.featureCategories[name] = new Interner<string>()
    }
    for (const field of TEXT_FIELDS) if (needs[field]) this.text[field] = new Interner<string>()
    this.attributes = needs.attributes ? new Interner<readonly string[]>() : null
  }

  reserve(count: number): void {
    const needed = this.length + count
    if (needed <= this.capacity) return
    const capacity = Math.max(needed, 2 * this.capacity, 1024)
    for (const field of NUMBER_FIELDS) this[field] = grownNumbers(this[field], capacity)
    for (const name of Object.keys(this.scores)) this.scores[name] = grownNumbers(this.scores[name], capacity)
    for (const name of Object.keys(this.featureNumbers)) {
      this.featureNumbers[name] = grownNumbers(this.featureNumbers[name], capacity)
      this.featureCategories[name].grow(capacity)
    }
    for (const interner of Object.values(this.text)) interner.grow(capacity)
    this.attributes?.grow(capacity)
    this.capacity = capacity
  }

  commit(count: number): void {
    this.length += count
  }

  /** Text field `field` of trace i (null and undefined: none). */
  setText(field: TraceTextField, i: number, value: string | null | undefined): void {
    if (typeof value === 'string') this.text[field]?.set(i, value, () => value)
  }

  setCategory(feature: string, i: number, value: string): void {
    this.featureCategories[feature].set(i, value, () => value)
  }

  /** Trace rows appended as they are (the adapter of the row API, and of stores that serve rows). */
  addRows(rows: readonly TraceRow[]): void {
    const start = this.length
    this.reserve(rows.length)
    const { time, latencyMs, inputTokens, outputTokens, costUsd } = this
    for (let j = 0; j < rows.length; j++) {
      const i = start + j
      const row = rows[j] as TraceRow | null | undefined
      if (row === null || typeof row !== 'object') {
        this.traceIds.push(null)
        continue
      }
      this.traceIds.push(typeof row.traceId === 'string' ? row.traceId : null)
      time[i] = typeof row.time === 'number' ? row.time : Number.NaN
      latencyMs[i] = columnNumber(row.latencyMs)
      inputTokens[i] = columnNumber(row.inputTokens)
      outputTokens[i] = columnNumber(row.outputTokens)
      costUsd[i] = columnNumber(row.costUsd)
      for (const name in this.scores) this.scores[name][i] = columnNumber(row.scores?.[name])
      for (const name in this.featureNumbers) {
        const v = row.features?.[name]
        if (typeof v === 'string') this.setCategory(name, i, v)
        else this.featureNumbers[name][i] = columnNumber(v)
      }
      for (const field of TEXT_FIELDS) this.setText(field, i, row[field])
      const attributes = row.attributes
      if (this.attributes !== null && Array.isArray(attributes)) this.attributes.set(i, attributes.join('\u0000'), () => [...attributes])
    }
    this.commit(rows.length)
  }

  finish(): TraceColumns {
    const n = this.length
    const features: Record<string, TraceFeatureColumn> = {}
    for (const name of Object.keys(this.featureNumbers)) {
      const column: TraceFeatureColumn = {}
      const numbers = trimmed(this.featureNumbers[name], n)
      // A feature read only as categories (or not at all) keeps no array of NaN.
      if (numbers.some((v) => !Number.isNaN(v))) column.numbers = numbers
      const categories = this.featureCategories[name]
      if (categories.values.length > 0) column.categories = categories.finish(n)
      features[name] = column
    }
    const scores: Record<string, Float64Array> = {}
    for (const name of Object.keys(this.scores)) scores[name] = trimmed(this.scores[name], n)
    const columns: TraceColumns = {
      length: n,
      traceIds: this.traceIds,
      time: trimmed(this.time, n),
      latencyMs: trimmed(this.latencyMs, n),
      inputTokens: trimmed(this.inputTokens, n),
      outputTokens: trimmed(this.outputTokens, n),
      costUsd: trimmed(this.costUsd, n),
      scores,
      features,
    }
    for (const field of TEXT_FIELDS) {
      const interner = this.text[field]
      if (interner !== undefined) columns[field] = interner.finish(n)
    }
    if (this.attributes !== null) columns.attributes = this.attributes.finish(n)
    return columns
  }
}

/** Trace rows as columns: only what `needs` names beyond the fixed numbers. */
export function traceColumnsFromRows(rows: readonly TraceRow[], needs: TraceColumnNeeds): TraceColumns {
  const builder = new TraceColumnsBuilder(needs)
  builder.addRows(rows)
  return builder.finish()
}

/** Whether a value is TraceColumns (rather than an array of rows). */
export function isTraceColumns(value: unknown): value is TraceColumns {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const c = value as Partial<TraceColumns>
  return typeof c.length === 'number' && c.time instanceof Float64Array && c.time.length === c.length
}
