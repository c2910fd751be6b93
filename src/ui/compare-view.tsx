import { useState } from 'preact/hooks'
import type { Comparison, ComparisonDetail, ExampleRecords } from '../compare/comparison-types.js'
import type { EvalRecord } from '../record/types.js'
import { fmt, fmtP, getJson } from './api.js'
import { DatasetHash } from './dataset-hash.js'
import { ErrorNote } from './error-note.js'
import { DifferenceHistogram, ForestPlot } from './figures.js'
import { href, type Route } from './route.js'
import { useData } from './use-data.js'

const VERDICT: Record<Comparison['verdict'], string> = {
  better: 'A is better than B',
  worse: 'A is worse than B',
  equivalent: 'A and B are equivalent within the margin',
  inconclusive: 'Inconclusive: the data cannot tell A and B apart',
}

function RunLink({ id }: { id: string }) {
  return (
    <a href={href(['run', id])} title={id}>
      <code class="id">{id.slice(0, 8)}</code>
    </a>
  )
}

/** Runs as links, separated by spaces. */
function RunLinks({ ids }: { ids: readonly string[] }) {
  return (
    <>
      {ids.map((id, i) => (
        <span key={id}>
          {i > 0 ? ' ' : ''}
          <RunLink id={id} />
        </span>
      ))}
    </>
  )
}

function Sha({ sha }: { sha: string | null }) {
  return sha === null ? <span class="hint">none</span> : <DatasetHash sha={sha} />
}

