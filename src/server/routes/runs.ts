import { AssayError, isAssayError } from '../../errors.js'
import type { DatasetVersion, Params } from '../../record/types.js'
import { assertCapturedRecord, assertKey, assertName, assertParams, assertTags } from '../../record/validate.js'
import { encodeMetricChunk } from '../../store/chunk-codec.js'
import { batchFrameEnd, decodeBatchFrame, reviveNumber, type BatchHeader } from '../../store/http/wire.js'
import { type MetricSeries, type NewRun, type RunBatch } from '../../store/store.js'
import { metricBuckets } from '../../report/metric-buckets.js'
import { requireExperiment } from '../auth.js'
import { requireJsonDepth, validate } from '../request-body.js'
import type { RouteSpec } from '../route.js'
import { ROUTES } from '../../store/http/routes.js'
import {
  BatchHeaderSchema,
  plainBatchHeader,
  HeartbeatSchema,
  JsonBatchSchema,
  ListRunsQuery,
  MarkCrashedSchema,
  MetricBucketsQuery,
  MetricQuery,
  NewRunSchema,
  PAGE_PARAMETERS,
  requestedPage,
  ResolveQuery,
  RunChartsQuery,
  RUN_CHARTS_MAX_BUCKETS,
  RunIdParam,
  StatusSchema,
} from '../schemas.js'

