/** The worker thread of gate-worker.ts: decides a gate's criteria and posts the results back. */
import { parentPort, workerData } from 'node:worker_threads'
import { isAssayError } from '../errors.js'
import { decideCriteria, type CriteriaInput } from '../gates/check-gate.js'

try {
  parentPort?.postMessage({ ok: decideCriteria(workerData as CriteriaInput) })
} catch (error) {
  parentPort?.postMessage(isAssayError(error) ? { assayError: error.toJSON() } : { failure: String((error as Error)?.stack ?? error) })
}
