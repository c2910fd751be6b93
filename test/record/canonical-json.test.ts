/**
 * canonicalJson copies only what is out of key order; its text must stay exactly that of the
 * plain rule it replaced (every object copied with its keys sorted, then JSON.stringify), because
 * audit hashes, envelope fingerprints and span content hashes are computed from it.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { canonicalJson } from '../../src/record/validate.js'

/** The rule as first written: a sorted copy of every object, then JSON.stringify. */
function reference(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys)
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const key of Object.keys(v).sort()) out[key] = sortKeys((v as Record<string, unknown>)[key])
      return out
    }
    return v
  }
  return JSON.stringify(sortKeys(value))
}

/** The same value with every object's keys inserted in sorted order (the fast path's input). */
function sortedCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedCopy)
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) out[key] = sortedCopy((value as Record<string, unknown>)[key])
    return out
  }
  return value
}

const anything = fc.anything({
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
  key: fc.oneof(fc.string(), fc.constantFrom('0', '1', '10', '2', '01', '-1', '4294967294', '4294967295', 'a', 'B', 'toJSON')),
})

test('canonicalJson writes what sorting every object and JSON.stringify wrote, for any value', () => {
  fc.assert(
    fc.property(anything, (value) => {
      assert.equal(canonicalJson(value), reference(value))
      assert.equal(canonicalJson(sortedCopy(value)), reference(value))
    }),
    { numRuns: 2000 },
  )
})

test('keys that objects enumerate first (array indices) and keys that only look like them', () => {
  const cases: unknown[] = [
    { b: 1, a: 2, 10: 'x', 2: 'y', '01': 'z', '4294967295': 'big', '4294967294': 'index' },
    { 2: 'y', 10: 'x', a: 2, b: 1 },
    [{ z: 1, y: [{ d: 1, c: 2 }] }, undefined, () => 1, Symbol('s'), NaN, -0],
    { u: undefined, f: () => 1, n: null, nested: { toJSON: () => 'mine', a: 1 } },
    Object.assign(Object.create(null) as object, { b: 1, a: 2 }),
    { date: new Date(0), buffer: Buffer.from('ab'), map: new Map([['k', 1]]) },
    Object.assign([1, 2], { toJSON: () => 'array' }),
  ]
  for (const value of cases) assert.equal(canonicalJson(value), reference(value))
})

test('a value already in key order is written as it is', () => {
  const span = { attributes: { a: 1, b: [1, { c: 'x', d: null }] }, name: 'chat', resource: { 'service.name': 'bot' } }
  assert.equal(canonicalJson(span), JSON.stringify(span))
})
