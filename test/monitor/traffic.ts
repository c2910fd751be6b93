import type { RandomGenerator } from '../../src/stats/index.js'
import type { TraceRow } from '../../src/monitor/trace-row.js'
import { normals } from '../calibration/simulation.js'

/**
 * Synthetic production traffic with known ground truth, for the monitor's tests and calibration:
 * conversations of a few turns, a numeric and a categorical feature, a quality score, a 0/1
 * refusal rate with a per-conversation propensity (so traces of one conversation are correlated),
 * guardrail actions, latency, tokens and cost. `shift` moves the named parts of the distribution.
 */
export interface TrafficShift {
  /** Added to the numeric feature prompt_length (in its SD units). */
  promptLength?: number
  /** Added to the quality score. */
  quality?: number
  /** Multiplies latency, tokens and cost. */
  costFactor?: number
  /** Share of traces in the 'es' region instead of 0.2. */
  spanish?: number
}

export const HOUR = 3_600_000
export const NOW = Date.UTC(2026, 11, 1, 12)

export function traffic(rng: RandomGenerator, conversations: number, shift: TrafficShift = {}, prefix = 'c'): TraceRow[] {
  const z = normals(rng)
  const rows: TraceRow[] = []
  for (let c = 0; c < conversations; c++) {
    const turns = 1 + rng.nextInt(6)
    const refusalPropensity = Math.min(0.9, Math.max(0, 0.1 + 0.12 * z.next()))
    const region = rng.nextFloat() < (shift.spanish ?? 0.2) ? 'es' : rng.nextFloat() < 0.5 ? 'en' : 'de'
    for (let t = 0; t < turns; t++) {
      const factor = shift.costFactor ?? 1
      const inputTokens = Math.round(factor * (400 + 100 * Math.abs(z.next())))
      const outputTokens = Math.round(factor * (150 + 50 * Math.abs(z.next())))
      rows.push({
        traceId: `${prefix}${c}-${t}`,
        time: NOW - rng.nextFloat() * HOUR,
        latencyMs: factor * Math.exp(6 + 0.4 * z.next()),
        inputTokens,
        outputTokens,
        costUsd: (inputTokens * 2.5e-6 + outputTokens * 1e-5),
        scores: { quality: 0.7 + (shift.quality ?? 0) + 0.1 * z.next(), refusal: rng.nextFloat() < refusalPropensity ? 1 : 0 },
        guardrailAction: rng.nextFloat() < 0.03 ? 'block' : 'none',
        features: { prompt_length: 300 + 80 * ((shift.promptLength ?? 0) + z.next()), region },
        attributes: ['gen_ai.request.model', 'assay.prompt.version'],
        conversationId: `${prefix}${c}`,
        modelVersion: 'support-bot@3',
        promptVersion: 'triage@7',
      })
    }
  }
  return rows
}

export const MONITOR_YAML = `monitor: support-bot-prod
deployment: support-bot-prod
owner: ml-platform
escalation: oncall-ml@example.com
rollback:
  model: support-bot
  version: 2
  rationale: v2 ran six weeks in production without an incident and passed the March gate
alpha: 0.05
minRequests: 100
stale:
  - signal: traffic
    maxAge: 30m
    action: warn
  - signal: input
    maxAge: 7d
    action: backfill
malformed:
  required: [gen_ai.request.model]
  scores:
    quality: { min: -1, max: 2 }
  maxShare: 0.02
inconsistent:
  multiplicity: holm
  reference: the evaluation run that promoted support-bot@3
  drift:
    - feature: prompt_length
      test: ks
    - feature: region
      test: chi-square
      unit: conversation
    - score: quality
      test: ks
      decision: rollback
    - rate: refusal
    - rate: guardrail
      test: two-proportion
costly:
  action: route
  latency: { quantile: 0.95, maxMs: 1200 }
  tokensPer1000: { max: 900000 }
  costPer1000: { max: 4 }
`
