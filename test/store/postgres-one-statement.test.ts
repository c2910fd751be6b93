/**
 * PostgreSQL's one-statement writes (docs/postgres.md "One-statement writes"): a batch (metrics,
 * params, tags), an eval chunk and a new run each cost one statement, and each refusal is the catalogue error the
 * store core's transaction gives (the same code and message), with nothing written. The points
 * and summaries they store equal the embedded store's for the same writes. Skipped, with the
 * reason, when ASSAY_TEST_POSTGRES_URL is not set.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import fc from 'fast-check'
import pg from 'pg'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { EvalChunk } from '../../src/store/chunk-codec.js'
import type { Store } from '../../src/store/store.js'
import { LIMITS } from '../../src/record/validate.js'
import { configParts } from '../../src/record/envelope.js'
import { dropSchema, freshSchema, tempDir } from './backends.js'
import { newRun, plain, rejectsWith, series } from './fixtures.js'

const URL_ = process.env.ASSAY_TEST_POSTGRES_URL
const SKIP = URL_ ? undefined : 'ASSAY_TEST_POSTGRES_URL is not set (.ci/run sets it when a local PostgreSQL is running)'
if (SKIP !== undefined) test('PostgreSQL one-statement writes', { skip: SKIP }, () => {})

function evalChunk(ids: string[], scores: Record<string, number[]>): EvalChunk {
  return { ids, clusters: null, outputHashes: null, numeric: new Map(Object.entries(scores).map(([k, v]) => [`score:${k}`, Float64Array.from(v)])), missing: new Map() }
}

/** Statements sent to PostgreSQL while `fn` runs: every connection's real query, counted. */
async function roundTrips(fn: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = []
  const query = pg.Client.prototype.query
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string }
    sent.push((typeof first === 'string' ? first : (first.text ?? '')).trim().split(/\s+/).slice(0, 2).join(' '))
    return (query as (...a: unknown[]) => unknown).apply(this, args)
  } as typeof query
  try {
    await fn()
  } finally {
    pg.Client.prototype.query = query
  }
  return sent
}

