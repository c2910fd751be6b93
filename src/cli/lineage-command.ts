import { Command } from 'commander'
import type { CliContext } from './context.js'
import { auditOf, modelOf, writeDeployment } from './deployments-command.js'
import { formatTime, writeJson } from './output.js'

export function lineageCommand(ctx: CliContext): Command {
  return new Command('lineage')
    .argument('<target>', 'a trace id, a deployment id, or dataset:<sha256>')
    .option('--json', 'print JSON (schema assay.serving-lineage/v1)')
    .action(async (target: string, options: { json?: boolean }, self: Command) => {
      const lineage = await ctx.withAssay(self, (assay) => assay.servingLineage(target))
      if (options.json) return writeJson(ctx.io, 'assay.serving-lineage/v1', { lineage })
      const out = ctx.io.out
      if (lineage.kind === 'dataset') {
        out.write(`dataset ${lineage.sha256} fed ${lineage.deployments.length} ${lineage.deployments.length === 1 ? 'deployment' : 'deployments'}\n`)
        for (const d of lineage.deployments) out.write(`  ${d.id}  ${d.endpoint} ${d.endpointVersion}  ${modelOf(d)}  ${formatTime(d.createdAt)}  ${auditOf(d)}\n`)
        return
      }
      if (lineage.trace !== null) out.write(`trace ${lineage.trace.traceId}  ${formatTime(lineage.trace.startTime)}\n`)
      writeDeployment(ctx, lineage.deployment)
      if (lineage.modelVersion !== null) out.write(`model version ${lineage.modelVersion.model} v${lineage.modelVersion.version}  from run ${lineage.modelVersion.runId}\n`)
      if (lineage.run !== null) {
        const code = lineage.run.code
        out.write(`run ${lineage.run.id}  ${lineage.run.experiment}/${lineage.run.name}\n`)
        out.write(`  code         ${code.commit ?? '-'}${code.dirty ? ' (dirty)' : ''}\n`)
        for (const d of lineage.run.datasets) out.write(`  dataset      ${d.name} (${d.role}) ${d.sha256}\n`)
      }
      for (const gap of lineage.gaps) out.write(`gap: ${gap}\n`)
    })
}
