import { createHash } from 'node:crypto'
import { hardwareClass } from './environment.js'
import type { CodeVersion, DatasetVersion, Envelope, Environment, Params } from './types.js'
import { canonicalJson } from './validate.js'

function fingerprint(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex')
}

/**
 * The part of e that decides the numbers: runtime, OS, architecture, lockfile and installed
 * dependencies. Hostname, argv, cwd and environment variables are recorded but left out, so two
 * seeds launched from different shells still count as replicates.
 */
export function environmentIdentity(env: Environment): Record<string, unknown> {
  return {
    runtime: env.runtime,
    runtimeVersion: env.runtimeVersion,
    os: env.os,
    arch: env.arch,
    lockfile: env.lockfile?.sha256 ?? null,
    dependencies: env.dependencies,
  }
}

export function codeIdentity(code: CodeVersion): Record<string, unknown> {
  return code.vcs === null ? { vcs: null } : { commit: code.commit, diff: code.diffSha256 ?? null, untracked: code.untracked ?? [] }
}

export function datasetsIdentity(datasets: readonly DatasetVersion[]): unknown[] {
  return datasets.map((d) => ({ name: d.name, role: d.role, sha256: d.sha256 })).sort((x, y) => x.name.localeCompare(y.name))
}

/** E(r) = {D_v, c, e, s, H}, one fingerprint per part, and the config fingerprint (λ, c, D_v, e) without s. */
export function computeEnvelope(parts: {
  params: Params
  seed: number
  environment: Environment
  code: CodeVersion
  datasets: readonly DatasetVersion[]
}): Envelope {
  const datasets = fingerprint(datasetsIdentity(parts.datasets))
  const code = fingerprint(codeIdentity(parts.code))
  const environment = fingerprint(environmentIdentity(parts.environment))
  const hw = hardwareClass(parts.environment)
  return {
    datasets,
    code,
    environment,
    seed: fingerprint(parts.seed),
    hardware: fingerprint(hw),
    hardwareClass: hw,
    config: fingerprint({ params: parts.params, code, datasets, environment }),
  }
}

/**
 * The config fingerprint's inputs other than the params, as canonical JSON. Its key order puts
 * "params" last, so config = sha256 of this text without its closing brace, then ',"params":',
 * the params' canonical JSON and '}': how PostgreSQL recomputes it when a batch adds params
 * (assay_log_batch, docs/postgres.md), with this text stored beside the run.
 */
export function configParts(envelope: Pick<Envelope, 'code' | 'datasets' | 'environment'>): string {
  return canonicalJson({ code: envelope.code, datasets: envelope.datasets, environment: envelope.environment })
}
