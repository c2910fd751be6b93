import { AssayError, isAssayError } from '../errors.js'
import { formatNumber, formatPValue } from '../number-format.js'
import {
  adjustPValues,
  chiSquareTest,
  clusteredTwoProportionTest,
  jensenShannon,
  ksTwoSample,
  populationStabilityIndexFromCounts,
  quantileInterval,
  tInterval,
  twoProportionZTest,
  binCounts,
} from '../stats/index.js'
import { MONITOR_DECISIONS, type DriftItem, type LoadedMonitor, type MonitorDecision, type MonitorSpec } from './monitor-spec.js'
import { guardrailTriggered } from '../record/production.js'
import { isTraceColumns, traceColumnsFromRows, type TraceCodes, type TraceColumnNeeds, type TraceColumns, type TraceFeatureColumn } from '../record/trace-columns.js'
import type { DecisionWindow, TraceRow } from './trace-row.js'

/**
 * decideMonitor: every check of a monitor file over one window of traces, and the one decision.
 * Pure: traces in (the window's end time is an input; no clock), a plain result out. It decides
 * on columns (record/trace-columns.ts: typed arrays, as the store reads a window); rows are turned
 * into columns first, so there is one rule for both. Each column a test or interval needs in
 * order is sorted once per decision.
 *
 * Precedence (highest first): escalate > rollback > retrain > warn > ok. Each check that does not
 * pass contributes its decision; the monitor's decision is the highest contribution and its reason
 * names the checks that made it. A check with too little data ('insufficient') or a budget only
 * possibly exceeded ('marginal') contributes 'warn'.
 */

export type CheckKind = 'stale' | 'malformed' | 'inconsistent' | 'unauditable' | 'costly'
export type CheckStatus = 'pass' | 'fail' | 'marginal' | 'insufficient'

export interface MonitorCheckResult {
  check: CheckKind
  name: string
  status: CheckStatus
  /** What this check contributes to the decision ('ok' when it passes). */
  decision: MonitorDecision
  /** The failure table's action: warn, block, backfill, reject, investigate, stop-promotion, route, cache, batch, downscale. */
  action: string
  reason: string
  /** Statistics, p-values, thresholds, counts: enough to recompute the check. */
  evidence: Record<string, unknown>
}

export interface MonitorResult {
  monitor: string
  sha256: string
  source: string
  decision: MonitorDecision
  reason: string
  /** The decisions, highest precedence first. */
  precedence: readonly MonitorDecision[]
  /** Set when the decision is rollback: where production returns to, and why. */
  rollback: { model: string; version?: number | string; alias?: string; rationale: string } | null
  /** Set when the decision is escalate. */
  escalation: string | null
  owner: string
  /** The failing checks' actions, in check order, without repeats. */
  actions: string[]
  window: { now: number; current: number; reference: number; rejected: number }
  multiplicity: { method: 'holm' | 'BH'; alpha: number; tests: number } | null
  checks: MonitorCheckResult[]
}

export const DECISION_PRECEDENCE: readonly MonitorDecision[] = [...MONITOR_DECISIONS].reverse()

function rank(d: MonitorDecision): number {
  return MONITOR_DECISIONS.indexOf(d)
}

function ageText(ms: number): string {
  if (!Number.isFinite(ms)) return 'never'
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ]
  for (const [size, unit] of units) if (Math.abs(ms) >= size) return `${formatNumber(ms / size, 3)}${unit}`
  return `${formatNumber(ms, 3)}ms`
}

function assertWindow(window: DecisionWindow): void {
  if (window === null || typeof window !== 'object') throw new AssayError('ASSAY_INVALID_ARGUMENT', 'window must be { current, reference, now }')
  const either = (side: unknown): boolean => Array.isArray(side) || isTraceColumns(side)
  if (!either(window.current) || !either(window.reference)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', 'window.current and window.reference must be arrays of trace rows (or trace columns)')
  }
  if (typeof window.now !== 'number' || !Number.isFinite(window.now)) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'window.now must be a time in milliseconds since the epoch')
}

