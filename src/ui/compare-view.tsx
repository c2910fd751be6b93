import { useState } from 'preact/hooks'
import type { Comparison } from '../compare/comparison-types.js'
import { fmt, fmtP, getJson } from './api.js'
import { ErrorNote } from './error-note.js'
import { href, type Route } from './route.js'
import { useData } from './use-data.js'

const VERDICT: Record<Comparison['verdict'], string> = {
  better: 'A is better than B',
  worse: 'A is worse than B',
  equivalent: 'A and B are equivalent within the margin',
  inconclusive: 'Inconclusive: the data cannot tell A and B apart',
}

function Result({ a, b, metric, lowerIsBetter }: { a: string; b: string; metric: string; lowerIsBetter: boolean }) {
  const loaded = useData(JSON.stringify([a, b, metric, lowerIsBetter]), () =>
    getJson<{ comparison: Comparison }>('/api/v1/compare', { a, b, metric, lowerIsBetter: lowerIsBetter ? 'true' : undefined }),
  )
  if (loaded.state === 'loading') return <p role="status">Comparing…</p>
  if (loaded.state === 'error') return <ErrorNote error={loaded.error} />
  const c = loaded.data.comparison
  const level = `${Math.round(c.confidenceLevel * 100)}%`
  return (
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
            {fmtP(c.pValue)} ({c.method})
          </dd>
        </div>
        <div>
          <dt>Sample sizes</dt>
          <dd>
            A {c.sampleSizes.a}, B {c.sampleSizes.b}
            {c.sampleSizes.pairs !== null ? `, ${c.sampleSizes.pairs} pairs` : ''}
            {c.sampleSizes.lostA + c.sampleSizes.lostB > 0 ? ` (unpaired: ${c.sampleSizes.lostA} of A, ${c.sampleSizes.lostB} of B)` : ''}
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
          <dt>Runs</dt>
          <dd>
            A: {c.a.runIds.map((id) => <a key={id} href={href(['run', id])}>{id.slice(0, 8)} </a>)}
            {c.a.datasetSha256 !== null ? <code>sha256 {c.a.datasetSha256.slice(0, 12)}</code> : null} · B:{' '}
            {c.b.runIds.map((id) => <a key={id} href={href(['run', id])}>{id.slice(0, 8)} </a>)}
            {c.b.datasetSha256 !== null ? <code>sha256 {c.b.datasetSha256.slice(0, 12)}</code> : null}
          </dd>
        </div>
      </dl>
      <h3>Warnings</h3>
      {c.warnings.length === 0 ? (
        <p class="hint">none</p>
      ) : (
        <ul class="warnings">
          {c.warnings.map((w) => (
            <li key={w.code}>
              <strong>{w.code}</strong>: {w.message}
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}

/** Two runs compared on one metric with the server's compare (GET /api/v1/compare). */
export function CompareView({ route }: { route: Route }) {
  const q = route.query
  const a = q.get('a') ?? ''
  const b = q.get('b') ?? ''
  const metric = q.get('metric') ?? ''
  const lowerIsBetter = q.get('lowerIsBetter') === 'true'
  const [draft, setDraft] = useState({ a, b, metric, lowerIsBetter })
  return (
    <section aria-labelledby="compare-title">
      <h1 id="compare-title">Compare two runs</h1>
      <form
        class="controls"
        onSubmit={(e) => {
          e.preventDefault()
          location.hash = href(['compare'], { a: draft.a.trim(), b: draft.b.trim(), metric: draft.metric.trim(), lowerIsBetter: draft.lowerIsBetter ? 'true' : undefined })
        }}
      >
        <label>
          Run A <input name="a" size={36} value={draft.a} onInput={(e) => setDraft({ ...draft, a: e.currentTarget.value })} />
        </label>
        <label>
          Run B <input name="b" size={36} value={draft.b} onInput={(e) => setDraft({ ...draft, b: e.currentTarget.value })} />
        </label>
        <label>
          Metric <input name="metric" size={16} value={draft.metric} onInput={(e) => setDraft({ ...draft, metric: e.currentTarget.value })} />
        </label>
        <label>
          <input type="checkbox" name="lowerIsBetter" checked={draft.lowerIsBetter} onChange={(e) => setDraft({ ...draft, lowerIsBetter: e.currentTarget.checked })} /> lower is better
        </label>
        <button type="submit">Compare</button>
      </form>
      {a !== '' && b !== '' && metric !== '' ? <Result a={a} b={b} metric={metric} lowerIsBetter={lowerIsBetter} /> : <p class="hint">Name two runs and a metric.</p>}
    </section>
  )
}
