/**
 * The Deployment view in real headless Chromium (test/ui/browser-harness.ts) against `assay server`
 * on a real port over a real SQLite store: the trace list narrowed to a time window typed into its
 * form (and kept in the URL), a canary decision recorded by the library's checkCanary drawn as
 * stored in the audit log, and the view used from the keyboard alone. axe-core checks every page.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkCanary, type CanaryCheckEvidence } from '../../src/monitor/check-canary.js'
import { formatNumber, formatPValue } from '../../src/number-format.js'
import type { Deployment } from '../../src/record/production.js'
import { newDeployment } from '../production/helpers.js'
import { promotableModel } from '../production/promotable-model.js'
import { HOUR, MINUTE, storedTraffic, storeTraffic, type StoredTraffic } from '../production/stored-traffic.js'
import { accessibilityViolations, browserSkip, browserSuite } from './browser-harness.js'

/** A time as the UI writes it and as the window form reads it: UTC to the second. */
const shownTime = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 19)
/** A number from an audit body (where ±Infinity is a string) as the UI writes it. */
const shownNumber = (v: number | string): string => formatNumber(Number(v))

describe('the web UI: a deployment’s traces in a window, a canary decision, the keyboard', { skip: browserSkip }, () => {
  // Traffic sits in the hour before NOW, on whole seconds so a window typed to the second is exact.
  const NOW = Math.floor((Date.now() - MINUTE) / 1000) * 1000
  let champion: Deployment
  let challenger: Deployment
  let championTraffic: StoredTraffic
  let canarySeq: number

  const ui = browserSuite({ auth: false }, async (suite) => {
    const store = await suite.tempStore('assay-ui-production-')
    await promotableModel(store, 'qa')
    champion = await store.createDeployment(newDeployment({ endpoint: 'qa', model: 'qa', modelVersion: 1, createdAt: NOW - 3 * HOUR }))
    challenger = await store.createDeployment(newDeployment({ endpoint: 'qa-canary', model: 'qa', modelVersion: 2, createdAt: NOW - 3 * HOUR }))
    // The challenger replays the champion's conversations (paired) with better quality on most of them.
    championTraffic = storedTraffic(61, champion.id, 150, NOW - HOUR, NOW)
    await storeTraffic(store, championTraffic)
    await storeTraffic(store, storedTraffic(61, challenger.id, 150, NOW - HOUR, NOW, { quality: 0.1, share: 0.8 }))
    const canary = await checkCanary(store, { champion: champion.id, challenger: challenger.id, window: '2h', metrics: [{ metric: 'quality' }, { metric: 'latencyMs' }], now: NOW, actor: 'canary-bot' })
    assert.ok(canary.audit, 'the canary decision is recorded')
    canarySeq = canary.audit.seq
  })

  it("shows only the traces inside the window typed into the form, and keeps the window in the URL", async () => {
    const from = NOW - 40 * MINUTE
    const to = from + 4 * MINUTE
    const startOf = (t: StoredTraffic['traces'][number]) => Math.min(...t.spans.map((s) => s.startTime))
    const inside = championTraffic.traces.filter((t) => startOf(t) >= from && startOf(t) < to)
    // One page (25) holds the whole window, so every trace inside it is on the page.
    assert.ok(inside.length > 0 && inside.length <= 25, `window holds ${inside.length} traces`)
    assert.ok(championTraffic.traces.length > 25)
    const page = await ui.newPage()
    await ui.step(page, 'trace-window', async () => {
      await page.goto(`${ui.url}/#/deployment/${champion.id}`)
      const caption = page.locator('table.traces caption')
      await caption.waitFor()
      assert.match(await caption.innerText(), /^Traces \(25 on this page\)$/)
      await page.getByLabel('From').fill(shownTime(from))
      await page.getByLabel('To').fill(shownTime(to))
      await page.getByRole('button', { name: 'Show traces' }).click()
      await page.getByText(new RegExp(`^Traces \\(${inside.length} on this page, from`)).waitFor()
      const rows = page.locator('table.traces tbody tr')
      assert.equal(await rows.count(), inside.length)
      const listed = new Set<string>()
      for (let i = 0; i < inside.length; i++) listed.add((await rows.nth(i).locator('th a').getAttribute('href')) ?? '')
      assert.deepEqual(listed, new Set(inside.map((t) => `#/trace/${t.traceId}`)))
      // The window is in the URL: opening it afresh shows the same list and the form filled in.
      const shared = page.url()
      assert.match(decodeURIComponent(shared.replace(/\+/g, ' ')), new RegExp(`from=${shownTime(from)}&to=${shownTime(to)}`))
      const again = await ui.newPage()
      await again.goto(shared)
      await again.getByText(new RegExp(`^Traces \\(${inside.length} on this page, from`)).waitFor()
      assert.equal(await again.getByLabel('From').inputValue(), shownTime(from))
      assert.equal(await again.getByLabel('To').inputValue(), shownTime(to))
      // A bound that is not a time is refused in the page, before any request.
      await again.getByLabel('To').fill('next tuesday')
      await again.getByRole('button', { name: 'Show traces' }).click()
      await again.getByRole('alert').waitFor()
      assert.match(await again.getByRole('alert').innerText(), /to must be a time/)
      assert.deepEqual(await accessibilityViolations(page), [])
    })
  })

  it('draws the recorded canary decision with its champion, challenger and each metric as stored', async () => {
    const record = (await ui.store.auditRecordsPage({ limit: 1000 })).records.find((r) => r.seq === canarySeq)
    assert.equal(record?.kind, 'canary-decision')
    const evidence = record.body as unknown as CanaryCheckEvidence
    assert.equal(evidence.result.metrics.length, 2)
    const page = await ui.newPage()
    await ui.step(page, 'canary', async () => {
      await page.goto(`${ui.url}/#/deployment/${challenger.id}`)
      await page.getByRole('heading', { name: `Canary: ${evidence.decision}` }).waitFor()
      const section = page.getByRole('region', { name: `Canary: ${evidence.decision}` })
      const text = await section.innerText()
      assert.match(text, new RegExp(`Champion\\s+qa \\(qa version 1\\), ${evidence.champion.traces} traces`))
      assert.match(text, new RegExp(`Challenger\\s+qa-canary \\(qa version 2\\), ${evidence.challenger.traces} traces`))
      assert.equal(await section.getByRole('link', { name: 'qa', exact: true }).getAttribute('href'), `#/deployment/${champion.id}`)
      assert.equal(await section.getByRole('link', { name: 'qa-canary' }).getAttribute('href'), `#/deployment/${challenger.id}`)
      assert.match(text, new RegExp(`audit record ${canarySeq}`))
      const rows = section.locator('tbody tr')
      assert.equal(await rows.count(), evidence.result.metrics.length)
      for (const [i, m] of evidence.result.metrics.entries()) {
        const cells = rows.nth(i).locator('td')
        assert.equal(await rows.nth(i).locator('th').innerText(), m.metric)
        assert.equal(await cells.nth(0).innerText(), m.verdict)
        assert.equal(await cells.nth(1).innerText(), shownNumber(m.estimate))
        assert.equal(await cells.nth(3).innerText(), formatPValue(Number(m.pValue)))
        assert.equal(await cells.nth(5).innerText(), `${m.nChallenger} / ${m.nChampion}`)
      }
      assert.deepEqual(await accessibilityViolations(page), [])
    })
  })

  it('is usable from the keyboard: Tab through the nav and the window and filter form, Enter opens a trace', async () => {
    const page = await ui.newPage()
    await ui.step(page, 'keyboard', async () => {
      await page.goto(`${ui.url}/#/deployment/${champion.id}`)
      await page.locator('table.traces caption').waitFor()
      const focused = () =>
        page.evaluate(() => {
          // The test compiles without the DOM's types: only what is read of the focused element.
          type Focused = { tagName: string; textContent: string | null; getAttribute(name: string): string | null }
          const el = (globalThis as unknown as { document: { activeElement: Focused | null } }).document.activeElement
          return { tag: el?.tagName ?? '', name: el?.getAttribute('name') ?? '', text: el?.textContent?.trim() ?? '', href: el?.getAttribute('href') ?? '' }
        })
      // Tab from the page top until the first trace link, noting where focus went.
      const seen: Awaited<ReturnType<typeof focused>>[] = []
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab')
        const now = await focused()
        seen.push(now)
        if (now.href.startsWith('#/trace/')) break
      }
      const labels = seen.map((s) => (s.tag === 'INPUT' ? `input:${s.name}` : s.tag === 'BUTTON' ? `button:${s.text}` : s.tag === 'A' ? `link:${s.text}` : s.tag))
      const order = ['link:Runs', 'link:Charts', 'link:Compare', 'link:Leaderboard', 'link:Registry', 'link:Audit log', 'link:Production', 'input:from', 'input:to', 'input:filter', 'button:Show traces']
      const positions = order.map((label) => labels.indexOf(label))
      assert.ok(
        positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1])),
        `focus order ${labels.join(', ')}`,
      )
      assert.equal(positions[0], 0, 'the first Tab lands on the first nav link')
      assert.deepEqual(positions.slice(7), [positions[7], positions[7] + 1, positions[7] + 2, positions[7] + 3], 'from, to, filter and submit follow each other')
      const traceLink = seen[seen.length - 1]
      assert.match(traceLink.href, /^#\/trace\/[0-9a-f]+$/, `Tab reached a trace link: ${labels.join(', ')}`)
      await page.keyboard.press('Enter')
      await page.getByRole('table', { name: 'Span tree' }).waitFor()
      assert.ok(page.url().endsWith(traceLink.href), page.url())
      assert.deepEqual(await accessibilityViolations(page), [])
    })
  })
})
