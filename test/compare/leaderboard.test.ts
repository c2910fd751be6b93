import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { isAssayError } from '../../src/errors.js'
import { adjustPValues } from '../../src/stats/index.js'
import { criticalDifference, cliquesWithin } from '../../src/compare/critical-difference.js'
import { bestSeedOnlyWarnings, expectedMaxStandardNormal, winnersCurseWarning } from '../../src/compare/winners-curse.js'
import { openHarness, type Harness } from '../sdk/harness.js'
import { logBinaryRun, logMultiRun, writeDataset, type LoggedRun } from '../report/fixtures.js'

describe('leaderboard on one dataset', () => {
  let h: Harness
  let baseline: LoggedRun
  let better: LoggedRun
  const nulls: LoggedRun[] = []

  before(async () => {
    h = await openHarness()
    const file = writeDataset(h, 'val', 'id\nsame content for every run\n')
    baseline = await logBinaryRun(h, { name: 'baseline', seed: 1, skill: 0.7, n: 2000, dataset: 'val', file })
    for (let k = 0; k < 6; k++) nulls.push(await logBinaryRun(h, { name: `null-${k}`, seed: 10 + k, skill: 0.7, n: 2000, dataset: 'val', file }))
    better = await logBinaryRun(h, { name: 'better', seed: 99, skill: 0.8, n: 2000, dataset: 'val', file })
  })
  after(() => h.cleanup())

  it('finds the truly better candidate and none of the null ones (Holm), with adjusted p = adjustPValues(raw)', async () => {
    const board = await h.assay.leaderboard({ datasets: ['val'] })
    assert.equal(board.schema, 'assay.leaderboard/v1')
    assert.equal(board.metric, 'correct', 'the only score is the default metric')
    const b = board.boards[0]
    assert.equal(b.baseline.runId, baseline.id, 'the earliest run is the default baseline')
    assert.equal(b.baseline.rule, 'earliest run')
    assert.equal(b.entries.length, 7)
    assert.equal(b.entries[0].runId, better.id)
    assert.equal(b.entries[0].verdict, 'better')
    for (const e of b.entries.slice(1)) assert.equal(e.verdict, 'inconclusive', `${e.name} is null`)
    assert.match(b.entries[0].test.method, /McNemar/)
    const raw = b.entries.map((e) => e.pValue)
    assert.deepEqual(
      b.entries.map((e) => e.adjustedPValue),
      adjustPValues(raw, 'holm').adjusted,
    )
    for (const e of b.entries) assert.ok(e.adjustedPValue >= e.pValue)
    // Sorted by estimate, best first; ranks 1..K.
    for (let i = 1; i < b.entries.length; i++) assert.ok(b.entries[i - 1].estimate >= b.entries[i].estimate)
    assert.deepEqual(
      b.entries.map((e) => e.rank),
      [1, 2, 3, 4, 5, 6, 7],
    )
    // Each estimate is the difference of means over the pairs, inside its interval.
    for (const e of b.entries) {
      assert.ok(Math.abs(e.estimate - (e.mean - e.baselineMean)) < 1e-12)
      assert.ok(e.ci !== null && e.ci[0] <= e.estimate && e.estimate <= e.ci[1])
    }
    assert.ok(board.provenance.runIds.includes(baseline.id) && board.provenance.runIds.includes(better.id))
  })

  it('adjusts with BH on request', async () => {
    const board = await h.assay.leaderboard({ datasets: ['val'], adjust: 'BH' })
    const b = board.boards[0]
    assert.equal(board.adjustment, 'BH')
    assert.deepEqual(
      b.entries.map((e) => e.adjustedPValue),
      adjustPValues(
        b.entries.map((e) => e.pValue),
        'BH',
      ).adjusted,
    )
  })

  it('uses a paired bootstrap interval with a fixed seed on request, reproducibly', async () => {
    const one = await h.assay.leaderboard({ datasets: ['val'], interval: 'bootstrap', resamples: 500, seed: 7 })
    const two = await h.assay.leaderboard({ datasets: ['val'], interval: 'bootstrap', resamples: 500, seed: 7 })
    assert.deepEqual(
      one.boards[0].entries.map((e) => e.ci),
      two.boards[0].entries.map((e) => e.ci),
    )
    assert.match(one.methods.interval, /bootstrap.*500 resamples, seed 7/)
  })

  it("warns of the winner's curse on the best of K, and not with a single candidate", async () => {
    const board = await h.assay.leaderboard({ datasets: ['val'] })
    const top = board.boards[0].entries[0]
    assert.ok(top.warnings.some((w) => w.code === 'WINNERS_CURSE'))
    assert.match(top.warnings.find((w) => w.code === 'WINNERS_CURSE')!.message, /fresh holdout/)
    assert.ok(board.boards[0].entries.slice(1).every((e) => !e.warnings.some((w) => w.code === 'WINNERS_CURSE')))
    const single = await h.assay.leaderboard({ datasets: ['val'], runs: [baseline.id, better.id] })
    assert.equal(single.boards[0].entries.length, 1)
    assert.ok(!single.boards[0].entries[0].warnings.some((w) => w.code === 'WINNERS_CURSE'))
  })

  it('takes a given baseline and refuses an empty board', async () => {
    const board = await h.assay.leaderboard({ datasets: ['val'], baseline: better.id.slice(0, 8) })
    assert.equal(board.boards[0].baseline.runId, better.id)
    assert.equal(board.boards[0].baseline.rule, 'given')
    await assert.rejects(h.assay.leaderboard({ datasets: ['val'], runs: [baseline.id] }), (e) => isAssayError(e, 'ASSAY_LEADERBOARD_EMPTY'))
    await assert.rejects(h.assay.leaderboard({ datasets: ['val'], metric: 'nope' }), (e) => isAssayError(e, 'ASSAY_METRIC_NOT_FOUND'))
  })

  it('a dataset no candidate was evaluated on is named as such, with the datasets they have', async () => {
    // Independently: the datasets these runs logged eval records on, with how many runs each.
    const counts = new Map<string, number>()
    for (const s of await h.assay.listRuns({})) for (const e of (await h.assay.getRun(s.id)).evals) counts.set(e.dataset, (counts.get(e.dataset) ?? 0) + 1)
    assert.ok(counts.size > 0)
    for (const options of [{ datasets: ['nope'] }, { datasets: ['nope'], metric: 'correct' }]) {
      await assert.rejects(h.assay.leaderboard(options), (e) => {
        assert.ok(isAssayError(e, 'ASSAY_EVAL_NOT_FOUND'), String(e))
        assert.match(e.message, /no candidate run has eval records on dataset "nope"/)
        assert.doesNotMatch(e.message, /share no score/)
        for (const [name, n] of counts) assert.ok(e.message.includes(`${name} (${n} run${n === 1 ? '' : 's'})`), e.message)
        return true
      })
    }
  })

  it('runs the ladder in submission order', async () => {
    const board = await h.assay.leaderboard({ datasets: ['val'], ladder: true })
    const steps = board.boards[0].ladder!.steps
    assert.equal(steps.length, 8)
    assert.equal(steps[0].id, baseline.id)
    assert.equal(steps.at(-1)!.id, better.id)
    assert.equal(steps.at(-1)!.accepted, true, 'the truly better model clears the paired threshold')
    assert.equal(board.boards[0].ladder!.bestId, better.id)
  })
})

