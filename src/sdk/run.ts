import { AssayError, isAssayError } from '../errors.js'
import type { DatasetVersion, EvalRecord, Params, RunStatus } from '../record/types.js'
import { assertArtifactName, assertKey, assertMetricValue, assertParams, assertStep, assertTags, assertTimestamp, describe } from '../record/validate.js'
import type { Store } from '../store/store.js'
import { evalRecordsToChunk, splitChunk } from './eval-batch.js'
import { MetricBuffer } from './metric-buffer.js'
import { forgetActiveRun, rememberActiveRun } from './process-hooks.js'

/** Buffered points past which log() writes before returning (backpressure). */
const FLUSH_AT_POINTS = 200_000
/** Buffered points are written at least this often in the background. */
const FLUSH_INTERVAL_MS = 2_000
const HEARTBEAT_INTERVAL_MS = 10_000
const EVAL_RECORDS_PER_CHUNK = 50_000
const YIELD_CHECK_EVERY = 1024
const YIELD_AFTER_MS = 50

export interface RunInfo {
  id: string
  experiment: string
  name: string
  seed: number
  datasets: DatasetVersion[]
}

/**
 * A run being recorded. Metric points are buffered and written in batches; every write goes
 * through one queue so the store sees them in order. flush() resolves once everything logged
 * before it is durable.
 */
export class Run {
  readonly id: string
  readonly experiment: string
  readonly name: string
  /** The seed of the run: the one given to startRun, or the one assay drew and recorded. */
  readonly seed: number
  readonly datasets: readonly DatasetVersion[]
  private readonly buffer = new MetricBuffer()
  private readonly seenEvalIds = new Map<string, Set<string>>()
  private readonly validKeys = new Set<string>()
  private queue: Promise<void> = Promise.resolve()
  private backgroundError: unknown = undefined
  private nextStep = 0
  private callsSinceYield = 0
  private lastYield = Date.now()
  private ended = false
  private readonly timers: NodeJS.Timeout[]

  constructor(
    private readonly store: Store,
    info: RunInfo,
  ) {
    this.id = info.id
    this.experiment = info.experiment
    this.name = info.name
    this.seed = info.seed
    this.datasets = info.datasets
    const flushTimer = setInterval(() => {
      if (this.buffer.size > 0) this.inBackground(this.writeBuffered)
    }, FLUSH_INTERVAL_MS)
    const heartbeatTimer = setInterval(() => {
      this.inBackground(() => this.store.heartbeat(this.id, Date.now()))
    }, HEARTBEAT_INTERVAL_MS)
    // Timers must not keep a finished script alive.
    flushTimer.unref()
    heartbeatTimer.unref()
    this.timers = [flushTimer, heartbeatTimer]
    rememberActiveRun(this)
  }

  get isActive(): boolean {
    return !this.ended
  }

