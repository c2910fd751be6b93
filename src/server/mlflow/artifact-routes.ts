import { randomUUID } from 'node:crypto'
import { rm } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { z } from 'zod'
import { AssayError } from '../../errors.js'
import { assertArtifactName } from '../../record/validate.js'
import { requireExperiment, type Caller } from '../auth.js'
import type { RouteSpec, ServerState } from '../route.js'
import { stageUpload } from '../routes/artifacts.js'
import { experimentId } from './experiment-ids.js'
import { MLFLOW_ROUTES } from './paths.js'

/**
 * The MLflow artifact proxy (mlflow-artifacts: URIs, docs/mlflow.md). A run's artifact URI is
 * mlflow-artifacts:/EXPERIMENT_ID/RUN_ID/artifacts, so a path under the proxy is
 * EXPERIMENT_ID/RUN_ID/artifacts/NAME; NAME is the assay artifact's name, a produced artifact.
 */
const WildcardParam = z.looseObject({ '*': z.string().max(10_000) })

interface ArtifactPath {
  runId: string
  /** The name under the run's artifacts ('' for the root). */
  name: string
}

function artifactPath(raw: string): ArtifactPath {
  const parts = raw.replace(/^\/+/, '').split('/')
  if (parts.length < 3 || parts[2] !== 'artifacts' || !/^[0-9]+$/.test(parts[0]) || parts[1] === '') {
    throw new AssayError('ASSAY_INVALID_ARTIFACT_NAME', `artifact path ${JSON.stringify(raw.slice(0, 200))} is not EXPERIMENT_ID/RUN_ID/artifacts/NAME`)
  }
  return { runId: parts[1], name: parts.slice(3).join('/').replace(/\/+$/, '') }
}

async function allowed(state: ServerState, caller: Caller, runId: string): Promise<void> {
  requireExperiment(caller, await state.runExperiment(runId))
}

/** The files and directories directly under `dir` among a run's produced artifacts, as MLflow lists them. */
async function listing(state: ServerState, runId: string, dir: string): Promise<{ path: string; is_dir: boolean; file_size?: number }[]> {
  const run = await state.store.getRun(runId)
  const prefix = dir === '' ? '' : `${dir}/`
  const files = new Map<string, { path: string; is_dir: boolean; file_size?: number }>()
  for (const a of run.artifacts) {
    if (a.direction !== 'produced' || !a.name.startsWith(prefix)) continue
    const rest = a.name.slice(prefix.length)
    const slash = rest.indexOf('/')
    const entry = slash < 0 ? { path: `${prefix}${rest}`, is_dir: false, file_size: a.sizeBytes } : { path: `${prefix}${rest.slice(0, slash)}`, is_dir: true }
    files.set(entry.path, entry)
  }
  return [...files.values()].sort((a, b) => (a.path < b.path ? -1 : 1))
}

export function mlflowArtifactRoutes(): RouteSpec[] {
  return [
    {
      method: 'PUT',
      url: MLFLOW_ROUTES.artifact,
      summary: "MLflow artifact proxy upload: PUT EXPERIMENT_ID/RUN_ID/artifacts/NAME, the file's bytes in any content type (a produced artifact of the run)",
      tag: 'mlflow',
      scope: 'write',
      touches: 'handler',
      params: WildcardParam,
      body: { raw: 'the file bytes' },
      response: { json: '{}' },
      async handler({ params, body, caller, state, reply }) {
        const { runId, name } = artifactPath(String(params['*']))
        assertArtifactName(name)
        await allowed(state, caller, runId)
        const staging = path.join(state.uploadDir, randomUUID())
        try {
          await stageUpload(body as Readable, staging, state.artifactLimit)
          await state.store.putArtifact(runId, name, { path: staging }, 'produced')
        } finally {
          await rm(staging, { force: true })
        }
        return reply.code(200).type('application/json').send('{}')
      },
    },
    {
      method: 'GET',
      url: MLFLOW_ROUTES.artifact,
      summary: 'MLflow artifact proxy download: GET EXPERIMENT_ID/RUN_ID/artifacts/NAME',
      tag: 'mlflow',
      scope: 'read',
      touches: 'handler',
      params: WildcardParam,
      response: { binary: 'the artifact bytes' },
      async handler({ params, caller, state, reply }) {
        const { runId, name } = artifactPath(String(params['*']))
        assertArtifactName(name)
        await allowed(state, caller, runId)
        const release = await state.artifactReads.acquire()
        try {
          const read = await state.store.readArtifact(runId, name)
          read.stream.once('close', release)
          void reply.header('content-length', read.sizeBytes).type('application/octet-stream')
          return reply.send(read.stream)
        } catch (error) {
          release()
          throw error
        }
      },
    },
    {
      method: 'GET',
      url: MLFLOW_ROUTES.artifactList,
      summary: 'MLflow artifact proxy listing: ?path=EXPERIMENT_ID/RUN_ID/artifacts[/DIR]',
      tag: 'mlflow',
      scope: 'read',
      touches: 'handler',
      query: z.looseObject({ path: z.string().max(10_000) }),
      response: { json: '{ files: [{ path, is_dir, file_size }] }' },
      async handler({ query, caller, state }) {
        const { runId, name } = artifactPath(query.path as string)
        await allowed(state, caller, runId)
        const files = await listing(state, runId, name)
        // The proxy lists paths relative to the directory asked for.
        const cut = name === '' ? 0 : name.length + 1
        return { files: files.map((f) => ({ ...f, path: f.path.slice(cut) })) }
      },
    },
    {
      method: 'GET',
      url: MLFLOW_ROUTES.listArtifacts,
      summary: 'MLflow ListArtifacts: ?run_id&path',
      tag: 'mlflow',
      scope: 'read',
      touches: 'handler',
      query: z.looseObject({ run_id: z.string().optional(), run_uuid: z.string().optional(), path: z.string().max(10_000).optional() }),
      response: { json: '{ root_uri, files }' },
      async handler({ query, caller, state }) {
        const runId = (query.run_id ?? query.run_uuid) as string | undefined
        if (runId === undefined || runId === '') throw new AssayError('ASSAY_INVALID_ARGUMENT', 'run_id is required', { field: 'run_id' })
        await allowed(state, caller, runId)
        const experiment = await state.runExperiment(runId)
        const dir = ((query.path as string | undefined) ?? '').replace(/^\/+|\/+$/g, '')
        return { root_uri: `mlflow-artifacts:/${experimentId(experiment)}/${runId}/artifacts`, files: await listing(state, runId, dir) }
      },
    },
  ]
}
