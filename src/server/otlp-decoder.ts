import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { AssayError, type ErrorCode } from '../errors.js'
import { decodeJsonTraces, decodeProtobufTraces, type DecodedTraces } from '../otlp/decode-traces.js'
import { parseOtlpJsonBySpan } from '../otlp/otlp-json.js'
import { prepareTraces, type PreparedTraces } from '../store/trace-write.js'
import { JSON_DEPTH_LIMIT, parseJsonBody } from './request-body.js'

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
  /** The traces that passed their checks, and those refused by them (prepareTraces). */
  prepared: PreparedTraces
  /** Spans the decode refused (no trace id, no deployment): they name no trace to store. */
  decodeRejected: { spans: number; code: string; message: string }[]
}

/** Bodies smaller than this are decoded on the calling thread. */
export const INLINE_BYTES = 64 * 1024

/** The decode and the preparation, on whichever thread runs it (a thread then hands the result over with packForTransfer). */
export function decodeAndPrepare(task: DecodeTask): DecodedRequest {
  const decoded = decodeOtlpBody(task.bytes, task.encoding, task.defaultDeployment)
  return { prepared: prepareTraces(decoded.traces), decodeRejected: decoded.rejected }
}

/**
 * An OTLP request body decoded to traces. JSON is parsed span by span (otlp-json.ts: no 500 KB
 * string per body); a body that way does not take, bad JSON or nesting past the limit included,
 * is parsed whole, which words the error.
 */
export function decodeOtlpBody(bytes: Uint8Array, encoding: DecodeTask['encoding'], defaultDeployment?: string): DecodedTraces {
  if (encoding === 'protobuf') return decodeProtobufTraces(bytes, defaultDeployment)
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return decodeJsonTraces(parseOtlpJsonBySpan(buffer, JSON_DEPTH_LIMIT) ?? parseJsonBody(buffer.toString('utf8')), defaultDeployment)
}

/**
 * Every trace's keys moved into one buffer, handed over without a copy: a Buffer of a few hundred
 * bytes sits in Node's shared 8 KiB pool, and a clone of each would copy the whole pool.
 */
export function packForTransfer(result: DecodedRequest): ArrayBuffer[] {
  const traces = result.prepared.traces
  const keys = new Uint8Array(traces.reduce((n, t) => n + t.keys.byteLength, 0))
  let at = 0
  for (const t of traces) {
    keys.set(t.keys, at)
    t.keys = keys.subarray(at, at + t.keys.byteLength)
    at += t.keys.byteLength
  }
  return [keys.buffer]
}

// The thread's file sits next to this one: .js once built, .ts when run from the sources through
// tsx, whose loader a worker thread of Node 20 does not inherit, so it is named again (as gate-worker.ts).
const SOURCE_EXTENSION = path.extname(fileURLToPath(import.meta.url))
const THREAD_FILE = new URL(`./otlp-decode-thread${SOURCE_EXTENSION}`, import.meta.url)

/**
 * A decode thread's heap: the decoded form of a 16 MiB body (OTLP_BODY_LIMIT) fits several times
 * over; a body past it stops the thread (ERR_WORKER_OUT_OF_MEMORY), answered 413, and no more.
 */
export const THREAD_HEAP_MB = 2048

