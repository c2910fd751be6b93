import { Command } from 'commander'
import { AssayError } from '../errors.js'
import type { GatePolicy } from '../record/types.js'
import { shellQuote } from '../record/replay-plan.js'
import { commandLine, type CliContext } from './context.js'
import { formatTime, PAGE_OPTIONS, parsePageOptions, writeJson, writeNextPage, writeTable } from './output.js'

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
    .option(...PAGE_OPTIONS.limit)
    .option(...PAGE_OPTIONS.cursor)
    .option('--json', 'print JSON (schema assay.gate-policies/v1)')
    .action(async (model: string | undefined, options: { limit?: string; cursor?: string; json?: boolean }, self: Command) => {
      const page = parsePageOptions(options)
      const { policies, nextCursor } = await ctx.withAssay(self, async (assay) => (page !== null ? assay.gatePoliciesPage({ model, current: true, ...page }) : { policies: await assay.gatePolicies(model), nextCursor: null }))
      if (options.json) return writeJson(ctx.io, 'assay.gate-policies/v1', { policies: policies.map(({ text: _text, ...summary }) => summary), nextCursor })
      writeNextPage(ctx.io, 'gate policies', [commandLine(self), ...(model === undefined ? [] : [shellQuote(model)]), ['--limit', options.limit]], nextCursor)
      writeTable(ctx.io, ['MODEL', 'ALIAS', 'VERSION', 'GATE', 'SHA256', 'SINCE', 'BY', 'REASON'], policies.map((p) => [p.model, p.alias, String(p.version), p.gate, p.sha256.slice(0, 16), formatTime(p.at), p.actor, p.reason]))
    })
  command
    .command('show')
    .description("one version of MODEL@ALIAS's gate policy (default: the current one) with the gate file's text")
    .argument('<model>', 'model name')
    .option('--alias <alias>', 'alias', 'champion')
    // Not --version: that is the program's own option, read wherever it appears.
    .option('--policy-version <n>', 'policy version (default: the current one)')
    .option(PAGE_OPTIONS.limit[0], "one page of at most n of the alias's policy versions, oldest first, each with its text (1–1000)")
    .option(PAGE_OPTIONS.cursor[0], 'the page after the one that printed this cursor')
    .option('--json', 'print JSON (schema assay.gate-policy/v1; with --limit or --cursor assay.gate-policy-versions/v1)')
    .action(async (model: string, options: { alias: string; policyVersion?: string; limit?: string; cursor?: string; json?: boolean }, self: Command) => {
      const page = parsePageOptions(options)
      if (page !== null) {
        if (options.policyVersion !== undefined) throw new AssayError('ASSAY_INVALID_ARGUMENT', '--policy-version shows one version; --limit and --cursor page through every version: use one or the other')
        const { policies, nextCursor } = await ctx.withAssay(self, (assay) => assay.gatePoliciesPage({ model, alias: options.alias, ...page }))
        if (options.json) return writeJson(ctx.io, 'assay.gate-policy-versions/v1', { policies, nextCursor })
        writeNextPage(ctx.io, 'policy versions', [commandLine(self), shellQuote(model), ['--alias', options.alias], ['--limit', options.limit]], nextCursor)
        for (const policy of policies) writeGatePolicy(ctx, model, policy)
        return
      }
      const version = options.policyVersion === undefined ? undefined : Number(options.policyVersion)
      if (version !== undefined && (!Number.isInteger(version) || version < 1)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `a policy version is a positive integer, got ${JSON.stringify(options.policyVersion)}`)
      const policy = await ctx.withAssay(self, (assay) => assay.gatePolicy(model, { alias: options.alias, version }))
      if (options.json) return writeJson(ctx.io, 'assay.gate-policy/v1', { policy })
      writeGatePolicy(ctx, model, policy)
    })
  return command
}

/** One policy version: two comment lines, then the gate file's text. */
function writeGatePolicy(ctx: CliContext, model: string, policy: GatePolicy): void {
  ctx.io.out.write(
    `# ${model}@${policy.alias}: gate ${policy.gate}, policy version ${policy.version}\n` +
      `# sha256 ${policy.sha256}; set ${formatTime(policy.at)} by ${policy.actor} from ${policy.source} (audit record ${policy.auditSeq}): ${policy.reason}\n` +
      policy.text +
      (policy.text.endsWith('\n') ? '' : '\n'),
  )
}
