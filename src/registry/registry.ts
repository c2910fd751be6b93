import { AssayError } from '../errors.js'
import { appendChained } from '../audit/append-and-verify.js'
import type { AuditEntryInput } from '../audit/audit-log.js'
import type { AliasEvent, AuditRecord, ModelVersion, RegisteredModel } from '../record/types.js'
import { assertModelName, assertName, assertTags } from '../record/validate.js'
import type { NewAliasEvent, Store } from '../store/store.js'

/**
 * The model registry (docs/registry.md): registered models with an owner, versions made from a
 * run (and one of its artifacts), and aliases whose whole history is an append-only event list.
 * Domain logic over the Store contract; every alias move writes its audit record in the same
 * transaction (Store.moveAlias).
 */

export interface CreateModelInput {
  name: string
  owner: string
  description?: string
  tags?: Record<string, string>
  actor: string
  at?: number
}

export async function createModel(store: Store, input: CreateModelInput): Promise<RegisteredModel> {
  assertModelName(input.name)
  if (typeof input.owner !== 'string' || input.owner.trim() === '') {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `model ${input.name} needs an owner: every registered model has one`, { model: input.name })
  }
  assertName(input.owner.trim(), 'model owner')
  const tags = input.tags ?? {}
  assertTags(tags)
  const model: RegisteredModel = { name: input.name, owner: input.owner.trim(), description: input.description ?? '', tags, createdAt: input.at ?? Date.now(), createdBy: input.actor }
  await store.createModel(model)
  return model
}

export interface AddVersionInput {
  model: string
  /** Run id or unique prefix. */
  run: string
  /** Name of an artifact the run produced (the version's content); optional. */
  artifact?: string
  description?: string
  tags?: Record<string, string>
  actor: string
  at?: number
}

export async function addModelVersion(store: Store, input: AddVersionInput): Promise<ModelVersion> {
  await store.getModel(input.model)
  const runId = await store.resolveRunId(input.run)
  const run = await store.getRun(runId)
  let artifact: ModelVersion['artifact'] = null
  if (input.artifact !== undefined) {
    const ref = run.artifacts.find((a) => a.name === input.artifact && a.direction === 'produced')
    if (ref === undefined) {
      throw new AssayError('ASSAY_ARTIFACT_NOT_FOUND', `run ${runId} produced no artifact named ${JSON.stringify(input.artifact)} (it has: ${run.artifacts.filter((a) => a.direction === 'produced').map((a) => a.name).join(', ') || 'none'})`, {
        runId,
        name: input.artifact,
      })
    }
    artifact = { name: ref.name, sha256: ref.sha256 }
  }
  const tags = input.tags ?? {}
  assertTags(tags)
  return store.addModelVersion({ model: input.model, runId, artifact, description: input.description ?? '', tags, createdAt: input.at ?? Date.now(), createdBy: input.actor })
}

export async function getModelVersion(store: Store, model: string, version: number): Promise<ModelVersion> {
  const found = (await store.listModelVersions(model)).find((v) => v.version === version)
  if (found === undefined) throw new AssayError('ASSAY_MODEL_NOT_FOUND', `model ${model} has no version ${version}`, { model, version })
  return found
}

/** The holder of an alias after its events (oldest first); null when unset or removed. */
export function holderOf(events: readonly AliasEvent[]): number | null {
  return events.length === 0 ? null : (events[events.length - 1] as AliasEvent).version
}

/**
 * The holders a rollback walks back through: a set or promote pushes its version, a rollback
 * pops one. The current holder is the top; a rollback restores the one below it.
 */
export function holderStack(events: readonly AliasEvent[]): (number | null)[] {
  const stack: (number | null)[] = []
  for (const e of events) {
    if (e.kind === 'rollback') stack.pop()
    else stack.push(e.version)
  }
  return stack
}

export async function currentHolder(store: Store, model: string, alias: string): Promise<number | null> {
  return holderOf(await store.aliasEvents(model, alias))
}

export interface AliasState {
  alias: string
  version: number | null
  since: number
  kind: AliasEvent['kind']
  actor: string
}

/** Every alias of a model with its current holder. */
export async function listAliases(store: Store, model: string): Promise<AliasState[]> {
  await store.getModel(model)
  const latest = new Map<string, AliasEvent>()
  for (const e of await store.aliasEvents(model)) latest.set(e.alias, e)
  return [...latest.values()].sort((a, b) => a.alias.localeCompare(b.alias)).map((e) => ({ alias: e.alias, version: e.version, since: e.at, kind: e.kind, actor: e.actor }))
}

