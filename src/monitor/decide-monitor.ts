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
import type { MonitorWindow, TraceRow } from './trace-row.js'

/**
 * decideMonitor: every check of a monitor file over one window of traces, and the one decision.
 * Pure: rows in (the window's end time is an input; no clock), a plain result out.
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

function assertWindow(window: MonitorWindow): void {
  if (window === null || typeof window !== 'object') throw new AssayError('ASSAY_INVALID_ARGUMENT', 'window must be { current, reference, now }')
  if (!Array.isArray(window.current) || !Array.isArray(window.reference)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', 'window.current and window.reference must be arrays of trace rows')
  }
  if (typeof window.now !== 'number' || !Number.isFinite(window.now)) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'window.now must be a time in milliseconds since the epoch')
}

// ---------------------------------------------------------------- malformed

interface Screened {
  accepted: TraceRow[]
  rejected: number
  reasons: Record<string, number>
  examples: { traceId: string | null; reason: string }[]
}

function isFiniteNonNegative(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0
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

/** Why a row breaks the schema, or null. Time and the numeric fields are always checked; the rest as the monitor declares. */
function rowProblem(row: TraceRow, m: Schema | null): string | null {
  if (row === null || typeof row !== 'object') return 'not an object'
  if (typeof row.time !== 'number' || !Number.isFinite(row.time)) return 'time missing or not a number'
  if (row.latencyMs !== undefined && !isFiniteNonNegative(row.latencyMs)) return 'latencyMs is not a finite non-negative number'
  if (row.inputTokens !== undefined && !isFiniteNonNegative(row.inputTokens)) return 'inputTokens is not a finite non-negative number'
  if (row.outputTokens !== undefined && !isFiniteNonNegative(row.outputTokens)) return 'outputTokens is not a finite non-negative number'
  if (row.costUsd !== undefined && !isFiniteNonNegative(row.costUsd)) return 'costUsd is not a finite non-negative number'
  if (m === null) return null
  for (const attribute of m.required) if (row.attributes === undefined || !row.attributes.includes(attribute)) return `missing attribute ${attribute}`
  for (const [name, range] of m.scores) {
    const v = row.scores?.[name]
    if (v === undefined) {
      if (range.required) return `missing score ${name}`
      continue
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) return `score ${name} is not a finite number`
    if (outOfRange(v, range)) return `score ${name} out of range`
  }
  for (const [name, range] of m.features) {
    const v = row.features?.[name]
    if (v === undefined) return `missing feature ${name}`
    if (typeof v !== 'number' || !Number.isFinite(v)) return `feature ${name} is not a finite number`
    if (outOfRange(v, range)) return `feature ${name} out of range`
  }
  return null
}

function screen(rows: readonly TraceRow[], m: MonitorSpec['malformed']): Screened {
  const schema = schemaOf(m)
  const accepted: TraceRow[] = []
  const reasons: Record<string, number> = {}
  const examples: Screened['examples'] = []
  let rejected = 0
  for (const row of rows) {
    const problem = rowProblem(row, schema)
    if (problem === null) {
      accepted.push(row)
      continue
    }
    rejected++
    reasons[problem] = (reasons[problem] ?? 0) + 1
    if (examples.length < 20) examples.push({ traceId: typeof row?.traceId === 'string' ? row.traceId : null, reason: problem })
  }
  return { accepted, rejected, reasons, examples }
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

/**
 * The values a drift item reads from each row (rows without one are skipped), and with `clusters`
 * each value's conversation (a trace without one is its own cluster, given a negative number).
 */
function driftValues(d: DriftItem, rows: readonly TraceRow[], withClusters = false): { values: (number | string)[]; clusters: (string | number)[] } {
  const values: (number | string)[] = []
  const clusters: (string | number)[] = []
  const seen = d.unit === 'conversation' ? new Set<string>() : null
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]
    if (seen !== null && row.conversationId !== undefined) {
      if (seen.has(row.conversationId)) continue
      seen.add(row.conversationId)
    }
    let v: number | string | undefined
    if (d.feature !== undefined) v = row.features?.[d.feature]
    else if (d.score !== undefined) v = row.scores?.[d.score]
    else if (d.rate === 'guardrail') v = row.guardrailAction !== undefined && row.guardrailAction !== 'none' ? 1 : 0
    else v = row.scores?.[d.rate as string]
    if (v === undefined) continue
    if (typeof v === 'number' && !Number.isFinite(v)) continue
    values.push(v)
    if (withClusters) clusters.push(row.conversationId ?? -1 - i)
  }
  return { values, clusters }
}

