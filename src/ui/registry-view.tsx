import type { AliasEvent, ModelVersion, RegisteredModel } from '../record/types.js'
import { getJson, time } from './api.js'
import { ErrorNote } from './error-note.js'
import { href } from './route.js'
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
function AuditStatus() {
  const loaded = useData('audit', () => getJson<{ verification: AuditVerification }>('/api/v1/audit/verify'))
  if (loaded.state === 'loading') return <p role="status">Verifying the audit log…</p>
  if (loaded.state === 'error') return <ErrorNote error={loaded.error} />
  const v = loaded.data.verification
  return v.ok ? (
    <p class="audit ok">
      Audit log intact: {v.count} records, head <code>{v.head.slice(0, 16)}</code>
    </p>
  ) : (
    <p class="audit broken" role="alert">
      Audit log BROKEN at record {v.firstBadSeq}: {v.problem}
    </p>
  )
}

/** Registered models (GET /api/v1/models) and the audit log's state. */
export function RegistryView() {
  const loaded = useData('models', () => getJson<{ models: RegisteredModel[]; nextCursor: string | null }>('/api/v1/models', { limit: '200' }))
  return (
    <section aria-labelledby="registry-title">
      <h1 id="registry-title">Registry</h1>
      <AuditStatus />
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
    const [versions, events] = await Promise.all([
      getJson<{ versions: ModelVersion[] }>(`${base}/versions`, { limit: '200' }),
      getJson<{ events: AliasEvent[] }>(`${base}/alias-events`, { limit: '200' }),
    ])
    return { versions: versions.versions, events: events.events }
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
            <caption>Alias history</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Alias</th>
                <th scope="col">Event</th>
                <th scope="col">Version</th>
                <th scope="col">Actor</th>
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
                  <td>{e.actor}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  )
}
