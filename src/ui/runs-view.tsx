import { useEffect, useState } from 'preact/hooks'
import type { RunSummary } from '../record/types.js'
import { fmt, getJson, time, type WireNumber } from './api.js'
import { href, type Route } from './route.js'
import { ErrorNote } from './error-note.js'
import { GroupsTable } from './groups-table.js'
import { useData } from './use-data.js'

type WireRun = Omit<RunSummary, 'metrics'> & { metrics: Record<string, WireNumber> }

const PAGE = 50
/** Runs drawn on one chart at most (each is its own line). */
const MAX_PICKED = 8

/** Runs: filtered, ordered and paged by the server (GET /api/v1/runs), columns chosen by the reader. */
export function RunsView({ route }: { route: Route }) {
  const q = route.query
  const filter = q.get('filter') ?? ''
  const orderBy = q.get('orderBy') ?? ''
  const columns = (q.get('columns') ?? '').split(',').map((c) => c.trim()).filter((c) => /^(params|metrics)\.\S+$/.test(c))
  const cursor = q.get('cursor') ?? ''
  const groupBy = q.get('groupBy') ?? ''
  const state = { filter, orderBy, columns: columns.join(','), groupBy, cursor }
  const go = (change: Partial<typeof state>): void => {
    location.hash = href(['runs'], { ...state, cursor: undefined, ...change })
  }
  const [draft, setDraft] = useState({ filter, orderBy, columns: columns.join(', '), groupBy })
  const [picked, setPicked] = useState<string[]>([])
  const loaded = useData<{ runs: WireRun[]; nextCursor: string | null }>(JSON.stringify(state), () => groupBy !== '' ? Promise.resolve({ runs: [], nextCursor: null }) : getJson<{ runs: WireRun[]; nextCursor: string | null }>('/api/v1/runs', { filter, orderBy, cursor, limit: String(PAGE) }))
  // The table is drawn afresh in the new order: focus then returns to the header that was pressed, so the keyboard stays where it was.
  const [refocus, setRefocus] = useState<{ key: string; orderBy: string } | null>(null)
  useEffect(() => {
    if (refocus === null || refocus.orderBy !== orderBy || loaded.state !== 'ready') return
    document.querySelector<HTMLButtonElement>(`button.sort[data-key="${CSS.escape(refocus.key)}"]`)?.focus()
    setRefocus(null)
  }, [refocus, orderBy, loaded.state])
  const sortBy = (key: string): void => {
    const [current, dir] = orderBy.split(/\s+/)
    const next = current === key && dir !== 'desc' ? `${key} desc` : `${key} asc`
    setRefocus({ key, orderBy: next })
    go({ orderBy: next })
  }
  const sortMark = (key: string): 'ascending' | 'descending' | undefined => {
    const [current, dir] = orderBy.split(/\s+/)
    if (current !== key) return undefined
    return dir === 'desc' ? 'descending' : 'ascending'
  }
  const header = (key: string, label: string) => (
    <th scope="col" aria-sort={sortMark(key) ?? 'none'}>
      <button type="button" class="sort" data-key={key} onClick={() => sortBy(key)}>
        {label}
        {sortMark(key) === 'ascending' ? ' ▲' : sortMark(key) === 'descending' ? ' ▼' : ''}
      </button>
    </th>
  )
  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      <form
        class="controls"
        onSubmit={(e) => {
          e.preventDefault()
          go({ filter: draft.filter.trim(), orderBy: draft.orderBy.trim(), groupBy: draft.groupBy.trim(), columns: draft.columns.split(',').map((c) => c.trim()).filter((c) => c !== '').join(',') })
        }}
      >
        <label>
          Filter <input name="filter" size={48} value={draft.filter} placeholder="metrics.accuracy > 0.9 and params.lr = 0.01" onInput={(e) => setDraft({ ...draft, filter: e.currentTarget.value })} />
        </label>
        <label>
          Order by <input name="orderBy" size={24} value={draft.orderBy} placeholder="metrics.loss asc" onInput={(e) => setDraft({ ...draft, orderBy: e.currentTarget.value })} />
        </label>
        <label>
          Columns <input name="columns" size={32} value={draft.columns} placeholder="params.lr, metrics.loss" onInput={(e) => setDraft({ ...draft, columns: e.currentTarget.value })} />
        </label>
        <label>
          Group by <input name="groupBy" size={24} value={draft.groupBy} placeholder="config or params.lr,params.layers" onInput={(e) => setDraft({ ...draft, groupBy: e.currentTarget.value })} />
        </label>
        <button type="submit">Apply</button>
      </form>
      {groupBy !== '' ? (
        <GroupsTable filter={filter} groupBy={groupBy} metrics={columns.filter((c) => c.startsWith('metrics.')).map((c) => c.slice('metrics.'.length))} cursor={cursor} pageHref={(next) => href(['runs'], { ...state, cursor: next })} />
      ) : (
      <>
      <p>
        {picked.length >= 1 && (
          <>
            <a class="button" href={href(['charts'], { runs: picked.join(',') })}>
              Chart the {picked.length} picked run{picked.length === 1 ? '' : 's'}
            </a>{' '}
          </>
        )}
        {picked.length === 2 ? (
          <a class="button" href={href(['compare'], { a: picked[0], b: picked[1] })}>
            Compare the two picked runs
          </a>
        ) : (
          <span class="hint">Pick two runs to compare them, or runs to draw on one chart.</span>
        )}
      </p>
      {loaded.state === 'loading' && <p role="status">Loading runs…</p>}
      {loaded.state === 'error' && <ErrorNote error={loaded.error} />}
      {loaded.state === 'ready' && (
        <>
          <table class="runs">
            <caption>
              {loaded.data.runs.length} runs on this page{filter !== '' ? ` matching ${filter}` : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">Pick</th>
                {header('name', 'Name')}
                <th scope="col">Experiment</th>
                <th scope="col">Status</th>
                {header('start_time', 'Started')}
                <th scope="col">Seed</th>
                {columns.map((c) => header(c, c))}
              </tr>
            </thead>
            <tbody>
              {loaded.data.runs.map((run) => (
                <tr key={run.id}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`pick run ${run.name} (${run.id.slice(0, 8)})`}
                      checked={picked.includes(run.id)}
                      onChange={(e) => setPicked(e.currentTarget.checked ? [...picked, run.id].slice(-MAX_PICKED) : picked.filter((p) => p !== run.id))}
                    />
                  </td>
                  <td>
                    <a href={href(['run', run.id])}>{run.name}</a> <code class="id">{run.id.slice(0, 8)}</code>
                  </td>
                  <td>{run.experiment}</td>
                  <td>
                    <span class={`status ${run.status}`}>{run.status}</span>
                  </td>
                  <td>{time(run.startTime)}</td>
                  <td>{run.seed}</td>
                  {columns.map((c) => (
                    <td key={c} class="num">
                      {c.startsWith('params.') ? String(run.params[c.slice(7)] ?? '') : fmt(run.metrics[c.slice(8)])}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          <nav class="pager" aria-label="pages of runs">
            {cursor !== '' && (
              <a href={href(['runs'], { ...state, cursor: undefined })}>
                First page
              </a>
            )}
            {loaded.data.nextCursor !== null && <a href={href(['runs'], { ...state, cursor: loaded.data.nextCursor })}>Next page</a>}
          </nav>
        </>
      )}
      </>
      )}
    </section>
  )
}
