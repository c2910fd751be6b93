import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import pg from 'pg'
import Database from 'better-sqlite3'
import { isAssayError } from '../../src/errors.js'
import type { JsonValue, RunRecord, RunSummary } from '../../src/record/types.js'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { compareCodePoints, filterRuns, formatFilterKey, formatFilterLiteral, parseRunFilter, type FilterOp } from '../../src/store/run-filter.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { SqlStore } from '../../src/store/sql-store.js'
import type { RunPage, Store } from '../../src/store/store.js'
import { dropSchema, freshSchema, STORE_BACKENDS, tempDir, type OpenedStore } from './backends.js'
import { newRun, rejectsWith, series } from './fixtures.js'

/**
 * Run search in the database (run-filter-sql.ts) lists exactly the runs the in-memory matcher
 * (filterRuns) keeps, on every backend: random filters over runs whose params, metrics and tags
 * hold the values that tell the two apart (numbers and numeric text, NaN and ±Infinity, missing
 * keys, text above U+FFFF, quotes and LIKE wildcards). Orders and cursors walk every run once.
 */

const PARAM_KEYS = ['lr', 'opt', 'depth', 'odd key']
const METRIC_KEYS = ['acc', 'loss']
const TAG_KEYS = ['team', 'stage']
const TEXTS = ['', 'a', 'ab', 'b', '1', '01', '1.5', 'adam', "it's", 'back\\slash', '%', '_', 'é', '\uE000', '😀', '\u{10000}x']
const NUMBERS = [0, -0, 1, -1, 1.5, 0.01, 1e-300, 1e300, 2 ** 53, -7]
const PARAM_VALUES: JsonValue[] = [...NUMBERS, ...TEXTS, true, false, null, [1], { a: 1 }]
const METRIC_VALUES = [0, 0.5, 0.8, 1, -1, NaN, Infinity, -Infinity, 1e-300]
const LITERALS: (JsonValue | 'inf' | '-inf')[] = [...NUMBERS, ...TEXTS, true, false, null, 'inf', '-inf']

interface RunSpec {
  params: Record<string, JsonValue>
  metrics: Record<string, number>
  tags: Record<string, string>
  name: string
  status: 'running' | 'finished' | 'failed'
  seed: number
}

const runSpec: fc.Arbitrary<RunSpec> = fc.record({
  params: fc.dictionary(fc.constantFrom(...PARAM_KEYS), fc.constantFrom(...PARAM_VALUES), { maxKeys: 4 }),
  metrics: fc.dictionary(fc.constantFrom(...METRIC_KEYS), fc.constantFrom(...METRIC_VALUES), { maxKeys: 2 }),
  tags: fc.dictionary(fc.constantFrom(...TAG_KEYS), fc.constantFrom(...TEXTS), { maxKeys: 2 }),
  name: fc.constantFrom(...TEXTS.filter((t) => t !== '')),
  status: fc.constantFrom('running' as const, 'finished' as const, 'failed' as const),
  seed: fc.constantFrom(0, 1, 7, 42),
})

type Field = { scope: 'params' | 'metrics' | 'tags'; key: string } | { scope: 'run'; key: 'status' | 'name' | 'owner' | 'seed' | 'experiment' | 'id' }
const field: fc.Arbitrary<Field> = fc.oneof(
  fc.record({ scope: fc.constant('params' as const), key: fc.constantFrom(...PARAM_KEYS) }),
  fc.record({ scope: fc.constant('metrics' as const), key: fc.constantFrom(...METRIC_KEYS) }),
  fc.record({ scope: fc.constant('tags' as const), key: fc.constantFrom(...TAG_KEYS) }),
  fc.record({ scope: fc.constant('run' as const), key: fc.constantFrom('status' as const, 'name' as const, 'seed' as const, 'experiment' as const) }),
)
const OPS: FilterOp[] = ['=', '!=', '<', '<=', '>', '>=', '~']

