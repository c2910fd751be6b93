import type { EvalColumns, RunRecord } from '../record/types.js'
import { mean, quantile } from '../stats/index.js'
import type { CriterionResult } from './criteria.js'
import type { GateSpec } from './gate-spec.js'
import { formatNumber } from '../number-format.js'

/**
 * The contract checks (the failure table of docs/gates.md): pure functions over what the loading
 * layer read. Each returns one CheckResult per check with the response the table prescribes.
 */

export type CheckName = 'stale' | 'malformed' | 'inconsistent' | 'unauditable' | 'too-costly'
/** not-evaluated: skipped because malformed blocked (no statistic is computed on malformed records); it neither warns nor blocks. */
export type CheckStatus = 'pass' | 'warn' | 'block' | 'not-evaluated'

export interface CheckResult {
  check: CheckName
  status: CheckStatus
  /** One line for people. */
  message: string
  /** Each finding: which side, run and field. */
  findings: string[]
}

/** A registered model version a side resolved through (for the lineage and owner checks). */
export interface SideModelVersion {
  model: string
  version: number
  owner: string
  runId: string
  artifact: { name: string; sha256: string } | null
  /** Whether the version's run produced that artifact (the version → run lineage edge). */
  artifactProducedByRun: boolean | null
}

/** One side as loaded: its runs, how it was named, and its eval columns per dataset and run. */
export interface LoadedSide {
  role: 'candidate' | 'baseline'
  label: string
  runs: RunRecord[]
  modelVersion: SideModelVersion | null
  /** dataset name → one EvalColumns per run (same order as runs); null where the run has none. */
  evals: Map<string, (EvalColumns | null)[]>
}

const DAY_MS = 24 * 3600 * 1000

/** Datasets the gate reads: its default and every criterion's and reference's. */
export function gateDatasets(spec: GateSpec): string[] {
  const names = new Set<string>([spec.dataset])
  for (const c of spec.criteria) if (c.dataset !== undefined) names.add(c.dataset)
  for (const r of spec.references) if (r.dataset !== undefined) names.add(r.dataset)
  return [...names]
}

function short(run: RunRecord): string {
  return run.id.slice(0, 8)
}

/** stale: the evaluation is older than freshness.maxAgeDays (run end, else start) → the gate's onFailure. */
export function checkStale(spec: GateSpec, sides: LoadedSide[], now: number): CheckResult {
  if (spec.freshness === undefined) return { check: 'stale', status: 'pass', message: 'no freshness limit declared', findings: [] }
  const limit = spec.freshness.maxAgeDays
  const findings: string[] = []
  for (const side of sides) {
    for (const run of side.runs) {
      const at = run.endTime ?? run.startTime
      const days = (now - at) / DAY_MS
      if (days > limit) findings.push(`${side.role} run ${short(run)} was evaluated ${days.toFixed(1)} days ago (limit ${limit})`)
    }
  }
  return findings.length === 0
    ? { check: 'stale', status: 'pass', message: `every evaluation is within ${limit} days`, findings }
    : { check: 'stale', status: spec.freshness.onFailure, message: `evaluation data older than ${limit} days`, findings }
}

/** Budget columns a gate needs in eval records. */
function requiredColumns(spec: GateSpec): ('latencyMs' | 'tokens' | 'cost')[] {
  const out = new Set<'latencyMs' | 'tokens' | 'cost'>()
  for (const c of spec.criteria) {
    if (c.kind !== 'budget') continue
    if (c.metric === 'latency') out.add('latencyMs')
    if (c.metric === 'tokens') out.add('tokens')
    if (c.metric === 'cost') out.add('cost')
  }
  return [...out]
}

/**
 * malformed: eval records that break the declared schema (gate `scores`) or range — a required
 * score absent, NaN or ±Infinity, a value outside [min, max], a missing or negative latency, token
 * count or cost a budget needs, or no eval records at all → block before any statistic.
 */
