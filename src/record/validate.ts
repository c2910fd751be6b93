import { AssayError } from '../errors.js'
import { DATASET_ROLES, type CodeVersion, type DatasetRole, type DatasetVersion, type Environment, type JsonValue, type Params } from './types.js'

/** Documented limits (docs/run-record.md). Checked before anything is written. */
export const LIMITS = {
  keyLength: 250,
  nameLength: 250,
  paramValueBytes: 64 * 1024,
  /** Nesting of arrays and objects inside one param value. */
  paramDepth: 64,
  tagValueBytes: 8 * 1024,
  evalIdLength: 1024,
  artifactNameLength: 1024,
  evalRecordsPerCall: 5_000_000,
  /** Scores of one eval record, and distinct score names in one call of logEval (columns of one chunk). */
  scoresPerRecord: 64,
  /** An eval record's output hash (a digest of the model's output, not the output). */
  outputHashLength: 256,
  /** A recorded text field of the environment, code version or a dataset (a path, a version, a URL). */
  recordedTextLength: 4096,
  /** Items one run may hold: every listing carries its runs' params, tags and last metric values. */
  paramsPerRun: 1000,
  tagsPerRun: 1000,
  metricKeysPerRun: 1000,
  datasetsPerRun: 1000,
} as const

export const ITEMS_PER_RUN = { params: LIMITS.paramsPerRun, tags: LIMITS.tagsPerRun, 'metric keys': LIMITS.metricKeysPerRun, datasets: LIMITS.datasetsPerRun } as const

/** A run may hold at most LIMITS.*PerRun params, tags and metric keys (what it would hold after a write). */
export function assertItemsPerRun(kind: keyof typeof ITEMS_PER_RUN, count: number, runId?: string): void {
  const limit = ITEMS_PER_RUN[kind]
  if (count > limit) {
    throw new AssayError('ASSAY_VALUE_TOO_LARGE', `${runId === undefined ? 'a run' : `run ${runId}`} would hold ${count} ${kind}; the limit is ${limit} per run`, { kind, count, limit })
  }
}

// C0 controls, DEL and C1 controls: matching them is the point.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/

export function assertKey(key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string') {
    throw new AssayError('ASSAY_INVALID_KEY', `${what} must be a string, got ${typeof key}`)
  }
  if (key.length === 0) throw new AssayError('ASSAY_INVALID_KEY', `${what} is empty`)
  if (key.length > LIMITS.keyLength) {
    throw new AssayError('ASSAY_INVALID_KEY', `${what} is ${key.length} characters; the limit is ${LIMITS.keyLength}`, { key: key.slice(0, 40) })
  }
  if (CONTROL_CHARS.test(key)) {
    throw new AssayError('ASSAY_INVALID_KEY', `${what} ${JSON.stringify(key)} contains a control character`)
  }
  if (key.trim() !== key) {
    throw new AssayError('ASSAY_INVALID_KEY', `${what} ${JSON.stringify(key)} has leading or trailing whitespace`)
  }
  // Assigning it on a plain object sets the prototype instead of a property, so the value would vanish.
  if (key === '__proto__') throw new AssayError('ASSAY_INVALID_KEY', `${what} "__proto__" is reserved`)
}

export function assertName(value: unknown, what: string): asserts value is string {
  assertKey(value, what)
  if (value.length > LIMITS.nameLength) {
    throw new AssayError('ASSAY_INVALID_KEY', `${what} is longer than ${LIMITS.nameLength} characters`)
  }
}

/**
 * A recorded text that `assay replay` and listings print (a commit, a version, a path, a URL):
 * a string with no control character, so no newline or terminal escape ends a printed line early.
 */
