/**
 * The web UI's dataset version view (#/dataset/SHA) in real headless Chromium
 * (test/ui/browser-harness.ts) against `assay server` on a real port over a real SQLite store: a
 * run's dataset hash opens the view, which lists the other runs that logged the same version and
 * the deployments it feeds; a token limited to one experiment sees nothing of another
 * experiment's runs or deployments there. axe-core checks every page.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import type { Page } from 'playwright-core'
import type { Deployment } from '../../src/record/production.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { openGateWorld, records, type GateWorld } from '../gates/helpers.js'
import { newDeployment } from '../production/helpers.js'
import { makeToken } from '../server/helpers.js'
import { accessibilityViolations, browserSkip, BrowserSession, listenUi } from './browser-harness.js'

describe('the web UI: a dataset version', { skip: browserSkip }, () => {
  let world: GateWorld
  let store: Store
  let app: FastifyInstance
  let session: BrowserSession
  let url: string
  let readerSecret: string
  let gatesSecret: string
  let baseline: string
  let better: string
  let secretRunId: string
  let sha: string
  let served: Deployment
  let hidden: Deployment
  const step = (page: Page, name: string, body: () => Promise<void>) => session.step(page, name, body)

  before(async () => {
    world = await openGateWorld()
    baseline = await world.logRun('baseline', records((i) => i < 300))
    better = await world.logRun('better', records((i) => i < 360))
    await world.assay.createModel({ name: 'sentiment', owner: 'alice' })
    await world.assay.addModelVersion({ model: 'sentiment', run: better, artifact: 'model/weights.json' })
    // A run of another experiment that logged the same file: the same dataset version.
    const secretRun = await world.assay.startRun({ experiment: 'secret', name: 'hidden-run', seed: 3, datasets: [{ name: 'val', path: world.dataPath, role: 'validation' }] })
    await secretRun.end('finished')
    secretRunId = secretRun.id
    await world.assay.createModel({ name: 'hidden-model', owner: 'mallory' })
    await world.assay.addModelVersion({ model: 'hidden-model', run: secretRunId })
    await world.assay.close()

    store = await SqliteStore.open(world.h.storeDir)
    const val = (await store.getRun(better)).datasets.find((d) => d.name === 'val')
    assert.ok(val, 'the run logged val')
    sha = val.sha256
    assert.equal((await store.getRun(secretRunId)).datasets[0]?.sha256, sha, 'the same file is the same version')
    served = await store.createDeployment(newDeployment({ endpoint: 'qa', model: 'sentiment', modelVersion: 1, inputs: [{ ...val }] }))
    hidden = await store.createDeployment(newDeployment({ endpoint: 'hidden-endpoint', model: 'hidden-model', modelVersion: 1, inputs: [{ ...val }] }))
    // A deployment fed by other data only: not listed.
    await store.createDeployment(newDeployment({ endpoint: 'other-data', model: 'sentiment', modelVersion: 1 }))
    readerSecret = (await makeToken(store, 'read', null, 'reader')).secret
    gatesSecret = (await makeToken(store, 'read', ['gates'], 'gates-reader')).secret
    ;({ app, url } = await listenUi(store))
    session = await BrowserSession.launch(url)
  })

  after(async () => {
    await session?.close()
    await app?.close()
    await store?.close()
    await world?.cleanup().catch(() => undefined)
  })

  it("opens a run's dataset hash: the other runs that logged it and the deployments it feeds", async () => {
    const page = await session.signedIn(readerSecret)
    await step(page, 'run to dataset', async () => {
      await page.goto(`${url}/#/run/${baseline}`)
      await page.getByRole('link', { name: `sha256 ${sha}` }).first().click()
      await page.getByRole('heading', { name: `Dataset version ${sha.slice(0, 12)}` }).waitFor()
      assert.equal(new URL(page.url()).hash, `#/dataset/${sha}`)
      const runs = page.getByRole('list', { name: 'Runs' })
      await runs.waitFor()
      const text = await runs.innerText()
      for (const id of [baseline, better, secretRunId]) assert.match(text, new RegExp(id.slice(0, 8)))
      assert.match(text, /logged as val \(validation\), gates\/better/)
      await runs.getByRole('link', { name: better.slice(0, 8) }).waitFor()
      const deployments = await page.getByRole('list', { name: 'Deployments fed by it' }).innerText()
      assert.match(deployments, /qa v1/)
      assert.match(deployments, /hidden-endpoint/)
      assert.doesNotMatch(deployments, /other-data/)
      assert.deepEqual(await accessibilityViolations(page), [])
      await page.getByRole('link', { name: /^qa v1$/ }).click()
      await page.waitForURL(new RegExp(`#/deployment/${served.id}`))
      // The deployment's input hash leads back to the same view.
      await page.getByRole('link', { name: `sha256 ${sha.slice(0, 12)}` }).first().click()
      await page.getByRole('heading', { name: `Dataset version ${sha.slice(0, 12)}` }).waitFor()
    })
  })

  it("shows a token limited to one experiment nothing of another experiment's runs or deployments", async () => {
    const page = await session.signedIn(gatesSecret)
    await step(page, 'limited dataset', async () => {
      await page.goto(`${url}/#/dataset/${sha}`)
      const runs = page.getByRole('list', { name: 'Runs' })
      await runs.waitFor()
      const text = await runs.innerText()
      assert.match(text, new RegExp(better.slice(0, 8)))
      assert.doesNotMatch(text, new RegExp(secretRunId.slice(0, 8)))
      assert.doesNotMatch(text, /secret|hidden-run/)
      const deployments = await page.getByRole('list', { name: 'Deployments fed by it' }).innerText()
      assert.match(deployments, /qa v1/)
      assert.doesNotMatch(deployments, new RegExp(`hidden-endpoint|${hidden.id}`))
      assert.doesNotMatch(await page.locator('main').innerText(), /hidden/)
      assert.deepEqual(await accessibilityViolations(page), [])
    })
  })
})
