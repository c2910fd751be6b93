import { z } from 'zod'
import { AssayError } from '../../errors.js'
import type { AuditRecord } from '../../record/types.js'
import { servingLineage } from '../../registry/serving-lineage.js'
import { ROUTES } from '../../store/http/routes.js'
import { encodeCursor } from '../../store/pages.js'
import { PAGE_SIZE } from '../../store/store.js'
import type { Caller } from '../auth.js'
import type { RouteSpec, ServerState } from '../route.js'
import { DeploymentIdParam, PageQuery } from '../schemas.js'
import { visibleDeployment } from './production.js'

/**
 * The reads behind the web UI's evidence views (docs/ui.md): one audit record by its sequence
 * number (a promotion names the gate check it rests on by seq), a deployment's lineage, and the
 * monitor and canary decisions recorded about a deployment.
 */

/** Audit records read per request while looking for a deployment's decisions: bounds one request's work. */
export const DECISION_SCAN_LIMIT = 10_000

const AuditSeqParam = z.object({ seq: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) })

/** The deployments a monitor-decision or canary-decision record is about; [] for other kinds. */
export function decisionDeployments(record: AuditRecord): string[] {
  const body = record.body as { deployment?: { id?: unknown }; champion?: { id?: unknown }; challenger?: { id?: unknown } }
  const ids = record.kind === 'monitor-decision' ? [body.deployment?.id] : record.kind === 'canary-decision' ? [body.champion?.id, body.challenger?.id] : []
  return ids.filter((id): id is string => typeof id === 'string')
}

async function auditRecord(state: ServerState, seq: number): Promise<AuditRecord> {
  // The audit log's page after seq − 1 starts at seq when the record exists (sequence numbers have no gaps in an intact log).
  const page = await state.store.auditRecordsPage({ limit: 1, cursor: seq > 1 ? encodeCursor('audit log', [seq - 1]) : undefined })
  const record = page.records[0]
  if (record === undefined || record.seq !== seq) throw new AssayError('ASSAY_AUDIT_RECORD_NOT_FOUND', `the audit log has no record ${seq}`, { seq })
  return record
}

/** Whether a limited caller may see every deployment a decision names (a canary names two). */
async function mayReadAll(state: ServerState, caller: Caller, ids: readonly string[], seen: Map<string, boolean>): Promise<boolean> {
  if (!caller.restricted) return true
  for (const id of ids) {
    if (!seen.has(id)) seen.set(id, await visibleDeployment(state, caller, id).then(() => true, () => false))
    if (seen.get(id) !== true) return false
  }
  return true
}

export function evidenceRoutes(): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: ROUTES.auditRecord,
      summary: 'one audit record by its sequence number (ASSAY_AUDIT_RECORD_NOT_FOUND when the log has none)',
      tag: 'registry',
      scope: 'read',
      touches: 'all',
      params: AuditSeqParam,
      response: { json: '{ record: AuditRecord }' },
      handler: async ({ params, state }) => ({ record: await auditRecord(state, params.seq as number) }),
    },
    {
      method: 'GET',
      url: ROUTES.deploymentLineage,
      summary: "a deployment's lineage as `assay lineage DEPLOYMENT` walks it: model version, run, its datasets and code, and the gaps",
      tag: 'production',
      scope: 'read',
      touches: 'handler',
      params: DeploymentIdParam,
      response: { json: '{ lineage: ServingLineage }' },
      async handler({ params, caller, state }) {
        await visibleDeployment(state, caller, params.id as string)
        return { lineage: await servingLineage(state.store, params.id as string) }
      },
    },
    {
      method: 'GET',
      url: ROUTES.deploymentDecisions,
      summary: `the monitor-decision and canary-decision audit records about a deployment, in sequence order: ?limit (default 20, at most ${PAGE_SIZE.max}) and ?cursor; one request reads at most ${DECISION_SCAN_LIMIT} audit records, so a page may hold fewer than ?limit with a nextCursor to go on from`,
      tag: 'production',
      scope: 'read',
      touches: 'handler',
      params: DeploymentIdParam,
      query: PageQuery,
      response: { json: '{ decisions: AuditRecord[], nextCursor: string | null }' },
      async handler({ params, query, caller, state }) {
        const id = params.id as string
        await visibleDeployment(state, caller, id)
        const limit = (query.limit as number | undefined) ?? 20
        const seen = new Map<string, boolean>([[id, true]])
        const decisions: AuditRecord[] = []
        let cursor = query.cursor as string | undefined
        let scanned = 0
        for (;;) {
          const page = await state.store.auditRecordsPage({ limit: PAGE_SIZE.max, cursor })
          for (const record of page.records) {
            scanned++
            const about = decisionDeployments(record)
            if (about.includes(id) && (await mayReadAll(state, caller, about, seen))) decisions.push(record)
            // Stop after this record when the page is full or the scan's budget is spent; the cursor goes on from it.
            if (decisions.length === limit || scanned === DECISION_SCAN_LIMIT) {
              const more = page.nextCursor !== null || record !== page.records[page.records.length - 1]
              return { decisions, nextCursor: more ? encodeCursor('audit log', [record.seq]) : null }
            }
          }
          if (page.nextCursor === null) return { decisions, nextCursor: null }
          cursor = page.nextCursor
        }
      },
    },
  ]
}
