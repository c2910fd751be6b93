import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { AssayError, type ErrorCode } from '../errors.js'
import type { CriteriaInput } from '../gates/check-gate.js'
import type { CriterionResult } from '../gates/criteria.js'
import type { GateSpec } from '../gates/gate-spec.js'

/** Resamples summed over a gate's criteria that one gate check on the server may ask for (docs/server.md). */
export const DEFAULT_GATE_WORK_LIMIT = 2_000_000
/** Time one gate check's criteria may take in their worker thread before it is stopped. */
export const DEFAULT_GATE_TIME_LIMIT_MS = 120_000

/** The work a gate asks for: resamples summed over its criteria (a criterion without resampling counts 1). */
export function gateWork(spec: GateSpec): number {
  return spec.criteria.reduce((sum, c) => sum + ('resamples' in c && typeof c.resamples === 'number' ? c.resamples : 1), 0)
}

export function requireGateWorkWithin(spec: GateSpec, limit: number): void {
  const work = gateWork(spec)
  if (work > limit) {
    throw new AssayError('ASSAY_GATE_TOO_MUCH_WORK', `gate ${spec.gate} asks for ${work} resamples over its criteria; this server allows ${limit} per check (docs/server.md)`, { work, limit })
  }
}

// The thread's file sits next to this one: .js once built, .ts when run from the sources through
// tsx, whose loader a worker thread of Node 20 does not inherit, so it is named again.
const SOURCE_EXTENSION = path.extname(fileURLToPath(import.meta.url))
const THREAD_FILE = new URL(`./gate-worker-thread${SOURCE_EXTENSION}`, import.meta.url)
function startThread(input: CriteriaInput): Worker {
  if (SOURCE_EXTENSION !== '.ts') return new Worker(THREAD_FILE, { workerData: input })
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(THREAD_FILE.href)}) })`
  return new Worker(boot, { eval: true, workerData: input })
}

/**
 * Decide a gate's criteria in a worker thread, so the server's event loop keeps answering while
 * the resampling runs; past `timeLimitMs` the thread is stopped and the check fails.
 */
export function decideCriteriaInWorker(timeLimitMs: number): (input: CriteriaInput) => Promise<CriterionResult[]> {
  return (input) =>
    new Promise((resolve, reject) => {
      const worker = startThread(input)
      let settled = false
      const settle = (action: () => void): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        action()
        void worker.terminate()
      }
      const timer = setTimeout(
        () => settle(() => reject(new AssayError('ASSAY_GATE_TOO_MUCH_WORK', `the gate check ran past this server's limit of ${timeLimitMs} ms and was stopped (docs/server.md)`, { timeLimitMs }))),
        timeLimitMs,
      )
      worker.once('message', (message: { ok?: CriterionResult[]; assayError?: { code: ErrorCode; message: string; details?: Record<string, unknown> }; failure?: string }) => {
        if (message.ok !== undefined) settle(() => resolve(message.ok as CriterionResult[]))
        else if (message.assayError !== undefined) settle(() => reject(new AssayError(message.assayError!.code, message.assayError!.message, message.assayError!.details)))
        else settle(() => reject(new Error(`the gate worker failed: ${message.failure}`)))
      })
      worker.once('error', (error) => settle(() => reject(error)))
      worker.once('exit', (code) => settle(() => reject(new Error(`the gate worker exited with code ${code} before answering`))))
    })
}
