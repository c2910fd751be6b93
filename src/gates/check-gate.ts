import { alignRuns } from '../compare/align-examples.js'
import { AssayError, isAssayError } from '../errors.js'
import type { EvalColumns } from '../record/types.js'
import { appendAuditRecord } from '../audit/append-and-verify.js'
import { currentHolder } from '../registry/registry.js'
import { resolveGateSide, type ResolvedGateSide } from './gate-sides.js'
import type { Store } from '../store/store.js'
import { checkInconsistent, checkMalformed, checkStale, checkTooCostly, checkUnauditable, gateDatasets, type CheckResult, type LoadedSide } from './contract-checks.js'
import { decideAbsolute, decideBudget, decideNonInferiority, decideSuperiority, notEvaluated, type CriterionContext, type CriterionResult, type PairedInput } from './criteria.js'
import { decide } from './decision.js'
import { ASSAY_VERSION } from '../version.js'
import { evidenceSide, gateHeader, type GateEvidence } from './evidence.js'
import { criterionName, type Criterion, type GateSpec, type LoadedGate } from './gate-spec.js'

/**
 * `assay gate check`: the thin loading layer. Resolve both sides, read their eval records, run the
 * contract checks, decide every criterion (pure, criteria.ts), decide the gate (decision.ts), and
 * append the evidence to the audit log.
 */

export interface CheckGateOptions {
  gate: LoadedGate
  candidate: string
  /** A side spec; default: alias:MODEL@champion when the gate names a model and that alias has a holder. */
  baseline?: string | null
  actor: string
  now?: number
  /** Append the evidence to the audit log (default true). */
  record?: boolean
  /**
   * Where the criteria are decided (the statistics, the costly part): in this thread by default;
   * the server hands them to a worker thread with a time limit (src/server/gate-worker.ts).
   */
  decideCriteria?: (input: CriteriaInput) => Promise<CriterionResult[]>
}

/** Everything deciding the criteria needs, as plain data (it crosses to a worker thread). */
export interface CriteriaInput {
  gate: LoadedGate
  candidate: LoadedSide
  baseline: LoadedSide | null
  /** Why no criterion is evaluated (malformed records), or undefined. */
  skipped: string | undefined
}

/** Decide every criterion of the gate: pure, and the part of a gate check whose work grows with resamples. */
export function decideCriteria({ gate, candidate, baseline, skipped }: CriteriaInput): CriterionResult[] {
  const { spec } = gate
  return spec.criteria.map((c, i) => {
    const ctx: CriterionContext = { name: criterionName(c), dataset: c.kind === 'budget' && (c.metric === 'storage' || c.metric === 'compute') ? null : (c.dataset ?? spec.dataset), line: gate.criterionLines[i] ?? null, seed: spec.seed }
    if (skipped !== undefined) return notEvaluated(c, { ...ctx, dataset: ctx.dataset ?? spec.dataset }, skipped)
    return decideCriterion(c, { ...ctx, dataset: ctx.dataset ?? spec.dataset }, candidate, baseline, spec.cluster)
  })
}

export interface GateCheckResult {
  evidence: GateEvidence
  /** Sequence number and hash of the audit record holding the evidence; null when not recorded. */
  audit: { seq: number; hash: string } | null
}

async function loadSide(store: Store, side: ResolvedGateSide, role: 'candidate' | 'baseline', datasets: string[]): Promise<LoadedSide> {
  const evals = new Map<string, (EvalColumns | null)[]>()
  for (const dataset of datasets) {
    const perRun: (EvalColumns | null)[] = []
    for (const run of side.runs) {
      try {
        perRun.push(await store.evalColumns(run.id, dataset))
      } catch (error) {
        if (isAssayError(error, 'ASSAY_EVAL_NOT_FOUND')) perRun.push(null)
        else throw error
      }
    }
    evals.set(dataset, perRun)
  }
  return { role, label: side.label, runs: side.runs, modelVersion: side.modelVersion, evals }
}

