import { Command } from 'commander'
import type { Deployment } from '../record/production.js'
import { commandLine, type CliContext } from './context.js'
import { formatTime, PAGE_OPTIONS, parsePageOptions, writeJson, writeNextPage, writeTable } from './output.js'

export function deploymentsCommand(ctx: CliContext): Command {
  const command = new Command('deployments')
  command
    .command('ls')
    .description('deployments, oldest first: endpoint, model version, owner, and what makes one unauditable')
    .option('--endpoint <name>', 'only deployments of this endpoint')
    .option(...PAGE_OPTIONS.limit)
    .option(...PAGE_OPTIONS.cursor)
    .option('--json', 'print JSON (schema assay.deployments/v1)')
    .action(async (options: { endpoint?: string; limit?: string; cursor?: string; json?: boolean }, self: Command) => {
      const page = parsePageOptions(options) ?? { limit: undefined, cursor: undefined }
      const { deployments, nextCursor } = await ctx.withAssay(self, (assay) => assay.listDeploymentsPage({ endpoint: options.endpoint, ...page }))
      if (options.json) return writeJson(ctx.io, 'assay.deployments/v1', { deployments, nextCursor })
      writeNextPage(ctx.io, 'deployments', [commandLine(self), ['--endpoint', options.endpoint], ['--limit', options.limit]], nextCursor)
      if (deployments.length === 0) return void ctx.io.out.write('no deployments yet: record one with assay.deploy(...) (docs/production.md)\n')
      writeTable(
        ctx.io,
        ['ID', 'ENDPOINT', 'VERSION', 'MODEL', 'ENVIRONMENT', 'OWNER', 'CREATED', 'AUDIT'],
        deployments.map((d) => [d.id, d.endpoint, d.endpointVersion, modelOf(d), d.environment, d.owner ?? '-', formatTime(d.createdAt), auditOf(d)]),
      )
    })
  command
    .command('show')
    .description('one deployment: what it serves, its code, its input dataset versions')
    .argument('<id>', 'deployment id')
    .option('--json', 'print JSON (schema assay.deployment/v1)')
    .action(async (id: string, options: { json?: boolean }, self: Command) => {
      const deployment = await ctx.withAssay(self, (assay) => assay.getDeployment(id))
      if (options.json) return writeJson(ctx.io, 'assay.deployment/v1', { deployment })
      writeDeployment(ctx, deployment)
    })
  return command
}

export function modelOf(d: Deployment): string {
  if (d.model === null) return '-'
  const version = d.modelVersion === null ? '?' : `v${d.modelVersion}`
  return d.alias === null ? `${d.model} ${version}` : `${d.model}@${d.alias} (${version})`
}

export function auditOf(d: Deployment): string {
  return d.unauditable.length === 0 ? 'ok' : `unauditable: no ${d.unauditable.join(', ')}`
}

export function writeDeployment(ctx: CliContext, d: Deployment): void {
  const out = ctx.io.out
  out.write(`deployment ${d.id}\n`)
  out.write(`  endpoint     ${d.endpoint} ${d.endpointVersion} (${d.environment})\n`)
  out.write(`  model        ${modelOf(d)}\n`)
  out.write(`  code         ${d.codeHash ?? '-'}\n`)
  out.write(`  owner        ${d.owner ?? '-'}\n`)
  out.write(`  created      ${formatTime(d.createdAt)}\n`)
  out.write(`  audit        ${auditOf(d)}\n`)
  for (const input of d.inputs) out.write(`  input        ${input.name} ${input.sha256} (${input.source})\n`)
}
