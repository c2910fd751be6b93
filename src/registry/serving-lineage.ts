import { AssayError } from '../errors.js'
import type { Deployment, TraceSummary } from '../record/production.js'
import type { CodeVersion, DatasetVersion, ModelVersion } from '../record/types.js'
import { allPages } from '../store/pages.js'
import { PAGE_SIZE, type Store } from '../store/store.js'
import { getModelVersion } from './registry.js'

/**
 * Serving lineage (docs/production.md): from a trace or a deployment down to the model version,
 * the run that made it, and that run's datasets and code; from a dataset version up to every
 * deployment it fed. Each link that cannot be followed is null with the reason in `gaps`.
 */
export interface ServingLineage {
  kind: 'serving'
  trace: TraceSummary | null
  deployment: Deployment
  modelVersion: ModelVersion | null
  run: { id: string; experiment: string; name: string; code: CodeVersion; datasets: DatasetVersion[] } | null
  /** Why the walk stopped early, and the deployment's missing audit fields. */
  gaps: string[]
}

export interface DatasetLineage {
  kind: 'dataset'
  sha256: string
  /** Deployments whose inputs include this dataset version, oldest first. */
  deployments: Deployment[]
}

/** `target`: a trace id, a deployment id (both 32 hex), or `dataset:<sha256>`. */
export async function servingLineage(store: Store, target: string): Promise<ServingLineage | DatasetLineage> {
  if (typeof target === 'string' && target.startsWith('dataset:')) {
    const sha256 = target.slice('dataset:'.length).toLowerCase()
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${JSON.stringify(target)}: a dataset version is dataset:<sha256> with 64 hex characters`)
    const deployments = await allPages((cursor) => store.listDeploymentsPage({ input: sha256, limit: PAGE_SIZE.max, cursor }), (page) => page.deployments)
    return { kind: 'dataset', sha256, deployments }
  }
  if (typeof target !== 'string' || !/^[0-9a-f]{32}$/.test(target)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `${JSON.stringify(target)} is not a trace id, a deployment id (32 hex characters) or dataset:<sha256>`)
  }
  let trace: TraceSummary | null = null
  let deployment: Deployment
  try {
    deployment = await store.getDeployment(target)
  } catch (error) {
    if (!(error instanceof AssayError) || error.code !== 'ASSAY_DEPLOYMENT_NOT_FOUND') throw error
    const { spans: _spans, feedback: _feedback, ...summary } = await store.getTrace(target).catch((e: unknown) => {
      if (e instanceof AssayError && e.code === 'ASSAY_TRACE_NOT_FOUND') throw new AssayError('ASSAY_TRACE_NOT_FOUND', `no trace or deployment has id ${target}`, { id: target })
      throw e
    })
    trace = summary
    deployment = await store.getDeployment(summary.deploymentId)
  }
  const gaps: string[] = deployment.unauditable.map((field) => `the deployment has no ${field}`)
  let modelVersion: ModelVersion | null = null
  let run: ServingLineage['run'] = null
  if (deployment.model !== null && deployment.modelVersion !== null) {
    modelVersion = await getModelVersion(store, deployment.model, deployment.modelVersion)
    const record = await store.getRun(modelVersion.runId)
    run = { id: record.id, experiment: record.experiment, name: record.name, code: record.code, datasets: record.datasets }
  } else {
    gaps.push('no model version: the walk stops at the deployment')
  }
  return { kind: 'serving', trace, deployment, modelVersion, run, gaps }
}
