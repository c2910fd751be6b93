import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { checkHoldoutBudget, DEFAULT_HOLDOUT_BUDGET, recordAndCheckHoldout, resolveHoldoutBudget } from '../../src/compare/holdout-ledger.js'
import { isAssayError } from '../../src/errors.js'
import { openHarness, type Harness } from '../sdk/harness.js'
import { logBinaryRun, writeDataset } from '../report/fixtures.js'

describe('holdout ledger', () => {
  let h: Harness
  let sha: string
  before(async () => {
    h = await openHarness()
    const file = writeDataset(h, 'holdout', 'id\nthe holdout\n')
    await logBinaryRun(h, { name: 'a', seed: 1, skill: 0.7, n: 300, dataset: 'final', file, role: 'test', experiment: 'ho' })
    await logBinaryRun(h, { name: 'b', seed: 2, skill: 0.7, n: 300, dataset: 'final', file, role: 'test', experiment: 'ho' })
    const runs = await h.assay.listRuns({ experiment: 'ho' })
    sha = (await h.assay.getRun(runs[0].id)).datasets[0].sha256
    const val = writeDataset(h, 'val', 'id\nvalidation\n')
    await logBinaryRun(h, { name: 'c', seed: 1, skill: 0.7, n: 300, dataset: 'val', file: val, experiment: 'va' })
    await logBinaryRun(h, { name: 'd', seed: 2, skill: 0.7, n: 300, dataset: 'val', file: val, experiment: 'va' })
  })
  after(() => h.cleanup())

  it('counts every leaderboard read of a test set with actor and time, and warns past the budget and only past it', async () => {
    const budget = 2
    const times = [1_000, 2_000, 3_000]
    const actors = ['alice', 'bob', 'alice']
    const boards = []
    for (let i = 0; i < 3; i++) boards.push(await h.assay.leaderboard({ experiment: 'ho', datasets: ['final'], holdoutBudget: budget, actor: actors[i], now: times[i] }))
    const reads = boards.map((b) => b.boards[0].holdout[0].reads)
    assert.deepEqual(reads, [1, 2, 3])
    assert.equal(boards[0].boards[0].holdout[0].warning, null)
    assert.equal(boards[1].boards[0].holdout[0].warning, null, 'at the budget: no warning yet')
    const over = boards[2].boards[0]
    assert.equal(over.holdout[0].overBudget, true)
    assert.equal(over.holdout[0].warning?.code, 'HOLDOUT_OVERUSE')
    assert.ok(over.entries.every((e) => e.warnings.some((w) => w.code === 'HOLDOUT_OVERUSE')), 'every result on it carries the warning')
    assert.ok(!boards[1].boards[0].entries.some((e) => e.warnings.some((w) => w.code === 'HOLDOUT_OVERUSE')))
    const ledger = await h.assay.store.holdoutReads(sha)
    assert.deepEqual(
      ledger.map((r) => [r.actor, r.at, r.purpose, r.datasetName]),
      [
        ['alice', 1000, 'leaderboard correct', 'final'],
        ['bob', 2000, 'leaderboard correct', 'final'],
        ['alice', 3000, 'leaderboard correct', 'final'],
      ],
    )
    assert.equal(ledger[0].runIds.length, 2)
    assert.deepEqual(over.holdout[0].actors, ['alice', 'bob'])
    assert.equal(over.dataset.role, 'test')
  })

  it('does not count reads of a validation set', async () => {
    const board = await h.assay.leaderboard({ experiment: 'va', datasets: ['val'] })
    assert.deepEqual(board.boards[0].holdout, [])
  })

  it('checkHoldoutBudget only reads; recordAndCheckHoldout records for any caller (compare)', async () => {
    const before = (await checkHoldoutBudget(h.assay.store, sha, { budget: 100 })).reads
    assert.equal((await checkHoldoutBudget(h.assay.store, sha, { budget: 100 })).reads, before)
    const runs = await Promise.all((await h.assay.listRuns({ experiment: 'ho' })).map((r) => h.assay.getRun(r.id)))
    const checks = await recordAndCheckHoldout(h.assay.store, { runs, datasetName: 'final', purpose: 'compare correct', actor: 'carol', at: 5_000, budget: before })
    assert.equal(checks.length, 1)
    assert.equal(checks[0].reads, before + 1)
    assert.equal(checks[0].warning?.code, 'HOLDOUT_OVERUSE')
    assert.match(checks[0].warning!.message, /carol/)
    const none = await recordAndCheckHoldout(h.assay.store, { runs, datasetName: 'not-declared', purpose: 'x' })
    assert.deepEqual(none, [])
  })

  it('budget: option, then ASSAY_HOLDOUT_BUDGET, then the default of 20', () => {
    assert.equal(DEFAULT_HOLDOUT_BUDGET, 20)
    assert.equal(resolveHoldoutBudget(undefined, {}), 20)
    assert.equal(resolveHoldoutBudget(undefined, { ASSAY_HOLDOUT_BUDGET: '5' }), 5)
    assert.equal(resolveHoldoutBudget(3, { ASSAY_HOLDOUT_BUDGET: '5' }), 3)
    assert.throws(() => resolveHoldoutBudget(undefined, { ASSAY_HOLDOUT_BUDGET: 'many' }), (e) => isAssayError(e, 'ASSAY_INVALID_ARGUMENT'))
    assert.throws(() => resolveHoldoutBudget(-1), (e) => isAssayError(e, 'ASSAY_INVALID_ARGUMENT'))
  })
})
