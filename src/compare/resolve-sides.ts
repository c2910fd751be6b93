import { AssayError } from '../errors.js'
import type { RunRecord, RunSummary } from '../record/types.js'
import { formatFilterKey, formatFilterLiteral, parseRunFilter } from '../store/run-filter.js'
import { allPages } from '../store/pages.js'
import { PAGE_SIZE, type Store } from '../store/store.js'

/**
 * Side specs (docs/compare.md):
 *   RUN                      a run id or unique prefix (one run; --group-by expands it)
 *   RUN1,RUN2,...            a group of runs
 *   config:<prefix>          every finished run whose config fingerprint starts with <prefix>
 *   filter:<expression>      every run the run filter matches (grammar in docs/cli.md)
 */

export type GroupBy = { by: 'config' } | { by: 'params'; keys: string[] }

export interface ResolvedSide {
  /** What the user named. */
  label: string
  /** The runs, oldest first for expansions, in the given order for id lists. */
  runs: RunRecord[]
  /** How the runs were found, in words. */
  how: string
  /** The spec asked for a group (config:, filter:, a --group-by expansion), whatever its size. */
  asGroup?: boolean
}

/**
 * Each grouping key becomes one join on run_params in the SQL backends, and SQLite refuses a
 * join of more than 64 tables; a grouping by more keys than this is no reading anyone asked for.
 */
export const MAX_GROUP_BY_KEYS = 10

/** "config" or "params.k1,params.k2" (also "params.k1,k2"); repeated keys count once. */
export function parseGroupBy(text: string): GroupBy {
  const value = text.trim()
  if (value === '' || value === 'config') return { by: 'config' }
  const keys = value.split(',').map((k) => k.trim()).filter((k) => k.length > 0).map((k) => (k.startsWith('params.') ? k.slice('params.'.length) : k))
  if (keys.length === 0 || keys.some((k) => k.length === 0)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `--group-by must be "config" or "params.KEY[,params.KEY]", got ${JSON.stringify(text)}`)
  }
  return checkGroupBy({ by: 'params', keys })
}

/** The grouping with each key once, refused past MAX_GROUP_BY_KEYS keys: every path that groups runs goes through here. */
export function checkGroupBy(groupBy: GroupBy): GroupBy {
  if (groupBy.by === 'config') return groupBy
  const keys = [...new Set(groupBy.keys)]
  if (keys.length === 0) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'a grouping by params needs at least one key', { field: 'groupBy' })
  if (keys.length > MAX_GROUP_BY_KEYS) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `at most ${MAX_GROUP_BY_KEYS} params to group by, got ${keys.length}`, { field: 'groupBy' })
  }
  return { by: 'params', keys }
}

function sameJson(x: unknown, y: unknown): boolean {
  return JSON.stringify(x) === JSON.stringify(y)
}

async function runsOf(store: Store, summaries: RunSummary[]): Promise<RunRecord[]> {
  const out: RunRecord[] = []
  for (const s of summaries) out.push(await store.getRun(s.id))
  return out
}

/**
 * Resolve one side spec to its runs. Throws ASSAY_RUN_NOT_FOUND when it names no run. With
 * `experiments` (a caller limited to some), config: and filter: look only at runs of those
 * experiments: other runs are simply not in the group, and nothing about them decides the answer.
 */
