import { Command } from 'commander'
import os from 'node:os'
import path from 'node:path'
import { assayCommandName } from '../command-name.js'
import { compareDemo, DEMO_EXPERIMENT, runDemo, type DemoComparisons } from '../demo/demo-experiment.js'
import { runDemoPromotion, type DemoPromotion } from '../demo/demo-promotion.js'
import { AssayError } from '../errors.js'
import { shellQuote } from '../record/replay-plan.js'
import type { Assay } from '../sdk/assay.js'
import { formatPValue } from '../number-format.js'
import { mean } from '../stats/index.js'
import type { CliContext } from './context.js'
import { writeJson, writeTable } from './output.js'

export function demoCommand(ctx: CliContext): Command {
  return new Command('demo')
    .option('--seeds <n>', 'seeds per configuration', '5')
    .option('--data-dir <dir>', 'where the generated data sets and the gate file are written (default: demo-data inside an embedded store, else a temporary directory)')
    .option('--json', 'print JSON (schema assay.demo/v1)')
    .action(async (options: { seeds: string; dataDir?: string; json?: boolean }, self: Command) => {
      const count = Number(options.seeds)
      if (!Number.isInteger(count) || count < 1 || count > 100) {
        throw new AssayError('ASSAY_INVALID_ARGUMENT', `--seeds must be an integer from 1 to 100, got ${options.seeds}`)
      }
      const seeds = Array.from({ length: count }, (_, i) => i + 1)
      const started = Date.now()
      const { result, comparisons, promotion, assayCommand } = await ctx.withAssay(self, async (assay) => {
        const dataDir = options.dataDir === undefined ? defaultDataDir(assay) : path.resolve(options.dataDir)
        const recorded = await runDemo(assay, { dataDir, seeds, onProgress: (message) => ctx.io.err.write(`${message}\n`) })
        // The group comparison needs at least 2 seeds per configuration.
        const compared: DemoComparisons | null = seeds.length >= 2 ? await compareDemo(assay, recorded) : null
        const promotion: DemoPromotion = await runDemoPromotion(assay, recorded, { dir: dataDir })
        return { result: recorded, comparisons: compared, promotion, assayCommand: nextCommandPrefix(assay) }
      })
      if (options.json) return writeJson(ctx.io, 'assay.demo/v1', { ...result, comparisons, promotion })
      const out = ctx.io.out
      out.write(`\nRecorded ${result.runs.length} runs of experiment ${DEMO_EXPERIMENT} in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`)
      out.write('Each run holds its params, seed, environment, code version, the content hashes of train.csv and validation.csv,\n')
      out.write('per-epoch metrics, 2,000 per-example eval records and the model weights as an artifact.\n\n')
      writeTable(ctx.io, ['CONFIG', 'SEED', 'RUN', 'VALIDATION ACCURACY'], result.runs.map((r) => [r.config, String(r.seed), r.runId.slice(0, 8), r.accuracy.toFixed(4)]))
      for (const config of [...new Set(result.runs.map((r) => r.config))]) {
        const values = result.runs.filter((r) => r.config === config).map((r) => r.accuracy)
        out.write(`\n${config}: mean validation accuracy ${mean(values).toFixed(4)} over ${values.length} seeds (min ${Math.min(...values).toFixed(4)}, max ${Math.max(...values).toFixed(4)})`)
      }
      if (comparisons !== null) {
        const { paired, groups } = comparisons
        const ci = (c: { ci: [number, number] | null }): string => (c.ci === null ? 'none (identical sides)' : `[${c.ci[0].toFixed(4)}, ${c.ci[1].toFixed(4)}]`)
        out.write('\n\nCandidate against baseline, per-example correctness on the validation set:\n')
        out.write(`  one run each (seed ${paired.a.seeds[0]}): ${paired.verdict.toUpperCase()}: Δ ${paired.estimate.toFixed(4)}, 95% CI ${ci(paired)}, p = ${formatPValue(paired.pValue)} (${paired.method}, ${paired.sampleSizes.pairs} pairs)\n`)
        out.write(`  ${groups.a.runIds.length} seeds each: ${groups.verdict.toUpperCase()}: Δ ${groups.estimate.toFixed(4)}, 95% CI ${ci(groups)}, p = ${formatPValue(groups.pValue)} (${groups.method})\n`)
        for (const w of [...paired.warnings, ...groups.warnings]) out.write(`  warning ${w.code}: ${w.message}\n`)
      }
      writeDemoPromotion(ctx, promotion)
      const [first, second] = [result.runs[0], result.runs[result.runs.length - 1]]
      const id = (r: { runId: string }): string => r.runId.slice(0, 8)
      const next = [
        `runs ls --experiment ${DEMO_EXPERIMENT}`,
        `runs ls --filter "params.config = 'candidate' and metrics.validation/accuracy >= 0.7"`,
        `runs show ${id(first)}`,
        `compare ${id(second)} ${id(first)} --metric correct`,
        `compare ${id(second)} ${id(first)} --metric correct --group-by config`,
        `variance ${id(second)} --metric correct`,
        `runs diff ${id(first)} ${id(second)}`,
        `replay ${id(first)}`,
        `artifacts get ${id(second)} model/weights.json`,
        `models show ${promotion.model}`,
        `gates show ${promotion.model} --alias champion`,
        `gate check ${shellQuote(promotion.gateFile)} --candidate model:${promotion.model}@${promotion.candidateVersion} --baseline model:${promotion.model}@${promotion.baselineVersion} --format markdown`,
        'audit verify',
      ]
      out.write('\n\nNext:\n')
      for (const command of next) out.write(`  ${assayCommand} ${command}\n`)
    })
}

