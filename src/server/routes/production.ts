import { AssayError } from '../../errors.js'
import type { Deployment, Feedback, NewDeployment, TraceInput } from '../../record/production.js'
import { ROUTES } from '../../store/http/routes.js'
import { PAGE_SIZE, type LogTracesResult, type TraceRowPageQuery } from '../../store/store.js'
import type { PreparedTraces, PreparedTraceWriter } from '../../store/trace-write.js'
import { requireExperiment, timeOf, type Caller } from '../auth.js'
import type { RouteSpec, ServerState } from '../route.js'
import { DeploymentIdParam, DeploymentsQuery, FeedbackSchema, LogTracesSchema, NewDeploymentSchema, TraceIdParam, TraceRowsQuery, TracesQuery } from '../schemas.js'

/**
 * Deployments, traces and feedback (docs/production.md). A deployment belongs to the experiment
 * of the run behind its model version: a token limited to experiments reads and writes the
 * deployments of its experiments and their traces; deployments with no model version (no
 * experiment) and creating deployments need a token valid for all experiments.
 */
export function productionRoutes(): RouteSpec[] {
  return [
    {
      method: 'POST',
      url: ROUTES.deployments,
      summary: 'store a deployment (its alias resolved, missing audit fields flagged); a stored id returns the stored deployment',
      tag: 'production',
      scope: 'write',
      touches: 'all',
      body: { json: NewDeploymentSchema },
      response: { json: '{ deployment: Deployment }', status: 201 },
      async handler({ body, state }) {
        return { deployment: await state.store.createDeployment(body as unknown as NewDeployment) }
      },
    },
    {
      method: 'GET',
      url: ROUTES.deployments,
      summary: 'one page of deployments, oldest first (of one endpoint, or fed by one dataset version)',
      tag: 'production',
      scope: 'read',
      touches: 'handler',
      query: DeploymentsQuery,
      response: { json: '{ deployments: Deployment[], nextCursor: string | null }' },
      async handler({ query, caller, state }) {
        const experiments = caller.restricted ? [...((caller.token?.experiments as string[] | null) ?? [])] : undefined
        return state.store.listDeploymentsPage({ ...(query as { limit: number; cursor?: string; endpoint?: string; input?: string }), limit: (query.limit as number | undefined) ?? PAGE_SIZE.default, experiments })
      },
    },
    {
      method: 'GET',
      url: ROUTES.deployment,
      summary: 'one deployment',
      tag: 'production',
      scope: 'read',
      touches: 'handler',
      params: DeploymentIdParam,
      response: { json: '{ deployment: Deployment }' },
      async handler({ params, caller, state }) {
        return { deployment: await visibleDeployment(state, caller, params.id as string) }
      },
    },
    {
      method: 'POST',
      url: ROUTES.traces,
      summary: 'log traces (whole, or some spans of each); a bad trace is rejected whole and the others stored',
      tag: 'production',
      scope: 'write',
      touches: 'handler',
      body: { json: LogTracesSchema },
      response: { json: 'LogTracesResult' },
      async handler({ body, caller, state }) {
        return logTracesAs(state, caller, (body as { traces: TraceInput[] }).traces)
      },
    },
    {
      method: 'GET',
      url: ROUTES.traces,
      summary: 'one page of trace summaries by start time (of one deployment, in a time window, passing ?filter: the trace filter grammar)',
      tag: 'production',
      scope: 'read',
      touches: 'handler',
      query: TracesQuery,
      response: { json: '{ traces: TraceSummary[], nextCursor: string | null }' },
      async handler({ query, caller, state }) {
        await requireDeploymentFor(state, caller, query.deployment as string | undefined)
        return state.store.tracesPage({ ...query, limit: (query.limit as number | undefined) ?? PAGE_SIZE.default })
      },
    },
    {
      method: 'GET',
      url: ROUTES.traceEvalRecords,
      summary: 'the page of GET /api/v1/traces as eval records (id, cluster, scores, latency, tokens, cost, output hash)',
      tag: 'production',
      scope: 'read',
      touches: 'handler',
      query: TracesQuery,
      response: { json: '{ records: EvalRecord[], nextCursor: string | null }' },
      async handler({ query, caller, state }) {
        await requireDeploymentFor(state, caller, query.deployment as string | undefined)
        return state.store.traceEvalRecordsPage({ ...query, limit: (query.limit as number | undefined) ?? PAGE_SIZE.default })
      },
    },
    {
      method: 'GET',
      url: ROUTES.traceRows,
      summary: "one page of a deployment's traces in [from, to) as monitor rows (latest feedback joined): ?deployment, ?from, ?to (ms), ?limit (default 5000, at most 10000), ?cursor",
      tag: 'production',
      scope: 'read',
      touches: 'handler',
      query: TraceRowsQuery,
      response: { json: '{ rows: TraceRow[], nextCursor: string | null }' },
      async handler({ query, caller, state }) {
        await requireDeploymentFor(state, caller, query.deployment as string)
        return state.store.traceRowsPage(query as unknown as TraceRowPageQuery)
      },
    },
    {
      method: 'GET',
      url: ROUTES.trace,
      summary: 'one trace with its spans and feedback',
      tag: 'production',
      scope: 'read',
      touches: 'handler',
      params: TraceIdParam,
      response: { json: '{ trace: Trace }' },
      async handler({ params, caller, state }) {
        const trace = await state.store.getTrace(params.traceId as string)
        await visibleDeployment(state, caller, trace.deploymentId)
        return { trace }
      },
    },
    {
      method: 'POST',
      url: ROUTES.feedback,
      summary: 'attach feedback to a stored trace (a stored feedback id is not added again)',
      tag: 'production',
      scope: 'write',
      touches: 'handler',
      body: { json: FeedbackSchema },
      response: { json: '{ ok: true }', status: 201 },
      async handler({ body, caller, state }) {
        const feedback = body as unknown as Feedback
        if (caller.restricted) await visibleDeployment(state, caller, (await state.store.getTrace(feedback.traceId)).deploymentId)
        await state.store.addFeedback({ ...feedback, at: timeOf(caller, feedback.at) })
        return { ok: true }
      },
    },
  ]
}