describe('leaderboard traps and refusals', () => {
  let h: Harness
  before(async () => {
    h = await openHarness()
  })
  after(() => h.cleanup())

  it('flags a configuration represented by its best seed while its other seeds exist', async () => {
    const file = writeDataset(h, 'seeds', 'id\nseeds\n')
    const common = { dataset: 'seeds', file, n: 500, experiment: 'seeds' }
    const base = await logBinaryRun(h, { ...common, name: 'base', seed: 1, skill: 0.6, params: { config: 'base' } })
    const seeds: LoggedRun[] = []
    for (const [seed, skill] of [[1, 0.6], [2, 0.62], [3, 0.75]] as const) {
      seeds.push(await logBinaryRun(h, { ...common, name: `cfg-seed${seed}`, seed, skill, params: { config: 'cfg' } }))
    }
    const all = await h.assay.leaderboard({ experiment: 'seeds', datasets: ['seeds'] })
    assert.ok(all.boards[0].entries.every((e) => !e.warnings.some((w) => w.code === 'BEST_SEED_ONLY')), 'every seed on the board: no flag')
    const onlyBest = await h.assay.leaderboard({ experiment: 'seeds', datasets: ['seeds'], runs: [base.id, seeds[2].id] })
    const entry = onlyBest.boards[0].entries[0]
    assert.equal(entry.runId, seeds[2].id)
    const flag = entry.warnings.find((w) => w.code === 'BEST_SEED_ONLY')
    assert.ok(flag, 'the best seed alone is flagged')
    assert.match(flag.message, /seeds 1, 2 exist/)
    const notBest = await h.assay.leaderboard({ experiment: 'seeds', datasets: ['seeds'], runs: [base.id, seeds[0].id] })
    assert.ok(!notBest.boards[0].entries[0].warnings.some((w) => w.code === 'BEST_SEED_ONLY'), 'a seed that is not the best is not flagged')
  })

  it('refuses candidates on different dataset versions, naming the hashes, unless allowed', async () => {
    const a = writeDataset(h, 'v1', 'id\nversion one\n')
    const b = writeDataset(h, 'v2', 'id\nversion two\n')
    await logBinaryRun(h, { name: 'on-v1', seed: 1, skill: 0.7, n: 200, dataset: 'mixed', file: a, experiment: 'versions' })
    await logBinaryRun(h, { name: 'on-v2', seed: 2, skill: 0.7, n: 200, dataset: 'mixed', file: b, experiment: 'versions' })
    const runs = await h.assay.listRuns({ experiment: 'versions' })
    const shas = await Promise.all(runs.map(async (r) => (await h.assay.getRun(r.id)).datasets[0].sha256))
    await assert.rejects(h.assay.leaderboard({ experiment: 'versions', datasets: ['mixed'] }), (e) => {
      assert.ok(isAssayError(e, 'ASSAY_NOT_COMPARABLE'))
      for (const sha of shas) assert.ok(e.message.includes(sha), 'the message names every hash')
      return true
    })
    const allowed = await h.assay.leaderboard({ experiment: 'versions', datasets: ['mixed'], allowDifferentVersions: true })
    assert.ok(allowed.boards[0].warnings.some((w) => w.code === 'DIFFERENT_DATA'))
  })

  it('ranks systems across datasets: average ranks, Friedman, Nemenyi CD', async () => {
    const files = ['t1', 't2', 't3', 't4'].map((name) => ({ name, file: writeDataset(h, name, `id\n${name}\n`) }))
    const skill = { alpha: 0.9, beta: 0.8, gamma: 0.7 } as Record<string, number>
    for (const [i, sys] of ['alpha', 'beta', 'gamma'].entries()) {
      await logMultiRun(h, { name: sys, seed: i + 1, n: 50, datasets: files.map((f, j) => ({ ...f, mean: skill[sys] + 0.01 * j })) })
    }
    const board = await h.assay.leaderboard({ experiment: 'exp', datasets: ['t1', 't2', 't3', 't4'], metric: 'score', filter: "name ~ 'a'" })
    const rk = board.ranking!
    assert.ok(rk)
    assert.deepEqual(
      rk.systems.map((s) => s.system.split(' ')[0]),
      ['alpha', 'beta', 'gamma'],
    )
    assert.deepEqual(
      rk.systems.map((s) => s.averageRank),
      [1, 2, 3],
    )
    assert.ok(rk.friedman !== null && rk.friedman.pValue < 0.05, 'a consistent ordering over 4 datasets is significant')
    assert.ok(rk.nemenyi.criticalDifference > 0)
    assert.equal(board.boards.length, 4)
  })
})

