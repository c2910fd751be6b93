import { AssayError } from '../errors.js'
import { spanDeploymentId, type SpanEvent, type SpanStatus, type TraceInput, type TraceSpan } from '../record/production.js'
import type { JsonValue } from '../record/types.js'
import { ExportTraceServiceRequest, ExportTraceServiceResponse } from './otlp-proto.js'

/**
 * OTLP/HTTP trace requests (protobuf or JSON) to assay traces: spans grouped by trace id, each
 * carrying its resource's attributes, and each trace given its deployment (assay.deployment.id of
 * its spans or their resources, else the request's default). Spans that cannot belong to any
 * trace (no trace id) and traces without one deployment are counted as rejected here; everything
 * else is checked by the store (record/production.ts validateTraceInput).
 */
export interface DecodedTraces {
  traces: TraceInput[]
  rejected: { spans: number; code: string; message: string }[]
}

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer']
const STATUSES: SpanStatus[] = ['unset', 'ok', 'error']
/** Nesting of array and kvlist values kept; deeper values are refused as a malformed trace. */
const VALUE_DEPTH = 16

/** A protobuf ExportTraceServiceRequest; bytes that do not decode are ASSAY_INVALID_TRACE. */
export function decodeProtobufTraces(bytes: Uint8Array, defaultDeployment?: string): DecodedTraces {
  let message: Record<string, unknown>
  try {
    // The decoded message is read as it is (no toObject copy): ids are Buffers over the body,
    // 64-bit integers Long objects, and an AnyValue's one set field is its one own property (setField).
    // Given a Buffer, protobufjs hands ids out as Buffers too (a plain Uint8Array, as from a worker thread, would give Uint8Arrays).
    const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    message = ExportTraceServiceRequest.decode(buffer) as unknown as Record<string, unknown>
  } catch (error) {
    throw new AssayError('ASSAY_INVALID_TRACE', `the body is not an OTLP ExportTraceServiceRequest (protobuf): ${(error as Error).message}`, { field: 'body' })
  }
  return group(message, 'protobuf', defaultDeployment)
}

/** An OTLP/JSON ExportTraceServiceRequest (ids in hex, as the OTLP/JSON encoding has them). */
export function decodeJsonTraces(body: unknown, defaultDeployment?: string): DecodedTraces {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new AssayError('ASSAY_INVALID_TRACE', 'the body is not an OTLP ExportTraceServiceRequest (JSON object with resourceSpans)', { field: 'body' })
  return group(body as Record<string, unknown>, 'json', defaultDeployment)
}

/** The OTLP answer: partial_success when spans were rejected (an empty message otherwise). */
export function encodeExportResponse(rejectedSpans: number, message: string, encoding: 'protobuf' | 'json'): Buffer | Record<string, unknown> {
  const body = rejectedSpans === 0 && message === '' ? {} : { partialSuccess: { rejectedSpans: String(rejectedSpans), errorMessage: message } }
  if (encoding === 'json') return rejectedSpans === 0 && message === '' ? {} : { partialSuccess: { rejectedSpans, errorMessage: message } }
  return Buffer.from(ExportTraceServiceResponse.encode(ExportTraceServiceResponse.fromObject(body)).finish())
}

type Encoding = 'protobuf' | 'json'

function malformed(message: string, field: string): AssayError {
  return new AssayError('ASSAY_INVALID_TRACE', message, { field })
}

function list(value: unknown, field: string): Record<string, unknown>[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw malformed(`${field} must be an array`, field)
  for (const item of value) if (item === null || typeof item !== 'object' || Array.isArray(item)) throw malformed(`${field} must hold objects`, field)
  return value as Record<string, unknown>[]
}