/** A filter as text, written the way a person would (the parser is the one under test as well). */
const filterText: fc.Arbitrary<string> = fc.letrec<{ node: string; compare: string }>((tie) => ({
  compare: fc.tuple(field, fc.constantFrom(...OPS), fc.constantFrom(...LITERALS)).map(([f, op, value]) => {
    const name = f.scope === 'run' ? f.key : `${f.scope}.${formatFilterKey(f.key)}`
    const literal = op === '~' ? formatFilterLiteral(typeof value === 'string' && value !== 'inf' && value !== '-inf' ? value : 'a') : value === 'inf' ? '1e999' : value === '-inf' ? '-1e999' : formatFilterLiteral(value as string | number | boolean | null)
    return `${name} ${op} ${literal}`
  }),
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('compare'),
    fc.tuple(tie('node'), fc.constantFrom('and', 'or'), tie('node')).map(([a, op, b]) => `(${a} ${op} ${b})`),
    tie('node').map((a) => `not ${a}`),
  ),
})).node

async function storeRuns(store: Store, specs: readonly RunSpec[]): Promise<void> {
  for (const [i, spec] of specs.entries()) {
    const run = newRun({ experiment: i % 3 === 0 ? 'exp-b' : 'exp-a', name: spec.name, params: spec.params, tags: spec.tags, seed: spec.seed, startTime: 1_700_000_000_000 + (i % 5) * 1000 })
    await store.createRun(run)
    const metrics = Object.entries(spec.metrics).map(([key, value]) => series(key, [[0, 0.25], [1, value]]))
    if (metrics.length > 0) await store.logBatch(run.id, { metrics })
    if (spec.status !== 'running') await store.setRunStatus(run.id, spec.status, run.startTime + 100 + i)
  }
}

/** The in-memory answer: the run ids filterRuns keeps, or the error code it throws. */
function expected(all: readonly RunSummary[], text: string, experiment?: string): string[] | string {
  try {
    return filterRuns(parseRunFilter(text), all.filter((r) => experiment === undefined || r.experiment === experiment)).map((r) => r.id).sort()
  } catch (error) {
    if (isAssayError(error)) return error.code
    throw error
  }
}

async function actual(store: Store, text: string, experiment?: string): Promise<string[] | string> {
  try {
    return (await store.listRuns({ filter: text, experiment })).map((r) => r.id).sort()
  } catch (error) {
    if (isAssayError(error)) return error.code
    throw error
  }
}

const SPECS = fc.sample(fc.array(runSpec, { minLength: 40, maxLength: 40 }), { numRuns: 1, seed: 13 })[0] as RunSpec[]

