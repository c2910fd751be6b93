import { AssayError } from '../errors.js'
import { DATASET_ROLES, type DatasetRole, type JsonValue, type Params } from './types.js'

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
  scoresPerRecord: 64,
  /** Items one run may hold: every listing carries its runs' params, tags and last metric values. */
  paramsPerRun: 1000,
  tagsPerRun: 1000,
  metricKeysPerRun: 1000,
} as const

export const ITEMS_PER_RUN = { params: LIMITS.paramsPerRun, tags: LIMITS.tagsPerRun, 'metric keys': LIMITS.metricKeysPerRun } as const

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

/** Canonical JSON: object keys sorted, so equal values have equal text and equal hashes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
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
