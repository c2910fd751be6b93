import type { AliasEvent, GatePolicy, ModelVersion, RegisteredModel } from '../record/types.js'
import { getJson, time } from './api.js'
import { AuditStatus } from './audit-view.js'
import { ErrorNote } from './error-note.js'
import { href } from './route.js'
import { useData } from './use-data.js'

/** Registered models (GET /api/v1/models) and the audit log's state. */
export function RegistryView() {
  const loaded = useData('models', () => getJson<{ models: RegisteredModel[]; nextCursor: string | null }>('/api/v1/models', { limit: '200' }))
  return (
    <section aria-labelledby="registry-title">
      <h1 id="registry-title">Registry</h1>
      <AuditStatus /> <a href={href(['audit'])}>The audit log</a>
      {loaded.state === 'loading' && <p role="status">Loading models…</p>}
      {loaded.state === 'error' && <ErrorNote error={loaded.error} />}
      {loaded.state === 'ready' &&
        (loaded.data.models.length === 0 ? (
          <p class="hint">No registered models.</p>
        ) : (
          <ul>
            {loaded.data.models.map((m) => (
              <li key={m.name}>
                <a href={href(['registry', m.name])}>{m.name}</a> ({m.owner}, {time(m.createdAt)}) {m.description}
              </li>
            ))}
          </ul>
        ))}
    </section>
  )
}

/** One model: its versions and the history of its aliases. */
export function ModelView({ name }: { name: string }) {
  const base = `/api/v1/models/${encodeURIComponent(name)}`
  const loaded = useData(name, async () => {
    const [versions, events, policies] = await Promise.all([
      getJson<{ versions: ModelVersion[] }>(`${base}/versions`, { limit: '200' }),
      getJson<{ events: AliasEvent[] }>(`${base}/alias-events`, { limit: '200' }),
      getJson<{ policies: GatePolicy[] }>('/api/v1/gate-policies', { model: name, limit: '200' }),
    ])
    return { versions: versions.versions, events: events.events, policies: policies.policies }
  })
  return (
    <section aria-labelledby="model-title">
      <h1 id="model-title">Model {name}</h1>
      {loaded.state === 'loading' && <p role="status">Loading model…</p>}
      {loaded.state === 'error' && <ErrorNote error={loaded.error} />}
      {loaded.state === 'ready' && (
        <>
          <table>
            <caption>Versions</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Run</th>
                <th scope="col">Artifact</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {loaded.data.versions.map((v) => (
                <tr key={v.version}>
                  <th scope="row">{v.version}</th>
                  <td>
                    <a href={href(['run', v.runId])}>{v.runId.slice(0, 8)}</a>
                  </td>
                  <td>{v.artifact === null ? '' : <code>{`${v.artifact.name} sha256 ${v.artifact.sha256.slice(0, 12)}`}</code>}</td>
                  <td>
                    {time(v.createdAt)} by {v.createdBy}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <table>
            <caption>Alias history: promotions with their gate decision, rollbacks</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Alias</th>
                <th scope="col">Event</th>
                <th scope="col">Version</th>
                <th scope="col">Actor, time</th>
                <th scope="col">Reason</th>
                <th scope="col">Evidence</th>
              </tr>
            </thead>
            <tbody>
              {loaded.data.events.map((e) => (
                <tr key={e.seq}>
                  <th scope="row">{e.seq}</th>
                  <td>{e.alias}</td>
                  <td>{e.kind}</td>
                  <td>
                    {e.previousVersion ?? '–'} → {e.version ?? 'removed'}
                  </td>
                  <td>
                    {e.actor}, {time(e.at)}
                  </td>
                  <td>{e.reason}</td>
                  <td>
                    {e.auditSeq === null ? (
                      ''
                    ) : (
                      <a href={href(['audit', String(e.auditSeq)])}>{e.kind === 'promote' ? `gate decision (record ${e.auditSeq})` : `audit record ${e.auditSeq}`}</a>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <table>
            <caption>Gate policies: the gate each alias is promoted through</caption>
            <thead>
              <tr>
                <th scope="col">Alias</th>
                <th scope="col">Policy version</th>
                <th scope="col">Gate</th>
                <th scope="col">sha256</th>
                <th scope="col">Set by, time, reason</th>
              </tr>
            </thead>
            <tbody>
              {loaded.data.policies.map((p) => (
                <tr key={`${p.alias}:${p.version}`}>
                  <th scope="row">{p.alias}</th>
                  <td>
                    <a href={href(['audit', String(p.auditSeq)])}>{p.version}</a>
                  </td>
                  <td>
                    {p.gate} ({p.source})
                  </td>
                  <td>
                    <code title={p.sha256}>{p.sha256.slice(0, 16)}</code>
                  </td>
                  <td>
                    {p.actor}, {time(p.at)}: {p.reason}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  )
}
