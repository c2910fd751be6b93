import type { AuditRecord } from '../record/types.js'
import { getJson, time } from './api.js'
import { ErrorNote } from './error-note.js'
import type { WireAliasMove, WireCanaryDecision, WireGateEvidence, WireMonitorDecision, WirePromotion } from './evidence-types.js'
import { GateDecision } from './gate-decision.js'
import { CanaryDecision, MonitorDecision } from './monitor-decision.js'
import { href, type Route } from './route.js'
import { useData } from './use-data.js'

/** What GET /api/v1/audit/verify answers (audit/audit-log.ts's AuditVerification, which imports node code). */
interface AuditVerification {
  ok: boolean
  count: number
  head: string
  firstBadSeq: number | null
  problem: string | null
}

/** The audit log's hash chain, verified by the server (GET /api/v1/audit/verify). */
export function AuditStatus() {
  const loaded = useData('audit-verify', () => getJson<{ verification: AuditVerification }>('/api/v1/audit/verify'))
  if (loaded.state === 'loading') return <p role="status">Verifying the audit log…</p>
  if (loaded.state === 'error') return <ErrorNote error={loaded.error} />
  const v = loaded.data.verification
  return v.ok ? (
    <p class="audit ok">
      Audit log intact: {v.count} records, head <code title={v.head}>{v.head.slice(0, 16)}</code>
    </p>
  ) : (
    <p class="audit broken" role="alert">
      Audit log BROKEN at record {v.firstBadSeq}: {v.problem}
    </p>
  )
}

const PAGE = '50'