function categoryCounts(reference: readonly (number | string)[], current: readonly (number | string)[]): { categories: string[]; reference: number[]; current: number[] } {
  const index = new Map<string, number>()
  const ref: number[] = []
  const cur: number[] = []
  const add = (v: number | string, target: number[], other: number[]): void => {
    const key = String(v)
    let k = index.get(key)
    if (k === undefined) {
      k = index.size
      index.set(key, k)
      target.push(0)
      other.push(0)
    }
    target[k]++
  }
  for (const v of reference) add(v, ref, cur)
  for (const v of current) add(v, cur, ref)
  return { categories: [...index.keys()], reference: ref, current: cur }
}

function numbersOnly(values: readonly (number | string)[], what: string): number[] {
  for (const v of values) if (typeof v !== 'number') throw new AssayError('ASSAY_INVALID_ARGUMENT', `${what} holds category ${JSON.stringify(v)}: this test needs numbers`)
  return values as number[]
}

function runDrift(d: DriftItem, reference: readonly TraceRow[], current: readonly TraceRow[], minRequests: number): DriftOutcome {
  const name = driftName(d)
  const test = driftTest(d)
  const ref = driftValues(d, reference, test === 'clustered-two-proportion')
  const cur = driftValues(d, current, test === 'clustered-two-proportion')
  const base = { item: d, name, test }
  const counts = { nReference: ref.values.length, nCurrent: cur.values.length }
  if (ref.values.length < minRequests || cur.values.length < minRequests) {
    return { ...base, pValue: null, value: null, evidence: counts, insufficient: `${cur.values.length} current and ${ref.values.length} reference values; at least ${minRequests} each are needed` }
  }
  try {
    if (test === 'ks') {
      const r = ksTwoSample(numbersOnly(cur.values, name), numbersOnly(ref.values, name), { alternative: d.alternative })
      return { ...base, pValue: r.pValue, value: r.statistic, evidence: { ...counts, result: r }, insufficient: null }
    }
    if (test === 'two-proportion' || test === 'clustered-two-proportion') {
      const a = numbersOnly(cur.values, name)
      const b = numbersOnly(ref.values, name)
      for (const v of [...a, ...b]) if (v !== 0 && v !== 1) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${name} holds ${v}: a rate is 0 or 1 per trace`)
      if (test === 'two-proportion') {
        const r = twoProportionZTest(a.reduce((s, v) => s + v, 0), a.length, b.reduce((s, v) => s + v, 0), b.length, { alternative: d.alternative })
        return { ...base, pValue: r.pValue, value: r.estimate, evidence: { ...counts, result: r }, insufficient: null }
      }
      // A conversation with traces in both windows is one cluster (its traces are correlated across
      // the boundary too); traces without a conversation get distinct negative numbers.
      const refClusters = ref.clusters.map((c) => (typeof c === 'string' ? c : c - current.length))
      const r = clusteredTwoProportionTest({ values: a, clusters: cur.clusters }, { values: b, clusters: refClusters }, { alternative: d.alternative })
      return { ...base, pValue: r.pValue, value: r.estimate, evidence: { ...counts, result: r }, insufficient: null }
    }
    // chi-square, psi, jensen-shannon: counts over bins (cuts) or categories.
    let refCounts: number[]
    let curCounts: number[]
    let bins: unknown
    if (d.cuts !== undefined) {
      refCounts = binCounts(numbersOnly(ref.values, name), d.cuts)
      curCounts = binCounts(numbersOnly(cur.values, name), d.cuts)
      bins = { cuts: d.cuts }
    } else {
      const c = categoryCounts(ref.values, cur.values)
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

function inconsistentChecks(spec: MonitorSpec, reference: readonly TraceRow[], current: readonly TraceRow[]): { checks: MonitorCheckResult[]; multiplicity: MonitorResult['multiplicity'] } {
  const inc = spec.inconsistent
  if (inc === undefined) return { checks: [], multiplicity: null }
  const alpha = inc.alpha ?? spec.alpha
  const outcomes = inc.drift.map((d) => runDrift(d, reference, current, spec.minRequests))
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

function staleChecks(spec: MonitorSpec, window: MonitorWindow, current: readonly TraceRow[]): MonitorCheckResult[] {
  return spec.stale.map((s) => {
    let newest = -Infinity
    let what: string
    if (s.signal === 'input') {
      what = 'input data version'
      const t = window.deployment?.inputVersionTime
      if (typeof t === 'number' && Number.isFinite(t)) newest = t
    } else if (s.signal === 'traffic') {
      what = 'newest trace'
      for (const row of current) if (row.time > newest) newest = row.time
    } else {
      what = `newest trace with feedback ${s.score}`
      for (const row of current) if (row.scores?.[s.score as string] !== undefined && row.time > newest) newest = row.time
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

function unauditableCheck(spec: MonitorSpec, window: MonitorWindow, current: readonly TraceRow[]): MonitorCheckResult {
  const dep = window.deployment ?? {}
  const missing: Record<string, number> = {}
  for (const field of spec.unauditable.require) {
    let count = 0
    if (field === 'owner' || field === 'codeHash' || field === 'inputVersion') {
      if (!nonEmpty(dep[field])) count = current.length === 0 ? 1 : current.length
    } else {
      for (const row of current) if (!nonEmpty(row[field]) && !nonEmpty(dep[field])) count++
      if (current.length === 0 && !nonEmpty(dep[field])) count = 1
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
    evidence: { require: spec.unauditable.require, missing, traces: current.length },
  }
}

function nonEmpty(v: unknown): boolean {
  return typeof v === 'string' && v.trim() !== ''
}

function costlyChecks(spec: MonitorSpec, current: readonly TraceRow[]): MonitorCheckResult[] {
  const c = spec.costly
  if (c === undefined) return []
  const out: MonitorCheckResult[] = []
  const level = c.confidenceLevel
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
    const lat: number[] = []
    for (const row of current) if (row.latencyMs !== undefined) lat.push(row.latencyMs)
    try {
      const r = quantileInterval(lat, c.latency.quantile, { confidenceLevel: level })
      out.push(judge(name, r.estimate, r.ci, c.latency.maxMs, ' ms', { result: r }))
    } catch (error) {
      if (!isAssayError(error)) throw error
      out.push(insufficient(name, `${lat.length} traces with latency: ${error.message}`))
    }
  }
  const perThousand = (name: string, budget: { max: number } | undefined, value: (row: TraceRow) => number | undefined, unit: string): void => {
    if (budget === undefined) return
    const xs: number[] = []
    for (const row of current) {
      const v = value(row)
      if (v !== undefined) xs.push(v)
    }
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
  perThousand('tokens per 1,000 requests', c.tokensPer1000, (row) => (row.inputTokens === undefined && row.outputTokens === undefined ? undefined : (row.inputTokens ?? 0) + (row.outputTokens ?? 0)), '')
  perThousand('cost per 1,000 requests', c.costPer1000, (row) => row.costUsd, ' USD')
  return out
}

// ---------------------------------------------------------------- the decision

/** Run every check of the monitor over the window and decide ok, warn, retrain, rollback or escalate. */
export function decideMonitor(monitor: LoadedMonitor, window: MonitorWindow): MonitorResult {
  assertWindow(window)
  const spec = monitor.spec
  const current = screen(window.current, spec.malformed)
  const reference = screen(window.reference, spec.malformed)
  const checks: MonitorCheckResult[] = []
  checks.push(...staleChecks(spec, window, current.accepted))
  if (spec.malformed !== undefined || current.rejected > 0) {
    const share = window.current.length === 0 ? 0 : current.rejected / window.current.length
    const maxShare = spec.malformed?.maxShare ?? 0.01
    const fail = share > maxShare
    checks.push({
      check: 'malformed',
      name: 'trace schema',
      status: fail ? 'fail' : 'pass',
      decision: fail ? (spec.malformed?.decision ?? 'warn') : 'ok',
      action: 'reject',
      reason: `${current.rejected} of ${window.current.length} traces rejected (${formatNumber(share * 100, 3)}%, limit ${formatNumber(maxShare * 100, 3)}%)${current.rejected > 0 ? `: ${Object.entries(current.reasons).map(([r, n]) => `${r} ×${n}`).join(', ')}` : ''}`,
      evidence: { rejected: current.rejected, traces: window.current.length, share, maxShare, reasons: current.reasons, examples: current.examples, referenceRejected: reference.rejected },
    })
  }
  const inconsistent = inconsistentChecks(spec, reference.accepted, current.accepted)
  checks.push(...inconsistent.checks)
  checks.push(unauditableCheck(spec, window, current.accepted))
  checks.push(...costlyChecks(spec, current.accepted))

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
    window: { now: window.now, current: window.current.length, reference: window.reference.length, rejected: current.rejected },
    multiplicity: inconsistent.multiplicity,
    checks,
  }
}