function startThread(): Worker {
  const options = { resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB } }
  if (SOURCE_EXTENSION !== '.ts') return new Worker(THREAD_FILE, options)
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(THREAD_FILE.href)}) })`
  return new Worker(boot, { eval: true, ...options })
}

/** Threads by default: one per core, at most 2 (the store and the event loop want the rest). */
export function defaultDecodeThreads(): number {
  return Math.max(1, Math.min(2, os.availableParallelism()))
}

/** Most decode threads a server takes (--otlp-threads). */
export const MAX_DECODE_THREADS = 64

interface Queued {
  task: DecodeTask
  resolve: (result: DecodedRequest) => void
  reject: (error: unknown) => void
}

interface Thread {
  worker: Worker
  /** The body it decodes now; a thread is handed one body at a time, so its death costs that body only. */
  running: Queued | null
}

type ThreadAnswer = { ok?: DecodedRequest; assayError?: { code: ErrorCode; message: string; details?: Record<string, unknown> }; failure?: string }

/**
 * Up to `size` decode threads, started as large bodies arrive while the others are busy. Bodies
 * wait here, not in a thread, and each goes to the first idle thread: a thread that dies (a body
 * too large for its heap) fails the body it held and no other, and the next waiting body starts
 * another thread.
 */
export class OtlpDecoder {
  private readonly threads: (Thread | undefined)[]
  private readonly queue: Queued[] = []
  private closed = false
  private startedThreads = 0

  constructor(readonly size = defaultDecodeThreads()) {
    if (!Number.isInteger(size) || size < 0 || size > MAX_DECODE_THREADS) throw new AssayError('ASSAY_INVALID_ARGUMENT', `OTLP decode threads must be a whole number from 0 to ${MAX_DECODE_THREADS}, not ${size}`)
    this.threads = Array.from({ length: size }, () => undefined)
  }

  /**
   * The body decoded and its traces prepared. With `owned`, the caller hands `bytes` over: a
   * buffer of its own is moved to the thread without a copy and is empty afterwards.
   */
  decode(task: DecodeTask, options: { owned?: boolean } = {}): Promise<DecodedRequest> {
    if (this.size === 0 || task.bytes.byteLength < INLINE_BYTES || this.closed) return Promise.resolve().then(() => decodeAndPrepare(task))
    return new Promise((resolve, reject) => {
      const bytes = task.bytes
      const movable = options.owned === true && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
      this.queue.push({ task: movable ? task : { ...task, bytes: new Uint8Array(bytes) }, resolve, reject })
      this.dispatch()
    })
  }

  /** Threads started so far (a thread that died and was replaced counts twice). */
  get started(): number {
    return this.startedThreads
  }

  /** Stop one thread as if it had died (tests: the body it held fails, the next body starts another). */
  async stopThread(index: number): Promise<void> {
    await this.threads[index]?.worker.terminate()
  }

  /** Stop the threads; bodies still waiting are decoded in place, a body a thread held fails. */
  async close(): Promise<void> {
    this.closed = true
    for (const q of this.queue.splice(0)) {
      try {
        q.resolve(decodeAndPrepare(q.task))
      } catch (error) {
        q.reject(error)
      }
    }
    await Promise.all(this.threads.map((t) => t?.worker.terminate()))
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      const thread = this.idleThread()
      if (thread === undefined) return
      const queued = this.queue.shift() as Queued
      thread.running = queued
      // A thread with work keeps the process alive until it answers; an idle one does not.
      thread.worker.ref()
      thread.worker.postMessage(queued.task, [queued.task.bytes.buffer as ArrayBuffer])
    }
  }

  private idleThread(): Thread | undefined {
    let free = -1
    for (let i = 0; i < this.threads.length; i++) {
      const t = this.threads[i]
      if (t === undefined) free = free === -1 ? i : free
      else if (t.running === null) return t
    }
    return free === -1 ? undefined : this.start(free)
  }

  private start(index: number): Thread {
    const thread: Thread = { worker: startThread(), running: null }
    this.threads[index] = thread
    this.startedThreads++
    const settle = (answer: (q: Queued) => void): void => {
      const queued = thread.running
      thread.running = null
      if (queued !== null) answer(queued)
    }
    thread.worker.on('message', (answer: ThreadAnswer) => {
      settle((q) => {
        if (answer.ok !== undefined) q.resolve(answer.ok)
        else if (answer.assayError !== undefined) q.reject(new AssayError(answer.assayError.code, answer.assayError.message, answer.assayError.details))
        else q.reject(new Error(`the OTLP decode thread failed: ${answer.failure}`))
      })
      thread.worker.unref()
      this.dispatch()
    })
    // A thread that stops (out of memory on a hostile body, an error outside a body) fails the body it held; the next body starts another.
    let failure: unknown
    thread.worker.on('error', (error) => {
      failure = error
    })
    thread.worker.on('exit', (code) => {
      if (this.threads[index] === thread) this.threads[index] = undefined
      settle((q) => {
        if ((failure as { code?: string } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
          q.reject(new AssayError('ASSAY_VALUE_TOO_LARGE', `the OTLP request needs more memory to decode than a decode thread has (${THREAD_HEAP_MB} MiB): send smaller batches`, { limitMb: THREAD_HEAP_MB }))
        } else q.reject(new Error(`the OTLP decode thread exited with code ${code}${failure === undefined ? '' : `: ${String(failure)}`}`))
      })
      this.dispatch()
    })
    thread.worker.unref()
    return thread
  }
}