export async function resolveSide(store: Store, spec: string, options: { groupBy?: GroupBy | null; experiments?: readonly string[] } = {}): Promise<ResolvedSide> {
  const experiments = options.experiments
  const listRuns = (filter: string): Promise<RunSummary[]> =>
    experiments === undefined ? store.listRuns({ filter }) : allPages((cursor) => store.listRunsPage({ filter, experiments, limit: PAGE_SIZE.max, cursor }), (page) => page.runs)
  if (typeof spec !== 'string' || spec.trim() === '') throw new AssayError('ASSAY_INVALID_ARGUMENT', 'a side must be a run id, a comma-separated list of run ids, config:<fingerprint> or filter:<expression>')
  const text = spec.trim()
  if (text.startsWith('config:')) {
    const prefix = text.slice('config:'.length).trim()
    if (prefix.length < 4) throw new AssayError('ASSAY_INVALID_ARGUMENT', `config:<prefix> needs at least 4 characters of the config fingerprint, got ${JSON.stringify(prefix)}`)
    // Fingerprints are hex: a prefix of anything else matches nothing (and needs no quoting).
    const candidates = /^[0-9a-f]+$/.test(prefix) ? await listRuns(`config ~ '${prefix}' and status = 'finished'`) : []
    const matched = candidates.filter((r) => r.configFingerprint.startsWith(prefix))
    if (matched.length === 0) throw new AssayError('ASSAY_RUN_NOT_FOUND', `no finished run has a config fingerprint starting with ${prefix}`, { spec: text })
    const fingerprints = new Set(matched.map((r) => r.configFingerprint))
    if (fingerprints.size > 1) throw new AssayError('ASSAY_INVALID_ARGUMENT', `config prefix ${prefix} is ambiguous: it matches ${fingerprints.size} fingerprints; give more characters`)
    return { label: text, runs: await runsOf(store, matched), how: `finished runs with config fingerprint ${[...fingerprints][0] as string}`, asGroup: true }
  }
  if (text.startsWith('filter:')) {
    const filter = text.slice('filter:'.length)
    parseRunFilter(filter)
    const matched = await listRuns(filter)
    if (matched.length === 0) throw new AssayError('ASSAY_RUN_NOT_FOUND', `no run matches the filter ${JSON.stringify(text.slice('filter:'.length).trim())}`, { spec: text })
    return { label: text, runs: await runsOf(store, matched), how: 'runs matching the filter', asGroup: true }
  }
  const ids = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  const resolved: string[] = []
  for (const id of ids) {
    const full = await store.resolveRunId(id)
    if (!resolved.includes(full)) resolved.push(full)
  }
  if (resolved.length > 1) {
    const runs: RunRecord[] = []
    for (const id of resolved) runs.push(await store.getRun(id))
    return { label: text, runs, how: 'the listed runs', asGroup: true }
  }
  const run = await store.getRun(resolved[0] as string)
  const groupBy = options.groupBy === undefined || options.groupBy === null ? null : checkGroupBy(options.groupBy)
  if (groupBy === null) return { label: text, runs: [run], how: 'one run' }
  const all = await store.listRuns({ experiment: run.experiment, filter: groupFilter(run, groupBy) })
  let matched: RunSummary[]
  let how: string
  if (groupBy.by === 'config') {
    matched = all.filter((r) => r.configFingerprint === run.envelope.config)
    how = `finished runs of experiment ${run.experiment} with the config fingerprint of ${run.id.slice(0, 8)} (${run.envelope.config.slice(0, 12)}; they differ only by seed)`
  } else {
    matched = all.filter((r) => groupBy.keys.every((k) => k in r.params === k in run.params && sameJson(r.params[k], run.params[k])))
    how = `finished runs of experiment ${run.experiment} with the same ${groupBy.keys.map((k) => `params.${k}`).join(', ')} as ${run.id.slice(0, 8)}`
  }
  matched = matched.filter((r) => r.status === 'finished' || r.id === run.id)
  return { label: text, runs: await runsOf(store, matched), how, asGroup: true }
}

/**
 * The group of a --group-by expansion as a filter, so the store lists only those runs: finished
 * (or the run itself), with the run's config fingerprint or its values of the grouping params
 * that are numbers, text, true, false or null (other params, and params the run lacks, are
 * matched after).
 */
function groupFilter(run: RunRecord, groupBy: GroupBy): string {
  const conditions = [`(status = 'finished' or id = '${run.id}')`]
  if (groupBy.by === 'config') conditions.push(`config = ${formatFilterLiteral(run.envelope.config)}`)
  else {
    for (const key of groupBy.keys) {
      const value = run.params[key]
      if (!Object.hasOwn(run.params, key) || (value !== null && typeof value === 'object')) continue
      conditions.push(`params.${formatFilterKey(key)} = ${formatFilterLiteral(value)}`)
    }
  }
  // A filter is at most 4096 characters: conditions past that are matched after.
  const kept: string[] = []
  for (const c of conditions) if ([...kept, c].join(' and ').length <= 4000) kept.push(c)
  return kept.join(' and ')
}
