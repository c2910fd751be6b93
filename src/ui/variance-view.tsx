import { useState } from 'preact/hooks'
import type { VarianceResult } from '../compare/variance-types.js'
import { fmt, getJson, type WireNumber } from './api.js'
import { DatasetHash } from './dataset-hash.js'
import { ErrorNote } from './error-note.js'
import { href, type Route } from './route.js'
import { useData } from './use-data.js'

/** Numbers of the variance as they arrive: NaN and ±Infinity as strings. */
type Wire<T> = T extends number ? WireNumber : T extends (infer U)[] ? Wire<U>[] : T extends object ? { [K in keyof T]: Wire<T[K]> } : T

function share(value: WireNumber | null): string {
  return value === null ? 'unknown' : `${fmt(Number(value) * 100, 3)}%`
}

/** Seed groups and variance: `assay variance` over the server (GET /api/v1/variance). #/variance?runs=ID[,ID…]&metric=M[&dataset=D]. */
export function VarianceView({ route }: { route: Route }) {
  const q = route.query
  const runs = q.get('runs') ?? ''
  const metric = q.get('metric') ?? ''
  const dataset = q.get('dataset') ?? ''
  const [draft, setDraft] = useState({ metric, dataset })
  const asked = { runs, metric, dataset }
  const loaded = useData(JSON.stringify(asked), () =>
    runs === '' || metric === '' ? Promise.resolve(null) : getJson<{ variance: Wire<VarianceResult> }>('/api/v1/variance', asked).then((r) => r.variance),
  )
  return (
    <section aria-labelledby="variance-title">
      <h1 id="variance-title">Seed variance</h1>
      <form
        class="controls"
        onSubmit={(e) => {
          e.preventDefault()
          location.hash = href(['variance'], { runs, metric: draft.metric.trim(), dataset: draft.dataset.trim() })
        }}
      >
        <label>
          Metric <input name="metric" size={24} value={draft.metric} placeholder="an eval score or a metric key" onInput={(e) => setDraft({ ...draft, metric: e.currentTarget.value })} />
        </label>
        <label>
          Dataset <input name="dataset" size={16} value={draft.dataset} placeholder="the run's one eval set" onInput={(e) => setDraft({ ...draft, dataset: e.currentTarget.value })} />
        </label>
        <button type="submit">Show</button>
      </form>
      {runs === '' && (
        <p class="hint">
          Open a group's mean in the <a href={href(['runs'], { groupBy: 'config' })}>grouped runs table</a> to see its seeds.
        </p>
      )}
      {loaded.state === 'loading' && <p role="status">Measuring variance…</p>}
      {loaded.state === 'error' && <ErrorNote error={loaded.error} />}
      {loaded.state === 'ready' && loaded.data !== null && <Variance v={loaded.data} />}
    </section>
  )
}

function Variance({ v }: { v: Wire<VarianceResult> }) {
  const level = `${Math.round(Number(v.confidenceLevel) * 1000) / 10}%`
  return (
    <>
      <p>
        {v.group.resolvedAs}: {v.runs.length} runs, metric <code>{v.metric}</code>{' '}
        {v.source === 'eval-records' ? `from the eval records of dataset ${v.dataset ?? ''}` : '(the last value of the run-level metric)'}.
      </p>
      <dl class="pairs verdict" aria-label="variance summary">
        <div>
          <dt>mean over seeds</dt>
          <dd>
            {fmt(v.mean)} [{fmt(v.ci[0])}, {fmt(v.ci[1])}] ({level} Student t interval over the runs' values)
          </dd>
        </div>
        <div>
          <dt>spread across seeds (sd)</dt>
          <dd>{fmt(v.seeds.sd)}</dd>
        </div>
        <div>
          <dt>standard error of a single run</dt>
          <dd>
            {fmt(v.singleRunStandardError)}
            {v.naiveStandardError !== null ? ` (what a run reports from its examples alone: ${fmt(v.naiveStandardError)}; ${fmt(v.inflation)}× as large)` : ''}
          </dd>
        </div>
      </dl>
      <table>
        <caption>Share of a single run's variance, by source</caption>
        <thead>
          <tr>
            <th scope="col">source</th>
            <th scope="col">variance component</th>
            <th scope="col">share</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">seeds</th>
            <td class="num">{fmt(v.seeds.component)}</td>
            <td class="num" data-share="seeds">{share(v.shares.seeds)}</td>
          </tr>
          <tr>
            <th scope="row">examples{v.examples !== null ? ` (${v.examples.n} per run)` : ''}</th>
            <td class="num">{v.examples === null ? 'unknown' : fmt(v.examples.component)}</td>
            <td class="num" data-share="examples">{share(v.shares.examples)}</td>
          </tr>
          {v.splits !== null && (
            <tr>
              <th scope="row">data splits ({v.splits.count})</th>
              <td class="num">{fmt(v.splits.component)}</td>
              <td class="num" data-share="splits">{share(v.shares.splits)}</td>
            </tr>
          )}
        </tbody>
      </table>
      <table>
        <caption>Per-seed values</caption>
        <thead>
          <tr>
            <th scope="col">run</th>
            <th scope="col">seed</th>
            <th scope="col">{v.metric}</th>
            <th scope="col">examples</th>
            <th scope="col">standard error from its examples</th>
            <th scope="col">dataset sha256</th>
          </tr>
        </thead>
        <tbody>
          {v.runs.map((r) => (
            <tr key={r.runId}>
              <td>
                <a href={href(['run', r.runId])}>{r.runId.slice(0, 8)}</a>
              </td>
              <td class="num">{r.seed}</td>
              <td class="num">{fmt(r.value)}</td>
              <td class="num">{r.n ?? ''}</td>
              <td class="num">{fmt(r.exampleStandardError)}</td>
              <td>{r.datasetSha256 === null ? '' : <DatasetHash sha={r.datasetSha256} />}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {v.perExample !== null && v.perExample.mostUnstable.length > 0 && (
        <table>
          <caption>
            Examples that move most across seeds ({v.perExample.unstable} of {v.examples?.n ?? ''} change between runs)
          </caption>
          <thead>
            <tr>
              <th scope="col">example</th>
              <th scope="col">mean</th>
              <th scope="col">sd across seeds</th>
              <th scope="col">min</th>
              <th scope="col">max</th>
            </tr>
          </thead>
          <tbody>
            {v.perExample.mostUnstable.map((e) => (
              <tr key={e.id}>
                <td>
                  <code>{e.id}</code>
                </td>
                <td class="num">{fmt(e.mean)}</td>
                <td class="num">{fmt(e.sd)}</td>
                <td class="num">{fmt(e.min)}</td>
                <td class="num">{fmt(e.max)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {v.warnings.length > 0 && (
        <ul class="warnings" aria-label="warnings">
          {v.warnings.map((w) => (
            <li key={w.code}>
              <code>{w.code}</code> {w.message}
            </li>
          ))}
        </ul>
      )}
      <p class="method">
        Model of <code>assay variance</code> (docs/compare.md): a run's value varies with its seed and with the sample of examples; the seed component is the variance of the runs' values net of example noise.
      </p>
    </>
  )
}