export function checkMalformed(spec: GateSpec, sides: LoadedSide[]): CheckResult {
  const findings: string[] = []
  const columnsNeeded = requiredColumns(spec)
  const MAX_PER_KIND = 3
  for (const side of sides) {
    for (const dataset of gateDatasets(spec)) {
      const perRun = side.evals.get(dataset) ?? side.runs.map(() => null)
      side.runs.forEach((run, k) => {
        const columns = perRun[k]
        if (columns === null || columns === undefined) {
          findings.push(`${side.role} run ${short(run)} has no eval records for dataset ${dataset}`)
          return
        }
        for (const [score, range] of Object.entries(spec.scores)) {
          const values = columns.scores[score]
          if (values === undefined) {
            if (range.required) findings.push(`${side.role} run ${short(run)}, ${dataset}: no record has score ${score}`)
            continue
          }
          const missing = columns.missing[`score:${score}`] ?? []
          if (range.required && missing.length > 0) {
            findings.push(`${side.role} run ${short(run)}, ${dataset}: score ${score} missing in ${missing.length} record(s), first ${columns.ids[missing[0]]}`)
          }
          const absent = new Set(missing)
          let nonFinite = 0
          let outOfRange = 0
          let firstBad = ''
          for (let i = 0; i < values.length; i++) {
            if (absent.has(i)) continue
            const v = values[i]
            if (!Number.isFinite(v)) {
              if (nonFinite++ === 0 && firstBad === '') firstBad = `${columns.ids[i]} = ${v}`
            } else if ((range.min !== undefined && v < range.min) || (range.max !== undefined && v > range.max)) {
              if (outOfRange++ === 0 && firstBad === '') firstBad = `${columns.ids[i]} = ${v}`
            }
          }
          if (nonFinite > 0) findings.push(`${side.role} run ${short(run)}, ${dataset}: score ${score} is NaN or infinite in ${nonFinite} record(s) (first ${firstBad})`)
          if (outOfRange > 0) {
            findings.push(`${side.role} run ${short(run)}, ${dataset}: score ${score} outside [${range.min ?? '-∞'}, ${range.max ?? '∞'}] in ${outOfRange} record(s) (first ${firstBad})`)
          }
        }
        for (const column of columnsNeeded) {
          const values = columns[column]
          if (values === null) {
            findings.push(`${side.role} run ${short(run)}, ${dataset}: no record has ${column}, which a budget criterion needs`)
            continue
          }
          const missing = columns.missing[column] ?? []
          if (missing.length > 0) findings.push(`${side.role} run ${short(run)}, ${dataset}: ${column} missing in ${missing.length} record(s)`)
          const absent = new Set(missing)
          let bad = 0
          for (let i = 0; i < values.length; i++) if (!absent.has(i) && !(Number.isFinite(values[i]) && values[i] >= 0)) bad++
          if (bad > 0) findings.push(`${side.role} run ${short(run)}, ${dataset}: ${column} negative or non-finite in ${bad} record(s)`)
        }
      })
    }
  }
  const shown = findings.length > MAX_PER_KIND * 10 ? [...findings.slice(0, MAX_PER_KIND * 10), `… and ${findings.length - MAX_PER_KIND * 10} more`] : findings
  return findings.length === 0
    ? { check: 'malformed', status: 'pass', message: 'every eval record matches the declared scores and ranges', findings: [] }
    : { check: 'malformed', status: 'block', message: 'eval records break the declared schema or range: rejected before any statistic', findings: shown }
}

function referenceStatistic(values: Float64Array, statistic: 'mean' | 'p50' | 'p95'): number {
  if (statistic === 'mean') return mean(values)
  return quantile(values, statistic === 'p50' ? 0.5 : 0.95)
}

/**
 * inconsistent: a statistic of a side's eval set differs from its declared reference by more than
 * the tolerance, or the two sides evaluated different dataset versions → warn: investigate.
 * With `notEvaluated` (a reason: the records are malformed) no statistic is computed: the check is
 * "not evaluated", and only lists dataset versions that differ (which needs no statistic).
 */
