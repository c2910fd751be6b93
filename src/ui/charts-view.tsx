import { useState } from 'preact/hooks'
import type { MetricBand } from '../compare/run-group-types.js'
import type { RunRecord } from '../record/types.js'
import { fmt, getJson } from './api.js'
import type { MetricBuckets } from './chart.js'
import { ErrorNote } from './error-note.js'
import type { ChartedGroup } from './groups-table.js'
import { colourOf, OverlayChart, type ChartedBand, type ChartedRun } from './overlay-chart.js'
import { href, type Route } from './route.js'
import { useData } from './use-data.js'

/** Buckets per chart, as on a run's page. */
const BUCKETS = 300
/** Charts drawn when the URL names no keys: the first metric keys of the runs. */
const DEFAULT_KEYS = 12

function parseGroups(text: string | null): ChartedGroup[] {
  if (text === null || text === '') return []
  try {
    const parsed: unknown = JSON.parse(text)
    if (!Array.isArray(parsed)) return []
    return parsed.filter((g): g is ChartedGroup => typeof g === 'object' && g !== null && typeof (g as ChartedGroup).label === 'string' && Array.isArray((g as ChartedGroup).runs) && (g as ChartedGroup).runs.every((r) => typeof r === 'string'))
  } catch {
    return []
  }
}

interface Loaded {
  keys: string[]
  charts: { key: string; runs: ChartedRun[]; bands: ChartedBand[] }[]
}

async function load(runIds: string[], groups: ChartedGroup[], askedKeys: string[]): Promise<Loaded> {
  const records = await Promise.all(runIds.map((id) => getJson<{ run: RunRecord }>(`/api/v1/runs/${encodeURIComponent(id)}`).then((r) => r.run)))
  let keys = askedKeys
  if (keys.length === 0) {
    const firsts = await Promise.all(groups.filter((g) => g.runs.length > 0).map((g) => getJson<{ run: RunRecord }>(`/api/v1/runs/${encodeURIComponent(g.runs[0] as string)}`).then((r) => r.run)))
    keys = [...new Set([...records, ...firsts].flatMap((r) => r.metrics.map((m) => m.key)))].sort().slice(0, DEFAULT_KEYS)
  }
  const charts = await Promise.all(
    keys.map(async (key) => ({
      key,
      runs: await Promise.all(
        records.map(async (r) => ({ id: r.id, label: `${r.name} ${r.id.slice(0, 8)}`, buckets: await getJson<MetricBuckets>(`/api/v1/runs/${encodeURIComponent(r.id)}/metrics/buckets`, { key, buckets: String(BUCKETS) }) })),
      ),
      bands: await Promise.all(groups.map(async (g) => ({ label: g.label, band: await getJson<MetricBand>('/api/v1/run-groups/metric-band', { runs: g.runs.join(','), key, buckets: String(BUCKETS) }) }))),
    })),
  )
  return { keys, charts }
}

function widest(band: MetricBand): string {
  let best = -1
  let at = -1
  for (let i = 0; i < band.steps.length; i++) {
    const lo = band.lower[i]
    const hi = band.upper[i]
    if (lo !== null && lo !== undefined && hi !== null && hi !== undefined && hi - lo > best) {
      best = hi - lo
      at = i
    }
  }
  return at < 0 ? 'no interval (fewer than 2 runs per bucket, or all agree)' : `widest interval ${fmt(best)} at step ${band.steps[at]}`
}

/** Several runs and groups on one chart per metric key: #/charts?runs=ID,ID&groups=[{label,runs}]&keys=K,K. */
export function ChartsView({ route }: { route: Route }) {
  const q = route.query
  const runIds = (q.get('runs') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
  const groups = parseGroups(q.get('groups'))
  const askedKeys = (q.get('keys') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
  const [draft, setDraft] = useState(askedKeys.join(', '))
  const loaded = useData(JSON.stringify([runIds, groups, askedKeys]), () => load(runIds, groups, askedKeys))
  const nothing = runIds.length === 0 && groups.length === 0
  return (
    <section aria-labelledby="charts-title">
      <h1 id="charts-title">Charts</h1>
      {nothing ? (
        <p class="hint">
          Pick runs in the <a href={href(['runs'])}>runs table</a>, or groups in it grouped by config or params, to draw them on one chart per metric.
        </p>
      ) : (
        <form
          class="controls"
          onSubmit={(e) => {
            e.preventDefault()
            location.hash = href(['charts'], { runs: runIds.join(','), groups: groups.length > 0 ? JSON.stringify(groups) : undefined, keys: draft.split(',').map((k) => k.trim()).filter((k) => k !== '').join(',') })
          }}
        >
          <label>
            Metric keys <input name="keys" size={40} value={draft} placeholder="every key of the runs" onInput={(e) => setDraft(e.currentTarget.value)} />
          </label>
          <button type="submit">Draw</button>
        </form>
      )}
      {!nothing && loaded.state === 'loading' && <p role="status">Loading charts…</p>}
      {!nothing && loaded.state === 'error' && <ErrorNote error={loaded.error} />}
      {!nothing && loaded.state === 'ready' && (
        <div class="charts">
          {loaded.data.charts.map((chart) => (
            <figure class="chart wide" key={chart.key}>
              <OverlayChart metric={chart.key} runs={chart.runs} bands={chart.bands} />
              <figcaption>
                <strong>{chart.key}</strong>
                <ul class="legend">
                  {chart.runs.map((r, i) => (
                    <li key={r.id}>
                      <span class="swatch" style={{ background: colourOf(i) }} aria-hidden="true" /> run <a href={href(['run', r.id])}>{r.label}</a>: {r.buckets.points} points
                      {r.buckets.points > r.buckets.steps.length ? `, max and min of ${r.buckets.steps.length} buckets` : ''}
                    </li>
                  ))}
                  {chart.bands.map((b, j) => (
                    <li key={b.label}>
                      <span class="swatch" style={{ background: colourOf(chart.runs.length + j) }} aria-hidden="true" /> group {b.label}: mean of{' '}
                      <details class="inline">
                        <summary>{b.band.runIds.length} runs</summary>
                        <ul class="run-list">
                          {b.band.runIds.map((id, k) => (
                            <li key={id}>
                              <a href={href(['run', id])}>{id.slice(0, 8)}</a> ({b.band.points[k]} points)
                            </li>
                          ))}
                        </ul>
                      </details>{' '}
                      with its {Math.round(b.band.confidenceLevel * 100)}% band over {b.band.steps.length} buckets of steps; {widest(b.band)}
                    </li>
                  ))}
                </ul>
                {chart.bands.length > 0 && <p class="method">Band: {chart.bands[0]?.band.method}.</p>}
              </figcaption>
            </figure>
          ))}
        </div>
      )}
    </section>
  )
}