/** The audit log a page at a time, in sequence order, with its verification status (#/audit?cursor=). */
export function AuditLogView({ route }: { route: Route }) {
  const cursor = route.query.get('cursor') ?? undefined
  const loaded = useData(`audit-page:${cursor ?? ''}`, () => getJson<{ records: AuditRecord[]; nextCursor: string | null }>('/api/v1/audit', { limit: PAGE, cursor }))
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <AuditStatus />
      {loaded.state === 'loading' && <p role="status">Loading the audit log…</p>}
      {loaded.state === 'error' && <ErrorNote error={loaded.error} />}
      {loaded.state === 'ready' && (
        <>
          <table>
            <caption>
              {loaded.data.records.length} records{cursor === undefined ? ' from the first' : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">Kind</th>
                <th scope="col">Subject</th>
                <th scope="col">Actor</th>
                <th scope="col">Hash</th>
              </tr>
            </thead>
            <tbody>
              {loaded.data.records.map((r) => (
                <tr key={r.seq}>
                  <th scope="row">
                    <a href={href(['audit', String(r.seq)])}>{r.seq}</a>
                  </th>
                  <td>{time(r.at)}</td>
                  <td>{r.kind}</td>
                  <td>{r.subject}</td>
                  <td>{r.actor}</td>
                  <td>
                    <code title={r.hash}>{r.hash.slice(0, 12)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="pager">
            {cursor !== undefined && <a href={href(['audit'])}>First page</a>}
            {loaded.data.nextCursor !== null && <a href={href(['audit'], { cursor: loaded.data.nextCursor })}>Next page</a>}
          </p>
        </>
      )}
    </section>
  )
}

function loadRecord(seq: number): Promise<AuditRecord> {
  return getJson<{ record: AuditRecord }>(`/api/v1/audit/records/${seq}`).then((r) => r.record)
}

/** The gate check a promotion rests on, loaded by its audit sequence number. */
function GateCheckRecord({ seq }: { seq: number }) {
  const loaded = useData(`audit-record:${seq}`, () => loadRecord(seq))
  if (loaded.state === 'loading') return <p role="status">Loading the gate decision…</p>
  if (loaded.state === 'error') return <ErrorNote error={loaded.error} />
  if (loaded.data.kind !== 'gate-check') return <p role="alert">Audit record {seq} is a {loaded.data.kind} record, not a gate check.</p>
  return <GateDecision evidence={loaded.data.body as unknown as WireGateEvidence} seq={seq} />
}

function Promotion({ body }: { body: WirePromotion }) {
  return (
    <>
      <dl class="pairs">
        <div>
          <dt>Promotion</dt>
          <dd>
            <a href={href(['registry', body.model])}>{body.model}</a>@{body.alias}: version {body.from ?? '–'} → {body.to}
          </dd>
        </div>
        <div>
          <dt>Gate decision</dt>
          <dd class={`decision ${body.decision}`}>{body.decision}</dd>
        </div>
        <div>
          <dt>Gate policy</dt>
          <dd>
            {body.gate.name}, policy version {body.gate.policyVersion}, sha256 <code title={body.gate.sha256}>{body.gate.sha256.slice(0, 16)}</code>
          </dd>
        </div>
        <div>
          <dt>Reason</dt>
          <dd>{body.reason === '' ? '(none given)' : body.reason}</dd>
        </div>
        {body.acceptedWarnings.length > 0 && (
          <div>
            <dt>Accepted warnings</dt>
            <dd>{body.acceptedWarnings.join('; ')}</dd>
          </div>
        )}
      </dl>
      {body.evidence === null ? <p class="hint">No gate evidence was recorded.</p> : <GateCheckRecord seq={body.evidence.seq} />}
    </>
  )
}

function AliasMove({ kind, body }: { kind: string; body: WireAliasMove }) {
  return (
    <dl class="pairs">
      <div>
        <dt>{kind === 'rollback' ? 'Rollback' : 'Alias set'}</dt>
        <dd>
          <a href={href(['registry', body.model])}>{body.model}</a>@{body.alias}: version {body.from ?? '–'} → {body.to ?? 'removed'}
        </dd>
      </div>
      <div>
        <dt>Reason</dt>
        <dd>{body.reason === '' ? '(none given)' : body.reason}</dd>
      </div>
    </dl>
  )
}

/** One audit record (#/audit/SEQ), drawn by its kind, with the record as stored. */
export function AuditRecordView({ seq }: { seq: number }) {
  const loaded = useData(`audit-record:${seq}`, () => loadRecord(seq))
  return (
    <section aria-labelledby="record-title">
      <h1 id="record-title">Audit record {seq}</h1>
      {loaded.state === 'loading' && <p role="status">Loading…</p>}
      {loaded.state === 'error' && <ErrorNote error={loaded.error} />}
      {loaded.state === 'ready' && <RecordBody record={loaded.data} />}
    </section>
  )
}

function RecordBody({ record: r }: { record: AuditRecord }) {
  let body
  if (r.kind === 'promotion') body = <Promotion body={r.body as unknown as WirePromotion} />
  else if (r.kind === 'gate-check') body = <GateDecision evidence={r.body as unknown as WireGateEvidence} seq={r.seq} />
  else if (r.kind === 'rollback' || r.kind === 'alias-set') body = <AliasMove kind={r.kind} body={r.body as unknown as WireAliasMove} />
  else if (r.kind === 'monitor-decision') body = <MonitorDecision evidence={r.body as unknown as WireMonitorDecision} seq={r.seq} />
  else if (r.kind === 'canary-decision') body = <CanaryDecision evidence={r.body as unknown as WireCanaryDecision} seq={r.seq} />
  return (
    <>
      <p>
        <strong>{r.kind}</strong> about {r.subject}, by {r.actor} at {time(r.at)}; hash <code title={r.hash}>{r.hash.slice(0, 16)}</code>, after <code title={r.prevHash}>{r.prevHash.slice(0, 16)}</code>
        {r.seq > 1 && (
          <>
            {' '}
            (<a href={href(['audit', String(r.seq - 1)])}>record {r.seq - 1}</a>)
          </>
        )}
      </p>
      {body}
      <details>
        <summary>The record as stored (JSON)</summary>
        <pre class="json">{JSON.stringify(r, null, 2)}</pre>
      </details>
    </>
  )
}
