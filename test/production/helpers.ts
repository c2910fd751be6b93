import { randomBytes } from 'node:crypto'
import type { Deployment, NewDeployment, TraceInput, TraceSpan } from '../../src/record/production.js'
import type { JsonValue } from '../../src/record/types.js'
import type { Store } from '../../src/store/store.js'
import { newRun } from '../store/fixtures.js'

export const hex = (bytes: number): string => randomBytes(bytes).toString('hex')

export function newDeployment(overrides: Partial<NewDeployment> = {}): NewDeployment {
  return {
    id: hex(16),
    endpoint: 'chat',
    endpointVersion: 'v1',
    model: null,
    modelVersion: null,
    alias: null,
    codeHash: 'a'.repeat(40),
    inputs: [{ name: 'features', role: 'other', sha256: 'f'.repeat(64), kind: 'file', sizeBytes: 10, fileCount: 1, rows: null, columns: null, source: 's3://bucket/features' }],
    environment: 'production',
    owner: 'alice',
    createdAt: 1_700_000_000_000,
    ...overrides,
  }
}

export function span(overrides: Partial<TraceSpan> & { attributes?: Record<string, JsonValue> } = {}): TraceSpan {
  return {
    spanId: hex(8),
    parentSpanId: null,
    name: 'chat',
    kind: 'client',
    startTime: 1_700_000_001_000,
    endTime: 1_700_000_001_250,
    status: 'ok',
    statusMessage: null,
    attributes: {},
    events: [],
    droppedEvents: 0,
    resource: {},
    ...overrides,
  }
}

/** A root span and an LLM call under it, with GenAI and assay attributes. */
export function llmTrace(deploymentId: string, start = 1_700_000_001_000): TraceInput {
  const root = span({ name: 'answer', kind: 'server', startTime: start, endTime: start + 400, attributes: { 'gen_ai.conversation.id': 'conv-1', 'assay.prompt.name': 'qa', 'assay.prompt.version': 3 } })
  const call = span({
    parentSpanId: root.spanId,
    name: 'chat gpt',
    startTime: start + 50,
    endTime: start + 350,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-x',
      'gen_ai.usage.input_tokens': 120,
      'gen_ai.usage.output_tokens': 30,
      'assay.cost.usd': 0.002,
      'assay.guardrail.action': 'none',
      'assay.guardrail.outcome': 'pass',
      'assay.output.hash': 'sha256:abc',
    },
  })
  const retrieval = span({ parentSpanId: root.spanId, name: 'retrieve', kind: 'internal', startTime: start + 10, endTime: start + 40, attributes: { 'assay.retrieval.index_version': 'idx-7', 'assay.cost.usd': 0.001 } })
  return { traceId: hex(16), deploymentId, spans: [root, call, retrieval] }
}

/**
 * The two deployments of the token-scoping tests: `served`, of model m version 1 made from a run
 * of experiment qa (so it belongs to qa), and `orphan`, with no model version (so only tokens
 * valid for all experiments reach it).
 */
export async function scopedDeployments(store: Store): Promise<{ served: Deployment; orphan: Deployment }> {
  const run = newRun({ experiment: 'qa' })
  await store.createRun(run)
  await store.createModel({ name: 'm', owner: 'a', description: '', tags: {}, createdAt: 1, createdBy: 'a' })
  await store.addModelVersion({ model: 'm', runId: run.id, artifact: null, description: '', tags: {}, createdAt: 2, createdBy: 'a' })
  const served = await store.createDeployment(newDeployment({ model: 'm', modelVersion: 1 }))
  const orphan = await store.createDeployment(newDeployment())
  return { served, orphan }
}
