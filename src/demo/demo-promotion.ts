import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { AssayError, isAssayError } from '../errors.js'
import type { GateEvidence } from '../gates/evidence.js'
import type { AuditVerification } from '../audit/audit-log.js'
import type { AuditRecord } from '../record/types.js'
import type { Assay } from '../sdk/assay.js'
import type { DemoResult } from './demo-experiment.js'

/**
 * The demo's promotion step: register the baseline configuration as version 1 (champion), the
 * better configuration as version 2, write a gate file, register it as the champion's gate, promote
 * through it, and return the audit log. Real runs, real gate: if the runs have no code version (the demo ran
 * outside a git work tree) the gate blocks them as unauditable, and the demo says so.
 */

export const DEMO_MODEL = 'demo-classifier'

export interface DemoPromotion {
  model: string
  gateFile: string
  baselineVersion: number
  candidateVersion: number
  evidence: GateEvidence
  promoted: boolean
  /** Why the promotion did not happen, when it did not. */
  refused: string | null
  audit: AuditRecord[]
  verify: AuditVerification
}

function gateText(baselineRef: string): string {
  return `# Written by assay demo: the release gate of ${DEMO_MODEL} (docs/gates.md)
gate: demo-release
model: ${DEMO_MODEL}
owner: demo-owner@example.com
escalation: demo-oncall@example.com
rollback: ${baselineRef}
dataset: validation
seed: 20261126
scores:
  correct: { min: 0, max: 1 }
  logLoss: { min: 0 }
criteria:
  - name: accuracy improves
    kind: superiority
    metric: correct
    alpha: 0.05
    test: paired-bootstrap
    onFailure: block
    rationale: a new release must be measurably more accurate than production
  - name: log loss not worse
    kind: non-inferiority
    metric: logLoss
    higherIsBetter: false
    margin: 0.02
    alpha: 0.05
    onFailure: block
    rationale: calibration may not degrade by more than 0.02 nats per example
  - name: p95 latency
    kind: budget
    metric: latency
    max: 5
    onFailure: warn
    rationale: the scoring path must stay well under the 5 ms p95 serving budget
`
}

export async function runDemoPromotion(assay: Assay, demo: DemoResult, options: { dir: string }): Promise<DemoPromotion> {
  const baselineRun = demo.runs.find((r) => r.config === 'baseline')
  const candidateRun = demo.runs.find((r) => r.config === 'candidate')
  if (baselineRun === undefined || candidateRun === undefined) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'the demo promotion needs a baseline and a candidate run')
  try {
    await assay.createModel({ name: DEMO_MODEL, owner: 'demo-owner@example.com', description: 'logistic regression of assay demo', tags: { demo: 'true' } })
  } catch (error) {
    if (!isAssayError(error, 'ASSAY_MODEL_EXISTS')) throw error
  }
  const baseline = await assay.addModelVersion({ model: DEMO_MODEL, run: baselineRun.runId, artifact: 'model/weights.json', description: 'baseline configuration' })
  const candidate = await assay.addModelVersion({ model: DEMO_MODEL, run: candidateRun.runId, artifact: 'model/weights.json', description: 'squared features' })
  await assay.setAlias(DEMO_MODEL, 'champion', baseline.version, { reason: 'demo: the baseline configuration is in production' })
  const gateFile = path.join(options.dir, 'release-gate.yaml')
  writeFileSync(gateFile, gateText(`model:${DEMO_MODEL}@${baseline.version}`))
  // Promotion runs only the gate the store holds for the alias: register it first.
  await assay.setGatePolicy(DEMO_MODEL, { alias: 'champion', gate: gateFile, reason: 'demo: the release gate of the champion' })
  let promoted = false
  let refused: string | null = null
  let evidence: GateEvidence
  try {
    const result = await assay.promote({ model: DEMO_MODEL, version: candidate.version, gate: gateFile, acceptWarnings: true, reason: 'demo: latency warnings accepted on a laptop' })
    evidence = result.check.evidence
    promoted = true
  } catch (error) {
    if (!isAssayError(error, 'ASSAY_GATE_BLOCKED')) throw error
    refused = error.message
    // The evidence of the blocked check is the last gate-check record.
    const last = (await assay.auditLog()).filter((r) => r.kind === 'gate-check').at(-1)
    evidence = last?.body as unknown as GateEvidence
  }
  return { model: DEMO_MODEL, gateFile, baselineVersion: baseline.version, candidateVersion: candidate.version, evidence, promoted, refused, audit: await assay.auditLog(), verify: await assay.verifyAudit() }
}
