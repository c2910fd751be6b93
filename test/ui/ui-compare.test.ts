/**
 * The Compare and Leaderboard views in real headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core) against `assay server` on a real port over a real SQLite store: two groups of
 * five seeds compared, read against `assay compare --json` run on the same store; the forest plot
 * and the histogram with their counts; an example opened to both sides' eval records; the
 * leaderboard's adjusted p-values read against `assay leaderboard --json`; a token limited to one
 * experiment refused a run of another. axe-core checks every page.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Comparison } from '../../src/compare/comparison-types.js'
import type { Leaderboard } from '../../src/compare/leaderboard.js'
import { formatNumber, formatPValue } from '../../src/number-format.js'
import type { LeaderboardWire } from '../../src/ui/leaderboard-wire.js'
import { runCliOn } from '../cli/run-cli.js'
import { accessibilityViolations, browserSkip, browserSuite } from './browser-harness.js'
import { EXAMPLES, groupFixture, SEEDS, type GroupFixture } from './group-fixture.js'

// The library's leaderboard must fit what the view reads of it (a compile-time check: tsc fails otherwise).
export const leaderboardFitsTheView = (board: Leaderboard): LeaderboardWire => board

const SIDE_A = "filter:experiment = 'vision' and params.config = 'a'"
const SIDE_B = "filter:experiment = 'vision' and params.config = 'b'"

describe('Compare and Leaderboard in headless Chromium', { skip: browserSkip }, () => {
  let g: GroupFixture
  let visionSecret: string

  const ui = browserSuite(async (suite) => {
    g = await groupFixture()
    suite.onClose(() => g.fixture.dispose())
    await suite.openStore(g.fixture.store)
    visionSecret = await suite.readSecret(['vision'], 'vision-reader')
  })

  const compareUrl = (a: string, b: string, metric: string) => `${ui.url}/#/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}&metric=${metric}`

  it('compares two groups as assay compare --json does, with the forest plot, the histogram and an example opened to both sides', async () => {
    const cli = await runCliOn(g.fixture.store, 'compare', SIDE_A, SIDE_B, '--metric', 'score', '--json')
    assert.equal(cli.code, 0, cli.err)
    const expected = JSON.parse(cli.out) as Comparison
    const page = await ui.signedIn(visionSecret)
    await ui.step(page, 'compare-groups', async () => {
      await page.goto(compareUrl(SIDE_A, SIDE_B, 'score'))
      await page.reload()
      const verdict = page.locator('#verdict')
      await verdict.waitFor()
      assert.equal(expected.verdict, 'better')
      assert.equal(await verdict.innerText(), 'A is better than B')
      assert.equal(await page.locator('.comparison .p-value').innerText(), formatPValue(expected.pValue))
      const text = await page.locator('.comparison').innerText()
      assert.ok(text.includes(expected.method), 'the method is named')
      assert.ok(text.includes(`[${formatNumber((expected.ci as [number, number])[0])}, ${formatNumber((expected.ci as [number, number])[1])}]`))
      assert.match(text, new RegExp(`Sample sizes\\s+A ${SEEDS.length}, B ${SEEDS.length} runs, ${EXAMPLES} examples every run scored`))
      // Forest plot: one row per run of both sides and one pooled row per side.
      const forest = page.locator('svg[data-figure="forest-plot"]').first()
      assert.equal(await forest.locator('.forest-row').count(), 2 * SEEDS.length + 2)
      assert.equal(await forest.locator('.forest-row .interval').count(), 2 * SEEDS.length + 2)
      assert.equal(await page.getByRole('table', { name: 'Forest plot rows' }).locator('tbody tr').count(), 2 * SEEDS.length + 2)
      // Histogram: its bins count every example once.
      const counts = await page.locator('svg[data-figure="paired-difference-histogram"] rect.bin').evaluateAll((bins) => bins.map((b) => Number(b.getAttribute('data-count'))))
      assert.equal(counts.reduce((s, c) => s + c, 0), EXAMPLES)
      assert.match(await page.locator('.histogram-caption').innerText(), new RegExp(`^${EXAMPLES} differences`))
      // The most improved example opens every run's record of it, A's and B's side by side.
      const improved = page.getByRole('region', { name: 'Improved most' })
      const first = improved.locator('details').first()
      const id = (await first.locator('summary code').innerText()).trim()
      await first.locator('summary').click()
      const table = page.getByRole('table', { name: `Eval records of example ${id}` })
      await table.waitFor()
      const header = await table.locator('thead th').allInnerTexts()
      assert.equal(header.length, 1 + 2 * SEEDS.length)
      assert.equal(header.filter((h) => h.startsWith('A ')).length, SEEDS.length)
      assert.equal(header.filter((h) => h.startsWith('B ')).length, SEEDS.length)
      const scoreCells = await table.getByRole('row', { name: /scores\.score/ }).locator('td').allInnerTexts()
      const runs = [...g.a, ...g.b]
      assert.deepEqual(
        scoreCells,
        runs.map((run) => formatNumber(g.records.get(run)?.find((r) => r.id === id)?.scores.score as number)),
      )
      assert.deepEqual(await accessibilityViolations(page), [])
    })
  })

  it('shows the leaderboard with the adjusted p-values of assay leaderboard --json', async () => {
    const page = await ui.signedIn(visionSecret)
    await ui.step(page, 'leaderboard', async () => {
      await page.goto(`${ui.url}/#/leaderboard?dataset=val&experiment=vision&metric=score`)
      await page.reload()
      const table = page.getByRole('table', { name: 'Leaderboard on val' })
      await table.waitFor()
      const cli = await runCliOn(g.fixture.store, 'leaderboard', '--dataset', 'val', '--experiment', 'vision', '--metric', 'score', '--json')
      assert.equal(cli.code, 0, cli.err)
      const expected = JSON.parse(cli.out) as Leaderboard
      const entries = expected.boards[0].entries
      assert.deepEqual(await table.locator('td.p-adjusted').allInnerTexts(), entries.map((e) => formatPValue(e.adjustedPValue)))
      assert.deepEqual(await table.locator('td.p-raw').allInnerTexts(), entries.map((e) => formatPValue(e.pValue)))
      assert.equal(await page.locator('svg[data-figure="forest-plot"] .forest-row').count(), entries.length)
      assert.deepEqual(await accessibilityViolations(page), [])
    })
  })

  it('refuses a limited token a run of another experiment, alone or listed in a group; its filter groups hold only its runs', async () => {
    const page = await ui.signedIn(visionSecret)
    await ui.step(page, 'compare-forbidden', async () => {
      await page.goto(compareUrl(g.a[0], g.hidden, 'score'))
      await page.reload()
      assert.match(await page.getByRole('alert').innerText(), /ASSAY_FORBIDDEN/)
      await page.goto(compareUrl(`${g.a[1]},${g.hidden}`, SIDE_B, 'score'))
      await page.reload()
      assert.match(await page.getByRole('alert').innerText(), /ASSAY_FORBIDDEN/)
      // The secret run matches this filter too; for this token it is not in the group.
      await page.goto(compareUrl("filter:params.config = 'a'", SIDE_B, 'score'))
      await page.reload()
      const forest = page.locator('svg[data-figure="forest-plot"]').first()
      await forest.waitFor()
      assert.equal(await forest.locator('.forest-row').count(), 2 * SEEDS.length + 2)
      assert.doesNotMatch(await page.locator('main').innerText(), new RegExp(g.hidden.slice(0, 8)))
    })
  })
})
