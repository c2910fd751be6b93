import { Command } from 'commander'
import { AssayError, isAssayError } from '../errors.js'
import type { CliContext } from './context.js'
import { writeJson } from './output.js'

/** Promotion runs the gate registered with `assay gates set` (docs/gates.md). Exit codes: 0 promoted, 1 blocked by the gate or by unauditable traffic, 3 warned and not accepted, 2 usage or input error. */
export function promoteCommand(ctx: CliContext): Command {
  return new Command('promote')
    .argument('<model>', 'model name')
    .argument('<version>', 'version number')
    .option('--gate <file>', "optional: must be the gate registered for the model and alias (its sha256 is compared); the registered gate always decides")
    .option('--alias <alias>', 'alias to move', 'champion')
    .option('--baseline <side>', 'compare against this instead of the alias holder')
    .option('--accept-warnings', 'promote although the gate warned (needs --reason)')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .option('--json', 'print JSON (schema assay.promotion/v1)')
    .action(async (model: string, versionText: string, options: { gate?: string; alias: string; baseline?: string; acceptWarnings?: boolean; reason?: string; json?: boolean }, self: Command) => {
      const version = Number(versionText)
      if (!Number.isInteger(version) || version < 1) throw new AssayError('ASSAY_INVALID_ARGUMENT', `a version is a positive integer, got ${JSON.stringify(versionText)}`)
      try {
        const result = await ctx.withAssay(self, (assay) =>
          assay.promote({ model, version, alias: options.alias, gate: options.gate, baseline: options.baseline, acceptWarnings: options.acceptWarnings, reason: options.reason }),
        )
        if (options.json) return writeJson(ctx.io, 'assay.promotion/v1', { event: result.event, audit: { seq: result.audit.seq, hash: result.audit.hash }, evidence: result.check.evidence })
        ctx.io.out.write(
          `promoted ${model} version ${version} to ${options.alias}${result.event.previousVersion === null ? '' : ` (was version ${result.event.previousVersion})`}; gate ${result.check.evidence.gate.name}: ${result.check.evidence.decision}\n` +
            `audit record ${result.audit.seq} (${result.audit.hash.slice(0, 16)}…), evidence in record ${result.check.audit?.seq ?? '-'}\n`,
        )
      } catch (error) {
        if (isAssayError(error, 'ASSAY_GATE_BLOCKED') || isAssayError(error, 'ASSAY_UNAUDITABLE_TRAFFIC') || isAssayError(error, 'ASSAY_WARNINGS_NOT_ACCEPTED')) {
          ctx.io.err.write(`error ${error.code}: ${error.message}\n`)
          ctx.exitCode = error.code === 'ASSAY_WARNINGS_NOT_ACCEPTED' ? 3 : 1
          return
        }
        throw error
      }
    })
}