export function assertRecordedText(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string') throw new AssayError('ASSAY_INVALID_ARGUMENT', `${what} must be a string, got ${describe(value)}`, { field: what })
  if (value.length > LIMITS.recordedTextLength) throw new AssayError('ASSAY_VALUE_TOO_LARGE', `${what} is over ${LIMITS.recordedTextLength} characters`, { field: what })
  if (CONTROL_CHARS.test(value)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${what} ${JSON.stringify(value.slice(0, 80))} contains a control character`, { field: what })
}

/** A git object id: 40 (SHA-1) or 64 (SHA-256) lowercase hex characters, nothing a shell could run. */
export function assertCommit(value: unknown): asserts value is string {
  if (typeof value !== 'string' || !/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(value)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `code.commit must be a git object id (40 or 64 lowercase hex characters), got ${describe(value)}`, { field: 'code.commit' })
  }
}

/**
 * The parts of a run record that were captured rather than chosen, checked the same way by the
 * SDK before it writes and by the server before it stores what a client sent.
 */
export function assertCapturedRecord(run: { environment: Environment; code: CodeVersion; datasets: DatasetVersion[] }): void {
  const env = run.environment
  for (const field of ['runtime', 'runtimeVersion', 'os', 'osRelease', 'arch', 'cpuModel', 'hostname', 'cwd'] as const) assertRecordedText(env[field], `environment.${field}`)
  if (env.lockfile) assertRecordedText(env.lockfile.path, 'environment.lockfile.path')
  for (const name of Object.keys(env.envVars)) {
    // Replay prints NAME='value' before the command: a name is a shell identifier or it would run.
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `environment.envVars name ${JSON.stringify(name.slice(0, 80))} is not an environment variable name`, { field: 'environment.envVars' })
  }
  const code = run.code
  if (code.commit !== undefined) assertCommit(code.commit)
  for (const field of ['branch', 'remote', 'diffArtifact', 'root', 'reason'] as const) {
    const value = code[field]
    if (value !== undefined && value !== null) assertRecordedText(value, `code.${field}`)
  }
  for (const [i, file] of (code.untracked ?? []).entries()) assertRecordedText(file, `code.untracked.${i}`)
  for (const [i, d] of run.datasets.entries()) {
    assertRecordedText(d.name, `datasets.${i}.name`)
    assertRecordedText(d.source, `datasets.${i}.source`)
  }
}

/** A dataset version handed to the store whole (added to a running run): the shape the record holds. */
export function assertDatasetVersion(d: unknown, what: string): asserts d is DatasetVersion {
  if (typeof d !== 'object' || d === null || Array.isArray(d)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${what} must be a dataset version object`, { field: what })
  const v = d as Record<string, unknown>
  assertName(v.name, `${what}.name`)
  assertRole(v.role)
  if (typeof v.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(v.sha256)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${what}.sha256 must be 64 lowercase hex characters`, { field: `${what}.sha256` })
  if (!DATASET_KINDS.includes(v.kind as DatasetVersion['kind'])) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${what}.kind must be one of ${DATASET_KINDS.join(', ')}, got ${describe(v.kind)}`, { field: `${what}.kind` })
  for (const field of ['sizeBytes', 'fileCount'] as const) {
    if (!Number.isSafeInteger(v[field]) || (v[field] as number) < 0) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${what}.${field} must be a non-negative integer`, { field: `${what}.${field}` })
  }
  if (v.rows !== null && (!Number.isSafeInteger(v.rows) || (v.rows as number) < 0)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${what}.rows must be a non-negative integer or null`, { field: `${what}.rows` })
  if (v.columns !== null && (!Array.isArray(v.columns) || v.columns.some((c) => typeof c !== 'string'))) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${what}.columns must be an array of strings or null`, { field: `${what}.columns` })
  assertRecordedText(v.source, `${what}.source`)
}

const DATASET_KINDS: readonly DatasetVersion['kind'][] = ['file', 'directory', 'reference']

/** A registered model's name: a name that is not a path (no '/' or '\\', not '.' or '..'), as it appears in listings and URLs. */
export function assertModelName(value: unknown): asserts value is string {
  assertName(value, 'model name')
  if (/[/\\]/.test(value) || value === '.' || value === '..') {
    throw new AssayError('ASSAY_INVALID_KEY', `model name ${JSON.stringify(value)} may not contain '/' or '\\' or be '.' or '..'`)
  }
}

/** An eval record's output hash: a digest of the output, at most LIMITS.outputHashLength characters without control characters. */
export function assertOutputHash(value: unknown, what = 'outputHash'): asserts value is string {
  if (typeof value !== 'string') throw new AssayError('ASSAY_INVALID_ARGUMENT', `${what} must be a string, got ${describe(value)}`)
  if (value.length > LIMITS.outputHashLength) throw new AssayError('ASSAY_VALUE_TOO_LARGE', `${what} is ${value.length} characters; the limit is ${LIMITS.outputHashLength} (a digest, not the output)`)
  if (CONTROL_CHARS.test(value)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${what} contains a control character`)
}

