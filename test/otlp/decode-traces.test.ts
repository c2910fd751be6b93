/**
 * The protobuf path reads decoded messages directly (no toObject copy) and converts times and
 * 64-bit integers without BigInt: the same request in protobuf and in OTLP/JSON decodes to the
 * same traces, times are exact to the microsecond against BigInt arithmetic, and fields a
 * protobuf message only has as prototype defaults count as missing.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { decodeJsonTraces, decodeProtobufTraces } from '../../src/otlp/decode-traces.js'
import protobuf from 'protobufjs'
import { ExportTraceServiceRequest, OTLP_TRACE_PROTO } from '../../src/otlp/otlp-proto.js'

interface Value {
  proto: Record<string, unknown>
  json: Record<string, unknown>
}

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
const scalar: fc.Arbitrary<Value> = fc.oneof(
  fc.string().map((s) => ({ proto: { stringValue: s }, json: { stringValue: s } })),
  fc.boolean().map((b) => ({ proto: { boolValue: b }, json: { boolValue: b } })),
  fc.oneof(int64, fc.bigInt({ min: -1000n, max: 1000n })).map((n) => ({ proto: { intValue: String(n) }, json: { intValue: String(n) } })),
  // -0 as 0: JSON text has no negative zero (JSON.stringify writes 0), so the JSON twin of a protobuf -0 is 0 (stored alike: canonical JSON writes both as 0).
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (d === 0 ? 0 : d)).map((d) => ({ proto: { doubleValue: d }, json: { doubleValue: d } })),
  fc.uint8Array({ maxLength: 12 }).map((b) => ({ proto: { bytesValue: Buffer.from(b) }, json: { bytesValue: Buffer.from(b).toString('base64') } })),
)
const value: fc.Arbitrary<Value> = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }).map((vs) => ({ proto: { arrayValue: { values: vs.map((v) => v.proto) } }, json: { arrayValue: { values: vs.map((v) => v.json) } } })) },
  {
    weight: 1,
    arbitrary: fc.array(fc.tuple(fc.stringMatching(/^[a-z]{1,6}$/), scalar), { maxLength: 3 }).map((kvs) => ({
      proto: { kvlistValue: { values: kvs.map(([key, v]) => ({ key, value: v.proto })) } },
      json: { kvlistValue: { values: kvs.map(([key, v]) => ({ key, value: v.json })) } },
    })),
  },
)
const attributes = fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z][a-z._]{0,12}$/), value), { selector: ([k]) => k, maxLength: 5 })
// Not 0: proto3 leaves a zero fixed64 off the wire, so it reads as missing (the JSON "0" does not).
const nanos = fc.oneof(fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 1_600_000_000_000_000_000n, max: 1_900_000_000_000_000_000n }))
const span = fc.record({ traceId: fc.uint8Array({ minLength: 16, maxLength: 16 }), spanId: fc.uint8Array({ minLength: 8, maxLength: 8 }), parent: fc.option(fc.uint8Array({ minLength: 8, maxLength: 8 })), start: nanos, end: nanos, kind: fc.integer({ min: 0, max: 5 }), code: fc.integer({ min: 0, max: 2 }), attributes, eventTime: nanos })

type SpanCase = typeof span extends fc.Arbitrary<infer T> ? T : never

function request(spans: SpanCase[], json: boolean): Record<string, unknown> {
  const id = (b: Uint8Array): unknown => (json ? Buffer.from(b).toString('hex') : Buffer.from(b))
  const kv = (a: [string, Value][]) => a.map(([key, v]) => ({ key, value: json ? v.json : v.proto }))
  return {
    resourceSpans: [{
      resource: { attributes: kv([['assay.deployment.id', { proto: { stringValue: 'd'.repeat(32) }, json: { stringValue: 'd'.repeat(32) } }]]) },
      scopeSpans: [{
        spans: spans.map((s) => ({
          traceId: id(s.traceId), spanId: id(s.spanId), ...(s.parent === null ? {} : { parentSpanId: id(s.parent) }), name: 'op', kind: s.kind,
          startTimeUnixNano: String(s.start), endTimeUnixNano: String(s.end), attributes: kv(s.attributes), status: { code: s.code, message: 'm' },
          events: [{ timeUnixNano: String(s.eventTime), name: 'e', attributes: kv(s.attributes) }],
        })),
      }],
    }],
  }
}

const encode = (message: Record<string, unknown>): Uint8Array => ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(message)).finish()

test('the same request in protobuf and in JSON decodes to the same traces; times exact to the microsecond', () => {
  fc.assert(
    fc.property(fc.array(span, { minLength: 1, maxLength: 4 }), (spans) => {
      const fromProto = decodeProtobufTraces(encode(request(spans, false)))
      const fromJson = decodeJsonTraces(JSON.parse(JSON.stringify(request(spans, true))))
      assert.deepEqual(fromProto, fromJson)
      const decoded = fromProto.traces.flatMap((t) => t.spans)
      for (const s of spans) {
        const id = Buffer.from(s.spanId).toString('hex')
        // A span id given twice (fast-check shrinks ids to zeros) names two spans: their times are not told apart here.
        if (spans.filter((o) => Buffer.from(o.spanId).toString('hex') === id).length > 1) continue
        const got = decoded.find((d) => d.spanId === id)
        if (got === undefined) continue
        assert.equal(got.startTime, Number(s.start / 1000n) / 1000)
        assert.equal(got.events[0].time, Number(s.eventTime / 1000n) / 1000)
      }
    }),
  )
})

test('64-bit integer attributes round as Number of their decimal text does, negatives included', () => {
  for (const n of [0n, -1n, -5n, 2n ** 53n + 1n, -(2n ** 53n) - 3n, 2n ** 63n - 1n, -(2n ** 63n), 4294967295n, -4294967296n]) {
    const message = request([{ traceId: new Uint8Array(16).fill(1), spanId: new Uint8Array(8).fill(2), parent: null, start: 1n, end: 2n, kind: 0, code: 0, attributes: [['n', { proto: { intValue: String(n) }, json: {} }]], eventTime: 1n }], false)
    const [trace] = decodeProtobufTraces(encode(message)).traces
    assert.equal(trace.spans[0].attributes.n, Number(String(n)), String(n))
  }
})

test('a protobuf span without a start time or span id is rejected, as its JSON twin is; without a parent it is a root', () => {
  const base = { traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), startTimeUnixNano: '5000', endTimeUnixNano: '9000' }
  const one = (s: Record<string, unknown>) => ({ resourceSpans: [{ scopeSpans: [{ spans: [s] }] }] })
  const { startTimeUnixNano: _, ...noStart } = base
  const { spanId: __, ...noSpanId } = base
  assert.match(decodeProtobufTraces(encode(one(noStart)), 'd'.repeat(32)).rejected[0].message, /startTimeUnixNano is missing/)
  assert.match(decodeProtobufTraces(encode(one(noSpanId)), 'd'.repeat(32)).rejected[0].message, /has no span id/)
  const [root] = decodeProtobufTraces(encode(one(base)), 'd'.repeat(32)).traces
  assert.equal(root.spans[0].parentSpanId, null)
  assert.equal(root.spans[0].startTime, 0.005)
  assert.deepEqual(root.spans[0].attributes, {})
})

test('an AnyValue keeps a default value it sets (empty text, false, 0) and is refused when it sets two values, in both encodings', () => {
  const one = (value: Record<string, unknown>, json: boolean): Record<string, unknown> => ({
    resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: json ? '01'.repeat(16) : Buffer.alloc(16, 1), spanId: json ? '02'.repeat(8) : Buffer.alloc(8, 2), startTimeUnixNano: '5000', endTimeUnixNano: '9000', attributes: [{ key: 'a', value }] }] }] }],
  })
  const decode = (value: Record<string, unknown>, jsonValue = value): [ReturnType<typeof decodeProtobufTraces>, ReturnType<typeof decodeJsonTraces>] => [
    decodeProtobufTraces(encode(one(value, false)), 'd'.repeat(32)),
    decodeJsonTraces(JSON.parse(JSON.stringify(one(jsonValue, true))), 'd'.repeat(32)),
  ]
  for (const [value, expected] of [[{ stringValue: '' }, ''], [{ boolValue: false }, false], [{ intValue: '0' }, 0], [{ doubleValue: 0 }, 0]] as const) {
    for (const decoded of decode(value)) assert.equal(decoded.traces[0].spans[0].attributes.a, expected, JSON.stringify(value))
  }
  for (const decoded of decode({ stringValue: 'x', boolValue: true })) {
    assert.equal(decoded.traces.length, 0)
    assert.equal(decoded.rejected[0].code, 'ASSAY_INVALID_TRACE')
    assert.match(decoded.rejected[0].message, /sets stringValue and boolValue; an AnyValue holds one value/)
  }
})

test('an AnyValue with no field is null; two fields nested in an array are refused; a JSON field given as null counts as unset', () => {
  const one = (value: Record<string, unknown>, json: boolean): Record<string, unknown> => ({
    resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: json ? '01'.repeat(16) : Buffer.alloc(16, 1), spanId: json ? '02'.repeat(8) : Buffer.alloc(8, 2), startTimeUnixNano: '5000', endTimeUnixNano: '9000', attributes: [{ key: 'a', value }] }] }] }],
  })
  const both = (value: Record<string, unknown>) => [decodeProtobufTraces(encode(one(value, false)), 'd'.repeat(32)), decodeJsonTraces(JSON.parse(JSON.stringify(one(value, true))), 'd'.repeat(32))]
  for (const decoded of both({})) assert.equal(decoded.traces[0].spans[0].attributes.a, null)
  for (const decoded of both({ arrayValue: { values: [{ stringValue: 'x' }, { stringValue: 'y', doubleValue: 1.5 }] } })) {
    assert.match(decoded.rejected[0]?.message ?? '', /\.a\.1 sets stringValue and doubleValue/)
  }
  const [fromJson] = decodeJsonTraces(JSON.parse(JSON.stringify(one({ stringValue: 'x', intValue: null }, true))), 'd'.repeat(32)).traces
  assert.equal(fromJson.spans[0].attributes.a, 'x')
})

test('a request encoded with upstream AnyValue (a oneof) decodes as with the optional fields it is read with', () => {
  const upstreamText = OTLP_TRACE_PROTO.replace(/message AnyValue \{[^}]*\}/, `message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}`)
  assert.notEqual(upstreamText, OTLP_TRACE_PROTO)
  const Upstream = protobuf.parse(upstreamText, { keepCase: false }).root.lookupType('opentelemetry.proto.ExportTraceServiceRequest')
  fc.assert(
    fc.property(fc.array(span, { minLength: 1, maxLength: 4 }), (spans) => {
      const bytes = Upstream.encode(Upstream.fromObject(request(spans, false))).finish()
      assert.deepEqual(decodeProtobufTraces(bytes), decodeJsonTraces(JSON.parse(JSON.stringify(request(spans, true)))))
    }),
  )
})
