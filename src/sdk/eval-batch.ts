import { AssayError } from '../errors.js'
import type { EvalRecord } from '../record/types.js'
import { LIMITS, assertKey, assertOutputHash, describe } from '../record/validate.js'
import type { EvalChunk } from '../store/chunk-codec.js'

const OPTIONAL_NUMBERS = ['latencyMs', 'tokens', 'cost'] as const

/**
 * Validate eval records and lay them out in columns. Scores may be NaN (stored as logged, so a
 * gate can reject them as malformed); a record without a score that others have is recorded as
 * missing, not as NaN.
 */
export function evalRecordsToChunk(records: readonly EvalRecord[], seenIds: Set<string>): EvalChunk {
  if (!Array.isArray(records)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `records must be an array, got ${describe(records)}`)
  if (records.length > LIMITS.evalRecordsPerCall) {
    throw new AssayError('ASSAY_VALUE_TOO_LARGE', `${records.length} eval records in one call; the limit is ${LIMITS.evalRecordsPerCall}`)
  }
  const n = records.length
  const ids: string[] = new Array(n)
  let clusters: (string | null)[] | null = null
  let outputHashes: (string | null)[] | null = null
  const numeric = new Map<string, Float64Array>()
  const present = new Map<string, number>()
  const column = (name: string): Float64Array => {
    let values = numeric.get(name)
    if (values === undefined) {
      values = new Float64Array(n).fill(NaN)
      numeric.set(name, values)
      present.set(name, 0)
    }
    return values
  }
  // Column key per score name ('score:<name>'), built once rather than once per record.
  const scoreKeys = new Map<string, string>()
  // Ids of this call already added to seenIds; removed again if the call is refused.
  let added = 0
  try {
    for (let i = 0; i < n; i++) {
      const record = records[i]
      if (record === null || typeof record !== 'object') throw invalid(i, `must be an object, got ${describe(record)}`)
      const id = record.id
      if (typeof id !== 'string' || id.length === 0 || id.length > LIMITS.evalIdLength) {
        throw invalid(i, `id must be a non-empty string of at most ${LIMITS.evalIdLength} characters, got ${describe(id)}`)
      }
      // One Set does both checks: a duplicate leaves its size unchanged.
      const size = seenIds.size
      seenIds.add(id)
      if (seenIds.size === size) throw invalid(i, `id ${JSON.stringify(id)} was already logged for this dataset`)
      ids[i] = id
      added++
      if (record.cluster !== undefined) {
        if (typeof record.cluster !== 'string') throw invalid(i, `cluster must be a string, got ${describe(record.cluster)}`)
        clusters ??= new Array(n).fill(null)
        clusters[i] = record.cluster
      }
      if (record.outputHash !== undefined) {
        assertOutputHash(record.outputHash, `records[${i}].outputHash`)
        outputHashes ??= new Array(n).fill(null)
        outputHashes[i] = record.outputHash
      }
      const scores = record.scores
      if (scores === null || typeof scores !== 'object' || Array.isArray(scores)) throw invalid(i, `scores must be an object of numbers, got ${describe(scores)}`)
      let count = 0
      for (const name in scores) {
        let key = scoreKeys.get(name)
        if (key === undefined) {
          assertKey(name, 'score name')
          key = `score:${name}`
          scoreKeys.set(name, key)
        }
        const value = scores[name]
        if (typeof value !== 'number') throw invalid(i, `scores.${name} must be a number, got ${describe(value)}`)
        column(key)[i] = value
        present.set(key, (present.get(key) as number) + 1)
        count++
      }
      if (count === 0) throw invalid(i, 'has no scores')
      if (count > LIMITS.scoresPerRecord) throw invalid(i, `has ${count} scores; the limit is ${LIMITS.scoresPerRecord}`)
      // The server takes at most as many score columns per call as one record may have.
      if (scoreKeys.size > LIMITS.scoresPerRecord) throw invalid(i, `brings the score names of this call to ${scoreKeys.size}; the limit is ${LIMITS.scoresPerRecord}`)
      for (const name of OPTIONAL_NUMBERS) {
        const value = record[name]
        if (value === undefined) continue
        if (typeof value !== 'number') throw invalid(i, `${name} must be a number, got ${describe(value)}`)
        column(name)[i] = value
        present.set(name, (present.get(name) as number) + 1)
      }
    }
  } catch (error) {
    for (let j = 0; j < added; j++) seenIds.delete(ids[j])
    throw error
  }
  const missing = new Map<string, number[]>()
  for (const [name, count] of present) {
    if (count === n) continue
    // Rare path: find which records lacked this column.
    const absent: number[] = []
    for (let i = 0; i < n; i++) {
      const record = records[i]
      const has = name.startsWith('score:') ? record.scores[name.slice(6)] !== undefined : record[name as (typeof OPTIONAL_NUMBERS)[number]] !== undefined
      if (!has) absent.push(i)
    }
    missing.set(name, absent)
  }
  return { ids, clusters, outputHashes, numeric, missing }
}

function invalid(index: number, message: string): AssayError {
  return new AssayError('ASSAY_INVALID_ARGUMENT', `eval record ${index} ${message}`, { index })
}

/** Split a chunk into pieces of at most `size` records, so one stored blob stays moderate. */
export function splitChunk(chunk: EvalChunk, size: number): EvalChunk[] {
  const n = chunk.ids.length
  if (n <= size) return [chunk]
  const pieces: EvalChunk[] = []
  for (let start = 0; start < n; start += size) {
    const end = Math.min(n, start + size)
    const numeric = new Map<string, Float64Array>()
    for (const [name, values] of chunk.numeric) numeric.set(name, values.subarray(start, end))
    const missing = new Map<string, number[]>()
    for (const [name, indices] of chunk.missing) {
      const inside = indices.filter((i) => i >= start && i < end).map((i) => i - start)
      if (inside.length > 0) missing.set(name, inside)
    }
    pieces.push({
      ids: chunk.ids.slice(start, end),
      clusters: chunk.clusters?.slice(start, end) ?? null,
      outputHashes: chunk.outputHashes?.slice(start, end) ?? null,
      numeric,
      missing,
    })
  }
  return pieces
}
