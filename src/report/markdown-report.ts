import type { Comparison } from '../compare/comparison-types.js'
import type { DatasetBoard, Leaderboard } from '../compare/leaderboard.js'
import { allWarnings, comparisonExtras, fmtCi, fmtTime, provenanceOf, testPValues, type ReportInput } from './report-model.js'
import type { FigureProvenance } from './svg-plots.js'
import { formatNumber, formatPValue } from '../number-format.js'

/**
 * A comparison or leaderboard as GitHub-flavoured Markdown, fit for a pull-request comment. Every
 * user-supplied string is escaped (HTML entities and Markdown punctuation), so a run name cannot
 * inject markup. Every results table is followed by a provenance line (run ids, dataset hashes,
 * seeds, assay version), as in the HTML report; the closing provenance section lists them in full.
 */

/** Escape a user string for Markdown text and table cells. */
export function escapeMarkdown(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_{}[\]|~]/g, '\\$&')
    .replace(/\r?\n/g, ' ')
}

const e = escapeMarkdown

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n')
}

/** The line after every table: short run ids, dataset name@hash, seeds, assay version. */
export function provenanceLine(p: FigureProvenance): string {
  const seeds = [...new Set(p.seeds.map((x) => x.seed))].join(', ')
  const data = p.datasets.length === 0 ? 'run-level metrics (no dataset hash)' : p.datasets.map((d) => `${e(d.name)}@\`${d.sha256.slice(0, 12)}\``).join(', ')
  return `<sub>Provenance: runs ${p.runIds.map((id) => `\`${id.slice(0, 8)}\``).join(' ')} · data ${data} · seeds ${e(seeds)} · assay ${e(p.assayVersion)}</sub>`
}

export function renderMarkdownReport(input: ReportInput): string {
  const p = provenanceOf(input)
  const parts = input.kind === 'comparison' ? comparisonSections(input.comparison, p) : leaderboardSections(input.leaderboard, p)
  const warnings = allWarnings(input)
  if (warnings.length > 0) parts.push('### Warnings', warnings.map((w) => `- **${w.code}**: ${e(w.message)}`).join('\n'))
  parts.push(provenanceSection(input))
  return `${parts.join('\n\n')}\n`
}

function comparisonSections(c: Comparison, p: FigureProvenance): string[] {
  const prov = provenanceLine(p)
  const better = c.higherIsBetter ? 'higher is better' : 'lower is better'
  const verdictWord = { better: 'A is **better** than B', worse: 'A is **worse** than B', equivalent: 'A and B are **equivalent**', inconclusive: '**inconclusive**' }[c.verdict]
  const out = [
    `## assay comparison: ${e(c.metric)}`,
    `**Verdict:** ${verdictWord} on ${e(c.metric)} (${better}); estimate A − B = **${formatNumber(c.estimate)}**, ${Math.round(c.confidenceLevel * 100)}% CI ${fmtCi(c.ci)}, p = ${formatPValue(c.pValue)}.`,
    table(
      ['side', 'label', 'runs', 'seeds', 'dataset sha256', 'n', `mean ${e(c.metric)}`],
      [c.a, c.b].map((x, i) => [
        i === 0 ? 'A' : 'B',
        e(x.label),
        x.runIds.map((id) => `\`${id.slice(0, 8)}\``).join(', '),
        x.seeds.join(', '),
        x.datasetSha256 === null ? '–' : `\`${x.datasetSha256.slice(0, 16)}…\``,
        String(x.n),
        formatNumber(x.mean),
      ]),
    ),
    prov,
    table(
      ['', ''],
      [
        ['mode', e(c.mode)],
        ['method', e(c.method)],
        ['confidence level / alpha', `${c.confidenceLevel} / ${c.alpha}`],
        ['equivalence margin', c.margin === null ? 'none' : formatNumber(c.margin)],
        ['resamples / seed', `${c.resamples} / ${c.seed}`],
        ['pairs (lost A, lost B)', `${c.sampleSizes.pairs ?? '–'} (${c.sampleSizes.lostA}, ${c.sampleSizes.lostB})`],
        ['effect size', c.effectSize === null ? '–' : `${e(c.effectSize.name)} = ${formatNumber(c.effectSize.value)}`],
        ['clustered SE', c.clusteredStandardError === null ? '–' : `${formatNumber(c.clusteredStandardError.value)} (${c.clusteredStandardError.clusters} clusters)`],
      ],
    ),
    prov,
  ]
  const tests = testPValues(c)
  if (tests.length > 0) out.push('### Tests', table(['test', 'p'], tests.map((t) => [e(t.method), formatPValue(t.pValue)])), prov)
  if (c.required !== null) {
    const power = `${Math.round(c.required.power * 100)}% power`
    if (c.required.examples !== null) out.push(`To detect a difference this size at ${power}: ${c.required.examples} examples.`)
    if ((c.required.clusters ?? null) !== null) out.push(`To detect a difference this size at ${power}: ${c.required.clusters} clusters (more examples in the same clusters cannot help).`)
    if (c.required.seeds !== null) {
      out.push(
        c.required.seedsBasis === 'minimum'
          ? `Seeds per group needed: at least ${c.required.seeds} (assay's minimum for a replicate comparison).`
          : `To detect a difference this size at ${power}: ${c.required.seeds} seeds per group.`,
      )
    }
  }
  if (c.topRegressions.length > 0) {
    out.push('### Largest regressions (A worse than B)', table(['example', 'A', 'B', 'A − B'], c.topRegressions.map((d) => [e(d.id), formatNumber(d.a), formatNumber(d.b), formatNumber(d.delta)])), prov)
  }
  if (c.topImprovements.length > 0) {
    out.push('### Largest improvements (A better than B)', table(['example', 'A', 'B', 'A − B'], c.topImprovements.map((d) => [e(d.id), formatNumber(d.a), formatNumber(d.b), formatNumber(d.delta)])), prov)
  }
  const holdout = comparisonExtras(c).holdout ?? []
  if (holdout.length > 0) {
    out.push('### Holdout ledger', table(['dataset', 'sha256', 'reads', 'budget'], holdout.map((h) => [e(h.datasetName), `\`${h.datasetSha256.slice(0, 16)}…\``, String(h.reads), String(h.budget) + (h.overBudget ? ' **(over)**' : '')])), prov)
  }
  return out
}