describe('PostgreSQL one-statement writes', { skip: SKIP }, () => {
  const url = URL_ as string
  const schema = freshSchema()
  let opened: Promise<PostgresStore> | undefined
  const store = (): Promise<PostgresStore> => (opened ??= PostgresStore.open(url, { schema, poolSize: 4 }))

  async function rows<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` })
    await client.connect()
    try {
      return (await client.query<T>(text, values)).rows
    } finally {
      await client.end()
    }
  }

  after(async () => {
    if (opened !== undefined) await (await opened).close()
    await dropSchema(url, schema)
  })

  test('a metrics batch, an eval chunk and a new run are one statement each, outside any transaction', async () => {
    const s = await store()
    const run = newRun()
    assert.deepEqual(await roundTrips(() => s.createRun(run)), ['SELECT assay_create_run($1,'])
    const batch = { batchId: 'one-trip-1', metrics: [series('loss', [[0, 1], [1, 0.5]]), series('acc', [[0, 0.1]])] }
    assert.deepEqual(await roundTrips(() => s.logBatch(run.id, batch)), ['SELECT outcome,'])
    assert.deepEqual(await roundTrips(() => s.logEval(run.id, 'val', 'a'.repeat(64), evalChunk(['x', 'y'], { f1: [1, 0] }), 'one-trip-2')), ['SELECT outcome,'])
    // Params and tags too.
    assert.deepEqual(await roundTrips(() => s.logBatch(run.id, { batchId: 'one-trip-3', params: { fresh: 2 }, tags: { t: 'x' }, metrics: [series('loss', [[2, 0.25]])] })), ['SELECT outcome,'])
    // Datasets take the core's transaction (their fingerprint part is computed there).
    const general = await roundTrips(() => s.logBatch(run.id, { datasets: [{ ...run.datasets[0], name: 'extra' }] }))
    assert.equal(general[0], 'BEGIN')
    assert.equal(general.at(-1), 'COMMIT')
    const stored = await s.getRun(run.id)
    assert.deepEqual(stored.metrics.map((m) => [m.key, m.count, m.last]), [['acc', 1, 0.1], ['loss', 3, 0.25]])
    assert.equal(stored.tags.t, 'x')
    assert.equal(stored.params.fresh, 2)
    assert.deepEqual(await storedFingerprint(run.id), { config: stored.envelope.config, parts: configParts(stored.envelope) })
  })

  /** What the run row holds: the config fingerprint listings show, and its parts. */
  async function storedFingerprint(id: string): Promise<{ config: string; parts: string | null }> {
    const [row] = await rows<{ config_fingerprint: string; config_parts: string | null }>('SELECT config_fingerprint, config_parts FROM runs WHERE id = $1', [id])
    return { config: row.config_fingerprint, parts: row.config_parts }
  }

  test('a batch that sets params: a conflict is the core\'s ASSAY_PARAM_CONFLICT, nothing of the batch is written, its id stays free', async () => {
    const s = await store()
    const run = newRun({ params: { lr: 0.1 }, tags: { team: 'a' } })
    await s.createRun(run)
    await s.logBatch(run.id, { metrics: [series('loss', [[0, 1]])] })
    const before = await s.getRun(run.id)
    const conflicting = { batchId: 'pc-1', params: { other: 3, lr: 0.2 }, tags: { team: 'b', added: 'x' }, metrics: [series('loss', [[1, 0.5]]), series('acc', [[0, 0.9]])] }
    const error = await rejectsWith(s.logBatch(run.id, conflicting), 'ASSAY_PARAM_CONFLICT', new RegExp(`^param "lr" of run ${run.id} is already 0\\.1; it cannot become 0\\.2$`))
    assert.deepEqual((error as { details?: unknown }).details, { key: 'lr', stored: '0.1', attempted: '0.2' })
    const after = await s.getRun(run.id)
    assert.deepEqual([after.params, after.tags, after.metrics], [before.params, before.tags, before.metrics])
    assert.deepEqual(await rows("SELECT batch_id FROM applied_batches WHERE batch_id = 'pc-1'"), [])
    // The corrected batch under the same id is written, once, however often it is sent.
    const corrected = { ...conflicting, params: { other: 3, lr: 0.1 } }
    await Promise.all(Array.from({ length: 5 }, () => s.logBatch(run.id, corrected)))
    await s.logBatch(run.id, corrected)
    const stored = await s.getRun(run.id)
    assert.deepEqual(stored.params, { lr: 0.1, other: 3 })
    assert.deepEqual(stored.tags, { team: 'b', added: 'x' })
    assert.deepEqual(plain(await s.metricHistory(run.id, 'loss')).values, [1, 0.5])
    assert.deepEqual(plain(await s.metricHistory(run.id, 'acc')).values, [0.9])
    assert.equal((await storedFingerprint(run.id)).config, stored.envelope.config)
    assert.notEqual(stored.envelope.config, before.envelope.config)
    // After the end, the applied batch is acknowledged again; a new one is refused.
    await s.setRunStatus(run.id, 'finished', Date.now())
    await s.logBatch(run.id, corrected)
    await rejectsWith(s.logBatch(run.id, { batchId: 'pc-2', tags: { late: 'yes' } }), 'ASSAY_RUN_NOT_ACTIVE', /is finished; nothing more can be logged/)
    assert.equal((await s.getRun(run.id)).metrics.find((m) => m.key === 'acc')?.count, 1)
  })

  test('too many params or tags: the core\'s ASSAY_VALUE_TOO_LARGE, nothing written; keys the run has may still be sent', async () => {
    const s = await store()
    const full = <T>(n: number, value: (i: number) => T): Record<string, T> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, value(i)]))
    const run = newRun({ params: full(LIMITS.paramsPerRun, (i) => i), tags: full(LIMITS.tagsPerRun, (i) => `v${i}`) })
    await s.createRun(run)
    await rejectsWith(s.logBatch(run.id, { batchId: 'lim-1', params: { k0: 0, extra: 1 } }), 'ASSAY_VALUE_TOO_LARGE', new RegExp(`run ${run.id} would hold ${LIMITS.paramsPerRun + 1} params; the limit is ${LIMITS.paramsPerRun} per run`))
    await rejectsWith(s.logBatch(run.id, { batchId: 'lim-2', tags: { k0: 'new', extra: 'x' } }), 'ASSAY_VALUE_TOO_LARGE', new RegExp(`run ${run.id} would hold ${LIMITS.tagsPerRun + 1} tags; the limit is ${LIMITS.tagsPerRun} per run`))
    assert.deepEqual(await rows("SELECT batch_id FROM applied_batches WHERE batch_id LIKE 'lim-%'"), [])
    await s.logBatch(run.id, { batchId: 'lim-2', params: { k1: 1 }, tags: { k0: 'new' } })
    const stored = await s.getRun(run.id)
    assert.equal(Object.keys(stored.params).length, LIMITS.paramsPerRun)
    assert.equal(stored.tags.k0, 'new')
    assert.equal(stored.params.extra, undefined)
  })

  test('params in any key order and text: the fingerprint the statement computes is the one JavaScript computes', async () => {
    const s = await store()
    const key = fc.constantFrom('0', '1', '9', '10', '01', '4294967294', '4294967295', 'a', 'B', 'é', 'ü', 'x\uE000', '\u{1F600}', 'q"uote', 'back\\slash', 'ß', 'a b', '-1', '1.5')
    const value = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.boolean(), fc.constant(null), fc.dictionary(fc.constantFrom('z', 'a', '2', '10'), fc.integer()).map((d) => ({ ...d })))
    const batches = fc.array(fc.dictionary(key, value, { maxKeys: 4 }), { minLength: 1, maxLength: 3 })
    await fc.assert(
      fc.asyncProperty(batches, async (drawn) => {
        const run = newRun({ params: { base: 1 } })
        await s.createRun(run)
        const expected: Record<string, unknown> = { base: 1 }
        for (const params of drawn) {
          // A key drawn again with another value is a conflict, which the tests above cover.
          const fresh = Object.fromEntries(Object.entries(params).filter(([k]) => !(k in expected)))
          Object.assign(expected, fresh)
          await s.logBatch(run.id, { params: fresh })
        }
        const stored = await s.getRun(run.id)
        assert.deepEqual(stored.params, expected)
        assert.equal((await storedFingerprint(run.id)).config, stored.envelope.config)
      }),
      { numRuns: 40 },
    )
  })

  test('a run without stored config parts (created before migration 13), or keys UTF-16 and code points order apart, takes the core\'s transaction', async () => {
    const s = await store()
    const old = newRun()
    await s.createRun(old)
    await rows('UPDATE runs SET config_parts = NULL WHERE id = $1', [old.id])
    const fallback = await roundTrips(() => s.logBatch(old.id, { params: { added: 1 }, metrics: [series('loss', [[0, 1]])] }))
    assert.deepEqual([fallback[0], fallback[1], fallback.at(-1)], ['SELECT outcome,', 'BEGIN', 'COMMIT'])
    let stored = await s.getRun(old.id)
    assert.deepEqual(await storedFingerprint(old.id), { config: stored.envelope.config, parts: configParts(stored.envelope) })
    assert.equal(stored.metrics[0]?.count, 1)
    // The transaction filled the parts: the next batch with params is one statement again.
    assert.deepEqual(await roundTrips(() => s.logBatch(old.id, { params: { more: 2 } })), ['SELECT outcome,'])
    assert.equal((await storedFingerprint(old.id)).config, (await s.getRun(old.id)).envelope.config)
    // '\u{1F600}' sorts before '\uE000' in UTF-16 (JavaScript) and after it by code point (PostgreSQL's "C").
    const run = newRun({ params: { '\uE000': 1 } })
    await s.createRun(run)
    const apart = await roundTrips(() => s.logBatch(run.id, { params: { '\u{1F600}': 2 } }))
    assert.equal(apart[1], 'BEGIN')
    stored = await s.getRun(run.id)
    assert.equal((await storedFingerprint(run.id)).config, stored.envelope.config)
  })

  test('an unknown run: ASSAY_RUN_NOT_FOUND, and the batch id is not remembered', async () => {
    const s = await store()
    const missing = 'f'.repeat(32)
    await rejectsWith(s.logBatch(missing, { batchId: 'nf-1', metrics: [series('loss', [[0, 1]])] }), 'ASSAY_RUN_NOT_FOUND', new RegExp(`no run has id ${missing}`))
    await rejectsWith(s.logEval(missing, 'val', 'a'.repeat(64), evalChunk(['x'], { f1: [1] }), 'nf-2'), 'ASSAY_RUN_NOT_FOUND')
    assert.deepEqual(await rows("SELECT batch_id FROM applied_batches WHERE batch_id LIKE 'nf-%'"), [])
    assert.deepEqual(await rows('SELECT key FROM metric_chunks WHERE run_id = $1 UNION ALL SELECT key FROM metric_summaries WHERE run_id = $1', [missing]), [])
  })

  test('an ended run: ASSAY_RUN_NOT_ACTIVE for new batches; a batch applied before it ended is still acknowledged', async () => {
    const s = await store()
    const run = newRun()
    await s.createRun(run)
    await s.logBatch(run.id, { batchId: 'end-1', metrics: [series('loss', [[0, 1]])] })
    await s.setRunStatus(run.id, 'finished', Date.now())
    // A client that lost the first answer sends the batch again: acknowledged, not doubled.
    await s.logBatch(run.id, { batchId: 'end-1', metrics: [series('loss', [[0, 1]])] })
    await rejectsWith(s.logBatch(run.id, { batchId: 'end-2', metrics: [series('loss', [[1, 2]])] }), 'ASSAY_RUN_NOT_ACTIVE', /is finished; nothing more can be logged/)
    await rejectsWith(s.logEval(run.id, 'val', 'a'.repeat(64), evalChunk(['x'], { f1: [1] }), 'end-3'), 'ASSAY_RUN_NOT_ACTIVE')
    const stored = await s.getRun(run.id)
    assert.equal(stored.status, 'finished')
    assert.deepEqual(plain(await s.metricHistory(run.id, 'loss')).values, [1])
    assert.deepEqual((await rows<{ batch_id: string }>("SELECT batch_id FROM applied_batches WHERE batch_id LIKE 'end-%' ORDER BY batch_id")).map((r) => r.batch_id), ['end-1'])
  })

  test('a batch id sent twice, also concurrently, is applied once (metrics and eval chunks)', async () => {
    const s = await store()
    const run = newRun()
    await s.createRun(run)
    const batch = { batchId: 'dup-1', metrics: [series('loss', [[0, 1], [1, 2]])] }
    await Promise.all(Array.from({ length: 6 }, () => s.logBatch(run.id, batch)))
    await s.logBatch(run.id, batch)
    const chunk = evalChunk(['x', 'y'], { f1: [1, 0] })
    await Promise.all(Array.from({ length: 4 }, () => s.logEval(run.id, 'val', 'a'.repeat(64), chunk, 'dup-2')))
    assert.deepEqual(plain(await s.metricHistory(run.id, 'loss')).values, [1, 2])
    assert.equal((await s.getRun(run.id)).metrics[0]?.count, 2)
    assert.deepEqual((await s.evalColumns(run.id, 'val')).ids, ['x', 'y'])
  })

  test('too many metric keys: ASSAY_VALUE_TOO_LARGE, nothing written, the batch id free for a corrected batch', async () => {
    const s = await store()
    const run = newRun()
    await s.createRun(run)
    const limit = LIMITS.metricKeysPerRun
    const keys = Array.from({ length: limit }, (_, i) => `k${i}`)
    await s.logBatch(run.id, { metrics: keys.map((k) => series(k, [[0, 1]])) })
    const over = { batchId: 'keys-1', metrics: [series('k0', [[1, 2]]), series('extra', [[0, 1]])] }
    await rejectsWith(s.logBatch(run.id, over), 'ASSAY_VALUE_TOO_LARGE', new RegExp(`run ${run.id} would hold ${limit + 1} metric keys; the limit is ${limit} per run`))
    assert.deepEqual(plain(await s.metricHistory(run.id, 'k0')).values, [1])
    // Updating keys the run already has is allowed at the limit.
    await s.logBatch(run.id, { batchId: 'keys-1', metrics: [series('k0', [[1, 2]])] })
    assert.deepEqual(plain(await s.metricHistory(run.id, 'k0')).values, [1, 2])
  })

  test('an eval chunk against another dataset hash: the core message, nothing written', async () => {
    const s = await store()
    const run = newRun()
    await s.createRun(run)
    await s.logEval(run.id, 'val', 'a'.repeat(64), evalChunk(['x'], { f1: [1] }))
    await rejectsWith(s.logEval(run.id, 'val', 'b'.repeat(64), evalChunk(['y'], { f1: [0] }), 'sha-1'), 'ASSAY_INVALID_ARGUMENT', new RegExp(`eval records of val in run ${run.id} were logged against a{64}, not b{64}`))
    // New score names are appended in order; known ones are not repeated.
    await s.logEval(run.id, 'val', 'a'.repeat(64), evalChunk(['z'], { acc: [1], f1: [0] }))
    const columns = await s.evalColumns(run.id, 'val')
    assert.deepEqual(columns.ids, ['x', 'z'])
    assert.deepEqual((await rows<{ score_names: string }>('SELECT score_names FROM eval_sets WHERE run_id = $1', [run.id]))[0]?.score_names, '["f1","acc"]')
    assert.deepEqual(await rows("SELECT batch_id FROM applied_batches WHERE batch_id = 'sha-1'"), [])
  })

  test('a run id taken: ASSAY_INVALID_ARGUMENT, and the second record left no experiment, param or tag behind', async () => {
    const s = await store()
    const run = newRun({ experiment: 'first-exp' })
    await s.createRun(run)
    await rejectsWith(s.createRun({ ...run, experiment: 'never-created', params: { other: 1 }, tags: { other: 'x' } }), 'ASSAY_INVALID_ARGUMENT', new RegExp(`a run with id ${run.id} already exists`))
    assert.deepEqual(await rows("SELECT name FROM experiments WHERE name = 'never-created'"), [])
    const stored = await s.getRun(run.id)
    assert.equal(stored.experiment, 'first-exp')
    assert.deepEqual(stored.params, run.params)
    assert.deepEqual(stored.tags, run.tags)
    assert.deepEqual(stored.datasets, run.datasets)
  })

  test('a write revives a run a reader marked crashed', async () => {
    const s = await store()
    const run = newRun()
    await s.createRun(run)
    await rows("UPDATE runs SET status = 'crashed', end_time = heartbeat_at WHERE id = $1", [run.id])
    await s.logBatch(run.id, { metrics: [series('loss', [[0, 1]])] })
    const stored = await s.getRun(run.id)
    assert.equal(stored.status, 'running')
    assert.equal(stored.endTime, null)
  })

  test('a batch rewrites the heartbeat only when it is 5 s old or more, and a crashed run at once', async () => {
    const s = await store()
    const startTime = Date.now() - 1000
    const run = newRun({ startTime })
    await s.createRun(run)
    await s.logBatch(run.id, { metrics: [series('loss', [[0, 1]])] })
    await s.logBatch(run.id, { tags: { a: 'b' } })
    assert.equal((await s.getRun(run.id)).heartbeatAt, startTime, 'a heartbeat younger than 5 s stands')
    const stale = Date.now() - 5001
    await rows('UPDATE runs SET heartbeat_at = $2 WHERE id = $1', [run.id, stale])
    const before = Date.now()
    await s.logBatch(run.id, { metrics: [series('loss', [[1, 2]])] })
    assert.ok((await s.getRun(run.id)).heartbeatAt >= before, 'an older one is refreshed')
    // Marked crashed with a fresh heartbeat (a reader with a short timeout): the next batch revives it.
    await rows("UPDATE runs SET status = 'crashed', end_time = heartbeat_at WHERE id = $1", [run.id])
    await s.logBatch(run.id, { metrics: [series('loss', [[2, 3]])] })
    const revived = await s.getRun(run.id)
    assert.deepEqual([revived.status, revived.endTime], ['running', null])
    assert.deepEqual(revived.metrics.map((m) => [m.key, m.count, m.last, m.lastStep]), [['loss', 3, 3, 2]])
  })

  test('the same batches store the same points and summaries as the embedded store (NaN, ±Infinity, repeated keys and steps)', async () => {
    const s = await store()
    const { dir, cleanup } = tempDir()
    const embedded = await SqliteStore.open(dir)
    try {
      const value = fc.oneof(fc.double({ noNaN: false }), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0))
      const point = fc.tuple(fc.integer({ min: 0, max: 5 }), value)
      const oneSeries = fc.record({ key: fc.constantFrom('a', 'b', 'c'), points: fc.array(point, { minLength: 1, maxLength: 4 }) })
      const batches = fc.array(fc.array(oneSeries, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 })
      await fc.assert(
        fc.asyncProperty(batches, async (drawn) => {
          const run = newRun()
          const stores: Store[] = [s, embedded]
          for (const target of stores) await target.createRun(run)
          for (const [i, batch] of drawn.entries()) {
            const metrics = batch.map((m) => series(m.key, m.points))
            // Every other batch sets a param and a tag too, so both statements' folds are compared.
            const extra = i % 2 === 0 ? {} : { params: { [`p${i}`]: i }, tags: { t: `v${i}` } }
            for (const target of stores) await target.logBatch(run.id, { metrics, ...extra })
          }
          const [a, b] = await Promise.all(stores.map((target) => target.getRun(run.id)))
          assert.deepEqual(a.metrics, b.metrics)
          assert.deepEqual([a.params, a.tags, a.envelope], [b.params, b.tags, b.envelope])
          assert.equal((await storedFingerprint(run.id)).config, b.envelope.config)
          for (const m of b.metrics) assert.deepEqual(plain(await s.metricHistory(run.id, m.key)), plain(await embedded.metricHistory(run.id, m.key)))
        }),
        { numRuns: 25 },
      )
    } finally {
      await embedded.close()
      cleanup()
    }
  })
})
