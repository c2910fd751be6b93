import { Command } from 'commander'
import { AssayError } from '../errors.js'
import { shellQuote } from '../record/replay-plan.js'
import { commandLine, type CliContext } from './context.js'
import { formatTime, PAGE_OPTIONS, parsePageOptions, writeJson, writeNextPage, writeTable } from './output.js'

function parseTags(values: string[] | undefined): Record<string, string> {
  const tags: Record<string, string> = {}
  for (const v of values ?? []) {
    const eq = v.indexOf('=')
    if (eq <= 0) throw new AssayError('ASSAY_INVALID_ARGUMENT', `--tag takes KEY=VALUE, got ${JSON.stringify(v)}`)
    tags[v.slice(0, eq)] = v.slice(eq + 1)
  }
  return tags
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

export function modelsCommand(ctx: CliContext): Command {
  const command = new Command('models')
  command
    .command('create')
    .argument('<name>', 'model name')
    .requiredOption('--owner <owner>', 'who owns the model (required)')
    .option('--description <text>', 'description', '')
    .option('--tag <key=value>', 'a tag (repeatable)', collect)
    .option('--json', 'print JSON (schema assay.model/v1)')
    .action(async (name: string, options: { owner: string; description: string; tag?: string[]; json?: boolean }, self: Command) => {
      const model = await ctx.withAssay(self, (assay) => assay.createModel({ name, owner: options.owner, description: options.description, tags: parseTags(options.tag) }))
      if (options.json) return writeJson(ctx.io, 'assay.model/v1', { model })
      ctx.io.out.write(`created model ${model.name} (owner ${model.owner})\n`)
    })
  command
    .command('ls')
    .option(...PAGE_OPTIONS.limit)
    .option(...PAGE_OPTIONS.cursor)
    .option('--json', 'print JSON (schema assay.models/v1)')
    .action(async (options: { limit?: string; cursor?: string; json?: boolean }, self: Command) => {
      const page = parsePageOptions(options)
      const { models, nextCursor } = await ctx.withAssay(self, async (assay) => (page !== null ? assay.listModelsPage(page) : { models: await assay.listModels(), nextCursor: null }))
      if (options.json) return writeJson(ctx.io, 'assay.models/v1', { models, nextCursor })
      writeNextPage(ctx.io, 'models', [commandLine(self), ['--limit', options.limit]], nextCursor)
      writeTable(ctx.io, ['NAME', 'OWNER', 'CREATED', 'DESCRIPTION'], models.map((m) => [m.name, m.owner, formatTime(m.createdAt), m.description]))
    })
  command
    .command('show')
    .argument('<name>', 'model name')
    .option(PAGE_OPTIONS.limit[0], 'one page of at most n versions (1–1000; default: every version)')
    .option(...PAGE_OPTIONS.cursor)
    .option('--json', 'print JSON (schema assay.model-detail/v1)')
    .action(async (name: string, options: { limit?: string; cursor?: string; json?: boolean }, self: Command) => {
      const page = parsePageOptions(options)
      const shown = await ctx.withAssay(self, (assay) => assay.showModel(name, page ?? undefined))
      if (options.json) return writeJson(ctx.io, 'assay.model-detail/v1', { ...shown })
      writeNextPage(ctx.io, 'versions', [commandLine(self), shellQuote(name), ['--limit', options.limit]], shown.nextCursor)
      const out = ctx.io.out
      out.write(`model ${shown.model.name}\n  owner: ${shown.model.owner}\n  description: ${shown.model.description || '-'}\n  tags: ${Object.entries(shown.model.tags).map(([k, v]) => `${k}=${v}`).join(', ') || '-'}\n\n`)
      writeTable(ctx.io, ['VERSION', 'RUN', 'ARTIFACT', 'CREATED', 'BY'], shown.versions.map((v) => [String(v.version), v.runId, v.artifact === null ? '-' : `${v.artifact.name} (${v.artifact.sha256.slice(0, 12)})`, formatTime(v.createdAt), v.createdBy]))
      out.write('\n')
      writeTable(ctx.io, ['ALIAS', 'VERSION', 'SINCE', 'HOW', 'BY'], shown.aliases.map((a) => [a.alias, a.version === null ? '(removed)' : String(a.version), formatTime(a.since), a.kind, a.actor]))
    })
  const version = new Command('version').description('versions of a model')
  version
    .command('add')
    .argument('<model>', 'model name')
    .argument('<run>', 'run id or unique prefix the version is made from')
    .option('--artifact <name>', "the run's produced artifact that is the model (e.g. model/weights.json)")
    .option('--description <text>', 'description', '')
    .option('--tag <key=value>', 'a tag (repeatable)', collect)
    .option('--json', 'print JSON (schema assay.model-version/v1)')
    .action(async (model: string, run: string, options: { artifact?: string; description: string; tag?: string[]; json?: boolean }, self: Command) => {
      const v = await ctx.withAssay(self, (assay) => assay.addModelVersion({ model, run, artifact: options.artifact, description: options.description, tags: parseTags(options.tag) }))
      if (options.json) return writeJson(ctx.io, 'assay.model-version/v1', { version: v })
      ctx.io.out.write(`${model} version ${v.version} from run ${v.runId}${v.artifact === null ? '' : ` (${v.artifact.name}, sha256 ${v.artifact.sha256})`}\n`)
    })
  command.addCommand(version)
  return command
}
