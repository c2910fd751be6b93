/**
 * The Leaderboard view's ranking across datasets in real headless Chromium (Debian's
 * /usr/bin/chromium through playwright-core) against `assay server` over a real SQLite store:
 * three runs (systems, the default `systemBy` run) of one experiment, each evaluated on three
 * datasets where a scores above b above c everywhere, the third dataset declared a holdout. The
 * critical-difference diagram (average ranks, CD, clique bars) and the holdout ledger reads are
 * read against `assay leaderboard --json` on the same store; axe-core checks the page.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Leaderboard } from '../../src/compare/leaderboard.js'
import { formatNumber } from '../../src/number-format.js'
import type { EvalRecord } from '../../src/record/types.js'
import { runCliOn } from '../cli/run-cli.js'
import { createFixture, uniforms, type Fixture } from '../compare/helpers.js'
import { accessibilityViolations, browserSkip, browserSuite } from './browser-harness.js'

const EXPERIMENT = 'ranked'
const DATASETS = ['d1', 'd2', 'd3'] as const
const HOLDOUT = 'd3'
/** System → its score level; the noise (< 0.05) never changes the order on any dataset. */
const SYSTEMS = [
  { name: 'sys-a', level: 0.8 },
  { name: 'sys-b', level: 0.6 },
  { name: 'sys-c', level: 0.4 },
] as const
const EXAMPLES = 40

/** The diagram's label of a system, as src/ui/figures.tsx writes it. */
const label = (name: string, averageRank: number): string => `${name.length > 24 ? `${name.slice(0, 23)}…` : name} (${formatNumber(averageRank, 3)})`

describe('Leaderboard ranking across datasets in headless Chromium', { skip: browserSkip }, () => {
  let fixture: Fixture
  let secret: string
  const runIds: string[] = []

  const ui = browserSuite(async (suite) => {
    fixture = await createFixture()
    suite.onClose(() => fixture.dispose())
    const paths = Object.fromEntries(DATASETS.map((d) => [d, fixture.dataset(`${d}.csv`, `id\n${d}-content\n`)]))
    for (const [s, system] of SYSTEMS.entries()) {
      const run = await fixture.assay.startRun({
        experiment: EXPERIMENT,
        name: system.name,
        params: { config: system.name },
        seed: s + 1,
        datasets: DATASETS.map((d) => ({ name: d, path: paths[d], role: d === HOLDOUT ? ('holdout' as const) : ('validation' as const) })),
      })
      for (const [j, d] of DATASETS.entries()) {
        const u = uniforms(1000 * (s + 1) + j, EXAMPLES)
        const records: EvalRecord[] = u.map((x, i) => ({ id: `ex-${i}`, scores: { score: system.level - 0.05 * j + 0.05 * x } }))
        await run.logEval({ dataset: d, records })
      }
      await run.end('finished')
      runIds.push(run.id)
    }
    await fixture.assay.close()
    await suite.openStore(fixture.store)
    secret = await suite.readSecret([EXPERIMENT], 'ranked-reader')
  })

  it('draws the critical-difference diagram and the holdout reads of assay leaderboard --json', async () => {
    const page = await ui.signedIn(secret)
    const query = `dataset=${DATASETS.join(',')}&experiment=${EXPERIMENT}&metric=score`
    await ui.step(page, 'leaderboard-ranking', async () => {
      const figure = page.locator('svg[data-figure="critical-difference"]')
      // Two page loads, each answered before the next: the server reads the holdout twice.
      await page.goto(`${ui.url}/#/leaderboard?${query}`)
      await figure.waitFor()
      await page.reload()
      await figure.waitFor()
      const holdoutReads = page.getByRole('table', { name: new RegExp(`^Holdout ledger reads of ${HOLDOUT}`) }).locator('td.holdout-reads')
      await holdoutReads.first().waitFor()
      const shownReads = await holdoutReads.allInnerTexts()
      const systemLabels = await figure.locator('g.system text').allTextContents()
      const cdText = await figure.locator('g.cd-bar text').textContent()
      const cliqueBars = await figure.locator('line.clique').count()
      const browserReads = 2

      // The CLI on the same store: its own read of the holdout is the one after the browser's.
      const cli = await runCliOn(fixture.store, 'leaderboard', '--dataset', DATASETS.join(','), '--experiment', EXPERIMENT, '--metric', 'score', '--json')
      assert.equal(cli.code, 0, cli.err)
      const expected = JSON.parse(cli.out) as Leaderboard
      const ranking = expected.ranking
      assert.ok(ranking !== null, 'the CLI ranks across the three datasets')
      assert.deepEqual(
        ranking.datasets.map((d) => d.name),
        [...DATASETS],
      )
      // The ranking is the one the fixture fixes: a, b, c with ranks 1, 2, 3 on every dataset.
      assert.deepEqual(
        ranking.systems.map((s) => [s.runIds, Number(s.averageRank)]),
        runIds.map((id, i) => [[id], i + 1]),
      )
      assert.deepEqual(
        systemLabels,
        ranking.systems.map((s) => label(s.system, Number(s.averageRank))),
      )
      assert.equal(systemLabels.length, SYSTEMS.length)
      assert.equal(cdText, `CD = ${formatNumber(Number(ranking.nemenyi.criticalDifference), 3)}`)
      const joined = ranking.cliques.filter((c) => c.length >= 2).length
      assert.ok(joined >= 1, 'with 3 datasets the CD joins neighbouring systems')
      assert.equal(cliqueBars, joined)

      // Holdout ledger: only d3 is a holdout; its reads are the browser's loads plus the CLI's one.
      const boards = expected.boards.filter((b) => b.holdout.length > 0)
      assert.deepEqual(
        boards.map((b) => b.dataset.name),
        [HOLDOUT],
      )
      const jsonReads = boards[0].holdout.map((h) => h.reads)
      assert.deepEqual(jsonReads, [browserReads + 1])
      assert.equal(boards[0].holdout[0].entries.length, browserReads + 1)
      assert.deepEqual(shownReads, [String(browserReads)])
      // A reload asks again: the table then shows the count the JSON reported, plus this one read.
      await page.reload()
      await holdoutReads.first().waitFor()
      assert.deepEqual(await holdoutReads.allInnerTexts(), jsonReads.map((r) => String(r + 1)))
      assert.deepEqual(await accessibilityViolations(page), [])
    })
  })
})
