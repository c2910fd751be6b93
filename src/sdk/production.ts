import { randomBytes, randomUUID } from 'node:crypto'
import { AssayError } from '../errors.js'
import { versionDataset, type DatasetInput } from '../record/datasets.js'
import type { Deployment, Feedback, NewDeployment, TraceInput, TraceSpan } from '../record/production.js'
import type { DatasetVersion } from '../record/types.js'
import type { LogTracesResult, Store } from '../store/store.js'

/** What `assay.deploy` takes (docs/production.md). */
export interface DeployInput {
  endpoint: string
  /** The endpoint's version. */
  version: string
  model?: string
  /** The model version served; or `alias`, resolved to its holder by the store (both recorded). */
  modelVersion?: number
  alias?: string
  /** Hash of the serving code (a git commit or a content hash). */
  code?: string
  /** Input datasets: paths to hash (as a run's datasets are) or dataset versions already hashed. */
  inputs?: (DatasetInput | DatasetVersion)[]
  /** Default 'production'. */
  environment?: string
  owner?: string
  /** Default: a new id. Give one to make a retried deploy idempotent. */
  id?: string
}

export async function deploy(store: Store, input: DeployInput): Promise<Deployment> {
  if (input === null || typeof input !== 'object') throw new AssayError('ASSAY_INVALID_ARGUMENT', 'deploy takes { endpoint, version, model, modelVersion | alias, code, inputs, owner }')
  const inputs: DatasetVersion[] = []
  for (const item of input.inputs ?? []) inputs.push('sha256' in item ? item : await versionDataset(item))
  const deployment: NewDeployment = {
    id: input.id ?? randomUUID().replaceAll('-', ''),
    endpoint: input.endpoint,
    endpointVersion: input.version,
    model: input.model ?? null,
    modelVersion: input.modelVersion ?? null,
    alias: input.alias ?? null,
    codeHash: input.code ?? null,
    inputs,
    environment: input.environment ?? 'production',
    owner: input.owner ?? null,
    createdAt: Date.now(),
  }
  return store.createDeployment(deployment)
}

/** A span as the SDK takes it: what OTLP would carry, with defaults for what is optional. */
export type SpanInput = Pick<TraceSpan, 'name' | 'startTime' | 'endTime'> & Partial<Omit<TraceSpan, 'name' | 'startTime' | 'endTime'>>

export interface TraceLogInput {
  /** Default: a new id. */
  traceId?: string
  deploymentId: string
  spans: SpanInput[]
}

/**
 * Log traces without OpenTelemetry (offline through the spool over HTTP). Traces the store
 * rejects are reported by throwing the first rejection's code after the others were stored
 * (details list every rejection); the result names what was stored.
 */
export async function logTraces(store: Store, traces: readonly TraceLogInput[]): Promise<LogTracesResult> {
  if (!Array.isArray(traces)) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'logTraces takes an array of { deploymentId, spans }')
  const inputs: TraceInput[] = traces.map((t) => ({
    traceId: t?.traceId ?? randomBytes(16).toString('hex'),
    deploymentId: t?.deploymentId,
    // Keys in sorted order, as the store's canonical JSON of the span has them (no copy needed there).
    spans: (Array.isArray(t?.spans) ? t.spans : []).map((s: SpanInput): TraceSpan => ({
      attributes: s.attributes ?? {},
      droppedEvents: s.droppedEvents ?? 0,
      endTime: s.endTime,
      events: s.events ?? [],
      kind: s.kind ?? 'internal',
      name: s.name,
      parentSpanId: s.parentSpanId ?? null,
      resource: s.resource ?? {},
      spanId: s.spanId ?? randomBytes(8).toString('hex'),
      startTime: s.startTime,
      status: s.status ?? 'unset',
      statusMessage: s.statusMessage ?? null,
    })),
  }))
  const result = await store.logTraces(inputs)
  if (result.rejected.length > 0) {
    const first = result.rejected[0]
    throw new AssayError(first.code as 'ASSAY_INVALID_TRACE', `${result.rejected.length} of ${inputs.length} traces were rejected (the others were stored); first: ${first.message}`, { ...result })
  }
  return result
}

export interface FeedbackInput {
  name: string
  value: number
  source: string
  /** Default: now. */
  at?: number
  /** Default: a new id. Give one to make a retried call idempotent. */
  id?: string
}

export async function addFeedback(store: Store, traceId: string, input: FeedbackInput): Promise<Feedback> {
  if (input === null || typeof input !== 'object') throw new AssayError('ASSAY_INVALID_ARGUMENT', 'feedback takes (traceId, { name, value, source })')
  const feedback: Feedback = { id: input.id ?? randomUUID(), traceId, name: input.name, value: input.value, source: input.source, at: input.at ?? Date.now() }
  await store.addFeedback(feedback)
  return feedback
}
