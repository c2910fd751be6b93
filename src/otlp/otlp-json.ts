/**
 * An OTLP/JSON request body parsed span by span instead of as one string.
 *
 * Why: a 512-span OTLP/JSON body is about 500 KB, and one JavaScript string of it is a V8
 * large object: each is a fresh memory mapping, its pages faulted in on first write and unmapped
 * (a TLB shootdown across the process's threads) when collected. On this project's 2-core
 * virtual machine that cost 3.5–4.8 µs per span, more than `JSON.parse` itself, where the same
 * bytes decoded in pieces of a few KB cost 0.2 (bench/results/otlp.md "JSON without the
 * large string"). So the body is scanned once as bytes, finding each span object of
 * `resourceSpans[r].scopeSpans[s].spans` (and the nesting depth on the way); every span is parsed
 * from its own small string, and the rest of the body (resources, scopes) from one string with
 * the span arrays left empty.
 *
 * The result equals `JSON.parse` of the whole body. Anything the scan does not expect (a key
 * written with escapes or given twice at those levels, a non-object where a span or a resource
 * is, a separator out of place, a piece that does not parse, nesting past the limit), and a
 * shape cheaper parsed whole (MAX_SPANS_ARRAYS, MIN_SPAN_BYTES), answers `undefined`, and the caller parses the whole body the usual way, which also words every error
 * (src/server/otlp-decoder.ts). test/otlp/otlp-json.test.ts compares both on mutated bodies.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const COMMA = 0x2c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d

/** The key leading down from each object on the way to the spans, by its depth (the root object is 1). */
const PATH_KEYS: readonly (Buffer | undefined)[] = [undefined, Buffer.from('resourceSpans'), undefined, Buffer.from('scopeSpans'), undefined, Buffer.from('spans')]
/** The depths of the resourceSpans and scopeSpans arrays, of a spans array and of each span object in it. */
const RESOURCES_DEPTH = 2
const SCOPES_DEPTH = 4
const SPANS_DEPTH = 6
const SPAN_DEPTH = 7

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

/** The index of the quote that closes the string opened at `open`; -1 when none does. */
function stringEnd(bytes: Buffer, open: number): number {
  let at = open
  for (;;) {
    const quote = bytes.indexOf(QUOTE, at + 1)
    if (quote === -1) return -1
    let backslashes = 0
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return quote
    at = quote
  }
}

/** A key on the way to the spans: its bytes, or null when it is written with an escape (it might spell one). */
function keyIs(bytes: Buffer, start: number, end: number, expected: Buffer): boolean | null {
  for (let i = start; i < end; i++) if (bytes[i] === BACKSLASH) return null
  return end - start === expected.length && bytes.compare(expected, 0, expected.length, start, end) === 0
}

/** A spans array holding spans: where it sits in the body, and each span's start and end. */
interface SpansArray {
  resource: number
  scope: number
  /** The positions of its brackets: what lies between is left out of the rest of the body. */
  open: number
  close: number
  /** Start and end of each span object, in pairs. */
  spans: number[]
}

/**
 * Bodies that are cheaper parsed whole: more spans arrays than an exporter sends (one per
 * instrumentation scope and resource), or spans averaging under MIN_SPAN_BYTES (a real span is
 * several hundred bytes; the first 64 KiB are let through before the average counts). Each piece
 * costs a string and a parse call: a 16 MiB body of a million one-span scopes took 2.5× the CPU
 * and memory of the whole parse before these bounds (bench/otlp-json-hostile.ts).
 */
const MAX_SPANS_ARRAYS = 4096
const MIN_SPAN_BYTES = 64

/** Where the scan is inside a spans array: what may come next besides whitespace. */
const AFTER_OPEN = 0 // a span or ']'
const AFTER_SPAN = 1 // ',' or ']'
const AFTER_COMMA = 2 // a span

/**
 * The body parsed as `JSON.parse` of its UTF-8 text would, or undefined when the caller must
 * parse it whole (see above). `depthLimit` is the deepest nesting of arrays and objects taken,
 * counted as src/server/request-body.ts jsonDepth counts it on text (this one counts on bytes in
 * the same scan, which a layer below the server cannot import).
 */
