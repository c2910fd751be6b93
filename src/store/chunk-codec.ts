import { AssayError } from '../errors.js'
import type { EvalColumns } from '../record/types.js'

/**
 * Metric series and eval records are stored in chunks, one row per flushed batch, rather than
 * one row per point: a million points become a few dozen rows, so writing and reading them is
 * bound by memcpy instead of per-row SQL. Numbers are raw little-endian float64, which keeps
 * NaN and ±Infinity exactly as logged (JSON cannot). Every backend stores these bytes as a blob.
 */

const METRIC_MAGIC = 0x4d415341 // "ASAM"
const EVAL_MAGIC = 0x45415341 // "ASAE"

export interface MetricColumns {
  steps: Float64Array
  values: Float64Array
  timestamps: Float64Array
}

export function encodeMetricChunk(columns: MetricColumns, count = columns.values.length): Buffer {
  const out = Buffer.allocUnsafe(8 + count * 24)
  out.writeUInt32LE(METRIC_MAGIC, 0)
  out.writeUInt32LE(count, 4)
  copyFloats(out, 8, columns.steps, count)
  copyFloats(out, 8 + count * 8, columns.values, count)
  copyFloats(out, 8 + count * 16, columns.timestamps, count)
  return out
}

export function decodeMetricChunk(bytes: Uint8Array): MetricColumns {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (view.length < 8 || view.readUInt32LE(0) !== METRIC_MAGIC) throw corrupt('metric chunk')
  const count = view.readUInt32LE(4)
  if (view.length !== 8 + count * 24) throw corrupt('metric chunk')
  return {
    steps: readFloats(view, 8, count),
    values: readFloats(view, 8 + count * 8, count),
    timestamps: readFloats(view, 8 + count * 16, count),
  }
}

export function concatMetricChunks(chunks: MetricColumns[]): MetricColumns {
  const total = chunks.reduce((sum, c) => sum + c.values.length, 0)
  const out: MetricColumns = { steps: new Float64Array(total), values: new Float64Array(total), timestamps: new Float64Array(total) }
  let offset = 0
  for (const c of chunks) {
    out.steps.set(c.steps, offset)
    out.values.set(c.values, offset)
    out.timestamps.set(c.timestamps, offset)
    offset += c.values.length
  }
  return out
}

/** One chunk of eval records: strings as JSON in a header, numbers as float64 columns. */
export interface EvalChunk {
  ids: string[]
  clusters: (string | null)[] | null
  outputHashes: (string | null)[] | null
  /** Numeric columns by name: 'score:<name>', 'latencyMs', 'tokens', 'cost'. */
  numeric: Map<string, Float64Array>
  /** Indices where a numeric column had no value (a record without that score). */
  missing: Map<string, number[]>
}

interface EvalHeader {
  count: number
  ids: string[]
  clusters: (string | null)[] | null
  outputHashes: (string | null)[] | null
  numeric: string[]
  missing: Record<string, number[]>
}

export function encodeEvalChunk(chunk: EvalChunk): Buffer {
  const count = chunk.ids.length
  const names = [...chunk.numeric.keys()]
  const header: EvalHeader = {
    count,
    ids: chunk.ids,
    clusters: chunk.clusters,
    outputHashes: chunk.outputHashes,
    numeric: names,
    missing: Object.fromEntries(chunk.missing),
  }
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8')
  const floatsAt = align8(8 + headerBytes.length)
  const out = Buffer.alloc(floatsAt + names.length * count * 8)
  out.writeUInt32LE(EVAL_MAGIC, 0)
  out.writeUInt32LE(headerBytes.length, 4)
  headerBytes.copy(out, 8)
  names.forEach((name, i) => copyFloats(out, floatsAt + i * count * 8, chunk.numeric.get(name) as Float64Array, count))
  return out
}

export function decodeEvalChunk(bytes: Uint8Array): EvalChunk {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (view.length < 8 || view.readUInt32LE(0) !== EVAL_MAGIC) throw corrupt('eval chunk')
  const headerLength = view.readUInt32LE(4)
  const header = JSON.parse(view.toString('utf8', 8, 8 + headerLength)) as EvalHeader
  const floatsAt = align8(8 + headerLength)
  if (view.length !== floatsAt + header.numeric.length * header.count * 8) throw corrupt('eval chunk')
  const numeric = new Map<string, Float64Array>()
  header.numeric.forEach((name, i) => numeric.set(name, readFloats(view, floatsAt + i * header.count * 8, header.count)))
  return { ids: header.ids, clusters: header.clusters, outputHashes: header.outputHashes, numeric, missing: new Map(Object.entries(header.missing)) }
}

/** Concatenate decoded chunks of one (run, dataset) into columns, in logging order. */
export function joinEvalChunks(dataset: string, datasetSha256: string, chunks: EvalChunk[]): EvalColumns {
  const total = chunks.reduce((sum, c) => sum + c.ids.length, 0)
  const ids: string[] = new Array(total)
  const anyCluster = chunks.some((c) => c.clusters !== null)
  const anyHash = chunks.some((c) => c.outputHashes !== null)
  const clusters: (string | null)[] | null = anyCluster ? new Array(total).fill(null) : null
  const outputHashes: (string | null)[] | null = anyHash ? new Array(total).fill(null) : null
  const names = new Set<string>()
  for (const c of chunks) for (const name of c.numeric.keys()) names.add(name)
  const columns = new Map<string, Float64Array>()
  for (const name of names) columns.set(name, new Float64Array(total).fill(NaN))
  const missing: Record<string, number[]> = {}
  const markMissing = (name: string, index: number): void => {
    ;(missing[name] ??= []).push(index)
  }
  let offset = 0
  for (const c of chunks) {
    const n = c.ids.length
    for (let i = 0; i < n; i++) ids[offset + i] = c.ids[i]
    if (clusters && c.clusters) for (let i = 0; i < n; i++) clusters[offset + i] = c.clusters[i]
    if (outputHashes && c.outputHashes) for (let i = 0; i < n; i++) outputHashes[offset + i] = c.outputHashes[i]
    for (const name of names) {
      const values = c.numeric.get(name)
      if (values === undefined) {
        for (let i = 0; i < n; i++) markMissing(name, offset + i)
        continue
      }
      ;(columns.get(name) as Float64Array).set(values, offset)
      for (const i of c.missing.get(name) ?? []) markMissing(name, offset + i)
    }
    offset += n
  }
  const scores: Record<string, Float64Array> = {}
  for (const [name, values] of columns) if (name.startsWith('score:')) scores[name.slice(6)] = values
  return {
    dataset,
    datasetSha256,
    ids,
    clusters,
    scores,
    latencyMs: columns.get('latencyMs') ?? null,
    tokens: columns.get('tokens') ?? null,
    cost: columns.get('cost') ?? null,
    outputHashes,
    missing,
  }
}

function align8(n: number): number {
  return (n + 7) & ~7
}

function copyFloats(out: Buffer, offset: number, source: Float64Array, count: number): void {
  Buffer.from(source.buffer, source.byteOffset, count * 8).copy(out, offset)
}

function readFloats(view: Buffer, offset: number, count: number): Float64Array {
  // Copy: the source may not be 8-byte aligned and may be reused by the driver.
  const floats = new Float64Array(count)
  Buffer.from(floats.buffer).set(view.subarray(offset, offset + count * 8))
  return floats
}

function corrupt(what: string): AssayError {
  return new AssayError('ASSAY_ARTIFACT_CORRUPT', `a stored ${what} is damaged and cannot be decoded`)
}
