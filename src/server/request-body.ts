import type { FastifyRequest } from 'fastify'
import { finished, type Readable } from 'node:stream'
import type { z } from 'zod'
import { AssayError } from '../errors.js'

/** Largest JSON request body: 4 MiB (docs/server.md); a gate file's text is at most 1 MB of it. */
export const DEFAULT_JSON_LIMIT = 4 * 1024 * 1024
/**
 * Deepest nesting of arrays and objects in a JSON body: a param value may nest 64 deep
 * (LIMITS.paramDepth) inside a handful of levels of the request itself.
 */
export const JSON_DEPTH_LIMIT = 100

/**
 * The deepest nesting of `[` and `{` in JSON text, counted in one pass without parsing, so that
 * a body nested a million deep is refused in milliseconds instead of being built and walked.
 * Stops counting (returns limit + 1) as soon as the limit is passed. OTLP/JSON bodies are counted
 * the same way on their bytes, in the scan that splits them (src/otlp/otlp-json.ts).
 */
export function jsonDepth(text: string, limit: number = JSON_DEPTH_LIMIT): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // a backslash escapes the next character, a quote included
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > deepest) deepest = depth
      if (deepest > limit) return deepest
    } else if (c === 0x7d || c === 0x5d) {
      depth--
    }
  }
  return deepest
}

/** Refuse JSON text nested deeper than JSON_DEPTH_LIMIT (413 ASSAY_VALUE_TOO_LARGE), before it is parsed. */
export function requireJsonDepth(text: string, what = 'the request body'): void {
  if (jsonDepth(text) > JSON_DEPTH_LIMIT) {
    throw new AssayError('ASSAY_VALUE_TOO_LARGE', `${what} nests arrays or objects deeper than ${JSON_DEPTH_LIMIT} (docs/server.md)`, { field: 'body', limit: JSON_DEPTH_LIMIT })
  }
}

/** JSON.parse behind the nesting limit; bad JSON is ASSAY_MALFORMED_JSON. */
export function parseJsonBody(text: string, what = 'the request body'): unknown {
  requireJsonDepth(text, what)
  if (text.trim() === '') throw new AssayError('ASSAY_MALFORMED_JSON', `${what} is empty`, { field: 'body' })
  try {
    // The parsed value is only ever read through zod schemas and assertKey, which refuses "__proto__".
    return JSON.parse(text)
  } catch (error) {
    throw new AssayError('ASSAY_MALFORMED_JSON', `${what} is not valid JSON: ${(error as Error).message}`, { field: 'body' })
  }
}

export function isOctetStream(request: FastifyRequest): boolean {
  return /^application\/octet-stream\b/i.test(request.headers['content-type'] ?? '')
}

export function isJson(request: FastifyRequest): boolean {
  return /^application\/json\b/i.test(request.headers['content-type'] ?? '')
}

/** Parse with a route's schema; a failure is 400 naming the field. */
export function validate(schema: z.ZodType | undefined, value: unknown, where: 'path' | 'query' | 'body'): Record<string, unknown> {
  if (schema === undefined) return {}
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}))
  if (result.success) return result.data as Record<string, unknown>
  const issue = result.error.issues[0]
  const field = [where, ...issue.path.map(String)].join('.')
  throw new AssayError('ASSAY_INVALID_ARGUMENT', `${field}: ${issue.message}`, {
    field,
    issues: result.error.issues.slice(0, 10).map((i) => ({ field: [where, ...i.path.map(String)].join('.'), message: i.message })),
  })
}

/** Read a binary body into memory, refusing it (413) past the limit. */
export async function readBody(request: FastifyRequest, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? NaN)
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit)
  const stream = (request.body ?? request.raw) as Readable
  // Listeners rather than `for await`: the async iterator costs promises per chunk, on every
  // batch. `finished` ends it as the iterator would (an error or a premature close rejects).
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let refused = false
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        refused = true
        stream.off('data', onData)
        stream.destroy()
        reject(tooLarge(limit))
        return
      }
      chunks.push(chunk)
    }
    stream.on('data', onData)
    const stop = finished(stream, (error) => {
      stop()
      stream.off('data', onData)
      if (refused) return
      if (error) reject(error)
      else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size))
    })
  })
}

export function tooLarge(limit: number): AssayError {
  return new AssayError('ASSAY_BODY_TOO_LARGE', `the request body is over the limit of ${limit} bytes (docs/server.md)`, { limit })
}
