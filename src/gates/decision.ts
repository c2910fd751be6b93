import type { CheckResult } from './contract-checks.js'
import type { CriterionResult } from './criteria.js'

/**
 * The gate's decision from its checks and criteria (pure). block if anything blocks — a malformed
 * or unauditable side, a stale evaluation under onFailure: block, a blocking criterion that failed
 * or could not be evaluated; warn if anything warns; accept otherwise. The next action is spelled
 * out so nobody has to interpret the report.
 */

export type GateDecision = 'accept' | 'warn' | 'block'

export interface DecisionOutcome {
  decision: GateDecision
  /** What to do next, in words. */
  nextAction: string
  /** Every reason for a warn or block, one line each. */
  reasons: string[]
}

export function decide(checks: CheckResult[], criteria: CriterionResult[], context: { rollback: string; escalation: string; currentHolder: string | null }): DecisionOutcome {
  const blocking: string[] = []
  const warnings: string[] = []
  for (const c of checks) {
    // too-costly repeats the budget criteria, which are counted below.
    if (c.check === 'too-costly') continue
    if (c.status === 'block') blocking.push(`${c.check}: ${c.message}${c.findings.length > 0 ? ` (${c.findings[0]}${c.findings.length > 1 ? `; +${c.findings.length - 1} more` : ''})` : ''}`)
    if (c.status === 'warn') warnings.push(`${c.check}: ${c.message}${c.findings.length > 0 ? ` (${c.findings[0]})` : ''}`)
  }
  for (const r of criteria) {
    if (r.outcome === 'block') blocking.push(`${r.name}: ${r.message}`)
    if (r.outcome === 'warn') warnings.push(`${r.name}: ${r.message}`)
  }
  if (blocking.length > 0) {
    const keep = context.currentHolder === null ? '' : ` Production stays on ${context.currentHolder}.`
    return {
      decision: 'block',
      nextAction: `do not promote: ${blocking[0]}${blocking.length > 1 ? ` (and ${blocking.length - 1} more)` : ''}.${keep} If this candidate is already serving, roll back to ${context.rollback}; escalate to ${context.escalation}.`,
      reasons: [...blocking, ...warnings],
    }
  }
  if (warnings.length > 0) {
    return { decision: 'warn', nextAction: 'promote with --accept-warnings and a reason (--reason), after investigating: ' + warnings.join('; '), reasons: warnings }
  }
  return { decision: 'accept', nextAction: 'promote', reasons: [] }
}

/** Exit codes of `assay gate check` (docs/gates.md): 0 accept, 1 block, 3 warn; 2 is a usage or input error. */
export const GATE_EXIT_CODES: Record<GateDecision, number> = { accept: 0, block: 1, warn: 3 }
