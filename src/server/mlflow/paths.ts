/**
 * The MLflow REST paths `assay server` answers (docs/mlflow.md): the tracking and registry API
 * under /api/2.0/mlflow and the artifact proxy under /api/2.0/mlflow-artifacts, as the MLflow
 * Python client calls them.
 */
const API = '/api/2.0/mlflow'
export const MLFLOW_ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts'

export const MLFLOW_ROUTES = {
  experimentByName: `${API}/experiments/get-by-name`,
  experiment: `${API}/experiments/get`,
  createExperiment: `${API}/experiments/create`,
  createRun: `${API}/runs/create`,
  updateRun: `${API}/runs/update`,
  run: `${API}/runs/get`,
  searchRuns: `${API}/runs/search`,
  logBatch: `${API}/runs/log-batch`,
  logMetric: `${API}/runs/log-metric`,
  logParam: `${API}/runs/log-parameter`,
  setTag: `${API}/runs/set-tag`,
  logInputs: `${API}/runs/log-inputs`,
  metricHistory: `${API}/metrics/get-history`,
  listArtifacts: `${API}/artifacts/list`,
  createModel: `${API}/registered-models/create`,
  model: `${API}/registered-models/get`,
  createModelVersion: `${API}/model-versions/create`,
  modelVersion: `${API}/model-versions/get`,
  alias: `${API}/registered-models/alias`,
  artifactList: MLFLOW_ARTIFACTS,
  artifact: `${MLFLOW_ARTIFACTS}/*`,
} as const

/** Requests under these prefixes get MLflow's error body ({ error_code, message }). */
export function isMlflowPath(url: string): boolean {
  return url.startsWith('/api/2.0/mlflow') || url.startsWith('/ajax-api/2.0/mlflow')
}
