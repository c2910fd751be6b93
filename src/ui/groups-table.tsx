import { useState } from 'preact/hooks'
import type { RunGroup, RunGroupsPage } from '../compare/run-group-types.js'
import { fmt, getJson } from './api.js'
import { ErrorNote } from './error-note.js'
import { href } from './route.js'
import { useData } from './use-data.js'

const GROUP_PAGE = 50
/** Groups drawn on one chart at most. */
const MAX_PICKED_GROUPS = 6

/** A group as the charts view names it in its URL: its label and its (first 100) run ids. */
export interface ChartedGroup {
  label: string
  runs: string[]
}

function interval(ci: [number, number] | null): string {
  return ci === null ? 'no interval' : `[${fmt(ci[0])}, ${fmt(ci[1])}]`
}

/** The runs of the listing grouped on the server (GET /api/v1/run-groups): N, and per metric the mean with its interval. */
export function GroupsTable({ filter, groupBy, metrics, cursor, pageHref }: { filter: string; groupBy: string; metrics: string[]; cursor: string; pageHref: (cursor: string | undefined) => string }) {
  const [picked, setPicked] = useState<RunGroup[]>([])
  const query = { filter, groupBy, metrics: metrics.join(','), cursor, limit: String(GROUP_PAGE) }
  const loaded = useData(JSON.stringify(query), () => getJson<RunGroupsPage>('/api/v1/run-groups', query))
  if (loaded.state === 'loading') return <p role="status">Grouping runs…</p>
  if (loaded.state === 'error') return <ErrorNote error={loaded.error} />
  const page = loaded.data
  const level = `${Math.round(page.confidenceLevel * 1000) / 10}%`
  const charted: ChartedGroup[] = picked.map((g) => ({ label: g.label, runs: g.runs.map((r) => r.id) }))
  return (
    <>
      <p class="method">
        Groups hold finished runs. Each mean is over the group's runs (the last value of each run) with its {level} Student t interval over runs, the method <code>assay compare --group-by</code> uses for a seed group;
        minimum and maximum are not shown. {metrics.length === 0 ? 'Add metrics.KEY columns to see their means.' : ''}
      </p>
      <p>
        {picked.length > 0 ? (
          <a class="button" href={href(['charts'], { groups: JSON.stringify(charted) })}>
            Chart the {picked.length} picked group{picked.length === 1 ? '' : 's'}
          </a>
        ) : (
          <span class="hint">Pick groups to draw each as its mean with a confidence band.</span>
        )}
      </p>
      <table class="runs groups">
        <caption>
          {page.groupCount} groups of {page.runsGrouped} finished runs by {page.groupBy}
          {filter !== '' ? ` matching ${filter}` : ''}
          {page.groups.length < page.groupCount ? ` (${page.groups.length} on this page)` : ''}
        </caption>
        <thead>
          <tr>
            <th scope="col">Pick</th>
            <th scope="col">Group</th>
            <th scope="col">N</th>
            {page.metrics.map((m) => (
              <th scope="col" key={m}>
                metrics.{m}: mean [{level} interval]
              </th>
            ))}
            <th scope="col">Runs and seeds</th>
          </tr>
        </thead>
        <tbody>
          {page.groups.map((group) => {
            const ids = group.runs.map((r) => r.id).join(',')
            return (
              <tr key={group.key}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`pick group ${group.label}`}
                    checked={picked.some((g) => g.key === group.key)}
                    onChange={(e) => setPicked(e.currentTarget.checked ? [...picked, group].slice(-MAX_PICKED_GROUPS) : picked.filter((g) => g.key !== group.key))}
                  />
                </td>
                <th scope="row">{group.label}</th>
                <td class="num">
                  {group.filter !== null ? (
                    <a href={href(['runs'], { filter: group.filter })} aria-label={`the ${group.n} runs of group ${group.label}`}>
                      {group.n}
                    </a>
                  ) : (
                    group.n
                  )}
                </td>
                {group.metrics.map((m) => (
                  <td class="num" key={m.key} data-metric={m.key}>
                    {m.mean === null ? (
                      'no values'
                    ) : (
                      <a href={href(['variance'], { runs: ids, metric: m.key })} aria-label={`${fmt(m.mean)} ${interval(m.ci)}: per-seed values of ${m.key} in group ${group.label}`}>
                        {fmt(m.mean)} {interval(m.ci)}
                      </a>
                    )}
                    {m.n !== group.n ? ` (n = ${m.n})` : ''}
                  </td>
                ))}
                <td>
                  <details>
                    <summary>
                      {group.runs.length < group.n ? `first ${group.runs.length} of ${group.n}` : `${group.n}`} run{group.n === 1 ? '' : 's'}
                    </summary>
                    <ul class="run-list">
                      {group.runs.map((r) => (
                        <li key={r.id}>
                          <a href={href(['run', r.id])}>{r.name}</a> <code class="id">{r.id.slice(0, 8)}</code> seed {r.seed}
                        </li>
                      ))}
                    </ul>
                  </details>
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
      <nav class="pager" aria-label="pages of groups">
        {cursor !== '' && <a href={pageHref(undefined)}>First page</a>}
        {page.nextCursor !== null && <a href={pageHref(page.nextCursor)}>Next page</a>}
      </nav>
    </>
  )
}
