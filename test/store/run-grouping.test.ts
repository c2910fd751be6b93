import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import type { JsonValue } from '../../src/record/types.js'
import { groupRunsFromPages } from '../../src/store/run-grouping.js'
import type { RunGroupPage, RunGroupPageQuery, RunGrouping, Store, StoredRunGroup } from '../../src/store/store.js'
import { STORE_BACKENDS, type OpenedStore } from './backends.js'
import { newRun, series } from './fixtures.js'

/**
 * Grouping in the database (SqlStore.groupRunsPage) answers what grouping the listed runs in
 * memory does (groupRunsFromPages, Welford's moments): the same keys in the same order, N, first
 * runs, and per metric the count, mean, variance, range and non-finite count, over runs whose
 * params hold values that could be confused (a missing param and a null one, numbers and numeric
 * text, objects, text above U+FFFF) and last values NaN and ±Infinity; page after page by key.
 */

const TEXTS = ['', 'a', 'b', '1', '1.5', "it's", 'é', '\uE000', '😀', '\u{10000}x']
const PARAM_VALUES: JsonValue[] = [0, 1, 1.5, 0.01, 1e300, -7, ...TEXTS, true, false, null, [1], { a: 1, b: [2] }]
const METRIC_VALUES = [0, 0.5, 0.8, 0.81, 1, -1, 1e-300, 1e9 + 0.1, NaN, Infinity, -Infinity]

interface RunSpec {
  params: Record<string, JsonValue>
  metrics: Record<string, number>
  status: 'running' | 'finished' | 'failed'
  seed: number
}

const runSpec: fc.Arbitrary<RunSpec> = fc.record({
  params: fc.dictionary(fc.constantFrom('lr', 'opt', 'odd key'), fc.constantFrom(...PARAM_VALUES), { maxKeys: 3 }),
  metrics: fc.dictionary(fc.constantFrom('acc', 'loss'), fc.constantFrom(...METRIC_VALUES), { maxKeys: 2 }),
  status: fc.constantFrom('running' as const, 'finished' as const, 'finished' as const, 'failed' as const),
  seed: fc.integer({ min: 0, max: 1000 }),
})
const SPECS = fc.sample(fc.array(runSpec, { minLength: 120, maxLength: 120 }), { numRuns: 1, seed: 15 })[0] as RunSpec[]

async function storeRuns(store: Store): Promise<void> {
  for (const [i, spec] of SPECS.entries()) {
    // Few distinct params, so groups hold several runs.
    const params = Object.fromEntries(Object.entries(spec.params).filter(([, v]) => i % 4 !== 0 || typeof v !== 'object'))
    const run = newRun({ experiment: i % 3 === 0 ? 'exp-b' : 'exp-a', name: `run ${i}`, params, seed: spec.seed, startTime: 1_700_000_000_000 + (i % 7) * 1000 })
    await store.createRun(run)
    const metrics = Object.entries(spec.metrics).map(([key, value]) => series(key, [[0, 0.25], [1, value + (i % 5) / 10]]))
    if (metrics.length > 0) await store.logBatch(run.id, { metrics })
    if (spec.status !== 'running') await store.setRunStatus(run.id, spec.status, run.startTime + 100 + i)
  }
}

