/**
 * The one error catalogue of assay.
 *
 * Every error a user can see has a stable code from this table, an HTTP status for the
 * server, and a one-line summary (docs/errors.md is the documented copy, checked by a test).
 * This module imports nothing, so every layer, stats/ included, may depend on it.
 */

export const errorCatalogue = {
  // Input validation (run record, SDK, CLI)
  ASSAY_INVALID_ARGUMENT: { status: 400, summary: 'An argument has the wrong type or shape.' },
  ASSAY_INVALID_KEY: { status: 400, summary: 'A key is empty, too long, or contains characters that are not allowed.' },
  ASSAY_VALUE_TOO_LARGE: { status: 413, summary: 'A value is over its documented size limit.' },
  ASSAY_PARAM_CONFLICT: { status: 409, summary: 'A parameter was logged twice with different values.' },
  ASSAY_INVALID_ARTIFACT_NAME: { status: 400, summary: 'An artifact name would leave the artifact store or is not a plain relative path.' },
  ASSAY_DATASET_NOT_FOUND: { status: 400, summary: 'A dataset path does not exist.' },
  ASSAY_DATASET_CONFLICT: { status: 409, summary: 'A dataset name the run already records was added again with another sha256.' },
  ASSAY_INVALID_FILTER: { status: 400, summary: 'A run or trace filter does not parse (a trace filter also when a field\'s type does not match the literal), or a run filter names a params, metrics or tags key no run has.' },
  ASSAY_INVALID_STORE_URL: { status: 400, summary: 'The store location is not one assay can open.' },
  ASSAY_USAGE: { status: 400, summary: 'The command line has an unknown command or option, or misses an argument or a required option (CLI, under --json).' },
  ASSAY_IMPORT_INVALID: { status: 400, summary: 'A result file to import is malformed (details name the file and the line or field); nothing of it was imported.' },

  // Lookups
  ASSAY_RUN_NOT_FOUND: { status: 404, summary: 'No run has this id.' },
  ASSAY_EXPERIMENT_NOT_FOUND: { status: 404, summary: 'No experiment has this name.' },
  ASSAY_EXPERIMENT_EXISTS: { status: 409, summary: 'An experiment with this name already has runs (MLflow experiments/create).' },
  ASSAY_ARTIFACT_NOT_FOUND: { status: 404, summary: 'The run has no artifact with this name.' },
  ASSAY_EVAL_NOT_FOUND: { status: 404, summary: 'The run has no eval records for this dataset.' },
  ASSAY_TOKEN_NOT_FOUND: { status: 404, summary: 'No API token has this id.' },
  ASSAY_STORE_NOT_FOUND: { status: 404, summary: 'A read found no embedded store at the location, and did not create one.' },

  // State
  ASSAY_RUN_NOT_ACTIVE: { status: 409, summary: 'The run has ended; nothing more can be logged to it.' },
  ASSAY_ARTIFACT_CORRUPT: { status: 500, summary: 'Stored artifact bytes no longer match their sha256.' },
  ASSAY_STORE_BUSY: { status: 503, summary: 'The store stayed locked by other writers past the retry budget.' },
  ASSAY_STORE_FULL: { status: 507, summary: 'The disk (or database) of the store is full; nothing of the refused write was kept, and what was stored before is intact.' },
  ASSAY_STORE_SCHEMA_TOO_NEW: { status: 500, summary: 'The store was written by a newer assay than this one.' },
  ASSAY_STORE_MALFORMED_RESPONSE: { status: 500, summary: 'The database answered a read with data of another shape than the read asked for (a binary COPY with a wrong signature, flags, field count, field length or NULL, or cut short); nothing of it was used.' },

  // Server and remote SDK (assay server, http:// stores)
  ASSAY_UNAUTHENTICATED: { status: 401, summary: 'The request has no API token, or its token is unknown or revoked.' },
  ASSAY_FORBIDDEN: { status: 403, summary: "The API token's scope or experiments do not allow this request." },
  ASSAY_ROUTE_NOT_FOUND: { status: 404, summary: 'No server route has this method and path.' },
  ASSAY_BODY_TOO_LARGE: { status: 413, summary: 'The request body is over the documented limit of the server.' },
  ASSAY_MALFORMED_JSON: { status: 400, summary: 'The request body is not valid JSON.' },
  ASSAY_STORE_UNAVAILABLE: { status: 503, summary: 'The store or server cannot be reached (reads fail; writes are spooled by the remote SDK).' },
  ASSAY_INTERNAL: { status: 500, summary: 'An unexpected failure (a bug); the server log, or the CLI message, has the details.' },

  // Comparisons (assay compare, assay variance)
  ASSAY_METRIC_NOT_FOUND: { status: 404, summary: 'A side of a comparison has no score or metric with this name.' },
  ASSAY_NOT_COMPARABLE: { status: 422, summary: 'The two sides were evaluated on different dataset versions or cannot be paired.' },
  ASSAY_GROUP_TOO_SMALL: { status: 400, summary: 'A group has too few runs (or examples) for the method asked for.' },

  // Leaderboards (assay leaderboard, assay report)
  ASSAY_LEADERBOARD_EMPTY: { status: 400, summary: 'A leaderboard found too few candidate runs with eval records on the dataset (a baseline and at least one candidate).' },

  // Registry, promotion gates and the audit log (assay models, alias, gate, promote, rollback, audit)
  ASSAY_MODEL_NOT_FOUND: { status: 404, summary: 'No registered model has this name, or the model has no such version.' },
  ASSAY_MODEL_EXISTS: { status: 409, summary: 'A registered model with this name already exists.' },
  ASSAY_ALIAS_NOT_FOUND: { status: 404, summary: 'The model has no holder for this alias.' },
  ASSAY_INVALID_GATE_SPEC: { status: 400, summary: 'A gate file does not parse or breaks the gate schema (details name the field and line).' },
  ASSAY_INVALID_MONITOR_SPEC: { status: 400, summary: 'A monitor file does not parse or breaks the monitor schema (details name the field and line).' },
  ASSAY_GATE_BLOCKED: { status: 409, summary: 'The promotion gate blocked the candidate; no alias moved.' },
  ASSAY_GATE_TOO_MUCH_WORK: { status: 422, summary: "A gate check on the server asks for more resamples than the server allows, or ran past its time limit." },
  ASSAY_WARNINGS_NOT_ACCEPTED: { status: 409, summary: 'The gate warned; promotion needs --accept-warnings and a reason.' },
  ASSAY_NOTHING_TO_ROLL_BACK: { status: 409, summary: 'The alias has no previous holder to restore.' },
  ASSAY_ROLLBACK_TARGET_MISMATCH: { status: 409, summary: "The alias's previous holder is not the expected rollback candidate." },
  ASSAY_NO_GATE_POLICY: { status: 409, summary: 'No gate is registered for this model and alias: an admin registers one with `assay gates set`; no alias moved.' },
  ASSAY_UNAUDITABLE_TRAFFIC: { status: 409, summary: 'A deployment built on the model serves traffic without its lineage metadata (model version, prompt version, owner, code or inputs): promotion stops until a complete deployment is recorded; no alias moved.' },
  ASSAY_ALIAS_HOLDER_CHANGED: { status: 409, summary: 'The alias no longer holds the version the decision was about (it moved since); no alias moved.' },
  ASSAY_GATE_NOT_REGISTERED: { status: 409, summary: "The gate sent with a promotion is not the one registered for the model and alias (its sha256 differs); no alias moved." },
  ASSAY_AUDIT_CONFLICT: { status: 409, summary: 'Another writer appended to the audit log or moved the alias first; retry.' },
  ASSAY_AUDIT_CHAIN_BROKEN: { status: 500, summary: 'An audit record was changed, removed or reordered (details name the first bad sequence number).' },
  ASSAY_AUDIT_RECORD_NOT_FOUND: { status: 404, summary: 'The audit log has no record with this sequence number.' },

  // Production: deployments, traces and feedback (docs/production.md)
  ASSAY_DEPLOYMENT_NOT_FOUND: { status: 404, summary: 'No deployment has this id.' },
  ASSAY_TRACE_NOT_FOUND: { status: 404, summary: 'No trace has this id.' },
  ASSAY_INVALID_TRACE: { status: 400, summary: 'A trace or span is malformed: a missing or malformed id, a wrong attribute type, an attribute or span count over its limit, or an OTLP body that does not decode (details name the field).' },
  ASSAY_UNKNOWN_DEPLOYMENT: { status: 400, summary: 'A trace names no deployment, or one the store does not have (assay.deployment.id); nothing of that trace was stored.' },
  ASSAY_TRACE_CONFLICT: { status: 409, summary: 'A span id of a stored trace arrived again with other content, or a trace id arrived for another deployment; the stored trace is unchanged.' },

  // Statistics (assay/stats)
  ASSAY_STATS_EMPTY_INPUT: { status: 400, summary: 'A statistic was asked of an empty sample.' },
  ASSAY_STATS_NON_FINITE_INPUT: { status: 400, summary: 'A sample contains NaN or an infinity.' },
  ASSAY_STATS_LENGTH_MISMATCH: { status: 400, summary: 'Paired samples have different lengths.' },
  ASSAY_STATS_INVALID_OPTION: { status: 400, summary: 'An option is out of its range (for example a confidence level outside (0, 1)).' },
  ASSAY_STATS_INVALID_COUNT: { status: 400, summary: 'A count is negative, not an integer, or larger than its total.' },
  ASSAY_STATS_TOO_FEW_OBSERVATIONS: { status: 400, summary: 'The sample is too small for this statistic.' },
  ASSAY_STATS_DEGENERATE_INPUT: { status: 400, summary: 'The data are constant or otherwise degenerate, so the statistic is undefined.' },
} as const satisfies Record<string, { status: number; summary: string }>

export type ErrorCode = keyof typeof errorCatalogue

/** The single error type assay throws on purpose. `code` is stable; `message` is for people. */
export class AssayError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly details: Record<string, unknown> | undefined

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message)
    this.name = 'AssayError'
    this.code = code
    this.status = errorCatalogue[code].status
    this.details = details
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }
}

export function isAssayError(error: unknown, code?: ErrorCode): error is AssayError {
  return error instanceof AssayError && (code === undefined || error.code === code)
}

/**
 * A driver's or the file system's "no space left" (SQLite SQLITE_FULL, ENOSPC, EDQUOT,
 * PostgreSQL 53100 disk_full) as ASSAY_STORE_FULL; undefined for any other error.
 */
export function storeFullError(error: unknown): AssayError | undefined {
  const code = (error as { code?: unknown } | null)?.code
  if (code !== 'SQLITE_FULL' && code !== 'ENOSPC' && code !== 'EDQUOT' && code !== '53100') return undefined
  return new AssayError('ASSAY_STORE_FULL', `the store's disk is full (${code}): the write was refused and nothing of it kept; what was stored before is intact. Free space and retry`, { cause: code })
}
