import { Command } from 'commander'
import { COMPARE_DEFAULTS } from '../compare/compare.js'
import { LEADERBOARD_RESAMPLES, LEADERBOARD_SEED, type Leaderboard, type LeaderboardOptions } from '../compare/leaderboard.js'
import { AssayError } from '../errors.js'
import type { CliContext } from './context.js'
import { formatNumber } from '../number-format.js'
import { parseNumberOption, writeJson, writeTable } from './output.js'

export interface LeaderboardCliOptions {
  dataset?: string
  experiment?: string
  filter?: string
  runs?: string
  baseline?: string
  metric?: string
  lowerIsBetter?: boolean
  adjust: string
  alpha: string
  confidence: string
  bootstrap?: string | true
  /** Absent under `assay report`, whose --seed has no single default (comparison 0, leaderboard 20150701). */
  seed?: string
  mcnemar: string
  ladder?: string | true
  ladderEta?: string
  holdoutBudget?: string
  allowDifferentVersions?: boolean
  systemBy: string
  json?: boolean
}


/**
 * The leaderboard options, shared by `assay leaderboard` and `assay report --leaderboard`. `seed`:
 * 'leaderboard' gives --seed the leaderboard's default; 'report' leaves it without one, since a
 * comparison report uses the comparison's default (0) instead.
 */
export function addLeaderboardOptions(command: Command, options: { seed?: 'leaderboard' | 'report' } = {}): Command {
  const first = command
    .option('-d, --dataset <names>', 'dataset name, or several comma-separated (also ranks across them); default: every dataset two or more candidates share')
    .option('-e, --experiment <name>', 'candidates: runs of this experiment')
    .option('-f, --filter <expression>', 'candidates: runs matching this filter (docs/cli.md grammar)')
    .option('--runs <ids>', 'candidates: these runs (comma-separated ids or prefixes)')
    .option('--baseline <run>', 'baseline run (default: the earliest run with eval records on the dataset)')
    .option('-m, --metric <name>', 'score name (default: the only score the candidates share)')
    .option('--lower-is-better', 'lower values of the metric are better')
    .option('--adjust <method>', 'multiplicity adjustment: holm (family-wise error) or BH (false discovery rate)', 'holm')
    .option('--alpha <level>', 'significance level after adjustment', '0.05')
    .option('--confidence <level>', 'confidence level of the intervals', '0.95')
    .option('--bootstrap [resamples]', `paired bootstrap intervals (default ${LEADERBOARD_RESAMPLES} resamples) instead of paired t intervals`)
  const withSeed =
    options.seed === 'report'
      ? first.option('--seed <n>', `seed of every resampling step (default: comparison ${COMPARE_DEFAULTS.seed}; leaderboard --bootstrap ${LEADERBOARD_SEED})`)
      : first.option('--seed <n>', 'bootstrap seed', String(LEADERBOARD_SEED))
  return withSeed
    .option('--mcnemar <method>', 'binary scores: exact or asymptotic McNemar test', 'exact')
    .option('--ladder [multiplier]', 'ladder mode: release a new best only past multiplier × the paired standard error (default 1)')
    .option('--ladder-eta <eta>', 'ladder mode with a fixed threshold eta in metric units')
    .option('--holdout-budget <n>', 'holdout/test reads per dataset version before HOLDOUT_OVERUSE (default ASSAY_HOLDOUT_BUDGET, else 20)')
    .option('--allow-different-versions', 'pair by example id even when candidates were evaluated on different versions of the dataset')
    .option('--system-by <key>', 'across datasets, a system is: run, name, params.KEY or tags.KEY', 'run')
}

