import type { AliasEvent, AliasEventKind, AuditKind, AuditRecord, GatePolicy, ModelVersion, RegisteredModel } from '../record/types.js'

/**
 * Rows of the registry and audit tables (models, model_versions, alias_events, audit_log) and
 * their mapping to records, shared by the SQL backends. JSON columns hold canonical JSON.
 */

export interface ModelRow {
  name: string
  owner: string
  description: string
  tags: string
  created_at: number
  created_by: string
}

export interface ModelVersionRow {
  model: string
  version: number
  run_id: string
  artifact_name: string | null
  artifact_sha256: string | null
  description: string
  tags: string
  created_at: number
  created_by: string
}

export interface AliasEventRow {
  seq: number
  model: string
  alias: string
  kind: string
  version: number | null
  previous_version: number | null
  actor: string
  at: number
  reason: string
  audit_seq: number | null
}

export interface GatePolicyRow {
  model: string
  alias: string
  version: number
  gate: string
  text: string
  sha256: string
  source: string
  actor: string
  at: number
  reason: string
  audit_seq: number
}

export interface AuditRow {
  seq: number
  at: number
  kind: string
  actor: string
  subject: string
  body: string
  prev_hash: string
  hash: string
}

export function modelFromRow(r: ModelRow): RegisteredModel {
  return { name: r.name, owner: r.owner, description: r.description, tags: JSON.parse(r.tags) as Record<string, string>, createdAt: Number(r.created_at), createdBy: r.created_by }
}

export function modelVersionFromRow(r: ModelVersionRow): ModelVersion {
  return {
    model: r.model,
    version: Number(r.version),
    runId: r.run_id,
    artifact: r.artifact_name === null || r.artifact_sha256 === null ? null : { name: r.artifact_name, sha256: r.artifact_sha256 },
    description: r.description,
    tags: JSON.parse(r.tags) as Record<string, string>,
    createdAt: Number(r.created_at),
    createdBy: r.created_by,
  }
}

export function aliasEventFromRow(r: AliasEventRow): AliasEvent {
  return {
    seq: Number(r.seq),
    model: r.model,
    alias: r.alias,
    kind: r.kind as AliasEventKind,
    version: r.version === null ? null : Number(r.version),
    previousVersion: r.previous_version === null ? null : Number(r.previous_version),
    actor: r.actor,
    at: Number(r.at),
    reason: r.reason,
    auditSeq: r.audit_seq === null ? null : Number(r.audit_seq),
  }
}

export function gatePolicyFromRow(r: GatePolicyRow): GatePolicy {
  return {
    model: r.model,
    alias: r.alias,
    version: Number(r.version),
    gate: r.gate,
    text: r.text,
    sha256: r.sha256,
    source: r.source,
    actor: r.actor,
    at: Number(r.at),
    reason: r.reason,
    auditSeq: Number(r.audit_seq),
  }
}

export function auditFromRow(r: AuditRow): AuditRecord {
  return {
    seq: Number(r.seq),
    at: Number(r.at),
    kind: r.kind as AuditKind,
    actor: r.actor,
    subject: r.subject,
    body: JSON.parse(r.body) as AuditRecord['body'],
    prevHash: r.prev_hash,
    hash: r.hash,
  }
}

/** The alias's holder after its events (oldest first): the latest event's version. */
export function currentHolder(events: readonly Pick<AliasEvent, 'version'>[]): number | null {
  return events.length === 0 ? null : (events[events.length - 1] as AliasEvent).version
}
