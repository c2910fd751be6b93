import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runCliOn } from './run-cli.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

const assay = runCliOn

describe('assay CLI on a demo store', () => {
  let dir: string
  let store: string
  let runs: { id: string; name: string; params: Record<string, unknown>; seed: number; metrics: Record<string, number | string> }[]
  let demoOut: string

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'assay-cli-'))
    store = path.join(dir, 'store')
    const demo = await assay(store, 'demo', '--seeds', '2', '--data-dir', path.join(dir, 'data'))
    assert.equal(demo.code, 0, demo.err)
    assert.match(demo.err, /\[4\/4\] candidate seed 2/)
    assert.match(demo.out, /Recorded 4 runs/)
    demoOut = demo.out
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

  it("prints the demo's candidate-against-baseline verdicts, the same as assay compare gives", async () => {
    const lines = demoOut.split('\n')
    const at = lines.findIndex((l) => l.startsWith('Candidate against baseline'))
    assert.ok(at >= 0, demoOut)
    const verdict = '(BETTER|WORSE|EQUIVALENT|INCONCLUSIVE)'
    const num = '(-?\\d+\\.\\d{4})'
    const single = new RegExp(`^  one run each \\(seed (\\d+)\\): ${verdict}: Δ ${num}, 95% CI \\[${num}, ${num}\\], p = (\\S+) \\((.+), 2000 pairs\\)$`).exec(lines[at + 1] ?? '')
    const groups = new RegExp(`^  2 seeds each: ${verdict}: Δ ${num}, 95% CI \\[${num}, ${num}\\], p = (\\S+) \\((.+)\\)$`).exec(lines[at + 2] ?? '')
    assert.ok(single, lines[at + 1])
    assert.ok(groups, lines[at + 2])
    for (const m of [single.slice(2, 6), groups.slice(1, 5)]) {
      const [word, delta, lo, hi] = [m[0]!, Number(m[1]), Number(m[2]), Number(m[3])]
      assert.ok(lo <= delta && delta <= hi, `${delta} in [${lo}, ${hi}]`)
      // Higher accuracy is better: BETTER needs the interval above 0, WORSE below, else it is not decided.
      if (word === 'BETTER') assert.ok(lo > 0)
      if (word === 'WORSE') assert.ok(hi < 0)
      if (lo <= 0 && hi >= 0) assert.equal(word, 'INCONCLUSIVE')
    }
    // The same comparisons from the CLI give the same verdicts and estimates.
    const of = (config: string): { id: string; seed: number }[] => runs.filter((r) => r.params.config === config).sort((x, y) => x.seed - y.seed)
    const [cand, base] = [of('candidate'), of('baseline')]
    assert.equal(String(cand[0]!.seed), single[1])
    const one = JSON.parse((await assay(store, 'compare', cand[0]!.id, base[0]!.id, '--metric', 'correct', '--dataset', 'validation', '--json')).out)
    assert.equal(one.verdict.toUpperCase(), single[2])
    assert.equal(one.estimate.toFixed(4), single[3])
    const both = JSON.parse((await assay(store, 'compare', cand.map((r) => r.id).join(','), base.map((r) => r.id).join(','), '--metric', 'correct', '--dataset', 'validation', '--json')).out)
    assert.equal(both.verdict.toUpperCase(), groups[1])
    assert.equal(both.estimate.toFixed(4), groups[2])
    // Two seeds a side is below the minimum of 5: the demo says so.
    assert.ok(lines.some((l) => /^ {2}warning FEW_SEEDS: A has 2 runs, B has 2: .*at least 5 seeds per group/.test(l)), demoOut)
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
