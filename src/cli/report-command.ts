import { Command } from 'commander'
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { alignExamples } from '../compare/align-examples.js'
import { COMPARE_DEFAULTS, type CompareOptions } from '../compare/compare.js'
import { differenceHistogramOf } from '../compare/leaderboard.js'
import { AssayError } from '../errors.js'
import { renderHtmlReport } from '../report/html-report.js'
import { renderMarkdownReport } from '../report/markdown-report.js'
import { REPORT_SCHEMA, comparisonExtras, provenanceOf, type ReportInput } from '../report/report-model.js'
import type { CliContext } from './context.js'
import { addLeaderboardOptions, toLeaderboardOptions, type LeaderboardCliOptions } from './leaderboard-command.js'
import { parseNumberOption, writeJson } from './output.js'

interface ReportCliOptions extends LeaderboardCliOptions {
  leaderboard?: boolean
  out?: string
  name: string
  format: string
  resamples?: string
  margin?: string
  groupBy?: string | true
  top?: string
}

export function reportCommand(ctx: CliContext): Command {
  return addLeaderboardOptions(
    new Command('report')
      .argument('[a]', 'side A of a comparison (as for assay compare)')
      .argument('[b]', 'side B of a comparison')
      .option('--leaderboard', 'report a leaderboard (the leaderboard options below) instead of a comparison'),
    { seed: 'report' },
  )
    .option('--resamples <n>', `comparison: bootstrap resamples (default ${COMPARE_DEFAULTS.resamples})`)
    .option('--margin <delta>', 'comparison: equivalence margin in metric units (default none)')
    .option('--group-by [how]', 'comparison: expand a single run into its replicate group: config (default) or params.KEY[,params.KEY]')
    .option('--top <n>', `comparison: most regressed and most improved examples to list (default ${COMPARE_DEFAULTS.top})`)
    .option('-o, --out <dir>', 'write <name>.md and <name>.html into this directory (default: print one format to stdout)')
    .option('--name <stem>', 'file name stem', 'assay-report')
    .option('--format <format>', 'without --out: markdown or html on stdout', 'markdown')
    .option('--json', 'print JSON (schema assay.report/v1): the files written, provenance and the comparison or leaderboard')
    .action(async (a: string | undefined, b: string | undefined, options: ReportCliOptions, self: Command) => {
      if (options.format !== 'markdown' && options.format !== 'html') throw new AssayError('ASSAY_INVALID_ARGUMENT', `--format must be markdown or html, got ${JSON.stringify(options.format)}`)
      if (!/^[A-Za-z0-9._-]{1,100}$/.test(options.name)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `--name must be a plain file name stem (letters, digits, . _ -), got ${JSON.stringify(options.name)}`)
      let input: ReportInput
      if (options.leaderboard) {
        if (a !== undefined) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'assay report --leaderboard takes no runs as arguments; choose candidates with --experiment, --filter or --runs')
        const leaderboard = await ctx.withAssay(self, (assay) => assay.leaderboard(toLeaderboardOptions(options)))
        input = { kind: 'leaderboard', leaderboard }
      } else {
        if (a === undefined || b === undefined) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'assay report needs two sides A B (a comparison) or --leaderboard')
        if (options.metric === undefined) throw new AssayError('ASSAY_INVALID_ARGUMENT', 'a comparison report needs --metric')
        const compareOptions: CompareOptions = { metric: options.metric, lowerIsBetter: options.lowerIsBetter ?? false, allowDifferentData: options.allowDifferentVersions ?? false }
        if (options.dataset !== undefined) compareOptions.dataset = options.dataset
        compareOptions.confidenceLevel = parseNumberOption(options.confidence, '--confidence', (n) => n > 0 && n < 1, 'a number in (0, 1)')
        if (options.resamples !== undefined) compareOptions.resamples = parseNumberOption(options.resamples, '--resamples', (n) => Number.isInteger(n) && n >= 100, 'an integer of at least 100')
        if (options.seed !== undefined) compareOptions.seed = parseNumberOption(options.seed, '--seed', (n) => Number.isSafeInteger(n) && n >= 0, 'a non-negative integer')
        if (options.holdoutBudget !== undefined) compareOptions.holdoutBudget = parseNumberOption(options.holdoutBudget, '--holdout-budget', (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer')
        if (options.margin !== undefined) compareOptions.margin = parseNumberOption(options.margin, '--margin', (n) => n > 0, 'a positive number')
        if (options.groupBy !== undefined) compareOptions.groupBy = options.groupBy === true ? 'config' : options.groupBy
        if (options.top !== undefined) compareOptions.top = parseNumberOption(options.top, '--top', (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer')
        input = await ctx.withAssay(self, async (assay) => {
          const comparison = await assay.compare(a, b, compareOptions)
          let differences = null
          const dataset = comparisonExtras(comparison).dataset ?? options.dataset
          if (comparison.mode === 'paired-examples' && comparison.a.runIds.length === 1 && comparison.b.runIds.length === 1 && dataset) {
            const pair = alignExamples(await assay.evalColumns(comparison.a.runIds[0], dataset), await assay.evalColumns(comparison.b.runIds[0], dataset), comparison.metric)
            if (pair.pairs > 0) differences = differenceHistogramOf(pair.a, pair.b)
          }
          return { kind: 'comparison' as const, comparison, differences }
        })
      }
      const markdown = renderMarkdownReport(input)
      const html = renderHtmlReport(input)
      const files: { format: 'markdown' | 'html'; path: string; bytes: number; sha256: string }[] = []
      if (options.out !== undefined) {
        mkdirSync(options.out, { recursive: true })
        for (const [format, ext, content] of [['markdown', 'md', markdown], ['html', 'html', html]] as const) {
          const file = path.resolve(options.out, `${options.name}.${ext}`)
          writeFileSync(file, content)
          files.push({ format, path: file, bytes: Buffer.byteLength(content), sha256: createHash('sha256').update(content).digest('hex') })
        }
      }
      if (options.json) {
        return writeJson(ctx.io, REPORT_SCHEMA, {
          kind: input.kind,
          assayVersion: provenanceOf(input).assayVersion,
          files,
          provenance: provenanceOf(input),
          ...(input.kind === 'comparison' ? { comparison: input.comparison, differences: input.differences ?? null } : { leaderboard: input.leaderboard }),
        })
      }
      if (options.out !== undefined) {
        for (const f of files) ctx.io.out.write(`wrote ${f.path} (${f.bytes} bytes, sha256 ${f.sha256.slice(0, 16)}…)\n`)
        return
      }
      ctx.io.out.write(options.format === 'html' ? html : markdown)
    })
}
