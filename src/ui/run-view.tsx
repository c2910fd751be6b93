import type { RunRecord } from '../record/types.js'
import { fmt, getJson, prefetchJson, time } from './api.js'
import { MetricChart, type MetricBuckets } from './chart.js'
import { DatasetHash } from './dataset-hash.js'
import { ErrorNote } from './error-note.js'
import { href } from './route.js'
import { useData } from './use-data.js'

/** Buckets per chart: about one per horizontal pixel pair of a chart. */
const BUCKETS = 300

function Pairs({ entries }: { entries: [string, unknown][] }) {
  if (entries.length === 0) return <p class="hint">none</p>
  return (
    <dl class="pairs">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}</dd>
        </div>
      ))}
    </dl>
  )
}

const runRequest = (id: string) => [`/api/v1/runs/${encodeURIComponent(id)}`, {}] as const
/** Every metric of the run as buckets, in one request (GET /api/v1/runs/:runId/charts). */
const chartsRequest = (id: string) => [`/api/v1/runs/${encodeURIComponent(id)}/charts`, { buckets: String(BUCKETS) }] as const

/** The run page's two requests, started together when the page loads on a run's URL (main.tsx). */
export function prefetchRunView(id: string): void {
  prefetchJson(...runRequest(id))
  prefetchJson(...chartsRequest(id))
}

function Charts({ run }: { run: RunRecord }) {
  const loaded = useData(`charts:${run.id}`, () => getJson<{ charts: MetricBuckets[] }>(...chartsRequest(run.id)))
  if (run.metrics.length === 0) return <p class="hint">This run logged no metrics.</p>
  if (loaded.state === 'loading') return <p role="status">Loading charts…</p>
  if (loaded.state === 'error') return <ErrorNote error={loaded.error} />
  return (
    <div class="charts">
      {loaded.data.charts.map((b) => (
        <MetricChart key={b.key} buckets={b} />
      ))}
    </div>
  )
}

/** One run: its record and every metric as a chart. */
export function RunView({ id }: { id: string }) {
  const loaded = useData(id, () => getJson<{ run: RunRecord }>(...runRequest(id)))
  if (loaded.state === 'loading') return <p role="status">Loading run…</p>
  if (loaded.state === 'error') return <ErrorNote error={loaded.error} />
  const run = loaded.data.run
  return (
    <article aria-labelledby="run-title">
      <h1 id="run-title">
        Run {run.name} <code class="id">{run.id}</code>
      </h1>
      <p>
        <span class={`status ${run.status}`}>{run.status}</span> · experiment {run.experiment} · owner {run.owner} · started {time(run.startTime)}
        {run.endTime !== null ? ` · ended ${time(run.endTime)}` : ''} · seed {run.seed} ({run.seedSource})
      </p>
      <h2>Metrics</h2>
      <table>
        <caption>Metric summaries</caption>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col">Last</th>
            <th scope="col">Last step</th>
            <th scope="col">Min</th>
            <th scope="col">Max</th>
            <th scope="col">Points</th>
          </tr>
        </thead>
        <tbody>
          {run.metrics.map((m) => (
            <tr key={m.key}>
              <th scope="row">{m.key}</th>
              <td class="num">{fmt(m.last)}</td>
              <td class="num">{m.lastStep}</td>
              <td class="num">{fmt(m.min)}</td>
              <td class="num">{fmt(m.max)}</td>
              <td class="num">{m.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Charts run={run} />
      <h2>Params</h2>
      <Pairs entries={Object.entries(run.params)} />
      <h2>Tags</h2>
      <Pairs entries={Object.entries(run.tags)} />
      <h2>Datasets</h2>
      {run.datasets.length === 0 ? (
        <p class="hint">none</p>
      ) : (
        <ul>
          {run.datasets.map((d) => (
            <li key={`${d.name}:${d.sha256}`}>
              {d.name} ({d.role}, {d.kind}, {d.rows ?? '?'} rows) <DatasetHash sha={d.sha256} chars={64} label="sha256 " />
            </li>
          ))}
        </ul>
      )}
      <h2>Eval records</h2>
      {run.evals.length === 0 ? (
        <p class="hint">none</p>
      ) : (
        <ul>
          {run.evals.map((e) => (
            <li key={e.dataset}>
              {e.dataset}: {e.count} examples, scores {e.scoreNames.join(', ')} <DatasetHash sha={e.datasetSha256} chars={64} label="sha256 " />
            </li>
          ))}
        </ul>
      )}
      <h2>Artifacts</h2>
      {run.artifacts.length === 0 ? (
        <p class="hint">none</p>
      ) : (
        <ul>
          {run.artifacts.map((a) => (
            <li key={`${a.direction}:${a.name}`}>
              {a.name} ({a.direction}, {a.sizeBytes} bytes) <code>sha256 {a.sha256}</code>
            </li>
          ))}
        </ul>
      )}
      <h2>Code</h2>
      <Pairs entries={Object.entries(run.code)} />
      <h2>Environment</h2>
      <Pairs entries={Object.entries(run.environment)} />
      <h2>Envelope fingerprints</h2>
      <Pairs entries={Object.entries(run.envelope)} />
      <p>
        <a href={href(['compare'], { a: run.id })}>Compare this run with another</a>
      </p>
    </article>
  )
}