export function parseOtlpJsonBySpan(bytes: Buffer, depthLimit: number): unknown {
  const isObject = new Uint8Array(depthLimit + 1)
  const pathKeySeen = new Uint8Array(SPAN_DEPTH)
  /** The containers at depths 1..pathDepth are all on the way to the spans. */
  let pathDepth = 0
  /** The depth of the object whose last key was its path key (its value comes next); 0 when none. */
  let pathKeyAt = 0
  let depth = 0
  let rootSeen = false
  let resource = -1
  let scope = -1
  const arrays: SpansArray[] = []
  let current: SpansArray = { resource: -1, scope: -1, open: -1, close: -1, spans: [] }
  let expect = AFTER_OPEN
  let spanStart = 0
  let spanCount = 0
  const n = bytes.length
  for (let i = 0; i < n; i++) {
    const c = bytes[i]
    if (pathDepth === depth && (depth === RESOURCES_DEPTH || depth === SCOPES_DEPTH || depth === SPANS_DEPTH)) {
      // Directly in an array on the way: objects, commas, whitespace and the closing bracket, no
      // other value (it would shift the indices). The spans' separators are checked here: they
      // are left out of what is parsed.
      if (isWhitespace(c)) continue
      if (depth === SPANS_DEPTH) {
        if (c === COMMA) {
          if (expect !== AFTER_SPAN) return undefined
          expect = AFTER_COMMA
          continue
        }
        if (c === OPEN_OBJECT && expect === AFTER_SPAN) return undefined
        if (c === CLOSE_ARRAY && expect === AFTER_COMMA) return undefined
        if (c !== OPEN_OBJECT && c !== CLOSE_ARRAY) return undefined
      } else if (c === COMMA) {
        continue
      } else if (c !== OPEN_OBJECT && c !== CLOSE_ARRAY) {
        return undefined
      }
    }
    if (c === QUOTE) {
      const end = stringEnd(bytes, i)
      if (end === -1) return undefined
      const pathKey = pathDepth === depth ? PATH_KEYS[depth] : undefined
      if (pathKey !== undefined) {
        // A string in an object on the way is a key when a colon follows it.
        let next = end + 1
        while (next < n && isWhitespace(bytes[next])) next++
        if (bytes[next] === COLON) {
          const isPath = keyIs(bytes, i + 1, end, pathKey)
          if (isPath === null) return undefined
          if (isPath) {
            if (pathKeySeen[depth] === 1) return undefined // twice: JSON.parse keeps the last
            pathKeySeen[depth] = 1
          }
          pathKeyAt = isPath ? depth : 0
        }
      }
      i = end
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      const object = c === OPEN_OBJECT
      const parent = depth
      depth++
      if (depth > depthLimit) return undefined
      isObject[depth] = object ? 1 : 0
      if (depth === 1) {
        if (!object || rootSeen) return undefined
        rootSeen = true
        pathDepth = 1
      } else if (pathDepth === parent && depth <= SPAN_DEPTH) {
        if (isObject[parent] === 0) {
          // An element of an array on the way (the check above let objects only through).
          pathDepth = depth
          if (depth < SPAN_DEPTH) pathKeySeen[depth] = 0
          if (depth === RESOURCES_DEPTH + 1) {
            resource++
            scope = -1
          } else if (depth === SCOPES_DEPTH + 1) {
            scope++
          } else {
            spanStart = i
          }
        } else if (!object && pathKeyAt === parent) {
          // The array under a path key.
          pathDepth = depth
          if (depth === SPANS_DEPTH) {
            current = { resource, scope, open: i, close: -1, spans: [] }
            expect = AFTER_OPEN
          }
        }
      }
      pathKeyAt = 0
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth === 0 || isObject[depth] !== (c === CLOSE_OBJECT ? 1 : 0)) return undefined
      if (pathDepth === depth) {
        if (depth === SPAN_DEPTH) {
          current.spans.push(spanStart, i + 1)
          expect = AFTER_SPAN
          if (++spanCount * MIN_SPAN_BYTES > i + 65_536) return undefined // too many spans for the bytes so far
        } else if (depth === SPANS_DEPTH && current.spans.length > 0) {
          // An empty one stays in the rest of the body, which parses it the same.
          current.close = i
          if (arrays.push(current) > MAX_SPANS_ARRAYS) return undefined
        }
        pathDepth = depth - 1
      }
      depth--
      pathKeyAt = 0
    } else if (depth === 0 && !isWhitespace(c)) {
      return undefined
    }
  }
  if (depth !== 0 || !rootSeen) return undefined
  return assemble(bytes, arrays)
}

/**
 * The rest of the body (the spans arrays emptied) parsed in one string, then each span parsed and
 * put in its place. Why the result is JSON.parse's of the whole text: every byte outside the span
 * objects is in the rest, so JSON.parse checks it; only the separators between spans are left
 * out of it, and the scan checked those. The rest is parsed first, so that a body bad there costs
 * no span parses before it is handed back.
 */
function assemble(bytes: Buffer, arrays: SpansArray[]): unknown {
  let size = bytes.length
  for (const array of arrays) size -= array.close - array.open - 1
  const rest = Buffer.allocUnsafe(size)
  let from = 0
  let to = 0
  for (const array of arrays) {
    to += bytes.copy(rest, to, from, array.open + 1)
    from = array.close
  }
  bytes.copy(rest, to, from)
  try {
    const body = JSON.parse(rest.toString('utf8')) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] }
    for (const array of arrays) {
      // The scan found this array at this place; JSON.parse, reading the same keys, put an empty one there.
      const spans = body.resourceSpans[array.resource].scopeSpans[array.scope].spans
      if (!Array.isArray(spans) || spans.length !== 0) return undefined
      for (let k = 0; k < array.spans.length; k += 2) spans.push(JSON.parse(bytes.toString('utf8', array.spans[k], array.spans[k + 1])))
    }
    return body
  } catch {
    return undefined
  }
}
