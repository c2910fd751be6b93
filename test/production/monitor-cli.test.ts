/**
 * `assay monitor validate|check|canary` on an embedded store: exit codes (0 ok, 3 warn, 1 act, 2
 * input error), the report formats, and the rollback a recorded check makes.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { Assay } from '../../src/sdk/assay.js'
import { createRandom } from '../../src/stats/index.js'
import { normals } from '../calibration/simulation.js'
import { runCliOn } from '../cli/run-cli.js'
import { newDeployment } from './helpers.js'
import { laxGate } from './promotable-model.js'
import { HOUR, MONITOR_TEXT, storedTraffic, storeTraffic } from './stored-traffic.js'

let dir: string
let store: string
let monitorFile: string
let dropped: string
let steady: string
let evalRun: string

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'assay-monitor-cli-'))
  store = path.join(dir, 'store')
  monitorFile = path.join(dir, 'qa.monitor.yaml')
  writeFileSync(monitorFile, MONITOR_TEXT)
  const assay = await Assay.open({ store })
  const run = await assay.startRun({ experiment: 'qa', name: 'train' })
  await run.end()
  await assay.createModel({ name: 'qa', owner: 'alice' })
  await assay.addModelVersion({ model: 'qa', run: run.id })
  await assay.addModelVersion({ model: 'qa', run: run.id })
  await assay.setAlias('qa', 'champion', 1)
  await assay.setAlias('qa', 'champion', 2)
  // The evaluation behind the model: 300 eval records whose quality has the production distribution.
  const validation = path.join(dir, 'validation.csv')
  writeFileSync(validation, 'x\n1\n')
  const evaluation = await assay.startRun({ experiment: 'qa', name: 'eval', datasets: [{ name: 'validation', path: validation, role: 'validation' }] })
  const rng = createRandom(5)
  const z = normals(rng)
  await evaluation.logEval({ dataset: 'validation', records: Array.from({ length: 300 }, (_, i) => ({ id: `e${i}`, scores: { quality: Math.min(1, Math.max(0, 0.75 + 0.08 * z.next())) }, latencyMs: 400 })) })
  await evaluation.end()
  evalRun = evaluation.id
  const now = Date.now()
  dropped = (await assay.store.createDeployment(newDeployment({ model: 'qa', alias: 'champion' }))).id
  steady = (await assay.store.createDeployment(newDeployment({ model: 'qa', alias: 'champion', endpoint: 'chat-b' }))).id
  await storeTraffic(assay.store, storedTraffic(1, dropped, 120, now - 2 * HOUR, now - HOUR))
  await storeTraffic(assay.store, storedTraffic(2, dropped, 120, now - HOUR, now - 10_000, { quality: -0.3 }))
  await storeTraffic(assay.store, storedTraffic(3, steady, 120, now - 2 * HOUR, now - HOUR))
  await storeTraffic(assay.store, storedTraffic(4, steady, 120, now - HOUR, now - 10_000))
  await assay.close()
})
after(() => rmSync(dir, { recursive: true, force: true }))

const check = (deployment: string, ...rest: string[]) => runCliOn(store, 'monitor', 'check', monitorFile, '--deployment', deployment, '--window', '1h', '--reference', 'trailing:1h', ...rest)

test('monitor validate: 0 for a valid file, 2 with the field and line for a bad one', async () => {
  const ok = await runCliOn(store, 'monitor', 'validate', monitorFile)
  assert.equal(ok.code, 0, ok.err)
  assert.match(ok.out, /valid monitor qa-prod .*rollback automatic/)
  const bad = path.join(dir, 'bad.yaml')
  writeFileSync(bad, MONITOR_TEXT.replace('  rollback: automatic', '  rollback: sometimes'))
  const refused = await runCliOn(store, 'monitor', 'validate', bad)
  assert.equal(refused.code, 2)
  assert.match(refused.err, /ASSAY_INVALID_MONITOR_SPEC.*actions\.rollback/)
})

test('monitor check: ok exits 0; a rollback decision exits 1, as JUnit without recording, then recorded and made', async () => {
  const ok = await check(steady)
  assert.equal(ok.code, 0, ok.out + ok.err)
  assert.match(ok.out, /^Monitor qa-prod on chat-b .*: OK$/m)
  assert.match(ok.out, /audit record \d+ \(monitor-decision/)

  const junit = await check(dropped, '--format', 'junit', '--no-record')
  assert.equal(junit.code, 1)
  assert.match(junit.out, /<property name="decision" value="rollback"\/>/)
  assert.match(junit.out, /<failure message="[^"]*" type="rollback">/)

  const json = await check(dropped, '--format', 'json')
  assert.equal(json.code, 1)
  const body = JSON.parse(json.out) as { schema: string; evidence: { decision: string }; rolledBack: { event: { version: number } } | null }
  assert.equal(body.schema, 'assay.monitor-check/v1')
  assert.equal(body.evidence.decision, 'rollback')
  assert.equal(body.rolledBack?.event.version, 1)
  const alias = await runCliOn(store, 'alias', 'ls', 'qa', '--json')
  assert.match(alias.out, /"alias": "champion",\s*"version": 1/)
  const verify = await runCliOn(store, 'audit', 'verify')
  assert.equal(verify.code, 0, verify.out)

  const usage = await check(dropped, '--format', 'yaml')
  assert.equal(usage.code, 2)
})

test('monitor check against the eval run: quality as evaluated passes, features the eval lacks are insufficient: warn, exit 3', async () => {
  const result = await runCliOn(store, 'monitor', 'check', monitorFile, '--deployment', steady, '--window', '1h', '--reference', `run:${evalRun}`, '--format', 'json', '--no-record')
  assert.equal(result.code, 3, result.out + result.err)
  const body = JSON.parse(result.out) as { evidence: { decision: string; reference: { kind: string; run: string; dataset: string; traces: number }; result: { checks: { name: string; status: string }[] } } }
  assert.deepEqual(body.evidence.reference, { kind: 'run', run: evalRun, dataset: 'validation', traces: 300 })
  const status = Object.fromEntries(body.evidence.result.checks.map((c) => [c.name, c.status]))
  assert.equal(status['score quality'], 'pass', JSON.stringify(status))
  assert.equal(status['feature inputTokens'], 'insufficient')
  const unknown = await runCliOn(store, 'monitor', 'check', monitorFile, '--deployment', steady, '--reference', 'yesterday')
  assert.equal(unknown.code, 2)
  assert.match(unknown.err, /ASSAY_INVALID_ARGUMENT.*trailing:DURATION or run:RUN/)
})

test('monitor canary: the two deployments compared, decided and recorded', async () => {
  const result = await runCliOn(store, 'monitor', 'canary', '--champion', steady, '--challenger', dropped, '--window', '1h', '--metric', 'quality')
  assert.equal(result.code, 1, result.err)
  assert.match(result.out, /: ROLLBACK$/m)
  assert.match(result.out, /audit record \d+ \(canary-decision/)
})

test('monitor canary --monitor: an allowed action that no longer fits the alias is reported, not made', async () => {
  const acting = path.join(dir, 'acting.monitor.yaml')
  writeFileSync(acting, `${MONITOR_TEXT}canary:\n  act: rollback\n`)
  // Both deployments serve version 2 (the holder when they were made); the alias is on version 1 now.
  if (/"version": 2/.test((await runCliOn(store, 'alias', 'ls', 'qa', '--json')).out)) assert.equal((await runCliOn(store, 'alias', 'set', 'qa', 'champion', '1')).code, 0)
  const before = await runCliOn(store, 'alias', 'ls', 'qa', '--history', '--json')
  const result = await runCliOn(store, 'monitor', 'canary', '--champion', steady, '--challenger', dropped, '--window', '1h', '--metric', 'quality', '--monitor', acting)
  assert.equal(result.code, 1, result.err)
  assert.match(result.out, /: ROLLBACK$/m)
  assert.match(result.out, /^not acted on \(ASSAY_ALIAS_HOLDER_CHANGED\): qa@champion holds version 1, not version 2/m)
  assert.match(result.out, /^next: keep qa@champion on version 2/m)
  assert.equal((await runCliOn(store, 'alias', 'ls', 'qa', '--history', '--json')).out, before.out, 'nothing moved')
})

test('promote: a deployment of the model without an owner refuses it with exit 1, and the refusal is in the audit log', async () => {
  const gate = path.join(dir, 'qa.gate.yaml')
  writeFileSync(gate, laxGate('qa'))
  const set = await runCliOn(store, 'gates', 'set', 'qa', gate, '--reason', 'release policy')
  assert.equal(set.code, 0, set.err)
  const assay = await Assay.open({ store })
  const ownerless = await assay.store.createDeployment(newDeployment({ model: 'qa', alias: 'champion', endpoint: 'chat-eu', owner: null }))
  await assay.close()
  const refused = await runCliOn(store, 'promote', 'qa', '2')
  assert.equal(refused.code, 1, refused.out + refused.err)
  assert.match(refused.err, new RegExp(`ASSAY_UNAUDITABLE_TRAFFIC: qa version 2 is built on unauditable traffic: deployment ${ownerless.id} \\(endpoint chat-eu, production\\) has no owner`))
  const log = JSON.parse((await runCliOn(store, 'audit', 'ls', '--json')).out) as { records: { kind: string; body: { version: number } }[] }
  assert.deepEqual([log.records.at(-1)?.kind, log.records.at(-1)?.body.version], ['promotion-refused', 2])
})
