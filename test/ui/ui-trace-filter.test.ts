/**
 * The Deployment view's trace filter in real headless Chromium (test/ui/browser-harness.ts)
 * against `assay server` on a real port over a real SQLite store: the filter typed into the
 * labelled input narrows the list, stays in the URL across pages, and a bad filter shows the
 * server's error code. axe-core checks the page.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Deployment } from '../../src/record/production.js'
import { hex, newDeployment, span } from '../production/helpers.js'
import { accessibilityViolations, browserSkip, browserSuite } from './browser-harness.js'

describe('the web UI: a deployment’s traces narrowed by the trace filter', { skip: browserSkip }, () => {
  let deployment: Deployment
  const slow: string[] = []

  const ui = browserSuite({ auth: false }, async (suite) => {
    const store = await suite.tempStore('assay-ui-trace-filter-')
    deployment = await store.createDeployment(newDeployment({ endpoint: 'qa' }))
    // 40 traces one second apart; 30 of them slow (over 2 s), so the filtered list takes two pages of 25.
    const traces = Array.from({ length: 40 }, (_, i) => {
      const start = 1_700_000_000_000 + i * 1000
      const latency = i % 4 === 0 ? 100 : 2500
      const traceId = hex(16)
      if (latency > 2000) slow.push(traceId)
      return { traceId, deploymentId: deployment.id, spans: [span({ startTime: start, endTime: start + latency })] }
    })
    await store.logTraces(traces)
  })

  it('lists only the traces passing the filter typed into the form, keeps it in the URL across pages, and shows a bad filter by its code', async () => {
    const page = await ui.newPage()
    await ui.step(page, 'trace-filter', async () => {
      await page.goto(`${ui.url}/#/deployment/${deployment.id}`)
      await page.locator('table.traces caption').waitFor()
      await page.getByLabel('Filter').fill('latency_ms > 2000')
      await page.getByRole('button', { name: 'Show traces' }).click()
      await page.getByText(/^Traces \(25 on this page, passing latency_ms > 2000\)$/).waitFor()
      const hrefs = async (): Promise<string[]> => page.locator('table.traces tbody tr th a').evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''))
      assert.deepEqual(await hrefs(), slow.slice(0, 25).map((id) => `#/trace/${id}`))
      assert.match(decodeURIComponent(page.url().replace(/\+/g, ' ')), /filter=latency_ms > 2000/)
      // The next page keeps the filter.
      await page.getByRole('link', { name: 'Next traces' }).click()
      await page.getByText(/^Traces \(5 on this page, passing latency_ms > 2000\)$/).waitFor()
      assert.deepEqual(await hrefs(), slow.slice(25).map((id) => `#/trace/${id}`))
      assert.equal(await page.getByLabel('Filter').inputValue(), 'latency_ms > 2000')
      assert.deepEqual(await accessibilityViolations(page), [])
      // Opening the URL afresh shows the same list with the form filled in.
      const again = await ui.newPage()
      await again.goto(page.url())
      await again.getByText(/^Traces \(5 on this page, passing latency_ms > 2000\)$/).waitFor()
      assert.equal(await again.getByLabel('Filter').inputValue(), 'latency_ms > 2000')
      // A filter the server refuses is shown with its code.
      await again.getByLabel('Filter').fill('latency > 5')
      await again.getByRole('button', { name: 'Show traces' }).click()
      await again.getByRole('alert').waitFor()
      assert.match(await again.getByRole('alert').innerText(), /^ASSAY_INVALID_FILTER: filter error at character 1: unknown trace field "latency"/)
      // The browser logs that 400 answer; it is the one expected here, any other error still fails close().
      const refused = ui.session.consoleErrors.findIndex((e) => /status of 400/.test(e))
      assert.notEqual(refused, -1)
      ui.session.consoleErrors.splice(refused, 1)
    })
  })
})