describe('winner’s curse, best seed and CD helpers (pure)', () => {
  it('E[max of k standard normals] matches known values', () => {
    assert.ok(Math.abs(expectedMaxStandardNormal(2) - 1 / Math.sqrt(Math.PI)) < 1e-6)
    assert.ok(Math.abs(expectedMaxStandardNormal(5) - 1.16296) < 1e-4)
    assert.equal(expectedMaxStandardNormal(1), 0)
  })

  it('warns only when the best is evaluated on the data that selected it', () => {
    const base = { candidates: 10, bestLabel: 'm', selectionDatasetSha256: ['a'.repeat(64)] }
    assert.equal(winnersCurseWarning({ ...base, evaluationDatasetSha256: 'a'.repeat(64) })?.code, 'WINNERS_CURSE')
    assert.equal(winnersCurseWarning({ ...base, evaluationDatasetSha256: 'b'.repeat(64) }), null, 'a fresh holdout: no warning')
    assert.equal(winnersCurseWarning({ ...base, candidates: 1, evaluationDatasetSha256: 'a'.repeat(64) }), null)
  })

  it('best-seed flag needs unrepresented seeds of the same group that do no better', () => {
    const rep = [{ runId: 'r3', label: 'r3', groupKey: 'g', seed: 3, mean: 0.9 }]
    assert.equal(bestSeedOnlyWarnings(rep, [{ runId: 'r1', groupKey: 'g', seed: 1, mean: 0.8 }], true).get('r3')?.code, 'BEST_SEED_ONLY')
    assert.equal(bestSeedOnlyWarnings(rep, [{ runId: 'r1', groupKey: 'g', seed: 1, mean: 0.95 }], true).size, 0)
    assert.equal(bestSeedOnlyWarnings(rep, [{ runId: 'r1', groupKey: 'other', seed: 1, mean: 0.1 }], true).size, 0)
    assert.equal(bestSeedOnlyWarnings(rep, [{ runId: 'r1', groupKey: 'g', seed: 1, mean: 0.95 }], false).get('r3')?.code, 'BEST_SEED_ONLY', 'lower is better')
  })

  it('CD cliques join systems within CD', () => {
    assert.deepEqual(cliquesWithin([1, 1.5, 3, 3.2], 1), [
      [0, 1],
      [2, 3],
    ])
    assert.deepEqual(cliquesWithin([1, 2, 3], 0.5), [])
    const cd = criticalDifference({
      systems: ['a', 'b', 'c'].map((s) => ({ system: s, runIds: [s] })),
      datasets: [1, 2, 3].map((i) => ({ name: `d${i}`, sha256: String(i) })),
      matrix: [
        [0.9, 0.8, 0.7],
        [0.91, 0.79, 0.71],
        [0.7, 0.8, 0.9],
      ],
    })
    assert.deepEqual(
      cd.systems.map((s) => s.system),
      ['a', 'b', 'c'],
    )
    assert.ok(Math.abs(cd.systems[0].averageRank - 5 / 3) < 1e-12)
  })
})

