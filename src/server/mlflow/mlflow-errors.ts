import type { AssayError, ErrorCode } from '../../errors.js'

/**
 * assay's catalogue codes as MLflow's error codes and HTTP statuses (docs/mlflow.md). The MLflow
 * client retries 429 and 5xx for minutes, so only failures a retry can cure (a busy or full
 * store, a bug) get one; every predictable refusal is a 4xx.
 */
const NOT_FOUND: readonly ErrorCode[] = [
  'ASSAY_RUN_NOT_FOUND',
  'ASSAY_EXPERIMENT_NOT_FOUND',
  'ASSAY_ARTIFACT_NOT_FOUND',
  'ASSAY_MODEL_NOT_FOUND',
  'ASSAY_ALIAS_NOT_FOUND',
  'ASSAY_METRIC_NOT_FOUND',
  'ASSAY_EVAL_NOT_FOUND',
]
const DENIED: readonly ErrorCode[] = ['ASSAY_FORBIDDEN', 'ASSAY_GATE_BLOCKED', 'ASSAY_WARNINGS_NOT_ACCEPTED', 'ASSAY_NO_GATE_POLICY', 'ASSAY_GATE_NOT_REGISTERED']
const CONFLICT: readonly ErrorCode[] = ['ASSAY_AUDIT_CONFLICT', 'ASSAY_AUDIT_CHAIN_BROKEN', 'ASSAY_TRACE_CONFLICT']
const UNAVAILABLE: readonly ErrorCode[] = ['ASSAY_STORE_BUSY', 'ASSAY_STORE_FULL', 'ASSAY_STORE_UNAVAILABLE']

export interface MlflowErrorBody {
  error_code: string
  message: string
  /** The catalogue code behind it (docs/errors.md), for people and scripts that know assay. */
  assay_code: ErrorCode
}

export function mlflowError(error: AssayError): { status: number; body: MlflowErrorBody } {
  const [errorCode, status] = mlflowCode(error.code)
  return { status, body: { error_code: errorCode, message: error.message, assay_code: error.code } }
}

function mlflowCode(code: ErrorCode): [string, number] {
  if (NOT_FOUND.includes(code)) return ['RESOURCE_DOES_NOT_EXIST', 404]
  if (code === 'ASSAY_ROUTE_NOT_FOUND') return ['ENDPOINT_NOT_FOUND', 404]
  if (code === 'ASSAY_MODEL_EXISTS' || code === 'ASSAY_EXPERIMENT_EXISTS') return ['RESOURCE_ALREADY_EXISTS', 400]
  if (code === 'ASSAY_UNAUTHENTICATED') return ['UNAUTHENTICATED', 401]
  if (DENIED.includes(code)) return ['PERMISSION_DENIED', 403]
  if (CONFLICT.includes(code)) return ['RESOURCE_CONFLICT', 409]
  if (UNAVAILABLE.includes(code)) return ['TEMPORARILY_UNAVAILABLE', 503]
  if (code === 'ASSAY_INTERNAL' || code === 'ASSAY_ARTIFACT_CORRUPT' || code === 'ASSAY_STORE_SCHEMA_TOO_NEW' || code === 'ASSAY_STORE_MALFORMED_RESPONSE') return ['INTERNAL_ERROR', 500]
  return ['INVALID_PARAMETER_VALUE', 400]
}