function group(message: Record<string, unknown>, encoding: Encoding, defaultDeployment: string | undefined): DecodedTraces {
  const byTrace = new Map<string, TraceSpan[]>()
  const rejected: DecodedTraces['rejected'] = []
  for (const [r, resourceSpans] of list(message.resourceSpans, 'resourceSpans').entries()) {
    const resourceObject = (resourceSpans.resource ?? {}) as Record<string, unknown>
    const resource = attributes(resourceObject.attributes, `resourceSpans.${r}.resource.attributes`, encoding)
    for (const [s, scopeSpans] of list(resourceSpans.scopeSpans, `resourceSpans.${r}.scopeSpans`).entries()) {
      const spansField = `resourceSpans.${r}.scopeSpans.${s}.spans`
      const spanList = list(scopeSpans.spans, spansField)
      for (let i = 0; i < spanList.length; i++) {
        const span = spanList[i]
        // Paths name fields in errors only; below, `${where}.${name}` is joined when one is thrown.
        const where = `${spansField}.${i}`
        try {
          const traceId = id(present(span, 'traceId'), encoding, 16, where, 'traceId')
          if (traceId === null) throw new AssayError('ASSAY_INVALID_TRACE', `${where} has no trace id`, { field: `${where}.traceId` })
          const decoded = toSpan(span, resource, encoding, where)
          const spans = byTrace.get(traceId)
          if (spans === undefined) byTrace.set(traceId, [decoded])
          else spans.push(decoded)
        } catch (error) {
          if (!(error instanceof AssayError)) throw error
          rejected.push({ spans: 1, code: error.code, message: error.message })
        }
      }
    }
  }
  const traces: TraceInput[] = []
  for (const [traceId, spans] of byTrace) {
    const named = new Set(spans.map(spanDeploymentId).filter((d) => d !== undefined))
    const deployment = named.size === 0 ? defaultDeployment : named.size === 1 ? [...named][0] : undefined
    if (typeof deployment !== 'string') {
      const message = named.size > 1
        ? `trace ${traceId} names more than one deployment (assay.deployment.id)`
        : `trace ${traceId} names no deployment: set the assay.deployment.id attribute on its spans or resource, or the X-Assay-Deployment header`
      rejected.push({ spans: spans.length, code: 'ASSAY_UNKNOWN_DEPLOYMENT', message })
      continue
    }
    traces.push({ traceId, deploymentId: deployment, spans })
  }
  return { traces, rejected }
}

/** A trace or span id as lower-case hex; null when absent or empty. */
function id(value: unknown, encoding: Encoding, bytes: number, where: string, name: string): string | null {
  if (value === undefined || value === null || value === '') return null
  if (encoding === 'protobuf') {
    if (!Buffer.isBuffer(value)) throw malformed(`${where}.${name} is not bytes`, `${where}.${name}`)
    if (value.length === 0) return null
    if (value.length !== bytes) throw malformed(`${where}.${name} is ${value.length} bytes; an id is ${bytes}`, `${where}.${name}`)
    return value.toString('hex')
  }
  if (typeof value !== 'string' || !(bytes === 16 ? HEX32 : HEX16).test(value)) throw malformed(`${where}.${name} must be ${bytes * 2} hex characters`, `${where}.${name}`)
  return value.toLowerCase()
}

const HEX32 = /^[0-9a-fA-F]{32}$/
const HEX16 = /^[0-9a-fA-F]{16}$/

/**
 * A field set on the message itself: a decoded protobuf message answers its defaults from its
 * prototype (a zero Long for a time that was never sent), and a missing time is an error.
 */
function present(message: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(message, key) ? message[key] : undefined
}

/** A protobuf 64-bit integer as protobufjs decodes it (a Long: two 32-bit halves). */
interface LongBits {
  low: number
  high: number
  unsigned: boolean
}

function isLong(value: unknown): value is LongBits {
  return typeof value === 'object' && value !== null && typeof (value as LongBits).low === 'number' && typeof (value as LongBits).high === 'number'
}

/**
 * Nanoseconds since the epoch (a decimal string, a number or a protobuf fixed64) to fractional
 * milliseconds, exact to the microsecond: floor(ns / 1000) is the decimal string without its last
 * three digits, and from a Long's halves (high·2^32 = high·4294967·1000 + high·296) in doubles
 * while that stays below 2^53 (until the year 2255); BigInt beyond.
 */
function time(value: unknown, where: string, name: string): number {
  if (value === undefined || value === null) throw malformed(`${where}.${name} is missing`, `${where}.${name}`)
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value / 1e6
  if (typeof value === 'string' && /^[0-9]{1,20}$/.test(value)) return (value.length > 3 ? Number(value.slice(0, -3)) : 0) / 1000
  if (isLong(value)) {
    const high = value.high >>> 0
    const low = value.low >>> 0
    if (high < 2_000_000_000) return (high * 4294967 + Math.floor((high * 296 + low) / 1000)) / 1000
    return Number(((BigInt(high) << 32n) + BigInt(low)) / 1000n) / 1000
  }
  throw malformed(`${where}.${name} must be nanoseconds since the epoch`, `${where}.${name}`)
}