function leaderboardSections(l: Leaderboard, p: FigureProvenance): string[] {
  const prov = provenanceLine(p)
  const out = [`## assay leaderboard: ${e(l.metric)} (${l.higherIsBetter ? 'higher' : 'lower'} is better)`]
  out.push(
    `Each candidate against the baseline: ${e(l.methods.binary)}; ${e(l.methods.continuous)}. Interval: ${e(l.methods.interval)}, ${Math.round(l.confidenceLevel * 100)}%. ` +
      `p-values adjusted with ${l.adjustment === 'holm' ? 'Holm (family-wise error)' : l.adjustment === 'BH' ? 'Benjamini-Hochberg (false discovery rate)' : e(l.adjustment)}; significant at ${l.alpha}.`,
  )
  for (const b of l.boards) out.push(...boardSections(b, l, prov))
  if (l.ranking !== null) {
    const rk = l.ranking
    out.push(
      `### Across ${rk.datasets.length} datasets: average ranks`,
      table(['rank', 'system', 'average rank', ...rk.datasets.map((d) => e(d.name))], rk.systems.map((s, i) => [String(i + 1), e(s.system), formatNumber(s.averageRank, 3), ...s.means.map((m) => formatNumber(m))])),
      prov,
      rk.friedman === null
        ? `Friedman test not computed: ${e(rk.note ?? '')}.`
        : `Friedman χ² = ${formatNumber(rk.friedman.statistic)} (df ${rk.friedman.df}), p = ${formatPValue(rk.friedman.pValue)}; Iman–Davenport F = ${formatNumber(rk.friedman.imanDavenport.statistic)} (${rk.friedman.imanDavenport.df1}, ${rk.friedman.imanDavenport.df2}), p = ${formatPValue(rk.friedman.imanDavenport.pValue)}. ` +
            `Nemenyi critical difference CD = ${formatNumber(rk.nemenyi.criticalDifference, 3)} at α = ${rk.alpha}: systems whose average ranks differ by less than CD are not told apart.`,
    )
  }
  return out
}

