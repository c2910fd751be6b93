import { codeIdentity, datasetsIdentity, environmentIdentity } from './envelope.js'
import type { RunRecord } from './types.js'
import { canonicalJson } from './validate.js'

export interface FieldChange {
  field: string
  a: unknown
  b: unknown
}

export interface EnvelopePartDiff {
  part: 'params' | 'seed' | 'code' | 'datasets' | 'environment' | 'hardware'
  same: boolean
  /** Whether this part counts toward the config fingerprint (everything but seed and hardware). */
  inConfig: boolean
  changes: FieldChange[]
}

export interface RunDiff {
  a: string
  b: string
  /** Same config fingerprint: the runs are replicates that differ at most by seed and hardware. */
  replicates: boolean
  parts: EnvelopePartDiff[]
  metrics: FieldChange[]
}

/** Which parts of the envelope E(r) differ between two runs, and how. */
export function diffRuns(a: RunRecord, b: RunRecord): RunDiff {
  const part = (name: EnvelopePartDiff['part'], inConfig: boolean, changes: FieldChange[], same = changes.length === 0): EnvelopePartDiff => ({
    part: name,
    same,
    inConfig,
    changes,
  })
  const codeA = codeIdentity(a.code)
  const codeB = codeIdentity(b.code)
  const envA = { ...environmentIdentity(a.environment), hostname: a.environment.hostname, argv: a.environment.argv, envVars: a.environment.envVars }
  const envB = { ...environmentIdentity(b.environment), hostname: b.environment.hostname, argv: b.environment.argv, envVars: b.environment.envVars }
  const metricsA = Object.fromEntries(a.metrics.map((m) => [m.key, m.last]))
  const metricsB = Object.fromEntries(b.metrics.map((m) => [m.key, m.last]))
  return {
    a: a.id,
    b: b.id,
    replicates: a.envelope.config === b.envelope.config,
    parts: [
      part('params', true, recordChanges(a.params, b.params, 'params')),
      part('seed', false, a.seed === b.seed ? [] : [{ field: 'seed', a: a.seed, b: b.seed }]),
      // Branch, remote, hostname, argv and variables are shown but do not decide sameness: the fingerprint does.
      part('code', true, recordChanges({ ...codeA, branch: a.code.branch, remote: a.code.remote }, { ...codeB, branch: b.code.branch, remote: b.code.remote }, 'code'), a.envelope.code === b.envelope.code),
      part('datasets', true, datasetChanges(a, b), a.envelope.datasets === b.envelope.datasets),
      part('environment', true, recordChanges(envA, envB, 'environment'), a.envelope.environment === b.envelope.environment),
      part('hardware', false, a.envelope.hardwareClass === b.envelope.hardwareClass ? [] : [{ field: 'hardwareClass', a: a.envelope.hardwareClass, b: b.envelope.hardwareClass }]),
    ],
    metrics: recordChanges(metricsA, metricsB, 'metrics'),
  }
}

function datasetChanges(a: RunRecord, b: RunRecord): FieldChange[] {
  const byName = (run: RunRecord): Record<string, unknown> =>
    Object.fromEntries((datasetsIdentity(run.datasets) as { name: string; role: string; sha256: string }[]).map((d) => [d.name, { role: d.role, sha256: d.sha256 }]))
  return recordChanges(byName(a), byName(b), 'datasets')
}

/** Field-by-field differences of two plain objects, one level of nesting flattened. */
function recordChanges(a: Record<string, unknown>, b: Record<string, unknown>, prefix: string): FieldChange[] {
  const changes: FieldChange[] = []
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const va = a[key]
    const vb = b[key]
    const nested = isPlainObject(va) && isPlainObject(vb) && prefix !== 'params'
    if (nested) {
      changes.push(...recordChanges(va, vb, `${prefix}.${key}`))
    } else if ((va === undefined) !== (vb === undefined) || (!Object.is(va, vb) && canonicalJson(va ?? null) !== canonicalJson(vb ?? null))) {
      changes.push({ field: `${prefix}.${key}`, a: va ?? null, b: vb ?? null })
    }
  }
  return changes
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
