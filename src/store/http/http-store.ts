import { constants as bufferConstants } from 'node:buffer'
import { createHash, randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import { assayCommandName } from '../../command-name.js'
import { AssayError, isAssayError } from '../../errors.js'
import { shellQuote } from '../../record/replay-plan.js'
import type {
  AliasEvent,
  ApiToken,
  AuditRecord,
  GatePolicy,
  ModelVersion,
  RegisteredModel,
  ArtifactDirection,
  ArtifactRef,
  EvalColumns,
  ExperimentSummary,
  HoldoutRead,
  RunRecord,
  RunStatus,
  RunSummary,
} from '../../record/types.js'
import { decodeEvalChunk, decodeMetricChunk, encodeEvalChunk, joinEvalChunks, type EvalChunk, type MetricColumns, type MetricStepsValues } from '../chunk-codec.js'
import { allPages, pageLimit } from '../pages.js'
import { verifiedStream } from '../blob-store.js'
import {
  PAGE_SIZE,
  type AliasEventPage,
  type AliasEventPageQuery,
  type ApiTokenPage,
  type ArtifactContent,
  type ArtifactReadStream,
  type AuditPage,
  type DeploymentPage,
  type DeploymentPageQuery,
  type ExperimentPage,
  type ExperimentPageQuery,
  type GatePolicyPage,
  type GatePolicyPageQuery,
  type HoldoutReadPage,
  type HoldoutReadPageQuery,
  type LineagePage,
  type DatasetRunsPage,
  type DatasetRunsPageQuery,
  type LineagePageQuery,
  type LogTracesResult,
  type ModelPage,
  type ModelVersionPage,
  type ModelVersionPageQuery,
  type NewGatePolicy,
  type NewRun,
  type PageQuery,
  type RunBatch,
  type RunPage,
  type RunPageQuery,
  type RunGroupPage,
  type RunGroupPageQuery,
  type RunQuery,
  type Store,
  type StoreCapabilities,
  type TraceEvalRecordPage,
  type TraceRowPage,
  type TraceRowPageQuery,
  type TraceColumnsQuery,
  TRACE_ROW_PAGE_SIZE,
  type TracePage,
  type TracePageQuery,
} from '../store.js'
import { groupRunsFromPages } from '../run-grouping.js'
import { HttpTransport } from './http-transport.js'
import { ROUTES, routePath } from './routes.js'
import { defaultSpoolRoot, Spool, type SpoolEntry } from './spool.js'
import { encodeBatchFrame, reviveNumber } from './wire.js'
import { TraceColumnsBuilder, type TraceColumns } from '../../record/trace-columns.js'
import { missingAuditFields, type Deployment, type Feedback, type NewDeployment, type Trace, type TraceInput } from '../../record/production.js'

export interface HttpStoreOptions {
  /** API token (assay_…); default ASSAY_TOKEN. */
  token?: string
  /** Root of the write-ahead spool; default ASSAY_SPOOL_DIR, $ASSAY_HOME/spool, ~/.assay/spool. */
  spoolDir?: string
  /** Per-request timeout; default ASSAY_HTTP_TIMEOUT_MS or 30 s. */
  timeoutMs?: number
  /**
   * Where the spool's notices go (writes started spooling; writes still spooled when the process
   * ends), one message per call without a trailing newline. Default: a line on stderr.
   */
  warn?: WarningSink
}

export type WarningSink = (message: string) => void

/** Stores with an announced spool, told at process exit to say what is left (one listener for all of them). */
const SPOOLING = new Set<HttpStore>()
let exitHooked = false

function untilExit(store: HttpStore): void {
  SPOOLING.add(store)
  if (exitHooked) return
  exitHooked = true
  process.on('exit', () => {
    for (const spooling of [...SPOOLING]) spooling.announceLeftover()
  })
}

/** The SDK's one place that prints by default (docs/server.md, "The spool"). */
const STDERR_SINK: WarningSink = (message) => {
  process.stderr.write(`${message}\n`)
}

const MAX_BACKOFF_MS = 30_000
/** Prefix of the holdout-ledger ids this client makes for entries given without one. */
const GENERATED_HOLDOUT_ID = 'assay-http:'

/**
 * The store contract over HTTP, against `assay server` (docs/server.md). Metric batches and
 * eval chunks travel as the chunk codec's bytes; artifacts stream, with their sha256 checked by
 * the server on arrival and by this client on download. When the server cannot be reached
 * (connection refused or reset, timeout, 502/503/504), writes go to a local write-ahead spool and
 * succeed; the next successful call and `assay sync` replay it. Reads fail with
 * ASSAY_STORE_UNAVAILABLE.
 */
export class HttpStore implements Store {
  readonly kind = 'http'
  readonly location: string
  private readonly http: HttpTransport
  readonly spool: Spool
  readonly capabilities: StoreCapabilities
  private lock: Promise<unknown> = Promise.resolve()
  private retryAt = 0
  private failures = 0
  private readonly warn: WarningSink
  /** Whether this spooling episode (from the first spooled write until the spool is empty again) was announced. */
  private spoolingAnnounced = false

  constructor(url: string, options: HttpStoreOptions = {}) {
    this.http = new HttpTransport(url, options)
    this.location = this.http.base
    this.spool = new Spool(options.spoolDir ?? defaultSpoolRoot(), this.http.base, this.http.credentialKey)
    this.warn = options.warn ?? STDERR_SINK
    this.capabilities = {
      // What one Buffer holds; the server refuses (413) what its own store cannot keep.
      maxArtifactBytes: bufferConstants.MAX_LENGTH,
      localDirectory: null,
      spool: { dir: this.spool.dir, sync: () => this.sync() },
      server: {
        url: this.http.base,
        // Replay the spool first: the server must have seen every write before it decides.
        call: async <T>(method: 'GET' | 'POST', path: string, body?: unknown) => {
          await this.beforeRead()
          return this.http.json<T>(method, path, body === undefined ? {} : { json: body })
        },
      },
    }
  }

  static async open(url: string, options: HttpStoreOptions = {}): Promise<HttpStore> {
    return new HttpStore(url, options)
  }

  // ---- the spool --------------------------------------------------------------------------

  private locked<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.lock.then(fn)
    this.lock = result.catch(() => undefined)
    return result
  }

  /**
   * A write: straight to the server when nothing is spooled; else (and when the server cannot
   * be reached) through the spool, so the server sees every write in order.
   */
  private async write<T>(entry: () => SpoolEntry, direct: () => Promise<T>, local: () => T): Promise<T> {
    if (this.spool.pending > 0) {
      const spooled = await this.locked(async () => {
        if (this.spool.pending > 0 && Date.now() >= this.retryAt) await this.drainOwn().catch((e: unknown) => this.unlessUnavailable(e))
        if (this.spool.pending === 0) return false
        this.spool.append(entry())
        return true
      })
      if (spooled) return local()
    }
    try {
      const result = await direct()
      this.failures = 0
      return result
    } catch (error) {
      this.unlessUnavailable(error)
      await this.locked(() => this.spool.append(entry()))
      this.announceSpooling(error)
      return local()
    }
  }

  /** Once per spooling episode: the server is unreachable, how much is pending, and how to upload it. */
  private announceSpooling(cause: unknown): void {
    if (this.spoolingAnnounced) return
    this.spoolingAnnounced = true
    untilExit(this)
    const why = (cause as { message?: string }).message ?? String(cause)
    this.warn(
      `assay: ${why}; writes are spooled in ${this.spool.dir} and uploaded when it answers again ` +
        `(${this.spool.pending} pending). If this process ends first, upload them with: ${this.syncCommand()}`,
    )
  }

  /** At close or process exit: the writes that never reached the server, and the command that uploads them. */
  announceLeftover(): void {
    SPOOLING.delete(this)
    const pending = this.spool.pending
    if (pending === 0) return
    this.warn(
      `assay: ${pending} ${pending === 1 ? 'write is' : 'writes are'} still spooled in ${this.spool.file} (the server at ${this.location} ` +
        `could not be reached); runs whose end is among them still show as running there. Upload them with: ${this.syncCommand()}`,
    )
  }

  /** `assay sync` for this server and spool, as a user would type it (the token comes from ASSAY_TOKEN). */
  private syncCommand(): string {
    const root = path.dirname(this.spool.dir)
    const spoolDir = root === defaultSpoolRoot({}) ? '' : `ASSAY_SPOOL_DIR=${shellQuote(root)} `
    return `${spoolDir}${assayCommandName()} --store ${shellQuote(this.location)} sync`
  }


  /** Rethrow anything but "the server cannot be reached" (which starts a backoff). */
  private unlessUnavailable(error: unknown): void {
    if (!isRetryable(error)) throw error
    this.failures++
    this.retryAt = Date.now() + Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(this.failures, 10))
  }

  /** Before a read: replay what is spooled, or fail (the read would not see it). */
  private async beforeRead(): Promise<void> {
    if (this.spool.pending === 0) return
    await this.locked(async () => {
      if (this.spool.pending > 0) await this.drainOwn()
    })
  }

  /** Replay this process's spool in order; stops (and keeps the rest) when the server is unreachable. Call under the lock. */
  private async drainOwn(): Promise<{ replayed: number; rejected: number }> {
    const entries = this.spool.ownEntries()
    const result = await this.replay(entries, this.spool.file)
    this.spool.keepOwn(result.remaining)
    this.spool.collectBlobs()
    if (result.firstRejection !== undefined) this.announceRejected(result.rejected, result.firstRejection)
    if (this.spool.pending === 0) this.endSpoolingEpisode()
    if (result.error !== undefined) throw result.error
    this.failures = 0
    return { replayed: result.replayed, rejected: result.rejected }
  }

  private async replay(
    entries: SpoolEntry[],
    file: string,
  ): Promise<{ replayed: number; rejected: number; remaining: SpoolEntry[]; error?: unknown; firstRejection?: unknown }> {
    let replayed = 0
    let rejected = 0
    let firstRejection: unknown
    for (let i = 0; i < entries.length; i++) {
      try {
        await this.send(entries[i])
        replayed++
      } catch (error) {
        if (isRetryable(error)) return { replayed, rejected, remaining: entries.slice(i), error, firstRejection }
        // The server refused this write for good (e.g. the run was marked crashed meanwhile):
        // keep it beside the spool for inspection and go on.
        this.spool.reject(file, entries[i], error)
        rejected++
        firstRejection ??= error
      }
    }
    return { replayed, rejected, remaining: [], firstRejection }
  }

  /** Spooled writes the server refused for good are lost to the run: never silently. */
  private announceRejected(count: number, first: unknown): void {
    const e = first as { code?: string; message?: string }
    this.warn(
      `assay: the server at ${this.location} refused ${count} spooled ${count === 1 ? 'write' : 'writes'} (${e.code ?? 'error'}: ${e.message ?? String(first)}); ` +
        `${count === 1 ? 'it is' : 'they are'} kept in ${this.spool.file.replace(/\.wal$/, '')}.rejected`,
    )
  }

  /**
   * `assay sync`: replay this process's spool and those left by processes that have exited.
   * Files of processes still running are theirs to replay.
   */
  async sync(): Promise<{ replayed: number; rejected: number; remaining: number; liveFiles: number }> {
    return this.locked(async () => {
      let replayed = 0
      let rejected = 0
      let remaining = 0
      let firstError: unknown
      if (this.spool.pending > 0) {
        try {
          const own = await this.drainOwn()
          replayed += own.replayed
          rejected += own.rejected
        } catch (error) {
          firstError ??= error
        }
        remaining += this.spool.pending
      }
      const { files, live } = this.spool.claimOrphans()
      for (const file of files) {
        const entries = this.spool.readFile(file)
        const result = firstError === undefined ? await this.replay(entries, file) : { replayed: 0, rejected: 0, remaining: entries, error: firstError }
        this.spool.settleFile(file, result.remaining)
        replayed += result.replayed
        rejected += result.rejected
        remaining += result.remaining.length
        firstError ??= result.error
      }
      this.spool.collectBlobs()
      if (firstError !== undefined) throw firstError
      return { replayed, rejected, remaining, liveFiles: live }
    })
  }

  private async send(entry: SpoolEntry): Promise<void> {
    switch (entry.op) {
      case 'createRun':
        await this.http.request('POST', ROUTES.runs, { json: entry.run })
        return
      case 'logBatch':
        await this.http.request('POST', routePath(ROUTES.runBatch, { runId: entry.runId }), { bytes: Buffer.from(entry.frame, 'base64') })
        return
      case 'logEval':
        await this.http.request('POST', routePath(ROUTES.runEvals, { runId: entry.runId }), {
          query: { dataset: entry.dataset, datasetSha256: entry.datasetSha256, batchId: entry.batchId },
          bytes: Buffer.from(entry.chunk, 'base64'),
        })
        return
      case 'setRunStatus':
        await this.http.request('POST', routePath(ROUTES.runStatus, { runId: entry.runId }), { json: { status: entry.status, endTime: entry.endTime } })
        return
      case 'putArtifact':
        if (entry.blob) await this.upload(entry.runId, entry.name, entry.direction, entry.sha256, () => createReadStream(this.spool.blobPath(entry.sha256)))
        else await this.http.request('POST', routePath(ROUTES.runArtifactBySha256, { runId: entry.runId }), { json: { name: entry.name, sha256: entry.sha256, direction: entry.direction } })
        return
      case 'recordHoldoutRead':
        await this.http.request('POST', ROUTES.holdoutReads, { json: entry.read })
        return
      case 'createDeployment':
        await this.http.request('POST', ROUTES.deployments, { json: entry.deployment })
        return
      case 'logTraces': {
        // A trace the server refuses is kept beside the spool, as any refused write is.
        const result = await this.http.json<LogTracesResult>('POST', ROUTES.traces, { json: { traces: entry.traces } })
        if (result.rejected.length > 0) throw rejectedTraces(result)
        return
      }
      case 'addFeedback':
        await this.http.request('POST', ROUTES.feedback, { json: entry.feedback })
        return
    }
  }

  private async upload(runId: string, name: string, direction: ArtifactDirection, sha256: string, stream: () => Readable): Promise<ArtifactRef> {
    const { artifact } = await this.http.json<{ artifact: ArtifactRef }>('PUT', routePath(ROUTES.runArtifacts, { runId: runId }), {
      query: { name, direction },
      headers: { 'x-assay-sha256': sha256 },
      stream,
    })
    return artifact
  }

  // ---- writes -------------------------------------------------------------------------------

  async createRun(run: NewRun): Promise<void> {
    await this.write(
      () => ({ op: 'createRun', run }),
      () => this.http.request('POST', ROUTES.runs, { json: run }).then(() => undefined),
      () => undefined,
    )
  }

  async logBatch(runId: string, batch: RunBatch): Promise<void> {
    const withId = { ...batch, batchId: batch.batchId ?? randomUUID() }
    const frame = encodeBatchFrame(withId)
    await this.write(
      () => ({ op: 'logBatch', runId, batchId: withId.batchId, frame: frame.toString('base64') }),
      () => this.http.request('POST', routePath(ROUTES.runBatch, { runId: runId }), { bytes: frame }).then(() => undefined),
      () => undefined,
    )
  }

  async logEval(runId: string, dataset: string, datasetSha256: string, chunk: EvalChunk, batchId: string = randomUUID()): Promise<void> {
    const bytes = encodeEvalChunk(chunk)
    await this.write(
      () => ({ op: 'logEval', runId, dataset, datasetSha256, batchId, chunk: bytes.toString('base64') }),
      () => this.http.request('POST', routePath(ROUTES.runEvals, { runId: runId }), { query: { dataset, datasetSha256, batchId }, bytes }).then(() => undefined),
      () => undefined,
    )
  }

  async setRunStatus(runId: string, status: Exclude<RunStatus, 'running'>, endTime: number): Promise<void> {
    await this.write(
      () => ({ op: 'setRunStatus', runId, status, endTime }),
      () => this.http.request('POST', routePath(ROUTES.runStatus, { runId: runId }), { json: { status, endTime } }).then(() => undefined),
      () => undefined,
    )
  }

  /** A heartbeat that cannot reach the server is dropped (the next write refreshes it). */
  async heartbeat(runId: string, at: number): Promise<void> {
    if (this.spool.pending > 0 || Date.now() < this.retryAt) return
    try {
      await this.http.request('POST', routePath(ROUTES.runHeartbeat, { runId: runId }), { json: { at } })
    } catch (error) {
      this.unlessUnavailable(error)
    }
  }

  async putArtifact(runId: string, name: string, content: ArtifactContent, direction: ArtifactDirection): Promise<ArtifactRef> {
    if ('sha256' in content) {
      const sha256 = content.sha256
      return this.write(
        () => ({ op: 'putArtifact', runId, name, direction, sha256, blob: false }),
        async () => (await this.http.json<{ artifact: ArtifactRef }>('POST', routePath(ROUTES.runArtifactBySha256, { runId: runId }), { json: { name, sha256, direction } })).artifact,
        // Offline, the size of content named only by hash is not known here.
        () => ({ runId, name, sha256, sizeBytes: 0, direction, createdAt: Date.now() }),
      )
    }
    const { sha256, size } = 'bytes' in content ? { sha256: hashBytes(content.bytes), size: content.bytes.byteLength } : await hashFile(content.path)
    let kept = false
    return this.write(
      () => {
        if (!kept) this.spool.keepBlob(content)
        kept = true
        return { op: 'putArtifact', runId, name, direction, sha256, blob: true }
      },
      () => this.upload(runId, name, direction, sha256, () => ('bytes' in content ? Readable.from([Buffer.from(content.bytes)]) : createReadStream(content.path))),
      () => ({ runId, name, sha256, sizeBytes: size, direction, createdAt: Date.now() }),
    )
  }

  /**
   * An entry without an id gets one made here (marked, and left out again when read back), so a
   * write whose response was lost and that is replayed from the spool is counted once.
   */
  async recordHoldoutRead(read: HoldoutRead): Promise<void> {
    const withId: HoldoutRead = read.id === undefined ? { ...read, id: `${GENERATED_HOLDOUT_ID}${randomUUID()}` } : read
    await this.write(
      () => ({ op: 'recordHoldoutRead', read: withId }),
      () => this.http.request('POST', ROUTES.holdoutReads, { json: withId }).then(() => undefined),
      () => undefined,
    )
  }

  // ---- production (docs/production.md) -------------------------------------------------------

  /** Offline, the deployment is spooled and returned as sent (its alias resolved and flags set when it reaches the server). */
  async createDeployment(deployment: NewDeployment): Promise<Deployment> {
    return this.write(
      () => ({ op: 'createDeployment', deployment }),
      async () => (await this.http.json<{ deployment: Deployment }>('POST', ROUTES.deployments, { json: deployment })).deployment,
      () => ({ ...deployment, experiment: null, unauditable: missingAuditFields(deployment) }),
    )
  }

  /** Offline, every trace counts as stored; the server's rejections surface at replay (kept beside the spool). */
  async logTraces(traces: readonly TraceInput[]): Promise<LogTracesResult> {
    return this.write(
      () => ({ op: 'logTraces', traces: [...traces] }),
      () => this.http.json<LogTracesResult>('POST', ROUTES.traces, { json: { traces } }),
      () => ({ stored: traces.map((t) => t.traceId), unchanged: [], rejected: [] }),
    )
  }

  async addFeedback(feedback: Feedback): Promise<void> {
    await this.write(
      () => ({ op: 'addFeedback', feedback }),
      () => this.http.request('POST', ROUTES.feedback, { json: feedback }).then(() => undefined),
      () => undefined,
    )
  }

  async getDeployment(id: string): Promise<Deployment> {
    await this.beforeRead()
    return (await this.http.json<{ deployment: Deployment }>('GET', routePath(ROUTES.deployment, { id }))).deployment
  }

  async listDeploymentsPage(query: DeploymentPageQuery): Promise<DeploymentPage> {
    await this.beforeRead()
    const { experiments: _scoped, ...rest } = query
    return this.http.json<DeploymentPage>('GET', ROUTES.deployments, { query: definedQuery({ ...rest, limit: pageLimit(query.limit) }) })
  }

  async tracesPage(query: TracePageQuery): Promise<TracePage> {
    await this.beforeRead()
    return this.http.json<TracePage>('GET', ROUTES.traces, { query: definedQuery({ ...query, limit: pageLimit(query.limit) }) })
  }

  async traceEvalRecordsPage(query: TracePageQuery): Promise<TraceEvalRecordPage> {
    await this.beforeRead()
    return this.http.json<TraceEvalRecordPage>('GET', ROUTES.traceEvalRecords, { query: definedQuery({ ...query, limit: pageLimit(query.limit) }) })
  }

  async traceRowsPage(query: TraceRowPageQuery): Promise<TraceRowPage> {
    await this.beforeRead()
    return this.http.json<TraceRowPage>('GET', ROUTES.traceRows, { query: definedQuery({ ...query }) })
  }

  /** The window over GET /api/v1/traces/monitor-rows, page by page, each page turned into columns as it arrives. */
  async traceColumns(query: TraceColumnsQuery): Promise<TraceColumns> {
    const builder = new TraceColumnsBuilder(query.needs)
    let cursor: string | undefined
    do {
      const page = await this.traceRowsPage({ deployment: query.deployment, from: query.from, to: query.to, limit: TRACE_ROW_PAGE_SIZE.max, cursor })
      builder.addRows(page.rows)
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    return builder.finish()
  }

  async getTrace(traceId: string): Promise<Trace> {
    await this.beforeRead()
    return (await this.http.json<{ trace: Trace }>('GET', routePath(ROUTES.trace, { traceId }))).trace
  }

  // ---- reads --------------------------------------------------------------------------------

  /**
   * Needs a write token valid for all experiments; for any other token the server refuses (403)
   * and this returns 0: the server marks stale runs crashed itself before reads, with its own
   * timeout (ASSAY_HEARTBEAT_TIMEOUT_MS of the server), so the SDK's sweep before reads is not needed.
   */
  async markCrashedRuns(staleBefore: number): Promise<number> {
    await this.beforeRead()
    try {
      return (await this.http.json<{ count: number }>('POST', ROUTES.markCrashed, { json: { staleBefore } })).count
    } catch (error) {
      if (isAssayError(error, 'ASSAY_FORBIDDEN')) return 0
      throw error
    }
  }

  async resolveRunId(idOrPrefix: string): Promise<string> {
    await this.beforeRead()
    return (await this.http.json<{ id: string }>('GET', ROUTES.resolveRun, { query: { id: String(idOrPrefix) } })).id
  }

  async getRun(runId: string): Promise<RunRecord> {
    await this.beforeRead()
    const { run } = await this.http.json<{ run: RunRecord }>('GET', routePath(ROUTES.run, { runId: runId }))
    run.metrics = run.metrics.map((m) => ({ ...m, last: reviveNumber(m.last) }))
    return run
  }

  async listRuns(query: RunQuery = {}): Promise<RunSummary[]> {
    return allPages((cursor) => this.listRunsPage({ ...query, limit: PAGE_SIZE.max, cursor }), (page) => page.runs)
  }

  /** One page from the server, which filters and orders it; `experiments` is the server's to apply (it knows the token's). */
  /** Grouped here, from the listing's pages: the server's group route answers summaries, not the statistics. */
  async groupRunsPage(query: RunGroupPageQuery): Promise<RunGroupPage> {
    return groupRunsFromPages((q) => this.listRunsPage(q), query)
  }

  async listRunsPage(query: RunPageQuery): Promise<RunPage> {
    await this.beforeRead()
    const page = await this.http.json<RunPage>('GET', ROUTES.runs, { query: { experiment: query.experiment, filter: blankToUndefined(query.filter), orderBy: blankToUndefined(query.orderBy), ...pageParameters(query) } })
    for (const run of page.runs) for (const key of Object.keys(run.metrics)) run.metrics[key] = reviveNumber(run.metrics[key])
    const wanted = query.experiments === undefined ? null : new Set(query.experiments)
    return wanted === null ? page : { ...page, runs: page.runs.filter((r) => wanted.has(r.experiment)) }
  }

  async listExperiments(): Promise<ExperimentSummary[]> {
    return allPages((cursor) => this.listExperimentsPage({ limit: PAGE_SIZE.max, cursor }), (page) => page.experiments)
  }

  /** One page from the server; `experiments` is the server's to apply (it knows the token's). */
  async listExperimentsPage(query: ExperimentPageQuery): Promise<ExperimentPage> {
    await this.beforeRead()
    const page = await this.http.json<ExperimentPage>('GET', ROUTES.experiments, { query: pageParameters(query) })
    const wanted = query.experiments === undefined ? null : new Set(query.experiments)
    return wanted === null ? page : { ...page, experiments: page.experiments.filter((e) => wanted.has(e.name)) }
  }

  async metricHistory(runId: string, key: string): Promise<MetricColumns> {
    await this.beforeRead()
    return decodeMetricChunk((await this.http.bytes(routePath(ROUTES.runMetrics, { runId: runId }), { key })).bytes)
  }

  async metricStepsValues(runId: string, key: string): Promise<MetricStepsValues> {
    const { steps, values } = await this.metricHistory(runId, key)
    return { steps, values }
  }

  async evalColumns(runId: string, dataset: string): Promise<EvalColumns> {
    await this.beforeRead()
    const { bytes, headers } = await this.http.bytes(routePath(ROUTES.runEvals, { runId: runId }), { dataset })
    return joinEvalChunks(dataset, headers.get('x-assay-dataset-sha256') ?? '', [decodeEvalChunk(bytes)])
  }

  /**
   * The bytes are hashed as they arrive and checked against the sha256 the server sends from the
   * run's record (x-assay-sha256): bytes that are not the recorded ones are ASSAY_ARTIFACT_CORRUPT,
   * whether the store, the server or the network changed them.
   */
  async readArtifact(runId: string, name: string): Promise<ArtifactReadStream> {
    await this.beforeRead()
    const response = await this.http.request('GET', routePath(ROUTES.runArtifactContent, { runId: runId }), { query: { name } })
    const expected = response.headers.get('x-assay-sha256') ?? ''
    const body: AsyncIterable<Uint8Array> = response.body ?? (async function* nothing() {})()
    const stream = verifiedStream(
      body,
      expected,
      (actual) =>
        new AssayError('ASSAY_ARTIFACT_CORRUPT', `artifact ${JSON.stringify(name)} of run ${runId} arrived as bytes hashing to ${actual}, not ${expected || '(no sha256 sent)'}`, { expected, actual }),
      (error) => this.http.unavailable(error),
    )
    return { sha256: expected, sizeBytes: Number(response.headers.get('content-length') ?? NaN), stream }
  }

  /** `experiments` is the server's to apply (it knows the token's). */
  async artifactSha256sWithPrefix(prefix: string, limit: number, _experiments?: readonly string[]): Promise<string[]> {
    await this.beforeRead()
    return (await this.http.json<{ sha256s: string[] }>('GET', ROUTES.artifactSha256s, { query: { prefix, limit: String(limit) } })).sha256s
  }

  async artifactLineage(sha256: string): Promise<ArtifactRef[]> {
    return allPages((cursor) => this.artifactLineagePage({ sha256, limit: PAGE_SIZE.max, cursor }), (page) => page.edges)
  }

  /** One page from the server; `experiments` is the server's to apply (it knows the token's). */
  async artifactLineagePage(query: LineagePageQuery): Promise<LineagePage> {
    const parameters = pageParameters(query)
    await this.beforeRead()
    if (!/^[0-9a-f]{64}$/.test(query.sha256)) return { edges: [], nextCursor: null }
    return this.http.json<LineagePage>('GET', routePath(ROUTES.artifactLineage, { sha256: query.sha256 }), { query: parameters })
  }

  /** One page from the server; `experiments` is the server's to apply (it knows the token's). */
  async datasetRunsPage(query: DatasetRunsPageQuery): Promise<DatasetRunsPage> {
    const parameters = pageParameters(query)
    await this.beforeRead()
    if (!/^[0-9a-f]{64}$/.test(query.sha256)) return { uses: [], nextCursor: null }
    return this.http.json<DatasetRunsPage>('GET', routePath(ROUTES.datasetRuns, { sha256: query.sha256 }), { query: parameters })
  }

  async holdoutReads(datasetSha256: string): Promise<HoldoutRead[]> {
    return allPages((cursor) => this.holdoutReadsPage({ datasetSha256, limit: PAGE_SIZE.max, cursor }), (page) => page.reads)
  }

  /** One page from the server; `experiments` is the server's to apply (it knows the token's). */
  async holdoutReadsPage(query: HoldoutReadPageQuery): Promise<HoldoutReadPage> {
    const parameters = pageParameters(query)
    await this.beforeRead()
    const page = await this.http.json<HoldoutReadPage>('GET', routePath(ROUTES.holdoutReadsOf, { sha256: query.datasetSha256 }), { query: parameters })
    const reads = page.reads.map((read) => {
      if (read.id === undefined || !read.id.startsWith(GENERATED_HOLDOUT_ID)) return read
      const { id: _transport, ...rest } = read
      return rest
    })
    return { reads, nextCursor: page.nextCursor }
  }

  async createApiToken(token: ApiToken, secretSha256: string): Promise<void> {
    await this.http.request('POST', ROUTES.tokens, { json: { token, secretSha256 } })
  }

  async findApiToken(secretSha256: string): Promise<ApiToken | null> {
    return (await this.http.json<{ token: ApiToken | null }>('GET', routePath(ROUTES.tokenBySecret, { sha256: secretSha256 }))).token
  }

  async listApiTokens(): Promise<ApiToken[]> {
    return allPages((cursor) => this.listApiTokensPage({ limit: PAGE_SIZE.max, cursor }), (page) => page.tokens)
  }

  async listApiTokensPage(query: PageQuery): Promise<ApiTokenPage> {
    return this.http.json<ApiTokenPage>('GET', ROUTES.tokens, { query: pageParameters(query) })
  }

  async revokeApiToken(id: string, at: number): Promise<void> {
    await this.http.request('POST', routePath(ROUTES.tokenRevoke, { id }), { json: { at } })
  }

  // ---- model registry and audit log (not spooled: they fail when the server is unreachable) ----

  async createModel(model: RegisteredModel): Promise<void> {
    await this.http.request('POST', ROUTES.models, { json: model })
  }

  async getModel(name: string): Promise<RegisteredModel> {
    return (await this.http.json<{ model: RegisteredModel }>('GET', routePath(ROUTES.model, { name }))).model
  }

  async listModels(): Promise<RegisteredModel[]> {
    return allPages((cursor) => this.listModelsPage({ limit: PAGE_SIZE.max, cursor }), (page) => page.models)
  }

  async listModelsPage(query: PageQuery): Promise<ModelPage> {
    return this.http.json<ModelPage>('GET', ROUTES.models, { query: pageParameters(query) })
  }

  async addModelVersion(version: Omit<ModelVersion, 'version'>): Promise<ModelVersion> {
    await this.beforeRead()
    return (await this.http.json<{ version: ModelVersion }>('POST', routePath(ROUTES.modelVersions, { name: version.model }), { json: version })).version
  }

  async listModelVersions(model: string): Promise<ModelVersion[]> {
    return allPages((cursor) => this.listModelVersionsPage({ model, limit: PAGE_SIZE.max, cursor }), (page) => page.versions)
  }

  async listModelVersionsPage(query: ModelVersionPageQuery): Promise<ModelVersionPage> {
    return this.http.json<ModelVersionPage>('GET', routePath(ROUTES.modelVersions, { name: query.model }), { query: pageParameters(query) })
  }

  async aliasEvents(model: string, alias?: string): Promise<AliasEvent[]> {
    return allPages((cursor) => this.aliasEventsPage({ model, alias, limit: PAGE_SIZE.max, cursor }), (page) => page.events)
  }

  async aliasEventsPage(query: AliasEventPageQuery): Promise<AliasEventPage> {
    return this.http.json<AliasEventPage>('GET', routePath(ROUTES.modelAliasEvents, { name: query.model }), { query: { alias: query.alias, ...pageParameters(query) } })
  }

  async appendAudit(record: AuditRecord): Promise<void> {
    await this.http.request('POST', ROUTES.audit, { json: record })
  }

  async moveAlias(record: AuditRecord, event: Omit<AliasEvent, 'seq' | 'auditSeq'>): Promise<AliasEvent> {
    return (await this.http.json<{ event: AliasEvent }>('POST', ROUTES.aliasMoves, { json: { record, event } })).event
  }

  async setGatePolicy(record: AuditRecord, policy: NewGatePolicy): Promise<GatePolicy> {
    return (await this.http.json<{ policy: GatePolicy }>('POST', ROUTES.gatePolicies, { json: { record, policy } })).policy
  }

  async gatePolicies(query: { model?: string; alias?: string } = {}): Promise<GatePolicy[]> {
    return allPages((cursor) => this.gatePoliciesPage({ ...query, limit: PAGE_SIZE.max, cursor }), (page) => page.policies)
  }

  async gatePoliciesPage(query: GatePolicyPageQuery): Promise<GatePolicyPage> {
    return this.http.json<GatePolicyPage>('GET', ROUTES.gatePolicies, {
      query: { model: query.model, alias: query.alias, current: query.current === true ? 'true' : undefined, ...pageParameters(query) },
    })
  }

  async auditRecords(): Promise<AuditRecord[]> {
    return allPages((cursor) => this.auditRecordsPage({ limit: PAGE_SIZE.max, cursor }), (page) => page.records)
  }

  async auditRecordsPage(query: PageQuery): Promise<AuditPage> {
    return this.http.json<AuditPage>('GET', ROUTES.audit, { query: pageParameters(query) })
  }

  async lastAuditRecord(): Promise<AuditRecord | null> {
    return (await this.http.json<{ record: AuditRecord | null }>('GET', ROUTES.auditLast)).record
  }

  /** The server store's head anchor, so `audit verify` over HTTP also detects a removed tail. */
  async auditHead(): Promise<{ seq: number; hash: string } | null> {
    return (await this.http.json<{ head: { seq: number; hash: string } | null }>('GET', ROUTES.auditHead)).head
  }

  /**
   * Closing tries once more to upload what is spooled; what cannot be sent (the server is still
   * unreachable) stays for `assay sync` and is announced, as are writes the server refused; any
   * other failure of the replay is thrown, after the spool is closed.
   */
  async close(): Promise<void> {
    let failure: unknown
    if (this.spool.pending > 0) {
      await this.locked(() => this.drainOwn()).catch((error: unknown) => {
        if (!isRetryable(error)) failure = error
      })
    }
    this.announceLeftover()
    this.spool.close()
    if (failure !== undefined) throw failure
  }

  private endSpoolingEpisode(): void {
    this.spoolingAnnounced = false
    SPOOLING.delete(this)
  }
}

function isRetryable(error: unknown): boolean {
  return isAssayError(error, 'ASSAY_STORE_UNAVAILABLE') || isAssayError(error, 'ASSAY_STORE_BUSY')
}

function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  await stat(file)
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).length
  }
  return { sha256: hash.digest('hex'), size }
}

/** A page's limit (checked here, before any request) and cursor as query parameters. */
function blankToUndefined(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === '' ? undefined : text
}

function pageParameters(query: PageQuery): { limit: string; cursor: string | undefined } {
  return { limit: String(pageLimit(query.limit)), cursor: query.cursor }
}

/** A query's defined fields as strings. */
function definedQuery(query: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(query)) if (value !== undefined) out[key] = String(value)
  return out
}

/** A spooled logTraces call the server refused in part: the first rejection, as a catalogue error. */
function rejectedTraces(result: LogTracesResult): AssayError {
  const first = result.rejected[0]
  return new AssayError(first.code as 'ASSAY_INVALID_TRACE', `${result.rejected.length} spooled traces were refused; first: ${first.message}`, { rejected: result.rejected })
}
