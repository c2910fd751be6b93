/** The worker thread of otlp-decoder.ts: decodes OTLP requests and prepares their traces for the store. */
import { parentPort } from 'node:worker_threads'
import { isAssayError } from '../errors.js'
import { decodeAndPrepare, packForTransfer, type DecodeTask } from './otlp-decoder.js'

// One body at a time (otlp-decoder.ts hands a thread its next body once it answered).
parentPort?.on('message', (task: DecodeTask) => {
  try {
    const result = decodeAndPrepare(task)
    parentPort?.postMessage({ ok: result }, packForTransfer(result))
  } catch (error) {
    parentPort?.postMessage(isAssayError(error) ? { assayError: error.toJSON() } : { failure: String((error as Error)?.stack ?? error) })
  }
})
