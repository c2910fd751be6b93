import { Command } from 'commander'
import { AssayError } from '../errors.js'
import type { CanaryMetric } from '../monitor/canary.js'
import { loadMonitorFile } from '../monitor/monitor-spec.js'
import { CANARY_EXIT_CODES, MONITOR_EXIT_CODES, MONITOR_REPORT_FORMATS, renderCanaryText, renderMonitorReport, type MonitorReportFormat } from '../monitor/monitor-report.js'
import type { CliContext } from './context.js'
import { writeJson } from './output.js'

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

export function monitorCommand(ctx: CliContext): Command {
  const command = new Command('monitor')
  command
    .command('check')
    .description('compute every check of MONITOR over a deployment window and decide ok, warn, retrain, rollback or escalate; exit 0 ok, 3 warn, 1 retrain/rollback/escalate, 2 usage or input error')
    .argument('<monitor>', 'monitor file (YAML or JSON)')
    .option('--deployment <id>', "deployment id (default: the newest deployment of the monitor's deployment endpoint)")
    .option('--window <duration>', 'the window checked, ending now: 90s, 30m, 24h, 7d', '24h')
    .option('--reference <ref>', 'trailing:DURATION (the DURATION before the window) or run:RUN[:DATASET] (that eval run)', 'trailing:7d')
    .option('--format <format>', `report format: ${MONITOR_REPORT_FORMATS.join(', ')}`, 'text')
    .option('--no-record', 'decide only: append nothing to the audit log and roll nothing back')
    .action(async (file: string, options: { deployment?: string; window: string; reference: string; format: string; record: boolean }, self: Command) => {
      if (!MONITOR_REPORT_FORMATS.includes(options.format as MonitorReportFormat)) {
        throw new AssayError('ASSAY_INVALID_ARGUMENT', `--format must be one of ${MONITOR_REPORT_FORMATS.join(', ')}, got ${JSON.stringify(options.format)}`)
      }
      const monitor = loadMonitorFile(file)
      const result = await ctx.withAssay(self, (assay) =>
        assay.checkMonitor(monitor, { deployment: options.deployment, window: options.window, reference: options.reference, record: options.record }),
      )
      ctx.io.out.write(renderMonitorReport(options.format as MonitorReportFormat, result))
      ctx.exitCode = MONITOR_EXIT_CODES[result.evidence.decision]
    })
  command
    .command('validate')
    .description('parse and validate a monitor file; errors name the field and line')
    .argument('<monitor>', 'monitor file (YAML or JSON)')
    .action((file: string) => {
      const m = loadMonitorFile(file)
      const checks = [
        m.spec.stale.length > 0 ? `${m.spec.stale.length} stale` : null,
        m.spec.malformed === undefined ? null : 'malformed',
        m.spec.inconsistent === undefined ? null : `${m.spec.inconsistent.drift.length} drift`,
        'unauditable',
        m.spec.costly === undefined ? null : 'costly',
      ].filter((c) => c !== null)
      ctx.io.out.write(`${file}: valid monitor ${m.spec.monitor} (${checks.join(', ')}; rollback ${m.spec.actions.rollback}; canary act ${m.spec.canary.act}) (sha256 ${m.sha256})\n`)
    })
  command
    .command('canary')
    .description("compare the challenger deployment's traces with the champion's (paired when the same inputs were replayed) and decide promote, rollback or continue, acted on when --monitor allows it; exit 0 promote, 3 continue, 1 rollback")
    .requiredOption('--champion <id>', 'the champion deployment id')
    .requiredOption('--challenger <id>', 'the challenger deployment id')
    .option('--window <duration>', 'the window compared, ending now', '24h')
    .option('--metric <name>', 'a score, latencyMs, tokens or costUsd (repeatable; default: latency, tokens, cost and every score both carry)', collect, [])
    .option('--pairing <mode>', 'auto, paired or unpaired', 'auto')
    .option('--monitor <file>', "monitor file whose canary.act allows acting on the decision: promote (through the registered gate) or roll back the alias, citing the decision's audit record")
    .option('--json', 'print JSON (schema assay.canary-check/v1)')
    .option('--no-record', 'decide only: append nothing to the audit log and move nothing')
    .action(async (options: { champion: string; challenger: string; window: string; metric: string[]; pairing: string; monitor?: string; json?: boolean; record: boolean }, self: Command) => {
      if (!['auto', 'paired', 'unpaired'].includes(options.pairing)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `--pairing must be auto, paired or unpaired, got ${JSON.stringify(options.pairing)}`)
      const metrics: CanaryMetric[] = options.metric.map((metric) => ({ metric }))
      const result = await ctx.withAssay(self, (assay) =>
        assay.checkCanary({
          champion: options.champion,
          challenger: options.challenger,
          window: options.window,
          metrics: metrics.length > 0 ? metrics : undefined,
          pairing: options.pairing as 'auto' | 'paired' | 'unpaired',
          monitor: options.monitor === undefined ? undefined : loadMonitorFile(options.monitor),
          record: options.record,
        }),
      )
      if (options.json) writeJson(ctx.io, 'assay.canary-check/v1', { ...result })
      else ctx.io.out.write(renderCanaryText(result))
      ctx.exitCode = CANARY_EXIT_CODES[result.evidence.decision]
    })
  return command
}