for (const backend of STORE_BACKENDS) {
  describe(`run search in the database: ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStore
    let all: RunSummary[]
    before(async () => {
      opened = await backend.open()
      await storeRuns(opened.store, SPECS)
      all = await opened.store.listRuns({})
    })
    after(() => opened?.dispose())

    test('random filters list the same runs as the in-memory matcher', async () => {
      assert.equal(all.length, SPECS.length)
      const outcomes = { some: 0, none: 0, refused: 0 }
      const numRuns = backend.name === 'http' ? 150 : 300
      await fc.assert(
        fc.asyncProperty(filterText, fc.constantFrom(undefined, 'exp-a'), async (text, experiment) => {
          const listed = await actual(opened.store, text, experiment)
          assert.deepEqual(listed, expected(all, text, experiment), text)
          outcomes[typeof listed === 'string' ? 'refused' : listed.length > 0 ? 'some' : 'none']++
        }),
        { numRuns },
      )
      // The filters reach the runs: most list some (and a few none), not just errors.
      assert.ok(outcomes.some > numRuns / 3 && outcomes.none > 0, JSON.stringify(outcomes))
    })

    test('the cases that tell numbers, text and missing keys apart', async () => {
      for (const text of [
        "params.lr = '1'",
        'params.lr = 1',
        "params.opt < 'b'",
        'params.opt < 2',
        'not params.lr = 1',
        'params.lr != 1',
        'metrics.acc != 0.5',
        'not metrics.acc > 0',
        'metrics.acc >= -1e999',
        "params.opt ~ '%'",
        "params.opt ~ '_'",
        "name > '\uE000'",
        'params.depth = null',
        'params.depth = true',
        'not (params.lr > 0 or metrics.acc < 1)',
        'seed = 7 or status = \'failed\'',
      ]) {
        assert.deepEqual(await actual(opened.store, text), expected(all, text), text)
      }
    })

    test('a key no run has is ASSAY_INVALID_FILTER naming the keys that exist', async () => {
      const error = await rejectsWith(opened.store.listRuns({ filter: 'metrics.acc_val > 0' }), 'ASSAY_INVALID_FILTER', /metrics keys that exist, closest first: metrics\.acc/)
      assert.ok(error.message.includes('no run has metrics.acc_val'))
      await rejectsWith(opened.store.listRunsPage({ filter: 'params.lr >', limit: 10 }), 'ASSAY_INVALID_FILTER')
      assert.deepEqual(await opened.store.listRunsPage({ filter: 'params.lr > 0', experiment: 'exp-a', limit: 10, cursor: undefined }).then((p) => p.runs.every((r) => r.experiment === 'exp-a')), true)
    })

    test('a listed run holds the params, tags and last metric values it was given', async () => {
      // PostgreSQL aggregates them as JSON in the page's statement: -0, 1e300, 2^53, NaN, ±Infinity and any text survive.
      const records = new Map((await Promise.all(all.map((r) => opened.store.getRun(r.id)))).map((r) => [r.id, r]))
      for (const orderBy of [undefined, 'metrics.acc desc']) {
        const listed = await opened.store.listRuns({ orderBy })
        assert.equal(listed.length, SPECS.length)
        for (const summary of listed) {
          const record = records.get(summary.id) as RunRecord
          assert.deepStrictEqual(summary.params, record.params)
          assert.deepStrictEqual(summary.tags, record.tags)
          assert.deepStrictEqual(summary.metrics, Object.fromEntries(record.metrics.map((m) => [m.key, m.last])))
        }
      }
      const lasts = [...records.values()].flatMap((r) => r.metrics.map((m) => m.last))
      assert.ok(lasts.some(Number.isNaN) && lasts.includes(-Infinity) && lasts.includes(Infinity), 'the runs hold the values that need care')
    })

    test('an unknown key is refused even when the rest of the filter lists runs, in any order', async () => {
      // PostgreSQL reads such a page in one statement that also asks whether each key exists.
      assert.ok((await opened.store.listRunsPage({ filter: 'seed >= 0', limit: 5 })).runs.length > 0)
      for (const orderBy of [undefined, 'name desc', 'metrics.acc desc']) {
        await rejectsWith(opened.store.listRunsPage({ filter: 'seed >= 0 or metrics.acc_val > 0', orderBy, limit: 5 }), 'ASSAY_INVALID_FILTER', /no run has metrics\.acc_val/)
        await rejectsWith(opened.store.listRunsPage({ filter: 'seed >= 0 or tags.nope = \'x\'', orderBy, limit: 5 }), 'ASSAY_INVALID_FILTER', /no run has tags\.nope/)
      }
      await rejectsWith(opened.store.listRunsPage({ filter: 'seed >= 0', experiment: 'no-such-experiment', limit: 5 }), 'ASSAY_EXPERIMENT_NOT_FOUND')
      assert.deepEqual((await opened.store.listRunsPage({ filter: 'seed >= 0', experiments: [], limit: 5 })).runs, [])
    })

    test('keys and values that look like SQL are data', async () => {
      const hostile = ["x'; DROP TABLE runs; --", '") OR 1=1 --', "' OR '1'='1", '`; DELETE FROM run_params; --', '\\', '?', '$1']
      const run = newRun({ experiment: 'exp-hostile', name: hostile[0], params: Object.fromEntries(hostile.map((h, i) => [`k${i}`, h])), tags: { [hostile[2]]: hostile[1] } })
      await opened.store.createRun(run)
      for (const value of hostile) {
        for (const key of ['k0', 'k1', 'k2']) {
          const text = `params.${key} = ${formatFilterLiteral(value)} or params.${key} ~ ${formatFilterLiteral(value)}`
          const listed = (await opened.store.listRuns({ experiment: 'exp-hostile', filter: text })).map((r) => r.id)
          const wanted = filterRuns(parseRunFilter(text), await opened.store.listRuns({ experiment: 'exp-hostile' })).map((r) => r.id)
          assert.deepEqual(listed, wanted, text)
        }
      }
      assert.deepEqual((await opened.store.listRuns({ filter: `tags.${formatFilterKey(hostile[2])} = ${formatFilterLiteral(hostile[1])}` })).map((r) => r.id), [run.id])
      assert.deepEqual((await opened.store.listRuns({ filter: `name = ${formatFilterLiteral(hostile[0])}` })).map((r) => r.id), [run.id])
      await rejectsWith(opened.store.listRuns({ filter: `params.${formatFilterKey(hostile[3])} = 1` }), 'ASSAY_INVALID_FILTER')
      await rejectsWith(opened.store.listRunsPage({ orderBy: "name; DROP TABLE runs", limit: 5 }), 'ASSAY_INVALID_ARGUMENT')
      // Every run is still there, with its params.
      assert.equal((await opened.store.listRuns({})).length, all.length + 1)
      assert.deepEqual((await opened.store.getRun(run.id)).params, run.params)
    })

    test('random filters walked page by page in random orders list the in-memory matcher\'s runs in the documented order', async () => {
      const orders = ['start_time desc', 'end_time', 'name desc', ...PARAM_KEYS.flatMap((k) => [`params.${formatFilterKey(k)}`, `params.${formatFilterKey(k)} desc`]), ...METRIC_KEYS.flatMap((k) => [`metrics.${k}`, `metrics.${k} desc`])]
      const numRuns = backend.name === 'http' ? 40 : 100
      // Read again: the tests before this one add runs.
      const current = await opened.store.listRuns({})
      await fc.assert(
        fc.asyncProperty(filterText, fc.constantFrom(...orders), fc.constantFrom(undefined, 'exp-a'), fc.integer({ min: 1, max: 7 }), async (text, orderBy, experiment, limit) => {
          const wanted = expected(current, text, experiment)
          const walked: string[] = []
          let cursor: string | undefined
          try {
            for (let pages = 0; pages < 100; pages++) {
              const page = await opened.store.listRunsPage({ orderBy, filter: text, experiment, limit, cursor })
              walked.push(...page.runs.map((r) => r.id))
              if (page.nextCursor === null) break
              cursor = page.nextCursor
            }
          } catch (error) {
            if (!isAssayError(error)) throw error
            assert.equal(error.code, wanted, text)
            return
          }
          assert.ok(typeof wanted !== 'string', `${text}: expected ${String(wanted)}`)
          const byId = new Map(current.map((r) => [r.id, r]))
          const reference = wanted.map((id) => byId.get(id) as RunSummary).sort(referenceOrder(orderBy))
          assert.deepEqual(walked, reference.map((r) => r.id), `${text} ordered by ${orderBy}, ${limit} a page`)
        }),
        { numRuns },
      )
    })

    if (backend.name !== 'http') {
      test('the one-statement page lists the same runs and cursors as the page read by statements', async () => {
        // listRunsPage reads most pages in one statement (sql-store.ts); listRunsPageByStatements is
        // the read transaction every page could take. Walked side by side from the same cursors, each
        // page, its runs' params, tags and metrics, its cursor and any error must be the same.
        const store = opened.store as SqlStore
        const orders = [undefined, 'start_time desc', 'end_time', 'name desc', ...PARAM_KEYS.flatMap((k) => [`params.${formatFilterKey(k)}`, `params.${formatFilterKey(k)} desc`]), ...METRIC_KEYS.flatMap((k) => [`metrics.${k}`, `metrics.${k} desc`])]
        const scopes = [{}, { experiment: 'exp-a' }, { experiment: 'no-such-experiment' }, { experiments: ['exp-a', 'exp-b'] }, { experiments: [] }]
        const outcome = async (read: () => Promise<RunPage>) => {
          try {
            return await read()
          } catch (error) {
            if (!isAssayError(error)) throw error
            return `${error.code}: ${error.message}`
          }
        }
        const seen = { pages: 0, runs: 0, cursors: 0, errors: 0 }
        await fc.assert(
          fc.asyncProperty(fc.option(filterText, { nil: undefined }), fc.constantFrom(...orders), fc.constantFrom(...scopes), fc.integer({ min: 1, max: 7 }), async (filter, orderBy, scope, limit) => {
            let cursor: string | undefined
            for (let pages = 0; pages < 100; pages++) {
              const query = { ...scope, filter, orderBy, limit, cursor }
              const page = await outcome(() => store.listRunsPage(query))
              assert.deepStrictEqual(page, await outcome(() => store.listRunsPageByStatements(query)), `${filter} ordered by ${orderBy} in ${JSON.stringify(scope)}, ${limit} a page, after ${cursor}`)
              seen.pages++
              if (typeof page === 'string') {
                seen.errors++
                return
              }
              seen.runs += page.runs.length
              if (page.nextCursor === null) return
              seen.cursors++
              cursor = page.nextCursor
            }
          }),
          { numRuns: 150 },
        )
        // The walks read runs, follow cursors and meet errors (unknown keys, a missing experiment).
        assert.ok(seen.runs > 300 && seen.cursors > 100 && seen.errors > 5, JSON.stringify(seen))
      })
    }

    for (const orderBy of ['start_time', 'start_time desc', 'end_time', 'end_time desc', 'name', 'name desc', 'params.lr', 'params.opt desc', 'metrics.acc desc', 'metrics.loss asc']) {
      test(`pages in ${orderBy} order walk every run once, in order`, async () => {
        const walked: RunSummary[] = []
        let cursor: string | undefined
        for (let pages = 0; pages < 100; pages++) {
          const page = await opened.store.listRunsPage({ orderBy, filter: "status != 'x'", limit: 3, cursor })
          walked.push(...page.runs)
          if (page.nextCursor === null) break
          cursor = page.nextCursor
        }
        const reference = (await opened.store.listRuns({})).sort(referenceOrder(orderBy))
        assert.deepEqual(walked.map((r) => r.id), reference.map((r) => r.id))
        // A cursor belongs to its order.
        const firstPage = await opened.store.listRunsPage({ orderBy, limit: 2 })
        const other = orderBy === 'name' ? 'start_time desc' : 'name'
        await rejectsWith(opened.store.listRunsPage({ orderBy: other, limit: 2, cursor: firstPage.nextCursor as string }), 'ASSAY_INVALID_ARGUMENT')
      })
    }
  })
}