/**
 * What decideMonitor reads of a window beyond time, latency, tokens and cost (which the schema
 * check always reads): the scores, features and texts the monitor's checks name. The store reads
 * only these columns (Store.traceColumns), and rows are turned into only these.
 */
export function monitorColumnNeeds(spec: MonitorSpec): TraceColumnNeeds {
  const scores = new Set<string>()
  const features = new Set<string>()
  for (const s of spec.stale) if (s.signal === 'feedback' && s.score !== undefined) scores.add(s.score)
  for (const name of Object.keys(spec.malformed?.scores ?? {})) scores.add(name)
  for (const name of Object.keys(spec.malformed?.features ?? {})) features.add(name)
  let conversationId = false
  let guardrailAction = false
  for (const d of spec.inconsistent?.drift ?? []) {
    if (d.feature !== undefined) features.add(d.feature)
    if (d.score !== undefined) scores.add(d.score)
    if (d.rate === 'guardrail') guardrailAction = true
    else if (d.rate !== undefined) scores.add(d.rate)
    if (d.unit === 'conversation' || driftTest(d) === 'clustered-two-proportion') conversationId = true
  }
  return {
    scores: [...scores],
    features: [...features],
    attributes: (spec.malformed?.required.length ?? 0) > 0,
    conversationId,
    guardrailAction,
    modelVersion: spec.unauditable.require.includes('modelVersion'),
    promptVersion: spec.unauditable.require.includes('promptVersion'),
  }
}

function columnsOf(side: readonly TraceRow[] | TraceColumns, needs: TraceColumnNeeds): TraceColumns {
  return isTraceColumns(side) ? side : traceColumnsFromRows(side, needs)
}

// ---------------------------------------------------------------- malformed

interface Screened {
  columns: TraceColumns
  /** The accepted traces' indices, in window order: every later check reads only these. */
  accepted: Int32Array
  rejected: number
  reasons: Record<string, number>
  examples: { traceId: string | null; reason: string }[]
}

type Range = { min?: number; max?: number }

/** The malformed section with its maps as arrays, read once per window instead of once per trace. */
interface Schema {
  required: readonly string[]
  scores: [string, Range & { required: boolean }][]
  features: [string, Range][]
}

function schemaOf(m: MonitorSpec['malformed']): Schema | null {
  return m === undefined ? null : { required: m.required, scores: Object.entries(m.scores), features: Object.entries(m.features) }
}

const outOfRange = (v: number, r: Range): boolean => (r.min !== undefined && v < r.min) || (r.max !== undefined && v > r.max)

/**
 * Why trace i breaks the schema, or null. Time and the numeric fields are always checked; the rest
 * as the monitor declares. Columns hold NaN for a missing number and +Infinity for one that is not
 * a finite number (record/trace-columns.ts), so "missing" and "not a finite number" stay apart.
 */
function problemOf(c: TraceColumns, m: Schema | null): (i: number) => string | null {
  const numbers: [string, Float64Array][] = [['latencyMs', c.latencyMs], ['inputTokens', c.inputTokens], ['outputTokens', c.outputTokens], ['costUsd', c.costUsd]]
  const required = m?.required ?? []
  const scores = (m?.scores ?? []).map(([name, range]) => [name, range, c.scores[name] as Float64Array | undefined] as const)
  const features = (m?.features ?? []).map(([name, range]) => [name, range, c.features[name] as TraceFeatureColumn | undefined] as const)
  // The first required attribute missing from each distinct attribute list, found once per list.
  const firstMissing = new Map<number, string | null>()
  const missingAttribute = (i: number): string | null => {
    const code = c.attributes?.codes[i] ?? -1
    if (code < 0) return required[0]
    let missing = firstMissing.get(code)
    if (missing === undefined) {
      const list = (c.attributes as TraceCodes<readonly string[]>).values[code]
      missing = required.find((a) => !list.includes(a)) ?? null
      firstMissing.set(code, missing)
    }
    return missing
  }
  return (i) => {
    if (!Number.isFinite(c.time[i])) return 'time missing or not a number'
    for (const [name, column] of numbers) {
      const v = column[i]
      if (!Number.isNaN(v) && !(v >= 0 && v < Infinity)) return `${name} is not a finite non-negative number`
    }
    if (m === null) return null
    if (required.length > 0) {
      const missing = missingAttribute(i)
      if (missing !== null) return `missing attribute ${missing}`
    }
    for (const [name, range, column] of scores) {
      const v = column === undefined ? Number.NaN : column[i]
      if (Number.isNaN(v)) {
        if (range.required) return `missing score ${name}`
        continue
      }
      if (!Number.isFinite(v)) return `score ${name} is not a finite number`
      if (outOfRange(v, range)) return `score ${name} out of range`
    }
    for (const [name, range, column] of features) {
      if (column?.categories !== undefined && column.categories.codes[i] >= 0) return `feature ${name} is not a finite number`
      const v = column?.numbers === undefined ? Number.NaN : column.numbers[i]
      if (Number.isNaN(v)) return `missing feature ${name}`
      if (!Number.isFinite(v)) return `feature ${name} is not a finite number`
      if (outOfRange(v, range)) return `feature ${name} out of range`
    }
    return null
  }
}

