/**
 * The web UI's dataset version view (#/dataset/SHA) in real headless Chromium
 * (test/ui/browser-harness.ts) against `assay server` on a real port over a real SQLite store: a
 * run's dataset hash opens the view, which lists the other runs that logged the same version and
 * the deployments it feeds; a token limited to one experiment sees nothing of another
 * experiment's runs or deployments there; each listing pages on by its own "Next" link, the others
 * staying where they are. axe-core checks every page.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Deployment } from '../../src/record/production.js'
import { openGateWorld, records, type GateWorld } from '../gates/helpers.js'
import { newDeployment } from '../production/helpers.js'
import { accessibilityViolations, browserSkip, browserSuite } from './browser-harness.js'

describe('the web UI: a dataset version', { skip: browserSkip }, () => {
  let world: GateWorld
  let readerSecret: string
  let gatesSecret: string
  let baseline: string
  let better: string
  let secretRunId: string
  let sha: string
  let served: Deployment
  let hidden: Deployment

  const ui = browserSuite(async (suite) => {
    world = await openGateWorld()
    suite.onClose(() => world.cleanup())
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

    const store = await suite.openStore(world.h.storeDir)
    const val = (await store.getRun(better)).datasets.find((d) => d.name === 'val')
    assert.ok(val, 'the run logged val')
    sha = val.sha256
    assert.equal((await store.getRun(secretRunId)).datasets[0]?.sha256, sha, 'the same file is the same version')
    served = await store.createDeployment(newDeployment({ endpoint: 'qa', model: 'sentiment', modelVersion: 1, inputs: [{ ...val }] }))
    hidden = await store.createDeployment(newDeployment({ endpoint: 'hidden-endpoint', model: 'hidden-model', modelVersion: 1, inputs: [{ ...val }] }))
    // A deployment fed by other data only: not listed.
    await store.createDeployment(newDeployment({ endpoint: 'other-data', model: 'sentiment', modelVersion: 1 }))
    // Two runs recorded the file as a consumed artifact, and the ledger read it twice: a second page of each at ?limit=1.
    for (const id of [baseline, better]) await store.putArtifact(id, 'inputs/val.csv', { path: world.dataPath }, 'consumed')
    for (const [i, purpose] of ['compare correct', 'leaderboard'].entries()) await store.recordHoldoutRead({ datasetSha256: sha, datasetName: 'val', runIds: [i === 0 ? baseline : better], purpose, actor: 'alice', at: 1000 + i })
    readerSecret = await suite.readSecret(null, 'reader')
    gatesSecret = await suite.readSecret(['gates'], 'gates-reader')
  })

  it("opens a run's dataset hash: the other runs that logged it and the deployments it feeds", async () => {
    const page = await ui.signedIn(readerSecret)
    await ui.step(page, 'run to dataset', async () => {
      await page.goto(`${ui.url}/#/run/${baseline}`)
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
    const page = await ui.signedIn(gatesSecret)
    await ui.step(page, 'limited dataset', async () => {
      await page.goto(`${ui.url}/#/dataset/${sha}`)
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

  it('pages each listing on by its own link, keeping the others where they are, and back to the first pages', async () => {
    const page = await ui.signedIn(readerSecret)
    await ui.step(page, 'dataset pages', async () => {
      await page.goto(`${ui.url}/#/dataset/${sha}?limit=1`)
      const runs = page.getByRole('list', { name: 'Runs' })
      await runs.waitFor()
      const deploymentsText = () => page.getByRole('list', { name: 'Deployments fed by it' }).innerText()
      const readsText = () => page.getByRole('table', { name: 'Holdout ledger reads' }).innerText()
      const firstDeployment = await deploymentsText()
      const firstRead = await readsText()
      assert.match(firstRead, /compare correct/)
      assert.doesNotMatch(firstRead, /leaderboard/)
      // The runs that logged it, one a page, in start-time order, through "Next runs that logged it".
      const logged: string[] = []
      for (let pageNo = 0; pageNo < 5; pageNo++) {
        const text = await runs.innerText()
        const uses = text.match(/logged as val \(validation\), [\w-]+\/[\w-]+/g) ?? []
        assert.equal(uses.length, 1, `one use a page: ${text}`)
        logged.push(uses[0].replace(/.*, /, ''))
        // The artifact listing stays on its first page: the consumed edge of the first run by time.
        assert.match(text, /consumed as inputs\/val\.csv/)
        assert.equal(await deploymentsText(), firstDeployment)
        const next = page.getByRole('link', { name: 'Next runs that logged it' })
        if ((await next.count()) === 0) break
        // From the keyboard: the link focused and Enter.
        await next.focus()
        await page.keyboard.press('Enter')
        await page.waitForURL(/uses=/)
        await page.getByText(new RegExp(`logged as val \\(validation\\), (?!${logged[logged.length - 1]})`)).waitFor()
      }
      assert.deepEqual(logged, ['gates/baseline', 'gates/better', 'secret/hidden-run'])
      assert.deepEqual(await accessibilityViolations(page), [])
      // The other listings page on independently; the runs listing keeps its cursor.
      const usesCursor = new URLSearchParams(new URL(page.url()).hash.split('?')[1]).get('uses')
      assert.ok(usesCursor)
      await page.getByRole('link', { name: 'Next deployments' }).click()
      await page.waitForURL(/deployments=/)
      await page.getByRole('list', { name: 'Deployments fed by it' }).waitFor()
      const secondDeployment = await deploymentsText()
      assert.notEqual(secondDeployment, firstDeployment)
      assert.match(`${firstDeployment}\n${secondDeployment}`, /qa v1[\s\S]*hidden-endpoint|hidden-endpoint[\s\S]*qa v1/)
      assert.equal(new URLSearchParams(new URL(page.url()).hash.split('?')[1]).get('uses'), usesCursor)
      assert.match(await runs.innerText(), /secret\/hidden-run/)
      await page.getByRole('link', { name: 'Next ledger reads' }).click()
      await page.getByRole('table', { name: 'Holdout ledger reads' }).getByText('leaderboard').waitFor()
      assert.doesNotMatch(await readsText(), /compare correct/)
      await page.getByRole('link', { name: 'Next artifact records' }).click()
      await page.waitForURL(/edges=/)
      assert.equal(await page.getByRole('link', { name: 'Next artifact records' }).count(), 0, 'two edges: the second page is the last')
      // "first pages" returns every listing to its start, at the same page size.
      await page.getByRole('link', { name: 'first pages' }).click()
      await page.waitForURL((u) => !/uses=|edges=|reads=|deployments=/.test(u.hash))
      assert.match(page.url(), /limit=1/)
      await page.getByText(/gates\/baseline/).waitFor()
      assert.equal(await deploymentsText(), firstDeployment)
      assert.match(await readsText(), /compare correct/)
      assert.deepEqual(await accessibilityViolations(page), [])
    })
  })
})
