import tQuantile from '@stdlib/stats-base-dists-t-quantile'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { isAssayError } from '../../src/errors.js'
import { binaryRecords, cli, continuousRecords, createFixture, exactBinomialTwoSided, uniforms, type Fixture } from './helpers.js'

const Z975 = 1.959963984540054
const Z80 = 0.8416212335729143

function rejectsWith(code: string, pattern?: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isAssayError(error), `expected an AssayError, got ${String(error)}`)
    assert.equal(error.code, code, error.message)
    if (pattern) assert.match(error.message, pattern)
    return true
  }
}

describe('compare: paired per-example comparisons', () => {
  let f: Fixture
  const n = 600
  let good: string
  let bad: string
  let twin: string
  let nearly: string
  before(async () => {
    f = await createFixture()
    // A right on 90% of examples, B on 70%; B's right answers are a subset of A's.
    good = await f.logRun({ seed: 1, records: binaryRecords(n, (i) => i % 10 !== 0) })
    bad = await f.logRun({ seed: 2, params: { config: 'y' }, records: binaryRecords(n, (i) => i % 10 >= 3) })
    twin = await f.logRun({ seed: 3, params: { config: 'y' }, records: binaryRecords(n, (i) => i % 10 >= 3) })
    // 3 more right answers than `bad`, nothing else changes.
    nearly = await f.logRun({ seed: 4, params: { config: 'z' }, records: binaryRecords(n, (i) => i % 10 >= 3 || i === 0 || i === 10 || i === 20) })
  })
  after(() => f.dispose())

  it('finds a clearly better candidate better, with exact McNemar and the paired t interval for binary scores (paired bootstrap reported)', async () => {
    const c = await f.assay.compare(good, bad, { metric: 'correct' })
    assert.equal(c.schema, 'assay.comparison/v1')
    assert.equal(c.mode, 'paired-examples')
    assert.equal(c.verdict, 'better')
    assert.equal(c.scoreType, 'binary')
    assert.equal(c.method, 'Exact McNemar test (binomial on the discordant pairs) + paired t interval')
    assert.ok(c.tests.some((t) => String(t.method).startsWith('Paired bootstrap')))
    assert.equal(c.source, 'eval-records')
    // Independent: mean(A) - mean(B) = 0.9 - 0.7; discordant b = 0.2 n, c = 0.
    assert.ok(Math.abs(c.estimate - 0.2) < 1e-12)
    assert.deepEqual(c.sampleSizes, { a: n, b: n, pairs: n, lostA: 0, lostB: 0 })
    const mc = c.tests.find((t) => t.method === 'Exact McNemar test (binomial)') as { pValue: number; b: number; c: number }
    assert.equal(mc.b, 120)
    assert.equal(mc.c, 0)
    assert.ok(Math.abs(c.pValue - exactBinomialTwoSided(0, 120)) <= 1e-12 * Math.max(1e-300, exactBinomialTwoSided(0, 120)) + 1e-300)
    assert.ok((c.ci as [number, number])[0] > 0 && (c.ci as [number, number])[1] > (c.ci as [number, number])[0])
    assert.equal(c.required, null)
    assert.equal(c.seed, 0)
    assert.equal(c.resamples, 2000)
    assert.equal(c.confidenceLevel, 0.95)
    assert.equal(c.topImprovements.length, 10)
    assert.equal(c.topRegressions.length, 0)
    // Reverse order: worse.
    assert.equal((await f.assay.compare(bad, good, { metric: 'correct' })).verdict, 'worse')
    // Lower is better flips the verdict.
    assert.equal((await f.assay.compare(good, bad, { metric: 'correct', lowerIsBetter: true })).verdict, 'worse')
  })

  it('reports identical runs as identical: inconclusive, no zero-width interval, even within a margin', async () => {
    const c = await f.assay.compare(twin, bad, { metric: 'correct' })
    assert.equal(c.verdict, 'inconclusive')
    assert.equal(c.estimate, 0)
    assert.equal(c.ci, null)
    assert.equal(c.differences, 'identical')
    assert.equal(c.pValue, 1)
    assert.ok(c.warnings.some((w) => w.code === 'IDENTICAL_SIDES'))
    assert.equal(c.required?.examples, null)
    const e = await f.assay.compare(twin, bad, { metric: 'correct', margin: 0.01 })
    assert.equal(e.verdict, 'inconclusive')
    assert.match(e.decision.reason, /identical/)
  })

  it('calls a tiny difference inconclusive and says how many examples would detect it', async () => {
    const c = await f.assay.compare(nearly, bad, { metric: 'correct' })
    assert.equal(c.verdict, 'inconclusive')
    assert.ok(Math.abs(c.pValue - exactBinomialTwoSided(0, 3)) < 1e-12)
    assert.ok(c.required !== null && c.required.examples !== null)
    assert.ok(c.required.examples > c.sampleSizes.pairs!)
    assert.equal(c.required.power, 0.8)
    // Independent: n = ((z_.975 + z_.8) sd(d) / mean(d))^2 with d = 1 on 3 examples, 0 elsewhere.
    const m = 3 / n
    const sd = Math.sqrt((3 * (1 - m) ** 2 + (n - 3) * m * m) / (n - 1))
    assert.equal(c.required.examples, Math.ceil((((Z975 + Z80) * sd) / m) ** 2))
  })

  it('gives the same numbers for the same seed, and records the seed', async () => {
    const x = await f.assay.compare(nearly, bad, { metric: 'correct', seed: 7 })
    const y = await f.assay.compare(nearly, bad, { metric: 'correct', seed: 7 })
    assert.deepEqual(x, y)
    assert.equal(x.seed, 7)
    const boot = x.tests.find((t) => String(t.method).startsWith('Paired bootstrap')) as { seed: number }
    assert.equal(boot.seed, 7)
  })

  it('refuses unknown runs, absent metrics and runs without eval records with their codes', async () => {
    await assert.rejects(f.assay.compare('ffffffffff', bad, { metric: 'correct' }), rejectsWith('ASSAY_RUN_NOT_FOUND'))
    await assert.rejects(f.assay.compare(good, bad, { metric: 'nope' }), rejectsWith('ASSAY_METRIC_NOT_FOUND', /nope/))
    const bare = await f.logRun({ seed: 9, metrics: { acc: 0.5 } })
    await assert.rejects(f.assay.compare(good, bare, { metric: 'correct' }), rejectsWith('ASSAY_EVAL_NOT_FOUND'))
    const otherScore = await f.logRun({ seed: 11, records: [{ id: 'ex-0', scores: { other: 1 } }, { id: 'ex-1', scores: { other: 0 } }] })
    await assert.rejects(f.assay.compare(good, otherScore, { metric: 'correct' }), rejectsWith('ASSAY_METRIC_NOT_FOUND', /correct/))
    const bare2 = await f.logRun({ seed: 10, metrics: { acc: 0.6 } })
    await assert.rejects(f.assay.compare(bare2, bare, { metric: 'acc' }), rejectsWith('ASSAY_EVAL_NOT_FOUND', /no eval records/))
    await assert.rejects(f.assay.compare(good, bad, { metric: 'correct', confidenceLevel: 1.5 }), rejectsWith('ASSAY_INVALID_ARGUMENT'))
  })

  it('refuses the same single run on both sides (by full id or by prefix)', async () => {
    await assert.rejects(f.assay.compare(good, good, { metric: 'correct' }), rejectsWith('ASSAY_INVALID_ARGUMENT', /same run is on both sides/))
    await assert.rejects(f.assay.compare(good.slice(0, 8), good, { metric: 'correct' }), rejectsWith('ASSAY_INVALID_ARGUMENT', new RegExp(good.slice(0, 8))))
    // A single run against a group that contains it: refused too.
    await assert.rejects(f.assay.compare(good, `${twin},${good}`, { metric: 'correct' }), rejectsWith('ASSAY_INVALID_ARGUMENT', /same run is on both sides/))
  })

  it('says so when replicate groups were asked for but each side has one run', async () => {
    // solo and nearly (config z) are the only runs of their configurations.
    const solo = await f.logRun({ seed: 5, params: { config: 'solo' }, records: binaryRecords(n, (i) => i % 10 !== 0) })
    const c = await f.assay.compare(solo, nearly, { metric: 'correct', groupBy: 'config' })
    assert.equal(c.mode, 'paired-examples')
    const w = c.warnings.find((x) => x.code === 'METHOD_FALLBACK')
    assert.ok(w, JSON.stringify(c.warnings))
    assert.match(w.message, /replicate groups were asked for \(--group-by config\)/)
    assert.match(w.message, /each side has one run/)
    assert.match(w.message, /per example/)
    // Without --group-by two single runs are simply compared per example: no such warning.
    const plain = await f.assay.compare(solo, nearly, { metric: 'correct' })
    assert.ok(!plain.warnings.some((x) => x.code === 'METHOD_FALLBACK'))
    const fp = (await f.assay.getRun(solo)).envelope.config
    const viaPrefix = await f.assay.compare(`config:${fp.slice(0, 12)}`, nearly, { metric: 'correct' })
    assert.match(viaPrefix.warnings.find((x) => x.code === 'METHOD_FALLBACK')?.message ?? '', /group expression/)
  })
})

