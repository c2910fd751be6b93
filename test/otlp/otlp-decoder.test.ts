/**
 * The OTLP route's decode threads (src/server/otlp-decoder.ts): a body past INLINE_BYTES is
 * decoded and prepared in a worker thread with the same result as in place, its refusal keeps its
 * catalogue code, concurrent bodies spread over the threads, and a thread that dies fails only
 * what it held. Bodies are encoded by the real OpenTelemetry exporters (protobuf and JSON),
 * captured by a local server.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, test } from 'node:test'
import { context, trace } from '@opentelemetry/api'
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { isAssayError } from '../../src/errors.js'
import { parseOtlpJsonBySpan } from '../../src/otlp/otlp-json.js'
import { decodeAndPrepare, INLINE_BYTES, OtlpDecoder, type DecodedRequest } from '../../src/server/otlp-decoder.js'
import { JSON_DEPTH_LIMIT } from '../../src/server/request-body.js'

const DEPLOYMENT = 'd'.repeat(32)

/** `traces` traces of 4 spans each, made by the real SDK, with GenAI attributes and a long output. */
async function makeSpans(traces: number): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'qa', 'assay.deployment.id': DEPLOYMENT }), spanProcessors: [new SimpleSpanProcessor(memory)] })
  const tracer = provider.getTracer('t')
  for (let i = 0; i < traces; i++) {
    // The parent named explicitly: a bare provider registers no context manager.
    const root = tracer.startSpan(`answer ${i}`)
    const parent = trace.setSpan(context.active(), root)
    for (let k = 0; k < 3; k++) {
      const child = tracer.startSpan(`chat ${k}`, { attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': 100 + k, 'gen_ai.usage.output_tokens': i, 'assay.cost.usd': 0.001 * k, 'output.text': `answer ${i}.${k} `.repeat(8) } }, parent)
      child.addEvent('gen_ai.choice', { index: k })
      child.end()
    }
    root.end()
  }
  await provider.forceFlush()
  const spans = [...memory.getFinishedSpans()]
  await provider.shutdown()
  return spans
}

/** The body a real exporter sends for these spans, captured. */
async function encode(kind: 'protobuf' | 'json', spans: ReadableSpan[]): Promise<Buffer> {
  let body: Buffer | undefined
  const capture = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      body = Buffer.concat(chunks)
      res.writeHead(200, { 'content-type': kind === 'protobuf' ? 'application/x-protobuf' : 'application/json' }).end(kind === 'json' ? '{}' : undefined)
    })
  })
  await new Promise<void>((r) => capture.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(capture.address() as { port: number }).port}/v1/traces`
  const exporter = kind === 'protobuf' ? new ProtoExporter({ url }) : new JsonExporter({ url })
  const code = await new Promise<number>((r) => exporter.export(spans, (result) => r(result.code)))
  await exporter.shutdown()
  capture.close()
  assert.equal(code, 0)
  return body as Buffer
}

/** A result with its keys as plain byte arrays, to compare one from a thread (Uint8Array views) with one from in place (Buffers). */
function comparable(decoded: DecodedRequest): unknown {
  return { ...decoded, prepared: { ...decoded.prepared, traces: decoded.prepared.traces.map((t) => ({ ...t, keys: [...t.keys] })) } }
}

let bodies: { protobuf: Buffer; json: Buffer }
let decoder: OtlpDecoder

before(async () => {
  const spans = await makeSpans(150)
  bodies = { protobuf: await encode('protobuf', spans), json: await encode('json', spans) }
  decoder = new OtlpDecoder(2)
})
after(() => decoder.close())

test('a body past the inline limit is decoded in a thread, with the result of the decode in place', async () => {
  for (const encoding of ['protobuf', 'json'] as const) {
    const bytes = bodies[encoding]
    assert.ok(bytes.length > INLINE_BYTES, `${encoding} body of ${bytes.length} bytes is past ${INLINE_BYTES}`)
    const threaded = await decoder.decode({ bytes, encoding })
    assert.equal(decoder.started, 1, 'one thread started, then reused while idle')
    const inPlace = decodeAndPrepare({ bytes, encoding })
    // The exporter's JSON takes the span-by-span parse (otlp-json.ts), not the whole-body one it falls back to.
    if (encoding === 'json') assert.deepEqual(parseOtlpJsonBySpan(bytes, JSON_DEPTH_LIMIT), JSON.parse(bytes.toString('utf8')))
    assert.equal(threaded.prepared.traces.length, 150)
    assert.equal(threaded.prepared.traces.reduce((n, t) => n + t.spanCount, 0), 600)
    assert.deepEqual([threaded.prepared.rejected, threaded.decodeRejected], [[], []])
    assert.deepEqual(comparable(threaded), comparable(inPlace))
    for (const t of threaded.prepared.traces) {
      assert.equal(t.deploymentId, DEPLOYMENT)
      assert.equal(t.keys.byteLength, 40 * t.spanCount)
      assert.equal(t.text.split('\n').length, t.spanCount)
    }
  }
})

test('concurrent bodies spread over the threads and each comes back whole', async () => {
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => decoder.decode({ bytes: i % 2 === 0 ? bodies.protobuf : bodies.json, encoding: i % 2 === 0 ? 'protobuf' : 'json' })))
  assert.equal(decoder.started, 2)
  const expected = comparable(decodeAndPrepare({ bytes: bodies.protobuf, encoding: 'protobuf' }))
  for (const r of results) assert.deepEqual(comparable(r), expected)
})

test('a large body that is not OTLP is refused from the thread with its catalogue code', async () => {
  const junk = Buffer.alloc(INLINE_BYTES + 10, 0xff)
  await assert.rejects(decoder.decode({ bytes: junk, encoding: 'protobuf' }), (e: unknown) => isAssayError(e) && e.code === 'ASSAY_INVALID_TRACE')
  await assert.rejects(decoder.decode({ bytes: Buffer.alloc(INLINE_BYTES + 10, 0x41), encoding: 'json' }), (e: unknown) => isAssayError(e) && e.code === 'ASSAY_MALFORMED_JSON')
  const deep = Buffer.from(`{"resourceSpans":[],"pad":"${'p'.repeat(INLINE_BYTES)}","x":${'['.repeat(JSON_DEPTH_LIMIT)}${']'.repeat(JSON_DEPTH_LIMIT)}}`)
  await assert.rejects(decoder.decode({ bytes: deep, encoding: 'json' }), (e: unknown) => isAssayError(e) && e.code === 'ASSAY_VALUE_TOO_LARGE')
  // The thread is still there for the next body.
  assert.equal((await decoder.decode({ bytes: bodies.protobuf, encoding: 'protobuf' })).prepared.traces.length, 150)
})

test('a thread that dies fails the body it held and no other: the body waiting for it goes to a new thread', async () => {
  const own = new OtlpDecoder(1)
  try {
    const held = own.decode({ bytes: bodies.json, encoding: 'json' })
    const waiting = own.decode({ bytes: bodies.protobuf, encoding: 'protobuf' })
    await own.stopThread(0)
    await assert.rejects(held, /OTLP decode thread exited/)
    assert.equal((await waiting).prepared.traces.length, 150)
    assert.equal(own.started, 2)
  } finally {
    await own.close()
  }
})

test('an owned body is moved to the thread, not copied; one not owned is left as it was', async () => {
  const own = new OtlpDecoder(1)
  try {
    const mine = Buffer.from(bodies.protobuf)
    assert.equal((await own.decode({ bytes: mine, encoding: 'protobuf' }, { owned: true })).prepared.traces.length, 150)
    assert.equal(mine.buffer.byteLength, 0, 'the buffer went to the thread')
    const kept = Buffer.from(bodies.protobuf)
    await own.decode({ bytes: kept, encoding: 'protobuf' })
    assert.ok(kept.equals(bodies.protobuf))
  } finally {
    await own.close()
  }
})

test('close decodes the bodies still waiting in place', async () => {
  const own = new OtlpDecoder(1)
  const running = own.decode({ bytes: bodies.json, encoding: 'json' })
  const waiting = own.decode({ bytes: bodies.protobuf, encoding: 'protobuf' })
  await own.close()
  assert.equal((await waiting).prepared.traces.length, 150)
  await running.then(() => {}, () => {})
})

test('no threads (0) and small bodies decode in place', async () => {
  const none = new OtlpDecoder(0)
  assert.equal((await none.decode({ bytes: bodies.protobuf, encoding: 'protobuf' })).prepared.traces.length, 150)
  assert.equal(none.started, 0)
  const small = await encode('protobuf', (await makeSpans(2)))
  const own = new OtlpDecoder(2)
  assert.equal((await own.decode({ bytes: small, encoding: 'protobuf' })).prepared.traces.length, 2)
  assert.equal(own.started, 0)
  await own.close()
  assert.throws(() => new OtlpDecoder(-1), /whole number/)
  assert.throws(() => new OtlpDecoder(65), /from 0 to 64/)
})
