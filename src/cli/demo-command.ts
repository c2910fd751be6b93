import { Command } from 'commander'
import os from 'node:os'
import path from 'node:path'
import { assayCommandName } from '../command-name.js'
import { compareDemo, DEMO_EXPERIMENT, runDemo, type DemoComparisons } from '../demo/demo-experiment.js'
import { runDemoProduction, type DemoProduction } from '../demo/demo-production.js'
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
      const { result, comparisons, promotion, production, assayCommand } = await ctx.withAssay(self, async (assay) => {
        const dataDir = options.dataDir === undefined ? defaultDataDir(assay) : path.resolve(options.dataDir)
        const recorded = await runDemo(assay, { dataDir, seeds, onProgress: (message) => ctx.io.err.write(`${message}\n`) })
        // The group comparison needs at least 2 seeds per configuration.
        const compared: DemoComparisons | null = seeds.length >= 2 ? await compareDemo(assay, recorded) : null
        const promotion: DemoPromotion = await runDemoPromotion(assay, recorded, { dir: dataDir })
        const production = await productionAct(assay, dataDir, promotion)
        // The production act appends to the audit log: the verification printed is of the whole log, after it.
        if (production !== null) promotion.verify = await assay.verifyAudit()
        return { result: recorded, comparisons: compared, promotion, production, assayCommand: nextCommandPrefix(assay) }
      })
      if (options.json) return writeJson(ctx.io, 'assay.demo/v1', { ...result, comparisons, promotion, production })
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
      if (production !== null) writeDemoProduction(ctx, production)
      writeAuditVerification(ctx, promotion.verify)
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
        ...(production === null
          ? []
          : [`traces ls --deployment ${production.deployment.id}`, `monitor check ${shellQuote(production.monitorFile)} --deployment ${production.deployment.id} --window 1h --reference trailing:1h --no-record`]),
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
}

/** The whole audit log's verification, last, so the head printed is the head `audit verify --expect-head` will find. */
function writeAuditVerification(ctx: CliContext, v: DemoPromotion['verify']): void {
  ctx.io.out.write(v.ok ? `\naudit log intact: ${v.count} records, head ${v.head.slice(0, 16)}…\n` : `\naudit log BROKEN at record ${v.firstBadSeq}: ${v.problem}\n`)
}

/**
 * The production act (src/demo/demo-production.ts) needs a server over the same store: started here
 * in process on a free loopback port, with a write token that expires in 15 minutes, and closed after.
 * A remote store already is a server's: the act is skipped there (its traces would need the
 * server's own OTLP route and a token this command does not hold).
 */
async function productionAct(assay: Assay, dataDir: string, promotion: DemoPromotion): Promise<(DemoProduction & { seconds: number }) | null> {
  if (assay.store.capabilities.server !== null) return null
  const { buildServer } = await import('../server/app.js')
  const { hashSecret, newTokenId, newTokenSecret } = await import('../server/auth.js')
  const secret = newTokenSecret()
  const now = Date.now()
  await assay.store.createApiToken(
    { id: newTokenId(), name: 'demo-otlp', scope: 'write', experiments: null, createdAt: now, createdBy: 'assay demo', revokedAt: null, expiresAt: now + 15 * 60_000 },
    hashSecret(secret),
  )
  const started = Date.now()
  const app = await buildServer({ store: assay.store, auth: { enabled: true } })
  try {
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as { port: number }
    const act = await runDemoProduction(assay, { dir: dataDir, otlpUrl: `http://127.0.0.1:${port}/v1/traces`, token: secret, rollbackVersion: promotion.baselineVersion })
    return { ...act, seconds: (Date.now() - started) / 1000 }
  } finally {
    await app.close()
  }
}

function writeDemoProduction(ctx: CliContext, p: DemoProduction & { seconds: number }): void {
  const out = ctx.io.out
  const e = p.check.evidence
  out.write(`\n\nProduction (${p.seconds.toFixed(1)} s): deployed ${e.deployment.model}@champion (version ${e.deployment.modelVersion}) as ${p.deployment.endpoint}, deployment ${p.deployment.id.slice(0, 8)}.\n`)
  out.write(`Sent ${p.sent.traces} traces in ${p.sent.requests} OTLP/JSON requests to POST /v1/traces: an hour of ordinary traffic, then an hour with a drifted slice (${p.sent.drifted} traces with longer prompts) and an expensive slice (${p.sent.expensive} traces at 8x the cost).\n`)
  out.write(`Monitor ${p.monitorFile} on the last hour against the hour before: ${e.decision.toUpperCase()}\n`)
  for (const c of e.result.checks) out.write(`  ${c.status.toUpperCase().padEnd(12)} ${c.check}: ${c.reason}\n`)
  if (e.next !== null) out.write(`  next: ${e.next}\n`)
  if (p.record !== null) {
    out.write(`Audit record ${p.record.seq}: ${p.record.kind} of ${p.record.subject} by ${p.record.actor}, decision ${e.decision}, monitor sha256 ${e.monitor.sha256.slice(0, 16)}…, hash ${p.record.hash.slice(0, 16)}…\n`)
  }
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
