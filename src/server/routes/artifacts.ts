import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AssayError } from '../../errors.js'
import type { ArtifactDirection } from '../../record/types.js'
import { contentNotFound } from '../../store/blob-store.js'
import type { Caller } from '../auth.js'
import { assertArtifactName } from '../../record/validate.js'
import type { RouteSpec } from '../route.js'
import { ArtifactReadQuery, ArtifactRefSchema, ArtifactUploadQuery, PAGE_PARAMETERS, PageQuery, requestedPage, RunIdParam, Sha256Param, Sha256PrefixQuery } from '../schemas.js'
import { ROUTES } from '../../store/http/routes.js'

/** Stream an upload to `staging`, refusing it (413) past `limit`; returns the sha256 of its bytes. The caller removes the file. */
export async function stageUpload(body: Readable, staging: string, limit: number): Promise<string> {
  const hash = createHash('sha256')
  let size = 0
  await pipeline(
    body,
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        size += chunk.length
        if (size > limit) throw new AssayError('ASSAY_BODY_TOO_LARGE', `the artifact is over the limit of ${limit} bytes`, { limit })
        hash.update(chunk)
        yield chunk
      }
    },
    createWriteStream(staging),
  )
  return hash.digest('hex')
}

export function artifactRoutes(): RouteSpec[] {
  return [
    {
      method: 'PUT',
      url: ROUTES.runArtifacts,
      summary: 'upload an artifact as a stream; x-assay-sha256 names the expected content and is checked on arrival (mismatch: 400, nothing stored)',
      tag: 'artifacts',
      scope: 'write',
      touches: 'run',
      params: RunIdParam,
      query: ArtifactUploadQuery,
      body: { stream: 'the artifact bytes' },
      response: { json: '{ artifact: ArtifactRef }', status: 201 },
      async handler({ params, query, body, request, state }) {
        const name = query.name as string
        assertArtifactName(name)
        const expected = String(request.headers['x-assay-sha256'] ?? '')
        if (!/^[0-9a-f]{64}$/.test(expected)) {
          ;(body as Readable).resume()
          throw new AssayError('ASSAY_INVALID_ARGUMENT', 'header x-assay-sha256 must be the sha256 (64 lowercase hex) of the uploaded bytes', { field: 'header.x-assay-sha256' })
        }
        const declared = Number(request.headers['content-length'] ?? NaN)
        if (Number.isFinite(declared) && declared > state.artifactLimit) {
          ;(body as Readable).resume()
          throw new AssayError('ASSAY_BODY_TOO_LARGE', `the artifact is over the limit of ${state.artifactLimit} bytes`, { limit: state.artifactLimit })
        }
        // The staging file's name is a random UUID in the server's own upload directory: no
        // part of the request reaches a file system path.
        const staging = path.join(state.uploadDir, randomUUID())
        try {
          const actual = await stageUpload(body as Readable, staging, state.artifactLimit)
          if (actual !== expected) {
            throw new AssayError('ASSAY_INVALID_ARGUMENT', `the uploaded bytes hash to ${actual}, not ${expected} as x-assay-sha256 says; nothing was stored`, {
              field: 'header.x-assay-sha256',
              expected,
              actual,
            })
          }
          const artifact = await state.store.putArtifact(params.runId as string, name, { path: staging }, query.direction as ArtifactDirection)
          return { artifact }
        } finally {
          await rm(staging, { force: true })
        }
      },
    },
    {
      method: 'POST',
      url: ROUTES.runArtifactBySha256,
      summary: 'record an artifact by the sha256 of content already attached to a run the token may read (a consumed edge, usually); other content is 404 as unknown content is',
      tag: 'artifacts',
      scope: 'write',
      touches: 'run',
      params: RunIdParam,
      body: { json: ArtifactRefSchema },
      response: { json: '{ artifact: ArtifactRef }', status: 201 },
      async handler({ params, body, caller, state }) {
        const { name, sha256, direction } = body as { name: string; sha256: string; direction: ArtifactDirection }
        assertArtifactName(name)
        // Attaching content would let the caller download it (and learn that it exists): only
        // content it can already read through some run, with the same answer as unknown content otherwise.
        if ((await state.store.artifactLineagePage({ sha256, experiments: readableExperiments(caller), limit: 1 })).edges.length === 0) throw contentNotFound(sha256)
        return { artifact: await state.store.putArtifact(params.runId as string, name, { sha256 }, direction) }
      },
    },
    {
      method: 'GET',
      url: ROUTES.runArtifactContent,
      summary: "an artifact's bytes, verified by the store; x-assay-sha256 is the sha256 the run's record holds (not recomputed), for the client to check the bytes against as they arrive",
      tag: 'artifacts',
      scope: 'read',
      touches: 'run',
      params: RunIdParam,
      query: ArtifactReadQuery,
      response: { binary: 'the artifact bytes' },
      async handler({ params, query, state, reply }) {
        const name = query.name as string
        assertArtifactName(name)
        // At most `artifactReads` streams at once (the rest wait their turn): each holds a file
        // handle or a database connection while its reader takes its time.
        const release = await state.artifactReads.acquire()
        try {
          // The sha256 the run's record holds (the stores read produced before consumed), so the
          // client checks the bytes against the record and not against whatever was read.
          const read = await state.store.readArtifact(params.runId as string, name)
          read.stream.once('close', release)
          void reply.header('x-assay-sha256', read.sha256).header('content-length', read.sizeBytes).type('application/octet-stream')
          // Streamed under the socket's back-pressure: a slow reader holds a slice, not the artifact.
          return reply.send(read.stream)
        } catch (error) {
          release()
          throw error
        }
      },
    },
    {
      method: 'GET',
      url: ROUTES.artifactLineage,
      summary: `one page of the runs that produced and consumed this content, by time (only runs of experiments the token may read; its pages are still full): ${PAGE_PARAMETERS}`,
      tag: 'artifacts',
      scope: 'read',
      touches: 'handler',
      params: Sha256Param,
      query: PageQuery,
      response: { json: '{ edges: ArtifactRef[], nextCursor: string | null }' },
      async handler({ params, query, caller, state }) {
        return state.store.artifactLineagePage({ sha256: params.sha256 as string, experiments: readableExperiments(caller), ...requestedPage(query) })
      },
    },
    {
      method: 'GET',
      url: ROUTES.datasetRuns,
      summary: `one page of the runs that logged this dataset version, by start time (only runs of experiments the token may read; its pages are still full): ${PAGE_PARAMETERS}`,
      tag: 'artifacts',
      scope: 'read',
      touches: 'handler',
      params: Sha256Param,
      query: PageQuery,
      response: { json: '{ uses: DatasetUse[], nextCursor: string | null }' },
      async handler({ params, query, caller, state }) {
        return state.store.datasetRunsPage({ sha256: params.sha256 as string, experiments: readableExperiments(caller), ...requestedPage(query) })
      },
    },
    {
      method: 'GET',
      url: ROUTES.artifactSha256s,
      summary: 'up to limit distinct artifact sha256s starting with prefix, in order (what lineage prefixes resolve with; only content a run of an experiment the token may read has)',
      tag: 'artifacts',
      scope: 'read',
      touches: 'handler',
      query: Sha256PrefixQuery,
      response: { json: '{ sha256s: string[] }' },
      async handler({ query, caller, state }) {
        const prefix = query.prefix as string
        const limit = query.limit as number
        const store = state.store
        // Content no readable run has is not named (nor counted: a foreign match does not make a prefix ambiguous).
        return { sha256s: await store.artifactSha256sWithPrefix(prefix, limit, readableExperiments(caller)) }
      },
    },
  ]
}

/** The experiments whose runs a limited token may read (undefined: every experiment). */
function readableExperiments(caller: Caller): readonly string[] | undefined {
  return caller.restricted ? (caller.token?.experiments ?? undefined) : undefined
}
