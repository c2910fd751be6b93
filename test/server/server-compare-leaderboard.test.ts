/**
 * The routes the web UI's Compare and Leaderboard views read, in process over a real SQLite
 * store: GET /api/v1/compare/detail (two runs or two groups, with what the UI draws) and
 * GET /api/v1/leaderboard. Their answers are the library's own (compare, leaderboard), their
 * limits refuse oversize work with ASSAY_VALUE_TOO_LARGE, a token limited to one experiment gets
 * ASSAY_FORBIDDEN for anything of another, and malformed input is 400.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { compare } from '../../src/compare/compare.js'
import type { Comparison, ComparisonDetail } from '../../src/compare/comparison-types.js'
import { leaderboard, type Leaderboard } from '../../src/compare/leaderboard.js'
import { buildServer } from '../../src/server/app.js'
import { COMPARE_MAX_RUNS_PER_SIDE } from '../../src/server/routes/compare.js'
import { LEADERBOARD_MAX_RESAMPLES } from '../../src/server/routes/leaderboard.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { continuousRecords, createFixture, uniforms, type Fixture } from '../compare/helpers.js'
import { EXAMPLES, groupFixture, SEEDS, type GroupFixture } from '../ui/group-fixture.js'
import { bearer, makeToken } from './helpers.js'

const SIDE_A = "filter:experiment = 'vision' and params.config = 'a'"
const SIDE_B = "filter:experiment = 'vision' and params.config = 'b'"

describe('compare/detail and leaderboard routes', () => {
  let g: GroupFixture
  let store: Store
  let app: FastifyInstance
  let reader: string
  let visionReader: string

  before(async () => {
    g = await groupFixture()
    store = await SqliteStore.open(g.fixture.store)
    app = await buildServer({ store, auth: { enabled: true } })
    reader = (await makeToken(store, 'read', null, 'reader')).secret
    visionReader = (await makeToken(store, 'read', ['vision'], 'vision-reader')).secret
  })
  after(async () => {
    await app?.close()
    await store?.close()
    await g?.fixture.dispose().catch(() => undefined)
  })

  const get = (url: string, query: Record<string, string>, secret = reader) => app.inject({ method: 'GET', url, query, headers: bearer(secret) })

  it('compares two groups as compare() does, and draws every run, both pooled sides and every example', async () => {
    const response = await get('/api/v1/compare/detail', { a: SIDE_A, b: SIDE_B, metric: 'score' }, visionReader)
    assert.equal(response.statusCode, 200, response.body)
    const { comparison, detail } = JSON.parse(response.body) as { comparison: Comparison; detail: ComparisonDetail }
    const expected = await compare(store, SIDE_A, SIDE_B, { metric: 'score' })
    assert.equal(comparison.mode, 'two-level')
    assert.equal(comparison.verdict, expected.verdict)
    assert.equal(comparison.pValue, expected.pValue)
    assert.deepEqual(comparison.ci, expected.ci)
    assert.deepEqual(comparison.a.runIds, g.a)
    assert.equal(detail.forest.filter((r) => r.kind === 'run').length, 2 * SEEDS.length)
    assert.deepEqual(
      detail.forest.filter((r) => r.kind === 'pooled').map((r) => [r.side, r.n, r.estimate]),
      [
        ['A', SEEDS.length, expected.groups?.a.mean],
        ['B', SEEDS.length, expected.groups?.b.mean],
      ],
    )
    // A run's row is its mean over its own records.
    const first = g.records.get(g.a[0]) ?? []
    const row = detail.forest.find((r) => r.runIds[0] === g.a[0])
    assert.ok(Math.abs((row?.estimate ?? NaN) - first.reduce((s, r) => s + (r.scores.score ?? 0), 0) / first.length) < 1e-12)
    assert.equal(detail.differences?.n, EXAMPLES)
    assert.equal(detail.differences?.histogram.bins.reduce((s, b) => s + b.count, 0), EXAMPLES)
    assert.equal(detail.improved.length, 10)
    const top = detail.improved[0]
    assert.equal(top.records.length, 2 * SEEDS.length)
    for (const r of top.records) assert.deepEqual(r.record, g.records.get(r.runId)?.find((x) => x.id === top.id))
  })

  it('compares two single runs per example: the histogram counts every pair, the examples are the comparison\'s own', async () => {
    const response = await get('/api/v1/compare/detail', { a: g.a[0], b: g.b[0].slice(0, 12), metric: 'score' })
    assert.equal(response.statusCode, 200, response.body)
    const { comparison, detail } = JSON.parse(response.body) as { comparison: Comparison; detail: ComparisonDetail }
    assert.equal(comparison.mode, 'paired-examples')
    assert.deepEqual(detail.forest.map((r) => [r.side, r.kind, r.runIds]), [
      ['A', 'run', [g.a[0]]],
      ['B', 'run', [g.b[0]]],
    ])
    assert.equal(detail.differences?.n, comparison.sampleSizes.pairs)
    assert.equal(detail.differences?.histogram.bins.reduce((s, b) => s + b.count, 0), EXAMPLES)
    assert.deepEqual(
      detail.improved.map((e) => e.id),
      comparison.topImprovements.map((e) => e.id),
    )
    assert.deepEqual(
      detail.improved[0]?.records.map((r) => [r.side, r.runId]),
      [
        ['A', g.a[0]],
        ['B', g.b[0]],
      ],
    )
  })

  it('refuses a foreign run and a foreign prefix for a limited token; its filter: and config: groups hold only its runs', async () => {
    const foreignId = await get('/api/v1/compare/detail', { a: g.a[0], b: g.hidden, metric: 'score' }, visionReader)
    assert.equal(foreignId.statusCode, 403)
    assert.equal(JSON.parse(foreignId.body).error.code, 'ASSAY_FORBIDDEN')
    const foreignInList = await get('/api/v1/compare/detail', { a: `${g.a[0]},${g.hidden}`, b: SIDE_B, metric: 'score' }, visionReader)
    assert.equal(foreignInList.statusCode, 403)
    // The "secret" run matches this filter and shares config a's fingerprint: for this token it is simply not there.
    const scopedFilter = await get('/api/v1/compare/detail', { a: "filter:params.config = 'a'", b: SIDE_B, metric: 'score' }, visionReader)
    assert.equal(scopedFilter.statusCode, 200, scopedFilter.body)
    assert.deepEqual((JSON.parse(scopedFilter.body) as { comparison: Comparison }).comparison.a.runIds, g.a)
    assert.doesNotMatch(scopedFilter.body, new RegExp(g.hidden))
    const fingerprint = (await store.getRun(g.a[0])).envelope.config
    const scopedConfig = await get('/api/v1/compare/detail', { a: `config:${fingerprint.slice(0, 12)}`, b: SIDE_B, metric: 'score' }, visionReader)
    assert.equal(scopedConfig.statusCode, 200, scopedConfig.body)
    assert.deepEqual((JSON.parse(scopedConfig.body) as { comparison: Comparison }).comparison.a.runIds, g.a)
    // An unlimited token's config group holds the secret run too (it shares the fingerprint).
    const whole = await get('/api/v1/compare/detail', { a: `config:${fingerprint.slice(0, 12)}`, b: SIDE_B, metric: 'score' })
    assert.equal(whole.statusCode, 200, whole.body)
    assert.deepEqual((JSON.parse(whole.body) as { comparison: Comparison }).comparison.a.runIds.toSorted(), [...g.a, g.hidden].toSorted())
    // A filter only another experiment's runs match answers as one that matches nothing: it probes nothing.
    const probe = await get('/api/v1/compare/detail', { a: "filter:experiment = 'secret' and params.config = 'a'", b: SIDE_B, metric: 'score' }, visionReader)
    const nothing = await get('/api/v1/compare/detail', { a: "filter:experiment = 'nowhere'", b: SIDE_B, metric: 'score' }, visionReader)
    assert.equal(probe.statusCode, 404)
    assert.equal(nothing.statusCode, 404)
    assert.equal(JSON.parse(probe.body).error.code, JSON.parse(nothing.body).error.code)
    const prefix = await get('/api/v1/compare/detail', { a: g.hidden.slice(0, 10), b: g.b[0], metric: 'score' }, visionReader)
    assert.equal(prefix.statusCode, 404)
    assert.doesNotMatch(prefix.body, new RegExp(g.hidden))
  })

  it('answers malformed input with 400 and oversize groups with 413', async () => {
    const noMetric = await get('/api/v1/compare/detail', { a: SIDE_A, b: SIDE_B })
    assert.equal(noMetric.statusCode, 400)
    assert.equal(JSON.parse(noMetric.body).error.code, 'ASSAY_INVALID_ARGUMENT')
    const badFilter = await get('/api/v1/compare/detail', { a: 'filter:params.config = = 1', b: SIDE_B, metric: 'score' })
    assert.equal(badFilter.statusCode, 400)
    assert.equal(JSON.parse(badFilter.body).error.code, 'ASSAY_INVALID_FILTER')
    const many = Array.from({ length: COMPARE_MAX_RUNS_PER_SIDE + 1 }, (_, i) => g.a[i % g.a.length]).join(',')
    const oversize = await get('/api/v1/compare/detail', { a: many, b: SIDE_B, metric: 'score' })
    assert.equal(oversize.statusCode, 413)
    assert.equal(JSON.parse(oversize.body).error.code, 'ASSAY_VALUE_TOO_LARGE')
  })

  it('ranks as leaderboard() does, with raw and adjusted p-values', async () => {
    const response = await get('/api/v1/leaderboard', { dataset: 'val', experiment: 'vision', metric: 'score' }, visionReader)
    assert.equal(response.statusCode, 200, response.body)
    const board = (JSON.parse(response.body) as { leaderboard: Leaderboard }).leaderboard
    const expected = await leaderboard(store, { datasets: ['val'], experiment: 'vision', metric: 'score', recordHoldout: false })
    assert.equal(board.boards[0].entries.length, 2 * SEEDS.length - 1)
    assert.deepEqual(
      board.boards[0].entries.map((e) => [e.runId, e.pValue, e.adjustedPValue]),
      expected.boards[0].entries.map((e) => [e.runId, e.pValue, e.adjustedPValue]),
    )
  })

  it("tells a limited token nothing of another experiment's seeds in BEST_SEED_ONLY", async () => {
    // The best seed of config a represents it; "secret" holds another seed (9) of the same config.
    const mean = (id: string) => (g.records.get(id) ?? []).reduce((s, r) => s + (r.scores.score ?? 0), 0) / EXAMPLES
    const best = g.a.reduce((x, y) => (mean(y) > mean(x) ? y : x))
    const bestSeed = SEEDS[g.a.indexOf(best)]
    const response = await get('/api/v1/leaderboard', { dataset: 'val', experiment: 'vision', runs: `${best},${g.b[0]}`, metric: 'score' }, visionReader)
    assert.equal(response.statusCode, 200, response.body)
    // Entries and boards carry warnings: every one, wherever it is.
    const found: { code: string; message: string }[] = []
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(walk)
      else if (typeof x === 'object' && x !== null) {
        const o = x as Record<string, unknown>
        if (o.code === 'BEST_SEED_ONLY' && typeof o.message === 'string') found.push({ code: o.code, message: o.message })
        Object.values(o).forEach(walk)
      }
    }
    walk(JSON.parse(response.body))
    const warning = found.find((w) => w.message.includes(`(seed ${bestSeed}) represents`))
    assert.ok(warning !== undefined, response.body.slice(0, 2000))
    const listed = /other seeds? ([\d, ]+) exists?/.exec(warning.message)?.[1].split(', ').map(Number)
    assert.deepEqual(listed, SEEDS.filter((s) => s !== bestSeed), 'only the seeds of experiments the token may read')
    assert.doesNotMatch(response.body, new RegExp(g.hidden))
  })

  it('needs a readable experiment from a limited token, and refuses bad options (400) and oversize work (413)', async () => {
    const everything = await get('/api/v1/leaderboard', { dataset: 'val' }, visionReader)
    assert.equal(everything.statusCode, 403)
    assert.equal(JSON.parse(everything.body).error.code, 'ASSAY_FORBIDDEN')
    const foreign = await get('/api/v1/leaderboard', { dataset: 'val', experiment: 'secret' }, visionReader)
    assert.equal(foreign.statusCode, 403)
    const foreignBaseline = await get('/api/v1/leaderboard', { dataset: 'val', experiment: 'vision', baseline: g.hidden }, visionReader)
    assert.equal(foreignBaseline.statusCode, 403)
    assert.equal(JSON.parse(foreignBaseline.body).error.code, 'ASSAY_FORBIDDEN')
    const badAdjust = await get('/api/v1/leaderboard', { dataset: 'val', adjust: 'bonferroni-ish' })
    assert.equal(badAdjust.statusCode, 400)
    assert.equal(JSON.parse(badAdjust.body).error.code, 'ASSAY_INVALID_ARGUMENT')
    const badAlpha = await get('/api/v1/leaderboard', { dataset: 'val', alpha: '2' })
    assert.equal(badAlpha.statusCode, 400)
    const tooMany = await get('/api/v1/leaderboard', { dataset: 'val', bootstrap: String(LEADERBOARD_MAX_RESAMPLES + 1) })
    assert.equal(tooMany.statusCode, 413)
    assert.equal(JSON.parse(tooMany.body).error.code, 'ASSAY_VALUE_TOO_LARGE')
  })
})

describe('holdout ledger counts in compare/detail and leaderboard for a limited token', () => {
  let fixture: Fixture
  let store: Store
  let app: FastifyInstance
  let reader: string
  let visionReader: string
  const vision: string[] = []
  let secretRun: string
  let sha: string
  const FOREIGN_READS = 25 // past the default budget of 20

  before(async () => {
    fixture = await createFixture()
    const data = fixture.dataset('final.csv', 'id\nfinal\n')
    for (const [seed, shift] of [[1, 0.5], [2, 0.6]] as const) {
      vision.push(await fixture.logRun({ experiment: 'vision', params: { config: `c${seed}` }, seed, datasetPath: data, datasetName: 'final', role: 'holdout', records: continuousRecords(uniforms(seed, 40).map((u) => shift + 0.1 * u)) }))
    }
    secretRun = await fixture.logRun({ experiment: 'secret', params: { config: 's' }, seed: 3, datasetPath: data, datasetName: 'final', role: 'holdout', records: continuousRecords(uniforms(3, 40)) })
    sha = (await fixture.assay.store.getRun(vision[0])).datasets[0].sha256
    // Another team's reads of the same holdout, by a person a vision token should not learn of.
    for (let i = 0; i < FOREIGN_READS; i++) {
      await fixture.assay.store.recordHoldoutRead({ id: `foreign-${i}`, datasetSha256: sha, datasetName: 'final', runIds: [secretRun], purpose: 'compare secret-metric', actor: 'secret-person', at: 1000 + i })
    }
    await fixture.assay.close()
    store = await SqliteStore.open(fixture.store)
    app = await buildServer({ store, auth: { enabled: true } })
    reader = (await makeToken(store, 'read', null, 'reader')).secret
    visionReader = (await makeToken(store, 'read', ['vision'], 'vision-reader')).secret
  })
  after(async () => {
    await app?.close()
    await store?.close()
    rmSync(fixture.dir, { recursive: true, force: true })
  })

  const get = (url: string, query: Record<string, string>, secret: string) => app.inject({ method: 'GET', url, query, headers: bearer(secret) })
  const overuse = (body: string): string[] => {
    const found: string[] = []
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(walk)
      else if (typeof x === 'object' && x !== null) {
        const o = x as Record<string, unknown>
        if (o.code === 'HOLDOUT_OVERUSE' && typeof o.message === 'string') found.push(o.message)
        Object.values(o).forEach(walk)
      }
    }
    walk(JSON.parse(body))
    return found
  }

  it('leaderboard: a limited token gets only the ledger entries of its experiments, and every read counts against the budget', async () => {
    const response = await get('/api/v1/leaderboard', { dataset: 'final', experiment: 'vision', metric: 'score' }, visionReader)
    assert.equal(response.statusCode, 200, response.body)
    const check = (JSON.parse(response.body) as { leaderboard: Leaderboard }).leaderboard.boards[0].holdout[0]
    assert.equal(check.datasetSha256, sha)
    // What GET /holdout-reads/:sha256 gives the same token (the leaderboard's own read included).
    const ledger = await get(`/api/v1/holdout-reads/${sha}`, { limit: '500' }, visionReader)
    const visible = (JSON.parse(ledger.body) as { reads: { id: string; actor: string }[] }).reads
    assert.deepEqual(check.entries.map((e) => e.id), visible.map((e) => e.id))
    // The budget counts every read (the holdout is as overfit whoever read it): the other team's
    // reads are counted, and nothing else of them is shown.
    assert.equal(check.reads, visible.length + FOREIGN_READS)
    assert.equal(check.hiddenReads, FOREIGN_READS)
    assert.equal(check.view, 'readable experiments')
    assert.ok(!check.actors.includes('secret-person'))
    assert.equal(check.overBudget, true)
    assert.match(overuse(response.body)[0] ?? '', new RegExp(`${FOREIGN_READS} by runs of experiments this token may not read`))
    assert.doesNotMatch(response.body, /secret-person/)
    assert.doesNotMatch(response.body, new RegExp(secretRun))
    // An unlimited token sees the whole ledger, and the warning past the budget.
    const whole = await get('/api/v1/leaderboard', { dataset: 'final', experiment: 'vision', metric: 'score' }, reader)
    const all = (JSON.parse(whole.body) as { leaderboard: Leaderboard }).leaderboard.boards[0].holdout[0]
    assert.ok(all.reads > FOREIGN_READS)
    assert.equal(all.view, undefined)
    assert.match(overuse(whole.body)[0] ?? '', /secret-person/)
  })

  it('compare/detail: a limited token is warned of an overused holdout without learning who read it', async () => {
    const response = await get('/api/v1/compare/detail', { a: vision[0], b: vision[1], metric: 'score' }, visionReader)
    assert.equal(response.statusCode, 200, response.body)
    const { comparison } = JSON.parse(response.body) as { comparison: Comparison }
    const ledger = await get(`/api/v1/holdout-reads/${sha}`, { limit: '500' }, visionReader)
    assert.equal(comparison.holdout[0]?.reads, (JSON.parse(ledger.body) as { reads: unknown[] }).reads.length + FOREIGN_READS)
    assert.equal(comparison.holdout[0]?.hiddenReads, FOREIGN_READS)
    assert.equal(comparison.holdout[0]?.view, 'readable experiments')
    assert.equal(overuse(response.body).length, 1, 'the other team overused the holdout: the warning stands')
    assert.doesNotMatch(response.body, /secret-person/)
  })
})
