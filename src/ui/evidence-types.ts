import type { CodeVersion, DatasetVersion, JsonValue, ModelVersion } from '../record/types.js'
import type { WireNumber } from './api.js'

/**
 * The JSON the evidence and production views read, declared here because the source types live
 * in files that import Node code (src/record/production.ts, src/gates/evidence.ts,
 * src/monitor/check-monitor.ts), which the browser's type check cannot follow. Only the fields
 * the views read. Audit bodies write NaN and ±Infinity as strings (WireNumber).
 */

/** src/gates/criteria.ts CriterionResult, as an audit body holds it. */
export interface WireCriterion {
  name: string
  kind: string
  metric: string
  dataset: string | null
  test: string
  alpha: WireNumber
  onFailure: 'block' | 'warn'
  rationale: string
  status: string
  outcome: 'pass' | 'warn' | 'block'
  rule: string
  estimate: WireNumber | null
  ci: [WireNumber, WireNumber] | null
  confidenceLevel: WireNumber | null
  pValue: WireNumber | null
  threshold: WireNumber | null
  sampleSizes: { candidate: number; baseline: number | null; pairs: number | null }
  seed: number | null
  resamples: number | null
  clusters: number | null
  warnings: { code: string; message: string }[]
  message: string
}

export interface WireEvidenceSide {
  label: string
  how: string
  runIds: string[]
  modelVersion: { model: string; version: number; runId: string; artifact: { name: string; sha256: string } | null } | null
  runs: { runId: string; seed: number; owner: string; code: { commit: string | null; dirty: boolean | null }; datasets: { name: string; sha256: string }[] }[]
}

/** src/gates/evidence.ts GateEvidence: the body of a gate-check audit record. */
export interface WireGateEvidence {
  schema: string
  assayVersion: string
  checkedAt: number
  actor: string
  gate: { name: string; source: string; sha256: string; owner: string; escalation: string; rollback: string; model: string | null }
  candidate: WireEvidenceSide
  baseline: WireEvidenceSide | null
  checks: { check: string; status: 'pass' | 'warn' | 'block' | 'not-evaluated'; message: string; findings: string[] }[]
  criteria: WireCriterion[]
  decision: 'accept' | 'warn' | 'block'
  nextAction: string
  reasons: string[]
}

/** src/promotion/promotion.ts: the body of a promotion audit record. */
export interface WirePromotion {
  model: string
  alias: string
  from: number | null
  to: number
  decision: string
  acceptedWarnings: string[]
  reason: string
  gate: { name: string; sha256: string; policyVersion: number }
  evidence: { seq: number; hash: string } | null
}

/** src/registry/registry.ts: the body of a rollback (or alias-set) audit record. */
export interface WireAliasMove {
  model: string
  alias: string
  from: number | null
  to: number | null
  reason: string
}

/** src/monitor/decide-monitor.ts MonitorCheckResult. */
export interface WireMonitorCheck {
  check: string
  name: string
  status: 'pass' | 'fail' | 'marginal' | 'insufficient'
  decision: string
  action: string
  reason: string
  evidence: { [key: string]: JsonValue }
}

/** src/monitor/check-monitor.ts MonitorCheckEvidence: the body of a monitor-decision audit record. */
export interface WireMonitorDecision {
  schema: string
  checkedAt: number
  actor: string
  monitor: { name: string; source: string; sha256: string }
  deployment: { id: string; endpoint: string; endpointVersion: string; model: string | null; modelVersion: number | null; alias: string | null; unauditable: string[] }
  window: { from: number; to: number; traces: number }
  reference: { kind: 'trailing' | 'run'; from?: number; to?: number; run?: string; dataset?: string; traces: number }
  decision: string
  reason: string
  actions: string[]
  escalation: string | null
  next: string | null
  result: { multiplicity: { method: string; alpha: WireNumber; tests: number } | null; checks: WireMonitorCheck[] }
}

/** src/monitor/check-canary.ts CanaryCheckEvidence: the body of a canary-decision audit record. */
export interface WireCanaryDecision {
  schema: string
  checkedAt: number
  actor: string
  champion: { id: string; endpoint: string; model: string | null; modelVersion: number | null; traces: number }
  challenger: { id: string; endpoint: string; model: string | null; modelVersion: number | null; traces: number }
  window: { from: number; to: number }
  decision: string
  reason: string
  next: string
  result: {
    paired: boolean
    confidenceLevel: WireNumber
    metrics: { metric: string; higherIsBetter: boolean; estimate: WireNumber; ci: [WireNumber, WireNumber] | null; pValue: WireNumber; method: string; verdict: string; reason: string; nChallenger: number; nChampion: number }[]
  }
}

/** src/record/production.ts Deployment. */
export interface WireDeployment {
  id: string
  endpoint: string
  endpointVersion: string
  model: string | null
  modelVersion: number | null
  alias: string | null
  codeHash: string | null
  inputs: DatasetVersion[]
  environment: string
  owner: string | null
  createdAt: number
  experiment: string | null
  unauditable: string[]
}

/** src/record/production.ts TraceSummary. */
export interface WireTraceSummary {
  traceId: string
  deploymentId: string
  startTime: number
  endTime: number
  latencyMs: number
  status: string
  operation: string | null
  requestModel: string | null
  inputTokens: number | null
  outputTokens: number | null
  conversationId: string | null
  promptName: string | null
  promptVersion: string | null
  retrievalIndexVersion: string | null
  costUsd: number | null
  guardrailAction: string | null
  guardrailOutcome: string | null
  outputHash: string | null
  spanCount: number
}

export interface WireSpan {
  spanId: string
  parentSpanId: string | null
  name: string
  kind: string
  startTime: number
  endTime: number
  status: string
  statusMessage: string | null
  attributes: { [key: string]: JsonValue }
  events: { name: string; time: number; attributes: { [key: string]: JsonValue } }[]
}

export interface WireTrace extends WireTraceSummary {
  spans: WireSpan[]
  feedback: { id: string; name: string; value: number; source: string; at: number }[]
}

/** src/registry/serving-lineage.ts ServingLineage. */
export interface WireLineage {
  kind: 'serving'
  deployment: WireDeployment
  modelVersion: ModelVersion | null
  run: { id: string; experiment: string; name: string; code: CodeVersion; datasets: DatasetVersion[] } | null
  gaps: string[]
}