export function toLeaderboardOptions(o: LeaderboardCliOptions): LeaderboardOptions {
  if (o.adjust !== 'holm' && o.adjust !== 'BH') throw new AssayError('ASSAY_INVALID_ARGUMENT', `--adjust must be holm or BH, got ${JSON.stringify(o.adjust)}`)
  if (o.mcnemar !== 'exact' && o.mcnemar !== 'asymptotic') throw new AssayError('ASSAY_INVALID_ARGUMENT', `--mcnemar must be exact or asymptotic, got ${JSON.stringify(o.mcnemar)}`)
  const list = (s: string | undefined): string[] | undefined =>
    s === undefined
      ? undefined
      : s
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x !== '')
  const options: LeaderboardOptions = {
    datasets: list(o.dataset),
    experiment: o.experiment,
    filter: o.filter,
    runs: list(o.runs),
    baseline: o.baseline,
    metric: o.metric,
    higherIsBetter: !(o.lowerIsBetter ?? false),
    adjust: o.adjust,
    alpha: parseNumberOption(o.alpha, '--alpha', (n) => n > 0 && n < 1, 'a number in (0, 1)'),
    confidenceLevel: parseNumberOption(o.confidence, '--confidence', (n) => n > 0 && n < 1, 'a number in (0, 1)'),
    seed: o.seed === undefined ? LEADERBOARD_SEED : parseNumberOption(o.seed, '--seed', (n) => Number.isSafeInteger(n) && n >= 0, 'a non-negative integer'),
    mcnemar: o.mcnemar,
    allowDifferentVersions: o.allowDifferentVersions ?? false,
    systemBy: o.systemBy,
  }
  if (o.bootstrap !== undefined) {
    options.interval = 'bootstrap'
    options.resamples = o.bootstrap === true ? LEADERBOARD_RESAMPLES : parseNumberOption(o.bootstrap, '--bootstrap', (n) => Number.isInteger(n) && n >= 100, 'an integer of at least 100')
  }
  if (o.ladderEta !== undefined) options.ladder = { kind: 'fixed', eta: parseNumberOption(o.ladderEta, '--ladder-eta', (n) => n > 0, 'a positive number') }
  else if (o.ladder !== undefined) options.ladder = { kind: 'paired-se', multiplier: o.ladder === true ? 1 : parseNumberOption(o.ladder, '--ladder', (n) => n >= 0, 'a non-negative number') }
  if (o.holdoutBudget !== undefined) options.holdoutBudget = parseNumberOption(o.holdoutBudget, '--holdout-budget', (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer')
  return options
}

export function leaderboardCommand(ctx: CliContext): Command {
  return addLeaderboardOptions(new Command('leaderboard'))
    .option('--json', 'print JSON (schema assay.leaderboard/v1)')
    .action(async (options: LeaderboardCliOptions, self: Command) => {
      const board = await ctx.withAssay(self, (assay) => assay.leaderboard(toLeaderboardOptions(options)))
      if (options.json) {
        const { schema, ...body } = board
        return writeJson(ctx.io, schema, body)
      }
      ctx.io.out.write(renderLeaderboardText(board, ctx))
    })
}

function renderLeaderboardText(l: Leaderboard, ctx: CliContext): string {
  const out = ctx.io.out
  out.write(`${l.metric} (${l.higherIsBetter ? 'higher' : 'lower'} is better); ${l.methods.binary}; ${l.methods.continuous}; ${l.methods.interval}; p adjusted with ${l.adjustment}, alpha ${l.alpha}\n`)
  for (const b of l.boards) {
    out.write(`\n${b.dataset.name} (${b.dataset.role}, sha256 ${b.dataset.sha256.slice(0, 16)}…): baseline ${b.baseline.name} ${b.baseline.runId.slice(0, 8)} (${b.baseline.rule}), mean ${formatNumber(b.baseline.mean)} over ${b.baseline.n} examples\n`)
    writeTable(
      ctx.io,
      ['RANK', 'RUN', 'NAME', 'SEED', 'MEAN', 'DELTA', 'CI', 'P', `P(${l.adjustment.toUpperCase()})`, 'VERDICT', 'FLAGS'],
      b.entries.map((e) => [
        String(e.rank),
        e.runId.slice(0, 8),
        e.name,
        String(e.seed),
        formatNumber(e.mean),
        formatNumber(e.estimate),
        e.ci === null ? 'identical' : `[${formatNumber(e.ci[0])}, ${formatNumber(e.ci[1])}]`,
        formatNumber(e.pValue, 3),
        formatNumber(e.adjustedPValue, 3),
        e.verdict,
        [...new Set(e.warnings.map((w) => w.code))].join(',') || '-',
      ]),
    )
    if (b.ladder !== null) {
      out.write(`\nladder: ${b.ladder.rule}\n`)
      writeTable(
        ctx.io,
        ['#', 'SUBMISSION', 'SCORE', 'IMPROVEMENT', 'THRESHOLD', 'ACCEPTED', 'RELEASED'],
        b.ladder.steps.map((s) => [String(s.index + 1), s.label, formatNumber(s.mean), formatNumber(s.improvement), formatNumber(s.threshold), s.accepted ? 'yes' : 'no', `${formatNumber(s.releasedScore)} (${s.bestId.slice(0, 8)})`]),
      )
    }
    for (const h of b.holdout) out.write(`\nholdout ledger: ${h.datasetName} ${h.datasetSha256.slice(0, 12)}… read ${h.reads} times (budget ${h.budget}) by ${h.actors.join(', ')}\n`)
  }
  if (l.ranking !== null) {
    const rk = l.ranking
    out.write(`\nacross ${rk.datasets.map((d) => d.name).join(', ')}: average ranks (1 = best)\n`)
    writeTable(ctx.io, ['RANK', 'SYSTEM', 'AVG RANK'], rk.systems.map((s, i) => [String(i + 1), s.system, formatNumber(s.averageRank, 3)]))
    out.write(
      rk.friedman === null
        ? `Friedman: not computed (${rk.note ?? ''})\n`
        : `Friedman chi2 ${formatNumber(rk.friedman.statistic)} (df ${rk.friedman.df}) p ${formatNumber(rk.friedman.pValue, 3)}; Iman-Davenport F ${formatNumber(rk.friedman.imanDavenport.statistic)} p ${formatNumber(rk.friedman.imanDavenport.pValue, 3)}\n`,
    )
    out.write(`Nemenyi critical difference ${formatNumber(rk.nemenyi.criticalDifference, 3)} at alpha ${rk.alpha}\n`)
  }
  const warnings = [...l.warnings, ...l.boards.flatMap((b) => b.warnings)]
  if (warnings.length > 0) {
    out.write('\nwarnings:\n')
    for (const w of new Map(warnings.map((w) => [`${w.code}${w.message}`, w])).values()) out.write(`  ${w.code}: ${w.message}\n`)
  }
  return ''
}
