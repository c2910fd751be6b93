import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { AssayError, type ErrorCode } from '../errors.js'
import { decodeJsonTraces, decodeProtobufTraces } from '../otlp/decode-traces.js'
import { prepareTraces, type PreparedTrace, type TraceRejection } from '../store/trace-write.js'
import { parseJsonBody } from './request-body.js'

/**
 * OTLP request bodies decoded and their traces prepared for the store (trace-write.ts
 * prepareTraces: checks, canonical JSON, content hashes, the trace row's fields) in worker
 * threads, so the event loop keeps serving requests and the store's round trips while a large
 * request is decoded: a 512-span body takes the CPU for tens of milliseconds, and every other
 * request and every statement's answer on the main thread waited behind it (bench/results/otlp.md).
 * Bodies under INLINE_BYTES are decoded in place: a handful of spans cost less than the hop.
 */
export interface DecodeTask {
  bytes: Uint8Array
  encoding: 'protobuf' | 'json'
  /** The X-Assay-Deployment header: the deployment of traces that name none. */
  defaultDeployment?: string
}

export interface DecodedRequest {
  traces: PreparedTrace[]
  /** Spans refused by the decode or by their trace's checks, in that order. */
  rejected: Omit<TraceRejection, 'traceId'>[]
}

/** Bodies smaller than this are decoded on the calling thread. */
export const INLINE_BYTES = 64 * 1024

/** The decode and the preparation, on whichever thread runs it; `transfer` is what a worker hands over without a copy. */
export function decodeAndPrepare(task: DecodeTask): { result: DecodedRequest; transfer: ArrayBuffer[] } {
  const decoded = task.encoding === 'protobuf'
    ? decodeProtobufTraces(task.bytes, task.defaultDeployment)
    : decodeJsonTraces(parseJsonBody(Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength).toString('utf8')), task.defaultDeployment)
  const prepared = prepareTraces(decoded.traces)
  // Every trace's keys in one buffer: a Buffer of a few hundred bytes sits in Node's shared 8 KiB
  // pool, and a clone of each would copy the whole pool.
  const keys = new Uint8Array(prepared.traces.reduce((n, t) => n + t.keys.byteLength, 0))
  let at = 0
  for (const t of prepared.traces) {
    keys.set(t.keys, at)
    t.keys = keys.subarray(at, at + t.keys.byteLength)
    at += t.keys.byteLength
  }
  return { result: { traces: prepared.traces, rejected: [...decoded.rejected, ...prepared.rejected] }, transfer: [keys.buffer] }
}

// The thread's file sits next to this one: .js once built, .ts when run from the sources through
// tsx, whose loader a worker thread of Node 20 does not inherit, so it is named again (as gate-worker.ts).
const SOURCE_EXTENSION = path.extname(fileURLToPath(import.meta.url))
const THREAD_FILE = new URL(`./otlp-decode-thread${SOURCE_EXTENSION}`, import.meta.url)

function startThread(): Worker {
  if (SOURCE_EXTENSION !== '.ts') return new Worker(THREAD_FILE)
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(THREAD_FILE.href)}) })`
  return new Worker(boot, { eval: true })
}

/** Threads by default: one per core, at most 2 (the store and the event loop want the rest). */
export function defaultDecodeThreads(): number {
  return Math.max(1, Math.min(2, os.availableParallelism()))
}

interface Pending {
  resolve: (result: DecodedRequest) => void
  reject: (error: unknown) => void
}

interface Thread {
  worker: Worker
  pending: Map<number, Pending>
}

type ThreadAnswer = { id: number; ok?: DecodedRequest; assayError?: { code: ErrorCode; message: string; details?: Record<string, unknown> }; failure?: string }

/** Up to `size` decode threads, started as large bodies arrive while the others are busy; each body goes to an idle thread or the one with the fewest waiting. */
export class OtlpDecoder {
  private readonly threads: (Thread | undefined)[]
  private nextId = 0
  private closed = false
  private startedThreads = 0

  constructor(readonly size = defaultDecodeThreads()) {
    if (!Number.isInteger(size) || size < 0) throw new AssayError('ASSAY_INVALID_ARGUMENT', `OTLP decode threads must be a whole number, not ${size}`)
    this.threads = Array.from({ length: size }, () => undefined)
  }

  decode(task: DecodeTask): Promise<DecodedRequest> {
    if (this.size === 0 || task.bytes.byteLength < INLINE_BYTES || this.closed) return Promise.resolve().then(() => decodeAndPrepare(task).result)
    const thread = this.leastBusy()
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      // A thread with work keeps the process alive until it answers; an idle one does not.
      if (thread.pending.size === 0) thread.worker.ref()
      thread.pending.set(id, { resolve, reject })
      thread.worker.postMessage({ ...task, id })
    })
  }

  /** Threads started so far (a thread that died and was replaced counts twice). */
  get started(): number {
    return this.startedThreads
  }

  /** Stop one thread as if it had died (tests: what it held fails, the next body starts another). */
  async stopThread(index: number): Promise<void> {
    await this.threads[index]?.worker.terminate()
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.threads.map((t) => t?.worker.terminate()))
  }

  /** An idle thread; else a new one while fewer than `size` run; else the one with the fewest bodies waiting. */
  private leastBusy(): Thread {
    let best: Thread | undefined
    let free = -1
    for (let i = 0; i < this.threads.length; i++) {
      const t = this.threads[i]
      if (t === undefined) {
        if (free === -1) free = i
      } else if (best === undefined || t.pending.size < best.pending.size) best = t
    }
    if (best !== undefined && (best.pending.size === 0 || free === -1)) return best
    return this.start(free)
  }

  private start(index: number): Thread {
    const thread: Thread = { worker: startThread(), pending: new Map() }
    this.startedThreads++
    this.threads[index] = thread
    // A thread that stops (an error outside a task, out of memory) fails what it held; the next task starts another.
    const fail = (reason: unknown): void => {
      if (this.threads[index] === thread) this.threads[index] = undefined
      for (const p of thread.pending.values()) p.reject(reason)
      thread.pending.clear()
    }
    thread.worker.on('message', (answer: ThreadAnswer) => {
      const p = thread.pending.get(answer.id)
      if (p === undefined) return
      thread.pending.delete(answer.id)
      if (thread.pending.size === 0) thread.worker.unref()
      if (answer.ok !== undefined) p.resolve(answer.ok)
      else if (answer.assayError !== undefined) p.reject(new AssayError(answer.assayError.code, answer.assayError.message, answer.assayError.details))
      else p.reject(new Error(`the OTLP decode thread failed: ${answer.failure}`))
    })
    thread.worker.on('error', fail)
    thread.worker.on('exit', (code) => fail(new Error(`the OTLP decode thread exited with code ${code}`)))
    thread.worker.unref()
    return thread
  }
}
