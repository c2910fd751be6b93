import { resolveSide } from '../compare/resolve-sides.js'
import { AssayError } from '../errors.js'
import type { SideModelVersion } from './contract-checks.js'
import type { RunRecord } from '../record/types.js'
import type { Store } from '../store/store.js'
import { currentHolder, getModelVersion } from '../registry/registry.js'

/**
 * Sides of a gate check (docs/gates.md): besides what `assay compare` takes (a run id or prefix,
 * RUN1,RUN2 for a group, config:<fingerprint>, filter:<expression>), a model version
 * `model:NAME@VERSION` and an alias `alias:NAME@ALIAS`. When the gate names its model, `model:VERSION`
 * and `alias:ALIAS` may omit the model name.
 *
 * It lives in gates/, not registry/: it reads the registry (holders, versions) and the comparison
 * engine's sides, and the gate check is its only user, so gates → registry stays one-way and the
 * registry imports neither gates nor compare.
 */

export interface ResolvedGateSide {
  label: string
  runs: RunRecord[]
  how: string
  modelVersion: SideModelVersion | null
}

function parseRef(kind: 'model' | 'alias', text: string, defaultModel: string | undefined): { model: string; rest: string } {
  const body = text.slice(kind.length + 1).trim()
  const at = body.lastIndexOf('@')
  if (at > 0) return { model: body.slice(0, at), rest: body.slice(at + 1) }
  if (defaultModel === undefined) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `${text}: name the model (${kind}:NAME@${kind === 'model' ? 'VERSION' : 'ALIAS'}), or name it in the gate file (model:)`)
  }
  return { model: defaultModel, rest: at === 0 ? body.slice(1) : body }
}

/** Resolve model:/alias: to the version's run; anything else through the comparison engine's resolveSide. */
export async function resolveGateSide(store: Store, spec: string, options: { defaultModel?: string } = {}): Promise<ResolvedGateSide> {
  const text = spec.trim()
  if (text.startsWith('model:') || text.startsWith('alias:')) {
    const kind = text.startsWith('model:') ? 'model' : 'alias'
    const { model, rest } = parseRef(kind, text, options.defaultModel)
    const registered = await store.getModel(model)
    let version: number
    if (kind === 'model') {
      version = Number(rest)
      if (!Number.isInteger(version) || version < 1) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${text}: a version is a positive integer, got ${JSON.stringify(rest)}`)
    } else {
      const holder = await currentHolder(store, model, rest)
      if (holder === null) throw new AssayError('ASSAY_ALIAS_NOT_FOUND', `${model}@${rest} has no holder`, { model, alias: rest })
      version = holder
    }
    const mv = await getModelVersion(store, model, version)
    const run = await store.getRun(mv.runId)
    const produced = mv.artifact === null ? null : run.artifacts.some((a) => a.direction === 'produced' && a.sha256 === mv.artifact?.sha256)
    return {
      label: text,
      runs: [run],
      how: `${model} version ${version}${kind === 'alias' ? ` (held by alias ${rest})` : ''}, run ${run.id.slice(0, 8)}`,
      modelVersion: { model, version, owner: registered.owner, runId: mv.runId, artifact: mv.artifact, artifactProducedByRun: produced },
    }
  }
  const side = await resolveSide(store, text)
  return { label: side.label, runs: side.runs, how: side.how, modelVersion: null }
}