/** The deployment, if the caller may see it: its experiment for limited tokens (none: unrestricted only). */
export async function visibleDeployment(state: ServerState, caller: Caller, id: string): Promise<Deployment> {
  const deployment = await state.store.getDeployment(id)
  if (caller.restricted) {
    if (deployment.experiment === null) throw new AssayError('ASSAY_FORBIDDEN', `deployment ${id} has no model version, so no experiment: only a token valid for all experiments may touch it`, { tokenId: caller.token?.id })
    requireExperiment(caller, deployment.experiment)
  }
  return deployment
}

async function requireDeploymentFor(state: ServerState, caller: Caller, deployment: string | undefined): Promise<void> {
  if (!caller.restricted) return
  if (deployment === undefined) throw new AssayError('ASSAY_FORBIDDEN', 'a token limited to experiments must name the deployment (?deployment=)', { tokenId: caller.token?.id })
  await visibleDeployment(state, caller, deployment)
}

/** logTraces, with the traces of deployments a limited token may not touch rejected (ASSAY_FORBIDDEN). */
export async function logTracesAs(state: ServerState, caller: Caller, traces: readonly TraceInput[]): Promise<LogTracesResult> {
  if (!caller.restricted) return state.store.logTraces(traces)
  const { allowed, forbidden } = await sortByDeployment(state, caller, traces, (trace) => (Array.isArray(trace?.spans) ? trace.spans.length : 0))
  const result = await state.store.logTraces(allowed)
  return { ...result, rejected: [...forbidden, ...result.rejected] }
}

/**
 * logPreparedTraces (the OTLP route's prepared traces), with the rejections logTracesAs gives: of
 * a limited token, traces of deployments it may not touch are ASSAY_FORBIDDEN first, whether or
 * not they passed their checks, then the checks' and the write's rejections of the others.
 */
export async function logPreparedTracesAs(state: ServerState, caller: Caller, writer: PreparedTraceWriter, batch: PreparedTraces): Promise<LogTracesResult> {
  if (!caller.restricted) return writer.logPreparedTraces(batch)
  const { allowed, forbidden } = await sortByDeployment(state, caller, batch.traces, (trace) => trace.spanCount)
  const refused = await sortByDeployment(state, caller, batch.rejected.filter((r) => r.deploymentId !== undefined), (r) => r.spans)
  const stillRejected = batch.rejected.filter((r) => r.deploymentId === undefined || refused.allowed.includes(r))
  const result = await writer.logPreparedTraces({ traces: allowed, rejected: stillRejected })
  return { ...result, rejected: [...forbidden, ...refused.forbidden, ...result.rejected] }
}

/** Traces of deployments the caller may touch, and the others as ASSAY_FORBIDDEN rejections; each deployment is looked up once. */
async function sortByDeployment<T extends { traceId: unknown; deploymentId?: unknown }>(state: ServerState, caller: Caller, traces: readonly T[], spans: (trace: T) => number): Promise<{ allowed: T[]; forbidden: LogTracesResult['rejected'] }> {
  const allowed: T[] = []
  const forbidden: LogTracesResult['rejected'] = []
  const verdicts = new Map<string, boolean>()
  for (const trace of traces) {
    const id = String((trace as { deploymentId?: unknown })?.deploymentId)
    if (!verdicts.has(id)) {
      verdicts.set(id, await visibleDeployment(state, caller, id).then(() => true, () => false))
    }
    if (verdicts.get(id) === true) allowed.push(trace)
    else forbidden.push({ traceId: String(trace?.traceId), spans: spans(trace), code: 'ASSAY_FORBIDDEN', message: `token ${caller.token?.name} may not log traces to deployment ${id}` })
  }
  return { allowed, forbidden }
}