describe('compare: comparability and overlap', () => {
  let f: Fixture
  before(async () => {
    f = await createFixture()
  })
  after(() => f.dispose())

  it('refuses different dataset versions naming both hashes, or proceeds unpaired when allowed', async () => {
    const v1 = f.dataset('v1.csv', 'id\n1\n')
    const v2 = f.dataset('v2.csv', 'id\n2\n')
    const u = uniforms(11, 200)
    const a = await f.logRun({ seed: 1, datasetPath: v1, records: continuousRecords(u.map((x) => x + 0.1)) })
    const b = await f.logRun({ seed: 2, datasetPath: v2, records: continuousRecords(u) })
    const runA = await f.assay.getRun(a)
    const runB = await f.assay.getRun(b)
    const hashA = runA.evals[0]!.datasetSha256
    const hashB = runB.evals[0]!.datasetSha256
    assert.notEqual(hashA, hashB)
    await assert.rejects(f.assay.compare(a, b, { metric: 'score' }), (error) => {
      assert.ok(isAssayError(error, 'ASSAY_NOT_COMPARABLE'))
      assert.ok(error.message.includes(hashA) && error.message.includes(hashB), error.message)
      assert.match(error.message, /--allow-different-data/)
      return true
    })
    const c = await f.assay.compare(a, b, { metric: 'score', allowDifferentData: true })
    assert.equal(c.mode, 'unpaired-examples')
    assert.match(c.method, /Welch/)
    assert.ok(c.warnings.some((w) => w.code === 'DIFFERENT_DATA'))
    assert.equal(c.sampleSizes.pairs, null)
    assert.equal(c.a.datasetSha256, hashA)
    assert.equal(c.b.datasetSha256, hashB)
  })

  it('pairs on the intersection of example ids and counts what each side lost', async () => {
    const u = uniforms(5, 130)
    const a = await f.logRun({ seed: 1, records: continuousRecords(u.slice(0, 100), 0) }) // ex-0 .. ex-99
    const b = await f.logRun({ seed: 2, records: continuousRecords(u.slice(0, 110), 10) }) // ex-10 .. ex-119
    const c = await f.assay.compare(a, b, { metric: 'score' })
    assert.equal(c.sampleSizes.pairs, 90)
    assert.equal(c.sampleSizes.lostA, 10)
    assert.equal(c.sampleSizes.lostB, 20)
    assert.ok(c.warnings.some((w) => w.code === 'PARTIAL_OVERLAP'))
    // Independent: A's ex-i is u[i]; B's ex-i is u[i - 10].
    let s = 0
    for (let i = 10; i < 100; i++) s += u[i]! - u[i - 10]!
    assert.ok(Math.abs(c.estimate - s / 90) < 1e-12)
  })

  it('uses paired t + Wilcoxon for continuous scores, with the t interval', async () => {
    const u = uniforms(21, 300)
    const v = uniforms(22, 300)
    const a = await f.logRun({ seed: 1, records: continuousRecords(u.map((x, i) => x + 0.3 * v[i]!)) })
    const b = await f.logRun({ seed: 2, records: continuousRecords(u) })
    const c = await f.assay.compare(a, b, { metric: 'score' })
    assert.equal(c.method, 'Paired t-test')
    assert.equal(c.scoreType, 'continuous')
    assert.ok(c.tests.some((t) => t.method === 'Paired t-test'))
    assert.ok(c.tests.some((t) => String(t.method).startsWith('Wilcoxon signed rank')))
    const d = v.map((x) => 0.3 * x)
    const m = d.reduce((x, y) => x + y, 0) / d.length
    const se = Math.sqrt(d.reduce((x, y) => x + (y - m) ** 2, 0) / (d.length - 1) / d.length)
    const q = tQuantile(0.975, d.length - 1)
    assert.ok(Math.abs((c.ci as [number, number])[0] - (m - q * se)) < 1e-9 && Math.abs((c.ci as [number, number])[1] - (m + q * se)) < 1e-9)
    assert.equal(c.verdict, 'better')
    assert.equal(c.effectSize?.name.startsWith("Cohen's d_z"), true)
  })

  it('reports the clustered standard error when examples carry cluster ids', async () => {
    const u = uniforms(31, 200)
    const cluster = (i: number): string => `c${Math.floor(i / 4)}`
    // Differences constant within clusters of 4: strong clustering.
    const shift = (i: number): number => 0.05 + 0.2 * (u[Math.floor(i / 4) * 4]! - 0.5)
    const a = await f.logRun({ seed: 1, records: continuousRecords(u.map((x, i) => x + shift(i)), 0, cluster) })
    const b = await f.logRun({ seed: 2, records: continuousRecords(u, 0, cluster) })
    const c = await f.assay.compare(a, b, { metric: 'score' })
    assert.ok(c.clusteredStandardError !== null)
    assert.equal(c.clusteredStandardError.clusters, 50)
    // Independent: sqrt(C/(C-1) * sum_c (sum_{i in c} (d_i - mean d))^2) / n.
    const d = u.map((_, i) => shift(i))
    const m = d.reduce((x, y) => x + y, 0) / d.length
    const sums = new Map<string, number>()
    d.forEach((x, i) => sums.set(cluster(i), (sums.get(cluster(i)) ?? 0) + (x - m)))
    let meat = 0
    for (const s of sums.values()) meat += s * s
    const expected = Math.sqrt((50 / 49) * meat) / d.length
    assert.ok(Math.abs(c.clusteredStandardError.value - expected) < 1e-9)
    assert.ok(c.clusteredCi !== null)
    assert.match(c.method, /Cluster-robust/)
    // The headline interval is the cluster-robust one: estimate ± t(C − 1) × clustered SE.
    const q = tQuantile(0.975, 49)
    assert.ok(Math.abs((c.ci as [number, number])[0] - (m - q * expected)) < 1e-9)
    assert.deepEqual(c.ci, c.clusteredCi)
    // The example-level tests beside it are labelled as ignoring the clusters, in the JSON and in the text.
    const beside = c.tests.slice(1).filter((t) => typeof t.pValue === 'number')
    assert.ok(beside.length >= 2)
    for (const t of beside) assert.match(String(t.method), /\(example-level: ignores the clusters\)$/)
    const text = await cli(f.store, 'compare', a, b, '--metric', 'score')
    assert.equal(text.code, 0, text.err)
    assert.match(text.out, /Paired t-test \(example-level: ignores the clusters\): p = /)
  })

  it('records a holdout read when the eval dataset has role test', async () => {
    const t = f.dataset('test.csv', 'id\nheld\n')
    const u = uniforms(41, 50)
    const a = await f.logRun({ seed: 1, datasetPath: t, datasetName: 'test', role: 'test', records: continuousRecords(u.map((x) => x + 0.01)) })
    const b = await f.logRun({ seed: 2, datasetPath: t, datasetName: 'test', role: 'test', records: continuousRecords(u) })
    const sha = (await f.assay.getRun(a)).datasets[0]!.sha256
    const c = await f.assay.compare(a, b, { metric: 'score' })
    assert.equal(c.holdout.length, 1)
    assert.equal(c.holdout[0]!.reads, 1)
    const reads = await f.assay.store.holdoutReads(sha)
    assert.equal(reads.length, 1)
    assert.deepEqual(reads[0]!.runIds, [a, b])
    assert.equal(reads[0]!.purpose, 'compare score')
    // The CLI takes the budget too: the second read is past a budget of 1.
    const over = await cli(f.store, 'compare', a, b, '--metric', 'score', '--holdout-budget', '1', '--json')
    assert.equal(over.code, 0, over.err)
    const parsed = JSON.parse(over.out) as { holdout: { reads: number; budget: number; overBudget: boolean }[]; warnings: { code: string }[] }
    assert.deepEqual(parsed.holdout.map((h) => [h.reads, h.budget, h.overBudget]), [[2, 1, true]])
    assert.ok(parsed.warnings.some((w) => w.code === 'HOLDOUT_OVERUSE'))
    const bad = await cli(f.store, 'compare', a, b, '--metric', 'score', '--holdout-budget', '-1')
    assert.equal(bad.code, 2)
    assert.match(bad.err, /ASSAY_INVALID_ARGUMENT.*--holdout-budget/)
  })
})