function toSpan(span: Record<string, unknown>, resource: Record<string, JsonValue>, encoding: Encoding, where: string): TraceSpan {
  const spanId = id(present(span, 'spanId'), encoding, 8, where, 'spanId')
  if (spanId === null) throw malformed(`${where} has no span id`, `${where}.spanId`)
  const kind = enumValue(span.kind, KINDS, 'SPAN_KIND_', where, 'kind')
  const status = (span.status ?? {}) as Record<string, unknown>
  const events = Array.isArray(span.events) && span.events.length === 0 ? [] : list(span.events, `${where}.events`).map((e, j): SpanEvent => ({
    attributes: attributes(e.attributes, `${where}.events.${j}.attributes`, encoding),
    name: typeof e.name === 'string' ? e.name : '',
    time: time(present(e, 'timeUnixNano'), `${where}.events.${j}`, 'timeUnixNano'),
  }))
  const parentSpanId = id(present(span, 'parentSpanId'), encoding, 8, where, 'parentSpanId')
  const startTime = time(present(span, 'startTimeUnixNano'), where, 'startTimeUnixNano')
  const endTime = time(present(span, 'endTimeUnixNano'), where, 'endTimeUnixNano')
  const statusCode = enumValue(status.code, STATUSES, 'STATUS_CODE_', where, 'status.code') as SpanStatus
  // Keys in canonical (sorted) order, as in every object built here: the stored form is the
  // span's canonical JSON, which is then one JSON.stringify of the span as it is (canonicalJson).
  return {
    attributes: attributes(span.attributes, `${where}.attributes`, encoding),
    droppedEvents: typeof span.droppedEventsCount === 'number' ? span.droppedEventsCount : 0,
    endTime,
    events,
    kind,
    name: typeof span.name === 'string' ? span.name : '',
    parentSpanId,
    resource,
    spanId,
    startTime,
    status: statusCode,
    statusMessage: typeof status.message === 'string' && status.message !== '' ? status.message : null,
  }
}

function enumValue(value: unknown, names: readonly string[], prefix: string, where: string, leaf: string): string {
  if (value === undefined || value === null) return names[0]
  if (typeof value === 'number' && Number.isInteger(value) && names[value] !== undefined) return names[value]
  if (typeof value === 'string') {
    const name = value.startsWith(prefix) ? value.slice(prefix.length).toLowerCase() : ''
    if (names.includes(name)) return name
  }
  throw malformed(`${where}.${leaf} is not one of the OTLP values`, `${where}.${leaf}`)
}

function attributes(value: unknown, field: string, encoding: Encoding): Record<string, JsonValue> {
  if (Array.isArray(value) && value.length === 0) return {}
  const out: Record<string, JsonValue> = {}
  const kvs = list(value, field)
  for (let k = 0; k < kvs.length; k++) {
    const kv = kvs[k]
    if (typeof kv.key !== 'string' || kv.key === '') throw malformed(`${field}.${k} has no key`, `${field}.${k}.key`)
    if (kv.key === '__proto__') throw malformed(`${field}.${k}: the key "__proto__" is reserved`, `${field}.${k}.key`)
    out[kv.key] = encoding === 'protobuf' ? protoValue(kv.value, field, kv.key, 0) : anyValue(kv.value, field, kv.key, 0)
  }
  return inKeyOrder(out)
}

/** The object with its keys in sorted order (a copy only when they were not): canonical JSON needs no copy of it later. */
function inKeyOrder(out: Record<string, JsonValue>): Record<string, JsonValue> {
  const keys = Object.keys(out)
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1] > keys[i]) {
      const sorted: Record<string, JsonValue> = {}
      for (const key of keys.sort()) sorted[key] = out[key]
      return sorted
    }
  }
  return out
}

/** AnyValue's fields (upstream a oneof: one value each). */
const ANY_VALUE_FIELDS: readonly string[] = ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue']

/** An AnyValue that sets more than one field: refused in both encodings rather than one of them picked. */
function moreThanOne(set: readonly string[], parent: string, key: string | number): AssayError {
  return malformed(`${parent}.${key} sets ${set.join(' and ')}; an AnyValue holds one value`, `${parent}.${key}`)
}

