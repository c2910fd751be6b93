import { Command } from 'commander'
import { AssayError } from '../errors.js'
import { GATE_EXIT_CODES } from '../gates/decision.js'
import { loadGateFile } from '../gates/gate-spec.js'
import { GATE_REPORT_FORMATS, renderGateReport, type GateReportFormat } from '../gates/gate-report.js'
import type { CliContext } from './context.js'

export function gateCommand(ctx: CliContext): Command {
  const command = new Command('gate')
  command
    .command('check')
    .description('compute every contract check and criterion of GATE and decide; exit 0 accept, 1 block, 3 warn, 2 usage or input error')
    .argument('<gate>', 'gate file (YAML or JSON)')
    .requiredOption('--candidate <side>', 'run id, RUN1,RUN2 group, config:/filter: group, model:NAME@VERSION or alias:NAME@ALIAS')
    .option('--baseline <side>', 'same forms (default: alias:MODEL@champion when the gate names its model and the alias has a holder)')
    .option('--format <format>', `report format: ${GATE_REPORT_FORMATS.join(', ')}`, 'text')
    .option('--no-record', 'do not append the evidence to the audit log')
    .action(async (file: string, options: { candidate: string; baseline?: string; format: string; record: boolean }, self: Command) => {
      if (!GATE_REPORT_FORMATS.includes(options.format as GateReportFormat)) {
        throw new AssayError('ASSAY_INVALID_ARGUMENT', `--format must be one of ${GATE_REPORT_FORMATS.join(', ')}, got ${JSON.stringify(options.format)}`)
      }
      const gate = loadGateFile(file)
      const result = await ctx.withAssay(self, (assay) => assay.checkGate(gate, { candidate: options.candidate, baseline: options.baseline, record: options.record }))
      ctx.io.out.write(renderGateReport(options.format as GateReportFormat, result.evidence, result.audit))
      ctx.exitCode = GATE_EXIT_CODES[result.evidence.decision]
    })
  command
    .command('validate')
    .description('parse and validate a gate file; errors name the field and line')
    .argument('<gate>', 'gate file (YAML or JSON)')
    .action((file: string) => {
      const gate = loadGateFile(file)
      ctx.io.out.write(`${file}: valid gate ${gate.spec.gate} with ${gate.spec.criteria.length} criteria (sha256 ${gate.sha256})\n`)
    })
  return command
}