function writeDemoPromotion(ctx: CliContext, p: DemoPromotion): void {
  const out = ctx.io.out
  out.write(`\n\nRegistered ${p.model}: version ${p.baselineVersion} (baseline, champion) and version ${p.candidateVersion} (candidate).\n`)
  out.write(`Gate ${p.gateFile} on version ${p.candidateVersion} against the champion: ${p.evidence.decision.toUpperCase()}\n`)
  for (const c of p.evidence.criteria) out.write(`  ${c.outcome.toUpperCase().padEnd(5)} ${c.name}: ${c.message}\n`)
  for (const c of p.evidence.checks) if (c.status !== 'pass') out.write(`  ${c.status.toUpperCase().padEnd(5)} ${c.check}: ${c.message}${c.findings.length > 0 ? ` (${c.findings[0]})` : ''}\n`)
  out.write(p.promoted ? `Promoted version ${p.candidateVersion} to champion.\n` : `Not promoted: ${p.refused}\n`)
  out.write('\nAudit log:\n')
  writeTable(
    ctx.io,
    ['SEQ', 'KIND', 'SUBJECT', 'OUTCOME', 'HASH'],
    p.audit.map((r) => {
      const body = r.body as { decision?: string; from?: number | null; to?: number | null; gate?: string; version?: number }
      return [String(r.seq), r.kind, r.subject, r.kind === 'gate-check' ? String(body.decision) : r.kind === 'gate-policy' ? `gate ${String(body.gate)} v${String(body.version)}` : `${body.from ?? '-'} -> ${body.to ?? '-'}`, r.hash.slice(0, 16)]
    }),
  )
  out.write(p.verify.ok ? `audit log intact: ${p.verify.count} records, head ${p.verify.head.slice(0, 16)}…\n` : `audit log BROKEN at record ${p.verify.firstBadSeq}: ${p.verify.problem}\n`)
}

/** The demo's data goes inside an embedded store (so ASSAY_HOME keeps it there); elsewhere, to a temporary directory. */
function defaultDataDir(assay: Assay): string {
  const local = assay.store.capabilities.localDirectory
  return local !== null ? path.join(local, 'demo-data') : path.join(os.tmpdir(), 'assay-demo-data')
}

/**
 * How the "Next" lines start so that they run as printed: `assay` when an assay is on the user's
 * PATH, else `npx assay`; with --store when the embedded store is not the default ./.assay (so a
 * store named by --store or by an ASSAY_HOME set for this command alone is the one read).
 * Remote stores are named the way this run named them (ASSAY_TRACKING_URI, ASSAY_STORE): their
 * URL may need credentials that are not printed.
 */
function nextCommandPrefix(assay: Assay): string {
  const command = assayCommandName()
  const defaultStore = path.resolve('.assay')
  const local = assay.store.capabilities.localDirectory
  return local !== null && local !== defaultStore ? `${command} --store ${shellQuote(local)}` : command
}
