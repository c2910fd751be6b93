/**
 * Groups, group charts and seed variance in the web UI, end to end in real headless Chromium
 * (browser-harness.ts) against `assay server` on a real SQLite store: the runs table grouped by
 * params with N, the mean and its interval checked against values worked out here from the
 * fixture's numbers (Student t quantiles from R), two groups drawn on one chart as means with
 * their bands, the variance view, and a token limited to one experiment that sees no other
 * experiment's runs in groups. Every page is checked with axe-core.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Page } from 'playwright-core'
import { formatNumber } from '../../src/number-format.js'
import { binaryRecords, createFixture, type Fixture } from '../compare/helpers.js'
import { accessibilityViolations, browserSkip, browserSuite } from './browser-harness.js'

// > print(qt(0.975, c(2, 4)), digits = 17)   (R)
// [1] 4.3026527297494619 2.7764451051977934
const T975_DF2 = 4.3026527297494619
const T975_DF4 = 2.7764451051977934

describe('groups, group charts and seed variance in headless Chromium', { skip: browserSkip }, () => {
  let fixture: Fixture
  let visionSecret: string
  let readerSecret: string
  const ids: Record<string, string[]> = { a: [], b: [], secret: [] }
  // Group lr=0.1: acc 0.70, 0.74, 0.78 (seeds 1-3); group lr=0.2: acc 0.80 … 0.88 (seeds 1-5).
  const accA = [0.7, 0.74, 0.78]
  const accB = [0.8, 0.82, 0.84, 0.86, 0.88]
  // Eval score "correct" of group lr=0.1 over 20 examples: the first 10, the first 15, all 20 correct.
  const correctA = [(i: number) => i < 10, (i: number) => i < 15, () => true]

  const ui = browserSuite(async (suite) => {
    fixture = await createFixture()
    suite.onClose(() => fixture.dispose())
    const data = fixture.dataset('val.csv', 'id\nex\n')
    const make = async (experiment: string, lr: number, seed: number, acc: number, correct: (i: number) => boolean) => {
      const run = await fixture.assay.startRun({ experiment, name: `lr${lr}-s${seed}`, params: { lr }, seed, datasets: [{ name: 'val', path: data, role: 'validation' }] })
      // loss at steps 0..49 is seed + step / 50: per step the group's runs differ by their seeds.
      for (let s = 0; s < 50; s++) await run.log({ loss: seed + s / 50, ...(s === 1 ? { acc } : {}) }, { step: s })
      await run.logEval({ dataset: 'val', records: binaryRecords(20, correct) })
      await run.end('finished')
      return run.id
    }
    for (const [i, acc] of accA.entries()) ids.a.push(await make('vision', 0.1, i + 1, acc, correctA[i] as (i: number) => boolean))
    for (const [i, acc] of accB.entries()) ids.b.push(await make('vision', 0.2, i + 1, acc, () => true))
    ids.secret.push(await make('secret', 0.1, 4, 0.1, () => false))
    await fixture.assay.close()
    await suite.openStore(fixture.store)
    visionSecret = await suite.readSecret(['vision'], 'vision-reader')
    readerSecret = await suite.readSecret(null, 'reader')
  })

  const groupRow = (page: Page, label: string) => page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: label, exact: true }) })

  it('groups the runs table by params: N, the mean and its interval, the runs and seeds behind them', async () => {
    const page = await ui.signedIn(visionSecret)
    await ui.step(page, 'groups', async () => {
      await page.getByLabel('Group by').fill('params.lr')
      await page.getByLabel('Columns').fill('metrics.acc')
      await page.getByRole('button', { name: 'Apply' }).click()
      await page.getByText('2 groups of 8 finished runs by params.lr').waitFor()
      assert.match(page.url(), /groupBy=params\.lr/, 'the grouping is in the shareable URL')
      assert.deepEqual(await accessibilityViolations(page), [])
      const a = groupRow(page, 'lr=0.1')
      const b = groupRow(page, 'lr=0.2')
      assert.equal(await a.getByRole('link', { name: /the 3 runs of group/ }).innerText(), '3', 'the secret run is in no group of a vision token')
      assert.equal(await b.getByRole('link', { name: /the 5 runs of group/ }).innerText(), '5')
      // mean 0.74, sd 0.04 over 3 seeds; mean 0.84, sd sqrt(0.001) over 5.
      const halfA = T975_DF2 * (0.04 / Math.sqrt(3))
      const halfB = T975_DF4 * (Math.sqrt(0.001) / Math.sqrt(5))
      assert.equal(await a.locator('td[data-metric="acc"]').innerText(), `${formatNumber(0.74)} [${formatNumber(0.74 - halfA)}, ${formatNumber(0.74 + halfA)}]`)
      assert.equal(await b.locator('td[data-metric="acc"]').innerText(), `${formatNumber(0.84)} [${formatNumber(0.84 - halfB)}, ${formatNumber(0.84 + halfB)}]`)
      assert.match(await page.locator('.method').first().innerText(), /Student t interval over runs/)
      // The runs behind the group, each a link to its run, with its seed.
      await a.getByText('3 runs').click()
      const links = await a.locator('.run-list a').evaluateAll((els) => els.map((e) => e.getAttribute('href')))
      assert.deepEqual([...links].sort(), ids.a.map((id) => `#/run/${id}`).sort())
      assert.match(await a.locator('.run-list').innerText(), /seed 1[\s\S]*seed 2[\s\S]*seed 3/)
      // N opens the runs table filtered to the group.
      await a.getByRole('link', { name: /the 3 runs of group/ }).click()
      await page.getByText(/^3 runs on this page matching/).waitFor()
    })
    await page.close()
    const all = await ui.signedIn(readerSecret)
    await ui.step(all, 'groups-unlimited', async () => {
      await all.goto(`${ui.url}/#/runs?groupBy=params.lr&columns=metrics.acc`)
      await all.getByText('2 groups of 9 finished runs by params.lr').waitFor()
      assert.equal(await groupRow(all, 'lr=0.1').getByRole('link', { name: /runs of group/ }).innerText(), '4', 'a token for every experiment groups the secret run too')
    })
  })

  it('draws two groups on one chart, each as its mean with its band', async () => {
    const page = await ui.signedIn(visionSecret)
    await ui.step(page, 'group-chart', async () => {
      await page.goto(`${ui.url}/#/runs?groupBy=params.lr&columns=metrics.acc`)
      await page.getByLabel('pick group lr=0.1').check()
      await page.getByLabel('pick group lr=0.2').check()
      await page.getByRole('link', { name: 'Chart the 2 picked groups' }).click()
      await page.getByRole('heading', { name: 'Charts' }).waitFor()
      const chart = page.getByRole('img', { name: /^chart of loss/ })
      await chart.waitFor()
      const label = (await chart.getAttribute('aria-label')) ?? ''
      assert.match(label, /group lr=0\.1 as its mean with a 95% band over 3 runs/)
      assert.match(label, /group lr=0\.2 as its mean with a 95% band over 5 runs/)
      assert.equal(await chart.getAttribute('data-bands'), '2')
      assert.equal(await chart.locator('canvas').count(), 1)
      // Per step the runs of lr=0.1 are seed + step / 50 for seeds 1, 2, 3: sd 1, so every bucket's interval is 2 t / sqrt(3) wide.
      const caption = page.locator('figure', { has: chart }).locator('figcaption')
      assert.match(await caption.innerText(), new RegExp(`group lr=0\\.1: mean of\\s+3 runs\\s+with its 95% band over 50 buckets of steps; widest interval ${formatNumber((2 * T975_DF2) / Math.sqrt(3)).replace('.', '\\.')}`))
      // The band is filled: the first group's colour (#1f4e99) at 18% opacity covers part of the
      // canvas (its pixels keep their alpha: the canvas itself is transparent).
      type Canvas = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } }
      const filled = await chart.locator('canvas').evaluate((element) => {
        const canvas = element as unknown as Canvas
        const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height)
        const want = [31, 78, 153, Math.round(0.18 * 255)]
        let n = 0
        for (let i = 0; i < data.length; i += 4) if (want.every((w, k) => Math.abs((data[i + k] as number) - w) <= 8)) n++
        return n
      })
      assert.ok(filled > 500, `the band of lr=0.1 fills ${filled} pixels`)
      assert.deepEqual(await accessibilityViolations(page), [])
    })
  })

  it('shows seed variance: per-seed values, the spread, and the shares from seeds and examples', async () => {
    const page = await ui.signedIn(visionSecret)
    await ui.step(page, 'variance', async () => {
      await page.goto(`${ui.url}/#/runs?groupBy=params.lr&columns=metrics.acc`)
      await groupRow(page, 'lr=0.1').getByRole('link', { name: /per-seed values of acc/ }).click()
      await page.getByRole('heading', { name: 'Seed variance' }).waitFor()
      const perSeed = page.getByRole('table', { name: 'Per-seed values' })
      await perSeed.waitFor()
      const rows = await perSeed.locator('tbody tr').allInnerTexts()
      assert.equal(rows.length, 3)
      assert.deepEqual(rows.map((r) => r.split('\t').slice(1, 3).map((c) => c.trim())).sort(), accA.map((v, i) => [String(i + 1), formatNumber(v)]))
      assert.match(await page.getByLabel('variance summary').innerText(), new RegExp(`spread across seeds \\(sd\\)\\s+${formatNumber(0.04).replace('.', '\\.')}`))
      // On the eval score the shares from seeds and from examples are measured.
      await page.getByLabel('Metric').fill('correct')
      await page.getByRole('button', { name: 'Show' }).click()
      await page.getByText('from the eval records of dataset val').waitFor()
      const values = await page.getByRole('table', { name: 'Per-seed values' }).locator('tbody tr').allInnerTexts()
      assert.deepEqual(values.map((r) => r.split('\t')[2]?.trim()).sort(), ['0.5', '0.75', '1'], '10, 15 and 20 of 20 correct')
      const seeds = Number.parseFloat(await page.locator('[data-share="seeds"]').innerText())
      const examples = Number.parseFloat(await page.locator('[data-share="examples"]').innerText())
      assert.ok(seeds > 0 && examples > 0 && Math.abs(seeds + examples - 100) < 0.2, `shares ${seeds}% + ${examples}%`)
      assert.deepEqual(await accessibilityViolations(page), [])
    })
  })

  it('keeps another experiment out of group charts and variance for a limited token', async () => {
    const page = await ui.signedIn(visionSecret)
    await ui.step(page, 'groups-access', async () => {
      await page.goto(`${ui.url}/#/charts?groups=${encodeURIComponent(JSON.stringify([{ label: 'mixed', runs: [ids.a[0], ids.secret[0]] }]))}&keys=loss`)
      assert.match(await page.getByRole('alert').innerText(), /ASSAY_FORBIDDEN/)
      await page.goto(`${ui.url}/#/variance?runs=${ids.secret[0]}&metric=acc`)
      await page.reload()
      assert.match(await page.getByRole('alert').innerText(), /ASSAY_FORBIDDEN/)
    })
  })
})
