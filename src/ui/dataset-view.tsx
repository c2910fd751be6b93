import type { ArtifactRef, HoldoutRead } from '../record/types.js'
import { getJson, time } from './api.js'
import { ErrorNote } from './error-note.js'
import type { WireDeployment } from './evidence-types.js'
import { href, type Route } from './route.js'
import { useData } from './use-data.js'

/** Items a listing shows a page (the route's default); `?limit=` in the URL asks for fewer. */
const PAGE = 100

/** The four listings of the view, each paged by its own cursor (kept in the URL under this name). */
const LISTINGS = ['uses', 'edges', 'reads', 'deployments'] as const
type Listing = (typeof LISTINGS)[number]
export type DatasetCursors = Partial<Record<Listing, string>>

/** src/store/store.ts DatasetUse (that module is Node's: the UI keeps its own copy of the wire shape). */
interface DatasetUse {
  runId: string
  runName: string
  experiment: string
  startTime: number
  dataset: string
  role: string
}

interface DatasetFacts {
  uses: DatasetUse[]
  edges: ArtifactRef[]
  reads: HoldoutRead[]
  deployments: WireDeployment[]
  /** Each listing's cursor to its next page (null: this is its last). */
  next: Record<Listing, string | null>
}

/** The runs that logged the version, recorded it as an artifact or read it through the holdout ledger, each once. */
function runsOf(facts: DatasetFacts): { runId: string; how: string[] }[] {
  const byRun = new Map<string, Set<string>>()
  const add = (runId: string, how: string): void => {
    const set = byRun.get(runId) ?? new Set<string>()
    set.add(how)
    byRun.set(runId, set)
  }
  for (const u of facts.uses) add(u.runId, `logged as ${u.dataset} (${u.role}), ${u.experiment}/${u.runName}`)
  for (const e of facts.edges) add(e.runId, `${e.direction} as ${e.name}`)
  for (const r of facts.reads) for (const runId of r.runIds) add(runId, `read by ${r.purpose}`)
  return [...byRun].map(([runId, how]) => ({ runId, how: [...how] }))
}

async function loadFacts(sha: string, cursors: DatasetCursors, limit: number): Promise<DatasetFacts> {
  const page = (listing: Listing) => ({ limit: String(limit), cursor: cursors[listing] })
  // Each route keeps to the experiments the token may read, so nothing else is asked for or shown.
  const [used, lineage, ledger, serving] = await Promise.all([
    getJson<{ uses: DatasetUse[]; nextCursor: string | null }>(`/api/v1/datasets/${encodeURIComponent(sha)}/runs`, page('uses')),
    getJson<{ edges: ArtifactRef[]; nextCursor: string | null }>(`/api/v1/artifacts/${encodeURIComponent(sha)}/lineage`, page('edges')),
    getJson<{ reads: HoldoutRead[]; nextCursor: string | null }>(`/api/v1/holdout-reads/${encodeURIComponent(sha)}`, page('reads')),
    getJson<{ deployments: WireDeployment[]; nextCursor: string | null }>('/api/v1/deployments', { input: sha, ...page('deployments') }),
  ])
  return {
    uses: used.uses,
    edges: lineage.edges,
    reads: ledger.reads,
    deployments: serving.deployments,
    next: { uses: used.nextCursor, edges: lineage.nextCursor, reads: ledger.nextCursor, deployments: serving.nextCursor },
  }
}

/** `?limit=` as the view reads it: a whole number from 1 to 100, else the default. */
function pageSize(text: string | null): number {
  const n = Number(text)
  return Number.isInteger(n) && n >= 1 && n <= PAGE ? n : PAGE
}

/**
 * One dataset version (#/dataset/SHA?uses=&edges=&reads=&deployments=&limit=): the runs that used
 * it, the deployments it fed, its holdout-ledger reads; each listing paged by its own cursor.
 */