/** One example's stored records, one column per run (A's runs first): every field as logged. */
function RecordsSideBySide({ example }: { example: ExampleRecords }) {
  const recs = example.records
  const scoreNames = [...new Set(recs.flatMap((r) => (r.record === null ? [] : Object.keys(r.record.scores))))].sort()
  const field = (name: string, get: (r: EvalRecord) => string | number | undefined) => ({ name, get })
  const fields = [
    field('cluster', (r) => r.cluster),
    ...scoreNames.map((s) => field(`scores.${s}`, (r) => r.scores[s])),
    field('latencyMs', (r) => r.latencyMs),
    field('tokens', (r) => r.tokens),
    field('cost', (r) => r.cost),
    field('outputHash', (r) => r.outputHash),
  ].filter((f) => recs.some((r) => r.record !== null && f.get(r.record) !== undefined))
  return (
    <table class="records">
      <caption>Eval records of example {example.id}</caption>
      <thead>
        <tr>
          <th scope="col">field</th>
          {recs.map((r) => (
            <th scope="col" key={r.runId}>
              {r.side} <RunLink id={r.runId} /> seed {r.seed}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {fields.map((f) => (
          <tr key={f.name}>
            <th scope="row">{f.name}</th>
            {recs.map((r) => {
              const v = r.record === null ? undefined : f.get(r.record)
              return (
                <td key={r.runId} class={typeof v === 'number' ? 'num' : undefined}>
                  {r.record === null ? <span class="hint">no record</span> : v === undefined ? '' : typeof v === 'number' ? fmt(v) : <code>{v}</code>}
                </td>
              )
            })}
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function Examples({ title, id, examples }: { title: string; id: string; examples: ExampleRecords[] }) {
  return (
    <section aria-labelledby={id} class="examples">
      <h3 id={id}>{title}</h3>
      {examples.length === 0 ? (
        <p class="hint">none</p>
      ) : (
        <ol>
          {examples.map((e) => (
            <li key={e.id}>
              <details>
                <summary>
                  <code>{e.id}</code>: A {fmt(e.a)}, B {fmt(e.b)}, A − B {fmt(e.delta)}
                </summary>
                <RecordsSideBySide example={e} />
              </details>
            </li>
          ))}
        </ol>
      )}
    </section>
  )
}

function Result({ a, b, metric, dataset, lowerIsBetter }: { a: string; b: string; metric: string; dataset: string; lowerIsBetter: boolean }) {
  const loaded = useData(JSON.stringify([a, b, metric, dataset, lowerIsBetter]), () =>
    getJson<{ comparison: Comparison; detail: ComparisonDetail }>('/api/v1/compare/detail', { a, b, metric, dataset, lowerIsBetter: lowerIsBetter ? 'true' : undefined }),
  )
  if (loaded.state === 'loading') return <p role="status">Comparing…</p>
  if (loaded.state === 'error') return <ErrorNote error={loaded.error} />
  const { comparison: c, detail } = loaded.data
  const level = `${Math.round(c.confidenceLevel * 100)}%`
  const sizes = c.sampleSizes
  const seedsOf = (s: Comparison['a']) => [...new Set(s.seeds)].join(', ')
  return (
    <>
      <section aria-labelledby="verdict" class="comparison">
        <h2 id="verdict" class={`verdict ${c.verdict}`}>
          {VERDICT[c.verdict]}
        </h2>
        <p>{c.decision.reason}</p>
        <dl class="pairs">
          <div>
            <dt>Estimate (A − B) of {c.metric}</dt>
            <dd>{fmt(c.estimate)}</dd>
          </div>
          <div>
            <dt>{level} interval</dt>
            <dd>{c.ci === null ? 'none (identical sides)' : `[${fmt(c.ci[0])}, ${fmt(c.ci[1])}]`}</dd>
          </div>
          <div>
            <dt>p-value</dt>
            <dd>
              <span class="p-value">{fmtP(c.pValue)}</span> ({c.method})
            </dd>
          </div>
          <div>
            <dt>Sample sizes</dt>
            <dd>
              A {sizes.a}, B {sizes.b}
              {c.mode === 'replicate-groups' || c.mode === 'two-level' ? ' runs' : ''}
              {sizes.pairs !== null ? `, ${sizes.pairs} pairs` : ''}
              {sizes.examples !== undefined ? `, ${sizes.examples} examples every run scored` : ''}
              {sizes.lostA + sizes.lostB > 0 ? ` (unpaired: ${sizes.lostA} of A, ${sizes.lostB} of B)` : ''}
            </dd>
          </div>
          <div>
            <dt>Means</dt>
            <dd>
              A {fmt(c.a.mean)}, B {fmt(c.b.mean)} ({c.higherIsBetter ? 'higher' : 'lower'} is better)
            </dd>
          </div>
          <div>
            <dt>Mode</dt>
            <dd>
              {c.mode}, {c.resamples} resamples, seed {c.seed}
              {c.dataset !== null ? `, dataset ${c.dataset}` : ''}
            </dd>
          </div>
          <div>
            <dt>Side A</dt>
            <dd>
              {c.resolvedAs.a}: <RunLinks ids={c.a.runIds} /> · seeds {seedsOf(c.a)} · data <Sha sha={c.a.datasetSha256} />
            </dd>
          </div>
          <div>
            <dt>Side B</dt>
            <dd>
              {c.resolvedAs.b}: <RunLinks ids={c.b.runIds} /> · seeds {seedsOf(c.b)} · data <Sha sha={c.b.datasetSha256} />
            </dd>
          </div>
        </dl>
        <h3>Warnings</h3>
        {c.warnings.length === 0 ? (
          <p class="hint">none</p>
        ) : (
          <ul class="warnings">
            {c.warnings.map((w, i) => (
              <li key={i}>
                <strong>{w.code}</strong>: {w.message}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="forest-title">
        <h2 id="forest-title">Forest plot</h2>
        <figure class="chart">
          <ForestPlot
            title={`${c.metric}: each run and side, mean with ${level} interval`}
            xLabel={c.metric}
            reference={null}
            rows={detail.forest.map((r) => ({ label: r.label, estimate: r.estimate, ci: r.ci, emphasis: r.kind === 'pooled' }))}
          />
          <ForestPlot title={`Difference A − B in ${c.metric} with ${level} interval`} xLabel={`${c.metric}: A − B`} rows={[{ label: `A − B (${c.mode})`, estimate: c.estimate, ci: c.ci, emphasis: true }]} />
          <figcaption>Squares are estimates, lines their intervals; pooled rows are each side over its runs. The difference is the comparison's own ({c.method}).</figcaption>
        </figure>
        <table class="forest-table">
          <caption>Forest plot rows</caption>
          <thead>
            <tr>
              <th scope="col">row</th>
              <th scope="col">runs</th>
              <th scope="col">seeds</th>
              <th scope="col">dataset sha256</th>
              <th scope="col">n</th>
              <th scope="col">mean</th>
              <th scope="col">{level} interval</th>
            </tr>
          </thead>
          <tbody>
            {detail.forest.map((r, i) => (
              <tr key={i} class={r.kind}>
                <th scope="row">{r.label}</th>
                <td>
                  <RunLinks ids={r.runIds} />
                </td>
                <td>{r.seeds.join(', ')}</td>
                <td>
                  <Sha sha={r.datasetSha256} />
                </td>
                <td class="num">{r.n}</td>
                <td class="num">{fmt(r.estimate)}</td>
                <td>{r.ci === null ? 'none' : `[${fmt(r.ci[0])}, ${fmt(r.ci[1])}]`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="histogram-title">
        <h2 id="histogram-title">Paired differences</h2>
        {detail.differences === null ? (
          <p class="hint">No per-example differences: {detail.differencesNote}.</p>
        ) : (
          <figure class="chart">
            <DifferenceHistogram bins={detail.differences.histogram.bins} title={`Per-example differences in ${c.metric} (A − B)`} xLabel="A − B per example" />
            <figcaption class="histogram-caption">
              {detail.differences.n} differences: {detail.differences.what}. Runs: <RunLinks ids={[...c.a.runIds, ...c.b.runIds]} />; data <Sha sha={c.a.datasetSha256} />.
            </figcaption>
          </figure>
        )}
      </section>
      <section aria-labelledby="examples-title">
        <h2 id="examples-title">Examples that moved most</h2>
        <p class="hint">Open an example to see every run's eval record of it, side by side, as stored.</p>
        <Examples title="Regressed most" id="regressed-title" examples={detail.regressed} />
        <Examples title="Improved most" id="improved-title" examples={detail.improved} />
      </section>
    </>
  )
}

/** Two runs or two groups compared on one metric (GET /api/v1/compare/detail). */
export function CompareView({ route }: { route: Route }) {
  const q = route.query
  const a = q.get('a') ?? ''
  const b = q.get('b') ?? ''
  const metric = q.get('metric') ?? ''
  const dataset = q.get('dataset') ?? ''
  const lowerIsBetter = q.get('lowerIsBetter') === 'true'
  const [draft, setDraft] = useState({ a, b, metric, dataset, lowerIsBetter })
  return (
    <section aria-labelledby="compare-title">
      <h1 id="compare-title">Compare</h1>
      <p class="hint">
        A side is a run id (or a prefix of 6+ characters), several ids separated by commas, <code>config:FINGERPRINT</code> (the finished runs of one configuration: its seeds) or <code>filter:EXPRESSION</code> (the filter grammar of Runs).
      </p>
      <form
        class="controls"
        onSubmit={(e) => {
          e.preventDefault()
          location.hash = href(['compare'], { a: draft.a.trim(), b: draft.b.trim(), metric: draft.metric.trim(), dataset: draft.dataset.trim(), lowerIsBetter: draft.lowerIsBetter ? 'true' : undefined })
        }}
      >
        <label>
          A: run or group <input name="a" size={36} value={draft.a} onInput={(e) => setDraft({ ...draft, a: e.currentTarget.value })} />
        </label>
        <label>
          B: run or group <input name="b" size={36} value={draft.b} onInput={(e) => setDraft({ ...draft, b: e.currentTarget.value })} />
        </label>
        <label>
          Metric <input name="metric" size={16} value={draft.metric} onInput={(e) => setDraft({ ...draft, metric: e.currentTarget.value })} />
        </label>
        <label>
          Dataset (optional) <input name="dataset" size={12} value={draft.dataset} onInput={(e) => setDraft({ ...draft, dataset: e.currentTarget.value })} />
        </label>
        <label>
          <input type="checkbox" name="lowerIsBetter" checked={draft.lowerIsBetter} onChange={(e) => setDraft({ ...draft, lowerIsBetter: e.currentTarget.checked })} /> lower is better
        </label>
        <button type="submit">Compare</button>
      </form>
      {a !== '' && b !== '' && metric !== '' ? <Result a={a} b={b} metric={metric} dataset={dataset} lowerIsBetter={lowerIsBetter} /> : <p class="hint">Name two sides and a metric.</p>}
    </section>
  )
}
