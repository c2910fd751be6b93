import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import type { CheckMonitorResult } from '../monitor/check-monitor.js'
import type { Deployment } from '../record/production.js'
import type { AuditRecord } from '../record/types.js'
import type { Assay } from '../sdk/assay.js'
import { createRandom, type RandomGenerator } from '../stats/index.js'
import { ASSAY_VERSION } from '../version.js'
import { DEMO_MODEL } from './demo-promotion.js'

/**
 * The demo's production act: deploy the champion, send an hour of ordinary traffic and an hour with
 * a drifted slice (longer prompts) and an expensive slice (eight times the cost) as OTLP/JSON
 * through the real `POST /v1/traces` of a server the caller started, run the monitor over the last
 * hour against the hour before, and hand back the decision and its audit record.
 */

export const DEMO_ENDPOINT = 'demo-classifier-api'
const TRACES_PER_HOUR = 400
const HOUR = 3_600_000

export interface DemoProduction {
  deployment: Deployment
  monitorFile: string
  sent: { requests: number; traces: number; drifted: number; expensive: number }
  check: CheckMonitorResult
  record: AuditRecord | null
}

function monitorText(rollbackVersion: number): string {
  return `# Written by assay demo: the production monitor of ${DEMO_ENDPOINT} (docs/production.md)
monitor: ${DEMO_ENDPOINT}
deployment: ${DEMO_ENDPOINT}
owner: demo-owner@example.com
escalation: demo-oncall@example.com
rollback:
  model: ${DEMO_MODEL}
  version: ${rollbackVersion}
  rationale: the version the release gate was checked against
minRequests: 100
unauditable:
  require: [modelVersion, owner, codeHash]
inconsistent:
  drift:
    - feature: inputTokens
      name: prompt length (input tokens)
costly:
  action: cache
  costPer1000: { max: 4 }
`
}

function normal(rng: RandomGenerator): number {
  // Box–Muller: enough for synthetic traffic.
  return Math.sqrt(-2 * Math.log(1 - rng.nextFloat())) * Math.cos(2 * Math.PI * rng.nextFloat())
}

const attr = (key: string, value: string | number): { key: string; value: Record<string, unknown> } => ({
  key,
  value: typeof value === 'string' ? { stringValue: value } : Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value },
})

interface Slice {
  drifted: number
  expensive: number
}

/** One hour of traffic as OTLP/JSON spans (one LLM call span per trace). */
function hourOfSpans(rng: RandomGenerator, from: number, slice: Slice): { spans: Record<string, unknown>[]; drifted: number; expensive: number } {
  const spans: Record<string, unknown>[] = []
  let drifted = 0
  let expensive = 0
  for (let i = 0; i < TRACES_PER_HOUR; i++) {
    const isDrifted = rng.nextFloat() < slice.drifted
    const isExpensive = rng.nextFloat() < slice.expensive
    if (isDrifted) drifted++
    if (isExpensive) expensive++
    const inputTokens = Math.max(1, Math.round((isDrifted ? 640 : 400) + 80 * normal(rng)))
    const outputTokens = Math.max(1, Math.round(150 + 30 * normal(rng)))
    const cost = (inputTokens * 2.5e-6 + outputTokens * 1e-5) * (isExpensive ? 8 : 1)
    const start = from + Math.floor((i + rng.nextFloat()) * (HOUR / TRACES_PER_HOUR))
    const latency = Math.round(Math.exp(6 + 0.3 * normal(rng)))
    spans.push({
      traceId: randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      name: 'chat classify',
      kind: 3,
      startTimeUnixNano: `${start}000000`,
      endTimeUnixNano: `${start + latency}000000`,
      attributes: [
        attr('gen_ai.operation.name', 'chat'),
        attr('gen_ai.request.model', 'demo-llm'),
        attr('gen_ai.conversation.id', `demo-${from}-${i}`),
        attr('gen_ai.usage.input_tokens', inputTokens),
        attr('gen_ai.usage.output_tokens', outputTokens),
        attr('assay.prompt.name', 'classify'),
        attr('assay.prompt.version', '1'),
        attr('assay.cost.usd', cost),
        attr('assay.guardrail.action', 'none'),
      ],
      status: { code: 1 },
    })
  }
  return { spans, drifted, expensive }
}

export async function runDemoProduction(
  assay: Assay,
  options: { dir: string; otlpUrl: string; token: string; rollbackVersion: number; seed?: number },
): Promise<DemoProduction> {
  const validation = path.join(options.dir, 'validation.csv')
  const deployment = await assay.deploy({
    endpoint: DEMO_ENDPOINT,
    version: '1',
    model: DEMO_MODEL,
    alias: 'champion',
    code: `assay ${ASSAY_VERSION} demo serving`,
    inputs: [{ name: 'validation', path: validation, role: 'validation' }],
    owner: 'demo-owner@example.com',
  })
  const monitorFile = path.join(options.dir, 'demo.monitor.yaml')
  writeFileSync(monitorFile, monitorText(options.rollbackVersion))

  const rng = createRandom(options.seed ?? 20261201)
  const now = Date.now()
  const reference = hourOfSpans(rng, now - 2 * HOUR, { drifted: 0, expensive: 0 })
  const current = hourOfSpans(rng, now - HOUR, { drifted: 0.3, expensive: 0.15 })
  const spans = [...reference.spans, ...current.spans]
  let requests = 0
  for (let i = 0; i < spans.length; i += 200) {
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [attr('service.name', DEMO_ENDPOINT), attr('assay.deployment.id', deployment.id)] },
          scopeSpans: [{ scope: { name: 'assay-demo' }, spans: spans.slice(i, i + 200) }],
        },
      ],
    }
    const response = await fetch(options.otlpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
      body: JSON.stringify(body),
    })
    if (!response.ok) throw new Error(`the demo's OTLP export was refused: ${response.status} ${await response.text()}`)
    requests++
  }
  const check = await assay.checkMonitor(monitorFile, { deployment: deployment.id, window: '1h', reference: 'trailing:1h', now: now + 1000 })
  // The monitor file allows no automatic action, so the decision is the newest record.
  const last = await assay.store.lastAuditRecord()
  const record = check.audit !== null && last?.seq === check.audit.seq ? last : null
  return {
    deployment,
    monitorFile,
    sent: { requests, traces: spans.length, drifted: current.drifted, expensive: current.expensive },
    check,
    record,
  }
}
