import type { Deployment } from '../record/production.js'
import type { AuditRecord, JsonValue } from '../record/types.js'
import { allPages } from '../store/pages.js'
import { PAGE_SIZE, type Store } from '../store/store.js'

/**
 * Unauditable traffic stops promotion (docs/production.md "Unauditable traffic"). A model version
 * is refused while a deployment *built on* its model is unauditable:
 *
 * - a deployment is current while it is the newest deployment of its endpoint and environment;
 *   recording a newer, complete deployment of the endpoint is how the metadata comes to exist;
 * - a current deployment is unauditable when its own record misses a lineage field (model version,
 *   code hash, inputs, owner), or when the latest monitor decision recorded on it failed the
 *   unauditable check (traffic without a prompt version, say: action stop-promotion), until a later
 *   monitor decision on it passes that check;
 * - it is built on model M when it serves M, when it names no model and a monitor guarding M (its
 *   rollback candidate's model) checked it, or when it serves a model version whose artifact the
 *   candidate's run consumed (artifact or dataset with that sha256).
 *
 * It reads every deployment and the monitor decisions of the audit log, page by page, on each
 * promotion: fine at today's sizes (docs/development.md "Known follow-ups").
 */

export interface UnauditableTraffic {
  deployment: string
  endpoint: string
  environment: string
  model: string | null
  modelVersion: number | null
  /** The lineage fields missing: the deployment's own, then those the monitor found missing in its traffic. */
  missing: string[]
  /** How it is tied to the candidate: its model, or an artifact of its model version the candidate's run consumed. */
  builtOn: 'model' | 'lineage'
  /** The monitor decision that found its traffic unauditable, when one did. */
  monitorDecision: { seq: number; hash: string; monitor: string } | null
}

interface MonitorVerdict {
  seq: number
  hash: string
  monitor: string
  /** The model the monitor guards (its rollback candidate's), when the record says. */
  model: string | null
  /** Missing fields of a failed unauditable check; empty when it passed. */
  missing: string[]
}

type Body = { [key: string]: JsonValue }

const isObject = (v: JsonValue | undefined): v is Body => v !== null && typeof v === 'object' && !Array.isArray(v)

/** What a monitor-decision record says about its deployment's lineage (records without the fields are skipped). */
function monitorVerdict(record: AuditRecord): { deployment: string; verdict: MonitorVerdict } | null {
  const { body } = record
  const deployment = isObject(body.deployment) ? body.deployment.id : undefined
  const result = body.result
  if (typeof deployment !== 'string' || !isObject(result) || !Array.isArray(result.checks)) return null
  const check = result.checks.find((c): c is Body => isObject(c) && c.check === 'unauditable')
  if (check === undefined) return null
  const evidence = isObject(check.evidence) ? check.evidence : {}
  const missing = check.status === 'fail' && isObject(evidence.missing) ? Object.keys(evidence.missing) : []
  const monitor = isObject(body.monitor) ? body.monitor : {}
  const model = typeof monitor.model === 'string' ? monitor.model : null
  return { deployment, verdict: { seq: record.seq, hash: record.hash, monitor: typeof monitor.name === 'string' ? monitor.name : record.subject, model, missing } }
}

/** The unauditable deployments built on `model`, whose candidate version `version` is being promoted; empty when none. */
export async function unauditableTraffic(store: Store, model: string, version: number): Promise<UnauditableTraffic[]> {
  const deployments = await allPages((cursor) => store.listDeploymentsPage({ limit: PAGE_SIZE.max, cursor }), (page) => page.deployments)
  if (deployments.length === 0) return []
  // Oldest first, so the last one of an endpoint and environment is its current deployment.
  const current = new Map<string, Deployment>()
  for (const d of deployments) current.set(`${d.endpoint}\u0000${d.environment}`, d)
  const latestVerdict = new Map<string, MonitorVerdict>()
  const records = await allPages((cursor) => store.auditRecordsPage({ limit: PAGE_SIZE.max, cursor }), (page) => page.records)
  for (const record of records) {
    if (record.kind !== 'monitor-decision') continue
    const found = monitorVerdict(record)
    if (found !== null) latestVerdict.set(found.deployment, found.verdict)
  }

  let consumed: Set<string> | null = null
  const consumedByCandidate = async (): Promise<Set<string>> => {
    if (consumed !== null) return consumed
    const candidate = (await store.listModelVersions(model)).find((v) => v.version === version)
    const run = candidate === undefined ? null : await store.getRun(candidate.runId)
    consumed = new Set([...(run?.artifacts.filter((a) => a.direction === 'consumed').map((a) => a.sha256) ?? []), ...(run?.datasets.map((d) => d.sha256) ?? [])])
    return consumed
  }
  const servedArtifact = async (d: Deployment): Promise<string | null> => {
    if (d.model === null || d.modelVersion === null) return null
    return (await store.listModelVersions(d.model)).find((v) => v.version === d.modelVersion)?.artifact?.sha256 ?? null
  }

  const found: UnauditableTraffic[] = []
  for (const d of current.values()) {
    const verdict = latestVerdict.get(d.id)
    const missing = [...new Set([...d.unauditable, ...(verdict?.missing ?? [])])]
    if (missing.length === 0) continue
    const servedModel = d.model ?? verdict?.model ?? null
    let builtOn: UnauditableTraffic['builtOn'] | null = null
    if (servedModel === model) builtOn = 'model'
    else {
      const artifact = await servedArtifact(d)
      if (artifact !== null && (await consumedByCandidate()).has(artifact)) builtOn = 'lineage'
    }
    if (builtOn === null) continue
    found.push({
      deployment: d.id,
      endpoint: d.endpoint,
      environment: d.environment,
      model: servedModel,
      modelVersion: d.modelVersion,
      missing,
      builtOn,
      monitorDecision: verdict !== undefined && verdict.missing.length > 0 ? { seq: verdict.seq, hash: verdict.hash, monitor: verdict.monitor } : null,
    })
  }
  return found
}

/** One line per deployment: id, endpoint, the missing fields, and what found them. */
export function describeUnauditable(found: readonly UnauditableTraffic[]): string {
  return found
    .map((u) => {
      const what = u.builtOn === 'model' ? '' : `, serving ${u.model} version ${u.modelVersion} whose artifact the candidate's run consumed`
      const by = u.monitorDecision === null ? '' : ` (monitor ${u.monitorDecision.monitor}, audit record ${u.monitorDecision.seq})`
      return `deployment ${u.deployment} (endpoint ${u.endpoint}, ${u.environment}${what}) has no ${u.missing.join(', ')}${by}`
    })
    .join('; ')
}
