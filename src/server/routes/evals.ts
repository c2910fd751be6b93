import { AssayError, isAssayError } from '../../errors.js'
import { decodeEvalChunk, encodeEvalChunk, type EvalChunk } from '../../store/chunk-codec.js'
import { LIMITS, assertKey, assertOutputHash } from '../../record/validate.js'
import { evalColumnsToChunk } from '../../store/http/wire.js'
import type { RouteSpec } from '../route.js'
import { EvalQuery, EvalReadQuery, RunIdParam } from '../schemas.js'
import { ROUTES } from '../../store/http/routes.js'

export function evalRoutes(): RouteSpec[] {
  return [
    {
      method: 'POST',
      url: ROUTES.runEvals,
      summary: 'append one chunk of eval records of a dataset; a batchId already applied is skipped',
      tag: 'evals',
      scope: 'write',
      touches: 'run',
      params: RunIdParam,
      query: EvalQuery,
      body: { binary: 'an eval chunk of the chunk codec ("ASAE", header length, JSON header of ids/clusters/output hashes, float64 columns)' },
      response: { json: '{ ok: true }' },
      async handler({ params, query, body, state }) {
        const chunk = decodeChunk(body as Buffer)
        await state.store.logEval(params.runId as string, query.dataset as string, query.datasetSha256 as string, chunk, query.batchId as string | undefined)
        return { ok: true }
      },
    },
    {
      method: 'GET',
      url: ROUTES.runEvals,
      summary: 'the eval records of a run for one dataset as one eval chunk; the dataset sha256 is in the x-assay-dataset-sha256 header',
      tag: 'evals',
      scope: 'read',
      touches: 'run',
      params: RunIdParam,
      query: EvalReadQuery,
      response: { binary: 'an eval chunk of the chunk codec' },
      async handler({ params, query, state, reply }) {
        const columns = await state.store.evalColumns(params.runId as string, query.dataset as string)
        void reply.header('x-assay-dataset-sha256', columns.datasetSha256)
        return encodeEvalChunk(evalColumnsToChunk(columns))
      },
    },
  ]
}

function decodeChunk(bytes: Buffer): EvalChunk {
  let chunk: EvalChunk
  try {
    chunk = decodeEvalChunk(bytes)
  } catch (error) {
    // A header of the wrong shape (numeric: null) fails inside the decoder: the body is bad, not the server.
    if (error instanceof SyntaxError || error instanceof TypeError || error instanceof RangeError || isAssayError(error)) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'the body is not an eval chunk (docs/server.md)', { field: 'body' })
    throw error
  }
  const n = chunk.ids.length
  const bad = (field: string, what: string): never => {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `body.${field}: ${what}`, { field: `body.${field}` })
  }
  if (!Array.isArray(chunk.ids) || chunk.ids.some((id) => typeof id !== 'string' || id.length === 0 || id.length > 1024)) bad('ids', 'ids must be strings of 1-1,024 characters')
  for (const field of ['clusters', 'outputHashes'] as const) {
    const list = chunk[field]
    if (list !== null && (!Array.isArray(list) || list.length !== n || list.some((v) => v !== null && typeof v !== 'string'))) bad(field, `must be null or ${n} strings or nulls`)
  }
  let scores = 0
  for (const name of chunk.numeric.keys()) {
    if (name.startsWith('score:')) {
      assertKey(name.slice('score:'.length), 'score name')
      if (++scores > LIMITS.scoresPerRecord) bad('numeric', `over ${LIMITS.scoresPerRecord} score columns`)
    } else if (!['latencyMs', 'tokens', 'cost'].includes(name)) bad('numeric', `unknown column ${JSON.stringify(name)}`)
  }
  for (const [i, hash] of (chunk.outputHashes ?? []).entries()) if (hash !== null) assertOutputHash(hash, `body.outputHashes.${i}`)
  for (const [name, indices] of chunk.missing) {
    if (!chunk.numeric.has(name) || !Array.isArray(indices) || indices.some((i) => !Number.isInteger(i) || i < 0 || i >= n)) bad(`missing.${name}`, 'must list record indices of a column of the chunk')
  }
  return chunk
}
