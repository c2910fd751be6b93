import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { Leaderboard } from '../../src/compare/leaderboard.js'
import { renderHtmlReport } from '../../src/report/html-report.js'
import { escapeMarkdown, renderMarkdownReport } from '../../src/report/markdown-report.js'
import { criticalDifferenceDiagram, forestPlot } from '../../src/report/svg-plots.js'
import { openHarness, type Harness } from '../sdk/harness.js'
import { logBinaryRun, logMultiRun, writeDataset, type LoggedRun } from './fixtures.js'
import { runCliOn } from '../cli/run-cli.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const VERSION = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).version as string
const EVIL = '<script>alert(1)</script>'

const cli = runCliOn

/** No resource is fetched: no src/href attribute at all, no script, no @import or url(). */
function assertSelfContained(html: string): void {
  assert.doesNotMatch(html, /\s(src|href)\s*=/i)
  assert.doesNotMatch(html, /<script/i)
  assert.doesNotMatch(html, /@import|url\(/i)
  const links = [...html.matchAll(/https?:\/\/[^\s'"<>]+/g)].map((m) => m[0])
  assert.deepEqual([...new Set(links)], ['http://www.w3.org/2000/svg'], 'the only URL is the SVG namespace name, which is never fetched')
}

describe('reports', () => {
  let h: Harness
  let runs: LoggedRun[]
  let sha: string
  let board: Leaderboard

  before(async () => {
    h = await openHarness()
    const file = writeDataset(h, 'test', 'id\nheld out\n')
    const common = { dataset: 'final', file, n: 400, role: 'test' as const, experiment: 'rep' }
    runs = [
      await logBinaryRun(h, { ...common, name: 'baseline', seed: 1, skill: 0.6, params: { config: 'base' } }),
      await logBinaryRun(h, { ...common, name: EVIL, seed: 2, skill: 0.75, params: { config: 'evil' } }),
      await logBinaryRun(h, { ...common, name: 'cand-seed3', seed: 3, skill: 0.62, params: { config: 'cand' } }),
      await logBinaryRun(h, { ...common, name: 'cand-seed4', seed: 4, skill: 0.64, params: { config: 'cand' } }),
    ]
    sha = (await h.assay.getRun(runs[0].id)).datasets[0].sha256
    board = await h.assay.leaderboard({ experiment: 'rep', datasets: ['final'], ladder: true, actor: 'tester' })
  })
  after(() => h.cleanup())

  it('HTML is self-contained, escapes run names and carries run ids, dataset hashes, seeds and the assay version', () => {
    const html = renderHtmlReport({ kind: 'leaderboard', leaderboard: board })
    assertSelfContained(html)
    assert.ok(!html.includes(EVIL))
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'))
    for (const r of runs) assert.ok(html.includes(r.id), `run id ${r.id}`)
    assert.ok(html.includes(sha))
    for (const seed of ['1', '2', '3', '4']) assert.match(html, new RegExp(`<td>${seed}</td>`))
    assert.ok(html.includes(`assay ${VERSION}`))
    // Figures: forest plot, difference histogram, seed spread; each carries provenance in its desc.
    for (const kind of ['forest-plot', 'paired-difference-histogram', 'seed-spread']) assert.ok(html.includes(`data-figure='${kind}'`), kind)
    const figures = [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0])
    assert.ok(figures.length >= 3)
    for (const svg of figures) {
      assert.ok(svg.includes(`assay ${VERSION}`), 'visible version')
      assert.ok(svg.includes(sha.slice(0, 12)), 'visible dataset hash')
      for (const r of runs) assert.ok(svg.includes(r.id), 'full run ids in the figure metadata')
    }
    assert.match(html, /Holdout ledger/)
    assert.match(html, /Ladder/)
  })

  it('Markdown carries the same provenance and escapes run names', () => {
    const md = renderMarkdownReport({ kind: 'leaderboard', leaderboard: board })
    assert.ok(!md.includes(EVIL))
    assert.ok(md.includes('&lt;script&gt;alert\\(1\\)&lt;/script&gt;') || md.includes('&lt;script&gt;alert(1)&lt;/script&gt;'))
    for (const r of runs) assert.ok(md.includes(r.id))
    assert.ok(md.includes(sha))
    assert.ok(md.includes(`assay ${VERSION}`))
    assert.match(md, /\| run id \| seed \|/)
    assert.match(md, /p \(raw\) \| p \(holm\)/)
    // Every results table (board, ladder, holdout ledger) is followed by the provenance line.
    const lines = md.split('\n')
    const end = lines.findIndex((l) => l === '### Provenance')
    const after: string[] = []
    for (let i = 0; i < end; i++) {
      if (lines[i]!.startsWith('|') && !(lines[i + 1] ?? '').startsWith('|')) after.push(lines.slice(i + 1).find((l) => l.trim() !== '') ?? '')
    }
    assert.equal(after.length, 3)
    for (const line of after) {
      assert.match(line, /^<sub>Provenance: /)
      for (const r of runs) assert.ok(line.includes(r.id.slice(0, 8)))
      assert.ok(line.includes(sha.slice(0, 12)))
      assert.match(line, /seeds 1, 2, 3, 4/)
      assert.ok(line.includes(`assay ${VERSION}`))
    }
    assert.equal(escapeMarkdown('a|b'), 'a\\|b')
  })

  it('renders a comparison (from assay.compare) with a paired-difference histogram', async () => {
    const comparison = await h.assay.compare(runs[1].id, runs[0].id, { metric: 'correct', dataset: 'final', resamples: 200 })
    const input = { kind: 'comparison' as const, comparison, differences: { bins: [{ lo: -1, hi: -1, count: 20 }, { lo: 0, hi: 0, count: 300 }, { lo: 1, hi: 1, count: 80 }] } }
    const html = renderHtmlReport(input)
    assertSelfContained(html)
    assert.ok(html.includes(runs[0].id) && html.includes(runs[1].id) && html.includes(sha) && html.includes(`assay ${VERSION}`))
    assert.ok(html.includes("data-figure='paired-difference-histogram'"))
    assert.ok(!html.includes(EVIL))
    const md = renderMarkdownReport(input)
    assert.ok(md.includes(runs[0].id) && md.includes(sha) && md.includes(`assay ${VERSION}`))
  })

  it('the critical-difference diagram names every system and draws the CD bar', () => {
    const names = ['alpha', 'beta', '<gamma & co>', 'delta']
    const svg = criticalDifferenceDiagram(
      names.map((name, i) => ({ name, averageRank: 1 + i * 0.7 })),
      { title: 'CD', criticalDifference: 1.2, cliques: [[0, 1], [2, 3]], provenance: { assayVersion: VERSION, runIds: ['r'.repeat(32)], datasets: [{ name: 'd', sha256: 'f'.repeat(64) }], seeds: [{ runId: 'r'.repeat(32), seed: 5 }] } },
    )
    for (const name of ['alpha', 'beta', '&lt;gamma &amp; co&gt;', 'delta']) assert.ok(svg.includes(name), name)
    assert.match(svg, /class='cd-bar'/)
    assert.match(svg, /CD = 1\.2/)
    assert.ok(svg.includes('r'.repeat(32)) && svg.includes(`assay ${VERSION}`))
    const forest = forestPlot([{ label: EVIL, estimate: 0.1, ci: [0, 0.2] }], { title: EVIL, xLabel: 'x', provenance: { assayVersion: VERSION, runIds: [], datasets: [], seeds: [] } })
    assert.ok(!forest.includes(EVIL))
  })

  it('a multi-dataset leaderboard report carries the CD diagram', async () => {
    const files = ['m1', 'm2', 'm3'].map((name) => ({ name, file: writeDataset(h, name, `id\n${name}\n`) }))
    for (const [i, sys] of ['one', 'two', 'three'].entries()) await logMultiRun(h, { name: sys, seed: i, n: 30, datasets: files.map((f) => ({ ...f, mean: 1 - i * 0.1 })) })
    const multi = await h.assay.leaderboard({ experiment: 'exp', datasets: ['m1', 'm2', 'm3'], metric: 'score' })
    const html = renderHtmlReport({ kind: 'leaderboard', leaderboard: multi })
    assertSelfContained(html)
    assert.ok(html.includes("data-figure='critical-difference'"))
    for (const sys of ['one', 'two', 'three']) assert.ok(html.includes(sys))
  })

  it('CLI: leaderboard --json (assay.leaderboard/v1) and report --json (assay.report/v1) writing both files', async () => {
    const lb = await cli(h.storeDir, 'leaderboard', '--experiment', 'rep', '--dataset', 'final', '--json', '--adjust', 'BH')
    assert.equal(lb.code, 0, lb.err)
    const parsed = JSON.parse(lb.out)
    assert.equal(parsed.schema, 'assay.leaderboard/v1')
    assert.equal(parsed.adjustment, 'BH')
    assert.equal(parsed.boards[0].entries.length, 3)
    const text = await cli(h.storeDir, 'leaderboard', '--experiment', 'rep', '--dataset', 'final')
    assert.equal(text.code, 0, text.err)
    assert.match(text.out, /RANK +RUN +NAME/)
    const dir = path.join(h.dir, 'out')
    const rep = await cli(h.storeDir, 'report', '--leaderboard', '--experiment', 'rep', '--dataset', 'final', '-o', dir, '--json')
    assert.equal(rep.code, 0, rep.err)
    const report = JSON.parse(rep.out)
    assert.equal(report.schema, 'assay.report/v1')
    assert.equal(report.kind, 'leaderboard')
    assert.deepEqual(
      report.files.map((f: { format: string }) => f.format),
      ['markdown', 'html'],
    )
    assertSelfContained(readFileSync(path.join(dir, 'assay-report.html'), 'utf8'))
    assert.ok(readFileSync(path.join(dir, 'assay-report.md'), 'utf8').includes(sha))
    const cmp = await cli(h.storeDir, 'report', runs[1].id, runs[0].id, '--metric', 'correct', '--dataset', 'final', '--format', 'html')
    assert.equal(cmp.code, 0, cmp.err)
    assertSelfContained(cmp.out)
    assert.ok(cmp.out.includes("data-figure='paired-difference-histogram'"))
    const bad = await cli(h.storeDir, 'leaderboard', '--dataset', 'final', '--adjust', 'sidak')
    assert.equal(bad.code, 2)
    assert.match(bad.err, /ASSAY_INVALID_ARGUMENT/)
  })
})

describe('report: comparison options', () => {
  let h: Harness
  let a: LoggedRun[]
  let b: LoggedRun[]

  before(async () => {
    h = await openHarness()
    const file = writeDataset(h, 'val', 'id\nval\n')
    const common = { dataset: 'val', file, n: 300, experiment: 'opts' }
    a = [
      await logBinaryRun(h, { ...common, name: 'a1', seed: 1, skill: 0.7, params: { config: 'a' } }),
      await logBinaryRun(h, { ...common, name: 'a2', seed: 2, skill: 0.7, params: { config: 'a' } }),
    ]
    b = [
      await logBinaryRun(h, { ...common, name: 'b1', seed: 1, skill: 0.68, params: { config: 'b' } }),
      await logBinaryRun(h, { ...common, name: 'b2', seed: 2, skill: 0.68, params: { config: 'b' } }),
    ]
  })
  after(() => h.cleanup())

  it('passes --margin, --top and --group-by through to the comparison; --seed defaults to the comparison default 0', async () => {
    const r = await cli(h.storeDir, 'report', a[0].id, b[0].id, '--metric', 'correct', '--margin', '0.5', '--top', '2', '--json')
    assert.equal(r.code, 0, r.err)
    const c = JSON.parse(r.out).comparison
    assert.equal(c.margin, 0.5)
    assert.equal(c.verdict, 'equivalent') // any interval of a difference of 0/1 means lies well inside ±0.5
    assert.equal(c.topRegressions.length, 2)
    assert.equal(c.topImprovements.length, 2)
    assert.equal(c.seed, 0)
    const seeded = JSON.parse((await cli(h.storeDir, 'report', a[0].id, b[0].id, '--metric', 'correct', '--seed', '5', '--json')).out).comparison
    assert.equal(seeded.seed, 5)
    const g = await cli(h.storeDir, 'report', a[0].id, b[0].id, '--metric', 'correct', '--group-by', 'config', '--json')
    assert.equal(g.code, 0, g.err)
    const grouped = JSON.parse(g.out).comparison
    assert.equal(grouped.mode, 'two-level')
    assert.deepEqual(grouped.a.runIds, a.map((x) => x.id))
    assert.deepEqual(grouped.b.runIds, b.map((x) => x.id))
    const bad = await cli(h.storeDir, 'report', a[0].id, b[0].id, '--metric', 'correct', '--margin', '-1')
    assert.equal(bad.code, 2)
    assert.match(bad.err, /ASSAY_INVALID_ARGUMENT.*--margin/)
  })

  it('--seed help states the default of each kind; a leaderboard report still uses the leaderboard seed', async () => {
    const help = await cli(h.storeDir, 'report', '--help')
    const line = help.out.split('\n').findIndex((l) => l.includes('--seed'))
    const text = help.out.split('\n').slice(line, line + 2).join(' ')
    assert.match(text, /comparison\s+0/)
    assert.match(text, /leaderboard --bootstrap 20150701/)
    assert.doesNotMatch(text, /default: "20150701"/)
    const lb = await cli(h.storeDir, 'report', '--leaderboard', '--experiment', 'opts', '--dataset', 'val', '--bootstrap', '--json')
    assert.equal(lb.code, 0, lb.err)
    assert.equal(JSON.parse(lb.out).leaderboard.methods.seed, 20150701)
  })
})

describe('report: Markdown comparison tables', () => {
  let h: Harness
  let a: string
  let b: string
  let sha: string
  before(async () => {
    h = await openHarness()
    const file = writeDataset(h, 'val', 'id\nmd\n')
    // Continuous scores with known per-example differences: d_i = A − B = (i − 10) / 100 for i = 0..19.
    const records = (shift: (i: number) => number): { id: string; scores: Record<string, number> }[] => Array.from({ length: 20 }, (_, i) => ({ id: `q${i}`, scores: { score: 0.5 + shift(i) } }))
    for (const [name, shift] of [['A', (i: number): number => (i - 10) / 100], ['B', (): number => 0]] as const) {
      const run = await h.start({ experiment: 'md', name, seed: name === 'A' ? 11 : 12, params: { config: name }, datasets: [{ name: 'val', path: file, role: 'validation' }] })
      await run.logEval({ dataset: 'val', records: records(shift) })
      await run.end()
      if (name === 'A') a = run.id
      else b = run.id
    }
    sha = (await h.assay.getRun(a)).datasets[0].sha256
  })
  after(() => h.cleanup())

  it('lists the largest improvements as well as the largest regressions', async () => {
    const comparison = await h.assay.compare(a, b, { metric: 'score', top: 3, resamples: 200 })
    const md = renderMarkdownReport({ kind: 'comparison', comparison })
    const section = (title: string): string[] => {
      const lines = md.split('\n')
      const at = lines.findIndex((l) => l.startsWith(`### ${title}`))
      assert.ok(at >= 0, `section ${title}`)
      return lines.slice(at + 1).filter((l, k, all) => l.startsWith('| q') && all.slice(0, k).every((x) => x === '' || x.startsWith('|')))
    }
    // Independently: the largest A − B are q19, q18, q17 (0.09, 0.08, 0.07); the most negative q0, q1, q2.
    assert.deepEqual(section('Largest improvements').map((l) => l.split('|')[1]!.trim()), ['q19', 'q18', 'q17'])
    assert.deepEqual(section('Largest regressions').map((l) => l.split('|')[1]!.trim()), ['q0', 'q1', 'q2'])
    assert.ok(section('Largest improvements')[0]!.includes('| 0.09 |'))
    assert.ok(md.includes(sha))
  })

  it('follows every results table with a provenance line: run ids, dataset hash, seeds, assay version', async () => {
    const comparison = await h.assay.compare(a, b, { metric: 'score', top: 3, resamples: 200 })
    const md = renderMarkdownReport({ kind: 'comparison', comparison })
    const lines = md.split('\n')
    const end = lines.findIndex((l) => l === '### Provenance')
    assert.ok(end > 0)
    // Table blocks before the closing provenance section, and the first non-empty line after each.
    const after: string[] = []
    for (let i = 0; i < end; i++) {
      if (lines[i]!.startsWith('|') && !(lines[i + 1] ?? '').startsWith('|')) after.push(lines.slice(i + 1).find((l) => l.trim() !== '') ?? '')
    }
    assert.equal(after.length, 5) // sides, method, tests, regressions, improvements
    for (const line of after) {
      assert.match(line, /^<sub>Provenance: /)
      for (const id of [a, b]) assert.ok(line.includes(id.slice(0, 8)), `run ${id} in ${line}`)
      assert.ok(line.includes(`val@\`${sha.slice(0, 12)}\``), line)
      assert.match(line, /seeds 11, 12/)
      assert.ok(line.includes(`assay ${VERSION}`))
    }
    // The Sides table names the dataset hash of each side.
    const sides = lines.filter((l) => l.startsWith('| A |') || l.startsWith('| B |'))
    assert.equal(sides.length, 2)
    for (const row of sides) assert.ok(row.includes(sha.slice(0, 16)), row)
  })
})
