import { createRandom } from '../../src/stats/index.js'
import type { Store } from '../../src/store/store.js'
import type { TraceInput } from '../../src/record/production.js'
import { addModelVersion, createModel, setAlias } from '../../src/registry/registry.js'
import { normals } from '../calibration/simulation.js'
import { newRun } from '../store/fixtures.js'
import { hex, span } from './helpers.js'

/**
 * Stored production traffic with known ground truth, for monitor checks over a real store: LLM
 * traces (one span each, GenAI and assay attributes) of conversations of one to three turns, and a
 * `quality` feedback score on each. `shift` moves the input tokens (in SD units), the quality
 * score, or multiplies latency, tokens and cost, for a share of the traces (`share`, default all).
 */
export interface StoredShift {
  inputTokens?: number
  quality?: number
  costFactor?: number
  share?: number
}

export const MINUTE = 60_000
export const HOUR = 60 * MINUTE

export interface StoredTraffic {
  traces: TraceInput[]
  feedback: { traceId: string; value: number }[]
}

export function storedTraffic(seed: number, deploymentId: string, conversations: number, from: number, to: number, shift: StoredShift = {}): StoredTraffic {
  const rng = createRandom(seed)
  const z = normals(rng)
  const traces: TraceInput[] = []
  const feedback: StoredTraffic['feedback'] = []
  for (let c = 0; c < conversations; c++) {
    const conversation = `conv-${seed}-${c}`
    const turns = 1 + rng.nextInt(3)
    for (let t = 0; t < turns; t++) {
      const shifted = rng.nextFloat() < (shift.share ?? 1)
      const factor = shifted ? (shift.costFactor ?? 1) : 1
      const start = Math.floor(from + rng.nextFloat() * (to - from - 5_000))
      const inputTokens = Math.max(1, Math.round(factor * (400 + 100 * ((shifted ? (shift.inputTokens ?? 0) : 0) + z.next()))))
      const outputTokens = Math.round(factor * (150 + 30 * Math.abs(z.next())))
      const latency = Math.round(factor * Math.exp(6 + 0.3 * z.next()))
      const traceId = hex(16)
      traces.push({
        traceId,
        deploymentId,
        spans: [
          span({
            name: 'chat',
            startTime: start,
            endTime: start + latency,
            attributes: {
              'gen_ai.operation.name': 'chat',
              'gen_ai.request.model': 'gpt-x',
              'gen_ai.conversation.id': conversation,
              'gen_ai.usage.input_tokens': inputTokens,
              'gen_ai.usage.output_tokens': outputTokens,
              'assay.prompt.version': 'qa@3',
              'assay.cost.usd': inputTokens * 2.5e-6 + outputTokens * 1e-5,
              'assay.guardrail.action': 'none',
            },
          }),
        ],
      })
      feedback.push({ traceId, value: Math.min(1, Math.max(0, 0.75 + (shifted ? (shift.quality ?? 0) : 0) + 0.08 * z.next())) })
    }
  }
  return { traces, feedback }
}

/** Store the traffic and its feedback. */
export async function storeTraffic(store: Store, traffic: StoredTraffic): Promise<void> {
  for (let i = 0; i < traffic.traces.length; i += 500) {
    const result = await store.logTraces(traffic.traces.slice(i, i + 500))
    if (result.rejected.length > 0) throw new Error(`traces rejected: ${JSON.stringify(result.rejected[0])}`)
  }
  for (const f of traffic.feedback) await store.addFeedback({ id: `q-${f.traceId}`, traceId: f.traceId, name: 'quality', value: f.value, source: 'judge', at: 1 })
}

/**
 * The monitor file of the production tests: drift of inputTokens, and of the quality score
 * (decided as a rollback to version 1 of `model`); `automaticRollback` acts on that decision.
 */
export function monitorText(model: string, automaticRollback: boolean): string {
  return `monitor: qa-prod
owner: alice
escalation: oncall-ml@example.com
rollback:
  model: ${model}
  version: 1
  rationale: version 1 served a month without an incident
${automaticRollback ? 'actions:\n  rollback: automatic\n' : ''}minRequests: 50
unauditable:
  require: [modelVersion, promptVersion, owner]
inconsistent:
  drift:
    - feature: inputTokens
    - score: quality
      decision: rollback
`
}

export const MONITOR_TEXT = monitorText('qa', true)

/**
 * Model qa of experiment qa, version 1 made from one run; with `champion`, a version 2 from the
 * same run and the alias champion set on version 1 then moved to 2 (a rollback has a target).
 */
export async function qaModel(store: Store, options: { champion: boolean }): Promise<void> {
  const run = newRun({ experiment: 'qa' })
  await store.createRun(run)
  await createModel(store, { name: 'qa', owner: 'alice', actor: 'alice', at: 1 })
  await addModelVersion(store, { model: 'qa', run: run.id, actor: 'alice', at: 2 })
  if (!options.champion) return
  await addModelVersion(store, { model: 'qa', run: run.id, actor: 'alice', at: 3 })
  await setAlias(store, { model: 'qa', alias: 'champion', version: 1, actor: 'alice', at: 4 })
  await setAlias(store, { model: 'qa', alias: 'champion', version: 2, actor: 'alice', at: 5 })
}