/** Canonical JSON: object keys sorted, so equal values have equal text and equal hashes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(inKeyOrder(value))
}

/**
 * The value with its keys in canonical order, copying only the plain objects (and the arrays
 * holding them) whose keys are not in that order already: a value built in key order (decoded
 * spans) is serialised as it is, with one JSON.stringify and no copy. The result serialises
 * exactly as sortKeys(value) does; anything but plain objects and plain arrays goes through
 * sortKeys, so a Date or a Buffer keeps sortKeys's reading of it.
 */
function inKeyOrder(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype || Object.prototype.hasOwnProperty.call(value, 'toJSON')) return sortKeys(value)
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      const ordered = inKeyOrder(item)
      if (ordered !== item && copy === undefined) copy = value.slice(0, i)
      if (copy !== undefined) copy.push(ordered)
    }
    // A hole copied as undefined is no difference: JSON writes null for both.
    return copy ?? value
  }
  const proto: unknown = Object.getPrototypeOf(value)
  // sortKeys's copy calls an own toJSON on itself and drops an own __proto__ key (assigning it sets the prototype).
  const own = Object.prototype.hasOwnProperty
  if ((proto !== Object.prototype && proto !== null) || own.call(value, 'toJSON') || own.call(value, '__proto__')) return sortKeys(value)
  const record = value as Record<string, unknown>
  const keys = Object.keys(record)
  let sorted = true
  for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1] < keys[i] || isArrayIndex(keys[i - 1])
  if (!sorted) return sortKeys(value)
  let copy: Record<string, unknown> | undefined
  for (let i = 0; i < keys.length; i++) {
    const item = record[keys[i]]
    const ordered = inKeyOrder(item)
    if (ordered !== item && copy === undefined) {
      copy = {}
      for (let j = 0; j < i; j++) copy[keys[j]] = record[keys[j]]
    }
    if (copy !== undefined) copy[keys[i]] = ordered
  }
  return copy ?? value
}

/** Keys that objects enumerate first, in numeric order, whatever order they were added in. */
function isArrayIndex(key: string): boolean {
  return /^(?:0|[1-9][0-9]*)$/.test(key) && Number(key) < 4294967295
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key])
    return out
  }
  return value
}

export function assertJsonValue(value: unknown, path: string): asserts value is JsonValue {
  checkJsonValue(value, path, 0, new Set(), { nodes: 0 })
}

/**
 * Recursion bounded three ways, so no input reaches a bare RangeError or a hang: nesting deeper than
 * LIMITS.paramDepth and more nodes than LIMITS.paramValueBytes (each node is at least one byte of
 * JSON; a shared sub-object is counted every time it appears, as JSON.stringify would write it) are
 * ASSAY_VALUE_TOO_LARGE, and a cycle (an object inside itself) is ASSAY_INVALID_ARGUMENT.
 */
