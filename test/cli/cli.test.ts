import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { main } from '../../src/cli/main.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

async function assay(store: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough()
  const err = new PassThrough()
  const chunks: Buffer[] = []
  const errChunks: Buffer[] = []
  out.on('data', (c: Buffer) => chunks.push(Buffer.from(c)))
  err.on('data', (c: Buffer) => errChunks.push(Buffer.from(c)))
  const code = await main(['node', 'assay', '--store', store, ...args], { out, err })
  return { code, out: Buffer.concat(chunks).toString('utf8'), err: Buffer.concat(errChunks).toString('utf8') }
}

describe('assay CLI on a demo store', () => {
  let dir: string
  let store: string
  let runs: { id: string; name: string; params: Record<string, unknown>; seed: number; metrics: Record<string, number | string> }[]

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'assay-cli-'))
    store = path.join(dir, 'store')
    const demo = await assay(store, 'demo', '--seeds', '2', '--data-dir', path.join(dir, 'data'))
    assert.equal(demo.code, 0, demo.err)
    assert.match(demo.err, /\[4\/4\] candidate seed 2/)
    assert.match(demo.out, /Recorded 4 runs/)
    const listed = await assay(store, 'runs', 'ls', '--json')
    runs = JSON.parse(listed.out).runs
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('lists experiments and runs as JSON with a schema name', async () => {
    const experiments = JSON.parse((await assay(store, 'experiments', 'ls', '--json')).out)
    assert.equal(experiments.schema, 'assay.experiments/v1')
    assert.deepEqual(experiments.experiments.map((e: { name: string; runCount: number }) => [e.name, e.runCount]), [['demo-logistic-regression', 4]])
    assert.equal(runs.length, 4)
    assert.deepEqual(runs.map((r) => r.seed), [1, 2, 1, 2])
  })

  it('filters runs with the documented grammar', async () => {
    const candidates = JSON.parse((await assay(store, 'runs', 'ls', '--json', '--filter', "params.config = 'candidate' and seed >= 2")).out).runs
    assert.deepEqual(candidates.map((r: { name: string }) => r.name), ['candidate-seed2'])
    const none = JSON.parse((await assay(store, 'runs', 'ls', '--json', '--filter', 'metrics.`validation/accuracy` > 1')).out).runs
    assert.equal(none.length, 0)
    const bad = await assay(store, 'runs', 'ls', '--filter', 'params.lr >')
    assert.equal(bad.code, 2)
    assert.match(bad.err, /error ASSAY_INVALID_FILTER: filter error at character/)
  })

  it('shows a whole run by id prefix', async () => {
    const shown = await assay(store, 'runs', 'show', runs[0].id.slice(0, 8), '--json')
    assert.equal(shown.code, 0, shown.err)
    const run = JSON.parse(shown.out).run
    assert.equal(run.id, runs[0].id)
    assert.deepEqual(run.datasets.map((d: { name: string }) => d.name), ['train', 'validation'])
    assert.equal(run.evals[0].count, 2000)
    assert.ok(run.artifacts.some((a: { name: string }) => a.name === 'model/weights.json'))
    const text = await assay(store, 'runs', 'show', runs[0].id)
    assert.match(text.out, /envelope\n {2}datasets: [0-9a-f]{64}/)
  })

  it('diffs replicates and non-replicates', async () => {
    const [baseline1, baseline2, candidate1] = runs
    const replicates = JSON.parse((await assay(store, 'runs', 'diff', baseline1.id, baseline2.id, '--json')).out).diff
    assert.equal(replicates.replicates, true)
    assert.deepEqual(replicates.parts.filter((p: { same: boolean }) => !p.same).map((p: { part: string }) => p.part), ['seed'])
    const different = JSON.parse((await assay(store, 'runs', 'diff', baseline1.id, candidate1.id, '--json')).out).diff
    assert.equal(different.replicates, false)
    const params = different.parts.find((p: { part: string }) => p.part === 'params')
    assert.ok(params.changes.some((c: { field: string; a: unknown; b: unknown }) => c.field === 'params.squaredFeatures' && c.a === false && c.b === true))
  })

  it('prints a replay plan with the seed and dataset hashes', async () => {
    const plan = JSON.parse((await assay(store, 'replay', runs[1].id, '--json')).out).plan
    const run = JSON.parse((await assay(store, 'runs', 'show', runs[1].id, '--json')).out).run
    assert.equal(plan.seed, 2)
    assert.ok(plan.steps.some((s: { commands: string[] }) => s.commands.some((c) => c.includes('ASSAY_SEED=2'))))
    assert.deepEqual(plan.datasets.map((d: { sha256: string }) => d.sha256), run.datasets.map((d: { sha256: string }) => d.sha256))
    assert.ok(plan.cannotReproduce.some((r: string) => r.includes('hardware class')))
  })

  it('gets an artifact verified, to a file', async () => {
    const file = path.join(dir, 'weights.json')
    const got = await assay(store, 'artifacts', 'get', runs[2].id, 'model/weights.json', '-o', file)
    assert.equal(got.code, 0, got.err)
    const weights = JSON.parse(readFileSync(file, 'utf8'))
    assert.equal(weights.weights.length, 24, 'the candidate uses 12 features and their squares')
    const missing = await assay(store, 'artifacts', 'get', runs[2].id, 'model/none.json')
    assert.equal(missing.code, 2)
    assert.match(missing.err, /ASSAY_ARTIFACT_NOT_FOUND/)
  })

  it('reports unknown runs and usage errors with exit code 2', async () => {
    const unknown = await assay(store, 'runs', 'show', 'ffffffffffff')
    assert.equal(unknown.code, 2)
    assert.match(unknown.err, /error ASSAY_RUN_NOT_FOUND/)
    const usage = await assay(store, 'runs', 'frobnicate')
    assert.equal(usage.code, 2)
    const seeds = await assay(store, 'demo', '--seeds', '0')
    assert.equal(seeds.code, 2)
    assert.match(seeds.err, /ASSAY_INVALID_ARGUMENT/)
  })

  it('runs as the installed bin', () => {
    const version = execFileSync(process.execPath, [path.join(repo, 'bin/assay.js'), '--version'], { encoding: 'utf8' }).trim()
    assert.equal(version, JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).version)
  })
})
