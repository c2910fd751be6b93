/**
 * `assay deployments`, `assay traces` and `assay lineage` on an embedded store: a deployment of a
 * registered model version, its traces, and the walk down to the run's datasets and code and up
 * from a dataset version.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { Assay } from '../../src/sdk/assay.js'
import { runCliOn } from '../cli/run-cli.js'
import { llmTrace } from './helpers.js'

let dir: string
let store: string
let deploymentId: string
let unauditableId: string
let traceId: string
let runDatasetSha: string
const inputSha = 'e'.repeat(64)

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'assay-production-cli-'))
  store = path.join(dir, 'store')
  const data = path.join(dir, 'train.csv')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(data, 'x,y\n1,0\n')
  const assay = await Assay.open({ store })
  const run = await assay.startRun({ experiment: 'qa', name: 'train', datasets: [{ name: 'train', path: data, role: 'train' }] })
  await run.end()
  runDatasetSha = (await assay.getRun(run.id)).datasets[0].sha256
  await assay.createModel({ name: 'qa-model', owner: 'alice' })
  await assay.addModelVersion({ model: 'qa-model', run: run.id })
  await assay.setAlias('qa-model', 'champion', 1)
  const input = { name: 'features', role: 'other' as const, sha256: inputSha, kind: 'file' as const, sizeBytes: 1, fileCount: 1, rows: null, columns: null, source: 'warehouse' }
  const deployment = await assay.deploy({ endpoint: 'qa', version: '1.4.0', model: 'qa-model', alias: 'champion', code: 'b'.repeat(40), inputs: [input], owner: 'alice' })
  deploymentId = deployment.id
  unauditableId = (await assay.deploy({ endpoint: 'qa', version: '1.5.0-rc', inputs: [input] })).id
  const trace = llmTrace(deploymentId)
  traceId = trace.traceId
  await assay.logTraces([trace])
  await assay.feedback(traceId, { name: 'helpful', value: 1, source: 'user' })
  await assay.close()
})
after(() => rmSync(dir, { recursive: true, force: true }))

test('deployments ls and show: model version through the alias, and what makes one unauditable', async () => {
  const ls = await runCliOn(store, 'deployments', 'ls')
  assert.equal(ls.code, 0, ls.err)
  assert.match(ls.out, new RegExp(`${deploymentId}\\s+qa\\s+1\\.4\\.0\\s+qa-model@champion \\(v1\\)\\s+production\\s+alice\\s+.*\\s+ok`))
  assert.match(ls.out, new RegExp(`${unauditableId}.*unauditable: no modelVersion, codeHash, owner`))
  const show = await runCliOn(store, 'deployments', 'show', deploymentId, '--json')
  assert.equal(show.code, 0, show.err)
  const body = JSON.parse(show.out) as { schema: string; deployment: { modelVersion: number; experiment: string } }
  assert.equal(body.schema, 'assay.deployment/v1')
  assert.equal(body.deployment.modelVersion, 1)
  assert.equal(body.deployment.experiment, 'qa')
  const missing = await runCliOn(store, 'deployments', 'show', 'f'.repeat(32), '--json')
  assert.equal(missing.code, 2)
  assert.match(missing.err, /ASSAY_DEPLOYMENT_NOT_FOUND/)
})

test('traces ls and show: the span tree with timing, tokens and cost under the lineage header', async () => {
  const ls = await runCliOn(store, 'traces', 'ls', '--deployment', deploymentId)
  assert.equal(ls.code, 0, ls.err)
  assert.match(ls.out, new RegExp(`${traceId}\\s+.*\\s+ok\\s+400\\s+120/30\\s+0\\.003\\s+none pass\\s+chat`))
  const show = await runCliOn(store, 'traces', 'show', traceId)
  assert.equal(show.code, 0, show.err)
  assert.match(show.out, new RegExp(`deployment ${deploymentId}  qa 1\\.4\\.0  model qa-model@champion \\(v1\\)  ok`))
  assert.match(show.out, /^run [0-9a-f]{32} \(qa\)/m)
  assert.match(show.out, /^ {2}answer {2}\+0 ms {2}400 ms {2}server$/m)
  assert.match(show.out, /^ {4}chat gpt {2}\+50 ms {2}300 ms {2}client {2}in 120 out 30 \$0\.002$/m)
  assert.match(show.out, /^ {4}retrieve {2}\+10 ms {2}30 ms {2}internal {2}\$0\.001$/m)
  assert.match(show.out, /feedback helpful=1 from user/)
})

test('lineage: a trace down to the run datasets and code; a dataset version up to the deployments it fed', async () => {
  const down = await runCliOn(store, 'lineage', traceId, '--json')
  assert.equal(down.code, 0, down.err)
  const lineage = (JSON.parse(down.out) as { lineage: { kind: string; deployment: { id: string }; run: { datasets: { sha256: string }[] }; gaps: string[] } }).lineage
  assert.equal(lineage.kind, 'serving')
  assert.equal(lineage.deployment.id, deploymentId)
  assert.deepEqual(lineage.run.datasets.map((d) => d.sha256), [runDatasetSha])
  assert.deepEqual(lineage.gaps, [])
  const gaps = await runCliOn(store, 'lineage', unauditableId)
  assert.match(gaps.out, /gap: the deployment has no owner/)
  assert.match(gaps.out, /gap: no model version: the walk stops at the deployment/)
  const up = await runCliOn(store, 'lineage', `dataset:${inputSha}`)
  assert.equal(up.code, 0, up.err)
  assert.match(up.out, /fed 2 deployments/)
  assert.ok(up.out.includes(deploymentId) && up.out.includes(unauditableId))
  const bad = await runCliOn(store, 'lineage', 'nope')
  assert.equal(bad.code, 2)
})