export function DatasetView({ sha, route }: { sha: string; route: Route }) {
  const cursors: DatasetCursors = {}
  for (const l of LISTINGS) {
    const c = route.query.get(l)
    if (c !== null && c !== '') cursors[l] = c
  }
  const limit = pageSize(route.query.get('limit'))
  const loaded = useData(`dataset:${sha}:${limit}:${JSON.stringify(cursors)}`, () => loadFacts(sha, cursors, limit))
  // A listing's next page keeps the other listings where they are.
  const pageHref = (change: DatasetCursors | null): string =>
    href(['dataset', sha], { ...(change === null ? {} : { ...cursors, ...change }), limit: limit === PAGE ? undefined : String(limit) })
  return (
    <section aria-labelledby="dataset-title">
      <h1 id="dataset-title">
        Dataset version <code>{sha.slice(0, 12)}</code>
      </h1>
      <p>
        sha256 <code>{sha}</code>
      </p>
      {loaded.state === 'loading' && <p role="status">Loading the dataset version…</p>}
      {loaded.state === 'error' && <ErrorNote error={loaded.error} />}
      {loaded.state === 'ready' && <Facts facts={loaded.data} limit={limit} paged={Object.keys(cursors).length > 0} pageHref={pageHref} />}
    </section>
  )
}

/** The "Next …" links of the listings named, each to its next page. */
function Pager({ label, links, facts, pageHref }: { label: string; links: [Listing, string][]; facts: DatasetFacts; pageHref: (change: DatasetCursors | null) => string }) {
  const next = links.filter(([l]) => facts.next[l] !== null)
  if (next.length === 0) return null
  return (
    <nav class="pager" aria-label={label}>
      {next.map(([l, text]) => (
        <a key={l} href={pageHref({ [l]: facts.next[l] ?? undefined })}>
          {text}
        </a>
      ))}
    </nav>
  )
}

function Facts({ facts, limit, paged, pageHref }: { facts: DatasetFacts; limit: number; paged: boolean; pageHref: (change: DatasetCursors | null) => string }) {
  const runs = runsOf(facts)
  const pager = (label: string, links: [Listing, string][]) => <Pager label={label} links={links} facts={facts} pageHref={pageHref} />
  return (
    <>
      <p class="hint">
        Each listing shows {limit} a page.{' '}
        {paged && (
          <>
            Some are on a later page: <a href={pageHref(null)}>first pages</a>.
          </>
        )}
      </p>
      <h2 id="dataset-runs">Runs</h2>
      {runs.length === 0 ? (
        <p class="hint">No run you may read logged this version, recorded it as an artifact or read it through the holdout ledger.</p>
      ) : (
        <ul aria-labelledby="dataset-runs">
          {runs.map((r) => (
            <li key={r.runId}>
              <a href={href(['run', r.runId])}>{r.runId.slice(0, 8)}</a> ({r.how.join('; ')})
            </li>
          ))}
        </ul>
      )}
      {pager('pages of runs', [['uses', 'Next runs that logged it'], ['edges', 'Next artifact records']])}
      <h2 id="dataset-deployments">Deployments fed by it</h2>
      {facts.deployments.length === 0 ? (
        <p class="hint">No deployment you may read has it among its inputs.</p>
      ) : (
        <ul aria-labelledby="dataset-deployments">
          {facts.deployments.map((d) => (
            <li key={d.id}>
              <a href={href(['deployment', d.id])}>
                {d.endpoint} {d.endpointVersion}
              </a>{' '}
              ({d.environment}, model {d.model ?? 'none'}
              {d.modelVersion === null ? '' : ` version ${d.modelVersion}`}, since {time(d.createdAt)})
            </li>
          ))}
        </ul>
      )}
      {pager('pages of deployments', [['deployments', 'Next deployments']])}
      <h2 id="dataset-reads">Holdout ledger reads</h2>
      {facts.reads.length === 0 ? (
        <p class="hint">No holdout-ledger read of this version that you may read.</p>
      ) : (
        <table aria-labelledby="dataset-reads">
          <thead>
            <tr>
              <th scope="col">when</th>
              <th scope="col">dataset</th>
              <th scope="col">purpose</th>
              <th scope="col">who</th>
              <th scope="col">runs</th>
            </tr>
          </thead>
          <tbody>
            {facts.reads.map((r, i) => (
              <tr key={r.id ?? i}>
                <td>{time(r.at)}</td>
                <td>{r.datasetName}</td>
                <td>{r.purpose}</td>
                <td>{r.actor}</td>
                <td>
                  {r.runIds.map((id) => (
                    <a key={id} href={href(['run', id])}>
                      {id.slice(0, 8)}{' '}
                    </a>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {pager('pages of holdout ledger reads', [['reads', 'Next ledger reads']])}
    </>
  )
}
