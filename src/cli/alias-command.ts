import { Command } from 'commander'
import { AssayError } from '../errors.js'
import { shellQuote } from '../record/replay-plan.js'
import { commandLine, type CliContext } from './context.js'
import { formatTime, PAGE_OPTIONS, parsePageOptions, writeJson, writeNextPage, writeTable } from './output.js'

export function aliasCommand(ctx: CliContext): Command {
  const command = new Command('alias')
  command
    .command('set')
    .description('point an alias at a version by hand (no gate; use `assay promote` to go through one); recorded in the audit log')
    .argument('<model>', 'model name')
    .argument('<alias>', 'alias name')
    .argument('<version>', 'version number')
    .option('--reason <text>', 'why', '')
    .option('--json', 'print JSON (schema assay.alias-event/v1)')
    .action(async (model: string, alias: string, versionText: string, options: { reason: string; json?: boolean }, self: Command) => {
      const version = Number(versionText)
      if (!Number.isInteger(version) || version < 1) throw new AssayError('ASSAY_INVALID_ARGUMENT', `a version is a positive integer, got ${JSON.stringify(versionText)}`)
      const event = await ctx.withAssay(self, (assay) => assay.setAlias(model, alias, version, { reason: options.reason }))
      if (options.json) return writeJson(ctx.io, 'assay.alias-event/v1', { event })
      ctx.io.out.write(`${model}@${alias} -> version ${version}${event.previousVersion === null ? '' : ` (was ${event.previousVersion})`}\n`)
    })
  command
    .command('ls')
    .description("a model's aliases with their holders, or with --history every move")
    .argument('<model>', 'model name')
    .option('--history', 'every alias event, oldest first')
    .option('--alias <alias>', 'only this alias (with --history)')
    .option(PAGE_OPTIONS.limit[0], 'with --history: one page of at most n events (1–1000; default: every event)')
    .option(PAGE_OPTIONS.cursor[0], 'with --history: the page after the one that printed this cursor')
    .option('--json', 'print JSON (schema assay.aliases/v1)')
    .action(async (model: string, options: { history?: boolean; alias?: string; limit?: string; cursor?: string; json?: boolean }, self: Command) => {
      const page = parsePageOptions(options)
      if (page !== null && !options.history) throw new AssayError('ASSAY_INVALID_ARGUMENT', '--limit and --cursor page the alias history: add --history')
      const result = await ctx.withAssay(self, async (assay) => {
        const aliases = (await assay.showModel(model)).aliases
        if (!options.history) return { aliases, history: null, nextCursor: null }
        if (page === null) return { aliases, history: await assay.aliasHistory(model, options.alias), nextCursor: null }
        const events = await assay.aliasHistoryPage(model, { alias: options.alias, ...page })
        return { aliases, history: events.events, nextCursor: events.nextCursor }
      })
      if (options.json) return writeJson(ctx.io, 'assay.aliases/v1', { model, ...result })
      writeNextPage(ctx.io, 'events', [commandLine(self), shellQuote(model), '--history', ['--alias', options.alias], ['--limit', options.limit]], result.nextCursor)
      if (result.history !== null) {
        writeTable(ctx.io, ['SEQ', 'ALIAS', 'KIND', 'FROM', 'TO', 'WHEN', 'WHO', 'AUDIT', 'REASON'], result.history.map((e) => [String(e.seq), e.alias, e.kind, e.previousVersion === null ? '-' : String(e.previousVersion), e.version === null ? '-' : String(e.version), formatTime(e.at), e.actor, e.auditSeq === null ? '-' : String(e.auditSeq), e.reason]))
      } else {
        writeTable(ctx.io, ['ALIAS', 'VERSION', 'SINCE', 'HOW', 'BY'], result.aliases.map((a) => [a.alias, a.version === null ? '(removed)' : String(a.version), formatTime(a.since), a.kind, a.actor]))
      }
    })
  return command
}
