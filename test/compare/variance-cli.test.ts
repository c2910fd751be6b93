import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { binaryRecords, cli, continuousRecords, createFixture, uniforms, type Fixture } from './helpers.js'

describe('assay variance and the compare CLI', () => {
  let f: Fixture
  const group: string[] = []
  const other: string[] = []
  before(async () => {
    f = await createFixture()
    for (let s = 0; s < 5; s++) {
      const u = uniforms(50 + s, 200)
      const base = uniforms(7, 200)
      // Each seed shifts every example by its own offset, plus per-seed noise.
      group.push(await f.logRun({ seed: s, params: { config: 'g' }, records: continuousRecords(base.map((x, i) => x + 0.02 * s + 0.1 * u[i]!)) }))
      other.push(await f.logRun({ seed: s, params: { config: 'h' }, records: binaryRecords(200, (i) => (i + s) % 4 !== 0) }))
    }
  })
  after(() => f.dispose())

  it('decomposes a single run\'s variance into seeds and examples', async () => {
    const v = await f.assay.variance(group[0]!, { metric: 'score' })
    assert.equal(v.schema, 'assay.variance/v1')
    assert.deepEqual(v.group.runIds, group)
    assert.equal(v.source, 'eval-records')
    // Independent: the variance of the run means.
    const means = v.runs.map((r) => r.value)
    const m = means.reduce((x, y) => x + y, 0) / means.length
    const variance = means.reduce((x, y) => x + (y - m) ** 2, 0) / (means.length - 1)
    assert.ok(Math.abs(v.seeds.variance - variance) < 1e-12)
    assert.ok(v.seeds.component <= v.seeds.variance)
    assert.ok(Math.abs(v.shares.seeds + (v.shares.examples ?? 0) - 1) < 1e-12)
    assert.ok(Math.abs(v.singleRunStandardError ** 2 - (v.seeds.component + v.examples!.component)) < 1e-15)
    assert.ok(v.inflation !== null && v.inflation > 1)
    assert.equal(v.perExample!.unstable, 200)
  })

  it('counts examples whose binary score flips across seeds', async () => {
    const v = await f.assay.variance(other.join(','), { metric: 'correct' })
    assert.equal(v.perExample!.unstable, 200)
    assert.equal(v.seeds.sd, 0) // every seed gets exactly 75% right
  })

  it('refuses a group of one run', async () => {
    const lone = await f.logRun({ seed: 1, params: { config: 'lone' }, records: continuousRecords([1, 2, 3]) })
    const r = await cli(f.store, 'variance', lone, '--metric', 'score')
    assert.equal(r.code, 2)
    assert.match(r.err, /error ASSAY_GROUP_TOO_SMALL/)
  })

  it('prints the verdict first, and JSON with the schema', async () => {
    const text = await cli(f.store, 'compare', group[4]!, group[0]!, '--metric', 'score')
    assert.equal(text.code, 0, text.err)
    assert.match(text.out.split('\n')[0]!, /^A is BETTER than B on score/)
    assert.match(text.out, /estimate \(A − B\)/)
    const json = await cli(f.store, 'compare', group[4]!, group[0]!, '--metric', 'score', '--json', '--seed', '3')
    const parsed = JSON.parse(json.out)
    assert.equal(parsed.schema, 'assay.comparison/v1')
    assert.equal(parsed.seed, 3)
    assert.equal(parsed.verdict, 'better')
    const grouped = JSON.parse((await cli(f.store, 'compare', group[0]!, other[0]!, '--metric', 'score', '--group-by', '--json')).out || '{}')
    assert.equal(grouped.schema, undefined) // metric absent on B: error, no JSON
    const variance = JSON.parse((await cli(f.store, 'variance', group.join(','), '--metric', 'score', '--json')).out)
    assert.equal(variance.schema, 'assay.variance/v1')
  })

  it('exits 2 with a code for bad input', async () => {
    const unknown = await cli(f.store, 'compare', 'abcdef123', group[0]!, '--metric', 'score')
    assert.equal(unknown.code, 2)
    assert.match(unknown.err, /error ASSAY_RUN_NOT_FOUND/)
    const absent = await cli(f.store, 'compare', group[0]!, other[0]!, '--metric', 'score')
    assert.equal(absent.code, 2)
    assert.match(absent.err, /error ASSAY_METRIC_NOT_FOUND/)
    const badOption = await cli(f.store, 'compare', group[0]!, group[1]!, '--metric', 'score', '--confidence', '2')
    assert.equal(badOption.code, 2)
    assert.match(badOption.err, /ASSAY_INVALID_ARGUMENT/)
  })
})

