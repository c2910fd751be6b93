import { useState } from 'preact/hooks'
import { fmt, fmtP, getJson, time } from './api.js'
import { DatasetHash } from './dataset-hash.js'
import { ErrorNote } from './error-note.js'
import { CriticalDifferenceDiagram, DifferenceHistogram, ForestPlot } from './figures.js'
import type { LeaderboardWire } from './leaderboard-wire.js'
import { href, type Route } from './route.js'
import { useData } from './use-data.js'

function RunLink({ id }: { id: string }) {
  return (
    <a href={href(['run', id])} title={id}>
      <code class="id">{id.slice(0, 8)}</code>
    </a>
  )
}

function Board({ l, b }: { l: LeaderboardWire; b: LeaderboardWire['boards'][number] }) {
  const level = `${Math.round(l.confidenceLevel * 100)}%`
  const top = b.entries[0]
  const titleId = `board-${b.dataset.name.replace(/[^A-Za-z0-9_-]/g, '_')}`
  return (
    <section aria-labelledby={titleId} class="board">
      <h2 id={titleId}>
        {b.dataset.name} ({b.dataset.role})
      </h2>
      <p>
        Dataset sha256 <DatasetHash sha={b.dataset.sha256} chars={64} />. Baseline {b.baseline.name} <RunLink id={b.baseline.runId} /> (seed {b.baseline.seed}, {b.baseline.rule}), mean {fmt(b.baseline.mean)} over {b.baseline.n} examples. {b.adjustment.hypotheses} hypotheses; {b.adjustment.method}.
      </p>
      <table class="leaderboard">
        <caption>Leaderboard on {b.dataset.name}</caption>
        <thead>
          <tr>
            <th scope="col">rank</th>
            <th scope="col">run</th>
            <th scope="col">name</th>
            <th scope="col">seed</th>
            <th scope="col">dataset sha256</th>
            <th scope="col">mean</th>
            <th scope="col">Δ vs baseline</th>
            <th scope="col">{level} interval</th>
            <th scope="col">p (raw)</th>
            <th scope="col">p ({l.adjustment})</th>
            <th scope="col">verdict</th>
            <th scope="col">test</th>
            <th scope="col">flags</th>
          </tr>
        </thead>
        <tbody>
          {b.entries.map((e) => (
            <tr key={e.runId}>
              <td class="num">{e.rank}</td>
              <td>
                <RunLink id={e.runId} />
              </td>
              <td>{e.name}</td>
              <td class="num">{e.seed}</td>
              <td>
                <DatasetHash sha={e.datasetSha256} />
              </td>
              <td class="num">{fmt(e.mean)}</td>
              <td class="num">{fmt(e.estimate)}</td>
              <td>{e.ci === null ? 'identical' : `[${fmt(e.ci[0])}, ${fmt(e.ci[1])}]`}</td>
              <td class="num p-raw">{fmtP(e.pValue)}</td>
              <td class="num p-adjusted">{fmtP(e.adjustedPValue)}</td>
              <td class={`verdict ${e.verdict}`}>{e.verdict}</td>
              <td class="method">{e.test.method}</td>
              <td>{[...new Set(e.warnings.map((w) => w.code))].join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <figure class="chart">
        <ForestPlot
          title={`${l.metric} on ${b.dataset.name}: each candidate − baseline ${b.baseline.name}`}
          xLabel={`${l.metric}: candidate − baseline`}
          rows={b.entries.map((e) => ({ label: `${e.name} (${e.runId.slice(0, 8)})`, estimate: e.estimate, ci: e.ci, emphasis: e.verdict !== 'inconclusive', note: `p ${fmtP(e.pValue)} / ${l.adjustment} ${fmtP(e.adjustedPValue)}` }))}
        />
        <figcaption>Differences from the baseline with their {level} intervals; highlighted: significant after adjustment.</figcaption>
      </figure>
      {top !== undefined && top.histogram.bins.length > 0 && (
        <figure class="chart">
          <DifferenceHistogram bins={top.histogram.bins} title={`Per-example differences: ${top.name} − ${b.baseline.name}`} xLabel={`${l.metric}: candidate − baseline per example`} />
          <figcaption>
            The top candidate's {top.pairs} paired differences: <RunLink id={top.runId} /> against <RunLink id={b.baseline.runId} /> on <DatasetHash sha={b.dataset.sha256} />.
          </figcaption>
        </figure>
      )}
      <h3>Holdout ledger</h3>
      {b.holdout.length === 0 ? (
        <p class="hint">The dataset is not a holdout or test set: no reads are counted.</p>
      ) : (
        <table>
          <caption>
            Holdout ledger reads of {b.dataset.name}
            {b.holdout.some((h) => h.view === 'readable experiments') ? ' (the reads by runs of the experiments this token may read; the count and the budget include the others)' : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">dataset version</th>
              <th scope="col">reads</th>
              <th scope="col">budget</th>
              <th scope="col">who</th>
              <th scope="col">latest reads</th>
            </tr>
          </thead>
          <tbody>
            {b.holdout.map((h) => (
              <tr key={h.datasetSha256}>
                <td>
                  <DatasetHash sha={h.datasetSha256} />
                </td>
                <td class="num holdout-reads">{h.reads}</td>
                <td class="num">
                  {h.budget}
                  {h.overBudget ? ' (over budget)' : ''}
                </td>
                <td>{h.actors.join(', ')}</td>
                <td>
                  {h.entries.slice(-3).map((x, i) => (
                    <div key={i}>
                      {x.actor} {time(x.at)} ({x.purpose})
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}

function Ranking({ l }: { l: LeaderboardWire }) {
  const rk = l.ranking
  if (rk === null) return null
  return (
    <section aria-labelledby="ranking-title">
      <h2 id="ranking-title">Across {rk.datasets.length} datasets</h2>
      <table>
        <caption>Average ranks (1 = best)</caption>
        <thead>
          <tr>
            <th scope="col">rank</th>
            <th scope="col">system</th>
            <th scope="col">runs</th>
            <th scope="col">average rank</th>
            {rk.datasets.map((d) => (
              <th scope="col" key={d.name}>
                {d.name} <DatasetHash sha={d.sha256} />
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rk.systems.map((s, i) => (
            <tr key={s.system}>
              <td class="num">{i + 1}</td>
              <td>{s.system}</td>
              <td>
                {s.runIds.map((id, k) => (
                  <span key={id}>
                    {k > 0 ? ' ' : ''}
                    <RunLink id={id} />
                  </span>
                ))}
              </td>
              <td class="num">{fmt(s.averageRank, 3)}</td>
              {s.means.map((m, j) => (
                <td class="num" key={j}>
                  {fmt(m)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        {rk.friedman === null ? `Friedman test not computed: ${rk.note ?? ''}.` : `Friedman χ² = ${fmt(rk.friedman.statistic)} (df ${rk.friedman.df}), p = ${fmtP(rk.friedman.pValue)}.`} Nemenyi critical difference {fmt(rk.nemenyi.criticalDifference, 3)} at α = {rk.alpha}.
      </p>
      <figure class="chart">
        <CriticalDifferenceDiagram
          title={`Critical-difference diagram: ${l.metric} over ${rk.datasets.length} datasets`}
          systems={rk.systems.map((s) => ({ name: s.system, averageRank: s.averageRank }))}
          criticalDifference={rk.nemenyi.criticalDifference}
          cliques={rk.cliques}
        />
        <figcaption>Average ranks (1 = best, left); the red bar is the critical difference; thick bars join systems not told apart.</figcaption>
      </figure>
    </section>
  )
}

function Result({ query }: { query: Record<string, string | undefined> }) {
  const loaded = useData(JSON.stringify(query), () => getJson<{ leaderboard: LeaderboardWire }>('/api/v1/leaderboard', query))
  if (loaded.state === 'loading') return <p role="status">Ranking…</p>
  if (loaded.state === 'error') return <ErrorNote error={loaded.error} />
  const l = loaded.data.leaderboard
  const warnings = [...new Map([...l.warnings, ...l.boards.flatMap((b) => b.warnings)].map((w) => [`${w.code}\u0000${w.message}`, w])).values()]
  const seeds = new Map(l.provenance.seeds.map((s) => [s.runId, s.seed]))
  return (
    <>
      <p>
        {l.metric}, {l.higherIsBetter ? 'higher' : 'lower'} is better. Each candidate against the baseline: {l.methods.binary}; {l.methods.continuous}. Interval: {l.methods.interval}. p-values adjusted with {l.adjustment}; significant below {l.alpha}.
      </p>
      {l.boards.map((b) => (
        <Board key={b.dataset.name} l={l} b={b} />
      ))}
      <Ranking l={l} />
      <section aria-labelledby="lb-warnings">
        <h2 id="lb-warnings">Warnings</h2>
        {warnings.length === 0 ? (
          <p class="hint">none</p>
        ) : (
          <ul class="warnings">
            {warnings.map((w, i) => (
              <li key={i}>
                <strong>{w.code}</strong>: {w.message}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="lb-provenance">
        <h2 id="lb-provenance">Provenance</h2>
        <p>
          Runs:{' '}
          {l.provenance.runIds.map((id) => (
            <span key={id}>
              <RunLink id={id} /> (seed {seeds.get(id) ?? '–'}){' '}
            </span>
          ))}
        </p>
        <p>
          Data:{' '}
          {l.provenance.datasets.map((d) => (
            <span key={`${d.name}${d.sha256}`}>
              {d.name} <DatasetHash sha={d.sha256} chars={64} />{' '}
            </span>
          ))}
        </p>
      </section>
    </>
  )
}

const FIELDS = [
  { key: 'dataset', label: 'Datasets (comma-separated)', size: 16 },
  { key: 'experiment', label: 'Experiment', size: 12 },
  { key: 'filter', label: 'Filter', size: 30 },
  { key: 'baseline', label: 'Baseline run', size: 12 },
  { key: 'metric', label: 'Metric', size: 10 },
] as const

/** assay leaderboard in the browser (GET /api/v1/leaderboard), its options in the URL. */
export function LeaderboardView({ route }: { route: Route }) {
  const q = route.query
  const query: Record<string, string | undefined> = {}
  for (const f of FIELDS) query[f.key] = q.get(f.key) ?? undefined
  query.adjust = q.get('adjust') ?? undefined
  query.lowerIsBetter = q.get('lowerIsBetter') === 'true' ? 'true' : undefined
  const [draft, setDraft] = useState<Record<string, string | undefined>>(query)
  const asked = Object.values(query).some((v) => v !== undefined && v !== '')
  return (
    <section aria-labelledby="leaderboard-title">
      <h1 id="leaderboard-title">Leaderboard</h1>
      <form
        class="controls"
        onSubmit={(e) => {
          e.preventDefault()
          const next: Record<string, string | undefined> = {}
          for (const [k, v] of Object.entries(draft)) next[k] = v?.trim()
          location.hash = href(['leaderboard'], next)
        }}
      >
        {FIELDS.map((f) => (
          <label key={f.key}>
            {f.label} <input name={f.key} size={f.size} value={draft[f.key] ?? ''} onInput={(e) => setDraft({ ...draft, [f.key]: e.currentTarget.value })} />
          </label>
        ))}
        <label>
          Adjustment
          <select name="adjust" value={draft.adjust ?? 'holm'} onChange={(e) => setDraft({ ...draft, adjust: e.currentTarget.value })}>
            <option value="holm">holm</option>
            <option value="BH">BH</option>
          </select>
        </label>
        <label>
          <input type="checkbox" name="lowerIsBetter" checked={draft.lowerIsBetter === 'true'} onChange={(e) => setDraft({ ...draft, lowerIsBetter: e.currentTarget.checked ? 'true' : undefined })} /> lower is better
        </label>
        <button type="submit">Rank</button>
      </form>
      {asked ? <Result query={query} /> : <p class="hint">Name a dataset or an experiment (a token limited to some experiments must name one of them).</p>}
    </section>
  )
}
