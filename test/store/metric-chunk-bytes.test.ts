import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeMetricChunk, encodeMetricChunk, metricChunkBytes } from '../../src/store/chunk-codec.js'
import { decodeBatchFrame, encodeBatchFrame } from '../../src/store/http/wire.js'

const columns = (n: number) => ({
  steps: Float64Array.from({ length: n }, (_, i) => i),
  values: Float64Array.from({ length: n }, (_, i) => (i === 3 ? NaN : Math.sin(i))),
  timestamps: new Float64Array(n).fill(1_700_000_000_000),
})

/** Whether two byte views are the same memory (small buffers share Node's pool, so the ArrayBuffer alone does not tell). */
const sameMemory = (a: Uint8Array, b: Uint8Array) => a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.byteLength === b.byteLength

test('a chunk decoded with share is read in place and stored as the same bytes, not a copy', () => {
  const chunk = encodeMetricChunk(columns(100))
  const shared = decodeMetricChunk(chunk, true)
  assert.equal(shared.steps.buffer, chunk.buffer)
  const bytes = metricChunkBytes(shared)
  assert.ok(sameMemory(bytes, chunk))
  assert.deepEqual(bytes, chunk)
})

test('a chunk at an offset that is not a multiple of 8 is copied, and encodes to the same bytes', () => {
  const chunk = encodeMetricChunk(columns(10))
  const holder = Buffer.alloc(chunk.length + 3)
  chunk.copy(holder, 3)
  const shifted = holder.subarray(3)
  assert.notEqual(shifted.byteOffset % 8, 0)
  const decoded = decodeMetricChunk(shifted, true)
  assert.notEqual(decoded.steps.buffer, holder.buffer)
  assert.deepEqual(metricChunkBytes(decoded), chunk)
})

test('columns that only look like a chunk in memory are encoded, never taken as they lie', () => {
  // Three columns laid out one after another in one buffer, but without a chunk header before them.
  const n = 5
  const raw = new Float64Array(1 + 3 * n)
  const steps = raw.subarray(1, 1 + n)
  const values = raw.subarray(1 + n, 1 + 2 * n)
  const timestamps = raw.subarray(1 + 2 * n)
  steps.set([0, 1, 2, 3, 4])
  values.set([1, 2, 3, 4, 5])
  const bytes = metricChunkBytes({ steps, values, timestamps })
  assert.notEqual(bytes.buffer, raw.buffer)
  assert.deepEqual(decodeMetricChunk(bytes), { steps, values, timestamps })
  // A shared decode whose columns were sliced afterwards no longer matches its header's count.
  const chunk = encodeMetricChunk(columns(8))
  const shared = decodeMetricChunk(chunk, true)
  const sliced = { steps: shared.steps.subarray(0, 4), values: shared.values.subarray(0, 4), timestamps: shared.timestamps.subarray(0, 4) }
  const re = metricChunkBytes(sliced)
  assert.ok(!sameMemory(re, chunk))
  assert.equal(re.readUInt32LE(4), 4)
  assert.deepEqual(decodeMetricChunk(re), { steps: sliced.steps, values: sliced.values, timestamps: sliced.timestamps })
})

test('a binary batch frame yields its series in place, every float exactly as sent', () => {
  const a = columns(7)
  const b = columns(3)
  const frame = encodeBatchFrame({ batchId: 'x', metrics: [{ key: 'a', ...a }, { key: 'b', ...b }] })
  assert.equal(frame.byteOffset % 8, 0)
  const decoded = decodeBatchFrame(frame)
  const first = decoded.series(7, 0)
  const second = decoded.series(3, 1)
  assert.equal(first.values.buffer, frame.buffer)
  assert.deepEqual(first, a)
  assert.deepEqual(second, b)
  assert.ok(Number.isNaN(first.values[3]))
  assert.deepEqual(metricChunkBytes(second), encodeMetricChunk(b))
})
