/**
 * The web UI end to end in real headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core; no browser is downloaded) against `assay server` listening on a real port over
 * a real SQLite store: sign in with a token, filter runs, open a run and see its curve, compare two
 * runs and read the verdict, and access control through the browser. Every page is checked with
 * axe-core. A failing test leaves a screenshot in a temporary directory and prints its path.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { binaryRecords, createFixture, type Fixture } from '../compare/helpers.js'
import { accessibilityViolations, browserSkip, browserSuite } from './browser-harness.js'

describe('the web UI in headless Chromium', { skip: browserSkip }, () => {
  let fixture: Fixture
  let visionSecret: string
  let readerSecret: string
  const ids: Record<string, string> = {}

  const ui = browserSuite(async (suite) => {
    fixture = await createFixture()
    suite.onClose(() => fixture.dispose())
    // A curve of 2,000 steps with one spike, drawn from 300 buckets: the spike must survive.
    const curve = await fixture.assay.startRun({ experiment: 'vision', name: 'curve', params: { config: 'curve' }, seed: 7 })
    for (let step = 0; step < 2000; step += 500) {
      const points = Array.from({ length: 500 }, (_, i) => step + i)
      for (const s of points) await curve.log({ loss: s === 1234 ? 50 : 1 / (1 + s) }, { step: s })
    }
    await curve.end('finished')
    ids.curve = curve.id
    ids.a = await fixture.logRun({ experiment: 'vision', params: { config: 'a' }, seed: 1, records: binaryRecords(300, (i) => i % 10 !== 0) })
    ids.b = await fixture.logRun({ experiment: 'vision', params: { config: 'b' }, seed: 1, records: binaryRecords(300, (i) => i % 3 !== 0) })
    ids.hidden = await fixture.logRun({ experiment: 'secret', params: { config: 'hidden' }, seed: 1, metrics: { accuracy: 0.5 } })
    await fixture.assay.createModel({ name: 'classifier', owner: 'team', actor: 'alice' })
    await fixture.assay.addModelVersion({ model: 'classifier', run: ids.a, actor: 'alice' })
    await fixture.assay.addModelVersion({ model: 'classifier', run: ids.b, actor: 'alice' })
    await fixture.assay.setAlias('classifier', 'champion', 1, { actor: 'alice' })
    await fixture.assay.setAlias('classifier', 'champion', 2, { actor: 'bob' })
    await fixture.assay.close()
    await suite.openStore(fixture.store)
    visionSecret = await suite.readSecret(['vision'], 'vision-reader')
    readerSecret = await suite.readSecret(null, 'reader')
  })

  it('asks for a token, refuses a wrong one, and keeps a right one out of reach of scripts', async () => {
    const page = await ui.newPage()
    await ui.step(page, 'sign-in', async () => {
      await page.goto(`${ui.url}/`)
      await page.getByRole('heading', { name: 'Sign in to assay' }).waitFor()
      assert.deepEqual(await accessibilityViolations(page), [])
      await page.getByLabel('API token').fill('assay_not-a-known-token-at-all-0000000000')
      await page.getByRole('button', { name: 'Sign in' }).click()
      assert.match(await page.getByRole('alert').innerText(), /ASSAY_UNAUTHENTICATED/)
      await page.getByLabel('API token').fill(visionSecret)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('heading', { name: 'Runs' }).waitFor()
      assert.equal(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie), '', 'the session cookie is HttpOnly')
      const [cookie] = await page.context().cookies()
      assert.equal(cookie.httpOnly, true)
      assert.equal(cookie.sameSite, 'Strict')
    })
  })

  it('lists runs, filters them on the server and sorts by a chosen column', async () => {
    const page = await ui.signedIn(visionSecret)
    await ui.step(page, 'runs', async () => {
      const table = page.getByRole('table')
      await table.waitFor()
      assert.match(await table.innerText(), /curve/)
      assert.deepEqual(await accessibilityViolations(page), [])
      await page.getByLabel('Filter').fill("params.config = 'a'")
      await page.getByLabel('Columns').fill('params.config')
      await page.getByRole('button', { name: 'Apply' }).click()
      await page.getByText("1 runs on this page matching params.config = 'a'").waitFor()
      assert.match(page.url(), /filter=params\.config/, 'the filter is in the shareable URL')
      // The shared URL opened afresh shows the same filtered page.
      await page.goto(page.url())
      await page.reload()
      await page.getByText("1 runs on this page matching params.config = 'a'").waitFor()
      await page.getByLabel('Filter').fill('')
      await page.getByRole('button', { name: 'Apply' }).click()
      await page.getByText('3 runs on this page').waitFor()
      await page.getByRole('button', { name: 'params.config' }).click()
      await page.getByRole('button', { name: 'params.config ▲' }).click()
      await page.getByRole('button', { name: 'params.config ▼' }).waitFor()
      const first = await page.locator('tbody tr').first().innerText()
      assert.match(first, /\bcurve\b/, 'descending by params.config: "curve" > "b" > "a"')
    })
  })

  it('opens a run and draws every metric, spike included', async () => {
    const page = await ui.signedIn(visionSecret)
    await ui.step(page, 'run', async () => {
      await page.getByRole('link', { name: 'curve' }).click()
      await page.getByRole('heading', { name: /Run curve/ }).waitFor()
      const chart = page.getByRole('img', { name: /chart of loss/ })
      await chart.waitFor()
      assert.match((await chart.getAttribute('aria-label')) ?? '', /2000 points, drawn as min and max of 300 buckets/)
      assert.equal(await chart.locator('canvas').count(), 1)
      // The spike of 50 at step 1234 is kept by its bucket's max.
      assert.match(await page.locator('figcaption').innerText(), /values from 0\.0005 to 50\b/)
      assert.deepEqual(await accessibilityViolations(page), [])
    })
  })

  it("loads a run's URL with its run, charts and whoami requests together, and marks the chart drawn", async () => {
    const page = await ui.signedIn(visionSecret)
    await ui.step(page, 'run-url', async () => {
      // When the run's title first appears, by the page's clock (an observer set before the page's scripts).
      await page.addInitScript({
        content: "new MutationObserver(() => { if (window.runTitleAt === undefined && document.getElementById('run-title') !== null) window.runTitleAt = performance.now() }).observe(document, { childList: true, subtree: true })",
      })
      // A fresh load of the run's URL (the hash alone would change the view within the loaded page).
      await page.goto(`${ui.url}/#/run/${ids.curve}`)
      await page.reload()
      await page.locator('.chart [data-drawn]').waitFor()
      const timing = await page.evaluate(() => {
        // No helper functions in here: the test's compiler would wrap them in a __name the page lacks.
        const entries = (performance.getEntriesByType('resource') as unknown as { name: string; startTime: number }[]).map((e) => ({ path: new URL(e.name).pathname, startTime: e.startTime }))
        const whoami = entries.filter((e) => e.path === '/api/v1/whoami')
        const charts = entries.filter((e) => e.path.endsWith('/charts'))
        return {
          whoami: whoami.length,
          charts: charts.length,
          buckets: entries.filter((e) => e.path.endsWith('/metrics/buckets')).length,
          // Asked for before the run view was drawn: not after whoami's and the run's answers, as a view's own effect would.
          chartsBeforeRunDrawn: charts.length === 1 && charts[0].startTime < (globalThis as unknown as { runTitleAt: number }).runTitleAt,
          drawnMarks: performance.getEntriesByName('assay:chart-drawn').map((m) => (m as unknown as { detail: string }).detail),
        }
      })
      assert.deepEqual(timing, { whoami: 1, charts: 1, buckets: 0, chartsBeforeRunDrawn: true, drawnMarks: ['loss'] })
    })
  })

  it('compares two runs and shows the verdict with its statistics', async () => {
    const page = await ui.signedIn(visionSecret)
    await ui.step(page, 'compare', async () => {
      await page.goto(`${ui.url}/#/compare?a=${ids.a}&b=${ids.b}&metric=correct`)
      const verdict = page.locator('#verdict')
      await verdict.waitFor()
      assert.equal(await verdict.innerText(), 'A is better than B')
      const text = await page.locator('.comparison').innerText()
      assert.match(text, /p-value\s+8\.6e-12 \(Exact McNemar test/)
      assert.match(text, /Sample sizes\s+A 300, B 300, 300 pairs/)
      assert.match(text, /95% interval\s+\[0\.\d+, 0\.\d+\]/)
      assert.deepEqual(await accessibilityViolations(page), [])
    })
  })

  it('shows the registry: models, versions, alias history and the verified audit log', async () => {
    const page = await ui.signedIn(readerSecret)
    await ui.step(page, 'registry', async () => {
      await page.getByRole('link', { name: 'Registry' }).click()
      await page.getByText(/^Audit log intact: \d+ records, head [0-9a-f]{16}$/).waitFor()
      await page.getByRole('link', { name: 'classifier' }).click()
      await page.getByRole('heading', { name: 'Model classifier' }).waitFor()
      const versions = await page.getByRole('table', { name: 'Versions' }).innerText()
      assert.match(versions, new RegExp(`1\\s+${ids.a.slice(0, 8)}`))
      assert.match(versions, new RegExp(`2\\s+${ids.b.slice(0, 8)}`))
      const history = await page.getByRole('table', { name: 'Alias history' }).innerText()
      assert.match(history, /champion[^\n]*–\s*→\s*1[^\n]*alice/)
      assert.match(history, /champion[^\n]*1\s*→\s*2[^\n]*bob/)
      assert.deepEqual(await accessibilityViolations(page), [])
    })
  })

  it('shows a token limited to one experiment nothing of another', async () => {
    const page = await ui.signedIn(visionSecret)
    await ui.step(page, 'access', async () => {
      await page.getByRole('table').waitFor()
      assert.doesNotMatch(await page.locator('main').innerText(), /hidden|secret/)
      await page.goto(`${ui.url}/#/run/${ids.hidden}`)
      await page.reload()
      assert.match(await page.getByRole('alert').innerText(), /ASSAY_FORBIDDEN/)
      assert.doesNotMatch(await page.locator('main').innerText(), /secret|hidden/)
      await page.goto(`${ui.url}/#/compare?a=${ids.a}&b=${ids.hidden}&metric=accuracy`)
      await page.reload()
      assert.match(await page.getByRole('alert').innerText(), /ASSAY_FORBIDDEN/)
      await page.goto(`${ui.url}/#/registry`)
      await page.reload()
      // (a locator, not waitForFunction with a string: the page's CSP forbids the eval that would need)
      await page.getByRole('alert').nth(1).waitFor()
      const alerts = await page.getByRole('alert').allInnerTexts()
      assert.equal(alerts.length, 2, 'the registry needs a token valid for all experiments: the models and the audit check are refused')
      for (const alert of alerts) assert.match(alert, /ASSAY_FORBIDDEN/)
      assert.doesNotMatch(await page.locator('main').innerText(), /classifier/)
    })
  })
})
