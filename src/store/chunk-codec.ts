import { AssayError } from '../errors.js'
import type { EvalColumns } from '../record/types.js'

/**
 * Metric series and eval records are stored in chunks, one row per flushed batch, rather than
 * one row per point: a million points become a few dozen rows, so writing and reading them is
 * bound by memcpy instead of per-row SQL. Numbers are raw little-endian float64, which keeps
 * NaN and ±Infinity exactly as logged (JSON cannot). Every backend stores these bytes as a blob.
 */

const METRIC_MAGIC = 0x4d415341 // "ASAM"
const EVAL_MAGIC = 0x32455341 // "ASE2"

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

/**
 * The columns of a metric chunk, copied out of `bytes`. With `share`, columns are views into
 * `bytes` instead when it starts at a multiple of 8 (what a Float64Array needs): for bytes the
 * caller owns and will not change, such as a request body, so that a chunk that arrives whole is
 * stored without being copied or re-encoded (metricChunkBytes).
 */
export function decodeMetricChunk(bytes: Uint8Array, share = false): MetricColumns {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (view.length < 8 || view.readUInt32LE(0) !== METRIC_MAGIC) throw corrupt('metric chunk')
  const count = view.readUInt32LE(4)
  if (view.length !== 8 + count * 24) throw corrupt('metric chunk')
  if (share && view.byteOffset % 8 === 0) {
    const at = view.byteOffset + 8
    return {
      steps: new Float64Array(view.buffer, at, count),
      values: new Float64Array(view.buffer, at + count * 8, count),
      timestamps: new Float64Array(view.buffer, at + count * 16, count),
    }
  }
  return {
    steps: readFloats(view, 8, count),
    values: readFloats(view, 8 + count * 8, count),
    timestamps: readFloats(view, 8 + count * 16, count),
  }
}

/**
 * The chunk of `columns`: when they are views over one metric chunk (decodeMetricChunk with
 * `share`), those bytes themselves, else a new encoding. The bytes are checked, not assumed: the
 * header before the steps must be a chunk's of this count and the columns must lie where a
 * chunk's do, so an encoding is skipped only where it would write the same bytes.
 */
export function metricChunkBytes(columns: MetricColumns): Buffer {
  const { steps, values, timestamps } = columns
  const count = values.length
  const at = steps.byteOffset - 8
  if (
    at >= 0 &&
    steps.length === count &&
    timestamps.length === count &&
    values.buffer === steps.buffer &&
    timestamps.buffer === steps.buffer &&
    values.byteOffset === steps.byteOffset + count * 8 &&
    timestamps.byteOffset === steps.byteOffset + count * 16
  ) {
    const chunk = Buffer.from(steps.buffer, at, 8 + count * 24)
    if (chunk.readUInt32LE(0) === METRIC_MAGIC && chunk.readUInt32LE(4) === count) return chunk
  }
  return encodeMetricChunk(columns)
}

/** A metric series without its timestamps: what a chart needs. */
export interface MetricStepsValues {
  steps: Float64Array
  values: Float64Array
}

/**
 * The steps and values of a metric chunk from its first 8 + 16 × count bytes (header, steps,
 * values: the layout of encodeMetricChunk), so a reader may leave the timestamps in the database.
 */
export function decodeMetricChunkStepsValues(bytes: Uint8Array): MetricStepsValues {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (view.length < 8 || view.readUInt32LE(0) !== METRIC_MAGIC) throw corrupt('metric chunk')
  const count = view.readUInt32LE(4)
  if (view.length !== 8 + count * 16) throw corrupt('metric chunk')
  return { steps: readFloats(view, 8, count), values: readFloats(view, 8 + count * 8, count) }
}

