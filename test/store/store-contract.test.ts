/**
 * The store contract (src/store/store.ts), written once and run against every backend in
 * STORE_BACKENDS. Tests talk to the Store interface only; what is backend-specific (damaging a
 * blob, listing blobs) comes from the backend's factory.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { auditHash, GENESIS_HASH } from '../../src/audit/audit-hash.js'
import { nextAuditRecord } from '../../src/audit/audit-log.js'
import { gatePolicyAuditBody } from '../../src/promotion/gate-policy.js'
import { computeEnvelope } from '../../src/record/envelope.js'
import type { AuditRecord } from '../../src/record/types.js'
import type { EvalChunk } from '../../src/store/chunk-codec.js'
import type { Store } from '../../src/store/store.js'
import { LAX_CRITERION, gateYaml } from '../gates/helpers.js'
import { STORE_BACKENDS, tempDir, type OpenedStore } from './backends.js'
import { CODE, DATASETS, ENVIRONMENT, newRun, plain, readBytes, rejectsWith, runId, series } from './fixtures.js'

function sha256(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function evalChunk(parts: Partial<EvalChunk> & { ids: string[] }): EvalChunk {
  return { clusters: null, outputHashes: null, numeric: new Map(), missing: new Map(), ...parts }
}

/** Everything a reader can see of one run, to compare before and after a refused write. */
async function snapshot(store: Store, id: string): Promise<unknown> {
  const run = await store.getRun(id)
  const histories: Record<string, unknown> = {}
  for (const m of run.metrics) histories[m.key] = plain(await store.metricHistory(id, m.key))
  const evals: Record<string, unknown> = {}
  for (const e of run.evals) evals[e.dataset] = await store.evalColumns(id, e.dataset)
  const listed = (await store.listRuns({})).find((r) => r.id === id)
  return { run, histories, evals, listed }
}

