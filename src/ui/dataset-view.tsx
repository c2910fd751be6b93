import type { ArtifactRef, HoldoutRead } from '../record/types.js'
import { getJson, time } from './api.js'
import { ErrorNote } from './error-note.js'
import type { WireDeployment } from './evidence-types.js'
import { href } from './route.js'
import { useData } from './use-data.js'

const PAGE = '100'

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
  /** Whether any of the three listings had more than one page (only the first is shown). */
  more: boolean
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

async function loadFacts(sha: string): Promise<DatasetFacts> {
  // Each route keeps to the experiments the token may read, so nothing else is asked for or shown.
  const [used, lineage, ledger, serving] = await Promise.all([
    getJson<{ uses: DatasetUse[]; nextCursor: string | null }>(`/api/v1/datasets/${encodeURIComponent(sha)}/runs`, { limit: PAGE }),
    getJson<{ edges: ArtifactRef[]; nextCursor: string | null }>(`/api/v1/artifacts/${encodeURIComponent(sha)}/lineage`, { limit: PAGE }),
    getJson<{ reads: HoldoutRead[]; nextCursor: string | null }>(`/api/v1/holdout-reads/${encodeURIComponent(sha)}`, { limit: PAGE }),
    getJson<{ deployments: WireDeployment[]; nextCursor: string | null }>('/api/v1/deployments', { input: sha, limit: PAGE }),
  ])
  return { uses: used.uses, edges: lineage.edges, reads: ledger.reads, deployments: serving.deployments, more: [used, lineage, ledger, serving].some((p) => p.nextCursor !== null) }
}

/** One dataset version (#/dataset/SHA): the runs that used it, the deployments it fed, its holdout-ledger reads. */
export function DatasetView({ sha }: { sha: string }) {
  const loaded = useData(`dataset:${sha}`, () => loadFacts(sha))
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
      {loaded.state === 'ready' && <Facts facts={loaded.data} />}
    </section>
  )
}

function Facts({ facts }: { facts: DatasetFacts }) {
  const runs = runsOf(facts)
  return (
    <>
      {facts.more && <p class="hint">Only the first {PAGE} of each listing are shown.</p>}
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
    </>
  )
}