/** The documented order (run-filter.ts, parseRunOrder) written out in memory. */
function referenceOrder(orderBy: string): (a: RunSummary, b: RunSummary) => number {
  const [, fieldText, dir] = /^(.*?)(?: (asc|desc))?$/.exec(orderBy.replace(/`/g, '')) as unknown as [string, string, string | undefined]
  const sign = dir === 'desc' ? -1 : 1
  const byText = (x: string, y: string) => compareCodePoints(x, y)
  const byNumber = (x: number, y: number) => (x < y ? -1 : x > y ? 1 : 0)
  const key = (r: RunSummary): [number, number, string] => {
    if (fieldText === 'start_time') return [0, r.startTime, '']
    if (fieldText === 'end_time') return r.endTime === null ? [1, 0, ''] : [0, r.endTime, '']
    if (fieldText === 'name') return [0, 0, r.name]
    const [scope, k] = fieldText.split('.') as ['params' | 'metrics', string]
    const v = scope === 'params' ? r.params[k] : r.metrics[k]
    if (typeof v === 'number' && !Number.isNaN(v)) return [0, v, '']
    if (scope === 'params' && typeof v === 'string') return [1, 0, v]
    return [scope === 'params' ? 2 : 1, 0, '']
  }
  return (a, b) => {
    const x = key(a)
    const y = key(b)
    return byNumber(x[0], y[0]) || sign * byNumber(x[1], y[1]) || sign * byText(x[2], y[2]) || sign * byText(a.id, b.id)
  }
}

/** Drop what version 10 added, as a store written before it has, and move the version back. */
const LATER_TABLES = ['DROP TABLE trace_feedback', 'DROP TABLE trace_span_sets', 'DROP TABLE traces', 'DROP TABLE deployment_inputs', 'DROP TABLE deployments', 'ALTER TABLE runs DROP COLUMN config_parts']
const BEFORE_V10 = [
  'DROP INDEX run_params_number', 'DROP INDEX run_params_text', 'DROP INDEX run_tags_value', 'DROP INDEX metric_summaries_last', 'DROP INDEX runs_start', 'ALTER TABLE run_params DROP COLUMN value_num', 'ALTER TABLE run_params DROP COLUMN value_text']

describe('migration 10 upgrades a store that holds runs', () => {
  const specs = fc.sample(fc.array(runSpec, { minLength: 25, maxLength: 25 }), { numRuns: 1, seed: 29 })[0] as RunSpec[]
  const filters = fc.sample(filterText, { numRuns: 150, seed: 31 })

  async function checkUpgraded(store: Store, before: readonly RunSummary[]): Promise<void> {
    const all = await store.listRuns({})
    assert.deepEqual(all, before)
    for (const text of filters) assert.deepEqual(await actual(store, text), expected(all, text), text)
  }

  test('sqlite', async () => {
    const { dir, cleanup } = tempDir('assay-v10-')
    try {
      const root = path.join(dir, 'store')
      let store = await SqliteStore.open(root)
      await storeRuns(store, specs)
      const before = await store.listRuns({})
      await store.close()
      const db = new Database(path.join(root, 'assay.db'))
      // SQLite keeps one schema version: at 9, the later migrations' tables go too (12: production; 13: runs.config_parts) so they apply again.
      for (const statement of [...LATER_TABLES, ...BEFORE_V10]) db.exec(statement)
      db.pragma('user_version = 9')
      assert.equal(db.prepare('SELECT COUNT(*) AS n FROM run_params').get() !== undefined, true)
      db.close()
      store = await SqliteStore.open(root)
      try {
        await checkUpgraded(store, before)
      } finally {
        await store.close()
      }
    } finally {
      cleanup()
    }
  })

  const url = process.env.ASSAY_TEST_POSTGRES_URL
  test('postgres', { skip: url === undefined ? 'ASSAY_TEST_POSTGRES_URL is not set' : undefined }, async () => {
    const schema = freshSchema()
    try {
      let store = await PostgresStore.open(url as string, { schema, poolSize: 2 })
      await storeRuns(store, specs)
      const before = await store.listRuns({})
      await store.close()
      const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` })
      await client.connect()
      try {
        for (const statement of BEFORE_V10) await client.query(statement)
        await client.query('DELETE FROM assay_schema_migrations WHERE version = 10') // PostgreSQL applies every missing version
      } finally {
        await client.end()
      }
      store = await PostgresStore.open(url as string, { schema, poolSize: 2 })
      try {
        await checkUpgraded(store, before)
      } finally {
        await store.close()
      }
    } finally {
      await dropSchema(url as string, schema)
    }
  })
})

