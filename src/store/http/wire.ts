import { AssayError } from '../../errors.js'
import type { DatasetVersion, EvalColumns, Params } from '../../record/types.js'
import { decodeMetricChunk, encodeMetricChunk, type EvalChunk, type MetricColumns } from '../chunk-codec.js'
import type { RunBatch } from '../store.js'

/**
 * What travels between HttpStore and `assay server` besides plain JSON (docs/server.md).
 *
 * A binary batch (Content-Type application/octet-stream on POST /api/v1/runs/:id/batch):
 *
 *   u32 LE magic 0x42415341 ("ASAB") | u32 LE header length H | H bytes of JSON header,
 *   zero-padded to a multiple of 8 | for each header.metrics[i], one metric chunk of the chunk
 *   codec (src/store/chunk-codec.ts: "ASAM", count, steps, values, timestamps as float64 LE),
 *   exactly 8 + 24 × count bytes.
 *
 * The header is { batchId?, params?, tags?, datasets?, metrics: [{ key, count }] }. Floats travel as
 * their bytes, so NaN, ±Infinity and -0 arrive exactly as logged.
 */
export const BATCH_MAGIC = 0x42415341

export interface BatchHeader {
  batchId?: string
  params?: Params
  tags?: Record<string, string>
  datasets?: DatasetVersion[]
  metrics: { key: string; count: number }[]
}

export function encodeBatchFrame(batch: RunBatch): Buffer {
  const metrics = (batch.metrics ?? []).filter((s) => s.values.length > 0)
  const header: BatchHeader = { metrics: metrics.map((s) => ({ key: s.key, count: s.values.length })) }
  if (batch.batchId !== undefined) header.batchId = batch.batchId
  if (batch.params !== undefined) header.params = batch.params
  if (batch.tags !== undefined) header.tags = batch.tags
  if (batch.datasets !== undefined) header.datasets = batch.datasets
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8')
  const chunksAt = align8(8 + headerBytes.length)
  const total = chunksAt + metrics.reduce((sum, s) => sum + 8 + 24 * s.values.length, 0)
  const out = Buffer.alloc(total)
  out.writeUInt32LE(BATCH_MAGIC, 0)
  out.writeUInt32LE(headerBytes.length, 4)
  headerBytes.copy(out, 8)
  let offset = chunksAt
  for (const s of metrics) {
    const chunk = encodeMetricChunk(s)
    chunk.copy(out, offset)
    offset += chunk.length
  }
  return out
}

/**
 * Split a binary batch into its JSON header (still to be validated) and its metric series. The
 * series are views into `bytes` (no copy) where its alignment allows: the caller owns the body
 * and does not change it.
 */
export function decodeBatchFrame(bytes: Buffer): { header: unknown; series: (count: number, index: number) => MetricColumns } {
  if (bytes.length < 8 || bytes.readUInt32LE(0) !== BATCH_MAGIC) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', 'the body is not a binary batch: it must start with the magic "ASAB" (docs/server.md)', { field: 'body' })
  }
  const headerLength = bytes.readUInt32LE(4)
  if (8 + headerLength > bytes.length) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'the binary batch header is longer than the body', { field: 'body' })
  let header: unknown
  try {
    header = JSON.parse(bytes.toString('utf8', 8, 8 + headerLength))
  } catch {
    throw new AssayError('ASSAY_MALFORMED_JSON', 'the header of the binary batch is not valid JSON', { field: 'header' })
  }
  let offset = align8(8 + headerLength)
  const series = (count: number, index: number): MetricColumns => {
    const size = 8 + 24 * count
    if (offset + size > bytes.length) {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `metric chunk ${index} of the binary batch is cut short`, { field: `metrics.${index}` })
    }
    let columns
    try {
      columns = decodeMetricChunk(bytes.subarray(offset, offset + size), true)
    } catch {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `metric chunk ${index} of the binary batch is not a metric chunk of ${count} points`, { field: `metrics.${index}` })
    }
    offset += size
    return columns
  }
  return { header, series }
}

export function batchFrameEnd(bytes: Buffer, header: BatchHeader): number {
  return align8(8 + bytes.readUInt32LE(4)) + header.metrics.reduce((sum, m) => sum + 8 + 24 * m.count, 0)
}

/** NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity" (JSON cannot hold them). */
export function encodeJson(value: unknown): string {
  // A replacer costs a call for every value; most answers hold no NaN or ±Infinity, and a walk tells.
  return holdsNonFinite(value) ? JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) : JSON.stringify(value)
}

/** Whether JSON.stringify would meet NaN or ±Infinity in `value` (or cannot tell: a toJSON method). */
function holdsNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value)
  if (typeof value !== 'object' || value === null) return false
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return true
  if (Array.isArray(value)) return value.some(holdsNonFinite)
  for (const key in value) if (holdsNonFinite((value as Record<string, unknown>)[key])) return true
  return false
}

export function reviveNumber(value: unknown): number {
  if (typeof value === 'number') return value
  if (value === 'NaN') return NaN
  if (value === 'Infinity') return Infinity
  if (value === '-Infinity') return -Infinity
  return NaN
}

/** Eval columns as one eval chunk, so they travel as the chunk codec's bytes (exact floats). */
export function evalColumnsToChunk(columns: EvalColumns): EvalChunk {
  const numeric = new Map<string, Float64Array>()
  for (const [name, values] of Object.entries(columns.scores)) numeric.set(`score:${name}`, values)
  for (const field of ['latencyMs', 'tokens', 'cost'] as const) {
    const values = columns[field]
    if (values !== null) numeric.set(field, values)
  }
  return {
    ids: columns.ids,
    clusters: columns.clusters,
    outputHashes: columns.outputHashes,
    numeric,
    missing: new Map(Object.entries(columns.missing)),
  }
}

function align8(n: number): number {
  return (n + 7) & ~7
}
