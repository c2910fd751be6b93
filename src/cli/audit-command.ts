import { Command } from 'commander'
import { AssayError } from '../errors.js'
import { commandLine, type CliContext } from './context.js'
import { formatTime, PAGE_OPTIONS, parsePageOptions, writeJson, writeNextPage, writeTable } from './output.js'

export function auditCommand(ctx: CliContext): Command {
  const command = new Command('audit')
  command
    .command('ls')
    .option(...PAGE_OPTIONS.limit)
    .option(...PAGE_OPTIONS.cursor)
    .option('--json', 'print JSON (schema assay.audit/v1), bodies included')
    .action(async (options: { limit?: string; cursor?: string; json?: boolean }, self: Command) => {
      const page = parsePageOptions(options)
      const { records, nextCursor } = await ctx.withAssay(self, async (assay) => (page !== null ? assay.auditLogPage(page) : { records: await assay.auditLog(), nextCursor: null }))
      if (options.json) return writeJson(ctx.io, 'assay.audit/v1', { records, nextCursor })
      writeNextPage(ctx.io, 'records', [commandLine(self), ['--limit', options.limit]], nextCursor)
      writeTable(
        ctx.io,
        ['SEQ', 'WHEN', 'KIND', 'ACTOR', 'SUBJECT', 'OUTCOME', 'HASH'],
        records.map((r) => {
          const body = r.body as { decision?: string; from?: number | null; to?: number | null; version?: number; code?: string }
          const outcome = r.kind === 'gate-check' ? String(body.decision) : r.kind === 'promotion-refused' ? `${body.version ?? '-'} refused (${body.code ?? '-'})` : `${body.from ?? '-'} -> ${body.to ?? '-'}`
          return [String(r.seq), formatTime(r.at), r.kind, r.actor, r.subject, outcome, r.hash.slice(0, 16)]
        }),
      )
    })
  command
    .command('verify')
    .description('recompute the hash chain; exit 1 and name the first bad record when one was changed, removed or reordered')
    .option('--expect-head <hash>', 'the head hash noted earlier (detects removal of the newest records)')
    .option('--json', 'print JSON (schema assay.audit-verify/v1)')
    .action(async (options: { expectHead?: string; json?: boolean }, self: Command) => {
      const result = await ctx.withAssay(self, (assay) => assay.verifyAudit({ expectHead: options.expectHead }))
      if (options.json) writeJson(ctx.io, 'assay.audit-verify/v1', { ...result })
      if (!result.ok) {
        throw new AssayError('ASSAY_AUDIT_CHAIN_BROKEN', `audit log broken at record ${result.firstBadSeq}: ${result.problem}`, { firstBadSeq: result.firstBadSeq })
      }
      if (!options.json) ctx.io.out.write(`audit log intact: ${result.count} records, head ${result.head}\n`)
    })
  return command
}
