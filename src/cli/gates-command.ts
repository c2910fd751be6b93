import { Command } from 'commander'
import { AssayError } from '../errors.js'
import type { CliContext } from './context.js'
import { formatTime, writeJson, writeTable } from './output.js'

/** Gate policies: the gate each model alias is promoted through, held by the store (docs/gates.md). */
export function gatesCommand(ctx: CliContext): Command {
  const command = new Command('gates')
  command
    .command('set')
    .description('register GATE as the gate MODEL@ALIAS is promoted through: a new policy version, recorded in the audit log (over HTTP, admin only)')
    .argument('<model>', 'model name')
    .argument('<gate>', 'gate file (YAML or JSON)')
    .option('--alias <alias>', 'the alias this gate guards', 'champion')
    .requiredOption('--reason <text>', 'why the gate changes (recorded in the audit log)')
    .option('--json', 'print JSON (schema assay.gate-policy/v1)')
    .action(async (model: string, gate: string, options: { alias: string; reason: string; json?: boolean }, self: Command) => {
      const policy = await ctx.withAssay(self, (assay) => assay.setGatePolicy(model, { alias: options.alias, gate, reason: options.reason }))
      if (options.json) return writeJson(ctx.io, 'assay.gate-policy/v1', { policy })
      ctx.io.out.write(`${model}@${policy.alias} is promoted through gate ${policy.gate} (policy version ${policy.version}, sha256 ${policy.sha256.slice(0, 16)}…); audit record ${policy.auditSeq}\n`)
    })
  command
    .command('ls')
    .description('the current gate policy of every model alias (or of one model)')
    .argument('[model]', 'model name')
    .option('--json', 'print JSON (schema assay.gate-policies/v1)')
    .action(async (model: string | undefined, options: { json?: boolean }, self: Command) => {
      const policies = await ctx.withAssay(self, (assay) => assay.gatePolicies(model))
      if (options.json) return writeJson(ctx.io, 'assay.gate-policies/v1', { policies: policies.map(({ text: _text, ...summary }) => summary) })
      writeTable(ctx.io, ['MODEL', 'ALIAS', 'VERSION', 'GATE', 'SHA256', 'SINCE', 'BY', 'REASON'], policies.map((p) => [p.model, p.alias, String(p.version), p.gate, p.sha256.slice(0, 16), formatTime(p.at), p.actor, p.reason]))
    })
  command
    .command('show')
    .description("one version of MODEL@ALIAS's gate policy (default: the current one) with the gate file's text")
    .argument('<model>', 'model name')
    .option('--alias <alias>', 'alias', 'champion')
    // Not --version: that is the program's own option, read wherever it appears.
    .option('--policy-version <n>', 'policy version (default: the current one)')
    .option('--json', 'print JSON (schema assay.gate-policy/v1)')
    .action(async (model: string, options: { alias: string; policyVersion?: string; json?: boolean }, self: Command) => {
      const version = options.policyVersion === undefined ? undefined : Number(options.policyVersion)
      if (version !== undefined && (!Number.isInteger(version) || version < 1)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `a policy version is a positive integer, got ${JSON.stringify(options.policyVersion)}`)
      const policy = await ctx.withAssay(self, (assay) => assay.gatePolicy(model, { alias: options.alias, version }))
      if (options.json) return writeJson(ctx.io, 'assay.gate-policy/v1', { policy })
      ctx.io.out.write(
        `# ${model}@${policy.alias}: gate ${policy.gate}, policy version ${policy.version}\n` +
          `# sha256 ${policy.sha256}; set ${formatTime(policy.at)} by ${policy.actor} from ${policy.source} (audit record ${policy.auditSeq}): ${policy.reason}\n` +
          policy.text +
          (policy.text.endsWith('\n') ? '' : '\n'),
      )
    })
  return command
}