/** Per-example values of one score for a side: the run's column, or per-example means over a group's runs (ids common to all); with each id's cluster (first run's). */
function sideScores(side: LoadedSide, dataset: string, metric: string): { ids: string[]; values: Float64Array; records: number; clusterOf: Map<string, string> } {
  const columns = (side.evals.get(dataset) ?? []).filter((c): c is EvalColumns => c !== null)
  if (columns.length === 0) throw new AssayError('ASSAY_EVAL_NOT_FOUND', `${side.role} has no eval records for dataset ${dataset}`)
  const aligned = alignRuns(columns, metric)
  const values = new Float64Array(aligned.ids.length)
  for (const s of aligned.scores) for (let i = 0; i < values.length; i++) values[i] += s[i] / aligned.scores.length
  const first = columns[0] as EvalColumns
  const clusterOf = new Map<string, string>()
  if (first.clusters !== null) first.ids.forEach((id, i) => (first.clusters?.[i] ?? null) !== null && clusterOf.set(id, first.clusters?.[i] as string))
  return { ids: aligned.ids, values, records: first.ids.length, clusterOf }
}

/** The gate's cluster rule: the first capture group (else the whole match) of idPattern on the example id; null when it does not match. */
function clusterFromId(pattern: RegExp, id: string): string | null {
  const m = pattern.exec(id)
  return m === null ? null : (m[1] ?? m[0])
}

function paired(candidate: LoadedSide, baseline: LoadedSide, dataset: string, metric: string, clusterRule: GateSpec['cluster']): PairedInput {
  const a = sideScores(candidate, dataset, metric)
  const b = sideScores(baseline, dataset, metric)
  const index = new Map<string, number>()
  b.ids.forEach((id, i) => index.set(id, i))
  const ca: number[] = []
  const cb: number[] = []
  const clusters: (string | null)[] = []
  const pattern = clusterRule === undefined ? null : new RegExp(clusterRule.idPattern)
  a.ids.forEach((id, i) => {
    const j = index.get(id)
    if (j !== undefined) {
      ca.push(a.values[i])
      cb.push(b.values[j])
      // Records' cluster (candidate's, else baseline's); the gate's rule when they carry none.
      clusters.push(a.clusterOf.get(id) ?? b.clusterOf.get(id) ?? (pattern === null ? null : clusterFromId(pattern, id)))
    }
  })
  return { candidate: Float64Array.from(ca), baseline: Float64Array.from(cb), nCandidate: a.records, nBaseline: b.records, clusters: clusters.some((c) => c !== null) ? clusters : null }
}

/** Every run's values of a column, pooled (absolute thresholds and per-example budgets). */
function pooled(side: LoadedSide, dataset: string, pick: (c: EvalColumns) => Float64Array | null | undefined): Float64Array {
  const out: number[] = []
  for (const c of side.evals.get(dataset) ?? []) {
    const values = c === null ? undefined : pick(c)
    if (values) for (const v of values) if (Number.isFinite(v)) out.push(v)
  }
  return Float64Array.from(out)
}

function budgetValues(side: LoadedSide, c: Extract<Criterion, { kind: 'budget' }>, dataset: string): Float64Array {
  if (c.metric === 'storage') {
    return Float64Array.from(side.runs.map((r) => r.artifacts.filter((a) => a.direction === 'produced').reduce((s, a) => s + a.sizeBytes, 0)))
  }
  if (c.metric === 'compute') return Float64Array.from(side.runs.map((r) => ((r.endTime ?? r.heartbeatAt) - r.startTime) / 1000))
  const column = c.metric === 'latency' ? 'latencyMs' : c.metric
  return pooled(side, dataset, (cols) => cols[column])
}

function decideCriterion(c: Criterion, ctx: CriterionContext, candidate: LoadedSide, baseline: LoadedSide | null, clusterRule: GateSpec['cluster']): CriterionResult {
  const dataset = ctx.dataset as string
  try {
    switch (c.kind) {
      case 'superiority':
      case 'non-inferiority': {
        if (baseline === null) return notEvaluated(c, ctx, 'a comparative criterion needs a baseline (--baseline, or an alias holder)')
        const input = paired(candidate, baseline, dataset, c.metric, clusterRule)
        if (input.candidate.length < 2) return notEvaluated(c, ctx, `only ${input.candidate.length} example(s) pair up between the sides`)
        return c.kind === 'superiority' ? decideSuperiority(c, ctx, input) : decideNonInferiority(c, ctx, input)
      }
      case 'absolute': {
        const values = pooled(candidate, dataset, (cols) => cols.scores[c.metric])
        if (values.length === 0) return notEvaluated(c, ctx, `the candidate has no ${c.metric} scores`)
        return decideAbsolute(c, ctx, values)
      }
      case 'budget': {
        const values = budgetValues(candidate, c, dataset)
        if (values.length === 0) return notEvaluated(c, ctx, `the candidate has no ${c.metric} values`)
        return decideBudget(c, ctx, { candidate: values, baseline: baseline === null ? null : budgetValues(baseline, c, dataset) })
      }
    }
  } catch (error) {
    if (isAssayError(error)) return notEvaluated(c, ctx, `${error.code}: ${error.message}`)
    throw error
  }
}

