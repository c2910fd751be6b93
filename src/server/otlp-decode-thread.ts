/** The worker thread of otlp-decoder.ts: decodes OTLP requests and prepares their traces for the store. */
import { parentPort } from 'node:worker_threads'
import { isAssayError } from '../errors.js'
import { decodeAndPrepare, type DecodeTask } from './otlp-decoder.js'

parentPort?.on('message', (task: DecodeTask & { id: number }) => {
  try {
    const { result, transfer } = decodeAndPrepare(task)
    parentPort?.postMessage({ id: task.id, ok: result }, transfer)
  } catch (error) {
    parentPort?.postMessage(isAssayError(error) ? { id: task.id, assayError: error.toJSON() } : { id: task.id, failure: String((error as Error)?.stack ?? error) })
  }
})
