/**
 * OTLP/HTTP ingest through a real `assay server` on a loopback port: requests built by the real
 * OpenTelemetry exporters (protobuf and JSON, gzip or not) arrive intact; hostile requests get
 * 400s with catalogue codes and leave what is stored unchanged.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { after, before, describe, test } from 'node:test'
import { SpanKind, SpanStatusCode, context, trace, type Tracer } from '@opentelemetry/api'
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { ExportTraceServiceRequest, ExportTraceServiceResponse } from '../../src/otlp/otlp-proto.js'
import { OTLP_BODY_LIMIT } from '../../src/server/routes/otlp.js'
import type { Deployment } from '../../src/record/production.js'
import { buildServer } from '../../src/server/app.js'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { bearer, makeToken, testServer, type TestServer } from '../server/helpers.js'
import { dropSchema, freshSchema } from '../store/backends.js'
import { hex, newDeployment } from './helpers.js'

let server: TestServer
let url: string
let secret: string
let deployment: Deployment

const POSTGRES_URL = process.env.ASSAY_TEST_POSTGRES_URL

/** The server on each backend in turn: SQLite, and PostgreSQL when ASSAY_TEST_POSTGRES_URL is set. */
async function startServer(backend: 'sqlite' | 'postgres'): Promise<TestServer> {
  if (backend === 'sqlite') return testServer()
  const schema = freshSchema()
  const store = await PostgresStore.open(POSTGRES_URL as string, { schema, poolSize: 4 })
  const dir = mkdtempSync(path.join(os.tmpdir(), 'assay-otlp-pg-'))
  const app = await buildServer({ store, auth: { enabled: true }, uploadDir: path.join(dir, 'uploads') })
  return {
    dir, root: dir, uploads: path.join(dir, 'uploads'), store, app,
    async close() {
      await app.close()
      await store.close()
      await dropSchema(POSTGRES_URL as string, schema)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`OTLP ingest on ${backend}`, { skip: backend === 'postgres' && POSTGRES_URL === undefined ? 'ASSAY_TEST_POSTGRES_URL is not set' : undefined }, () => {
    before(async () => {
      server = await startServer(backend)
      await server.app.listen({ host: '127.0.0.1', port: 0 })
      url = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`
      secret = (await makeToken(server.store, 'write')).secret
      deployment = await server.store.createDeployment(newDeployment())
    })
    after(async () => {
      await server.close()
    })
    otlpSuites()
  })
}

type Exporter = ProtoExporter | JsonExporter

/** One LLM request as an application instruments it: a server span, a retrieval span and a chat span. */
async function sendTrace(exporter: Exporter, resource: Record<string, string>): Promise<{ traceId: string; sent: ReadableSpan[] }> {
  const memory = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes(resource), spanProcessors: [new SimpleSpanProcessor(exporter), new SimpleSpanProcessor(memory)] })
  const tracer: Tracer = provider.getTracer('app', '1.0.0')
  const root = tracer.startSpan('POST /answer', { kind: SpanKind.SERVER, attributes: { 'gen_ai.conversation.id': 'conv-9', 'assay.prompt.name': 'qa', 'assay.prompt.version': '4' } })
  const ctx = trace.setSpan(context.active(), root)
  const retrieval = tracer.startSpan('retrieve', { attributes: { 'assay.retrieval.index_version': 'idx-2026-11', 'assay.cost.usd': 0.0005 } }, ctx)
  retrieval.end()
  const chat = tracer.startSpan('chat gpt-x', { kind: SpanKind.CLIENT, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-x', 'gen_ai.usage.input_tokens': 812, 'gen_ai.usage.output_tokens': 64, 'assay.cost.usd': 0.0125, 'assay.guardrail.action': 'redact', 'assay.guardrail.outcome': 'fail', 'tags': ['a', 'b'] } }, ctx)
  chat.addEvent('gen_ai.choice', { index: 0, finish_reason: 'stop' })
  chat.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited once' })
  chat.end()
  root.end()
  await provider.forceFlush()
  const sent = [...memory.getFinishedSpans()]
  await provider.shutdown()
  return { traceId: root.spanContext().traceId, sent }
}

async function assertIntact(traceId: string, sent: readonly ReadableSpan[]): Promise<void> {
  const stored = await server.store.getTrace(traceId)
  assert.equal(sent.length, 3)
  assert.equal(stored.spans.length, sent.length)
  assert.equal(stored.deploymentId, deployment.id)
  for (const s of sent) {
    const got = stored.spans.find((x) => x.spanId === s.spanContext().spanId)
    assert.ok(got, `span ${s.name} arrived`)
    assert.equal(got.name, s.name)
    assert.equal(got.parentSpanId, s.parentSpanContext?.spanId ?? null)
    assert.deepEqual(got.attributes, s.attributes)
    assert.equal(got.startTime, Number(BigInt(s.startTime[0]) * 1_000_000n + BigInt(Math.floor(s.startTime[1] / 1000))) / 1000)
    assert.equal(got.resource['assay.deployment.id'], deployment.id)
    assert.deepEqual(got.events.map((e) => [e.name, e.attributes]), s.events.map((e) => [e.name, e.attributes]))
  }
  const chat = stored.spans.find((x) => x.name === 'chat gpt-x')
  assert.equal(chat?.kind, 'client')
  assert.equal(chat?.status, 'error')
  assert.equal(chat?.statusMessage, 'rate limited once')
  assert.equal(stored.operation, 'chat')
  assert.equal(stored.requestModel, 'gpt-x')
  assert.equal(stored.inputTokens, 812)
  assert.equal(stored.outputTokens, 64)
  assert.equal(stored.conversationId, 'conv-9')
  assert.equal(stored.promptVersion, '4')
  assert.equal(stored.retrievalIndexVersion, 'idx-2026-11')
  assert.ok(Math.abs((stored.costUsd ?? 0) - 0.013) < 1e-12)
  assert.equal(stored.guardrailAction, 'redact')
  assert.equal(stored.guardrailOutcome, 'fail')
  assert.equal(stored.status, 'error')
}

function otlpSuites(): void {
describe('OTLP/HTTP from the OpenTelemetry exporters', () => {
  for (const [name, make] of [
    ['protobuf', () => new ProtoExporter({ url: `${url}/v1/traces`, headers: bearer(secret) })],
    ['protobuf, gzip', () => new ProtoExporter({ url: `${url}/v1/traces`, headers: bearer(secret), compression: 'gzip' as never })],
    ['JSON', () => new JsonExporter({ url: `${url}/v1/traces`, headers: bearer(secret) })],
    ['JSON, gzip', () => new JsonExporter({ url: `${url}/v1/traces`, headers: bearer(secret), compression: 'gzip' as never })],
  ] as const) {
    test(`${name}: spans arrive intact, with the GenAI and assay fields extracted`, async () => {
      const { traceId, sent } = await sendTrace(make(), { 'service.name': 'qa-bot', 'assay.deployment.id': deployment.id })
      await assertIntact(traceId, sent)
    })
  }

  for (const [name, make] of [
    ['protobuf', () => new ProtoExporter({ url: `${url}/v1/traces`, headers: bearer(secret) })],
    ['JSON', () => new JsonExporter({ url: `${url}/v1/traces`, headers: bearer(secret) })],
  ] as const) {
    test(`${name}: a batch of 600 spans (a body decoded in a worker thread) arrives intact, and once when sent again`, async () => {
      const memory = new InMemorySpanExporter()
      const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'qa-bot', 'assay.deployment.id': deployment.id }), spanProcessors: [new SimpleSpanProcessor(memory)] })
      const tracer = provider.getTracer('app')
      for (let i = 0; i < 150; i++) {
        const root = tracer.startSpan(`answer ${i}`, { kind: SpanKind.SERVER, attributes: { 'gen_ai.conversation.id': `conv-${i}` } })
        const ctx = trace.setSpan(context.active(), root)
        for (let k = 0; k < 3; k++) tracer.startSpan(`chat ${k}`, { attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.usage.output_tokens': k + 1, 'output.text': `reply ${i}.${k} `.repeat(10) } }, ctx).end()
        root.end()
      }
      await provider.forceFlush()
      const spans = [...memory.getFinishedSpans()]
      await provider.shutdown()
      const exporter = make()
      for (let round = 0; round < 2; round++) assert.equal(await new Promise<number>((r) => exporter.export(spans, (result) => r(result.code))), 0)
      await exporter.shutdown()
      const roots = spans.filter((s) => s.parentSpanContext === undefined)
      assert.equal(roots.length, 150)
      for (const root of roots) {
        const stored = await server.store.getTrace(root.spanContext().traceId)
        assert.equal(stored.spanCount, 4)
        assert.equal(stored.outputTokens, 6)
        assert.equal(stored.conversationId, root.attributes['gen_ai.conversation.id'])
        const sent = spans.filter((s) => s.spanContext().traceId === root.spanContext().traceId)
        for (const s of sent) assert.deepEqual(stored.spans.find((x) => x.spanId === s.spanContext().spanId)?.attributes, s.attributes)
      }
    })
  }

  test('the exporter without a token is refused (401) and nothing is stored', async () => {
    const before = await server.store.tracesPage({ limit: 1000 })
    const exporter = new ProtoExporter({ url: `${url}/v1/traces` })
    const memory = new InMemorySpanExporter()
    const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'assay.deployment.id': deployment.id }), spanProcessors: [new SimpleSpanProcessor(exporter), new SimpleSpanProcessor(memory)] })
    provider.getTracer('app').startSpan('x').end()
    await provider.forceFlush().catch(() => undefined)
    await provider.shutdown().catch(() => undefined)
    assert.deepEqual(await server.store.tracesPage({ limit: 1000 }), before)
  })
})

/** An ExportTraceServiceRequest built by hand with the same definitions (for hostile variants). */
function request(spans: Record<string, unknown>[], resource: Record<string, unknown>[] = []): Uint8Array {
  return ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject({ resourceSpans: [{ resource: { attributes: resource }, scopeSpans: [{ spans }] }] })).finish()
}

function protoSpan(traceId: string, attributes: Record<string, unknown>[] = [], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    traceId: Buffer.from(traceId, 'hex'),
    spanId: Buffer.from(hex(8), 'hex'),
    name: 'call',
    kind: 3,
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000000500000000',
    attributes: [{ key: 'assay.deployment.id', value: { stringValue: deployment.id } }, ...attributes],
    ...overrides,
  }
}

async function post(body: Uint8Array | string, headers: Record<string, string> = {}): Promise<{ status: number; json: () => unknown; bytes: Buffer }> {
  const response = await fetch(`${url}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf', ...bearer(secret), ...headers } })
  const bytes = Buffer.from(await response.arrayBuffer())
  return { status: response.status, bytes, json: () => JSON.parse(bytes.toString('utf8')) }
}

describe('hostile OTLP requests', () => {
  const stored = async () => JSON.stringify(await server.store.tracesPage({ limit: 1000 }))

  test('bytes that are not protobuf: 400 ASSAY_INVALID_TRACE', async () => {
    const before = await stored()
    const r = await post(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x12]))
    assert.equal(r.status, 400)
    assert.equal((r.json() as { error: { code: string } }).error.code, 'ASSAY_INVALID_TRACE')
    assert.equal(await stored(), before)
  })

  test('an unknown deployment, a missing one, wrong attribute types, missing ids and huge attributes: 400 with catalogue codes', async () => {
    const before = await stored()
    const cases: [Uint8Array, string][] = [
      [request([{ ...protoSpan(hex(16)), attributes: [{ key: 'assay.deployment.id', value: { stringValue: hex(16) } }] }]), 'ASSAY_UNKNOWN_DEPLOYMENT'],
      [request([{ ...protoSpan(hex(16)), attributes: [] }]), 'ASSAY_UNKNOWN_DEPLOYMENT'],
      [request([protoSpan(hex(16), [{ key: 'gen_ai.usage.input_tokens', value: { stringValue: 'lots' } }])]), 'ASSAY_INVALID_TRACE'],
      [request([protoSpan(hex(16), [], { spanId: Buffer.alloc(0) })]), 'ASSAY_INVALID_TRACE'],
      [request([protoSpan(hex(16), [], { traceId: Buffer.alloc(0) })]), 'ASSAY_INVALID_TRACE'],
      [request([protoSpan(hex(16), [], { traceId: Buffer.from('abcd', 'hex') })]), 'ASSAY_INVALID_TRACE'],
      [request([protoSpan(hex(16), [{ key: 'prompt', value: { stringValue: 'x'.repeat(100_000) } }])]), 'ASSAY_INVALID_TRACE'],
      [request([protoSpan(hex(16), [], { startTimeUnixNano: '1700000000500000000', endTimeUnixNano: '1700000000000000000' })]), 'ASSAY_INVALID_TRACE'],
    ]
    for (const [body, code] of cases) {
      const r = await post(body)
      assert.equal(r.status, 400, code)
      assert.equal((r.json() as { error: { code: string } }).error.code, code)
    }
    assert.equal(await stored(), before)
  })

  test('good and bad traces together: the good stored, the bad counted in partial_success', async () => {
    const good = hex(16)
    const r = await post(request([protoSpan(good), protoSpan(hex(16), [{ key: 'assay.cost.usd', value: { stringValue: 'cheap' } }]), protoSpan(hex(16), [], { spanId: Buffer.alloc(3) })]))
    assert.equal(r.status, 200)
    const answer = ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(r.bytes), { longs: Number }) as { partialSuccess: { rejectedSpans: number; errorMessage: string } }
    assert.equal(answer.partialSuccess.rejectedSpans, 2)
    assert.match(answer.partialSuccess.errorMessage, /ASSAY_INVALID_TRACE/)
    assert.equal((await server.store.getTrace(good)).spanCount, 1)
  })

  test('a gzip bomb is refused at the limit (413) without inflating it whole', async () => {
    const bomb = gzipSync(Buffer.alloc(OTLP_BODY_LIMIT + 1024 * 1024))
    const r = await post(bomb, { 'content-encoding': 'gzip' })
    assert.equal(r.status, 413)
    assert.equal((r.json() as { error: { code: string } }).error.code, 'ASSAY_BODY_TOO_LARGE')
  })

  test('JSON with the wrong shape, a wrong content type, an unknown encoding: 400', async () => {
    const json = { 'content-type': 'application/json' }
    assert.equal((await post(JSON.stringify({ resourceSpans: 'no' }), json)).status, 400)
    assert.equal((await post(JSON.stringify([1]), json)).status, 400)
    assert.equal((await post('{', json)).status, 400)
    assert.equal((await post('x', { 'content-type': 'text/plain' })).status, 400)
    assert.equal((await post('x', { 'content-encoding': 'br' })).status, 400)
  })

  test('JSON nested past the depth limit, inside a span or around the request: 413 ASSAY_VALUE_TOO_LARGE, nothing stored', async () => {
    const before = await stored()
    const deep = '{"arrayValue":{"values":['.repeat(60) + '{"intValue":1}' + ']}}'.repeat(60)
    const inSpan = `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"${hex(16)}","spanId":"${hex(8)}","attributes":[{"key":"k","value":${deep}}]}]}]}]}`
    for (const text of [inSpan, '{"resourceSpans":[],"x":' + '['.repeat(200) + ']'.repeat(200) + '}']) {
      const r = await post(text, { 'content-type': 'application/json' })
      assert.equal(r.status, 413)
      assert.equal((r.json() as { error: { code: string } }).error.code, 'ASSAY_VALUE_TOO_LARGE')
    }
    assert.equal(await stored(), before)
  })

  test('the X-Assay-Deployment header names the deployment of spans that do not', async () => {
    const traceId = hex(16)
    const body = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId, spanId: hex(8), name: 'x', kind: 1, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: 1700000000100000000 }] }] }] })
    const r = await post(body, { 'content-type': 'application/json', 'x-assay-deployment': deployment.id })
    assert.equal(r.status, 200)
    assert.deepEqual(r.json(), {})
    assert.equal((await server.store.getTrace(traceId)).latencyMs, 100)
  })

  test('a gzip body that inflates past the inline limit, decoded in a thread: the header names the deployment, and bad traces in it are counted', async () => {
    const named = Array.from({ length: 200 }, () => hex(16))
    const spans: Record<string, unknown>[] = named.map((traceId) => ({ ...protoSpan(traceId, [], { name: 'y'.repeat(500) }), attributes: [] }))
    const bad = hex(16)
    spans.push({ ...protoSpan(bad), attributes: [{ key: 'gen_ai.usage.input_tokens', value: { stringValue: 'many' } }] })
    const raw = request(spans)
    assert.ok(raw.length > 64 * 1024)
    const r = await post(gzipSync(raw), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip', 'x-assay-deployment': deployment.id })
    assert.equal(r.status, 200)
    const answer = ExportTraceServiceResponse.decode(r.bytes) as unknown as { partialSuccess?: { rejectedSpans: { toNumber(): number } | number; errorMessage: string } }
    assert.equal(Number(answer.partialSuccess?.rejectedSpans), 1)
    assert.match(answer.partialSuccess?.errorMessage ?? '', /ASSAY_INVALID_TRACE/)
    for (const traceId of named) assert.equal((await server.store.getTrace(traceId)).deploymentId, deployment.id)
    await assert.rejects(server.store.getTrace(bad), { code: 'ASSAY_TRACE_NOT_FOUND' })
  })
})
}