/** An OTLP/JSON AnyValue; its path is `${parent}.${key}`, joined only when needed (as protoValue's). */
function anyValue(value: unknown, parent: string, key: string | number, depth: number): JsonValue {
  if (depth > VALUE_DEPTH) throw malformed(`${parent}.${key} nests arrays or lists deeper than ${VALUE_DEPTH}`, `${parent}.${key}`)
  if (value === undefined || value === null) return null
  if (typeof value !== 'object') throw malformed(`${parent}.${key} is not an OTLP AnyValue`, `${parent}.${key}`)
  const v = value as Record<string, unknown>
  // A field given as null counts as unset here, as protobuf's JSON parsers read it (alone, it is
  // refused below). The fields are named only for a value with more than one key: looking each
  // up in every value cost JSON 5-7 % of its decode.
  let keys = 0
  for (const _ in v) keys++
  if (keys > 1) {
    const set = ANY_VALUE_FIELDS.filter((name) => v[name] !== null && v[name] !== undefined)
    if (set.length > 1) throw moreThanOne(set, parent, key)
  }
  if ('stringValue' in v) {
    if (typeof v.stringValue !== 'string') throw malformed(`${parent}.${key}.stringValue is not a string`, `${parent}.${key}`)
    return v.stringValue
  }
  if ('boolValue' in v) {
    if (typeof v.boolValue !== 'boolean') throw malformed(`${parent}.${key}.boolValue is not a boolean`, `${parent}.${key}`)
    return v.boolValue
  }
  if ('intValue' in v) {
    const n = typeof v.intValue === 'string' && /^-?[0-9]{1,20}$/.test(v.intValue) ? Number(v.intValue) : v.intValue
    if (typeof n !== 'number' || !Number.isInteger(n)) throw malformed(`${parent}.${key}.intValue is not an integer`, `${parent}.${key}`)
    return n
  }
  if ('doubleValue' in v) {
    const n = v.doubleValue
    if (typeof n !== 'number' || !Number.isFinite(n)) throw malformed(`${parent}.${key}.doubleValue is not a finite number`, `${parent}.${key}`)
    return n
  }
  if ('arrayValue' in v) {
    const field = `${parent}.${key}`
    return list((v.arrayValue as Record<string, unknown> | null)?.values, field).map((x, i) => anyValue(x, field, i, depth + 1))
  }
  if ('kvlistValue' in v) {
    const field = `${parent}.${key}`
    const out: Record<string, JsonValue> = {}
    for (const kv of list((v.kvlistValue as Record<string, unknown> | null)?.values, field)) {
      if (typeof kv.key !== 'string' || kv.key === '__proto__') throw malformed(`${field} has a bad key`, field)
      out[kv.key] = anyValue(kv.value, field, kv.key, depth + 1)
    }
    return inKeyOrder(out)
  }
  if ('bytesValue' in v) return Buffer.isBuffer(v.bytesValue) ? v.bytesValue.toString('base64') : typeof v.bytesValue === 'string' ? v.bytesValue : null
  return null
}

/** A decoded protobuf AnyValue (types are the decoder's): the one field it sets is an own property (otlp-proto.ts). */
interface ProtoAnyValue {
  stringValue?: string
  boolValue?: boolean
  intValue?: LongBits | number
  doubleValue?: number
  arrayValue?: { values?: unknown[] } | null
  kvlistValue?: { values?: unknown[] } | null
  bytesValue?: Uint8Array
}

/**
 * The field a decoded AnyValue sets: its one own property. otlp-proto.ts declares the fields
 * `optional` rather than upstream's oneof (the same wire format), so the decoder neither deletes
 * the other six on every value nor needs a getter walking its keys to name the one set.
 */
function setField(v: ProtoAnyValue, parent: string, key: string | number): string | undefined {
  const set = Object.keys(v)
  if (set.length > 1) throw moreThanOne(set, parent, key)
  return set[0]
}

/**
 * anyValue for a decoded protobuf message, with the same results and refusals. The value's path
 * is `${parent}.${key}`, joined only when it is needed (an error, a nested value): most
 * attributes are scalars, and building a path for each was a string per attribute.
 */
function protoValue(value: unknown, parent: string, key: string | number, depth: number): JsonValue {
  if (depth > VALUE_DEPTH) throw malformed(`${parent}.${key} nests arrays or lists deeper than ${VALUE_DEPTH}`, `${parent}.${key}`)
  if (value === undefined || value === null) return null
  const v = value as ProtoAnyValue
  switch (setField(v, parent, key)) {
    case 'stringValue':
      return v.stringValue as string
    case 'boolValue':
      return v.boolValue as boolean
    case 'intValue': {
      const n = v.intValue as LongBits | number
      // Signed: the high half carries the sign; correctly rounded past 2^53, as Number('…') is.
      return typeof n === 'number' ? n : n.unsigned ? (n.high >>> 0) * 4294967296 + (n.low >>> 0) : n.high * 4294967296 + (n.low >>> 0)
    }
    case 'doubleValue': {
      const n = v.doubleValue as number
      if (!Number.isFinite(n)) throw malformed(`${parent}.${key}.doubleValue is not a finite number`, `${parent}.${key}`)
      return n
    }
    case 'arrayValue': {
      const field = `${parent}.${key}`
      return list(v.arrayValue?.values, field).map((x, i) => protoValue(x, field, i, depth + 1))
    }
    case 'kvlistValue': {
      const field = `${parent}.${key}`
      const out: Record<string, JsonValue> = {}
      for (const kv of list(v.kvlistValue?.values, field)) {
        if (typeof kv.key !== 'string' || kv.key === '__proto__') throw malformed(`${field} has a bad key`, field)
        out[kv.key] = protoValue(kv.value, field, kv.key, depth + 1)
      }
      return inKeyOrder(out)
    }
    case 'bytesValue':
      return Buffer.from((v.bytesValue as Uint8Array).buffer, (v.bytesValue as Uint8Array).byteOffset, (v.bytesValue as Uint8Array).byteLength).toString('base64')
    default:
      return null
  }
}