function boardSections(b: DatasetBoard, l: Leaderboard, prov: string): string[] {
  const out = [
    `### ${e(b.dataset.name)} (${e(b.dataset.role)}, sha256 \`${b.dataset.sha256.slice(0, 16)}…\`)`,
    `Baseline: **${e(b.baseline.name)}** \`${b.baseline.runId.slice(0, 8)}\` (seed ${b.baseline.seed}, ${b.baseline.rule}), mean ${formatNumber(b.baseline.mean)} over ${b.baseline.n} examples. ${b.adjustment.hypotheses} hypotheses, ${e(b.adjustment.method)}.`,
    table(
      ['rank', 'run', 'name', 'seed', `mean ${e(l.metric)}`, 'Δ vs baseline', `${Math.round(l.confidenceLevel * 100)}% CI`, 'p (raw)', `p (${e(l.adjustment)})`, 'verdict', 'flags'],
      b.entries.map((x) => [
        String(x.rank),
        `\`${x.runId.slice(0, 8)}\``,
        e(x.name),
        String(x.seed),
        formatNumber(x.mean),
        formatNumber(x.estimate),
        fmtCi(x.ci),
        formatPValue(x.pValue),
        formatPValue(x.adjustedPValue),
        x.verdict === 'better' ? '**better**' : x.verdict === 'worse' ? '**worse**' : 'inconclusive',
        [...new Set(x.warnings.map((w) => w.code))].join(', ') || '–',
      ]),
    ),
    prov,
  ]
  if (b.ladder !== null) {
    out.push(
      '#### Ladder (released scores)',
      e(b.ladder.rule) + '.',
      table(
        ['#', 'submission', 'score', 'improvement', 'threshold', 'accepted', 'released best', 'released score'],
        b.ladder.steps.map((s) => [String(s.index + 1), e(s.label), formatNumber(s.mean), formatNumber(s.improvement), formatNumber(s.threshold), s.accepted ? 'yes' : 'no', `\`${s.bestId.slice(0, 8)}\``, formatNumber(s.releasedScore)]),
      ),
      prov,
    )
  }
  if (b.holdout.length > 0) {
    out.push(
      '#### Holdout ledger',
      table(
        ['dataset version', 'reads', 'budget', 'readers', 'last read'],
        b.holdout.map((h) => [`\`${h.datasetSha256.slice(0, 16)}…\``, String(h.reads), String(h.budget) + (h.overBudget ? ' **(over budget)**' : ''), e(h.actors.join(', ')), h.entries.length > 0 ? fmtTime(h.entries[h.entries.length - 1].at) : '–']),
      ),
      prov,
    )
  }
  return out
}

function provenanceSection(input: ReportInput): string {
  const p = provenanceOf(input)
  const seedOf = new Map(p.seeds.map((s) => [s.runId, s.seed]))
  return [
    '### Provenance',
    `assay ${e(p.assayVersion)}; generated ${fmtTime(input.generatedAt ?? (input.kind === 'leaderboard' ? input.leaderboard.generatedAt : Date.now()))}.`,
    table(
      ['dataset', 'sha256'],
      p.datasets.map((d) => [e(d.name), `\`${d.sha256}\``]),
    ),
    table(
      ['run id', 'seed'],
      p.runIds.map((id) => [`\`${id}\``, String(seedOf.get(id) ?? '–')]),
    ),
  ].join('\n\n')
}