describe('compare: replicate groups', () => {
  let f: Fixture
  const ids: Record<string, string[]> = { a: [], b: [], c: [], d: [], one: [], ea: [], eb: [] }
  const accC = [0.8, 0.84, 0.82]
  const accD = [0.79, 0.83, 0.81]
  before(async () => {
    f = await createFixture()
    const accA = [0.81, 0.83, 0.82]
    const accB = [0.78, 0.79, 0.77]
    for (const [k, v] of accA.entries()) ids.a!.push(await f.logRun({ seed: k + 1, params: { config: 'a' }, metrics: { acc: v } }))
    for (const [k, v] of accB.entries()) ids.b!.push(await f.logRun({ seed: k + 1, params: { config: 'b' }, metrics: { acc: v } }))
    ids.one!.push(await f.logRun({ seed: 1, params: { config: 'single' }, metrics: { acc: 0.8 } }))
    for (const [k, v] of accC.entries()) ids.c!.push(await f.logRun({ seed: k + 1, params: { config: 'c' }, metrics: { acc: v } }))
    for (const [k, v] of accD.entries()) ids.d!.push(await f.logRun({ seed: k + 1, params: { config: 'd' }, metrics: { acc: v } }))
    // Groups with eval records: 4 seeds each, A ~ 0.05 better per example on average.
    for (let s = 0; s < 4; s++) {
      const u = uniforms(100 + s, 150)
      ids.ea!.push(await f.logRun({ seed: s, experiment: 'evals', params: { config: 'ea' }, records: continuousRecords(u.map((x) => x + 0.05)) }))
      ids.eb!.push(await f.logRun({ seed: s, experiment: 'evals', params: { config: 'eb' }, records: continuousRecords(uniforms(200 + s, 150)) }))
    }
  })
  after(() => f.dispose())

  it('compares groups of seeds on the run-level metric with Welch, Mann-Whitney, P(A>B) and ASO; warns of few seeds', async () => {
    const c = await f.assay.compare(ids.a!.join(','), ids.b!.join(','), { metric: 'acc' })
    assert.equal(c.mode, 'replicate-groups')
    assert.equal(c.source, 'run-metrics')
    assert.ok(c.groups !== null)
    assert.deepEqual(c.groups.a.values, [0.81, 0.83, 0.82])
    assert.deepEqual(c.groups.a.seeds, [1, 2, 3])
    assert.ok(Math.abs(c.estimate - (0.82 - 0.78)) < 1e-12)
    const methods = c.tests.map((t) => String(t.method))
    assert.ok(methods.some((m) => m.startsWith("Welch's")))
    assert.ok(methods.some((m) => /Mann.Whitney/.test(m)))
    assert.ok(methods.some((m) => m.startsWith('Probability of improvement')))
    assert.ok(methods.some((m) => m.startsWith('Almost stochastic order')))
    const poi = c.tests.find((t) => String(t.method).startsWith('Probability of improvement')) as { estimate: number }
    assert.equal(poi.estimate, 1) // every A value above every B value
    const few = c.warnings.find((w) => w.code === 'FEW_SEEDS')
    assert.ok(few, 'FEW_SEEDS warning')
    assert.ok(c.required !== null && c.required.seeds !== null && c.required.seeds >= 2)
    // Welch's interval, independently: means differ by 0.04, each group sd 0.01 and n = 3.
    const se = Math.sqrt(0.01 ** 2 / 3 + 0.01 ** 2 / 3)
    const df = se ** 4 / (2 * (0.01 ** 2 / 3) ** 2 / 2)
    const q = tQuantile(0.975, df)
    assert.ok(Math.abs((c.ci as [number, number])[0] - (0.04 - q * se)) < 1e-9)
  })

  it('FEW_SEEDS states max(5, power-based) seeds and which criterion set it; required.seeds is the same number', async () => {
    // Independent normal approximation: n = ((z.975 + z.8) / Δ)² (sd_A² + sd_B²), rounded up.
    const sd = (x: number[]): number => {
      const m = x.reduce((s, v) => s + v, 0) / x.length
      return Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / (x.length - 1))
    }
    const mean = (x: number[]): number => x.reduce((s, v) => s + v, 0) / x.length
    const powerSeeds = (x: number[], y: number[]): number => Math.ceil(((Z975 + Z80) / (mean(x) - mean(y))) ** 2 * (sd(x) ** 2 + sd(y) ** 2))
    // 3 vs 3 with a large difference: the power calculation asks for fewer seeds than the 3 present.
    const small = powerSeeds([0.81, 0.83, 0.82], [0.78, 0.79, 0.77])
    assert.ok(small < 3, `power-based ${small}`)
    const c = await f.assay.compare(ids.a!.join(','), ids.b!.join(','), { metric: 'acc' })
    const few = c.warnings.find((w) => w.code === 'FEW_SEEDS')
    assert.ok(few)
    assert.equal(c.required?.seeds, 5)
    assert.equal(c.required?.seedsBasis, 'minimum')
    assert.match(few.message, /at least 5 seeds per group are needed \(assay's minimum/)
    assert.doesNotMatch(few.message, new RegExp(`about ${Math.max(2, small)} seeds per group would detect`))
    // 3 vs 3 with a small difference against the spread: the power calculation sets the number.
    const large = powerSeeds(accC, accD)
    assert.ok(large > 5, `power-based ${large}`)
    const d = await f.assay.compare(ids.c!.join(','), ids.d!.join(','), { metric: 'acc' })
    const fewD = d.warnings.find((w) => w.code === 'FEW_SEEDS')
    assert.ok(fewD)
    assert.equal(d.required?.seeds, large)
    assert.equal(d.required?.seedsBasis, 'power')
    assert.match(fewD.message, new RegExp(`about ${large} seeds per group are needed: that many detect the observed difference at 80% power`))
    const text = await cli(f.store, 'compare', ids.a!.join(','), ids.b!.join(','), '--metric', 'acc')
    assert.match(text.out, /seeds per group needed: at least 5 \(assay's minimum/)
  })

  it('expands a run into its replicate group with --group-by config, and config:<prefix>', async () => {
    const c = await f.assay.compare(ids.a![0]!, ids.b![0]!, { metric: 'acc', groupBy: 'config' })
    assert.deepEqual(c.a.runIds, ids.a)
    assert.deepEqual(c.b.runIds, ids.b)
    const fp = (await f.assay.getRun(ids.a![0]!)).envelope.config
    const d = await f.assay.compare(`config:${fp.slice(0, 10)}`, ids.b!.join(','), { metric: 'acc' })
    assert.deepEqual(d.a.runIds, ids.a)
    const e = await f.assay.compare(`filter:params.config = 'a'`, `filter:params.config = 'b'`, { metric: 'acc' })
    assert.deepEqual(e.b.runIds, ids.b)
  })

  it('refuses a group of one run with ASSAY_GROUP_TOO_SMALL', async () => {
    await assert.rejects(f.assay.compare(ids.one![0]!, ids.b!.join(','), { metric: 'acc' }), rejectsWith('ASSAY_GROUP_TOO_SMALL', /at least 2 runs/))
  })

  it('counts the records each side lost in group modes: sum over its runs (two-level and different data)', async () => {
    const g = await createFixture()
    try {
      // Two-level: A's runs scored ex-0..99 and ex-0..94; B's ex-5..104 and ex-0..99.
      const spans: [number, number][] = [[0, 100], [0, 95], [5, 105], [0, 100]]
      const made: string[] = []
      for (const [k, [lo, hi]] of spans.entries()) {
        const u = uniforms(300 + k, hi - lo)
        made.push(await g.logRun({ seed: k, params: { config: k < 2 ? 'A' : 'B' }, records: continuousRecords(u, lo) }))
      }
      // Independent: the common ids are the intersection of the spans; each run loses the rest.
      const common = Math.min(...spans.map((x) => x[1])) - Math.max(...spans.map((x) => x[0]))
      const lost = spans.map(([lo, hi]) => hi - lo - common)
      const c = await g.assay.compare(made.slice(0, 2).join(','), made.slice(2).join(','), { metric: 'score' })
      assert.equal(c.mode, 'two-level')
      assert.equal(c.sampleSizes.examples, common)
      assert.equal(c.sampleSizes.lostA, lost[0]! + lost[1]!)
      assert.equal(c.sampleSizes.lostB, lost[2]! + lost[3]!)
      assert.ok(c.warnings.some((w) => w.code === 'PARTIAL_OVERLAP' && w.message.includes(`${c.sampleSizes.lostA} on side A`)))
      // Different data versions (allowed): records without the score are dropped per run and counted.
      const v1 = g.dataset('d1.csv', 'id\n1\n')
      const v2 = g.dataset('d2.csv', 'id\n2\n')
      const withGaps = (seed: number, gaps: number): { id: string; scores: Record<string, number> }[] =>
        uniforms(seed, 40).map((x, i) => ({ id: `ex-${i}`, scores: (i < gaps ? { other: 1 } : { score: x }) as Record<string, number> }))
      const gapsPerRun = [3, 0, 2, 5]
      const diff: string[] = []
      for (const [k, gaps] of gapsPerRun.entries()) {
        diff.push(await g.logRun({ seed: k, experiment: 'diff', params: { config: k < 2 ? 'A' : 'B' }, datasetPath: k < 2 ? v1 : v2, records: withGaps(400 + k, gaps) }))
      }
      const d = await g.assay.compare(diff.slice(0, 2).join(','), diff.slice(2).join(','), { metric: 'score', allowDifferentData: true })
      assert.equal(d.mode, 'replicate-groups')
      assert.equal(d.sampleSizes.lostA, 3 + 0)
      assert.equal(d.sampleSizes.lostB, 2 + 5)
      // The run's value is the mean over the records that have the score.
      const u0 = uniforms(400, 40).slice(3)
      assert.ok(Math.abs(d.groups!.a.values[0]! - u0.reduce((x, y) => x + y, 0) / u0.length) < 1e-12)
    } finally {
      await g.dispose()
    }
  })

  it('reports groups of identical runs as identical (no [0, 0] interval), two-level or run-level, and decides constant groups exactly', async () => {
    const g = await createFixture()
    try {
      // Four runs scoring the same on every example: two-level mode with no spread anywhere.
      const u = uniforms(500, 60)
      const same: string[] = []
      for (let k = 0; k < 4; k++) same.push(await g.logRun({ seed: k, params: { config: k < 2 ? 'A' : 'B' }, records: continuousRecords(u) }))
      const c = await g.assay.compare(same.slice(0, 2).join(','), same.slice(2).join(','), { metric: 'score', margin: 0.1 })
      assert.equal(c.mode, 'two-level')
      assert.equal(c.ci, null)
      assert.equal(c.pValue, 1)
      assert.equal(c.verdict, 'inconclusive')
      assert.ok(c.warnings.some((w) => w.code === 'IDENTICAL_SIDES'))
      // Run-level metrics: 5 runs of 0.7 against 5 of 0.6.
      const runs: string[] = []
      for (let k = 0; k < 10; k++) runs.push(await g.logRun({ seed: k, experiment: 'flat', params: { config: k < 5 ? 'A' : 'B' }, metrics: { acc: k < 5 ? 0.7 : 0.6 } }))
      const d = await g.assay.compare(runs.slice(0, 5).join(','), runs.slice(5).join(','), { metric: 'acc' })
      assert.equal(d.mode, 'replicate-groups')
      assert.match(d.method, /exact permutation test/)
      assert.ok(Math.abs(d.pValue - 2 / 252) < 1e-12, `p = ${d.pValue}`)
      assert.equal(d.verdict, 'better')
      assert.equal(d.groups!.a.ci, null)
    } finally {
      await g.dispose()
    }
  })

  it('uses the two-level bootstrap (seeds, then examples) when groups have eval records', async () => {
    const c = await f.assay.compare(ids.ea!.join(','), ids.eb!.join(','), { metric: 'score' })
    assert.equal(c.mode, 'two-level')
    assert.match(c.method, /Two-level bootstrap/)
    const tl = c.tests.find((t) => String(t.method).startsWith('Two-level bootstrap')) as { ci: [number, number]; runsA: number; examples: number }
    assert.deepEqual(c.ci, tl.ci)
    // The p-value comes from the same bootstrap as the interval, so the two agree.
    assert.equal(c.pValue, (tl as unknown as { pValue: number }).pValue)
    assert.equal(tl.runsA, 4)
    assert.equal(tl.examples, 150)
    // Per-run values are the means of the eval scores.
    const u0 = uniforms(100, 150).map((x) => x + 0.05)
    assert.ok(Math.abs(c.groups!.a.values[0]! - u0.reduce((x, y) => x + y, 0) / 150) < 1e-12)
    const again = await f.assay.compare(ids.ea!.join(','), ids.eb!.join(','), { metric: 'score' })
    assert.deepEqual(again, c)
  })
})
