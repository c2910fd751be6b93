import assert from 'node:assert/strict'
import Database from 'better-sqlite3'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { AssayError } from '../../src/errors.js'
import type { Params, RunSummary } from '../../src/record/types.js'
import { parseRunFilter, runMatches } from '../../src/store/run-filter.js'
import { rejectsWith, throwsWith } from '../store/fixtures.js'
import { openHarness, type Harness } from '../sdk/harness.js'

function summary(name: string, parts: Partial<RunSummary>): RunSummary {
  return {
    id: name.padEnd(32, '0'),
    experiment: 'exp',
    name,
    owner: 'alice',
    status: 'finished',
    startTime: 0,
    endTime: 1,
    params: {},
    seed: 1,
    tags: {},
    parentId: null,
    groupId: null,
    metrics: {},
    configFingerprint: 'f',
    ...parts,
  }
}

const RUNS = [
  summary('a', { params: { lr: 0.1, model: 'resnet-50', layers: 4, use_bn: true, 'a key': 'spaced' }, metrics: { acc: 0.8, loss: 0.5 }, tags: { stage: 'prod' }, seed: 1 }),
  summary('b', { params: { lr: 0.01, model: 'vit-b/16', layers: 12, use_bn: false }, metrics: { acc: 0.9 }, tags: { stage: 'dev' }, seed: 2, owner: 'bob' }),
  summary('c', { params: { lr: 0.001, model: 'resnet-18' }, metrics: { acc: NaN, loss: Infinity }, status: 'crashed', seed: 3 }),
  summary('d', { params: { lr: '0.1', opt: null }, metrics: {}, status: 'running', seed: 4 }),
]

function names(filter: string): string[] {
  const tree = parseRunFilter(filter)
  return RUNS.filter((r) => runMatches(tree, r)).map((r) => r.name)
}

describe('run filter grammar', () => {
  test('comparisons on params, metrics, tags and run attributes', () => {
    assert.deepEqual(names('params.lr = 0.1'), ['a'], 'numbers match numbers only, not the string "0.1"')
    assert.deepEqual(names("params.lr = '0.1'"), ['d'])
    assert.deepEqual(names('params.lr == 0.01'), ['b'])
    assert.deepEqual(names('params.lr != 0.1'), ['b', 'c', 'd'])
    assert.deepEqual(names('params.lr > 0.005'), ['a', 'b'])
    assert.deepEqual(names('params.lr >= 0.01'), ['a', 'b'])
    assert.deepEqual(names('params.lr < 0.01'), ['c'])
    assert.deepEqual(names('params.lr <= 0.01'), ['b', 'c'])
    assert.deepEqual(names('params.lr <= 1e-2'), ['b', 'c'], 'exponent notation')
    assert.deepEqual(names('params.lr > .05'), ['a'], 'leading dot')
    assert.deepEqual(names('seed = -1 or seed >= +3'), ['c', 'd'], 'signed numbers')
    assert.deepEqual(names('params.use_bn = true'), ['a'])
    assert.deepEqual(names('params.use_bn = FALSE'), ['b'])
    assert.deepEqual(names('params.opt = null'), ['d'])
    assert.deepEqual(names('metrics.acc >= 0.85'), ['b'])
    assert.deepEqual(names("tags.stage = 'prod'"), ['a'])
    assert.deepEqual(names('status = "crashed"'), ['c'])
    assert.deepEqual(names("owner = 'bob'"), ['b'])
    assert.deepEqual(names('seed = 2'), ['b'])
    assert.deepEqual(names("name = 'c'"), ['c'])
    assert.deepEqual(names("id = '" + 'a'.padEnd(32, '0') + "'"), ['a'])
    assert.deepEqual(names("experiment = 'exp'"), ['a', 'b', 'c', 'd'])
    assert.deepEqual(names('params.`a key` = "spaced"'), ['a'], 'a backquoted key')
    assert.deepEqual(names("params.model = 'vit-b/16'"), ['b'])
    assert.deepEqual(names('metrics.loss > 1'), ['c'], 'Infinity compares as a number')
    assert.deepEqual(names('metrics.acc < 2'), ['a', 'b'], 'NaN is not below anything')
    assert.deepEqual(names("params.model < 's'"), ['a', 'c'], 'strings compare as strings')
    assert.deepEqual(names("params.layers > 'a'"), [], 'a number never compares with a string')
  })

  test('~ is contains, for text', () => {
    assert.deepEqual(names("params.model ~ 'resnet'"), ['a', 'c'])
    assert.deepEqual(names("params.model ~ ''"), ['a', 'b', 'c'])
    assert.deepEqual(names("params.layers ~ '1'"), [], 'numbers do not contain text')
    throwsWith(() => parseRunFilter('params.model ~ 5'), 'ASSAY_INVALID_FILTER', /quoted string/)
  })

  test('and binds tighter than or; not; parentheses; keywords in any case', () => {
    assert.deepEqual(names("params.lr = 0.1 or params.lr = 0.01 and tags.stage = 'prod'"), ['a'])
    assert.deepEqual(names("(params.lr = 0.1 or params.lr = 0.01) and tags.stage = 'dev'"), ['b'])
    assert.deepEqual(names('not seed = 1'), ['b', 'c', 'd'])
    assert.deepEqual(names('NOT (seed = 1 OR seed = 2)'), ['c', 'd'])
    assert.deepEqual(names('not not seed = 1'), ['a'])
    assert.deepEqual(names('((seed = 1)) And (seed=1)'), ['a'])
    assert.deepEqual(names('seed=1 or seed=2 or seed=3'), ['a', 'b', 'c'])
  })

  test('a missing field matches nothing, however the condition is negated or combined', () => {
    assert.deepEqual(names('params.missing = 1'), [])
    assert.deepEqual(names('params.missing != 1'), [])
    assert.deepEqual(names('not params.missing = 1'), [], 'not of unknown is unknown, as NOT NULL in SQL')
    assert.deepEqual(names("not tags.stage = 'prod'"), ['b'], 'runs without the tag are not listed')
    assert.deepEqual(names("tags.stage != 'prod'"), ['b'], 'the same as not =')
    assert.deepEqual(names('metrics.loss < 1'), ['a'], 'b has no loss')
    assert.deepEqual(names('not metrics.loss < 1'), ['c'])
    assert.deepEqual(names('params.missing = 1 or seed = 2'), ['b'])
    assert.deepEqual(names('not (params.missing = 1 and seed = 2)'), ['a', 'c', 'd'], 'false and unknown is false')
    assert.deepEqual(names('not (params.missing = 1 or seed = 2)'), [], 'unknown or false is unknown')
  })

  test('errors are ASSAY_INVALID_FILTER with the position', () => {
    const cases: [string, number, RegExp][] = [
      ['', 0, /expected a field/],
      ['params.lr >', 11, /expected a number/],
      ['seed = 3 and', 12, /expected a field/],
      ['(seed = 3', 9, /expected '\)'/],
      ['seed = 3)', 8, /unexpected/],
      ['seed = 3 seed = 4', 9, /join conditions/],
      ["name = 'open", 7, /unterminated string/],
      ['params.`open = 1', 7, /unterminated quoted key/],
      ['bogus = 1', 0, /unknown field/],
      ['params = 1', 0, /needs a key/],
      ['seed 3', 5, /comparison operator/],
      ['seed ! 3', 5, /'!' must be followed by '='/],
      ['seed = 3 ; drop', 9, /unexpected character/],
      ["status in ('a')", 7, /comparison operator/],
      ['name = unquoted', 7, /quoted string/],
    ]
    for (const [filter, at, message] of cases) {
      const error = throwsWith(() => parseRunFilter(filter), 'ASSAY_INVALID_FILTER', message) as AssayError
      assert.equal(error.details?.at, at, `position of the error in ${JSON.stringify(filter)}`)
      assert.match(error.message, new RegExp(`at character ${at + 1}:`))
    }
    throwsWith(() => parseRunFilter('seed = 1 or '.repeat(400) + 'seed = 1'), 'ASSAY_INVALID_FILTER', /4096/)
    throwsWith(() => parseRunFilter(42 as never), 'ASSAY_INVALID_FILTER')
  })
})

