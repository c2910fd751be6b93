import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { checkUnauditable, type LoadedSide } from '../../src/gates/contract-checks.js'
import { openStore } from '../../src/store/open-store.js'
import type { Store } from '../../src/store/store.js'
import { NON_INFERIORITY, gateYaml, openGateWorld, records, type GateWorld } from './helpers.js'

/**
 * unauditable (block until the metadata exists) and the dataset-version drift case of inconsistent
 * (warn), on real runs. Each candidate differs from a clean one in exactly the piece of metadata
 * under test, so the finding expected is known.
 */
describe('unauditable metadata and dataset-version drift', () => {
  let w: GateWorld
  let store: Store
  const ids: Record<string, string> = {}

  before(async () => {
    w = await openGateWorld()
    store = await openStore(w.h.storeDir)
    ids.baseline = await w.logRun('baseline', records((i) => i < 300))
    ids.clean = await w.logRun('clean', records((i) => i < 300))
    // No dataset version: a run that declared no dataset (so it has no eval records either).
    const bare = await w.assay.startRun({ experiment: 'gates', name: 'no-dataset', seed: 1, owner: 'alice', codeDir: w.repo })
    await bare.logArtifact('model/weights.json', Buffer.from('{}'))
    await bare.end('finished')
    ids.nodataset = bare.id
    // No owner: the SDK records "unknown" when no owner can be found.
    ids.noowner = await w.logRun('no-owner', records((i) => i < 300), { owner: 'unknown' })
    // Another version of the dataset "val": same name and ids, one more line.
    const otherData = path.join(w.h.dir, 'val-v2.csv')
    writeFileSync(otherData, `id\n${Array.from({ length: 400 }, (_, i) => `q${i}`).join('\n')}\nq400\n`)
    const drift = await w.assay.startRun({ experiment: 'gates', name: 'drift', seed: 1, owner: 'alice', codeDir: w.repo, datasets: [{ name: 'val', path: otherData, role: 'validation' }] })
    await drift.logEval({ dataset: 'val', records: records((i) => i < 300) })
    await drift.logArtifact('model/weights.json', Buffer.from('{"v":2}'))
    await drift.end('finished')
    ids.drift = drift.id
    // A run that consumed the baseline's weights and produced none of its own.
    const consumer = await w.assay.startRun({ experiment: 'gates', name: 'consumer', seed: 1, owner: 'alice', codeDir: w.repo, datasets: [{ name: 'val', path: w.dataPath, role: 'validation' }] })
    await consumer.logEval({ dataset: 'val', records: records((i) => i < 300) })
    const weights = await consumer.useArtifact({ runId: ids.baseline, name: 'model/weights.json' })
    await consumer.end('finished')
    ids.consumer = consumer.id

    await w.assay.createModel({ name: 'sentiment', owner: 'alice' })
    for (const key of ['baseline', 'clean', 'nodataset', 'noowner', 'drift']) await w.assay.addModelVersion({ model: 'sentiment', run: ids[key] as string, artifact: 'model/weights.json' })
    // Version 6 claims the consumer's content is the baseline's weights: the registry refuses
    // that (its run did not produce them), so it is written through the store, as a foreign client could.
    await assert.rejects(w.assay.addModelVersion({ model: 'sentiment', run: ids.consumer, artifact: 'model/weights.json' }), /produced no artifact/)
    const v6 = await store.addModelVersion({ model: 'sentiment', runId: ids.consumer, artifact: { name: 'model/weights.json', sha256: weights.sha256 }, description: '', tags: {}, createdAt: Date.now(), createdBy: 'mallory' })
    assert.equal(v6.version, 6)
    // A run whose code capture failed: git refuses to add the untracked repository without commits
    // inside the work tree. The run is recorded; its code version holds git's message instead.
    const broken = path.join(w.h.dir, 'broken')
    mkdirSync(path.join(broken, 'vendor'), { recursive: true })
    const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'commit.gpgsign=false', ...args], { cwd, stdio: 'ignore' })
    writeFileSync(path.join(broken, 'train.py'), 'print("train")\n')
    git(broken, 'init', '-q')
    git(broken, 'add', 'train.py')
    git(broken, 'commit', '-q', '-m', 'init')
    git(path.join(broken, 'vendor'), 'init', '-q')
    ids.gitfailed = await w.logRun('git-failed', records((i) => i < 300), { codeDir: broken })
    assert.equal((await w.assay.addModelVersion({ model: 'sentiment', run: ids.gitfailed, artifact: 'model/weights.json' })).version, 7)
    await w.assay.setAlias('sentiment', 'champion', 1, { reason: 'first release' })
  })
  after(async () => {
    await store.close()
    await w.cleanup()
  })

  const gate = () => w.gateFile(`g-${Math.random().toString(36).slice(2)}.yaml`, gateYaml(NON_INFERIORITY(0.05)))
  const evidenceOf = async (candidate: string) => (await w.assay.checkGate(gate(), { candidate, record: false })).evidence
  const unauditable = (e: { checks: { check: string; status: string; findings: string[] }[] }) => e.checks.find((c) => c.check === 'unauditable') as { status: string; findings: string[] }
  const short = (key: string) => (ids[key] as string).slice(0, 8)

  it('a clean candidate is auditable (the control)', async () => {
    const e = await evidenceOf('model:sentiment@2')
    assert.deepEqual(unauditable(e).findings, [])
    assert.equal(e.decision, 'accept')
  })

  it('a run without a dataset version blocks', async () => {
    const e = await evidenceOf('model:sentiment@3')
    assert.equal(unauditable(e).status, 'block')
    assert.ok(unauditable(e).findings.includes(`candidate run ${short('nodataset')} has no dataset version`), unauditable(e).findings.join('\n'))
    assert.equal(e.decision, 'block')
  })

  it("a run whose code capture failed blocks as unauditable, with git's message in the finding", async () => {
    const e = await evidenceOf('model:sentiment@7')
    assert.equal(unauditable(e).status, 'block')
    assert.equal(unauditable(e).findings.length, 1, unauditable(e).findings.join('\n'))
    assert.match(unauditable(e).findings[0] as string, new RegExp(`^candidate run ${short('gitfailed')} has no code version \\(code capture failed: \`git add -A -- \\.\` failed \\(exit 128\\): error: 'vendor/' does not have a commit checked out`))
    assert.equal(e.decision, 'block')
  })

  it('a run without an owner blocks', async () => {
    const e = await evidenceOf('model:sentiment@4')
    assert.deepEqual(unauditable(e).findings, [`candidate run ${short('noowner')} has no owner`])
    assert.equal(e.decision, 'block')
  })

  it("a version whose artifact its run did not produce (it only consumed it) blocks: the lineage edge is missing", async () => {
    const e = await evidenceOf('model:sentiment@6')
    assert.equal(unauditable(e).status, 'block')
    assert.deepEqual(unauditable(e).findings.length, 1)
    assert.match(unauditable(e).findings[0] as string, new RegExp(`^candidate sentiment v6: artifact model/weights.json \\([0-9a-f]{12}\\) was not produced by run ${short('consumer')} \\(lineage edge missing\\)$`))
    assert.equal(e.candidate.modelVersion?.artifactProducedByRun, false)
    assert.equal(e.decision, 'block')
  })

  it('a run without a seed, and a version whose run is not the one evaluated, block (records as a foreign writer could leave them)', async () => {
    // The SDK always records a seed, and resolving model:NAME@V always evaluates the version's run,
    // so these two come from records written elsewhere: the check reads real run records, altered in one field.
    const clean = await store.getRun(ids.clean as string)
    const other = await store.getRun(ids.baseline as string)
    const side = (over: Partial<LoadedSide>): LoadedSide => ({ role: 'candidate', label: 'x', runs: [clean], modelVersion: null, evals: new Map(), ...over })
    assert.deepEqual(checkUnauditable([side({})]).findings, [])
    const noSeed = checkUnauditable([side({ runs: [{ ...clean, seed: null as unknown as number }] })])
    assert.equal(noSeed.status, 'block')
    assert.deepEqual(noSeed.findings, [`candidate run ${short('clean')} has no seed`])
    const mv = { model: 'sentiment', version: 2, owner: 'alice', runId: other.id, artifact: null, artifactProducedByRun: null }
    const elsewhere = checkUnauditable([side({ modelVersion: mv })])
    assert.equal(elsewhere.status, 'block')
    assert.deepEqual(elsewhere.findings, [`candidate sentiment v2: its run ${short('baseline')} is not the run evaluated (lineage edge missing)`])
    const noModelOwner = checkUnauditable([side({ modelVersion: { ...mv, runId: clean.id, owner: ' ' } })])
    assert.deepEqual(noModelOwner.findings, ['candidate model sentiment has no owner'])
  })

  it('inconsistent: the two sides evaluated different versions of the dataset → warn: investigate', async () => {
    const e = await evidenceOf('model:sentiment@5')
    const inconsistent = e.checks.find((c) => c.check === 'inconsistent')
    assert.equal(inconsistent?.status, 'warn')
    const [baseSha, driftSha] = [(await store.getRun(ids.baseline as string)).datasets[0]?.sha256, (await store.getRun(ids.drift as string)).datasets[0]?.sha256]
    assert.ok(baseSha !== undefined && driftSha !== undefined && baseSha !== driftSha)
    assert.deepEqual(inconsistent?.findings, [`dataset val has 2 versions across the two sides (${(driftSha as string).slice(0, 12)}, ${(baseSha as string).slice(0, 12)})`], 'candidate first')
    assert.deepEqual(unauditable(e).findings, [], 'each run evaluated its own dataset version: auditable')
    assert.equal(e.criteria[0]?.status, 'pass', 'the scores are identical: only the dataset drifted')
    assert.equal(e.decision, 'warn')
  })
})