export function runRoutes(): RouteSpec[] {
  return [
    {
      method: 'POST',
      url: ROUTES.runs,
      summary: 'create a run (idempotent: the same record sent again is accepted)',
      tag: 'runs',
      scope: 'write',
      touches: 'handler',
      body: { json: NewRunSchema },
      response: { json: '{ id }', status: 201 },
      async handler({ body, caller, state }) {
        const run = body as unknown as NewRun
        requireExperiment(caller, run.experiment)
        assertName(run.experiment, 'experiment name')
        assertName(run.name, 'run name')
        assertName(run.owner, 'owner')
        assertParams(run.params)
        assertTags(run.tags)
        assertCapturedRecord(run)
        try {
          await state.store.createRun(run)
        } catch (error) {
          // A replayed createRun (the remote SDK's spool) finds its run already there.
          const existing = await state.store.getRun(run.id).catch(() => null)
          if (existing === null) throw error
          const same = existing.experiment === run.experiment && existing.name === run.name && existing.startTime === run.startTime && existing.seed === run.seed && existing.owner === run.owner
          if (!same) throw new AssayError('ASSAY_INVALID_ARGUMENT', `run ${run.id} already exists with another record`, { field: 'body.id', runId: run.id })
        }
        state.rememberRun(run.id, run.experiment)
        return { id: run.id }
      },
    },
    {
      method: 'GET',
      url: ROUTES.runs,
      summary: `one page of runs (only the experiments the token may read): ?filter (the run filter grammar, applied by the database; 400 ASSAY_INVALID_FILTER when it does not parse), ?orderBy (start_time, end_time, name, params.KEY or metrics.KEY, then asc or desc; default start_time asc), ${PAGE_PARAMETERS} (the cursor continues the same order)`,
      tag: 'runs',
      scope: 'read',
      touches: 'handler',
      query: ListRunsQuery,
      response: { json: '{ runs: RunSummary[], nextCursor: string | null } (NaN and ±Infinity as strings)' },
      async handler({ query, caller, state }) {
        const experiment = query.experiment as string | undefined
        if (experiment !== undefined) requireExperiment(caller, experiment)
        await state.sweepCrashed()
        // A limited token's experiments go into the query, so its pages are full and no other run is read.
        const experiments = caller.restricted ? (caller.token?.experiments ?? undefined) : undefined
        return state.store.listRunsPage({ experiment, experiments, filter: query.filter as string | undefined, orderBy: query.orderBy as string | undefined, ...requestedPage(query) })
      },
    },
    {
      method: 'GET',
      url: ROUTES.resolveRun,
      summary: 'the full id of a run id or unique prefix (6+ characters)',
      tag: 'runs',
      scope: 'read',
      touches: 'handler',
      query: ResolveQuery,
      response: { json: '{ id }' },
      async handler({ query, caller, state }) {
        const asked = query.id as string
        const id = await state.store.resolveRunId(asked)
        // A run the caller may not read is answered as no run at all, so prefixes do not probe other experiments.
        if (caller.restricted && !caller.allows(await state.runExperiment(id))) throw new AssayError('ASSAY_RUN_NOT_FOUND', `no run has id ${asked}`, { runId: asked })
        return { id }
      },
    },
    {
      method: 'POST',
      url: ROUTES.markCrashed,
      summary: 'mark running runs whose heartbeat is older than staleBefore as crashed (never younger than the server crash timeout); write, all experiments (the server also does this itself before reads)',
      tag: 'runs',
      scope: 'write',
      touches: 'all',
      body: { json: MarkCrashedSchema },
      response: { json: '{ count }' },
      async handler({ body, state }) {
        const asked = (body as { staleBefore: number }).staleBefore
        // crashAfterMs 0 turns the clamp off (the contract suite runs the store's own semantics).
        const staleBefore = state.crashAfterMs > 0 ? Math.min(asked, Date.now() - state.crashAfterMs) : asked
        return { count: await state.store.markCrashedRuns(staleBefore) }
      },
    },
    {
      method: 'GET',
      url: ROUTES.run,
      summary: 'the whole record of a run',
      tag: 'runs',
      scope: 'read',
      touches: 'run',
      params: RunIdParam,
      response: { json: '{ run: RunRecord } (NaN and ±Infinity as strings)' },
      async handler({ params, state }) {
        await state.sweepCrashed()
        const run = await state.store.getRun(params.runId as string)
        state.rememberRun(run.id, run.experiment)
        return { run }
      },
    },
    {
      method: 'POST',
      url: ROUTES.runBatch,
      summary: 'params, tags and metric series of one run in one transaction; a batchId already applied is skipped',
      tag: 'runs',
      scope: 'write',
      touches: 'run',
      params: RunIdParam,
      body: {
        json: JsonBatchSchema,
        binary: 'a binary batch: "ASAB", header length, JSON header { batchId?, params?, tags?, metrics: [{ key, count }] }, then one metric chunk per series (docs/server.md)',
      },
      response: { json: '{ ok: true }' },
      async handler({ params, body, state }) {
        const batch = Buffer.isBuffer(body) ? batchFromFrame(body) : batchFromJson(body as JsonBatch)
        checkBatch(batch)
        await state.store.logBatch(params.runId as string, batch)
        return { ok: true }
      },
    },
    {
      method: 'GET',
      url: ROUTES.runMetrics,
      summary: 'every point of one metric as one metric chunk (float64 steps, values, timestamps)',
      tag: 'runs',
      scope: 'read',
      touches: 'run',
      params: RunIdParam,
      query: MetricQuery,
      response: { binary: 'a metric chunk of the chunk codec (src/store/chunk-codec.ts)' },
      async handler({ params, query, state }) {
        return encodeMetricChunk(await state.store.metricHistory(params.runId as string, query.key as string))
      },
    },
    {
      method: 'GET',
      url: ROUTES.runMetricBuckets,
      summary: 'one metric as at most ?buckets (default 1000) buckets of consecutive points, each with its first step, min and max: a chart of any length that keeps its spikes',
      tag: 'runs',
      scope: 'read',
      touches: 'run',
      params: RunIdParam,
      query: MetricBucketsQuery,
      response: { json: '{ key, points, steps, min, max, counts, nonFinite }' },
      async handler({ params, query, state }) {
        const series = await state.store.metricStepsValues(params.runId as string, query.key as string)
        return { key: query.key, ...metricBuckets(series.steps, series.values, query.buckets as number) }
      },
    },
    {
      method: 'GET',
      url: ROUTES.runCharts,
      summary: "every metric of a run as ?buckets (default 300) buckets, in the run record's metric order: the UI's run page asks for its charts in one request, alongside the run",
      tag: 'runs',
      scope: 'read',
      touches: 'run',
      params: RunIdParam,
      query: RunChartsQuery,
      response: { json: '{ charts: [{ key, points, steps, min, max, counts, nonFinite }] }' },
      async handler({ params, query, state }) {
        const runId = params.runId as string
        const charts = []
        const { metrics } = await state.store.getRun(runId)
        const buckets = query.buckets as number
        if (metrics.length * buckets > RUN_CHARTS_MAX_BUCKETS) {
          throw new AssayError(
            'ASSAY_INVALID_ARGUMENT',
            `query.buckets: ${metrics.length} metrics × ${buckets} buckets is over ${RUN_CHARTS_MAX_BUCKETS} in one answer; ask for at most ${Math.max(1, Math.floor(RUN_CHARTS_MAX_BUCKETS / metrics.length))} buckets, or per metric (GET /api/v1/runs/:runId/metrics/buckets)`,
            { field: 'query.buckets' },
          )
        }
        for (const { key } of metrics) {
          const series = await state.store.metricStepsValues(runId, key)
          charts.push({ key, ...metricBuckets(series.steps, series.values, query.buckets as number) })
        }
        return { charts }
      },
    },
    {
      method: 'POST',
      url: ROUTES.runStatus,
      summary: 'end a run (the same final status sent again is accepted)',
      tag: 'runs',
      scope: 'write',
      touches: 'run',
      params: RunIdParam,
      body: { json: StatusSchema },
      response: { json: '{ ok: true }' },
      async handler({ params, body, state }) {
        const { status, endTime } = body as { status: 'finished' | 'failed' | 'killed' | 'crashed'; endTime: number }
        const runId = params.runId as string
        try {
          await state.store.setRunStatus(runId, status, endTime)
        } catch (error) {
          if (!isAssayError(error, 'ASSAY_RUN_NOT_ACTIVE')) throw error
          // A replay of an end that was applied (the response was lost): accept it once more.
          if ((await state.store.getRun(runId)).status !== status) throw error
        }
        return { ok: true }
      },
    },
    {
      method: 'POST',
      url: ROUTES.runHeartbeat,
      summary: 'refresh the heartbeat of a running run',
      tag: 'runs',
      scope: 'write',
      touches: 'run',
      params: RunIdParam,
      body: { json: HeartbeatSchema },
      response: { json: '{ ok: true }' },
      async handler({ params, body, state }) {
        await state.store.heartbeat(params.runId as string, (body as { at: number }).at)
        return { ok: true }
      },
    },
  ]
}

