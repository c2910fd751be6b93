import type { Envelope, RunRecord } from '../record/types.js'
import type { CheckResult, SideModelVersion } from './contract-checks.js'
import type { CriterionResult } from './criteria.js'
import type { GateDecision } from './decision.js'
import type { LoadedGate } from './gate-spec.js'

/** The evidence record of one gate check (schema assay.gate-evidence/v1, docs/gates.md). */

export interface EvidenceRun {
  runId: string
  seed: number
  owner: string
  envelope: Envelope
  code: { commit: string | null; dirty: boolean | null }
  datasets: { name: string; sha256: string }[]
}

export interface EvidenceSide {
  label: string
  how: string
  runIds: string[]
  modelVersion: SideModelVersion | null
  runs: EvidenceRun[]
}

export interface GateEvidence {
  schema: 'assay.gate-evidence/v1'
  assayVersion: string
  checkedAt: number
  actor: string
  gate: { name: string; source: string; sha256: string; owner: string; escalation: string; rollback: string; model: string | null }
  candidate: EvidenceSide
  baseline: EvidenceSide | null
  checks: CheckResult[]
  criteria: CriterionResult[]
  decision: GateDecision
  nextAction: string
  reasons: string[]
}

export function evidenceSide(side: { label: string; how: string; runs: RunRecord[]; modelVersion: SideModelVersion | null }): EvidenceSide {
  return {
    label: side.label,
    how: side.how,
    runIds: side.runs.map((r) => r.id),
    modelVersion: side.modelVersion,
    runs: side.runs.map((r) => ({
      runId: r.id,
      seed: r.seed,
      owner: r.owner,
      envelope: r.envelope,
      code: { commit: r.code.commit ?? null, dirty: r.code.dirty ?? null },
      datasets: r.datasets.map((d) => ({ name: d.name, sha256: d.sha256 })),
    })),
  }
}

export function gateHeader(gate: LoadedGate): GateEvidence['gate'] {
  const s = gate.spec
  return { name: s.gate, source: gate.source, sha256: gate.sha256, owner: s.owner, escalation: s.escalation, rollback: s.rollback, model: s.model ?? null }
}
