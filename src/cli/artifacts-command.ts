import { Command } from 'commander'
import { writeFile } from 'node:fs/promises'
import { shellQuote } from '../record/replay-plan.js'
import { commandLine, type CliContext } from './context.js'
import { formatTime, PAGE_OPTIONS, parsePageOptions, writeJson, writeNextPage, writeTable } from './output.js'

export function artifactsCommand(ctx: CliContext): Command {
  const command = new Command('artifacts')
  command
    .command('ls')
    .argument('<run>', 'run id or unique prefix')
    .option('--json', 'print JSON (schema assay.artifacts/v1)')
    .action(async (runId: string, options: { json?: boolean }, self: Command) => {
      const artifacts = await ctx.withAssay(self, async (assay) => (await assay.getRun(runId)).artifacts)
      if (options.json) return writeJson(ctx.io, 'assay.artifacts/v1', { artifacts })
      writeTable(ctx.io, ['DIRECTION', 'NAME', 'SHA256', 'BYTES', 'CREATED'], artifacts.map((a) => [a.direction, a.name, a.sha256, String(a.sizeBytes), formatTime(a.createdAt)]))
    })
  command
    .command('get')
    .description('write an artifact (verified against its sha256) to a file or stdout')
    .argument('<run>', 'run id or unique prefix')
    .argument('<name>', 'artifact name')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (runId: string, name: string, options: { output?: string }, self: Command) => {
      const bytes = await ctx.withAssay(self, (assay) => assay.getArtifact(runId, name))
      if (options.output) {
        await writeFile(options.output, bytes)
        ctx.io.err.write(`wrote ${bytes.length} bytes to ${options.output}\n`)
      } else ctx.io.out.write(bytes)
    })
  command
    .command('lineage')
    .description('which runs produced and consumed the content with this sha256')
    .argument('<sha256>', 'sha256 of the content, or a unique prefix of 6 or more hex characters')
    .option(...PAGE_OPTIONS.limit)
    .option(...PAGE_OPTIONS.cursor)
    .option('--json', 'print JSON (schema assay.lineage/v1)')
    .action(async (sha256: string, options: { limit?: string; cursor?: string; json?: boolean }, self: Command) => {
      const page = parsePageOptions(options)
      const { edges, nextCursor } = await ctx.withAssay(self, async (assay) => (page !== null ? assay.lineagePage(sha256, page) : { edges: await assay.lineage(sha256), nextCursor: null }))
      if (options.json) return writeJson(ctx.io, 'assay.lineage/v1', { sha256: edges[0]?.sha256 ?? sha256, edges, nextCursor })
      writeNextPage(ctx.io, 'edges', [commandLine(self), shellQuote(sha256), ['--limit', options.limit]], nextCursor)
      writeTable(ctx.io, ['EDGE', 'RUN', 'NAME'], edges.map((e) => [e.direction === 'produced' ? 'run -> artifact' : 'artifact -> run', e.runId, e.name]))
    })
  return command
}