describe('leaderboard --bootstrap with too few resamples for its candidates', () => {
  let h: Harness
  before(async () => {
    h = await openHarness()
    const file = writeDataset(h, 'val', 'id\ncontinuous scores\n')
    // Eleven systems with continuous scores; "strong" is far better than the baseline on every example.
    for (const [i, [name, mean]] of ([['baseline', 0.5], ...Array.from({ length: 9 }, (_, k) => [`null-${k}`, 0.5]), ['strong', 0.9]] as [string, number][]).entries()) {
      await logMultiRun(h, { name, seed: i + 1, n: 200, datasets: [{ name: 'val', file, mean }] })
    }
  })
  after(() => h.cleanup())

  it('says so when no candidate can reach alpha after the adjustment, and names the resamples needed', async () => {
    // 10 candidates, B = 100: the smallest bootstrap p is 2/101 ≈ 0.0198, Holm ×10 > 0.05.
    const few = await h.assay.leaderboard({ datasets: ['val'], interval: 'bootstrap', resamples: 100, seed: 3 })
    const warning = few.boards[0].warnings.find((w) => w.code === 'TOO_FEW_RESAMPLES')
    assert.ok(warning !== undefined, JSON.stringify(few.boards[0].warnings))
    assert.match(warning.message, /--bootstrap 400 or more/)
    assert.equal(few.boards[0].entries.find((e) => e.name === 'strong')?.verdict, 'inconclusive', 'the floor, not the data, decides')
    // With enough resamples the warning goes and the strong candidate is found.
    const enough = await h.assay.leaderboard({ datasets: ['val'], interval: 'bootstrap', resamples: 400, seed: 3 })
    assert.ok(!enough.boards[0].warnings.some((w) => w.code === 'TOO_FEW_RESAMPLES'))
    assert.equal(enough.boards[0].entries.find((e) => e.name === 'strong')?.verdict, 'better')
    // The analytic interval has no floor.
    const analytic = await h.assay.leaderboard({ datasets: ['val'] })
    assert.ok(!analytic.boards[0].warnings.some((w) => w.code === 'TOO_FEW_RESAMPLES'))
  })
})
