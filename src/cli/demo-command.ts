import { Command } from 'commander'
import path from 'node:path'
import { compareDemo, DEMO_EXPERIMENT, runDemo, type DemoComparisons } from '../demo/demo-experiment.js'
import { runDemoPromotion, type DemoPromotion } from '../demo/demo-promotion.js'
import { AssayError } from '../errors.js'
import type { CliContext } from './context.js'
import { writeJson, writeTable } from './output.js'

export function demoCommand(ctx: CliContext): Command {
  return new Command('demo')
    .description('run a real small experiment (logistic regression, two configurations × five seeds) and record everything')
    .option('--seeds <n>', 'seeds per configuration', '5')
    .option('--data-dir <dir>', 'where the generated data sets are written', path.join('.assay', 'demo-data'))
    .option('--json', 'print JSON (schema assay.demo/v1)')
    .action(async (options: { seeds: string; dataDir: string; json?: boolean }, self: Command) => {
      const count = Number(options.seeds)
      if (!Number.isInteger(count) || count < 1 || count > 100) {
        throw new AssayError('ASSAY_INVALID_ARGUMENT', `--seeds must be an integer from 1 to 100, got ${options.seeds}`)
      }
      const seeds = Array.from({ length: count }, (_, i) => i + 1)
      const started = Date.now()
      const { result, comparisons, promotion } = await ctx.withAssay(self, async (assay) => {
        const recorded = await runDemo(assay, { dataDir: path.resolve(options.dataDir), seeds, onProgress: (message) => ctx.io.err.write(`${message}\n`) })
        // The group comparison needs at least 2 seeds per configuration.
        const compared: DemoComparisons | null = seeds.length >= 2 ? await compareDemo(assay, recorded) : null
        const promotion: DemoPromotion = await runDemoPromotion(assay, recorded, { dir: path.resolve(options.dataDir) })
        return { result: recorded, comparisons: compared, promotion }
      })
      if (options.json) return writeJson(ctx.io, 'assay.demo/v1', { ...result, comparisons, promotion })
      const out = ctx.io.out
      out.write(`\nRecorded ${result.runs.length} runs of experiment ${DEMO_EXPERIMENT} in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`)
      out.write('Each run holds its params, seed, environment, code version, the content hashes of train.csv and validation.csv,\n')
      out.write('per-epoch metrics, 2,000 per-example eval records and the model weights as an artifact.\n\n')
      writeTable(ctx.io, ['CONFIG', 'SEED', 'RUN', 'VALIDATION ACCURACY'], result.runs.map((r) => [r.config, String(r.seed), r.runId.slice(0, 8), r.accuracy.toFixed(4)]))
      for (const config of [...new Set(result.runs.map((r) => r.config))]) {
        const values = result.runs.filter((r) => r.config === config).map((r) => r.accuracy)
        const mean = values.reduce((s, v) => s + v, 0) / values.length
        out.write(`\n${config}: mean validation accuracy ${mean.toFixed(4)} over ${values.length} seeds (min ${Math.min(...values).toFixed(4)}, max ${Math.max(...values).toFixed(4)})`)
      }
      if (comparisons !== null) {
        const { paired, groups } = comparisons
        const ci = (c: { ci: [number, number] | null }): string => (c.ci === null ? 'none (identical sides)' : `[${c.ci[0].toFixed(4)}, ${c.ci[1].toFixed(4)}]`)
        out.write('\n\nCandidate against baseline, per-example correctness on the validation set:\n')
        out.write(`  one run each (seed ${paired.a.seeds[0]}): ${paired.verdict.toUpperCase()}: Δ ${paired.estimate.toFixed(4)}, 95% CI ${ci(paired)}, p = ${paired.pValue.toPrecision(3)} (${paired.method}, ${paired.sampleSizes.pairs} pairs)\n`)
        out.write(`  ${groups.a.runIds.length} seeds each: ${groups.verdict.toUpperCase()}: Δ ${groups.estimate.toFixed(4)}, 95% CI ${ci(groups)}, p = ${groups.pValue.toPrecision(3)} (${groups.method})\n`)
        for (const w of [...paired.warnings, ...groups.warnings]) out.write(`  warning ${w.code}: ${w.message}\n`)
      }
      writeDemoPromotion(ctx, promotion)
      const [first, second] = [result.runs[0], result.runs[result.runs.length - 1]]
      out.write('\n\nNext:\n')
      out.write(`  assay runs ls --experiment ${DEMO_EXPERIMENT}\n`)
      out.write(`  assay runs ls --filter "params.config = 'candidate' and metrics.validation/accuracy >= 0.7"\n`)
      out.write(`  assay runs show ${first.runId.slice(0, 8)}\n`)
      out.write(`  assay compare ${second.runId.slice(0, 8)} ${first.runId.slice(0, 8)} --metric correct\n`)
      out.write(`  assay compare ${second.runId.slice(0, 8)} ${first.runId.slice(0, 8)} --metric correct --group-by config\n`)
      out.write(`  assay variance ${second.runId.slice(0, 8)} --metric correct\n`)
      out.write(`  assay runs diff ${first.runId.slice(0, 8)} ${second.runId.slice(0, 8)}\n`)
      out.write(`  assay replay ${first.runId.slice(0, 8)}\n`)
      out.write(`  assay artifacts get ${second.runId.slice(0, 8)} model/weights.json\n`)
      out.write(`  assay models show ${promotion.model}\n`)
      out.write(`  assay gate check ${promotion.gateFile} --candidate model:${promotion.model}@${promotion.candidateVersion} --baseline model:${promotion.model}@${promotion.baselineVersion} --format markdown\n`)
      out.write(`  assay audit verify\n`)
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
      const body = r.body as { decision?: string; from?: number | null; to?: number | null }
      return [String(r.seq), r.kind, r.subject, r.kind === 'gate-check' ? String(body.decision) : `${body.from ?? '-'} -> ${body.to ?? '-'}`, r.hash.slice(0, 16)]
    }),
  )
  out.write(p.verify.ok ? `audit log intact: ${p.verify.count} records, head ${p.verify.head.slice(0, 16)}…\n` : `audit log BROKEN at record ${p.verify.firstBadSeq}: ${p.verify.problem}\n`)
}
