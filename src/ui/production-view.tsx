import type { AuditRecord } from '../record/types.js'
import { useState } from 'preact/hooks'
import { fmt, getJson, time } from './api.js'
import { DatasetHash } from './dataset-hash.js'
import { ErrorNote } from './error-note.js'
import type { WireCanaryDecision, WireDeployment, WireLineage, WireMonitorDecision, WireTraceSummary } from './evidence-types.js'
import { CanaryDecision, MonitorDecision } from './monitor-decision.js'
import { href, type Route } from './route.js'
import { useData } from './use-data.js'
import './evidence.css'

const PAGE = '50'
/** Fewer traces a page than deployments, so the deployment's decisions stay near the top. */
const TRACE_PAGE = '25'

function Unauditable({ fields }: { fields: string[] }) {
  return fields.length === 0 ? <span>auditable</span> : <span class="flags">unauditable: no {fields.join(', no ')}</span>
}

function ModelOf({ d }: { d: WireDeployment }) {
  if (d.model === null) return <span class="hint">none</span>
  return (
    <>
      <a href={href(['registry', d.model])}>{d.model}</a> version {d.modelVersion ?? '?'}
      {d.alias !== null && ` (via ${d.alias})`}
    </>
  )
}

/** Deployments a page at a time, oldest first (#/production?cursor=): what serves, and whether it is auditable. */
export function DeploymentsView({ route }: { route: Route }) {
  const cursor = route.query.get('cursor') ?? undefined
  const loaded = useData(`deployments:${cursor ?? ''}`, () => getJson<{ deployments: WireDeployment[]; nextCursor: string | null }>('/api/v1/deployments', { limit: PAGE, cursor }))
  return (
    <section aria-labelledby="production-title">
      <h1 id="production-title">Production</h1>
      {loaded.state === 'loading' && <p role="status">Loading deployments…</p>}
      {loaded.state === 'error' && <ErrorNote error={loaded.error} />}
      {loaded.state === 'ready' &&
        (loaded.data.deployments.length === 0 ? (
          <p class="hint">No deployments{cursor === undefined ? '' : ' on this page'}.</p>
        ) : (
          <table>
            <caption>{loaded.data.deployments.length} deployments</caption>
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Model version</th>
                <th scope="col">Owner</th>
                <th scope="col">Environment</th>
                <th scope="col">Audit fields</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {loaded.data.deployments.map((d) => (
                <tr key={d.id}>
                  <th scope="row">
                    <a href={href(['deployment', d.id])}>
                      {d.endpoint} {d.endpointVersion}
                    </a>
                  </th>
                  <td>
                    <ModelOf d={d} />
                  </td>
                  <td>{d.owner ?? <span class="flags">none</span>}</td>
                  <td>{d.environment}</td>
                  <td>
                    <Unauditable fields={d.unauditable} />
                  </td>
                  <td>{time(d.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
      {loaded.state === 'ready' && (
        <p class="pager">
          {cursor !== undefined && <a href={href(['production'])}>First page</a>}
          {loaded.data.nextCursor !== null && <a href={href(['production'], { cursor: loaded.data.nextCursor })}>Next page</a>}
        </p>
      )}
    </section>
  )
}

/** Model version → run → datasets and code, as `assay lineage DEPLOYMENT` walks it. */
function Lineage({ id }: { id: string }) {
  const loaded = useData(`lineage:${id}`, () => getJson<{ lineage: WireLineage }>(`/api/v1/deployments/${id}/lineage`).then((r) => r.lineage))
  if (loaded.state === 'loading') return <p role="status">Loading lineage…</p>
  if (loaded.state === 'error') return <ErrorNote error={loaded.error} />
  const { deployment: d, modelVersion: mv, run, gaps } = loaded.data
  return (
    <>
      <h2>Lineage</h2>
      <dl class="pairs">
        <div>
          <dt>Deployment</dt>
          <dd>
            {d.endpoint} {d.endpointVersion} in {d.environment}, owner {d.owner ?? 'none'}, code{' '}
            {d.codeHash === null ? <span class="flags">none</span> : <code title={d.codeHash}>{d.codeHash.slice(0, 12)}</code>}
          </dd>
        </div>
        <div>
          <dt>Inputs</dt>
          <dd>
            {d.inputs.length === 0 ? (
              <span class="flags">none</span>
            ) : (
              d.inputs.map((i) => (
                <span key={i.name}>
                  {i.name} <DatasetHash sha={i.sha256} label="sha256 " />{' '}
                </span>
              ))
            )}
          </dd>
        </div>
        <div>
          <dt>Model version</dt>
          <dd>
            {mv === null ? (
              'none'
            ) : (
              <>
                <a href={href(['registry', mv.model])}>{mv.model}</a> version {mv.version}
                {mv.artifact !== null && (
                  <>
                    , {mv.artifact.name} <code title={mv.artifact.sha256}>sha256 {mv.artifact.sha256.slice(0, 12)}</code>
                  </>
                )}
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>Run</dt>
          <dd>
            {run === null ? (
              'none'
            ) : (
              <>
                <a href={href(['run', run.id])}>{run.name}</a> ({run.experiment}, <code>{run.id.slice(0, 8)}</code>), code{' '}
                {run.code.commit === undefined ? (run.code.reason ?? 'none') : <code title={run.code.commit}>{run.code.commit.slice(0, 10)}</code>}
                {run.code.dirty === true ? ' (dirty)' : ''}
              </>
            )}
          </dd>
        </div>
        {run !== null && (
          <div>
            <dt>Run datasets</dt>
            <dd>
              {run.datasets.map((ds) => (
                <span key={ds.name}>
                  {ds.name} ({ds.role}) <DatasetHash sha={ds.sha256} label="sha256 " />{' '}
                </span>
              ))}
            </dd>
          </div>
        )}
      </dl>
      {gaps.length > 0 && (
        <ul class="flags">
          {gaps.map((g) => (
            <li key={g}>{g}</li>
          ))}
        </ul>
      )}
    </>
  )
}

function tokensOf(t: WireTraceSummary): string {
  return t.inputTokens === null && t.outputTokens === null ? '' : `${t.inputTokens ?? 0} in / ${t.outputTokens ?? 0} out`
}

/**
 * A window bound as typed into the form: an ISO 8601 time, the UI's own "2026-12-01 12:00:00"
 * included; without a zone it is UTC, as every time the UI shows is. Empty is no bound.
 */
export function windowBound(text: string, name: 'from' | 'to'): number | undefined {
  const t = text.trim()
  if (t === '') return undefined
  const iso = t.replace(' ', 'T')
  const ms = Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(iso) || !iso.includes('T') ? iso : `${iso}Z`)
  if (!Number.isFinite(ms)) throw new Error(`${name} must be a time such as 2026-12-01 12:00:00 (UTC) or an ISO 8601 time, got ${JSON.stringify(t)}`)
  return ms
}

/** The window and filter form: its values live in the URL (?from=&to=&filter=), so a filtered list can be shared. */
function TraceWindow({ id, from, to, filter }: { id: string; from: string; to: string; filter: string }) {
  const [draft, setDraft] = useState({ from, to, filter })
  return (
    <form
      class="controls"
      aria-label="Trace time window"
      onSubmit={(e) => {
        e.preventDefault()
        location.hash = href(['deployment', id], { from: draft.from.trim(), to: draft.to.trim(), filter: draft.filter.trim() })
      }}
    >
      <label>
        From <input name="from" size={20} value={draft.from} placeholder="2026-12-01 00:00:00" onInput={(e) => setDraft({ ...draft, from: e.currentTarget.value })} />
      </label>
      <label>
        To <input name="to" size={20} value={draft.to} placeholder="now" onInput={(e) => setDraft({ ...draft, to: e.currentTarget.value })} />
      </label>
      <label>
        Filter{' '}
        <input
          name="filter"
          size={40}
          value={draft.filter}
          placeholder="status = 'error' or latency_ms > 2000"
          onInput={(e) => setDraft({ ...draft, filter: e.currentTarget.value })}
        />
      </label>
      <button type="submit">Show traces</button>
      <span class="hint"> UTC; traces starting at or after From and before To; the filter as for `assay traces ls --filter`</span>
    </form>
  )
}

/** A deployment's traces in a window a page at a time, newest first as the store orders them. */
function Traces({ id, cursor, from, to, filter }: { id: string; cursor: string | undefined; from: string; to: string; filter: string }) {
  const loaded = useData(`traces:${id}:${cursor ?? ''}:${from}:${to}:${filter}`, async () => {
    const [fromMs, toMs] = [windowBound(from, 'from'), windowBound(to, 'to')]
    return getJson<{ traces: WireTraceSummary[]; nextCursor: string | null }>('/api/v1/traces', {
      deployment: id,
      limit: TRACE_PAGE,
      cursor,
      from: fromMs?.toString(),
      to: toMs?.toString(),
      filter: filter === '' ? undefined : filter,
    })
  })
  const bounds = { from: from === '' ? undefined : from, to: to === '' ? undefined : to, filter: filter === '' ? undefined : filter }
  if (loaded.state === 'loading') return <p role="status">Loading traces…</p>
  if (loaded.state === 'error') return <ErrorNote error={loaded.error} />
  const { traces, nextCursor } = loaded.data
  return (
    <>
      <table class="traces">
        <caption>
          Traces ({traces.length} on this page{from !== '' || to !== '' ? `, from ${from === '' ? 'the first' : from} to ${to === '' ? 'the last' : to}` : ''}
          {filter !== '' ? `, passing ${filter}` : ''})
        </caption>
        <thead>
          <tr>
            <th scope="col">Trace</th>
            <th scope="col">Start</th>
            <th scope="col">Latency (ms)</th>
            <th scope="col">Spans</th>
            <th scope="col">Tokens</th>
            <th scope="col">Cost (USD)</th>
            <th scope="col">Guardrail</th>
            <th scope="col">Prompt</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {traces.map((t) => (
            <tr key={t.traceId}>
              <th scope="row">
                <a href={href(['trace', t.traceId])}>{t.traceId.slice(0, 12)}</a>
              </th>
              <td>{time(t.startTime)}</td>
              <td class="num">{fmt(t.latencyMs)}</td>
              <td class="num">{t.spanCount}</td>
              <td class="num">{tokensOf(t)}</td>
              <td class="num">{fmt(t.costUsd)}</td>
              <td>{t.guardrailAction === null ? '' : `${t.guardrailAction}${t.guardrailOutcome === null ? '' : `: ${t.guardrailOutcome}`}`}</td>
              <td>{t.promptName === null && t.promptVersion === null ? '' : `${t.promptName ?? ''}@${t.promptVersion ?? ''}`}</td>
              <td>{t.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="pager">
        {cursor !== undefined && <a href={href(['deployment', id], bounds)}>First traces</a>}
        {nextCursor !== null && <a href={href(['deployment', id], { ...bounds, traces: nextCursor })}>Next traces</a>}
      </p>
    </>
  )
}

/** Monitor and canary decisions recorded about the deployment (GET /api/v1/deployments/:id/decisions). */
function Decisions({ id, cursor, bounds }: { id: string; cursor: string | undefined; bounds: Record<string, string | undefined> }) {
  const loaded = useData(`decisions:${id}:${cursor ?? ''}`, () => getJson<{ decisions: AuditRecord[]; nextCursor: string | null }>(`/api/v1/deployments/${id}/decisions`, { limit: '10', cursor }))
  if (loaded.state === 'loading') return <p role="status">Loading decisions…</p>
  if (loaded.state === 'error') return <ErrorNote error={loaded.error} />
  const { decisions, nextCursor } = loaded.data
  return (
    <>
      {decisions.length === 0 && <p class="hint">No monitor or canary decisions {cursor === undefined ? 'recorded' : 'in this part of the audit log'}.</p>}
      {decisions.map((r) =>
        r.kind === 'monitor-decision' ? (
          <MonitorDecision key={r.seq} evidence={r.body as unknown as WireMonitorDecision} seq={r.seq} />
        ) : (
          <CanaryDecision key={r.seq} evidence={r.body as unknown as WireCanaryDecision} seq={r.seq} />
        ),
      )}
      {nextCursor !== null && (
        <p class="pager">
          <a href={href(['deployment', id], { ...bounds, decisions: nextCursor })}>Later decisions</a>
        </p>
      )}
    </>
  )
}

/** One deployment (#/deployment/ID?from=&to=&filter=&traces=&decisions=): lineage, traces in a window passing a filter, monitor and canary decisions. */
export function DeploymentView({ id, route }: { id: string; route: Route }) {
  const from = route.query.get('from') ?? ''
  const to = route.query.get('to') ?? ''
  const filter = route.query.get('filter') ?? ''
  const loaded = useData(`deployment:${id}`, () => getJson<{ deployment: WireDeployment }>(`/api/v1/deployments/${encodeURIComponent(id)}`).then((r) => r.deployment))
  return (
    <section aria-labelledby="deployment-title">
      <h1 id="deployment-title">Deployment {loaded.state === 'ready' ? `${loaded.data.endpoint} ${loaded.data.endpointVersion}` : id.slice(0, 12)}</h1>
      {loaded.state === 'loading' && <p role="status">Loading deployment…</p>}
      {loaded.state === 'error' && <ErrorNote error={loaded.error} />}
      {loaded.state === 'ready' && (
        <>
          <p>
            <code>{id}</code>, created {time(loaded.data.createdAt)}, <Unauditable fields={loaded.data.unauditable} />
          </p>
          <Lineage id={id} />
          <h2>Traces</h2>
          <TraceWindow key={`${from}|${to}|${filter}`} id={id} from={from} to={to} filter={filter} />
          <Traces id={id} cursor={route.query.get('traces') ?? undefined} from={from} to={to} filter={filter} />
          <h2>Monitor and canary decisions</h2>
          {/* Paging the decisions keeps the trace window and filter. */}
          <Decisions id={id} cursor={route.query.get('decisions') ?? undefined} bounds={{ from, to, filter: filter === '' ? undefined : filter }} />
        </>
      )}
    </section>
  )
}
