import type { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { AssayError } from '../../errors.js'
import { encodeExportResponse } from '../../otlp/decode-traces.js'
import { ROUTES } from '../../store/http/routes.js'
import type { LogTracesResult } from '../../store/store.js'
import { preparedTraceWriter } from '../../store/trace-write.js'
import { decodeOtlpBody } from '../otlp-decoder.js'
import { tooLarge } from '../request-body.js'
import type { RouteSpec } from '../route.js'
import { logPreparedTracesAs, logTracesAs } from './production.js'

/** Largest OTLP request body, compressed and after decompression: 16 MiB (docs/production.md). */
export const OTLP_BODY_LIMIT = 16 * 1024 * 1024

/**
 * OTLP/HTTP trace ingest (docs/production.md): `POST /v1/traces` with an ExportTraceServiceRequest
 * as application/x-protobuf or application/json, gzip or not, chunked or with a length. Each
 * trace is stored or rejected whole; the answer is OTLP's ExportTraceServiceResponse, with
 * partial_success naming the rejected spans. When no span was stored and some were rejected, the
 * answer is 400 with the catalogue code of the first rejection.
 */
export function otlpRoutes(): RouteSpec[] {
  return [
    {
      method: 'POST',
      url: ROUTES.otlpTraces,
      summary: 'OTLP/HTTP trace export (protobuf or JSON, gzip or not); spans name their deployment with assay.deployment.id',
      tag: 'production',
      scope: 'write',
      touches: 'handler',
      body: { raw: 'ExportTraceServiceRequest (application/x-protobuf or application/json)' },
      response: { json: 'ExportTraceServiceResponse' },
      async handler({ body, caller, state, request, reply }) {
        const type = (request.headers['content-type'] ?? '').toLowerCase()
        const encoding = /^application\/x-protobuf\b/.test(type) ? 'protobuf' : /^application\/json\b/.test(type) ? 'json' : null
        if (encoding === null) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'POST /v1/traces takes Content-Type application/x-protobuf or application/json', { field: 'content-type' })
        const contentEncoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase()
        if (contentEncoding !== 'gzip' && contentEncoding !== 'identity') throw new AssayError('ASSAY_INVALID_ARGUMENT', `Content-Encoding ${contentEncoding} is not supported (gzip or none)`, { field: 'content-encoding' })
        const bytes = await readOtlpBody(body as Readable, contentEncoding === 'gzip', Number(request.headers['content-length'] ?? NaN))
        const header = request.headers['x-assay-deployment']
        const fallback = typeof header === 'string' && header !== '' ? header : undefined
        // A SQL store takes the traces as the decode threads prepare them; any other is given them decoded.
        const writer = preparedTraceWriter(state.store)
        let result: LogTracesResult
        let rejections: { spans: number; code: string; message: string }[]
        if (writer !== undefined) {
          // The body is handed over: nothing reads it after the decode.
          const decoded = await state.otlpDecoder.decode({ bytes, encoding, defaultDeployment: fallback }, { owned: true })
          result = await logPreparedTracesAs(state, caller, writer, decoded.prepared)
          rejections = [...decoded.decodeRejected, ...result.rejected]
        } else {
          const decoded = decodeOtlpBody(bytes, encoding, fallback)
          result = await logTracesAs(state, caller, decoded.traces)
          rejections = [...decoded.rejected, ...result.rejected]
        }
        const rejectedSpans = rejections.reduce((n, r) => n + r.spans, 0)
        if (result.stored.length === 0 && result.unchanged.length === 0 && rejections.length > 0) {
          const first = rejections[0]
          throw new AssayError(first.code as 'ASSAY_INVALID_TRACE', first.message, { rejectedSpans, rejectedTraces: rejections.length })
        }
        const message = rejections.length === 0 ? '' : `${rejections.length} ${rejections.length === 1 ? 'trace was' : 'traces were'} rejected; first: ${rejections[0].code}: ${rejections[0].message}`
        const answer = encodeExportResponse(rejectedSpans, message, encoding)
        if (Buffer.isBuffer(answer)) return reply.code(200).type('application/x-protobuf').send(answer)
        return reply.code(200).type('application/json').send(JSON.stringify(answer))
      },
    },
  ]
}

/** The body, inflated when gzip, refused (413) past OTLP_BODY_LIMIT either way: no gzip bomb fills memory. */
async function readOtlpBody(stream: Readable, gzip: boolean, declared: number): Promise<Buffer> {
  if (Number.isFinite(declared) && declared > OTLP_BODY_LIMIT) throw tooLarge(OTLP_BODY_LIMIT)
  const inflater = gzip ? createGunzip() : null
  const source: Readable = inflater === null ? stream : stream.pipe(inflater)
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of source) {
      size += (chunk as Buffer).length
      if (size > OTLP_BODY_LIMIT) {
        // Only the inflater stops: the error handler answers 413 and closes an unfinished request.
        if (inflater !== null) {
          stream.unpipe(inflater)
          inflater.destroy()
        }
        throw tooLarge(OTLP_BODY_LIMIT)
      }
      chunks.push(chunk as Buffer)
    }
  } catch (error) {
    if (error instanceof AssayError) throw error
    throw new AssayError('ASSAY_INVALID_TRACE', `the body does not inflate as gzip: ${(error as Error).message}`, { field: 'body' })
  }
  return Buffer.concat(chunks, size)
}