export function checkInconsistent(spec: GateSpec, sides: LoadedSide[], options: { notEvaluated?: string } = {}): CheckResult {
  const findings: string[] = []
  for (const ref of options.notEvaluated === undefined ? spec.references : []) {
    const dataset = ref.dataset ?? spec.dataset
    for (const side of sides) {
      side.runs.forEach((run, k) => {
        const values = side.evals.get(dataset)?.[k]?.scores[ref.metric]
        if (values === undefined) return
        const finite = values.filter((v) => Number.isFinite(v))
        if (finite.length === 0) return
        const value = referenceStatistic(finite, ref.statistic)
        if (Math.abs(value - ref.value) > ref.tolerance) {
          findings.push(`${side.role} run ${short(run)}, ${dataset}: ${ref.statistic} of ${ref.metric} is ${formatNumber(value)}, reference ${ref.value} ± ${ref.tolerance}`)
        }
      })
    }
  }
  for (const dataset of gateDatasets(spec)) {
    const shas = new Set<string>()
    for (const side of sides) for (const columns of side.evals.get(dataset) ?? []) if (columns) shas.add(columns.datasetSha256)
    if (shas.size > 1) findings.push(`dataset ${dataset} has ${shas.size} versions across the two sides (${[...shas].map((s) => s.slice(0, 12)).join(', ')})`)
  }
  if (options.notEvaluated !== undefined) {
    return { check: 'inconsistent', status: 'not-evaluated', message: `not evaluated: ${options.notEvaluated}${spec.references.length > 0 ? ' (references not compared)' : ''}`, findings }
  }
  return findings.length === 0
    ? { check: 'inconsistent', status: 'pass', message: spec.references.length === 0 ? 'no references declared; both sides read the same dataset versions' : 'every statistic is within tolerance of its reference', findings }
    : { check: 'inconsistent', status: 'warn', message: 'the eval set or its score distribution drifted: investigate', findings }
}

/**
 * unauditable: on either side, a run without a dataset version, a code version (git commit), a
 * seed or an owner; an eval set whose dataset hash is not one of the run's dataset versions; a
 * model version without an owner, or whose artifact its run did not produce → block until the
 * metadata exists.
 */
export function checkUnauditable(sides: LoadedSide[]): CheckResult {
  const findings: string[] = []
  for (const side of sides) {
    for (const run of side.runs) {
      const who = `${side.role} run ${short(run)}`
      if (run.datasets.length === 0) findings.push(`${who} has no dataset version`)
      if (run.code.vcs === null || !run.code.commit) findings.push(`${who} has no code version${run.code.reason ? ` (${run.code.reason})` : ''}`)
      if (!Number.isInteger(run.seed)) findings.push(`${who} has no seed`)
      if (!run.owner || run.owner.trim() === '' || run.owner === 'unknown') findings.push(`${who} has no owner`)
      const versions = new Set(run.datasets.map((d) => d.sha256))
      for (const e of run.evals) {
        if (!versions.has(e.datasetSha256)) findings.push(`${who}: eval set ${e.dataset} points at dataset ${e.datasetSha256.slice(0, 12)}, which is not one of the run's dataset versions (lineage edge missing)`)
      }
    }
    const mv = side.modelVersion
    if (mv !== null) {
      if (!mv.owner || mv.owner.trim() === '') findings.push(`${side.role} model ${mv.model} has no owner`)
      if (!side.runs.some((r) => r.id === mv.runId)) findings.push(`${side.role} ${mv.model} v${mv.version}: its run ${mv.runId.slice(0, 8)} is not the run evaluated (lineage edge missing)`)
      if (mv.artifact !== null && mv.artifactProducedByRun !== true) {
        findings.push(`${side.role} ${mv.model} v${mv.version}: artifact ${mv.artifact.name} (${mv.artifact.sha256.slice(0, 12)}) was not produced by run ${mv.runId.slice(0, 8)} (lineage edge missing)`)
      }
    }
  }
  return findings.length === 0
    ? { check: 'unauditable', status: 'pass', message: 'every run has dataset versions, a code version, a seed, an owner and its lineage edges', findings }
    : { check: 'unauditable', status: 'block', message: 'metadata is missing: promotion is blocked until it exists', findings }
}

/** too costly: the budget criteria, summarised; each keeps its own action. `notEvaluated`: skipped (malformed records), with the reason. */
export function checkTooCostly(results: CriterionResult[], options: { notEvaluated?: string } = {}): CheckResult {
  const budgets = results.filter((r) => r.kind === 'budget')
  const over = budgets.filter((r) => r.status !== 'pass')
  if (budgets.length === 0) return { check: 'too-costly', status: 'pass', message: 'no budget declared', findings: [] }
  if (options.notEvaluated !== undefined) return { check: 'too-costly', status: 'not-evaluated', message: `not evaluated: ${options.notEvaluated}`, findings: [] }
  if (over.length === 0) return { check: 'too-costly', status: 'pass', message: `${budgets.length} budget(s) met`, findings: [] }
  return {
    check: 'too-costly',
    status: over.some((r) => r.outcome === 'block') ? 'block' : 'warn',
    message: `${over.length} of ${budgets.length} budget(s) exceeded or not shown to be met`,
    findings: over.map((r) => `${r.name}: ${r.message}`),
  }
}