/**
 * Move an alias and append its audit record in one transaction. A conflict on the audit head alone
 * is retried; if the alias's holder changed since `event.previousVersion` was read, the move is
 * refused (the decision behind it was about another holder).
 */
export async function moveAliasAudited(store: Store, event: NewAliasEvent, audit: AuditEntryInput): Promise<{ event: AliasEvent; audit: AuditRecord }> {
  const { written, record } = await appendChained(
    store,
    audit,
    (record) => store.moveAlias(record, event),
    async () => (await currentHolder(store, event.model, event.alias)) === event.previousVersion,
  )
  return { event: written, audit: record }
}

export interface SetAliasInput {
  model: string
  alias: string
  /** The version to point at; null removes the alias. */
  version: number | null
  actor: string
  reason?: string
  at?: number
}

/** Point an alias at a version by hand (no gate), recorded in the audit log. */
export async function setAlias(store: Store, input: SetAliasInput): Promise<AliasEvent> {
  assertName(input.alias, 'alias')
  await store.getModel(input.model)
  if (input.version !== null) await getModelVersion(store, input.model, input.version)
  const previous = await currentHolder(store, input.model, input.alias)
  const at = input.at ?? Date.now()
  const reason = input.reason ?? ''
  const { event } = await moveAliasAudited(
    store,
    { model: input.model, alias: input.alias, kind: 'set', version: input.version, previousVersion: previous, actor: input.actor, at, reason },
    { kind: 'alias-set', actor: input.actor, subject: `${input.model}@${input.alias}`, at, body: { model: input.model, alias: input.alias, from: previous, to: input.version, reason } },
  )
  return event
}

export interface RollbackInput {
  model: string
  alias: string
  actor: string
  reason?: string
  at?: number
  /** Roll back only when the previous holder is this version (ASSAY_ROLLBACK_TARGET_MISMATCH otherwise): a monitor's rollback candidate. */
  expectVersion?: number
  /** Roll back only from this holder (ASSAY_ALIAS_HOLDER_CHANGED otherwise): the version a decision found worse. */
  expectCurrentVersion?: number
  /** The audit record this rollback acts on (a canary decision), cited in the rollback record. */
  cause?: { kind: string; seq: number; hash: string }
}

/** Restore the alias's previous holder (see holderStack), recorded like a promotion. */
export async function rollback(store: Store, input: RollbackInput): Promise<{ event: AliasEvent; audit: AuditRecord }> {
  await store.getModel(input.model)
  const events = await store.aliasEvents(input.model, input.alias)
  const stack = holderStack(events)
  const current = holderOf(events)
  const target = stack.length >= 2 ? stack[stack.length - 2] : null
  if (input.expectCurrentVersion !== undefined && input.expectCurrentVersion !== current) {
    throw new AssayError(
      'ASSAY_ALIAS_HOLDER_CHANGED',
      `${input.model}@${input.alias} holds ${current === null ? 'no version' : `version ${current}`}, not version ${input.expectCurrentVersion} the decision was about: nothing was rolled back`,
      { model: input.model, alias: input.alias, current, expected: input.expectCurrentVersion },
    )
  }
  if (target === null || target === undefined) {
    throw new AssayError('ASSAY_NOTHING_TO_ROLL_BACK', `${input.model}@${input.alias} has no previous holder to restore${current === null ? ' (it has no holder at all)' : ` (it holds version ${current})`}`, {
      model: input.model,
      alias: input.alias,
      current,
    })
  }
  if (input.expectVersion !== undefined && input.expectVersion !== target) {
    throw new AssayError(
      'ASSAY_ROLLBACK_TARGET_MISMATCH',
      `${input.model}@${input.alias} would roll back to version ${target}, not the expected version ${input.expectVersion}; set the alias explicitly if that version is meant`,
      { model: input.model, alias: input.alias, current, previous: target, expected: input.expectVersion },
    )
  }
  const at = input.at ?? Date.now()
  const reason = input.reason ?? ''
  return moveAliasAudited(
    store,
    { model: input.model, alias: input.alias, kind: 'rollback', version: target, previousVersion: current, actor: input.actor, at, reason },
    {
      kind: 'rollback',
      actor: input.actor,
      subject: `${input.model}@${input.alias}`,
      at,
      body: { model: input.model, alias: input.alias, from: current, to: target, reason, ...(input.cause === undefined ? {} : { cause: { ...input.cause } }) },
    },
  )
}
