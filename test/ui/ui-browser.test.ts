/**
 * The web UI end to end in real headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core; no browser is downloaded) against `assay server` listening on a real port over
 * a real SQLite store: sign in with a token, filter runs, open a run and see its curve, compare two
 * runs and read the verdict, and access control through the browser. Every page is checked with
 * axe-core. A failing test leaves a screenshot in a temporary directory and prints its path.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type Page } from 'playwright-core'
import { buildServer } from '../../src/server/app.js'
import { UI_ASSETS_DIR } from '../../src/server/ui-routes.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { binaryRecords, createFixture, type Fixture } from '../compare/helpers.js'
import { makeToken } from '../server/helpers.js'

const CHROMIUM = '/usr/bin/chromium'
const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking']
const skip = existsSync(CHROMIUM) ? false : `no ${CHROMIUM} (apt-get install chromium): the browser tests need a real Chromium`
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/** axe-core in the page: every rule violation, as "rule: target" lines (none expected). */
async function accessibilityViolations(page: Page): Promise<string[]> {
  // Through the DevTools protocol, which the page's Content-Security-Policy does not govern (a script tag would be refused).
  await page.evaluate(AXE)
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe
    const result = await axe.run()
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  })
  return violations
}

describe('the web UI in headless Chromium', { skip }, () => {
  let fixture: Fixture
  let store: Store
  let app: FastifyInstance
  let browser: Browser
  let url: string
  let visionSecret: string
  let readerSecret: string
  const ids: Record<string, string> = {}
  const consoleErrors: string[] = []
  const shots = mkdtempSync(path.join(os.tmpdir(), 'assay-ui-shots-'))

  /** Run a browser step; on failure keep a screenshot and say where. */
  async function step(page: Page, name: string, body: () => Promise<void>): Promise<void> {
    try {
      await body()
    } catch (error) {
      const file = path.join(shots, `${name.replace(/\W+/g, '-')}.png`)
      await page.screenshot({ path: file, fullPage: true }).catch(() => undefined)
      console.error(`screenshot of the failed step "${name}": ${file}`)
      throw error
    }
  }

  /** A new browser context; anything the page logs as an error (a CSP refusal, a failed load) fails the test in after(). */
  async function newPage(): Promise<Page> {
    const page = await (await browser.newContext()).newPage()
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 40[13]/.test(message.text())) consoleErrors.push(message.text())
    })
    return page
  }

  async function signedIn(secret: string): Promise<Page> {
    const page = await newPage()
    await page.goto(`${url}/`)
    await page.getByLabel('API token').fill(secret)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Runs' }).waitFor()
    return page
  }

  before(async () => {
    if (!existsSync(path.join(UI_ASSETS_DIR, 'app.js'))) execFileSync(process.execPath, ['scripts/build-ui.mjs'], { stdio: 'inherit' })
    fixture = await createFixture()
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
    store = await SqliteStore.open(fixture.store)
    visionSecret = (await makeToken(store, 'read', ['vision'], 'vision-reader')).secret
    readerSecret = (await makeToken(store, 'read', null, 'reader')).secret
    app = await buildServer({ store, auth: { enabled: true } })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const address = app.server.address()
    url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
    browser = await chromium.launch({ executablePath: CHROMIUM, args: BROWSER_ARGS })
  })

  after(async () => {
    assert.deepEqual(consoleErrors, [], 'errors in the browser console (a Content-Security-Policy refusal shows here)')
    await browser?.close()
    await app?.close()
    await store?.close()
    await fixture?.dispose().catch(() => undefined)
  })

  it('asks for a token, refuses a wrong one, and keeps a right one out of reach of scripts', async () => {
    const page = await newPage()
    await step(page, 'sign-in', async () => {
      await page.goto(`${url}/`)
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
    const page = await signedIn(visionSecret)
    await step(page, 'runs', async () => {
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
    const page = await signedIn(visionSecret)
    await step(page, 'run', async () => {
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

  it('compares two runs and shows the verdict with its statistics', async () => {
    const page = await signedIn(visionSecret)
    await step(page, 'compare', async () => {
      await page.goto(`${url}/#/compare?a=${ids.a}&b=${ids.b}&metric=correct`)
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
    const page = await signedIn(readerSecret)
    await step(page, 'registry', async () => {
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
    const page = await signedIn(visionSecret)
    await step(page, 'access', async () => {
      await page.getByRole('table').waitFor()
      assert.doesNotMatch(await page.locator('main').innerText(), /hidden|secret/)
      await page.goto(`${url}/#/run/${ids.hidden}`)
      await page.reload()
      assert.match(await page.getByRole('alert').innerText(), /ASSAY_FORBIDDEN/)
      assert.doesNotMatch(await page.locator('main').innerText(), /secret|hidden/)
      await page.goto(`${url}/#/compare?a=${ids.a}&b=${ids.hidden}&metric=accuracy`)
      await page.reload()
      assert.match(await page.getByRole('alert').innerText(), /ASSAY_FORBIDDEN/)
      await page.goto(`${url}/#/registry`)
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
