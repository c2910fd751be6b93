import type { Comparison } from '../compare/comparison-types.js'
import type { DatasetBoard, Leaderboard } from '../compare/leaderboard.js'
import { allWarnings, comparisonExtras, fmtCi, fmtTime, provenanceOf, seedGroupsOf, testPValues, type ReportInput } from './report-model.js'
import { criticalDifferenceDiagram, differenceHistogram, escapeXml, forestPlot, seedStrip, type FigureProvenance } from './svg-plots.js'
import { formatNumber, formatPValue } from '../number-format.js'

/**
 * One self-contained HTML file: inline CSS and inline SVG figures, no script, no external URL.
 * Figures: a forest plot of differences with intervals, the paired-difference distribution, the seed
 * spread, and (across datasets) the critical-difference diagram. Every figure and table carries the
 * provenance (run ids, dataset hashes, seeds, assay version). Every user string is escaped.
 */

const h = escapeXml

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#111;max-width:1000px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:20px 0 6px}
table{border-collapse:collapse;margin:8px 0 4px;font-size:13px}th,td{border:1px solid #d8dbe0;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f6}td.num{text-align:right;font-variant-numeric:tabular-nums}code{font-size:12px;background:#f4f4f6;padding:0 3px}
.verdict{font-size:16px;padding:8px 12px;border-radius:6px;background:#eef3fb;display:inline-block}
.better{color:#1f7a3a;font-weight:600}.worse{color:#b3261e;font-weight:600}.warn{background:#fff6e0;border-left:4px solid #e0a100;padding:6px 10px;margin:6px 0}
.prov{font-size:11px;color:#555;margin:2px 0 14px}figure{margin:12px 0}figcaption{font-size:12px;color:#444}svg{max-width:100%;height:auto}
`

export function renderHtmlReport(input: ReportInput): string {
  const p = provenanceOf(input)
  const title = input.kind === 'comparison' ? `assay comparison: ${input.comparison.metric}` : `assay leaderboard: ${input.leaderboard.metric}`
  const body = input.kind === 'comparison' ? comparisonBody(input.comparison, input, p) : leaderboardBody(input.leaderboard, input, p)
  const warnings = allWarnings(input)
  const generated = input.generatedAt ?? (input.kind === 'leaderboard' ? input.leaderboard.generatedAt : Date.now())
  return [
    '<!DOCTYPE html>',
    `<html lang='en'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width, initial-scale=1'>`,
    `<meta name='generator' content='assay ${h(p.assayVersion)}'><title>${h(title)}</title><style>${CSS}</style></head><body>`,
    `<h1>${h(title)}</h1><p class='prov'>assay ${h(p.assayVersion)} · generated ${h(fmtTime(generated))}</p>`,
    warnings.length > 0 ? `<h2>Warnings</h2>${warnings.map((w) => `<div class='warn'><b>${h(w.code)}</b>: ${h(w.message)}</div>`).join('')}` : '',
    body,
    provenanceHtml(p),
    '</body></html>',
    '',
  ].join('\n')
}

function provLine(p: FigureProvenance): string {
  const seeds = [...new Set(p.seeds.map((s) => s.seed))].join(', ')
  return `<p class='prov'>runs ${p.runIds.map((id) => `<code>${h(id.slice(0, 8))}</code>`).join(' ')} · data ${p.datasets.map((d) => `${h(d.name)}@<code>${h(d.sha256.slice(0, 12))}</code>`).join(', ')} · seeds ${h(seeds)} · assay ${h(p.assayVersion)}</p>`
}

function tableHtml(header: string[], rows: string[][], numeric: number[] = []): string {
  const num = new Set(numeric)
  return `<table><thead><tr>${header.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((c, i) => `<td${num.has(i) ? " class='num'" : ''}>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`
}

function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${caption}</figcaption></figure>`
}

function comparisonBody(c: Comparison, input: ReportInput & { kind: 'comparison' }, p: FigureProvenance): string {
  const cls = c.verdict === 'better' ? 'better' : c.verdict === 'worse' ? 'worse' : ''
  const out: string[] = []
  out.push(
    `<p class='verdict'>Verdict: <span class='${cls}'>${h(c.verdict)}</span> — A − B = <b>${h(formatNumber(c.estimate))}</b>, ${Math.round(c.confidenceLevel * 100)}% CI ${h(fmtCi(c.ci))}, p = ${h(formatPValue(c.pValue))} (${h(c.higherIsBetter ? 'higher' : 'lower')} is better)</p>`,
  )
  out.push(
    '<h2>Sides</h2>',
    tableHtml(
      ['side', 'label', 'run ids', 'seeds', 'dataset sha256', 'n', `mean ${h(c.metric)}`],
      [c.a, c.b].map((s, i) => [i === 0 ? 'A' : 'B', h(s.label), s.runIds.map((id) => `<code>${h(id)}</code>`).join('<br>'), h(s.seeds.join(', ')), s.datasetSha256 === null ? '–' : `<code>${h(s.datasetSha256)}</code>`, String(s.n), h(formatNumber(s.mean))]),
      [5, 6],
    ),
    provLine(p),
    '<h2>Method</h2>',
    tableHtml(
      ['', ''],
      [
        ['mode', h(c.mode)],
        ['method', h(c.method)],
        ['confidence level / alpha', `${c.confidenceLevel} / ${c.alpha}`],
        ['resamples / seed', `${c.resamples} / ${c.seed}`],
        ['pairs (lost A, lost B)', `${c.sampleSizes.pairs ?? '–'} (${c.sampleSizes.lostA}, ${c.sampleSizes.lostB})`],
        ['effect size', c.effectSize === null ? '–' : `${h(c.effectSize.name)} = ${h(formatNumber(c.effectSize.value))}`],
        ['equivalence margin', c.margin === null ? 'none' : h(formatNumber(c.margin))],
      ],
    ),
    provLine(p),
  )
  const tests = testPValues(c)
  if (tests.length > 0) out.push('<h2>Tests</h2>', tableHtml(['test', 'p'], tests.map((t) => [h(t.method), h(formatPValue(t.pValue))]), [1]), provLine(p))
  out.push(
    '<h2>Figures</h2>',
    figure(
      forestPlot([{ label: `${c.a.label} − ${c.b.label}`, estimate: c.estimate, ci: c.ci ?? [c.estimate, c.estimate], emphasis: true }], { title: `Difference in ${c.metric} (A − B) with ${Math.round(c.confidenceLevel * 100)}% interval`, xLabel: `${c.metric}: A − B`, provenance: p }),
      'Forest plot: the estimate (square) and its interval; the dashed line is no difference.',
    ),
  )
  if (input.differences && input.differences.bins.length > 0) {
    out.push(figure(differenceHistogram(input.differences.bins, { title: `Per-example differences in ${c.metric} (A − B)`, xLabel: 'A − B per example', provenance: p }), 'Distribution of the paired per-example differences.'))
  } else out.push(`<p class='prov'>No per-example differences: ${h(c.mode)} comparison.</p>`)
  const groups = seedGroupsOf(input)
  if (groups.length > 0) out.push(figure(seedStrip(groups, { title: `Seed spread of ${c.metric}`, xLabel: c.metric, provenance: p }), 'One dot per seed (run); the red tick is the group mean.'))
  else out.push(`<p class='prov'>One run per side: no seed spread to show.</p>`)
  if (c.topRegressions.length > 0 || c.topImprovements.length > 0) {
    out.push(
      '<h2>Examples that moved most</h2>',
      tableHtml(['', 'example', 'A', 'B', 'A − B'], [
        ...c.topRegressions.map((d) => ['regression', h(d.id), h(formatNumber(d.a)), h(formatNumber(d.b)), h(formatNumber(d.delta))]),
        ...c.topImprovements.map((d) => ['improvement', h(d.id), h(formatNumber(d.a)), h(formatNumber(d.b)), h(formatNumber(d.delta))]),
      ], [2, 3, 4]),
      provLine(p),
    )
  }
  const holdout = comparisonExtras(c).holdout ?? []
  if (holdout.length > 0) {
    out.push('<h2>Holdout ledger</h2>', tableHtml(['dataset', 'sha256', 'reads', 'budget'], holdout.map((x) => [h(x.datasetName), `<code>${h(x.datasetSha256)}</code>`, String(x.reads), `${x.budget}${x.overBudget ? ' <b>(over budget)</b>' : ''}`]), [2, 3]), provLine(p))
  }
  return out.join('\n')
}

function leaderboardBody(l: Leaderboard, input: ReportInput & { kind: 'leaderboard' }, p: FigureProvenance): string {
  const out: string[] = []
  out.push(
    `<p>${h(l.metric)}, ${l.higherIsBetter ? 'higher' : 'lower'} is better. Each candidate against the baseline: ${h(l.methods.binary)}; ${h(l.methods.continuous)}. Interval: ${h(l.methods.interval)} at ${Math.round(l.confidenceLevel * 100)}%. p-values adjusted with ${h(l.adjustment)}; significant at ${l.alpha}.</p>`,
  )
  for (const b of l.boards) out.push(boardHtml(b, l, p))
  const groups = seedGroupsOf(input)
  if (groups.some((g) => g.points.length > 1)) {
    out.push(figure(seedStrip(groups, { title: `Seed spread of ${l.metric} by configuration`, xLabel: l.metric, provenance: p }), 'One dot per run (seed) of each configuration; the red tick is the mean.'))
  } else out.push(`<p class='prov'>One seed per configuration: no seed spread to show.</p>`)
  if (l.ranking !== null) {
    const rk = l.ranking
    out.push(
      `<h2>Across ${rk.datasets.length} datasets</h2>`,
      tableHtml(
        ['rank', 'system', 'average rank', ...rk.datasets.map((d) => `${h(d.name)}<br><code>${h(d.sha256.slice(0, 12))}</code>`)],
        rk.systems.map((s, i) => [String(i + 1), h(s.system), h(formatNumber(s.averageRank, 3)), ...s.means.map((m) => h(formatNumber(m)))]),
        [0, 2, ...rk.datasets.map((_, j) => 3 + j)],
      ),
      `<p>${
        rk.friedman === null
          ? `Friedman test not computed: ${h(rk.note ?? '')}.`
          : `Friedman χ² = ${h(formatNumber(rk.friedman.statistic))} (df ${rk.friedman.df}), p = ${h(formatPValue(rk.friedman.pValue))}; Iman–Davenport F = ${h(formatNumber(rk.friedman.imanDavenport.statistic))}, p = ${h(formatPValue(rk.friedman.imanDavenport.pValue))}.`
      } Nemenyi CD = ${h(formatNumber(rk.nemenyi.criticalDifference, 3))} at α = ${rk.alpha}.</p>`,
      provLine(p),
      figure(
        criticalDifferenceDiagram(
          rk.systems.map((s) => ({ name: s.system, averageRank: s.averageRank })),
          { title: `Critical-difference diagram: ${l.metric} over ${rk.datasets.length} datasets`, criticalDifference: rk.nemenyi.criticalDifference, cliques: rk.cliques, provenance: p, subtitle: `${rk.systems.length} systems; thick bars join systems not told apart (average ranks within CD)` },
        ),
        'Average ranks (1 = best, left); the red bar is the Nemenyi critical difference.',
      ),
    )
  }
  return out.join('\n')
}

function boardHtml(b: DatasetBoard, l: Leaderboard, p: FigureProvenance): string {
  const out: string[] = []
  out.push(
    `<h2>${h(b.dataset.name)} <small>(${h(b.dataset.role)})</small></h2>`,
    `<p>Dataset sha256 <code>${h(b.dataset.sha256)}</code>. Baseline <b>${h(b.baseline.name)}</b> <code>${h(b.baseline.runId)}</code> (seed ${b.baseline.seed}, ${h(b.baseline.rule)}), mean ${h(formatNumber(b.baseline.mean))} over ${b.baseline.n} examples. ${b.adjustment.hypotheses} hypotheses; ${h(b.adjustment.method)}.</p>`,
    tableHtml(
      ['rank', 'run', 'name', 'seed', `mean`, 'Δ vs baseline', 'CI', 'p (raw)', `p (${h(l.adjustment)})`, 'verdict', 'test', 'flags'],
      b.entries.map((x) => [
        String(x.rank),
        `<code>${h(x.runId.slice(0, 8))}</code>`,
        h(x.name),
        String(x.seed),
        h(formatNumber(x.mean)),
        h(formatNumber(x.estimate)),
        h(fmtCi(x.ci)),
        h(formatPValue(x.pValue)),
        h(formatPValue(x.adjustedPValue)),
        `<span class='${x.verdict === 'better' ? 'better' : x.verdict === 'worse' ? 'worse' : ''}'>${h(x.verdict)}</span>`,
        h(x.test.method),
        h([...new Set(x.warnings.map((w) => w.code))].join(', ')),
      ]),
      [0, 3, 4, 5, 7, 8],
    ),
    provLine(p),
    figure(
      forestPlot(
        b.entries.map((x) => ({ label: `${x.name} (${x.runId.slice(0, 8)})`, estimate: x.estimate, ci: x.ci ?? [x.estimate, x.estimate], emphasis: x.verdict !== 'inconclusive', note: `p ${formatPValue(x.pValue)} / ${l.adjustment} ${formatPValue(x.adjustedPValue)}` })),
        { title: `${l.metric} on ${b.dataset.name}: each candidate − baseline ${b.baseline.name}`, xLabel: `${l.metric}: candidate − baseline`, provenance: p },
      ),
      'Forest plot of differences from the baseline with intervals; highlighted: significant after adjustment.',
    ),
  )
  const top = b.entries[0]
  if (top !== undefined && top.histogram.bins.length > 0) {
    out.push(figure(differenceHistogram(top.histogram.bins, { title: `Per-example differences: ${top.name} − ${b.baseline.name}`, xLabel: `${l.metric}: candidate − baseline per example`, provenance: p }), 'Distribution of the paired per-example differences of the top candidate.'))
  }
  if (b.ladder !== null) {
    out.push(
      '<h3>Ladder</h3>',
      `<p>${h(b.ladder.rule)}.</p>`,
      tableHtml(
        ['#', 'submission', 'score', 'improvement', 'threshold', 'accepted', 'released best', 'released score'],
        b.ladder.steps.map((s) => [String(s.index + 1), h(s.label), h(formatNumber(s.mean)), h(formatNumber(s.improvement)), h(formatNumber(s.threshold)), s.accepted ? 'yes' : 'no', `<code>${h(s.bestId.slice(0, 8))}</code>`, h(formatNumber(s.releasedScore))]),
        [0, 2, 3, 4, 7],
      ),
      provLine(p),
    )
  }
  if (b.holdout.length > 0) {
    out.push(
      '<h3>Holdout ledger</h3>',
      tableHtml(
        ['dataset version', 'reads', 'budget', 'who', 'when'],
        b.holdout.map((c) => [`<code>${h(c.datasetSha256)}</code>`, String(c.reads), `${c.budget}${c.overBudget ? ' <b>(over budget)</b>' : ''}`, h(c.actors.join(', ')), c.entries.slice(-3).map((x) => h(`${x.actor} ${fmtTime(x.at)}`)).join('<br>')]),
        [1, 2],
      ),
      provLine(p),
    )
  }
  return out.join('\n')
}

function provenanceHtml(p: FigureProvenance): string {
  const seedOf = new Map(p.seeds.map((s) => [s.runId, s.seed]))
  return [
    '<h2>Provenance</h2>',
    `<p>assay ${h(p.assayVersion)}</p>`,
    tableHtml(['dataset', 'sha256'], p.datasets.map((d) => [h(d.name), `<code>${h(d.sha256)}</code>`])),
    tableHtml(['run id', 'seed'], p.runIds.map((id) => [`<code>${h(id)}</code>`, h(String(seedOf.get(id) ?? '–'))])),
  ].join('\n')
}