describe('listRuns({ filter }) on a real store', () => {
  let h: Harness
  const INJECTED_NAME = 'x"; DROP TABLE runs; --'
  before(async () => {
    h = await openHarness()
    const specs: { name: string; params: Params; seed: number }[] = [
      { name: 'fast', params: { lr: 0.1, model: 'resnet' }, seed: 1 },
      { name: 'slow', params: { lr: 0.001, model: 'vit' }, seed: 2 },
      { name: INJECTED_NAME, params: { lr: '1\' OR 1=1 --' }, seed: 3 },
    ]
    for (const spec of specs) {
      const run = await h.start({ ...spec, experiment: 'filters' })
      await run.log({ acc: spec.seed / 4 })
      await run.end()
    }
  })
  after(async () => {
    await h.cleanup()
  })

  const listed = async (filter: string): Promise<string[]> => (await h.assay.listRuns({ filter })).map((r) => r.name)

  test('filters by params, metrics and run attributes', async () => {
    assert.deepEqual(await listed('params.lr > 0.01 and metrics.acc >= 0.25'), ['fast'])
    assert.deepEqual(await listed("params.model ~ 'i' or seed = 3"), ['slow', INJECTED_NAME])
    assert.deepEqual(await listed('  '), ['fast', 'slow', INJECTED_NAME], 'a blank filter lists everything')
    await rejectsWith(h.assay.listRuns({ filter: 'params.lr >' }), 'ASSAY_INVALID_FILTER', /character 12/)
  })

  test('SQL-looking input only filters: the tables and runs are untouched', async () => {
    const db = new Database(path.join(h.storeDir, 'assay.db'), { readonly: true })
    const tables = (): unknown => db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all()
    const tablesBefore = tables()
    const runsBefore = await h.assay.listRuns()
    try {
      // SQL's doubled quote is two adjacent strings here: a parse error, not an OR 1=1.
      await rejectsWith(h.assay.listRuns({ filter: "params.lr = '1'' OR 1=1 --'" }), 'ASSAY_INVALID_FILTER', /character 16/)
      // An escaped quote keeps the whole payload one string: it only matches the run of that exact name.
      assert.deepEqual(await listed('name = "x\\"; DROP TABLE runs; --"'), [INJECTED_NAME])
      assert.deepEqual(await listed("params.lr = '1\\' OR 1=1 --'"), [INJECTED_NAME])
      await rejectsWith(h.assay.listRuns({ filter: "name = 'x' OR 1=1" }), 'ASSAY_INVALID_FILTER', /expected a field/)
      await rejectsWith(h.assay.listRuns({ filter: "name = ''; DELETE FROM runs; --" }), 'ASSAY_INVALID_FILTER')
      await rejectsWith(h.assay.listRuns({ filter: 'params.`lr` = 1 UNION SELECT * FROM runs' }), 'ASSAY_INVALID_FILTER')
      assert.deepEqual(tables(), tablesBefore)
      assert.deepEqual(await h.assay.listRuns(), runsBefore)
      assert.equal((db.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n, 3)
    } finally {
      db.close()
    }
  })
})