  /**
   * Buffer metric values. `step` defaults to a counter that advances on each call without one.
   * NaN and ±Infinity are kept as they are.
   */
  async log(metrics: Record<string, number>, options: { step?: number; timestamp?: number } = {}): Promise<void> {
    this.assertActive()
    if (metrics === null || typeof metrics !== 'object' || Array.isArray(metrics)) {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `metrics must be an object of numbers, got ${describe(metrics)}`)
    }
    const step = options.step ?? this.nextStep
    assertStep(step)
    const timestamp = options.timestamp ?? Date.now()
    assertTimestamp(timestamp)
    // Validate the whole call before buffering any of it, so a bad key leaves nothing half-logged.
    for (const key in metrics) {
      if (!this.validKeys.has(key)) {
        assertKey(key, 'metric key')
        this.validKeys.add(key)
      }
      assertMetricValue(key, metrics[key])
    }
    for (const key in metrics) this.buffer.add(key, metrics[key], step, timestamp)
    if (step >= this.nextStep) this.nextStep = step + 1
    if (this.buffer.size >= FLUSH_AT_POINTS) await this.enqueueFlush()
    else if (++this.callsSinceYield >= YIELD_CHECK_EVERY) await this.yieldIfBusy()
  }

  /**
   * A loop that only awaits log() never returns to the event loop (each await resolves as a
   * microtask), so timers and the SIGTERM handler would never run. Give them a turn now and then.
   */
  private async yieldIfBusy(): Promise<void> {
    this.callsSinceYield = 0
    const now = Date.now()
    if (now - this.lastYield < YIELD_AFTER_MS) return
    this.lastYield = now
    await new Promise<void>((resolve) => setImmediate(resolve))
  }

  /** Log hyperparameters. A key logged again with another value is refused (ASSAY_PARAM_CONFLICT). */
  async logParams(params: Params): Promise<void> {
    this.assertActive()
    assertParams(params)
    await this.enqueue(() => this.store.logBatch(this.id, { params }))
  }

  async setTags(tags: Record<string, string>): Promise<void> {
    this.assertActive()
    assertTags(tags)
    await this.enqueue(() => this.store.logBatch(this.id, { tags }))
  }

  /**
   * Log per-example results against one of the run's datasets (named in startRun), so each
   * record is tied to a content-hashed dataset version. A call of up to 50,000 records is one
   * store write: all of it is stored or none. A larger call is written in pieces of 50,000, each
   * atomic; if a write fails, the pieces before it stay stored (their ids count as logged) and the
   * ids of the rest are released, so logging those records again works.
   */
  async logEval(input: { dataset: string; records: readonly EvalRecord[] }): Promise<void> {
    this.assertActive()
    if (input === null || typeof input !== 'object') throw new AssayError('ASSAY_INVALID_ARGUMENT', 'logEval takes { dataset, records }')
    const dataset = this.datasets.find((d) => d.name === input.dataset)
    if (dataset === undefined) {
      throw new AssayError(
        'ASSAY_DATASET_NOT_FOUND',
        `run ${this.id} has no dataset named ${describe(input.dataset)}; declare it in startRun({ datasets: [{ name, path, role }] }) so its records point at a content hash`,
        { dataset: input.dataset, declared: this.datasets.map((d) => d.name) },
      )
    }
    let seen = this.seenEvalIds.get(dataset.name)
    if (seen === undefined) {
      seen = new Set()
      this.seenEvalIds.set(dataset.name, seen)
    }
    const ids = seen
    const pieces = splitChunk(evalRecordsToChunk(input.records, ids), EVAL_RECORDS_PER_CHUNK)
    await this.enqueue(async () => {
      let stored = 0
      try {
        for (; stored < pieces.length; stored++) await this.store.logEval(this.id, dataset.name, dataset.sha256, pieces[stored])
      } catch (error) {
        // What the store refused or never received was not logged: a retry must not be a "duplicate".
        for (let p = stored; p < pieces.length; p++) for (const id of pieces[p].ids) ids.delete(id)
        throw error
      }
    })
  }

  /** Store a file or bytes as an artifact this run produced (content-addressed, deduplicated). */
  async logArtifact(name: string, content: string | Uint8Array): Promise<{ name: string; sha256: string; sizeBytes: number }> {
    this.assertActive()
    assertArtifactName(name)
    if (typeof content !== 'string' && !(content instanceof Uint8Array)) {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `artifact content must be a file path or bytes, got ${describe(content)}`)
    }
    const ref = await this.enqueue(() => this.store.putArtifact(this.id, name, typeof content === 'string' ? { path: content } : { bytes: content }, 'produced'))
    return { name: ref.name, sha256: ref.sha256, sizeBytes: ref.sizeBytes }
  }

  /**
   * Record that this run consumed an artifact (a lineage edge artifact → run): one another run
   * produced, named by run and name, or any stored content by sha256.
   */
  async useArtifact(ref: { runId: string; name: string } | { sha256: string }, as?: string): Promise<{ name: string; sha256: string }> {
    this.assertActive()
    let sha256: string
    let name: string
    if ('sha256' in ref) {
      sha256 = ref.sha256
      name = as ?? `sha256/${ref.sha256}`
    } else {
      const source = await this.store.getRun(ref.runId)
      const produced = source.artifacts.find((a) => a.name === ref.name && a.direction === 'produced')
      if (produced === undefined) throw new AssayError('ASSAY_ARTIFACT_NOT_FOUND', `run ${ref.runId} produced no artifact named ${JSON.stringify(ref.name)}`)
      sha256 = produced.sha256
      name = as ?? `${ref.runId}/${ref.name}`
    }
    assertArtifactName(name)
    await this.enqueue(() => this.store.putArtifact(this.id, name, { sha256 }, 'consumed'))
    return { name, sha256 }
  }

  /** Resolves once everything logged before this call is durable in the store. */
  async flush(): Promise<void> {
    await this.enqueueFlush()
  }

  /** End the run: flush, then mark it finished (or the given status). */
  async end(status: Exclude<RunStatus, 'running' | 'crashed'> = 'finished'): Promise<void> {
    if (this.ended) return
    this.ended = true
    for (const timer of this.timers) clearInterval(timer)
    forgetActiveRun(this)
    try {
      await this.enqueueFlush()
    } finally {
      await this.enqueue(() => this.store.setRunStatus(this.id, status, Date.now()))
    }
  }

  private assertActive(): void {
    if (this.ended) throw new AssayError('ASSAY_RUN_NOT_ACTIVE', `run ${this.id} has ended; nothing more can be logged to it`)
    if (this.backgroundError !== undefined) {
      const error = this.backgroundError
      this.backgroundError = undefined
      throw error
    }
  }

  private readonly writeBuffered = async (): Promise<void> => {
    if (this.buffer.size === 0) return
    const metrics = this.buffer.drain()
    try {
      await this.store.logBatch(this.id, { metrics })
    } catch (error) {
      // A transient failure (store busy or unreachable) keeps the points for the next flush;
      // a refusal (the run has ended, bad input) would only fail again.
      if (!isAssayError(error) || error.status >= 500) this.buffer.putBack(metrics)
      throw error
    }
  }

  private enqueueFlush(): Promise<void> {
    return this.enqueue(this.writeBuffered)
  }

  /** Serialise store writes in call order; one failure does not stop the writes after it. */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task)
    this.queue = result.then(
      () => undefined,
      () => undefined,
    )
    return result
  }

  /** A write nobody awaits (timers): its failure is thrown by the next call on the run. */
  private inBackground(task: () => Promise<unknown>): void {
    this.enqueue(task).catch((error: unknown) => {
      this.backgroundError ??= error
    })
  }
}
