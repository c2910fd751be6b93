/**
 * Every view of the web UI used from the keyboard alone, in real headless Chromium
 * (test/ui/browser-harness.ts) against `assay server` on a real port over a real SQLite store:
 * Tab reaches each form control, sort header, picker, paging link and disclosure in reading order;
 * each shows a visible focus and has a name; Enter and Space do what a click does; nothing answers
 * a click that a key cannot reach (an element with a pointer cursor outside a link, button,
 * summary or form control). The Deployment view's own walk is in ui-production-extra.test.ts.
 * axe-core checks every page.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Page } from 'playwright-core'
import type { Deployment } from '../../src/record/production.js'
import { openGateWorld, promotedSentiment, records, type GateWorld } from '../gates/helpers.js'
import { newDeployment } from '../production/helpers.js'
import { HOUR, storedTraffic, storeTraffic } from '../production/stored-traffic.js'
import { newRun } from '../store/fixtures.js'
import { accessibilityViolations, browserSkip, browserSuite } from './browser-harness.js'

/** Where focus is, as the page sees it (a string: the test compiles without the DOM's types). */
const FOCUSED = `(() => {
  const el = document.activeElement
  if (el === null || el === document.body) return null
  const labelled = el.getAttribute('aria-labelledby')
  const name = (el.getAttribute('aria-label')
    || (labelled === null ? '' : labelled.split(/\\s+/).map((id) => document.getElementById(id)?.textContent ?? '').join(' '))
    || (el.labels !== undefined && el.labels !== null && el.labels.length > 0 ? el.labels[0].textContent : '')
    || el.textContent || '').replace(/\\s+/g, ' ').trim()
  const style = getComputedStyle(el)
  return {
    tag: el.tagName.toLowerCase(),
    type: el.getAttribute('type') ?? '',
    field: el.getAttribute('name') ?? '',
    name,
    href: el.getAttribute('href') ?? '',
    labelled: !['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName) || (el.labels !== null && el.labels.length > 0) || el.hasAttribute('aria-label'),
    focusVisible: el.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
  }
})()`

/** Elements that show a pointer (so answer a click) but are no link, button, summary or form control, nor inside one. */
const MOUSE_ONLY = `[...document.querySelectorAll('body *')]
  .filter((el) => getComputedStyle(el).cursor === 'pointer' && el.closest('a[href], button, summary, label, input, select, textarea') === null)
  .map((el) => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).replace(/\\s+/g, '.') : ''))`

interface Stop {
  tag: string
  type: string
  field: string
  name: string
  href: string
  labelled: boolean
  focusVisible: boolean
}

/** A stop as the assertions name it: `input:filter`, `button:Apply`, `link:Next page`, `summary:…`. */
const label = (s: Stop): string =>
  s.tag === 'input' || s.tag === 'select' ? `${s.tag}:${s.field}` : s.tag === 'a' ? `link:${s.name}` : `${s.tag}:${s.name}`