function screen(columns: TraceColumns, m: MonitorSpec['malformed']): Screened {
  const problem = problemOf(columns, schemaOf(m))
  const accepted = new Int32Array(columns.length)
  const reasons: Record<string, number> = {}
  const examples: Screened['examples'] = []
  let kept = 0
  let rejected = 0
  for (let i = 0; i < columns.length; i++) {
    const reason = problem(i)
    if (reason === null) {
      accepted[kept++] = i
      continue
    }
    rejected++
    reasons[reason] = (reasons[reason] ?? 0) + 1
    if (examples.length < 20) examples.push({ traceId: columns.traceIds[i] ?? null, reason })
  }
  return { columns, accepted: accepted.subarray(0, kept), rejected, reasons, examples }
}

// ---------------------------------------------------------------- inconsistent

interface DriftOutcome {
  item: DriftItem
  name: string
  test: string
  /** null for threshold tests (psi, jensen-shannon) and insufficient data. */
  pValue: number | null
  value: number | null
  evidence: Record<string, unknown>
  insufficient: string | null
}

function driftName(d: DriftItem): string {
  return d.name ?? (d.feature !== undefined ? `feature ${d.feature}` : d.score !== undefined ? `score ${d.score}` : `rate ${d.rate}`)
}

function driftTest(d: DriftItem): NonNullable<DriftItem['test']> {
  return d.test ?? (d.rate !== undefined ? 'clustered-two-proportion' : 'ks')
}

/** A drift item's values in window order: numbers, and where a value is a category, NaN there and the category in `categories`. */
interface DriftValues {
  length: number
  numbers: Float64Array
  categories: string[] | null
  /** Each value's conversation (clustered test only); a trace without one is its own cluster, a negative number. */
  clusters: (string | number)[]
  /** The column every value was read from, trace by trace (no categories, no conversation unit): the key of the sorted cache. */
  source: Float64Array | null
}

/** Sorted values of a window's column, by the column: each column is sorted once per decision (KS and the latency interval share it). */
type SortedCache = WeakMap<Float64Array, Float64Array>