const close = (a: number | null, b: number | null, what: string) => {
  if (a === null || b === null) return assert.equal(a, b, what)
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} is not ${b}`)
}

function assertSameGroups(actual: readonly StoredRunGroup[], expected: readonly StoredRunGroup[], what: string): void {
  assert.deepEqual(actual.map((g) => g.key), expected.map((g) => g.key), `${what}: keys`)
  for (const [i, g] of actual.entries()) {
    const e = expected[i] as StoredRunGroup
    assert.equal(g.n, e.n, `${what} ${g.key}: n`)
    assert.deepEqual(g.runs, e.runs, `${what} ${g.key}: runs`)
    for (const [j, m] of g.metrics.entries()) {
      const x = e.metrics[j] as StoredRunGroup['metrics'][number]
      assert.deepEqual([m.n, m.min, m.max, m.nonFinite], [x.n, x.min, x.max, x.nonFinite], `${what} ${g.key} metric ${j}`)
      close(m.mean, x.mean, `${what} ${g.key} metric ${j} mean`)
      close(m.variance, x.variance, `${what} ${g.key} metric ${j} variance`)
    }
  }
}

/** Every group, walked by `after` in pages of `limit`. */
async function walk(store: Store, query: Omit<RunGroupPageQuery, 'limit' | 'after'>, limit: number): Promise<{ pages: RunGroupPage[]; groups: StoredRunGroup[] }> {
  const pages: RunGroupPage[] = []
  let afterKey: string | undefined
  for (;;) {
    const page = await store.groupRunsPage({ ...query, limit, after: afterKey })
    pages.push(page)
    if (!page.more) break
    afterKey = (page.groups[page.groups.length - 1] as StoredRunGroup).key
    assert.ok(pages.length < 200, 'paging ends')
  }
  return { pages, groups: pages.flatMap((p) => p.groups) }
}

const GROUPINGS: RunGrouping[] = [{ by: 'config' }, { by: 'params', keys: ['lr'] }, { by: 'params', keys: ['opt', 'odd key'] }]
const LISTINGS: Pick<RunGroupPageQuery, 'experiment' | 'experiments' | 'filter'>[] = [
  {},
  { filter: `status = 'finished'` },
  { experiment: 'exp-b', filter: `status = 'finished' and metrics.acc > 0.5` },
  { experiments: ['exp-a'], filter: `params.lr != 'a'` },
  { experiments: [] },
]

// On http the first test checks the wiring only: that store groups its listing as the reference does.
for (const backend of STORE_BACKENDS) {
  describe(`grouping runs in the database: ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStore
    before(async () => {
      opened = await backend.open()
      await storeRuns(opened.store)
    })
    after(() => opened?.dispose())

    test('groups, pages and moments are those of grouping the listed runs in memory', async () => {
      const store = opened.store
      let compared = 0
      for (const grouping of GROUPINGS) {
        for (const listing of LISTINGS) {
          const query = { ...listing, grouping, metrics: ['acc', 'loss', 'absent'], runsListed: 3 }
          const expected = await groupRunsFromPages((q) => store.listRunsPage(q), { ...query, limit: 1000 })
          const what = `${JSON.stringify(grouping)} ${JSON.stringify(listing)}`
          const { pages, groups } = await walk(store, query, 4)
          assertSameGroups(groups, expected.groups, what)
          for (const page of pages) assert.deepEqual([page.runsGrouped, page.groupCount], [expected.runsGrouped, expected.groupCount], `${what}: totals`)
          compared += groups.length
        }
      }
      assert.ok(compared > 100, `only ${compared} groups compared`)
    })

    test('a missing param and a null one are different groups; NaN and infinite last values are counted apart', async () => {
      const store = opened.store
      const page = await store.groupRunsPage({ grouping: { by: 'params', keys: ['lr'] }, metrics: ['acc'], limit: 1000, runsListed: 1 })
      const keys = page.groups.map((g) => g.key)
      assert.ok(keys.includes('[[]]') && keys.includes('[[null]]'), `keys: ${keys.join(' ')}`)
      const nonFinite = page.groups.reduce((s, g) => s + (g.metrics[0] as StoredRunGroup['metrics'][number]).nonFinite, 0)
      assert.ok(nonFinite > 0, 'some runs end on NaN or ±Infinity')
      assert.ok(page.groups.every((g) => g.runs.length === 1))
    })

    test('an unknown experiment is refused as listRunsPage refuses it', async () => {
      await assert.rejects(opened.store.groupRunsPage({ experiment: 'nope', grouping: { by: 'config' }, metrics: [], limit: 10, runsListed: 1 }), (e: { code?: string }) => e.code === 'ASSAY_EXPERIMENT_NOT_FOUND')
    })
  })
}

// A page's first runs are read in start order up to a budget (twice the runs wanted, and 500);
// groups whose runs come after it are read by an ordered aggregate of their own. Here 515 runs of
// one group come first, so the two groups after them are past the budget of 2 × 6 + 500.
for (const backend of STORE_BACKENDS.filter((b) => b.name !== 'http')) {
  describe(`the first runs of groups whose runs start late: ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStore
    before(async () => {
      opened = await backend.open()
      const at = (i: number) => 1_700_000_000_000 + i * 1000
      for (let i = 0; i < 515; i++) await opened.store.createRun(newRun({ experiment: 'late', name: `early ${i}`, params: { opt: 'b' }, seed: i, startTime: at(i) }))
      for (let i = 0; i < 3; i++) {
        await opened.store.createRun(newRun({ experiment: 'late', name: `late a ${i}`, params: { opt: 'a' }, seed: 1000 + i, startTime: at(600 + i) }))
        await opened.store.createRun(newRun({ experiment: 'late', name: `late c ${i}`, params: { opt: 'c' }, seed: 2000 + i, startTime: at(600 - i) }))
      }
    })
    after(() => opened?.dispose())

    test('are those of grouping the listed runs in memory', async () => {
      const store = opened.store
      for (const filter of [undefined, `params.opt != 'x'`]) {
        const query = { experiment: 'late', filter, grouping: { by: 'params' as const, keys: ['opt'] }, metrics: [], runsListed: 2 }
        const expected = await groupRunsFromPages((q) => store.listRunsPage(q), { ...query, limit: 1000 })
        const page = await store.groupRunsPage({ ...query, limit: 3 })
        assertSameGroups(page.groups, expected.groups, `filter ${filter}`)
        assert.deepEqual(
          page.groups.map((g) => [g.key, g.runs.map((r) => r.name)]),
          [['[["a"]]', ['late a 0', 'late a 1']], ['[["b"]]', ['early 0', 'early 1']], ['[["c"]]', ['late c 2', 'late c 1']]],
        )
        assert.deepEqual([page.runsGrouped, page.groupCount, page.more], [521, 3, false])
      }
    })
  })
}