describe('the web UI from the keyboard: every view', { skip: browserSkip }, () => {
  let world: GateWorld
  let baseline: string
  let better: string
  let curve: string
  let promotionSeq: number
  let deployment: Deployment
  let traceId: string
  let sha: string

  const ui = browserSuite({ auth: false }, async (suite) => {
    world = await openGateWorld()
    suite.onClose(() => world.cleanup())
    baseline = await world.logRun('baseline', records((i) => i < 300))
    better = await world.logRun('better', records((i) => i < 360))
    const run = await world.assay.startRun({ experiment: 'gates', name: 'curve', seed: 2 })
    for (let s = 0; s < 20; s++) await run.log({ loss: 1 / (s + 1) }, { step: s })
    await run.end('finished')
    curve = run.id
    promotionSeq = await promotedSentiment(world, baseline, better)
    await world.assay.close()

    const store = await suite.openStore(world.h.storeDir)
    // More runs than a page of the runs table (50), so it has a "Next page" link.
    for (let i = 0; i < 50; i++) await store.createRun(newRun({ experiment: 'gates', name: `filler-${i}`, startTime: Date.now() + 60_000 + i }))
    const val = (await store.getRun(better)).datasets[0]
    sha = val.sha256
    deployment = await store.createDeployment(newDeployment({ endpoint: 'qa', model: 'sentiment', modelVersion: 2, inputs: [{ ...val }] }))
    const traffic = storedTraffic(5, deployment.id, 10, Date.now() - HOUR, Date.now() - 1000)
    await storeTraffic(store, traffic)
    traceId = traffic.traces[0].traceId
  })

  /** Tab from the top of the page until `until` holds (or `max` presses), checking every stop on the way. */
  async function tabThrough(page: Page, until: (s: Stop) => boolean, max = 200): Promise<Stop[]> {
    // Focus the page itself, so the next Tab goes to its first control (blur() would keep the old starting point).
    await page.evaluate("document.body.setAttribute('tabindex', '-1'); document.body.focus(); document.body.removeAttribute('tabindex')")
    const stops: Stop[] = []
    for (let i = 0; i < max; i++) {
      await page.keyboard.press('Tab')
      const stop = (await page.evaluate(FOCUSED)) as Stop | null
      if (stop === null) break
      stops.push(stop)
      if (until(stop)) break
    }
    const names = stops.map(label).join(', ')
    for (const s of stops) {
      assert.ok(s.focusVisible, `${label(s)} shows no focus (stops: ${names})`)
      assert.ok(s.name !== '', `a ${s.tag} with no name (stops: ${names})`)
      assert.ok(s.labelled, `${label(s)} has no label`)
    }
    return stops
  }

  /** `expected` occur among the stops in this order (other stops may come between). */
  function assertInOrder(stops: Stop[], expected: string[]): void {
    const labels = stops.map(label)
    let from = 0
    for (const e of expected) {
      const at = labels.indexOf(e, from)
      assert.ok(at >= 0, `${e} not reached by Tab after ${labels[from - 1] ?? 'the start'}: ${labels.join(', ')}`)
      from = at + 1
    }
  }

  async function assertKeyboardOnly(page: Page): Promise<void> {
    assert.deepEqual(await page.evaluate(MOUSE_ONLY), [], 'elements answering a click that no key reaches')
    assert.deepEqual(await accessibilityViolations(page), [])
  }

  /** Tab from the top until the stop `name` (as `label` writes it). */
  async function tabTo(page: Page, name: string): Promise<void> {
    const stops = await tabThrough(page, (s) => label(s) === name)
    assert.ok(stops.length > 0 && label(stops[stops.length - 1]) === name, `Tab did not reach ${name}: ${stops.map(label).join(', ')}`)
  }

  /** Tab from the top until the stop `name` and press `key` there. */
  async function press(page: Page, name: string, key: 'Enter' | 'Space'): Promise<void> {
    await tabTo(page, name)
    await page.keyboard.press(key)
  }

  /** Waits (up to 5 s) for focus to be on `name`: the page's CSP refuses waitForFunction's string, so it polls. */
  async function focusSettlesOn(page: Page, name: string): Promise<void> {
    let now = ''
    for (let i = 0; i < 50; i++) {
      const stop = (await page.evaluate(FOCUSED)) as Stop | null
      now = stop === null ? 'the page' : label(stop)
      if (now === name) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.fail(`focus is on ${now}, not ${name}`)
  }

  const hashParams = (page: Page): URLSearchParams => new URLSearchParams(new URL(page.url()).hash.split('?')[1] ?? '')

  it('Runs: the filter form, the sort headers, the pickers and the paging links', async () => {
    const page = await ui.newPage()
    await ui.step(page, 'runs', async () => {
      await page.goto(`${ui.url}/#/runs`)
      await page.getByText('50 runs on this page').waitFor()
      const stops = await tabThrough(page, (s) => s.name === 'Next page')
      assertInOrder(stops, [
        'link:Runs', 'link:Charts', 'link:Compare', 'link:Leaderboard', 'link:Registry', 'link:Audit log', 'link:Production',
        'input:filter', 'input:orderBy', 'input:columns', 'input:groupBy', 'button:Apply', 'button:Name', 'button:Started',
        'input:', 'link:baseline', 'link:Next page',
      ])
      assert.equal(stops.filter((s) => s.type === 'checkbox').length, 50, 'every row’s picker is reached')
      await assertKeyboardOnly(page)

      // Space on a sort header orders by it; Enter on it again reverses.
      await press(page, 'button:Name', 'Space')
      await page.getByRole('button', { name: 'Name ▲' }).waitFor()
      assert.equal(hashParams(page).get('orderBy'), 'name asc')
      // The table is drawn afresh; focus is back on the header pressed, so Enter reverses the order.
      await focusSettlesOn(page, 'button:Name ▲')
      await page.keyboard.press('Enter')
      await page.getByRole('button', { name: 'Name ▼' }).waitFor()
      assert.equal(hashParams(page).get('orderBy'), 'name desc')

      // The columns field, typed into and submitted with Enter, adds a sortable column.
      await tabTo(page, 'input:columns')
      await page.keyboard.type('metrics.loss')
      await page.keyboard.press('Enter')
      await page.getByRole('button', { name: 'metrics.loss' }).waitFor()
      assert.equal(hashParams(page).get('columns'), 'metrics.loss')

      // Space picks two runs; the Compare link they bring is reached by Tab and opened by Enter.
      await page.goto(`${ui.url}/#/runs`)
      await page.getByText('50 runs on this page').waitFor()
      const boxes = page.getByRole('checkbox')
      for (const i of [0, 1]) {
        await boxes.nth(i).focus()
        await page.keyboard.press('Space')
      }
      assert.equal(await boxes.nth(0).isChecked(), true)
      assert.equal(await boxes.nth(1).isChecked(), true)
      await press(page, 'link:Compare the two picked runs', 'Enter')
      await page.getByRole('heading', { name: 'Compare' }).waitFor()
      assert.ok(hashParams(page).get('a') && hashParams(page).get('b'), page.url())

      // Paging: Enter on "Next page", then on "First page".
      await page.goto(`${ui.url}/#/runs`)
      await page.getByText('50 runs on this page').waitFor()
      await press(page, 'link:Next page', 'Enter')
      await page.getByText('3 runs on this page').waitFor()
      assert.ok(hashParams(page).get('cursor'))
      await press(page, 'link:First page', 'Enter')
      await page.getByText('50 runs on this page').waitFor()
    })
  })

  it('Runs grouped: the group pickers, the links and the disclosure of a group’s runs', async () => {
    const page = await ui.newPage()
    await ui.step(page, 'groups', async () => {
      await page.goto(`${ui.url}/#/runs`)
      await page.getByText('50 runs on this page').waitFor()
      await tabTo(page, 'input:groupBy')
      await page.keyboard.type('config')
      await page.keyboard.press('Enter')
      const summary = page.locator('summary').first()
      await summary.waitFor()
      assert.equal(hashParams(page).get('groupBy'), 'config')
      const stops = await tabThrough(page, (s) => s.tag === 'summary')
      assertInOrder(stops, ['input:groupBy', 'button:Apply', 'input:'])
      assert.equal(stops[stops.length - 1].tag, 'summary')
      await assertKeyboardOnly(page)
      // Space opens the group's runs; its run links are then reached by Tab.
      const details = page.locator('details').first()
      assert.equal(await details.getAttribute('open'), null)
      await page.keyboard.press('Space')
      assert.equal(await details.getAttribute('open'), '')
      await page.keyboard.press('Tab')
      const next = (await page.evaluate(FOCUSED)) as Stop
      assert.match(next.href, /^#\/run\//, 'the first run of the opened group')
      // Space on a group's picker offers the chart of the picked groups.
      const picker = page.getByRole('checkbox').first()
      await picker.focus()
      await page.keyboard.press('Space')
      await press(page, 'link:Chart the 1 picked group', 'Enter')
      await page.getByRole('heading', { name: 'Charts' }).waitFor()
    })
  })

  it('Run: every link reached, and Enter opens Compare with the run filled in', async () => {
    const page = await ui.newPage()
    await ui.step(page, 'run', async () => {
      await page.goto(`${ui.url}/#/run/${curve}`)
      await page.getByRole('img', { name: /chart of loss/ }).waitFor()
      const stops = await tabThrough(page, (s) => s.name === 'Compare this run with another')
      assertInOrder(stops, ['link:Production', 'link:Compare this run with another'])
      await assertKeyboardOnly(page)
      await page.keyboard.press('Enter')
      await page.getByRole('heading', { name: 'Compare' }).waitFor()
      assert.equal(await page.getByLabel('A: run or group').inputValue(), curve)
    })
  })

  it('Charts: the keys form and the legend’s run links', async () => {
    const page = await ui.newPage()
    await ui.step(page, 'charts', async () => {
      await page.goto(`${ui.url}/#/charts?runs=${curve}`)
      await page.getByRole('img', { name: /chart of loss/ }).waitFor()
      const stops = await tabThrough(page, (s) => s.href === `#/run/${curve}`)
      assertInOrder(stops, ['input:keys', 'button:Draw', `link:curve ${curve.slice(0, 8)}`])
      await assertKeyboardOnly(page)
      await tabTo(page, 'input:keys')
      await page.keyboard.type('loss')
      await page.keyboard.press('Enter')
      await page.waitForURL(/keys=loss/)
      await page.getByRole('img', { name: /chart of loss/ }).waitFor()
    })
  })

  it('Compare: the form filled and sent from the keyboard, the result’s runs and examples', async () => {
    const page = await ui.newPage()
    await ui.step(page, 'compare', async () => {
      await page.goto(`${ui.url}/#/compare`)
      await page.getByRole('heading', { name: 'Compare' }).waitFor()
      const stops = await tabThrough(page, (s) => s.name === 'Compare' && s.tag === 'button')
      assertInOrder(stops, ['input:a', 'input:b', 'input:metric', 'input:dataset', 'input:lowerIsBetter', 'button:Compare'])
      await assertKeyboardOnly(page)
      // Fill the form by typing and Tab, tick and untick the checkbox with Space, send with Enter.
      await tabTo(page, 'input:a')
      await page.keyboard.type(better)
      await page.keyboard.press('Tab')
      await page.keyboard.type(baseline)
      await page.keyboard.press('Tab')
      await page.keyboard.type('correct')
      await page.keyboard.press('Tab')
      await page.keyboard.press('Tab')
      await page.keyboard.press('Space')
      assert.equal(await page.getByLabel('lower is better').isChecked(), true)
      await page.keyboard.press('Space')
      assert.equal(await page.getByLabel('lower is better').isChecked(), false)
      await page.keyboard.press('Tab')
      await page.keyboard.press('Enter')
      const verdict = page.locator('#verdict')
      await verdict.waitFor()
      assert.equal(await verdict.innerText(), 'A is better than B')
      // The result: its run links and each example's disclosure.
      const result = await tabThrough(page, (s) => s.tag === 'summary')
      assertInOrder(result, ['button:Compare', `link:${better.slice(0, 8)}`])
      assert.equal(result[result.length - 1].tag, 'summary', 'an example opens from the keyboard')
      await page.keyboard.press('Enter')
      await page.getByRole('table').filter({ hasText: 'q' }).first().waitFor()
      assert.equal(await page.locator('details[open]').count(), 1)
      await assertKeyboardOnly(page)
    })
  })

  it('Leaderboard: the form with its select and checkbox, and the board’s links', async () => {
    const page = await ui.newPage()
    await ui.step(page, 'leaderboard', async () => {
      await page.goto(`${ui.url}/#/leaderboard`)
      await page.getByRole('heading', { name: 'Leaderboard' }).waitFor()
      const stops = await tabThrough(page, (s) => s.name === 'Rank')
      assertInOrder(stops, ['input:dataset', 'input:experiment', 'input:filter', 'input:baseline', 'input:metric', 'select:adjust', 'input:lowerIsBetter', 'button:Rank'])
      await assertKeyboardOnly(page)
      await tabTo(page, 'input:dataset')
      await page.keyboard.type('val')
      await page.keyboard.press('Tab')
      await page.keyboard.type('gates')
      await page.keyboard.press('Enter')
      await page.waitForURL(/dataset=val/)
      await page.locator(`a[href="#/run/${better}"]`).first().waitFor()
      const board = await tabThrough(page, (s) => s.href === `#/run/${better}`)
      assert.equal(board[board.length - 1].href, `#/run/${better}`, `a ranked run is reached: ${board.map(label).join(', ')}`)
      await page.keyboard.press('Enter')
      await page.getByRole('heading', { name: /Run better/ }).waitFor()
    })
  })

  it('Registry, Promotion and Audit log: from the model list to the gate decision by Enter alone', async () => {
    const page = await ui.newPage()
    await ui.step(page, 'registry', async () => {
      await page.goto(`${ui.url}/#/registry`)
      await page.getByText(/^Audit log intact/).waitFor()
      await press(page, 'link:sentiment', 'Enter')
      await page.getByRole('heading', { name: 'Model sentiment' }).waitFor()
      await page.getByRole('table', { name: /Alias history/ }).waitFor()
      const stops = await tabThrough(page, (s) => s.href === `#/audit/${promotionSeq}` && s.name.startsWith('gate decision'))
      assertInOrder(stops, [`link:${baseline.slice(0, 8)}`, `link:gate decision (record ${promotionSeq})`])
      await assertKeyboardOnly(page)
      await page.keyboard.press('Enter')
      // The promotion: its links, and the stored record's disclosure opened with Enter.
      await page.getByRole('img').first().waitFor()
      const promotion = await tabThrough(page, (s) => s.tag === 'summary')
      assertInOrder(promotion, ['link:sentiment', `link:${better.slice(0, 8)}`, 'summary:The record as stored (JSON)'])
      await assertKeyboardOnly(page)
      await page.keyboard.press('Enter')
      await page.locator('details[open] pre').first().waitFor()
      // The audit log: its records' links, Enter opens one.
      await page.goto(`${ui.url}/#/audit`)
      await page.getByRole('table').waitFor()
      const log = await tabThrough(page, (s) => s.href === `#/audit/${promotionSeq}`)
      assertInOrder(log, ['link:Audit log', 'link:1', `link:${promotionSeq}`])
      await assertKeyboardOnly(page)
      await page.keyboard.press('Enter')
      await page.waitForURL(new RegExp(`#/audit/${promotionSeq}$`))
    })
  })

  it('Production, Trace and Dataset: the deployment list, a trace’s links and a dataset’s listings', async () => {
    const page = await ui.newPage()
    await ui.step(page, 'production', async () => {
      await page.goto(`${ui.url}/#/production`)
      await page.getByRole('link', { name: 'qa v1' }).waitFor()
      await press(page, 'link:qa v1', 'Enter')
      await page.waitForURL(new RegExp(`#/deployment/${deployment.id}`))
      await page.goto(`${ui.url}/#/trace/${traceId}`)
      await page.getByRole('table', { name: 'Span tree' }).waitFor()
      const stops = await tabThrough(page, (s) => s.href.startsWith('#/dataset/'))
      assertInOrder(stops, ['link:qa v1', 'link:sentiment'])
      assert.match(stops[stops.length - 1].href, /^#\/dataset\//, `a dataset hash is reached: ${stops.map(label).join(', ')}`)
      await assertKeyboardOnly(page)
      await page.keyboard.press('Enter')
      await page.getByRole('heading', { name: `Dataset version ${sha.slice(0, 12)}` }).waitFor()
      await page.getByRole('list', { name: 'Runs' }).waitFor()
      await page.goto(`${ui.url}/#/dataset/${sha}?limit=1`)
      await page.getByRole('list', { name: 'Runs' }).waitFor()
      const listings = await tabThrough(page, (s) => s.name === 'Next runs that logged it')
      assertInOrder(listings, [`link:${baseline.slice(0, 8)}`, 'link:Next runs that logged it'])
      await assertKeyboardOnly(page)
      await page.keyboard.press('Enter')
      await page.waitForURL(/uses=/)
      await page.getByRole('link', { name: better.slice(0, 8) }).waitFor()
    })
  })
})
