import { AssayError } from '../../errors.js'
import { assertName } from '../../record/validate.js'

/**
 * MLflow's experiment ids are decimal strings; assay's experiments are names. The id of an
 * experiment is its name's UTF-8 bytes read as one big-endian number, written in decimal: the
 * same on every server and after restarts, with no table, and an experiment that has no run yet
 * (just created through experiments/create) still has one. "0", MLflow's default experiment,
 * is the experiment named "Default" (docs/mlflow.md).
 */
export const DEFAULT_EXPERIMENT = 'Default'
/** A 250-character name of 4-byte characters is under 2,500 digits. */
const MAX_ID_DIGITS = 2500

export function experimentId(name: string): string {
  if (name === DEFAULT_EXPERIMENT) return '0'
  return BigInt(`0x${Buffer.from(name, 'utf8').toString('hex')}`).toString(10)
}

export function experimentName(id: unknown): string {
  if (id === '0' || id === 0) return DEFAULT_EXPERIMENT
  const text = typeof id === 'number' && Number.isSafeInteger(id) ? String(id) : id
  if (typeof text !== 'string' || text.length > MAX_ID_DIGITS || !/^[1-9][0-9]*$/.test(text)) throw unknownExperiment(id)
  let hex = BigInt(text).toString(16)
  if (hex.length % 2 === 1) hex = `0${hex}`
  let name: string
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(hex, 'hex'))
  } catch {
    throw unknownExperiment(id)
  }
  try {
    assertName(name, 'experiment name')
  } catch {
    throw unknownExperiment(id)
  }
  return name
}

function unknownExperiment(id: unknown): AssayError {
  return new AssayError('ASSAY_EXPERIMENT_NOT_FOUND', `no experiment has id ${JSON.stringify(String(id).slice(0, 40))}`)
}
