import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { AssayError } from '../../src/errors.js'
import type { EvalRecord } from '../../src/record/types.js'
import { Assay } from '../../src/sdk/assay.js'
import { newRun, rejectsWith, series } from '../store/fixtures.js'
import { filesUnder, openHarness, type Harness } from './harness.js'

function sha256(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

describe('Assay SDK', () => {
  let h: Harness
  beforeEach(async () => {
    h = await openHarness()
  })
  afterEach(async () => {
    await h.cleanup()
  })

  function dataset(name: string, content: string): { name: string; path: string; role: 'validation' } {
    const file = path.join(h.dir, `${name}.csv`)
    writeFileSync(file, content)
    return { name, path: file, role: 'validation' }
  }

  describe('startRun', () => {
    test('captures params, tags, datasets, environment, code, owner and lineage ids', async () => {
      const val = dataset('val', 'id,label\n1,0\n2,1\n')
      const parent = await h.start({ name: 'parent' })
      const run = await h.start({
        experiment: 'capture',
        name: 'child',
        params: { lr: 0.1, arch: { depth: 4 } },
        tags: { team: 'nlp' },
        seed: 7,
        datasets: [val],
        owner: 'carol',
        parentId: parent.id,
        groupId: 'sweep-9',
      })
      assert.match(run.id, /^[0-9a-f]{32}$/)
      assert.equal(run.experiment, 'capture')
      assert.equal(run.name, 'child')
      assert.equal(run.datasets[0].sha256, sha256('id,label\n1,0\n2,1\n'))
      const record = await h.assay.getRun(run.id)
      assert.equal(record.status, 'running')
      assert.deepEqual(record.params, { arch: { depth: 4 }, lr: 0.1 })
      assert.deepEqual(record.tags, { team: 'nlp' })
      assert.equal(record.seed, 7)
      assert.equal(record.seedSource, 'user')
      assert.equal(record.owner, 'carol')
      assert.equal(record.parentId, parent.id)
      assert.equal(record.groupId, 'sweep-9')
      assert.deepEqual(record.datasets, [{ name: 'val', role: 'validation', sha256: sha256('id,label\n1,0\n2,1\n'), kind: 'file', sizeBytes: 17, fileCount: 1, rows: 2, columns: ['id', 'label'], source: val.path }])
      assert.equal(record.environment.runtime, 'node')
      assert.equal(record.environment.runtimeVersion, process.versions.node)
      assert.deepEqual(record.environment.argv, process.argv)
      assert.equal(record.code.vcs, null, 'codeDir is outside git')
      assert.match(record.code.reason ?? '', /not inside a git work tree/)
      assert.ok(record.startTime <= Date.now())
      assert.equal(record.envelope.hardwareClass.length > 0, true)
    })

    test('a seed is drawn when absent, recorded as drawn and handed back as run.seed; a given seed, 0 included, is kept', async () => {
      const saved = process.env.ASSAY_SEED
      delete process.env.ASSAY_SEED
      try {
        const drawn = await Promise.all([h.start({}), h.start({}), h.start({})])
        for (const run of drawn) {
          assert.ok(Number.isSafeInteger(run.seed) && run.seed >= 0 && run.seed < 2 ** 32, `seed ${run.seed}`)
          const record = await h.assay.getRun(run.id)
          assert.equal(record.seed, run.seed)
          assert.equal(record.seedSource, 'drawn')
        }
        assert.ok(new Set(drawn.map((r) => r.seed)).size > 1, 'three drawn seeds are not all equal')
        const zero = await h.start({ seed: 0 })
        assert.equal(zero.seed, 0)
        assert.deepEqual([(await h.assay.getRun(zero.id)).seed, (await h.assay.getRun(zero.id)).seedSource], [0, 'user'])
        process.env.ASSAY_SEED = '1234'
        const replayed = await h.start({})
        assert.equal(replayed.seed, 1234, 'ASSAY_SEED hands a replayed seed back')
        assert.equal((await h.assay.getRun(replayed.id)).seedSource, 'user')
        const explicit = await h.start({ seed: 99 })
        assert.equal(explicit.seed, 99, 'an explicit seed wins over ASSAY_SEED')
      } finally {
        if (saved === undefined) delete process.env.ASSAY_SEED
        else process.env.ASSAY_SEED = saved
      }
    })

    test('the default run name is derived from the id; two datasets may not share a name', async () => {
      const run = await h.start({})
      assert.equal(run.name, `run-${run.id.slice(0, 8)}`)
      const a = dataset('a', 'x\n')
      await rejectsWith(h.start({ datasets: [a, { ...a }] }), 'ASSAY_INVALID_ARGUMENT', /unique/)
      assert.equal((await h.assay.listRuns()).length, 1)
    })
  })

  describe('metrics', () => {
    test('history is in step order; steps default to a counter that follows explicit steps', async () => {
      const run = await h.start({})
      await run.log({ loss: 3, acc: 0.1 })
      await run.log({ loss: 2 })
      await run.log({ loss: 1.5 }, { step: 10 })
      await run.log({ loss: 1.25 })
      await run.log({ loss: 9 }, { step: 5 })
      await run.log({ loss: 1.2 }, { step: 11 })
      await run.log({ loss: NaN, acc: Infinity })
      await run.flush()
      const loss = await h.assay.metricHistory(run.id, 'loss')
      assert.deepEqual(loss.map((p) => p.step), [0, 1, 5, 10, 11, 11, 12])
      assert.deepEqual(loss.map((p) => p.value), [3, 2, 9, 1.5, 1.25, 1.2, NaN], 'equal steps keep logging order')
      assert.ok(loss.every((p) => Number.isFinite(p.timestamp) && p.timestamp > 0))
      const acc = await h.assay.metricHistory(run.id, 'acc')
      assert.deepEqual(acc.map((p) => [p.step, p.value]), [[0, 0.1], [12, Infinity]])
      const summary = (await h.assay.getRun(run.id)).metrics.find((m) => m.key === 'loss')
      assert.ok(summary && Number.isNaN(summary.last))
      assert.deepEqual({ ...summary, last: 0 }, { key: 'loss', last: 0, lastStep: 12, min: 1.2, max: 9, count: 7 })
      assert.deepEqual(await h.assay.metricHistory(run.id, 'never-logged'), [])
    })

    test('explicit timestamps are kept; thousands of points across buffer growth come back in order', async () => {
      const run = await h.start({})
      for (let i = 0; i < 5000; i++) await run.log({ x: i * 0.5 }, { timestamp: 1_000_000 + i })
      await run.end()
      const history = await h.assay.metricHistory(run.id, 'x')
      assert.equal(history.length, 5000)
      assert.ok(history.every((p, i) => p.step === i && p.value === i * 0.5 && p.timestamp === 1_000_000 + i))
    })

    test('flush makes points durable: a second Assay on the same store sees them', async () => {
      const run = await h.start({})
      await run.log({ loss: 1 })
      await run.log({ loss: 0.5 })
      const other = await h.reopen()
      assert.deepEqual(await other.metricHistory(run.id, 'loss'), [], 'buffered points are not written yet')
      await run.flush()
      assert.deepEqual((await other.metricHistory(run.id, 'loss')).map((p) => p.value), [1, 0.5])
      await run.log({ loss: 0.25 })
      await run.end()
      assert.deepEqual((await other.metricHistory(run.id, 'loss')).map((p) => p.value), [1, 0.5, 0.25], 'end flushes too')
      assert.equal((await other.getRun(run.id.slice(0, 8))).status, 'finished')
    })

    test('an ended run refuses more logging; ending twice is harmless', async () => {
      const run = await h.start({})
      await run.log({ a: 1 })
      await run.end()
      await run.end()
      assert.equal(run.isActive, false)
      await rejectsWith(run.log({ a: 2 }), 'ASSAY_RUN_NOT_ACTIVE')
      await rejectsWith(run.logParams({ b: 1 }), 'ASSAY_RUN_NOT_ACTIVE')
      await rejectsWith(run.setTags({ b: '1' }), 'ASSAY_RUN_NOT_ACTIVE')
      await rejectsWith(run.logArtifact('x.txt', Buffer.from('x')), 'ASSAY_RUN_NOT_ACTIVE')
      const record = await h.assay.getRun(run.id)
      assert.equal(record.status, 'finished')
      assert.deepEqual(record.metrics.map((m) => [m.key, m.count]), [['a', 1]])
    })
  })

  describe('eval records', () => {
    const RECORDS: EvalRecord[] = [
      { id: 'q1', scores: { exact: 1, f1: 0.5 }, cluster: 'doc-1', latencyMs: 12.5, tokens: 30, cost: 0.001, outputHash: 'h1' },
      { id: 'q2', scores: { exact: 0, f1: NaN }, cluster: 'doc-1' },
      { id: 'q3', scores: { exact: NaN }, latencyMs: NaN },
      { id: 'q4', scores: { f1: -0, exact: -Infinity }, tokens: 0, outputHash: 'h4' },
      { id: 'ünïcødé "quoted"\n', scores: { exact: 1 }, cluster: '' },
    ]

    test('evalRecords returns exactly what was logged, NaN, -0 and missing values included', async () => {
      const run = await h.start({ datasets: [dataset('val', 'q\n')] })
      await run.logEval({ dataset: 'val', records: RECORDS.slice(0, 2) })
      await run.logEval({ dataset: 'val', records: RECORDS.slice(2) })
      await run.end()
      const got = await h.assay.evalRecords(run.id, 'val')
      assert.deepStrictEqual(got, RECORDS)
      assert.ok(Object.is(got[3].scores.f1, -0))
      assert.ok(Object.is(got[1].scores.f1, NaN))
      assert.equal('f1' in got[2].scores, false, 'a score that was not logged is absent, not NaN')
      const columns = await h.assay.evalColumns(run.id, 'val')
      assert.equal(columns.datasetSha256, run.datasets[0].sha256)
      assert.deepEqual(columns.missing['score:f1'], [2, 4])
      const summary = (await h.assay.getRun(run.id)).evals
      assert.deepEqual(summary, [{ dataset: 'val', datasetSha256: run.datasets[0].sha256, count: 5, scoreNames: ['exact', 'f1'] }])
    })

    test('a call larger than one stored chunk round-trips, missing values in every chunk included', async () => {
      const run = await h.start({ datasets: [dataset('big', 'x\n')] })
      const records: EvalRecord[] = Array.from({ length: 120_003 }, (_, i) => {
        const record: EvalRecord = { id: `ex-${i}`, scores: { acc: i % 2 } }
        if (i % 7 === 0) record.scores.bleu = i / 1000
        if (i % 11 === 0) record.latencyMs = i
        if (i % 13 === 0) record.cluster = `c${i % 5}`
        return record
      })
      await run.logEval({ dataset: 'big', records })
      await run.end()
      const got = await h.assay.evalRecords(run.id, 'big')
      assert.equal(got.length, records.length)
      assert.deepStrictEqual(got, records)
    })

    test('duplicate example ids are refused, within a call and across calls, and the refused call stores nothing', async () => {
      const run = await h.start({ datasets: [dataset('val', 'a\n'), dataset('test', 'b\n')] })
      await run.logEval({ dataset: 'val', records: [{ id: 'a', scores: { s: 1 } }] })
      await rejectsWith(run.logEval({ dataset: 'val', records: [{ id: 'b', scores: { s: 1 } }, { id: 'b', scores: { s: 0 } }] }), 'ASSAY_INVALID_ARGUMENT', /already logged/)
      await rejectsWith(run.logEval({ dataset: 'val', records: [{ id: 'c', scores: { s: 1 } }, { id: 'a', scores: { s: 0 } }] }), 'ASSAY_INVALID_ARGUMENT', /"a" was already logged/)
      await run.logEval({ dataset: 'test', records: [{ id: 'a', scores: { s: 0 } }] })
      await run.logEval({ dataset: 'val', records: [{ id: 'b', scores: { s: 0.5 } }, { id: 'c', scores: { s: 0.25 } }] })
      await run.end()
      assert.deepEqual(await h.assay.evalRecords(run.id, 'val'), [{ id: 'a', scores: { s: 1 } }, { id: 'b', scores: { s: 0.5 } }, { id: 'c', scores: { s: 0.25 } }])
      assert.deepEqual(await h.assay.evalRecords(run.id, 'test'), [{ id: 'a', scores: { s: 0 } }], 'the same id in another dataset is fine')
    })

    test('a logEval whose store write fails leaves its ids free: the same call again is not a "duplicate"', async () => {
      const run = await h.start({ datasets: [dataset('val', 'a\n')] })
      const records: EvalRecord[] = [{ id: 'a', scores: { s: 1 } }, { id: 'b', scores: { s: 0 } }]
      // Another process ends the run between two calls: the store refuses the write.
      const other = await h.reopen()
      await other.store.setRunStatus(run.id, 'killed', Date.now())
      await rejectsWith(run.logEval({ dataset: 'val', records }), 'ASSAY_RUN_NOT_ACTIVE')
      await rejectsWith(run.logEval({ dataset: 'val', records }), 'ASSAY_RUN_NOT_ACTIVE') // not "already logged"

      // A transient failure (a busy store) on a live run: the retry stores the records, once.
      const live = await h.start({ datasets: [dataset('val', 'a\n')] })
      const store = h.assay.store
      const original = store.logEval.bind(store)
      let failures = 1
      store.logEval = async (...args) => {
        if (failures-- > 0) throw new AssayError('ASSAY_STORE_BUSY', 'busy (injected)')
        return original(...args)
      }
      try {
        await rejectsWith(live.logEval({ dataset: 'val', records }), 'ASSAY_STORE_BUSY')
        await live.logEval({ dataset: 'val', records })
      } finally {
        store.logEval = original
      }
      await live.end()
      assert.deepEqual(await h.assay.evalRecords(live.id, 'val'), records)
    })

    test('a call written in pieces that fails midway: stored pieces keep their ids, the rest can be logged again', async () => {
      const run = await h.start({ datasets: [dataset('big', 'x\n')] })
      const records: EvalRecord[] = Array.from({ length: 120_000 }, (_, i) => ({ id: `ex-${i}`, scores: { acc: i % 3 } }))
      const store = h.assay.store
      const original = store.logEval.bind(store)
      let calls = 0
      store.logEval = async (...args) => {
        if (++calls === 2) throw new AssayError('ASSAY_STORE_BUSY', 'busy (injected)')
        return original(...args)
      }
      try {
        await rejectsWith(run.logEval({ dataset: 'big', records }), 'ASSAY_STORE_BUSY')
      } finally {
        store.logEval = original
      }
      assert.equal((await h.assay.evalRecords(run.id, 'big')).length, 50_000, 'the first piece was stored')
      await rejectsWith(run.logEval({ dataset: 'big', records }), 'ASSAY_INVALID_ARGUMENT', /"ex-0" was already logged/)
      await run.logEval({ dataset: 'big', records: records.slice(50_000) })
      await run.end()
      assert.deepStrictEqual(await h.assay.evalRecords(run.id, 'big'), records)
    })

    test('malformed records are refused whole', async () => {
      const run = await h.start({ datasets: [dataset('val', 'a\n')] })
      const bad: [unknown, RegExp][] = [
        ['not an array', /must be an array/],
        [[null], /must be an object/],
        [[{ id: '', scores: { s: 1 } }], /id must be/],
        [[{ id: 'x'.repeat(1025), scores: { s: 1 } }], /id must be/],
        [[{ id: 7, scores: { s: 1 } }], /id must be/],
        [[{ id: 'a', scores: {} }], /no scores/],
        [[{ id: 'a', scores: { s: '1' } }], /must be a number/],
        [[{ id: 'a', scores: [1] }], /scores must be an object/],
        [[{ id: 'a', scores: { s: 1 }, cluster: 3 }], /cluster must be a string/],
        [[{ id: 'a', scores: { s: 1 }, latencyMs: '3' }], /latencyMs must be a number/],
        [[{ id: 'ok', scores: { s: 1 } }, { id: 'a', scores: { s: 1 }, outputHash: 1 }], /outputHash/],
        [[{ id: 'a', scores: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`s${i}`, 1])) }], /65 scores/],
      ]
      for (const [records, message] of bad) {
        await rejectsWith(run.logEval({ dataset: 'val', records: records as EvalRecord[] }), 'ASSAY_INVALID_ARGUMENT', message)
      }
      await rejectsWith(run.logEval({ dataset: 'val', records: [{ id: 'a', scores: { '': 1 } }] }), 'ASSAY_INVALID_KEY')
      await run.flush()
      await rejectsWith(h.assay.evalRecords(run.id, 'val'), 'ASSAY_EVAL_NOT_FOUND')
      // Ids of refused calls were not used up.
      await run.logEval({ dataset: 'val', records: [{ id: 'ok', scores: { s: 1 } }, { id: 'a', scores: { s: 0 } }] })
      assert.equal((await h.assay.evalRecords(run.id, 'val')).length, 2)
    })

    test('a score named __proto__ (from JSON.parse) is refused rather than lost', async () => {
      const run = await h.start({ datasets: [dataset('val', 'a\n')] })
      await rejectsWith(run.logEval({ dataset: 'val', records: [{ id: 'a', scores: JSON.parse('{"__proto__": 1, "ok": 2}') }] }), 'ASSAY_INVALID_KEY', /reserved/)
      await run.logEval({ dataset: 'val', records: [{ id: 'a', scores: { ok: 2 } }] })
      await run.end()
      assert.deepEqual(await h.assay.evalRecords(run.id, 'val'), [{ id: 'a', scores: { ok: 2 } }])
    })

    test('logEval on a dataset the run did not declare is ASSAY_DATASET_NOT_FOUND', async () => {
      const run = await h.start({ datasets: [dataset('val', 'a\n')] })
      const error = await rejectsWith(run.logEval({ dataset: 'test', records: [{ id: 'a', scores: { s: 1 } }] }), 'ASSAY_DATASET_NOT_FOUND', /startRun/)
      assert.deepEqual((error as { details?: unknown }).details, { dataset: 'test', declared: ['val'] })
      await run.end()
      assert.deepEqual((await h.assay.getRun(run.id)).evals, [])
    })
  })

  describe('run lifecycle', () => {
    test('withRun: finished with the body’s value on return; failed, with the error rethrown, on throw', async () => {
      const value = await h.assay.withRun({ experiment: 'life', codeDir: h.codeDir, name: 'ok' }, async (run) => {
        await run.log({ x: 1 })
        return run.id
      })
      const ok = await h.assay.getRun(value)
      assert.equal(ok.status, 'finished')
      assert.ok(ok.endTime !== null && ok.endTime >= ok.startTime)
      assert.equal(ok.metrics[0]?.count, 1, 'points logged in the body are flushed')

      const boom = new Error('boom')
      let failedId = ''
      await assert.rejects(
        h.assay.withRun({ experiment: 'life', codeDir: h.codeDir, name: 'bad' }, async (run) => {
          failedId = run.id
          await run.log({ x: 2 })
          throw boom
        }),
        (error) => error === boom,
      )
      const failed = await h.assay.getRun(failedId)
      assert.equal(failed.status, 'failed')
      assert.ok(failed.endTime !== null)
      assert.equal(failed.metrics[0]?.last, 2, 'points logged before the throw are kept')
    })

    test('a running run whose heartbeat goes stale is marked crashed by the next reader', async () => {
      // Stale and fresh are set by state, not by waiting: the abandoned run's last sign of life is
      // an hour old (a process that stalled has no heartbeat timer firing, so it is written through
      // the store); the live one's heartbeat is backdated too, and then refreshed by a flush.
      const hourAgo = Date.now() - 3_600_000
      const quick = await h.reopen({ heartbeatTimeoutMs: 30 * 60_000 })
      const abandoned = newRun({ experiment: 'exp', name: 'abandoned', startTime: hourAgo })
      await quick.store.createRun(abandoned)
      const alive = await h.start({ on: quick, name: 'alive' })
      await quick.store.heartbeat(alive.id, hourAgo)
      await alive.log({ beat: 1 })
      await alive.flush()
      const runs = await quick.listRuns()
      assert.equal(runs.find((r) => r.name === 'abandoned')?.status, 'crashed')
      assert.equal(runs.find((r) => r.name === 'alive')?.status, 'running', 'a flush refreshed its heartbeat')
      const record = await quick.getRun(abandoned.id)
      assert.equal(record.status, 'crashed')
      assert.equal(record.endTime, hourAgo, 'it ended at its last sign of life')
      // The process was only stalled: its next write is proof of life, and nothing it logs is lost.
      await quick.store.logBatch(abandoned.id, { metrics: [series('late', [[0, 1]])] })
      assert.equal((await quick.getRun(abandoned.id)).status, 'running', 'a write revives a run marked crashed')
      assert.deepEqual((await quick.metricHistory(abandoned.id, 'late')).map((p) => p.value), [1])
      await quick.store.setRunStatus(abandoned.id, 'finished', Date.now())
      assert.equal((await quick.getRun(abandoned.id)).status, 'finished')
    })

    test('with the default timeout a fresh run is not marked crashed', async () => {
      const run = await h.start({})
      const record = await h.assay.getRun(run.id)
      assert.equal(record.status, 'running')
    })

    test('a heartbeat timeout that is not a positive number is refused', async () => {
      for (const bad of [0, -1, NaN, Infinity]) {
        await rejectsWith(Assay.open({ store: h.storeDir, heartbeatTimeoutMs: bad }), 'ASSAY_INVALID_ARGUMENT')
      }
    })
  })

  describe('artifacts and lineage', () => {
    test('logArtifact from bytes and from a file; useArtifact edges are visible from lineage(sha)', async () => {
      const producer = await h.start({ name: 'producer' })
      const file = path.join(h.dir, 'model.bin')
      writeFileSync(file, 'model bytes')
      const fromFile = await producer.logArtifact('model/final.bin', file)
      assert.deepEqual(fromFile, { name: 'model/final.bin', sha256: sha256('model bytes'), sizeBytes: 11 })
      const fromBytes = await producer.logArtifact('config.json', Buffer.from('{"a":1}'))
      await producer.end()
      assert.deepEqual(await h.assay.getArtifact(producer.id, 'model/final.bin'), Buffer.from('model bytes'))

      const consumer = await h.start({ name: 'consumer' })
      const used = await consumer.useArtifact({ runId: producer.id, name: 'model/final.bin' })
      assert.deepEqual(used, { name: `${producer.id}/model/final.bin`, sha256: fromFile.sha256 })
      const byHash = await consumer.useArtifact({ sha256: fromBytes.sha256 }, 'inputs/config.json')
      assert.equal(byHash.name, 'inputs/config.json')
      const defaultName = await consumer.useArtifact({ sha256: fromBytes.sha256 })
      assert.equal(defaultName.name, `sha256/${fromBytes.sha256}`)
      await rejectsWith(consumer.useArtifact({ runId: producer.id, name: 'nope.bin' }), 'ASSAY_ARTIFACT_NOT_FOUND')
      await rejectsWith(consumer.useArtifact({ sha256: sha256('never stored') }), 'ASSAY_ARTIFACT_NOT_FOUND')
      await consumer.end()

      const lineage = await h.assay.lineage(fromFile.sha256)
      assert.deepEqual(
        lineage.map((e) => [e.runId, e.direction, e.name]).sort(),
        [
          [producer.id, 'produced', 'model/final.bin'],
          [consumer.id, 'consumed', `${producer.id}/model/final.bin`],
        ].sort(),
      )
      const configLineage = await h.assay.lineage(fromBytes.sha256)
      assert.deepEqual(configLineage.map((e) => [e.runId, e.direction]).sort(), [[consumer.id, 'consumed'], [consumer.id, 'consumed'], [producer.id, 'produced']].sort())
      assert.deepEqual(await h.assay.getArtifact(consumer.id, 'inputs/config.json'), Buffer.from('{"a":1}'))
      const consumed = (await h.assay.getRun(consumer.id)).artifacts
      assert.ok(consumed.every((a) => a.direction === 'consumed'))
    })

    test('logArtifact of a file that does not exist, or of a directory, is refused and leaves nothing behind', async () => {
      const run = await h.start({})
      await rejectsWith(run.logArtifact('missing.bin', path.join(h.dir, 'no-such-file')), 'ASSAY_INVALID_ARGUMENT', /does not exist/)
      await rejectsWith(run.logArtifact('dir.bin', h.dir), 'ASSAY_INVALID_ARGUMENT', /directory/)
      assert.deepEqual(filesUnder(path.join(h.storeDir, 'artifacts')), [], 'no temporary file is left behind')
      await run.end()
      assert.deepEqual((await h.assay.getRun(run.id)).artifacts, [])
    })
  })
})