/** Chunks' steps and values end to end; one chunk is returned as it is (no copy). */
export function concatStepsValues(chunks: MetricStepsValues[]): MetricStepsValues {
  if (chunks.length === 1) return chunks[0]
  const total = chunks.reduce((sum, c) => sum + c.values.length, 0)
  const out: MetricStepsValues = { steps: new Float64Array(total), values: new Float64Array(total) }
  let offset = 0
  for (const c of chunks) {
    out.steps.set(c.steps, offset)
    out.values.set(c.values, offset)
    offset += c.values.length
  }
  return out
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

/**
 * One chunk of eval records. Numbers are float64 columns; example ids are one NUL-joined UTF-8
 * string (ids cannot contain NUL) and clusters a dictionary plus uint32 codes, because a JSON
 * array of a million strings costs more to parse and collect than everything else together.
 */
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
  numeric: string[]
  missing: Record<string, number[]>
  /** Distinct cluster ids; the codes column indexes into it (NO_CLUSTER for none). */
  clusterValues: string[] | null
  outputHashes: (string | null)[] | null
  idsBytes: number
}

const NO_CLUSTER = 0xffffffff

export function encodeEvalChunk(chunk: EvalChunk): Buffer {
  const count = chunk.ids.length
  const names = [...chunk.numeric.keys()]
  let clusterValues: string[] | null = null
  let codes: Uint32Array | null = null
  if (chunk.clusters !== null) {
    const index = new Map<string, number>()
    codes = new Uint32Array(count)
    for (let i = 0; i < count; i++) {
      const cluster = chunk.clusters[i]
      if (cluster === null) {
        codes[i] = NO_CLUSTER
        continue
      }
      let code = index.get(cluster)
      if (code === undefined) {
        code = index.size
        index.set(cluster, code)
      }
      codes[i] = code
    }
    clusterValues = [...index.keys()]
  }
  const idBytes = Buffer.from(chunk.ids.join('\u0000'), 'utf8')
  const header: EvalHeader = {
    count,
    numeric: names,
    missing: Object.fromEntries(chunk.missing),
    clusterValues,
    outputHashes: chunk.outputHashes,
    idsBytes: idBytes.length,
  }
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8')
  const floatsAt = align8(8 + headerBytes.length)
  const codesAt = floatsAt + names.length * count * 8
  const idsAt = codesAt + (codes === null ? 0 : count * 4)
  const out = Buffer.alloc(idsAt + idBytes.length)
  out.writeUInt32LE(EVAL_MAGIC, 0)
  out.writeUInt32LE(headerBytes.length, 4)
  headerBytes.copy(out, 8)
  names.forEach((name, i) => copyFloats(out, floatsAt + i * count * 8, chunk.numeric.get(name) as Float64Array, count))
  if (codes !== null) Buffer.from(codes.buffer, codes.byteOffset, count * 4).copy(out, codesAt)
  idBytes.copy(out, idsAt)
  return out
}

export function decodeEvalChunk(bytes: Uint8Array): EvalChunk {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (view.length < 8 || view.readUInt32LE(0) !== EVAL_MAGIC) throw corrupt('eval chunk')
  const headerLength = view.readUInt32LE(4)
  const header = JSON.parse(view.toString('utf8', 8, 8 + headerLength)) as EvalHeader
  const { count } = header
  const floatsAt = align8(8 + headerLength)
  const codesAt = floatsAt + header.numeric.length * count * 8
  const idsAt = codesAt + (header.clusterValues === null ? 0 : count * 4)
  if (view.length !== idsAt + header.idsBytes) throw corrupt('eval chunk')
  const numeric = new Map<string, Float64Array>()
  header.numeric.forEach((name, i) => numeric.set(name, readFloats(view, floatsAt + i * count * 8, count)))
  let clusters: (string | null)[] | null = null
  if (header.clusterValues !== null) {
    const values = header.clusterValues
    clusters = new Array(count)
    for (let i = 0; i < count; i++) {
      const code = view.readUInt32LE(codesAt + i * 4)
      clusters[i] = code === NO_CLUSTER ? null : values[code]
    }
  }
  const ids = count === 0 ? [] : view.toString('utf8', idsAt, idsAt + header.idsBytes).split('\u0000')
  if (ids.length !== count) throw corrupt('eval chunk')
  return { ids, clusters, outputHashes: header.outputHashes, numeric, missing: new Map(Object.entries(header.missing)) }
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