/** The values a drift item reads from each accepted trace (traces without one are skipped). */
function driftValues(d: DriftItem, s: Screened, withClusters = false): DriftValues {
  const c = s.columns
  const accepted = s.accepted
  const conversation = c.conversationId
  const seen = d.unit === 'conversation' && conversation !== undefined ? new Uint8Array(conversation.values.length) : null
  let numberSource: Float64Array | undefined
  let categorySource: TraceCodes<string> | undefined
  let acted: Uint8Array | null = null
  if (d.feature !== undefined) {
    numberSource = c.features[d.feature]?.numbers
    categorySource = c.features[d.feature]?.categories
  } else if (d.score !== undefined) numberSource = c.scores[d.score]
  else if (d.rate === 'guardrail') {
    // Acted: the eval-record view's rule (guardrailTriggered: not none/allow/pass, any case); absent: did not act.
    acted = Uint8Array.from(c.guardrailAction?.values ?? [], guardrailTriggered)
  } else numberSource = c.scores[d.rate as string]
  const numbers = new Float64Array(accepted.length)
  let categories: string[] | null = null
  const clusters: (string | number)[] = []
  let n = 0
  for (let k = 0; k < accepted.length; k++) {
    const i = accepted[k]
    if (seen !== null) {
      const code = (conversation as TraceCodes<string>).codes[i]
      if (code >= 0) {
        if (seen[code] === 1) continue
        seen[code] = 1
      }
    }
    if (acted !== null) {
      const code = c.guardrailAction === undefined ? -1 : c.guardrailAction.codes[i]
      numbers[n] = code >= 0 && acted[code] === 1 ? 1 : 0
    } else {
      const category = categorySource === undefined ? -1 : categorySource.codes[i]
      if (category >= 0) {
        categories ??= []
        categories[n] = (categorySource as TraceCodes<string>).values[category]
        numbers[n] = Number.NaN
      } else {
        const v = numberSource === undefined ? Number.NaN : numberSource[i]
        if (!Number.isFinite(v)) continue
        numbers[n] = v
      }
    }
    if (withClusters) {
      const code = conversation === undefined ? -1 : conversation.codes[i]
      clusters.push(code >= 0 ? (conversation as TraceCodes<string>).values[code] : -1 - k)
    }
    n++
  }
  const source = acted === null && categories === null && seen === null && numberSource !== undefined ? numberSource : null
  return { length: n, numbers: numbers.subarray(0, n), categories, clusters, source }
}

/** The value k as a category key (a number's text, as String gives it). */
function categoryOf(v: DriftValues, k: number): string {
  return v.categories?.[k] ?? String(v.numbers[k])
}

function categoryCounts(reference: DriftValues, current: DriftValues): { categories: string[]; reference: number[]; current: number[] } {
  const index = new Map<string, number>()
  const ref: number[] = []
  const cur: number[] = []
  const add = (values: DriftValues, target: number[], other: number[]): void => {
    for (let k = 0; k < values.length; k++) {
      const key = categoryOf(values, k)
      let slot = index.get(key)
      if (slot === undefined) {
        slot = index.size
        index.set(key, slot)
        target.push(0)
        other.push(0)
      }
      target[slot]++
    }
  }
  add(reference, ref, cur)
  add(current, cur, ref)
  return { categories: [...index.keys()], reference: ref, current: cur }
}

function numbersOnly(values: DriftValues, what: string): Float64Array {
  if (values.categories !== null) {
    const first = values.categories.find((v) => v !== undefined)
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `${what} holds category ${JSON.stringify(first)}: this test needs numbers`)
  }
  return values.numbers
}

/** The values in ascending order: from the cache when their column was sorted before in this decision, else sorted now (in place: they are this call's copy). */
function sortedNumbers(values: DriftValues, what: string, cache: SortedCache): Float64Array {
  const numbers = numbersOnly(values, what)
  if (values.source === null) return numbers.sort()
  let sorted = cache.get(values.source)
  if (sorted === undefined) cache.set(values.source, (sorted = numbers.sort()))
  return sorted
}

function sum(values: Float64Array): number {
  let total = 0
  for (let k = 0; k < values.length; k++) total += values[k]
  return total
}