/** Compute every check and criterion, decide, and (by default) append the evidence to the audit log. */
export async function checkGate(store: Store, options: CheckGateOptions): Promise<GateCheckResult> {
  const { spec } = options.gate
  const now = options.now ?? Date.now()
  const defaultModel = spec.model
  const candidateSide = await resolveGateSide(store, options.candidate, { defaultModel })
  let baselineSpec = options.baseline ?? null
  if (baselineSpec === null && options.baseline === undefined && defaultModel !== undefined) {
    try {
      if ((await currentHolder(store, defaultModel, 'champion')) !== null) baselineSpec = `alias:${defaultModel}@champion`
    } catch (error) {
      if (!isAssayError(error, 'ASSAY_MODEL_NOT_FOUND')) throw error
    }
  }
  const baselineSide = baselineSpec === null ? null : await resolveGateSide(store, baselineSpec, { defaultModel })
  const datasets = gateDatasets(spec)
  const candidate = await loadSide(store, candidateSide, 'candidate', datasets)
  const baseline = baselineSide === null ? null : await loadSide(store, baselineSide, 'baseline', datasets)
  const sides = baseline === null ? [candidate] : [candidate, baseline]

  const unauditable = checkUnauditable(sides)
  // The rollback candidate must exist: a gate that cannot say where to go back to is not auditable.
  try {
    await resolveGateSide(store, spec.rollback, { defaultModel })
  } catch (error) {
    if (!isAssayError(error)) throw error
    unauditable.findings.push(`rollback candidate ${spec.rollback} does not resolve: ${error.message}`)
    unauditable.status = 'block'
    unauditable.message = 'metadata is missing: promotion is blocked until it exists'
  }
  // Malformed records are rejected before any statistic: when malformed blocks, the statistical
  // check (inconsistent), the criteria and the budget summary are "not evaluated", with the reason.
  const malformedCheck = checkMalformed(spec, sides)
  const skipped = malformedCheck.status === 'block' ? 'the eval records are malformed; no statistic is computed on them' : undefined
  const checks: CheckResult[] = [checkStale(spec, sides, now), malformedCheck, checkInconsistent(spec, sides, { notEvaluated: skipped }), unauditable]
  const input: CriteriaInput = { gate: options.gate, candidate, baseline, skipped }
  const criteria = options.decideCriteria === undefined ? decideCriteria(input) : await options.decideCriteria(input)
  checks.push(checkTooCostly(criteria, { notEvaluated: skipped }))
  let holder: string | null = null
  if (defaultModel !== undefined) {
    try {
      const v = await currentHolder(store, defaultModel, 'champion')
      holder = v === null ? null : `${defaultModel} version ${v} (champion)`
    } catch (error) {
      if (!isAssayError(error, 'ASSAY_MODEL_NOT_FOUND')) throw error
    }
  }
  const outcome = decide(checks, criteria, { rollback: spec.rollback, escalation: spec.escalation, currentHolder: holder })
  const evidence: GateEvidence = {
    schema: 'assay.gate-evidence/v1',
    assayVersion: ASSAY_VERSION,
    checkedAt: now,
    actor: options.actor,
    gate: gateHeader(options.gate),
    candidate: evidenceSide(candidateSide),
    baseline: baselineSide === null ? null : evidenceSide(baselineSide),
    checks,
    criteria,
    ...outcome,
  }
  if (options.record === false) return { evidence, audit: null }
  const record = await appendAuditRecord(store, { kind: 'gate-check', actor: options.actor, subject: spec.gate, at: now, body: evidence })
  return { evidence, audit: { seq: record.seq, hash: record.hash } }
}