interface JsonBatch {
  batchId?: string
  params?: Params
  tags?: Record<string, string>
  datasets?: DatasetVersion[]
  metrics?: { key: string; steps: (number | string)[]; values: (number | string)[]; timestamps: (number | string)[] }[]
}

function batchFromJson(json: JsonBatch): RunBatch {
  const batch: RunBatch = { batchId: json.batchId, params: json.params, tags: json.tags, datasets: json.datasets }
  if (json.metrics) {
    batch.metrics = json.metrics.map((m, i) => {
      if (m.steps.length !== m.values.length || m.timestamps.length !== m.values.length) {
        throw new AssayError('ASSAY_INVALID_ARGUMENT', `body.metrics.${i}: steps, values and timestamps must have the same length`, { field: `body.metrics.${i}` })
      }
      return { key: m.key, steps: Float64Array.from(m.steps, reviveNumber), values: Float64Array.from(m.values, reviveNumber), timestamps: Float64Array.from(m.timestamps, reviveNumber) }
    })
  }
  return batch
}

function batchFromFrame(body: Buffer): RunBatch {
  // The series are read in place (views, stored as the chunks they arrived as), which needs the
  // body to start at a multiple of 8; a body read in one piece off the socket may not: one copy.
  const bytes = body.byteOffset % 8 === 0 ? body : Buffer.from(body)
  // The JSON header (bytes 8 to 8 + its length) is held to the nesting limit before it is parsed.
  if (bytes.length >= 8) requireJsonDepth(bytes.toString('utf8', 8, Math.min(bytes.length, 8 + bytes.readUInt32LE(4))), 'the header of the binary batch')
  const frame = decodeBatchFrame(bytes)
  const header = (plainBatchHeader(frame.header) ?? validate(BatchHeaderSchema, frame.header, 'body')) as unknown as BatchHeader
  const metrics: MetricSeries[] = header.metrics.map((m, i) => ({ key: m.key, ...frame.series(m.count, i) }))
  if (batchFrameEnd(bytes, header) !== bytes.length) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'the binary batch has bytes after its last metric chunk', { field: 'body' })
  return { batchId: header.batchId, params: header.params, tags: header.tags, datasets: header.datasets, metrics }
}

/** What the SDK checks before sending, checked again: the server trusts no client (also for the MLflow routes' batches). */
export function checkBatch(batch: RunBatch): void {
  if (batch.params !== undefined) assertParams(batch.params)
  if (batch.tags !== undefined) assertTags(batch.tags)
  for (const [i, s] of (batch.metrics ?? []).entries()) {
    assertKey(s.key, `metric key (metrics.${i}.key)`)
    for (let j = 0; j < s.steps.length; j++) {
      if (!Number.isSafeInteger(s.steps[j])) throw new AssayError('ASSAY_INVALID_ARGUMENT', `metrics.${i}.steps.${j}: a step must be a safe integer, got ${s.steps[j]}`, { field: `metrics.${i}.steps.${j}` })
      if (!Number.isFinite(s.timestamps[j])) throw new AssayError('ASSAY_INVALID_ARGUMENT', `metrics.${i}.timestamps.${j}: a timestamp must be finite, got ${s.timestamps[j]}`, { field: `metrics.${i}.timestamps.${j}` })
    }
  }
}