for (const backend of STORE_BACKENDS) {
  // A skipped describe is not counted in the summary's "# skipped": this test is, so the skip shows.
  if (backend.skip !== undefined) test(`store contract: ${backend.name}`, { skip: backend.skip }, () => {})
  describe(`store contract: ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStore
    let store: Store

    beforeEach(async () => {
      opened = await backend.open()
      store = opened.store
    })
    afterEach(async () => {
      await opened.dispose()
    })

    describe('createRun / getRun', () => {
      test('every part of the record comes back as it went in', async () => {
        const run = newRun({ parentId: runId(), groupId: 'sweep-1', seedSource: 'drawn', seed: 2 ** 32 - 1 })
        await store.createRun(run)
        const got = await store.getRun(run.id)
        assert.equal(got.id, run.id)
        assert.equal(got.experiment, run.experiment)
        assert.equal(got.name, run.name)
        assert.equal(got.owner, run.owner)
        assert.equal(got.status, 'running')
        assert.equal(got.startTime, run.startTime)
        assert.equal(got.endTime, null)
        assert.equal(got.heartbeatAt, run.startTime)
        assert.equal(got.parentId, run.parentId)
        assert.equal(got.groupId, 'sweep-1')
        assert.deepEqual(got.params, run.params)
        assert.equal(got.seed, 2 ** 32 - 1)
        assert.equal(got.seedSource, 'drawn')
        assert.deepEqual(got.tags, run.tags)
        assert.deepEqual(got.environment, ENVIRONMENT)
        assert.deepEqual(got.code, CODE)
        assert.deepEqual(
          got.datasets,
          [...DATASETS].sort((a, b) => a.name.localeCompare(b.name)),
        )
        assert.deepEqual(got.metrics, [])
        assert.deepEqual(got.evals, [])
        assert.deepEqual(got.artifacts, [])
        assert.deepEqual(got.envelope, computeEnvelope(run))
      })

      test('a second run with an existing id is refused and the first is untouched', async () => {
        const run = newRun({ name: 'first' })
        await store.createRun(run)
        await rejectsWith(store.createRun({ ...run, name: 'second' }), 'ASSAY_INVALID_ARGUMENT')
        assert.equal((await store.getRun(run.id)).name, 'first')
      })

      test('a code version without git and a run without datasets, params or tags round-trip', async () => {
        const run = newRun({ code: { vcs: null, reason: 'not a git work tree' }, datasets: [], params: {}, tags: {}, environment: { ...ENVIRONMENT, gpu: null, lockfile: null } })
        await store.createRun(run)
        const got = await store.getRun(run.id)
        assert.deepEqual(got.code, { vcs: null, reason: 'not a git work tree' })
        assert.deepEqual(got.datasets, [])
        assert.deepEqual(got.params, {})
        assert.deepEqual(got.tags, {})
        assert.equal(got.environment.gpu, null)
        assert.equal(got.environment.lockfile, null)
      })

      test('an unknown run id is ASSAY_RUN_NOT_FOUND', async () => {
        await rejectsWith(store.getRun(runId()), 'ASSAY_RUN_NOT_FOUND')
        await rejectsWith(store.logBatch(runId(), { tags: { a: 'b' } }), 'ASSAY_RUN_NOT_FOUND')
      })
    })

    describe('logBatch', () => {
      test('params, tags and metrics are written; NaN and ±Infinity read back exactly', async () => {
        const run = newRun({ params: { lr: 0.1 }, tags: { team: 'a' } })
        await store.createRun(run)
        await store.logBatch(run.id, {
          params: { batch: 32, lr: 0.1 },
          tags: { team: 'b', extra: 'yes' },
          metrics: [series('loss', [[0, 2.5], [1, NaN], [2, Infinity], [3, -Infinity], [4, -0], [5, 0.25]])],
        })
        const got = await store.getRun(run.id)
        assert.deepEqual(got.params, { batch: 32, lr: 0.1 })
        assert.deepEqual(got.tags, { extra: 'yes', team: 'b' })
        const history = plain(await store.metricHistory(run.id, 'loss'))
        assert.deepEqual(history.steps, [0, 1, 2, 3, 4, 5])
        assert.deepEqual(history.values, [2.5, NaN, Infinity, -Infinity, -0, 0.25])
        assert.ok(Object.is(history.values[4], -0), '-0 is kept bit for bit')
        assert.deepEqual(history.timestamps, [0, 1, 2, 3, 4, 5].map((i) => 1_700_000_000_500 + i))
        const [loss] = got.metrics
        assert.deepEqual({ ...loss, min: null }, { key: 'loss', last: 0.25, lastStep: 5, min: null, max: 2.5, count: 6 })
        // min is over finite values (NaN and ±Infinity left out); the zero's sign is not promised.
        assert.ok(loss.min === 0, `min is zero, got ${loss.min}`)
      })

      test('summaries: last is the value at the highest step, min/max over finite values, count of all points', async () => {
        const run = newRun()
        await store.createRun(run)
        await store.logBatch(run.id, { metrics: [series('a', [[0, 3], [5, 1], [2, 7]]), series('nan_last', [[0, 1], [1, NaN]])] })
        await store.logBatch(run.id, { metrics: [series('a', [[4, -2]]), series('inf_last', [[0, -Infinity], [1, Infinity]])] })
        const byKey = Object.fromEntries((await store.getRun(run.id)).metrics.map((m) => [m.key, m]))
        assert.deepEqual(byKey.a, { key: 'a', last: 1, lastStep: 5, min: -2, max: 7, count: 4 })
        assert.ok(Number.isNaN(byKey.nan_last.last), 'a NaN last value reads back as NaN')
        assert.equal(byKey.nan_last.min, 1)
        assert.equal(byKey.nan_last.max, 1)
        assert.equal(byKey.inf_last.last, Infinity)
        assert.equal(byKey.inf_last.min, null, 'no finite values: min is null')
        assert.equal(byKey.inf_last.max, null)
        assert.equal(byKey.inf_last.count, 2)
        const listed = (await store.listRuns({})).find((r) => r.id === run.id)
        assert.equal(listed?.metrics.a, 1)
        assert.equal(listed?.metrics.inf_last, Infinity)
        assert.ok(Number.isNaN(listed?.metrics.nan_last))
      })

      test('equal steps: the value logged last wins, within a batch and across batches', async () => {
        const run = newRun()
        await store.createRun(run)
        await store.logBatch(run.id, { metrics: [series('acc', [[3, 0.1], [3, 0.2]])] })
        let acc = (await store.getRun(run.id)).metrics[0]
        assert.equal(acc.last, 0.2)
        await store.logBatch(run.id, { metrics: [series('acc', [[3, 0.3], [1, 0.9]])] })
        acc = (await store.getRun(run.id)).metrics[0]
        assert.equal(acc.last, 0.3)
        assert.equal(acc.lastStep, 3)
        assert.equal(acc.count, 4)
        assert.deepEqual(plain(await store.metricHistory(run.id, 'acc')).values, [0.1, 0.2, 0.3, 0.9])
      })

      test('the same param logged again with the same value is accepted, key order of objects notwithstanding', async () => {
        const run = newRun({ params: { opt: { name: 'adam', lr: 0.1 } } })
        await store.createRun(run)
        await store.logBatch(run.id, { params: { opt: { lr: 0.1, name: 'adam' } } })
        assert.deepEqual((await store.getRun(run.id)).params, { opt: { lr: 0.1, name: 'adam' } })
      })

      test('a param conflict is ASSAY_PARAM_CONFLICT and nothing of that batch is written', async () => {
        const run = newRun({ params: { lr: 0.1 }, tags: { team: 'a' } })
        await store.createRun(run)
        await store.logBatch(run.id, { metrics: [series('loss', [[0, 1]])] })
        const before = await snapshot(store, run.id)
        const error = await rejectsWith(
          store.logBatch(run.id, {
            params: { fresh: 1, lr: 0.2 },
            tags: { team: 'b', added: 'x' },
            metrics: [series('loss', [[1, 0.5]]), series('acc', [[0, 0.9]])],
          }),
          'ASSAY_PARAM_CONFLICT',
          /lr/,
        )
        assert.equal((error as { details?: { key?: string } }).details?.key, 'lr')
        assert.deepEqual(await snapshot(store, run.id), before)
        const got = await store.getRun(run.id)
        assert.deepEqual(got.params, { lr: 0.1 })
        assert.equal(got.metrics.find((m) => m.key === 'acc'), undefined)
        assert.equal((await store.metricHistory(run.id, 'acc')).values.length, 0)
      })

      test('a changed param changes the config fingerprint in listings and in getRun alike', async () => {
        const run = newRun({ params: { lr: 0.1 } })
        await store.createRun(run)
        const before = (await store.getRun(run.id)).envelope.config
        await store.logBatch(run.id, { params: { dropout: 0.5 } })
        const after = await store.getRun(run.id)
        assert.notEqual(after.envelope.config, before)
        assert.equal((await store.listRuns({})).find((r) => r.id === run.id)?.configFingerprint, after.envelope.config)
      })

      test('datasets added to a running run join the record and its fingerprints; the same name and sha256 again is no change', async () => {
        const run = newRun({ datasets: [DATASETS[0]] })
        await store.createRun(run)
        const before = await store.getRun(run.id)
        const added = { ...DATASETS[1], kind: 'reference' as const }
        await store.logBatch(run.id, { datasets: [added] })
        await store.logBatch(run.id, { datasets: [added, { ...DATASETS[0], role: 'other' }] })
        const after = await store.getRun(run.id)
        assert.deepEqual(after.datasets, [DATASETS[0], added])
        // The record is as if both datasets had been recorded at creation: compare sees one config.
        assert.deepEqual(after.envelope, computeEnvelope({ ...run, datasets: [DATASETS[0], added] }))
        assert.notEqual(after.envelope.config, before.envelope.config)
        assert.equal((await store.listRuns({})).find((r) => r.id === run.id)?.configFingerprint, after.envelope.config)
      })

      test('a dataset name with another sha256 is ASSAY_DATASET_CONFLICT and nothing of that batch is written', async () => {
        const run = newRun({ datasets: [DATASETS[0]] })
        await store.createRun(run)
        const before = await snapshot(store, run.id)
        const error = await rejectsWith(
          store.logBatch(run.id, { params: { fresh: 1 }, tags: { t: 'x' }, metrics: [series('loss', [[0, 1]])], datasets: [DATASETS[1], { ...DATASETS[0], sha256: 'e'.repeat(64) }] }),
          'ASSAY_DATASET_CONFLICT',
          /train/,
        )
        assert.equal((error as { details?: { stored?: string } }).details?.stored, 'c'.repeat(64))
        assert.deepEqual(await snapshot(store, run.id), before)
      })

      test('a malformed dataset is ASSAY_INVALID_ARGUMENT and adding one to an ended run is ASSAY_RUN_NOT_ACTIVE', async () => {
        const run = newRun({ datasets: [] })
        await store.createRun(run)
        await rejectsWith(store.logBatch(run.id, { datasets: [{ ...DATASETS[1], sha256: 'ABC' }] }), 'ASSAY_INVALID_ARGUMENT', /sha256/)
        await rejectsWith(store.logBatch(run.id, { datasets: [{ ...DATASETS[1], role: 'training' as never }] }), 'ASSAY_INVALID_ARGUMENT', /role/)
        await store.setRunStatus(run.id, 'finished', run.startTime + 1000)
        await rejectsWith(store.logBatch(run.id, { datasets: [DATASETS[1]] }), 'ASSAY_RUN_NOT_ACTIVE')
        assert.deepEqual((await store.getRun(run.id)).datasets, [])
      })

      test('logging to an ended run is ASSAY_RUN_NOT_ACTIVE and changes nothing', async () => {
        const run = newRun()
        await store.createRun(run)
        await store.logBatch(run.id, { metrics: [series('loss', [[0, 1]])] })
        await store.setRunStatus(run.id, 'finished', run.startTime + 1000)
        const before = await snapshot(store, run.id)
        await rejectsWith(store.logBatch(run.id, { metrics: [series('loss', [[1, 0.5]])] }), 'ASSAY_RUN_NOT_ACTIVE')
        await rejectsWith(store.logBatch(run.id, { params: { z: 1 } }), 'ASSAY_RUN_NOT_ACTIVE')
        await rejectsWith(store.logEval(run.id, 'val', 'd'.repeat(64), evalChunk({ ids: ['a'], numeric: new Map([['score:x', Float64Array.of(1)]]) })), 'ASSAY_RUN_NOT_ACTIVE')
        await rejectsWith(store.putArtifact(run.id, 'late.txt', { bytes: Buffer.from('late') }, 'produced'), 'ASSAY_RUN_NOT_ACTIVE')
        await rejectsWith(store.setRunStatus(run.id, 'failed', run.startTime + 2000), 'ASSAY_RUN_NOT_ACTIVE')
        assert.deepEqual(await snapshot(store, run.id), before)
        const got = await store.getRun(run.id)
        assert.equal(got.status, 'finished')
        assert.equal(got.endTime, run.startTime + 1000)
      })
    })

    describe('eval chunks', () => {
      test('round-trip across chunks: missing scores stay missing, logged NaN stays NaN, clusters and output hashes kept', async () => {
        const run = newRun()
        await store.createRun(run)
        await store.logEval(
          run.id,
          'val',
          'd'.repeat(64),
          evalChunk({
            ids: ['q1', 'q2', 'q3'],
            clusters: ['c1', null, 'c2'],
            numeric: new Map([
              ['score:exact', Float64Array.of(1, NaN, 0)],
              ['score:f1', Float64Array.of(0.5, NaN, NaN)],
              ['latencyMs', Float64Array.of(12, 15, Infinity)],
            ]),
            missing: new Map([['score:f1', [1, 2]]]),
          }),
        )
        await store.logEval(
          run.id,
          'val',
          'd'.repeat(64),
          evalChunk({
            ids: ['q4', 'q5'],
            outputHashes: ['h4', null],
            numeric: new Map([['score:exact', Float64Array.of(-Infinity, 1)], ['tokens', Float64Array.of(7, 8)]]),
          }),
        )
        const cols = await store.evalColumns(run.id, 'val')
        assert.equal(cols.dataset, 'val')
        assert.equal(cols.datasetSha256, 'd'.repeat(64))
        assert.deepEqual(cols.ids, ['q1', 'q2', 'q3', 'q4', 'q5'])
        assert.deepEqual(cols.clusters, ['c1', null, 'c2', null, null])
        assert.deepEqual(cols.outputHashes, [null, null, null, 'h4', null])
        assert.deepEqual([...cols.scores.exact], [1, NaN, 0, -Infinity, 1])
        assert.deepEqual([...cols.scores.f1].slice(0, 1), [0.5])
        assert.deepEqual([...(cols.latencyMs ?? [])].slice(0, 3), [12, 15, Infinity])
        assert.deepEqual([...(cols.tokens ?? [])].slice(3), [7, 8])
        assert.equal(cols.cost, null)
        // q2's exact score was logged as NaN: not missing. f1 is missing at 1 and 2 and for the whole second chunk.
        assert.deepEqual(cols.missing['score:f1'], [1, 2, 3, 4])
        assert.equal(cols.missing['score:exact'], undefined)
        assert.deepEqual(cols.missing.latencyMs, [3, 4])
        assert.deepEqual(cols.missing.tokens, [0, 1, 2])
        const summary = (await store.getRun(run.id)).evals
        assert.deepEqual(summary, [{ dataset: 'val', datasetSha256: 'd'.repeat(64), count: 5, scoreNames: ['exact', 'f1'] }])
      })

      test('records against another version of the dataset are refused and nothing is added', async () => {
        const run = newRun()
        await store.createRun(run)
        const chunk = evalChunk({ ids: ['a'], numeric: new Map([['score:x', Float64Array.of(1)]]) })
        await store.logEval(run.id, 'val', 'd'.repeat(64), chunk)
        const before = await snapshot(store, run.id)
        await rejectsWith(store.logEval(run.id, 'val', 'e'.repeat(64), evalChunk({ ids: ['b'], numeric: new Map([['score:x', Float64Array.of(0)]]) })), 'ASSAY_INVALID_ARGUMENT', /eeee/)
        assert.deepEqual(await snapshot(store, run.id), before)
      })

      test('a dataset without eval records is ASSAY_EVAL_NOT_FOUND', async () => {
        const run = newRun()
        await store.createRun(run)
        await rejectsWith(store.evalColumns(run.id, 'val'), 'ASSAY_EVAL_NOT_FOUND')
      })
    })

    describe('artifacts', () => {
      test('bytes and files round-trip; the same bytes twice are stored once', async () => {
        const { dir, cleanup } = tempDir()
        try {
          const a = newRun()
          const b = newRun({ name: 'run-two' })
          await store.createRun(a)
          await store.createRun(b)
          const bytes = Buffer.from('model weights \u0000\u00ff', 'utf8')
          const file = path.join(dir, 'weights.bin')
          writeFileSync(file, bytes)
          const r1 = await store.putArtifact(a.id, 'model/weights.bin', { bytes }, 'produced')
          const r2 = await store.putArtifact(a.id, 'copy.bin', { path: file }, 'produced')
          const r3 = await store.putArtifact(b.id, 'model/weights.bin', { bytes: new Uint8Array(bytes) }, 'produced')
          for (const ref of [r1, r2, r3]) {
            assert.equal(ref.sha256, sha256(bytes))
            assert.equal(ref.sizeBytes, bytes.length)
            assert.equal(ref.direction, 'produced')
          }
          assert.deepEqual(await opened.blobs(), [sha256(bytes)], 'one blob for three puts of the same bytes')
          assert.deepEqual(await readBytes(store, a.id, 'model/weights.bin'), bytes)
          assert.deepEqual(await readBytes(store, a.id, 'copy.bin'), bytes)
          assert.deepEqual(await readBytes(store, b.id, 'model/weights.bin'), bytes)
          const artifacts = (await store.getRun(a.id)).artifacts
          assert.deepEqual(
            artifacts.map((r) => [r.name, r.sha256, r.sizeBytes, r.direction]).sort(),
            [['copy.bin', sha256(bytes), bytes.length, 'produced'], ['model/weights.bin', sha256(bytes), bytes.length, 'produced']],
          )
          await store.putArtifact(a.id, 'other.txt', { bytes: Buffer.from('other') }, 'produced')
          assert.deepEqual(await opened.blobs(), [sha256(bytes), sha256('other')].sort())
        } finally {
          cleanup()
        }
      })

      test('putting the same name again with the same bytes is idempotent; with other bytes it is refused', async () => {
        const run = newRun()
        await store.createRun(run)
        await store.putArtifact(run.id, 'a.txt', { bytes: Buffer.from('one') }, 'produced')
        await store.putArtifact(run.id, 'a.txt', { bytes: Buffer.from('one') }, 'produced')
        await rejectsWith(store.putArtifact(run.id, 'a.txt', { bytes: Buffer.from('two') }, 'produced'), 'ASSAY_PARAM_CONFLICT')
        assert.deepEqual(await readBytes(store, run.id, 'a.txt'), Buffer.from('one'))
        assert.equal((await store.getRun(run.id)).artifacts.length, 1)
      })

      test('a read verifies the bytes: a damaged blob is ASSAY_ARTIFACT_CORRUPT, never the damaged bytes', async () => {
        const run = newRun()
        await store.createRun(run)
        const ref = await store.putArtifact(run.id, 'model.bin', { bytes: Buffer.from('pristine') }, 'produced')
        assert.deepEqual(await readBytes(store, run.id, 'model.bin'), Buffer.from('pristine'))
        await opened.corruptBlob(ref.sha256)
        await rejectsWith(readBytes(store, run.id, 'model.bin'), 'ASSAY_ARTIFACT_CORRUPT', new RegExp(ref.sha256))
      })

      test('unknown artifacts and unknown content are ASSAY_ARTIFACT_NOT_FOUND', async () => {
        const run = newRun()
        await store.createRun(run)
        await rejectsWith(readBytes(store, run.id, 'nope.txt'), 'ASSAY_ARTIFACT_NOT_FOUND')
        await rejectsWith(store.putArtifact(run.id, 'used', { sha256: sha256('never stored') }, 'consumed'), 'ASSAY_ARTIFACT_NOT_FOUND')
        assert.deepEqual((await store.getRun(run.id)).artifacts, [])
      })

      test('lineage lists the produced and consumed edges of a sha256', async () => {
        const producer = newRun({ name: 'producer' })
        const consumer = newRun({ name: 'consumer' })
        const bystander = newRun({ name: 'bystander' })
        for (const r of [producer, consumer, bystander]) await store.createRun(r)
        const ref = await store.putArtifact(producer.id, 'model.bin', { bytes: Buffer.from('weights') }, 'produced')
        await store.putArtifact(bystander.id, 'unrelated.bin', { bytes: Buffer.from('unrelated') }, 'produced')
        await store.putArtifact(consumer.id, 'input/model.bin', { sha256: ref.sha256 }, 'consumed')
        const lineage = await store.artifactLineage(ref.sha256)
        assert.deepEqual(
          lineage.map((e) => [e.runId, e.name, e.direction, e.sha256, e.sizeBytes]).sort(),
          [
            [producer.id, 'model.bin', 'produced', ref.sha256, 7],
            [consumer.id, 'input/model.bin', 'consumed', ref.sha256, 7],
          ].sort(),
        )
        assert.deepEqual(await store.artifactLineage(sha256('nothing')), [])
        assert.deepEqual(await readBytes(store, consumer.id, 'input/model.bin'), Buffer.from('weights'))
      })

      test('artifact sha256s by prefix: distinct, in order, at most the limit (what lineage prefixes resolve with)', async () => {
        const producer = newRun({ name: 'producer' })
        const consumer = newRun({ name: 'consumer' })
        for (const r of [producer, consumer]) await store.createRun(r)
        // 17 contents: two of them share a first hex character (pigeonhole).
        const refs: Awaited<ReturnType<typeof store.putArtifact>>[] = []
        for (let i = 0; i < 17; i++) refs.push(await store.putArtifact(producer.id, `a${i}.bin`, { bytes: Buffer.from(`content ${i}`) }, 'produced'))
        await store.putArtifact(consumer.id, 'in.bin', { sha256: refs[0].sha256 }, 'consumed')
        assert.deepEqual(await store.artifactSha256sWithPrefix(refs[0].sha256.slice(0, 6), 2), [refs[0].sha256], 'a consumed edge does not repeat the sha256')
        const first = refs.map((r) => r.sha256[0]).find((c, i, all) => all.indexOf(c) !== i) as string
        const sharing = refs.map((r) => r.sha256).filter((s) => s.startsWith(first)).sort()
        assert.deepEqual(await store.artifactSha256sWithPrefix(first, 2), sharing.slice(0, 2))
        assert.deepEqual(await store.artifactSha256sWithPrefix(first, 100), sharing)
        const absent = ['0000000000', 'ffffffffff'].find((p) => !refs.some((r) => r.sha256.startsWith(p))) as string
        assert.deepEqual(await store.artifactSha256sWithPrefix(absent, 2), [])
      })
    })

    describe('resolveRunId', () => {
      test('full ids, unique prefixes, ambiguous prefixes and unknown ids', async () => {
        const a = newRun({ id: 'abcdef01' + '0'.repeat(24) })
        const b = newRun({ id: 'abcdef02' + '0'.repeat(24) })
        const c = newRun({ id: '12345678' + '0'.repeat(24) })
        for (const r of [a, b, c]) await store.createRun(r)
        assert.equal(await store.resolveRunId(a.id), a.id)
        assert.equal(await store.resolveRunId('abcdef01'), a.id)
        assert.equal(await store.resolveRunId('abcdef02'), b.id)
        assert.equal(await store.resolveRunId('123456'), c.id)
        await rejectsWith(store.resolveRunId('abcdef'), 'ASSAY_INVALID_ARGUMENT', /ambiguous/)
        await rejectsWith(store.resolveRunId('abcdef0'), 'ASSAY_INVALID_ARGUMENT', /ambiguous/)
        await rejectsWith(store.resolveRunId('fedcba'), 'ASSAY_RUN_NOT_FOUND')
        await rejectsWith(store.resolveRunId('abcde'), 'ASSAY_RUN_NOT_FOUND', /6 or more/)
        await rejectsWith(store.resolveRunId("abcdef' OR 1=1 --"), 'ASSAY_RUN_NOT_FOUND')
        await rejectsWith(store.resolveRunId('f'.repeat(32)), 'ASSAY_RUN_NOT_FOUND')
      })
    })

    describe('listRuns / listExperiments', () => {
      test('runs oldest first, per experiment, with params, tags, last metrics and config fingerprint', async () => {
        const r1 = newRun({ experiment: 'exp-b', name: 'r1', startTime: 3000, params: { lr: 0.1 } })
        const r2 = newRun({ experiment: 'exp-a', name: 'r2', startTime: 1000, params: { lr: 0.2 } })
        const r3 = newRun({ experiment: 'exp-b', name: 'r3', startTime: 2000, params: { lr: 0.3 } })
        for (const r of [r1, r2, r3]) await store.createRun(r)
        await store.logBatch(r3.id, { metrics: [series('acc', [[0, 0.5], [1, 0.75]])], tags: { best: 'yes' } })
        await store.setRunStatus(r2.id, 'failed', 1500)

        const all = await store.listRuns({})
        assert.deepEqual(all.map((r) => r.name), ['r2', 'r3', 'r1'])
        const onlyB = await store.listRuns({ experiment: 'exp-b' })
        assert.deepEqual(onlyB.map((r) => r.name), ['r3', 'r1'])
        const listed3 = onlyB[0]
        assert.equal(listed3.id, r3.id)
        assert.equal(listed3.experiment, 'exp-b')
        assert.equal(listed3.status, 'running')
        assert.equal(listed3.seed, 42)
        assert.deepEqual(listed3.params, { lr: 0.3 })
        assert.deepEqual(listed3.metrics, { acc: 0.75 })
        assert.equal(listed3.tags.best, 'yes')
        assert.equal(listed3.configFingerprint, (await store.getRun(r3.id)).envelope.config)
        const listed2 = all[0]
        assert.equal(listed2.status, 'failed')
        assert.equal(listed2.endTime, 1500)
        assert.notEqual(listed2.configFingerprint, listed3.configFingerprint, 'different lr, different config')

        await rejectsWith(store.listRuns({ experiment: 'nope' }), 'ASSAY_EXPERIMENT_NOT_FOUND')
        const experiments = await store.listExperiments()
        assert.deepEqual(experiments, [
          { name: 'exp-a', createdAt: 1000, runCount: 1, lastRunAt: 1000 },
          { name: 'exp-b', createdAt: 3000, runCount: 2, lastRunAt: 3000 },
        ])
      })

      test('an empty store lists nothing', async () => {
        assert.deepEqual(await store.listRuns({}), [])
        assert.deepEqual(await store.listRunsPage({ limit: 10 }), { runs: [], nextCursor: null })
        assert.deepEqual(await store.listExperiments(), [])
      })

      test('pages: a limit and a cursor walk every run once, in order, runs of equal start time included', async () => {
        const runs = [5000, 1000, 3000, 3000, 3000, 2000, 4000].map((startTime, i) => newRun({ experiment: i % 2 === 0 ? 'exp-a' : 'exp-b', name: `r${i}`, startTime, params: { i } }))
        for (const r of runs) await store.createRun(r)
        await store.logBatch(runs[3].id, { metrics: [series('acc', [[0, 0.5]])], tags: { t: 'x' } })
        const all = await store.listRuns({})
        const seen: typeof all = []
        let cursor: string | undefined
        let pages = 0
        do {
          const page = await store.listRunsPage({ limit: 2, cursor })
          assert.ok(page.runs.length <= 2)
          seen.push(...page.runs)
          cursor = page.nextCursor ?? undefined
          pages++
        } while (cursor !== undefined)
        assert.equal(pages, 4)
        assert.deepEqual(seen, all, 'the pages, joined, are the whole listing')
        assert.deepEqual(all.map((r) => r.startTime), [1000, 2000, 3000, 3000, 3000, 4000, 5000])
        assert.deepEqual(seen.find((r) => r.id === runs[3].id)?.metrics, { acc: 0.5 })
        const onlyA = await store.listRunsPage({ experiment: 'exp-a', limit: 1000 })
        assert.deepEqual(onlyA.runs.map((r) => r.name), all.filter((r) => r.experiment === 'exp-a').map((r) => r.name))
        assert.equal(onlyA.nextCursor, null)
        await rejectsWith(store.listRunsPage({ limit: 0 }), 'ASSAY_INVALID_ARGUMENT')
        await rejectsWith(store.listRunsPage({ limit: 1001 }), 'ASSAY_INVALID_ARGUMENT')
        await rejectsWith(store.listRunsPage({ limit: 2, cursor: 'not-a-cursor' }), 'ASSAY_INVALID_ARGUMENT')
        await rejectsWith(store.listRunsPage({ experiment: 'nope', limit: 2 }), 'ASSAY_EXPERIMENT_NOT_FOUND')
      })

      test('experiment pages: a limit and a cursor walk every experiment once, by name; only the experiments asked for', async () => {
        const names = ['exp-e', 'exp-a', 'exp-d', 'exp-b', 'exp-c']
        for (const [i, experiment] of names.entries()) await store.createRun(newRun({ experiment, name: `r${i}`, startTime: 1000 + i }))
        const all = await store.listExperiments()
        assert.deepEqual(all.map((e) => e.name), [...names].sort())
        const seen: typeof all = []
        let cursor: string | undefined
        let pages = 0
        do {
          const page = await store.listExperimentsPage({ limit: 2, cursor })
          assert.ok(page.experiments.length <= 2)
          seen.push(...page.experiments)
          cursor = page.nextCursor ?? undefined
          pages++
        } while (cursor !== undefined)
        assert.equal(pages, 3)
        assert.deepEqual(seen, all, 'the pages, joined, are the whole listing')
        const some = await store.listExperimentsPage({ experiments: ['exp-d', 'exp-a', 'nope'], limit: 1000 })
        assert.deepEqual(some, { experiments: all.filter((e) => e.name === 'exp-a' || e.name === 'exp-d'), nextCursor: null })
        assert.deepEqual(await store.listExperimentsPage({ experiments: [], limit: 10 }), { experiments: [], nextCursor: null })
        await rejectsWith(store.listExperimentsPage({ limit: 0 }), 'ASSAY_INVALID_ARGUMENT')
        await rejectsWith(store.listExperimentsPage({ limit: 1001 }), 'ASSAY_INVALID_ARGUMENT')
        const runCursor = (await store.listRunsPage({ limit: 1 })).nextCursor as string
        await rejectsWith(store.listExperimentsPage({ limit: 2, cursor: runCursor }), 'ASSAY_INVALID_ARGUMENT', /not a cursor of the experiment listing/)
      })

      test('params, tags and metric keys per run are capped (LIMITS), and a refused write stores nothing', async () => {
        const many = (n: number, prefix: string) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, String(i)]))
        await rejectsWith(store.createRun(newRun({ params: many(1001, 'p') })), 'ASSAY_VALUE_TOO_LARGE', /1001 params; the limit is 1000/)
        const run = newRun({ params: {}, tags: {} })
        await store.createRun(run)
        await store.logBatch(run.id, { params: many(600, 'p'), tags: many(600, 't'), metrics: Array.from({ length: 600 }, (_, i) => series(`m${i}`, [[0, i]])) })
        const before = await snapshot(store, run.id)
        await rejectsWith(store.logBatch(run.id, { params: many(401, 'q') }), 'ASSAY_VALUE_TOO_LARGE', /1001 params/)
        await rejectsWith(store.logBatch(run.id, { tags: many(401, 'u') }), 'ASSAY_VALUE_TOO_LARGE', /1001 tags/)
        await rejectsWith(store.logBatch(run.id, { metrics: Array.from({ length: 401 }, (_, i) => series(`n${i}`, [[0, i]])) }), 'ASSAY_VALUE_TOO_LARGE', /1001 metric keys/)
        assert.deepEqual(await snapshot(store, run.id), before, 'nothing of a refused write is stored')
        // Up to the limit, and keys the run already has, are fine.
        await store.logBatch(run.id, { params: many(400, 'q'), tags: { ...many(400, 'u'), t0: 'again' }, metrics: [series('m0', [[1, 1]]), ...Array.from({ length: 400 }, (_, i) => series(`n${i}`, [[0, i]]))] })
        const listed = (await store.listRunsPage({ limit: 10 })).runs[0]
        assert.equal(Object.keys(listed.params).length, 1000)
        assert.equal(Object.keys(listed.tags).length, 1000)
        assert.equal(Object.keys(listed.metrics).length, 1000)
      })
    })

    describe('heartbeats and crashed runs', () => {
      test('markCrashedRuns marks only running runs whose heartbeat is older than the cut-off', async () => {
        const stale = newRun({ name: 'stale', startTime: 1000 })
        const fresh = newRun({ name: 'fresh', startTime: 1000 })
        const finished = newRun({ name: 'finished', startTime: 1000 })
        for (const r of [stale, fresh, finished]) await store.createRun(r)
        await store.setRunStatus(finished.id, 'finished', 1200)
        await store.heartbeat(stale.id, 1500)
        await store.heartbeat(fresh.id, 5000)
        assert.equal((await store.getRun(fresh.id)).heartbeatAt, 5000)

        assert.equal(await store.markCrashedRuns(4000), 1)
        const s = await store.getRun(stale.id)
        assert.equal(s.status, 'crashed')
        assert.equal(s.endTime, 1500, 'a crashed run ends at its last heartbeat')
        assert.equal((await store.getRun(fresh.id)).status, 'running')
        const f = await store.getRun(finished.id)
        assert.equal(f.status, 'finished')
        assert.equal(f.endTime, 1200)
        assert.equal(await store.markCrashedRuns(4000), 0, 'idempotent')
        // A finished run stays finished: only a crashed run can come back.
        await store.heartbeat(finished.id, 9000)
        assert.equal((await store.getRun(finished.id)).status, 'finished')
        await rejectsWith(store.logBatch(finished.id, { tags: { late: 'yes' } }), 'ASSAY_RUN_NOT_ACTIVE')
      })

      test('a write or a heartbeat from a run marked crashed is proof of life: it runs again', async () => {
        const stalled = newRun({ name: 'stalled', startTime: 1000 })
        await store.createRun(stalled)
        assert.equal(await store.markCrashedRuns(Date.now() + 1000), 1)
        assert.equal((await store.getRun(stalled.id)).status, 'crashed')
        await store.logBatch(stalled.id, { tags: { late: 'yes' } })
        const revived = await store.getRun(stalled.id)
        assert.deepEqual([revived.status, revived.endTime, revived.tags.late], ['running', null, 'yes'])

        assert.equal(await store.markCrashedRuns(Date.now() + 1000), 1)
        await store.heartbeat(stalled.id, Date.now() + 2000)
        assert.equal((await store.getRun(stalled.id)).status, 'running')
        await store.setRunStatus(stalled.id, 'finished', Date.now())
        assert.equal((await store.getRun(stalled.id)).status, 'finished')
      })

      test('logBatch refreshes the heartbeat', async () => {
        const run = newRun({ startTime: 1000 })
        await store.createRun(run)
        const before = Date.now()
        await store.logBatch(run.id, { tags: { a: 'b' } })
        assert.ok((await store.getRun(run.id)).heartbeatAt >= before)
        assert.equal(await store.markCrashedRuns(before - 1), 0)
      })
    })

    describe('idempotent batch ids', () => {
      test('a batch or eval chunk sent twice with one id is stored once, even after the run ended', async () => {
        const run = newRun()
        await store.createRun(run)
        const batch = { batchId: 'batch-1', tags: { a: 'b' }, metrics: [series('loss', [[0, 1], [1, 0.5]])] }
        await store.logBatch(run.id, batch)
        await store.logBatch(run.id, batch)
        const chunk = evalChunk({ ids: ['q1'], numeric: new Map([['score:x', Float64Array.of(1)]]) })
        await store.logEval(run.id, 'val', 'd'.repeat(64), chunk, 'eval-1')
        await store.logEval(run.id, 'val', 'd'.repeat(64), chunk, 'eval-1')
        await store.setRunStatus(run.id, 'finished', run.startTime + 1)
        // A retry whose acknowledgement was lost arrives after the end: skipped, not refused.
        await store.logBatch(run.id, batch)
        await store.logEval(run.id, 'val', 'd'.repeat(64), chunk, 'eval-1')
        assert.deepEqual(plain(await store.metricHistory(run.id, 'loss')).values, [1, 0.5])
        const got = await store.getRun(run.id)
        assert.equal(got.metrics[0].count, 2)
        assert.equal(got.evals[0].count, 1)
        assert.deepEqual((await store.evalColumns(run.id, 'val')).ids, ['q1'])
        await rejectsWith(store.logBatch(run.id, { batchId: 'batch-2', tags: { late: 'yes' } }), 'ASSAY_RUN_NOT_ACTIVE')
      })

      test('a refused batch does not consume its id', async () => {
        const run = newRun({ params: { lr: 0.1 } })
        await store.createRun(run)
        await rejectsWith(store.logBatch(run.id, { batchId: 'b', params: { lr: 0.2 } }), 'ASSAY_PARAM_CONFLICT')
        await store.logBatch(run.id, { batchId: 'b', params: { lr: 0.1 }, metrics: [series('acc', [[0, 0.9]])] })
        assert.equal((await store.getRun(run.id)).metrics[0].count, 1)
      })
    })

    describe('holdout ledger', () => {
      test('reads come back per dataset version, oldest first, exactly as recorded', async () => {
        const x = 'a'.repeat(64)
        const later = { datasetSha256: x, datasetName: 'test', runIds: ['r2', 'r1'], purpose: 'leaderboard', actor: 'bob', at: 2000 }
        const earlier = { datasetSha256: x, datasetName: 'test', runIds: ['r1'], purpose: 'compare accuracy', actor: 'alice', at: 1000 }
        const other = { datasetSha256: 'b'.repeat(64), datasetName: 'holdout', runIds: [], purpose: 'p', actor: 'carol', at: 1500 }
        for (const read of [later, earlier, other]) await store.recordHoldoutRead(read)
        assert.deepEqual(await store.holdoutReads(x), [earlier, later])
        assert.deepEqual(await store.holdoutReads('b'.repeat(64)), [other])
        assert.deepEqual(await store.holdoutReads('c'.repeat(64)), [])
      })

      test('an entry with an id already stored is not counted again (a replayed upload)', async () => {
        const x = 'd'.repeat(64)
        const read = { id: 'read-1', datasetSha256: x, datasetName: 'test', runIds: ['r1'], purpose: 'compare', actor: 'alice', at: 1000 }
        await store.recordHoldoutRead(read)
        await store.recordHoldoutRead(read)
        await store.recordHoldoutRead({ ...read, id: 'read-2', at: 2000 })
        assert.deepEqual(await store.holdoutReads(x), [read, { ...read, id: 'read-2', at: 2000 }])
      })
    })

    describe('API tokens', () => {
      test('create, find by secret hash, list oldest first, revoke once', async () => {
        const admin = { id: 'tok-admin', name: 'ops', scope: 'admin' as const, experiments: null, createdAt: 2000, createdBy: 'root', revokedAt: null, expiresAt: null }
        const writer = { id: 'tok-write', name: 'ci', scope: 'write' as const, experiments: ['exp-a', 'exp-b'], createdAt: 1000, createdBy: 'ops', revokedAt: null, expiresAt: 9_000_000_000_000 }
        await store.createApiToken(admin, sha256('secret-admin'))
        await store.createApiToken(writer, sha256('secret-write'))
        assert.deepEqual(await store.findApiToken(sha256('secret-write')), writer)
        assert.deepEqual(await store.findApiToken(sha256('secret-admin')), admin)
        assert.equal(await store.findApiToken(sha256('unknown')), null)
        assert.deepEqual(await store.listApiTokens(), [writer, admin])
        await store.revokeApiToken(writer.id, 5000)
        await store.revokeApiToken(writer.id, 6000)
        assert.deepEqual(await store.findApiToken(sha256('secret-write')), { ...writer, revokedAt: 5000 }, 'a revoked token is still found, with the first revocation time')
        await rejectsWith(store.revokeApiToken('tok-none', 1), 'ASSAY_TOKEN_NOT_FOUND')
      })
    })

    describe('model registry and audit log', () => {
      const model = { name: 'sentiment', owner: 'alice', description: 'd', tags: { team: 'nlp' }, createdAt: 1000, createdBy: 'alice' }
      const h = (c: string) => c.repeat(64)
      /** A record with its true hash (the store recomputes it and refuses any other). */
      const audit = (seq: number, prevHash: string): AuditRecord => {
        const content = { seq, at: 5000 + seq, kind: 'alias-set' as const, actor: 'alice', subject: 'sentiment@champion', body: { n: seq, ci: ['-Infinity', 0.5] }, prevHash }
        return { ...content, hash: auditHash(content) }
      }
      const r1 = audit(1, GENESIS_HASH)
      const r2 = audit(2, r1.hash)
      const r3 = audit(3, r2.hash)

      test('models, numbered versions and lookups', async () => {
        const run = newRun()
        await store.createRun(run)
        await store.createModel(model)
        await rejectsWith(store.createModel({ ...model, owner: 'bob' }), 'ASSAY_MODEL_EXISTS')
        assert.deepEqual(await store.getModel('sentiment'), model)
        await rejectsWith(store.getModel('nope'), 'ASSAY_MODEL_NOT_FOUND')
        const v = { model: 'sentiment', runId: run.id, artifact: { name: 'model/w.json', sha256: h('a') }, description: '', tags: {}, createdAt: 2000, createdBy: 'alice' }
        assert.equal((await store.addModelVersion(v)).version, 1)
        assert.equal((await store.addModelVersion({ ...v, artifact: null })).version, 2)
        await rejectsWith(store.addModelVersion({ ...v, model: 'nope' }), 'ASSAY_MODEL_NOT_FOUND')
        await rejectsWith(store.addModelVersion({ ...v, runId: runId() }), 'ASSAY_RUN_NOT_FOUND')
        assert.deepEqual(await store.listModelVersions('sentiment'), [{ ...v, version: 1 }, { ...v, artifact: null, version: 2 }])
        assert.deepEqual((await store.listModels()).map((m) => m.name), ['sentiment'])
      })

      test('model pages: a limit and a cursor walk every model once, by name', async () => {
        const names = ['m-c', 'm-a', 'm-e', 'm-b', 'm-d']
        for (const name of names) await store.createModel({ ...model, name })
        const all = await store.listModels()
        assert.deepEqual(all.map((m) => m.name), [...names].sort())
        const first = await store.listModelsPage({ limit: 3 })
        assert.deepEqual(first.models, all.slice(0, 3))
        assert.ok(first.nextCursor !== null)
        const second = await store.listModelsPage({ limit: 3, cursor: first.nextCursor })
        assert.deepEqual(second, { models: all.slice(3), nextCursor: null })
        assert.deepEqual(await store.listModelsPage({ limit: 5 }), { models: all, nextCursor: null })
        await rejectsWith(store.listModelsPage({ limit: 0 }), 'ASSAY_INVALID_ARGUMENT')
        await rejectsWith(store.listModelsPage({ limit: 3, cursor: 'bm90IGEgY3Vyc29y' }), 'ASSAY_INVALID_ARGUMENT', /not a cursor of the model listing/)
      })

      test('moveAlias appends the event and its audit record together, and refuses stale reads', async () => {
        const run = newRun()
        await store.createRun(run)
        await store.createModel(model)
        for (let i = 0; i < 2; i++) await store.addModelVersion({ model: 'sentiment', runId: run.id, artifact: null, description: '', tags: {}, createdAt: 2000, createdBy: 'alice' })
        const event = { model: 'sentiment', alias: 'champion', kind: 'set' as const, version: 1, previousVersion: null, actor: 'alice', at: 3000, reason: 'first' }
        const first = await store.moveAlias(r1, event)
        assert.equal(first.auditSeq, 1)
        // The holder moved since it was read: nothing is written.
        await rejectsWith(store.moveAlias(r2, { ...event, version: 2, previousVersion: null }), 'ASSAY_AUDIT_CONFLICT')
        // The audit head moved since it was read: nothing is written either.
        await rejectsWith(store.moveAlias(audit(2, GENESIS_HASH), { ...event, version: 2, previousVersion: 1 }), 'ASSAY_AUDIT_CONFLICT')
        await rejectsWith(store.moveAlias(r2, { ...event, version: 9, previousVersion: 1 }), 'ASSAY_MODEL_NOT_FOUND')
        assert.equal((await store.aliasEvents('sentiment')).length, 1)
        assert.equal((await store.auditRecords()).length, 1)
        await store.moveAlias(r2, { ...event, kind: 'promote', version: 2, previousVersion: 1 })
        await store.appendAudit(r3)
        await rejectsWith(store.appendAudit(r3), 'ASSAY_AUDIT_CONFLICT')
        const events = await store.aliasEvents('sentiment', 'champion')
        assert.deepEqual(events.map((e) => [e.kind, e.version, e.previousVersion, e.auditSeq]), [['set', 1, null, 1], ['promote', 2, 1, 2]])
        assert.deepEqual(await store.aliasEvents('sentiment', 'other'), [])
        const records = await store.auditRecords()
        assert.deepEqual(records, [r1, r2, r3], 'records come back exactly as written')
        assert.deepEqual(await store.lastAuditRecord(), r3)
      })

      test('setGatePolicy appends the policy version and its audit record together, and refuses a stale version', async () => {
        await store.createModel(model)
        const text = gateYaml(LAX_CRITERION)
        const policy = { model: 'sentiment', alias: 'champion', version: 1, gate: 'release', text, sha256: createHash('sha256').update(text).digest('hex'), source: 'lax.yaml', actor: 'alice', at: 4000, reason: 'first policy' }
        const recordOf = (p: typeof policy, prev: AuditRecord | null): AuditRecord =>
          nextAuditRecord(prev, { kind: 'gate-policy', actor: 'alice', subject: 'sentiment@champion', at: p.at, body: gatePolicyAuditBody(p) })
        const p1 = recordOf(policy, null)
        const ghost = { ...policy, model: 'ghost' }
        await rejectsWith(store.setGatePolicy(recordOf(ghost, null), ghost), 'ASSAY_MODEL_NOT_FOUND')
        // Version 2 before version 1: another admin's version is assumed, so nothing is written.
        const skipped = { ...policy, version: 2 }
        await rejectsWith(store.setGatePolicy(recordOf(skipped, null), skipped), 'ASSAY_AUDIT_CONFLICT')
        assert.deepEqual(await store.gatePolicies(), [])
        assert.deepEqual(await store.auditRecords(), [])
        assert.deepEqual(await store.setGatePolicy(p1, policy), { ...policy, auditSeq: 1 })
        // The audit head moved since it was read: the policy version is not written either.
        const second = { ...policy, version: 2, reason: 'second' }
        await rejectsWith(store.setGatePolicy(recordOf(second, null), second), 'ASSAY_AUDIT_CONFLICT')
        await store.setGatePolicy(recordOf(second, p1), second)
        const canary = { ...policy, alias: 'canary' }
        await store.setGatePolicy(recordOf(canary, (await store.lastAuditRecord()) as AuditRecord), canary)
        assert.deepEqual((await store.gatePolicies()).map((p) => [p.alias, p.version, p.auditSeq]), [['canary', 1, 3], ['champion', 1, 1], ['champion', 2, 2]])
        assert.deepEqual((await store.gatePolicies({ model: 'sentiment', alias: 'champion' })).map((p) => p.reason), ['first policy', 'second'])
        assert.deepEqual(await store.gatePolicies({ model: 'other' }), [])
        assert.deepEqual((await store.auditRecords()).map((r) => [r.kind, r.body.version]), [['gate-policy', 1], ['gate-policy', 2], ['gate-policy', 1]])
      })

      test('a record whose hash is not the hash of its content is refused, by appendAudit and moveAlias alike', async () => {
        const run = newRun()
        await store.createRun(run)
        await store.createModel(model)
        await store.addModelVersion({ model: 'sentiment', runId: run.id, artifact: null, description: '', tags: {}, createdAt: 2000, createdBy: 'alice' })
        await rejectsWith(store.appendAudit({ ...r1, hash: h('f') }), 'ASSAY_INVALID_ARGUMENT')
        await rejectsWith(store.appendAudit({ ...r1, actor: 'mallory' }), 'ASSAY_INVALID_ARGUMENT')
        const event = { model: 'sentiment', alias: 'champion', kind: 'set' as const, version: 1, previousVersion: null, actor: 'alice', at: 3000, reason: 'first' }
        await rejectsWith(store.moveAlias({ ...r1, hash: h('f') }, event), 'ASSAY_INVALID_ARGUMENT')
        assert.deepEqual(await store.auditRecords(), [], 'nothing was written')
        assert.deepEqual(await store.aliasEvents('sentiment'), [], 'the alias did not move with a refused record')
        // The log is still usable: the true record goes in and a bogus second one does not.
        await store.moveAlias(r1, event)
        await rejectsWith(store.appendAudit({ ...r2, hash: h('f') }), 'ASSAY_INVALID_ARGUMENT')
        await store.appendAudit(r2)
        const records = await store.auditRecords()
        assert.deepEqual(records, [r1, r2])
        assert.ok(records.every((r) => auditHash(r) === r.hash), 'every stored record verifies')
      })

      // The HTTP store has no route for the anchor (yet): its server's store keeps and checks it.
      test('the head anchor follows every append in the same transaction; a refused append does not move it', async () => {
        assert.ok(store.auditHead !== undefined)
        assert.equal(await store.auditHead(), null, 'an empty log has no anchor')
        const run = newRun()
        await store.createRun(run)
        await store.createModel(model)
        await store.addModelVersion({ model: 'sentiment', runId: run.id, artifact: null, description: '', tags: {}, createdAt: 2000, createdBy: 'alice' })
        await store.appendAudit(r1)
        assert.deepEqual(await store.auditHead(), { seq: 1, hash: r1.hash })
        const event = { model: 'sentiment', alias: 'champion', kind: 'set' as const, version: 1, previousVersion: null, actor: 'alice', at: 3000, reason: 'first' }
        await store.moveAlias(r2, event)
        assert.deepEqual(await store.auditHead(), { seq: 2, hash: r2.hash })
        await rejectsWith(store.appendAudit({ ...r3, hash: h('f') }), 'ASSAY_INVALID_ARGUMENT')
        await rejectsWith(store.moveAlias(r3, { ...event, version: 9, previousVersion: 1 }), 'ASSAY_MODEL_NOT_FOUND')
        assert.deepEqual(await store.auditHead(), { seq: 2, hash: r2.hash }, 'refused appends leave the anchor where it was')
      })
    })
  })
}