function checkJsonValue(value: unknown, path: string, depth: number, ancestors: Set<object>, budget: { nodes: number }): void {
  if (++budget.nodes > LIMITS.paramValueBytes) {
    throw new AssayError('ASSAY_VALUE_TOO_LARGE', `${path} has over ${LIMITS.paramValueBytes} values; a param value is at most ${LIMITS.paramValueBytes} bytes as JSON`)
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `${path} is ${String(value)}; parameter values must be finite numbers`)
    }
    return
  }
  const isArray = Array.isArray(value)
  if (isArray || (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)) {
    if (ancestors.has(value)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${path} contains itself (a cycle); parameter values must be JSON`)
    if (depth >= LIMITS.paramDepth) {
      throw new AssayError('ASSAY_VALUE_TOO_LARGE', `${path} is nested deeper than ${LIMITS.paramDepth} arrays or objects`)
    }
    ancestors.add(value)
    if (isArray) {
      value.forEach((item, i) => checkJsonValue(item, `${path}[${i}]`, depth + 1, ancestors, budget))
    } else {
      for (const [key, item] of Object.entries(value)) {
        assertKey(key, `${path} key`)
        checkJsonValue(item, `${path}.${key}`, depth + 1, ancestors, budget)
      }
    }
    ancestors.delete(value)
    return
  }
  throw new AssayError('ASSAY_INVALID_ARGUMENT', `${path} must be JSON (string, number, boolean, null, array or plain object), got ${describe(value)}`)
}

export function assertParams(params: unknown): asserts params is Params {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `params must be an object, got ${describe(params)}`)
  }
  assertItemsPerRun('params', Object.keys(params).length)
  for (const [key, value] of Object.entries(params)) {
    assertKey(key, 'param key')
    assertJsonValue(value, `params.${key}`)
    const bytes = Buffer.byteLength(JSON.stringify(value))
    if (bytes > LIMITS.paramValueBytes) {
      throw new AssayError('ASSAY_VALUE_TOO_LARGE', `params.${key} is ${bytes} bytes as JSON; the limit is ${LIMITS.paramValueBytes}`)
    }
  }
}

export function assertTags(tags: unknown): asserts tags is Record<string, string> {
  if (tags === null || typeof tags !== 'object' || Array.isArray(tags)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `tags must be an object of strings, got ${describe(tags)}`)
  }
  assertItemsPerRun('tags', Object.keys(tags).length)
  for (const [key, value] of Object.entries(tags)) {
    assertKey(key, 'tag key')
    if (typeof value !== 'string') {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `tags.${key} must be a string, got ${describe(value)}`)
    }
    if (Buffer.byteLength(value) > LIMITS.tagValueBytes) {
      throw new AssayError('ASSAY_VALUE_TOO_LARGE', `tags.${key} is over ${LIMITS.tagValueBytes} bytes`)
    }
  }
}

export function assertMetricValue(key: string, value: unknown): asserts value is number {
  // NaN and ±Infinity are legitimate observations (a diverged loss) and are stored as they are.
  if (typeof value !== 'number') {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `metric ${JSON.stringify(key)} must be a number, got ${describe(value)}`)
  }
}

export function assertStep(step: unknown): asserts step is number {
  if (typeof step !== 'number' || !Number.isSafeInteger(step)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `step must be a safe integer, got ${describe(step)}`)
  }
}

export function assertTimestamp(timestamp: unknown): asserts timestamp is number {
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `timestamp must be a finite number of milliseconds, got ${describe(timestamp)}`)
  }
}

export function assertSeed(seed: unknown): asserts seed is number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `seed must be a non-negative safe integer, got ${describe(seed)}`)
  }
}

export function assertRole(role: unknown): asserts role is DatasetRole {
  if (!DATASET_ROLES.includes(role as DatasetRole)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `dataset role must be one of ${DATASET_ROLES.join(', ')}, got ${describe(role)}`)
  }
}

// Artifact names are relative POSIX paths over a small allowlist of characters. An allowlist
// rejects every traversal shape at once: '%2e%2e%2f' and its double encoding (no '%'),
// 'a#/../b' and 'a?/../b' (no '#', '?'), 'C:\x' (no ':' or '\'), '/etc/passwd' (no leading '/').
const ARTIFACT_NAME_CHARS = /^[A-Za-z0-9._\-/ +=@,]+$/

export function assertArtifactName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new AssayError('ASSAY_INVALID_ARTIFACT_NAME', `artifact name must be a non-empty string, got ${describe(name)}`)
  }
  if (name.length > LIMITS.artifactNameLength) {
    throw new AssayError('ASSAY_INVALID_ARTIFACT_NAME', `artifact name is longer than ${LIMITS.artifactNameLength} characters`)
  }
  const shown = JSON.stringify(name)
  if (!ARTIFACT_NAME_CHARS.test(name)) {
    throw new AssayError(
      'ASSAY_INVALID_ARTIFACT_NAME',
      `artifact name ${shown} may only contain letters, digits, space and . _ - / + = @ , (no '%', '\\', ':', '#', '?')`,
    )
  }
  if (name.startsWith('/')) throw new AssayError('ASSAY_INVALID_ARTIFACT_NAME', `artifact name ${shown} is absolute`)
  for (const segment of name.split('/')) {
    if (segment === '' || segment === '.' || segment === '..' || segment.trim() !== segment) {
      throw new AssayError('ASSAY_INVALID_ARTIFACT_NAME', `artifact name ${shown} has an empty, '.', '..' or space-padded segment`)
    }
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'number') return String(value)
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  return typeof value
}
