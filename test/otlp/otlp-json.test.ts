/**
 * OTLP/JSON parsed span by span (src/otlp/otlp-json.ts) gives what JSON.parse of the whole body
 * gives, or hands the body back (undefined) to be parsed whole: on bodies of every shape the
 * encoding allows, on bodies it must hand back, and on thousands of mutated bodies, where it must
 * never accept text that JSON.parse refuses nor answer something else than JSON.parse does.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { isAssayError } from '../../src/errors.js'
import { parseOtlpJsonBySpan } from '../../src/otlp/otlp-json.js'
import { decodeAndPrepare } from '../../src/server/otlp-decoder.js'
import { JSON_DEPTH_LIMIT } from '../../src/server/request-body.js'

const LIMIT = JSON_DEPTH_LIMIT

function span(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    traceId: 'ab'.repeat(16),
    spanId: (i + 1).toString(16).padStart(16, '0'),
    name: `chat {${i}} ["x"] \\ "quoted" é ✓ 𝄞`,
    kind: 3,
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000000500000000',
    attributes: [
      { key: 'gen_ai.usage.input_tokens', value: { intValue: 12 + i } },
      { key: 'output', value: { stringValue: `} ] { [ \\" \\\\ "spans": [ ${i}` } },
      { key: 'list', value: { arrayValue: { values: [{ kvlistValue: { values: [{ key: 'spans', value: { doubleValue: 0.5 } }] } }] } } },
    ],
    events: [{ name: 'e', timeUnixNano: '1700000000100000000', attributes: [] }],
    status: { code: 1 },
    ...extra,
  }
}

function body(resources: number, scopes: number, spans: number): Record<string, unknown> {
  let i = 0
  return {
    resourceSpans: Array.from({ length: resources }, (_, r) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: `svc ${r}` } }, { key: 'spans', value: { stringValue: 'not these' } }] },
      scopeSpans: Array.from({ length: scopes }, (_, s) => ({ scope: { name: `scope ${s}`, version: '1' }, spans: Array.from({ length: spans }, () => span(i++)), schemaUrl: '' })),
    })),
  }
}

function bySpan(text: string): unknown {
  return parseOtlpJsonBySpan(Buffer.from(text, 'utf8'), LIMIT)
}

test('bodies of every shape the encoding allows parse span by span to what JSON.parse gives', () => {
  const value = body(3, 2, 4)
  const texts = [
    JSON.stringify(value),
    JSON.stringify(value, null, 2),
    JSON.stringify(value, null, '\t').replace(/\n/g, '\r\n'),
    // The spans before the scope, the scopes before the resource, other keys around them.
    JSON.stringify({ x: [1, { spans: [] }], resourceSpans: (value.resourceSpans as Record<string, unknown>[]).map((r) => ({ scopeSpans: (r.scopeSpans as Record<string, unknown>[]).map((s) => ({ spans: s.spans, scope: s.scope })), resource: r.resource })), y: null }),
    JSON.stringify(body(1, 1, 0)),
    JSON.stringify(body(0, 0, 0)),
    JSON.stringify({ resourceSpans: [{ scopeSpans: [{ scope: {} }, {}] }, {}] }),
    '{}',
    '  \n{ "resourceSpans" : [ { "scopeSpans" : [ { "spans" : [ { } , {"a":[]} ] } ] } ] }  \n',
    // "__proto__" keys at every level of the way: JSON.parse makes them own properties, as here.
    '{"__proto__":{"a":1},"resourceSpans":[{"__proto__":[],"scopeSpans":[{"__proto__":1,"spans":[{"__proto__":{"x":2}}]}]}]}',
    // "spans" and the other path keys where they are not on the way: kept in the rest as they are.
    '{"resourceSpans":[{"resource":{"spans":[{"a":1}],"scopeSpans":[{"spans":[{}]}]},"scopeSpans":[{"scope":{"spans":[1]},"spans":[{"b":2}]}]}]}',
  ]
  for (const text of texts) {
    const got = bySpan(text)
    assert.notEqual(got, undefined, text.slice(0, 80))
    assert.deepEqual(got, JSON.parse(text))
    assert.equal(JSON.stringify(got), JSON.stringify(JSON.parse(text)), 'keys in the same order')
  }
})

test('what the scan cannot place is handed back to be parsed whole', () => {
  const handedBack = [
    // A path key twice (JSON.parse keeps the last), or spelled with an escape.
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"a":1}]}]}],"resourceSpans":[]}',
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"a":1}],"spans":[{"b":2}]}]}]}',
    '{"resourceSpans":[{"scopeSpans":[{"sp\\u0061ns":[{"a":1}]}]}]}',
    // Values other than objects where resources, scopes and spans are (they would shift the indices).
    '{"resourceSpans":[1,{"scopeSpans":[{"spans":[{"a":1}]}]}]}',
    '{"resourceSpans":[{"scopeSpans":["s",{"spans":[{"a":1}]}]}]}',
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"a":1},2]}]}]}',
    '{"resourceSpans":[{"scopeSpans":[{"spans":[[{"a":1}]]}]}]}',
    // Not JSON: separators, brackets, strings, what is around the root.
    '{"resourceSpans":[{"scopeSpans":[{"spans":[,{"a":1}]}]}]}',
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"a":1},]}]}]}',
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"a":1},,{"a":2}]}]}]}',
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"a":1}{"a":2}]}]}]}',
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"a":1 "b":2}]}]}]}',
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"a":"\n"}]}]}]}',
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"a":1]}]}]}',
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"a":"x}]}]}]}',
    '{"resourceSpans":[{"scopeSpans":[{"spans" [{"a":1}]}]}]}',
    '{} {}',
    '[]',
    'x{}',
    '{}x',
    '',
    '   ',
    // Only the parse of the rest of the body refuses these: it must not be left out.
    '{}"x"',
    '"x"{}',
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"a":1}]}]}],"x":tru}',
    '\ufeff{"resourceSpans":[{"scopeSpans":[{"spans":[{"a":1}]}]}]}',
  ]
  for (const text of handedBack) assert.equal(bySpan(text), undefined, text)
  // Valid bodies cheaper parsed whole: more spans arrays than exporters send, spans of a few bytes.
  const manyScopes = `{"resourceSpans":[{"scopeSpans":[${Array(5000).fill(`{"spans":[${JSON.stringify(span(0))}]}`).join(',')}]}]}`
  const tinySpans = `{"resourceSpans":[{"scopeSpans":[{"spans":[${Array(5000).fill('{"a":1}').join(',')}]}]}]}`
  for (const text of [manyScopes, tinySpans]) {
    assert.doesNotThrow(() => JSON.parse(text))
    assert.equal(bySpan(text), undefined)
  }
  assert.notEqual(bySpan(`{"resourceSpans":[{"scopeSpans":[${Array(4000).fill(`{"spans":[${JSON.stringify(span(0))}]}`).join(',')}]}]}`), undefined, 'under the bound on spans arrays')
})

test('nesting past the limit is handed back, inside a span or around it, and refused by the whole parse (413)', () => {
  const deepValue = (levels: number): string => '{"arrayValue":{"values":['.repeat(levels) + '{"intValue":1}' + ']}}'.repeat(levels)
  const inSpan = (levels: number): string => `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"${'ab'.repeat(16)}","attributes":[{"key":"k","value":${deepValue(levels)}}]}]}]}]}`
  assert.notEqual(bySpan(inSpan(10)), undefined)
  // Exactly at the limit is taken (the root object and LIMIT - 1 arrays), one more level is not: counted as jsonDepth counts.
  const aside = (levels: number): string => `{"resourceSpans":[],"x":${'['.repeat(levels)}${']'.repeat(levels)}}`
  assert.deepEqual(bySpan(aside(LIMIT - 1)), JSON.parse(aside(LIMIT - 1)))
  const tooDeep = [inSpan(60), aside(LIMIT), '{"a":'.repeat(LIMIT + 1) + '1' + '}'.repeat(LIMIT + 1)]
  for (const text of tooDeep) {
    assert.equal(bySpan(text), undefined)
    assert.throws(() => decodeAndPrepare({ bytes: Buffer.from(text), encoding: 'json' }), (e: unknown) => isAssayError(e) && e.code === 'ASSAY_VALUE_TOO_LARGE')
  }
})

test('mutated bodies, byte by byte: never accepted where JSON.parse refuses, never parsed to something else', () => {
  // Bytes, not text: a cut may split a UTF-8 sequence, which both ways must decode alike.
  const bases = [Buffer.from(JSON.stringify(body(2, 2, 2))), Buffer.from(JSON.stringify(body(1, 2, 2), null, '\t').replace(/\n/g, '\r\n'))]
  const pieces = ['{', '}', '[', ']', ',', ':', '"', '\\', ' ', '\t', '\r\n', '1', 'null', '"spans"', '"resourceSpans":', '{"a":1}', '\\"', 'é', '\xff'].map((p) => Buffer.from(p, p === '\xff' ? 'latin1' : 'utf8'))
  const mutation = fc.record({ at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), cut: fc.nat(3), insert: fc.option(fc.nat(pieces.length - 1), { freq: 3 }) })
  let accepted = 0
  let refusedByJson = 0
  fc.assert(fc.property(fc.nat(bases.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), (which, mutations) => {
    let bytes = bases[which]
    for (const m of mutations) {
      const at = Math.floor(m.at * bytes.length)
      bytes = Buffer.concat([bytes.subarray(0, at), m.insert === null ? Buffer.alloc(0) : pieces[m.insert], bytes.subarray(at + m.cut)])
    }
    let expected: unknown
    let valid = true
    try {
      expected = JSON.parse(bytes.toString('utf8'))
    } catch {
      valid = false
      refusedByJson++
    }
    const got = parseOtlpJsonBySpan(bytes, LIMIT)
    if (got === undefined) return
    assert.ok(valid, `accepted what JSON.parse refuses: ${bytes.toString('utf8')}`)
    assert.deepEqual(got, expected)
    accepted++
  }), { numRuns: 4000 })
  // The mutations make both kinds: the test says little if either is rare.
  assert.ok(accepted > 150, `${accepted} mutated bodies taken span by span`)
  assert.ok(refusedByJson > 1000, `${refusedByJson} mutated bodies refused by JSON.parse`)
})

test('through the decode: the same traces from a body taken span by span as from the whole parse', () => {
  const text = JSON.stringify(body(2, 2, 3))
  const viaSpans = decodeAndPrepare({ bytes: Buffer.from(text), encoding: 'json', defaultDeployment: 'd'.repeat(32) })
  // The same resourceSpans given twice: JSON.parse keeps the last, an equal copy; the scan hands the body back to be parsed whole.
  const whole = decodeAndPrepare({ bytes: Buffer.from(text.slice(0, -1) + ',"resourceSpans":' + JSON.stringify(body(2, 2, 3).resourceSpans) + '}'), encoding: 'json', defaultDeployment: 'd'.repeat(32) })
  assert.equal(viaSpans.prepared.traces.reduce((n, t) => n + t.spanCount, 0), 12)
  assert.deepEqual(viaSpans, whole)
})