function runDrift(d: DriftItem, reference: Screened, current: Screened, minRequests: number, cache: SortedCache): DriftOutcome {
  const name = driftName(d)
  const test = driftTest(d)
  const ref = driftValues(d, reference, test === 'clustered-two-proportion')
  const cur = driftValues(d, current, test === 'clustered-two-proportion')
  const base = { item: d, name, test }
  const counts = { nReference: ref.length, nCurrent: cur.length }
  if (ref.length < minRequests || cur.length < minRequests) {
    return { ...base, pValue: null, value: null, evidence: counts, insufficient: `${cur.length} current and ${ref.length} reference values; at least ${minRequests} each are needed` }
  }
  try {
    if (test === 'ks') {
      const a = sortedNumbers(cur, name, cache)
      const r = ksTwoSample(a, sortedNumbers(ref, name, cache), { alternative: d.alternative, sorted: true })
      return { ...base, pValue: r.pValue, value: r.statistic, evidence: { ...counts, result: r }, insufficient: null }
    }
    if (test === 'two-proportion' || test === 'clustered-two-proportion') {
      const a = numbersOnly(cur, name)
      const b = numbersOnly(ref, name)
      for (const side of [a, b]) for (const v of side) if (v !== 0 && v !== 1) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${name} holds ${v}: a rate is 0 or 1 per trace`)
      if (test === 'two-proportion') {
        const r = twoProportionZTest(sum(a), a.length, sum(b), b.length, { alternative: d.alternative })
        return { ...base, pValue: r.pValue, value: r.estimate, evidence: { ...counts, result: r }, insufficient: null }
      }
      // A conversation with traces in both windows is one cluster (its traces are correlated across
      // the boundary too); traces without a conversation get distinct negative numbers.
      const refClusters = ref.clusters.map((c) => (typeof c === 'string' ? c : c - current.accepted.length))
      const r = clusteredTwoProportionTest({ values: a, clusters: cur.clusters }, { values: b, clusters: refClusters }, { alternative: d.alternative })
      return { ...base, pValue: r.pValue, value: r.estimate, evidence: { ...counts, result: r }, insufficient: null }
    }
    // chi-square, psi, jensen-shannon: counts over bins (cuts) or categories.
    let refCounts: number[]
    let curCounts: number[]
    let bins: unknown
    if (d.cuts !== undefined) {
      refCounts = binCounts(numbersOnly(ref, name), d.cuts)
      curCounts = binCounts(numbersOnly(cur, name), d.cuts)
      bins = { cuts: d.cuts }
    } else {
      const c = categoryCounts(ref, cur)
      refCounts = c.reference
      curCounts = c.current
      bins = { categories: c.categories }
    }
    if (test === 'chi-square') {
      const r = chiSquareTest([curCounts, refCounts], { correction: false })
      return { ...base, pValue: r.pValue, value: r.statistic, evidence: { ...counts, bins, currentCounts: curCounts, referenceCounts: refCounts, result: r }, insufficient: null }
    }
    if (test === 'psi') {
      const r = populationStabilityIndexFromCounts(refCounts, curCounts)
      return { ...base, pValue: null, value: r.value, evidence: { ...counts, bins, result: r, max: d.max }, insufficient: null }
    }
    const r = jensenShannon(curCounts, refCounts)
    return { ...base, pValue: null, value: r.divergence, evidence: { ...counts, bins, currentCounts: curCounts, referenceCounts: refCounts, result: r, max: d.max }, insufficient: null }
  } catch (error) {
    if (!isAssayError(error)) throw error
    return { ...base, pValue: null, value: null, evidence: { ...counts, error: { code: error.code, message: error.message } }, insufficient: `${error.code}: ${error.message}` }
  }
}

function inconsistentChecks(spec: MonitorSpec, reference: Screened, current: Screened, cache: SortedCache): { checks: MonitorCheckResult[]; multiplicity: MonitorResult['multiplicity'] } {
  const inc = spec.inconsistent
  if (inc === undefined) return { checks: [], multiplicity: null }
  const alpha = inc.alpha ?? spec.alpha
  const outcomes = inc.drift.map((d) => runDrift(d, reference, current, spec.minRequests, cache))
  const tested = outcomes.filter((o) => o.pValue !== null)
  const adjusted = new Map<DriftOutcome, number>()
  if (tested.length > 0) {
    const adj = adjustPValues(tested.map((o) => o.pValue as number), inc.multiplicity)
    tested.forEach((o, k) => adjusted.set(o, adj.adjusted[k]))
  }
  const method = inc.multiplicity === 'holm' ? 'Holm' : 'BH'
  const checks = outcomes.map((o): MonitorCheckResult => {
    const decision = o.item.decision ?? inc.decision
    const common = { check: 'inconsistent' as const, name: o.name, action: 'investigate' }
    const evidence = { test: o.test, unit: o.item.unit, reference: inc.reference ?? null, alternative: o.item.alternative, ...o.evidence }
    if (o.insufficient !== null) return { ...common, status: 'insufficient', decision: 'warn', reason: `${o.name}: not tested (${o.insufficient})`, evidence }
    if (o.pValue !== null) {
      const p = adjusted.get(o) as number
      const fail = p < alpha
      return {
        ...common,
        status: fail ? 'fail' : 'pass',
        decision: fail ? decision : 'ok',
        reason: `${o.name}: ${o.test} statistic ${formatNumber(o.value)}, p = ${formatPValue(o.pValue)}, ${method}-adjusted p = ${formatPValue(p)} ${fail ? '<' : '≥'} α = ${formatNumber(alpha)} over ${tested.length} test${tested.length === 1 ? '' : 's'}`,
        evidence: { ...evidence, statistic: o.value, pValue: o.pValue, adjustedPValue: p, alpha, multiplicity: inc.multiplicity, family: tested.length },
      }
    }
    const max = o.item.max as number
    const fail = (o.value as number) > max
    return {
      ...common,
      status: fail ? 'fail' : 'pass',
      decision: fail ? decision : 'ok',
      reason: `${o.name}: ${o.test} ${formatNumber(o.value)} ${fail ? '>' : '≤'} ${formatNumber(max)}`,
      evidence: { ...evidence, statistic: o.value, threshold: max },
    }
  })
  return { checks, multiplicity: { method: inc.multiplicity, alpha, tests: tested.length } }
}

// ---------------------------------------------------------------- stale, unauditable, costly

/** The newest accepted trace's time; with `score`, of those carrying it. */
function newestTime(s: Screened, score: Float64Array | null | undefined): number {
  let newest = -Infinity
  const { time } = s.columns
  if (score === undefined) return newest
  for (const i of s.accepted) if (time[i] > newest && (score === null || !Number.isNaN(score[i]))) newest = time[i]
  return newest
}

function staleChecks(spec: MonitorSpec, window: DecisionWindow, current: Screened): MonitorCheckResult[] {
  return spec.stale.map((s) => {
    let newest = -Infinity
    let what: string
    if (s.signal === 'input') {
      what = 'input data version'
      const t = window.deployment?.inputVersionTime
      if (typeof t === 'number' && Number.isFinite(t)) newest = t
    } else if (s.signal === 'traffic') {
      what = 'newest trace'
      newest = newestTime(current, null)
    } else {
      what = `newest trace with feedback ${s.score}`
      newest = newestTime(current, current.columns.scores[s.score as string])
    }
    const age = window.now - newest
    const fail = !(age <= s.maxAge)
    const decision: MonitorDecision = s.decision ?? (s.action === 'block' ? 'escalate' : 'warn')
    const name = s.name ?? `${s.signal} freshness`
    return {
      check: 'stale',
      name,
      status: fail ? 'fail' : 'pass',
      decision: fail ? decision : 'ok',
      action: s.action,
      reason: `${name}: ${what} ${Number.isFinite(newest) ? `is ${ageText(age)} old` : 'is unknown'}; limit ${ageText(s.maxAge)}`,
      evidence: { signal: s.signal, newest: Number.isFinite(newest) ? newest : null, ageMs: Number.isFinite(age) ? age : null, maxAgeMs: s.maxAge, now: window.now },
    }
  })
}

function unauditableCheck(spec: MonitorSpec, window: DecisionWindow, current: Screened): MonitorCheckResult {
  const dep = window.deployment ?? {}
  const traces = current.accepted.length
  const missing: Record<string, number> = {}
  for (const field of spec.unauditable.require) {
    let count = 0
    if (!nonEmpty(dep[field])) {
      if (field === 'owner' || field === 'codeHash' || field === 'inputVersion') count = traces === 0 ? 1 : traces
      else {
        const column = current.columns[field]
        const present = Uint8Array.from(column?.values ?? [], (v) => (nonEmpty(v) ? 1 : 0))
        for (const i of current.accepted) {
          const code = column === undefined ? -1 : column.codes[i]
          if (code < 0 || present[code] === 0) count++
        }
        if (traces === 0) count = 1
      }
    }
    if (count > 0) missing[field] = count
  }
  const fields = Object.keys(missing)
  const fail = fields.length > 0
  return {
    check: 'unauditable',
    name: 'lineage metadata',
    status: fail ? 'fail' : 'pass',
    decision: fail ? spec.unauditable.decision : 'ok',
    action: 'stop-promotion',
    reason: fail
      ? `traffic without ${fields.map((f) => `${f} (${missing[f]} trace${missing[f] === 1 ? '' : 's'})`).join(', ')}: stop promotion of anything built on this deployment until the metadata exists`
      : `every trace carries ${spec.unauditable.require.join(', ')}`,
    evidence: { require: spec.unauditable.require, missing, traces },
  }
}

function nonEmpty(v: unknown): boolean {
  return typeof v === 'string' && v.trim() !== ''
}

/** The accepted traces' values of `value` (NaN: the trace has none, skipped). */
function acceptedValues(s: Screened, value: (i: number) => number): Float64Array {
  const out = new Float64Array(s.accepted.length)
  let n = 0
  for (const i of s.accepted) {
    const v = value(i)
    if (!Number.isNaN(v)) out[n++] = v
  }
  return out.subarray(0, n)
}

function costlyChecks(spec: MonitorSpec, current: Screened, cache: SortedCache): MonitorCheckResult[] {
  const c = spec.costly
  if (c === undefined) return []
  const out: MonitorCheckResult[] = []
  const level = c.confidenceLevel
  const columns = current.columns
  const judge = (name: string, estimate: number, ci: [number, number], max: number, unit: string, evidence: Record<string, unknown>): MonitorCheckResult => {
    const over = ci[0] > max
    const marginal = !over && estimate > max
    const status: CheckStatus = over ? 'fail' : marginal ? 'marginal' : 'pass'
    return {
      check: 'costly',
      name,
      status,
      decision: over ? c.decision : marginal ? 'warn' : 'ok',
      action: c.action,
      reason: `${name} ${formatNumber(estimate)}${unit} (${formatNumber(level * 100)}% interval [${formatNumber(ci[0])}, ${formatNumber(ci[1])}]) ${over ? 'is over' : marginal ? 'may be over' : 'is within'} the budget ${formatNumber(max)}${unit}`,
      evidence: { ...evidence, estimate, ci, budget: max, confidenceLevel: level },
    }
  }
  const insufficient = (name: string, why: string): MonitorCheckResult => ({ check: 'costly', name, status: 'insufficient', decision: 'warn', action: c.action, reason: `${name}: not measured (${why})`, evidence: {} })
  if (c.latency !== undefined) {
    const name = `p${formatNumber(c.latency.quantile * 100)} latency`
    // The accepted latencies are the values a drift item on the latency feature reads: one sort serves both.
    let lat = cache.get(columns.latencyMs)
    if (lat === undefined) cache.set(columns.latencyMs, (lat = acceptedValues(current, (i) => columns.latencyMs[i]).sort()))
    try {
      const r = quantileInterval(lat, c.latency.quantile, { confidenceLevel: level, sorted: true })
      out.push(judge(name, r.estimate, r.ci, c.latency.maxMs, ' ms', { result: r }))
    } catch (error) {
      if (!isAssayError(error)) throw error
      out.push(insufficient(name, `${lat.length} traces with latency: ${error.message}`))
    }
  }
  const perThousand = (name: string, budget: { max: number } | undefined, value: (i: number) => number, unit: string): void => {
    if (budget === undefined) return
    const xs = acceptedValues(current, value)
    if (xs.length < 2) {
      out.push(insufficient(name, `${xs.length} traces carry it`))
      return
    }
    let estimate: number
    let ci: [number, number]
    let result: unknown
    try {
      const r = tInterval(xs, { confidenceLevel: level })
      estimate = 1000 * r.estimate
      ci = [1000 * r.ci[0], 1000 * r.ci[1]]
      result = r
    } catch (error) {
      if (!isAssayError(error) || error.code !== 'ASSAY_STATS_DEGENERATE_INPUT') throw error
      // Every trace cost the same: the mean is known exactly.
      estimate = 1000 * xs[0]
      ci = [estimate, estimate]
      result = { method: 'constant', value: xs[0] }
    }
    out.push(judge(name, estimate, ci, budget.max, unit, { n: xs.length, perRequest: result }))
  }
  const { inputTokens, outputTokens, costUsd } = columns
  perThousand(
    'tokens per 1,000 requests',
    c.tokensPer1000,
    (i) => (Number.isNaN(inputTokens[i]) && Number.isNaN(outputTokens[i]) ? Number.NaN : (Number.isNaN(inputTokens[i]) ? 0 : inputTokens[i]) + (Number.isNaN(outputTokens[i]) ? 0 : outputTokens[i])),
    '',
  )
  perThousand('cost per 1,000 requests', c.costPer1000, (i) => costUsd[i], ' USD')
  return out
}

// ---------------------------------------------------------------- the decision

/** Run every check of the monitor over the window and decide ok, warn, retrain, rollback or escalate. */
export function decideMonitor(monitor: LoadedMonitor, window: DecisionWindow): MonitorResult {
  assertWindow(window)
  const spec = monitor.spec
  const needs = monitorColumnNeeds(spec)
  const current = screen(columnsOf(window.current, needs), spec.malformed)
  const reference = screen(columnsOf(window.reference, needs), spec.malformed)
  const traces = current.columns.length
  const cache: SortedCache = new WeakMap()
  const checks: MonitorCheckResult[] = []
  checks.push(...staleChecks(spec, window, current))
  if (spec.malformed !== undefined || current.rejected > 0) {
    const share = traces === 0 ? 0 : current.rejected / traces
    const maxShare = spec.malformed?.maxShare ?? 0.01
    const fail = share > maxShare
    checks.push({
      check: 'malformed',
      name: 'trace schema',
      status: fail ? 'fail' : 'pass',
      decision: fail ? (spec.malformed?.decision ?? 'warn') : 'ok',
      action: 'reject',
      reason: `${current.rejected} of ${traces} traces rejected (${formatNumber(share * 100, 3)}%, limit ${formatNumber(maxShare * 100, 3)}%)${current.rejected > 0 ? `: ${Object.entries(current.reasons).map(([r, n]) => `${r} ×${n}`).join(', ')}` : ''}`,
      evidence: { rejected: current.rejected, traces, share, maxShare, reasons: current.reasons, examples: current.examples, referenceRejected: reference.rejected },
    })
  }
  const inconsistent = inconsistentChecks(spec, reference, current, cache)
  checks.push(...inconsistent.checks)
  checks.push(unauditableCheck(spec, window, current))
  checks.push(...costlyChecks(spec, current, cache))

  let decision: MonitorDecision = 'ok'
  for (const c of checks) if (rank(c.decision) > rank(decision)) decision = c.decision
  const deciding = checks.filter((c) => c.decision === decision && decision !== 'ok')
  const reason = decision === 'ok' ? `all ${checks.length} checks pass` : deciding.map((c) => c.reason).join('; ')
  const actions: string[] = []
  for (const c of checks) if (c.status !== 'pass' && !actions.includes(c.action)) actions.push(c.action)
  return {
    monitor: spec.monitor,
    sha256: monitor.sha256,
    source: monitor.source,
    decision,
    reason,
    precedence: DECISION_PRECEDENCE,
    rollback: decision === 'rollback' && spec.rollback !== undefined ? { ...spec.rollback } : null,
    escalation: decision === 'escalate' ? spec.escalation : null,
    owner: spec.owner,
    actions,
    window: { now: window.now, current: traces, reference: reference.columns.length, rejected: current.rejected },
    multiplicity: inconsistent.multiplicity,
    checks,
  }
}