describe('assay variance across data splits (folds)', () => {
  let f: Fixture
  const folds = 3
  const seeds = 3
  const n = 50
  const foldOffset = [0, 0.3, 0.6]
  /** scores[fold][seed]: the per-example scores logged, kept here for the independent computation. */
  const scores: number[][][] = []
  const ids: string[] = []
  before(async () => {
    f = await createFixture()
    for (let k = 0; k < folds; k++) {
      // Each fold is its own validation file: a different dataset version (and config fingerprint).
      const file = f.dataset(`fold-${k}.csv`, `id\nfold ${k}\n`)
      const exampleEffect = uniforms(900 + k, n)
      scores.push([])
      for (let s = 0; s < seeds; s++) {
        const noise = uniforms(1000 + 10 * k + s, n)
        const values = exampleEffect.map((x, i) => foldOffset[k]! + 0.03 * s + 0.2 * x + 0.05 * noise[i]!)
        scores[k]!.push(values)
        ids.push(await f.logRun({ experiment: 'cv', seed: s, params: { model: 'm', fold: k }, datasetPath: file, records: continuousRecords(values) }))
      }
    }
  })
  after(() => f.dispose())

  /** One-way ANOVA of run means with seeds nested in folds, by the textbook mean squares. */
  function expected(): { seedComponent: number; exampleComponent: number; splitComponent: number; splitShare: number } {
    const mean = (x: number[]): number => x.reduce((a, b) => a + b, 0) / x.length
    const variance = (x: number[]): number => x.reduce((a, b) => a + (b - mean(x)) ** 2, 0) / (x.length - 1)
    const runMean = scores.map((fold) => fold.map(mean))
    const foldMean = runMean.map(mean)
    const grand = mean(foldMean)
    let ssWithin = 0
    for (let k = 0; k < folds; k++) for (let s = 0; s < seeds; s++) ssWithin += (runMean[k]![s]! - foldMean[k]!) ** 2
    const msWithin = ssWithin / (folds * (seeds - 1))
    const msBetween = (seeds * foldMean.reduce((a, m) => a + (m - grand) ** 2, 0)) / (folds - 1)
    // E[MS_between] = k σ²_split' + MS_within, σ²_split' holding the split and its example sample:
    // take off the example part, the mean within-run variance / n.
    const exampleComponent = mean(scores.flat().map((x) => variance(x) / x.length))
    const splitComponent = Math.max(0, (msBetween - msWithin) / seeds - exampleComponent)
    const total = msWithin + exampleComponent + splitComponent
    return { seedComponent: msWithin, exampleComponent, splitComponent, splitShare: splitComponent / total }
  }

  it('with an explicit run list: splits, seeds and examples as a nested ANOVA computes them', async () => {
    const v = await f.assay.variance(ids.join(','), { metric: 'score' })
    const e = expected()
    assert.ok(v.splits !== null)
    assert.equal(v.splits.count, folds)
    assert.deepEqual(v.splits.values.map((x) => x.runs), [3, 3, 3])
    assert.ok(Math.abs(v.seeds.component - e.seedComponent) < 1e-12, `${v.seeds.component} vs ${e.seedComponent}`)
    assert.ok(Math.abs(v.examples!.component - e.exampleComponent) < 1e-12)
    assert.ok(Math.abs(v.splits.component - e.splitComponent) < 1e-12, `${v.splits.component} vs ${e.splitComponent}`)
    assert.ok(Math.abs(v.shares.splits! - e.splitShare) < 1e-9)
    assert.ok(e.splitShare > 0.9, `folds 0.3 apart dominate: ${e.splitShare}`)
    assert.ok(Math.abs(v.shares.seeds + v.shares.examples! + v.shares.splits! - 1) < 1e-12)
  })

  it('--group-by params.K gathers the folds of one model; --group-by config does not (the data hash differs)', async () => {
    const byParam = await f.assay.variance(ids[0]!, { metric: 'score', groupBy: 'params.model' })
    assert.deepEqual(new Set(byParam.group.runIds), new Set(ids))
    assert.ok(Math.abs(byParam.shares.splits! - expected().splitShare) < 1e-9)
    const byConfig = await f.assay.variance(ids[0]!, { metric: 'score' })
    assert.deepEqual(byConfig.group.runIds, ids.slice(0, seeds))
    assert.equal(byConfig.splits, null)
    const text = await cli(f.store, 'variance', ids[0]!, '--metric', 'score', '--group-by', 'params.model', '--json')
    assert.equal(text.code, 0, text.err)
    assert.equal(JSON.parse(text.out).splits.count, folds)
  })
})
