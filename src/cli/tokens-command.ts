import { Command } from 'commander'
import os from 'node:os'
import { AssayError } from '../errors.js'
import type { ApiToken, TokenScope } from '../record/types.js'
import { assertName } from '../record/validate.js'
import { hashSecret, newTokenId, newTokenSecret } from '../server/auth.js'
import { commandLine, type CliContext } from './context.js'
import { formatTime, PAGE_OPTIONS, parsePageOptions, writeJson, writeNextPage, writeTable } from './output.js'

/**
 * `assay tokens`: API tokens of `assay server`, created and revoked on the store itself
 * (--store / ASSAY_STORE), which is how an admin makes the first one; against a server URL they
 * need an admin token.
 */
export function tokensCommand(ctx: CliContext): Command {
  const command = new Command('tokens')
  command
    .command('create')
    .requiredOption('--name <name>', 'who or what the token is for')
    .requiredOption('--scope <scope>', 'read, write or admin')
    .option('--experiment <name...>', 'limit the token to these experiments (default: all)')
    .option('--expires-in <duration>', 'refuse the token after this long: a number and s, m, h, d or w (30d, 12h); default: never')
    .option('--json', 'print JSON (schema assay.token/v1), secret included')
    .action(async (options: { name: string; scope: string; experiment?: string[]; expiresIn?: string; json?: boolean }, self: Command) => {
      if (!['read', 'write', 'admin'].includes(options.scope)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `--scope must be read, write or admin, got ${JSON.stringify(options.scope)}`)
      assertName(options.name, 'token name')
      for (const e of options.experiment ?? []) assertName(e, 'experiment name')
      const createdAt = Date.now()
      const expiresAt = options.expiresIn === undefined ? null : createdAt + durationMs(options.expiresIn)
      const secret = newTokenSecret()
      const token: ApiToken = {
        id: newTokenId(),
        name: options.name,
        scope: options.scope as TokenScope,
        experiments: options.experiment && options.experiment.length > 0 ? [...new Set(options.experiment)] : null,
        createdAt,
        createdBy: safeUser(),
        revokedAt: null,
        expiresAt,
      }
      await ctx.withAssay(self, (assay) => assay.store.createApiToken(token, hashSecret(secret)))
      if (options.json) return writeJson(ctx.io, 'assay.token/v1', { token, secret })
      ctx.io.out.write(`${secret}\n`)
      ctx.io.err.write(
        `created token ${token.id} (${token.name}, ${token.scope}, ${token.experiments ? `experiments ${token.experiments.join(', ')}` : 'all experiments'}${expiresAt === null ? '' : `, expires ${formatTime(expiresAt)}`}).\n` +
          'The secret above is shown once; only its sha256 is stored. Use it as ASSAY_TOKEN.\n',
      )
    })
  command
    .command('ls')
    .option(...PAGE_OPTIONS.limit)
    .option(...PAGE_OPTIONS.cursor)
    .option('--json', 'print JSON (schema assay.tokens/v1)')
    .action(async (options: { limit?: string; cursor?: string; json?: boolean }, self: Command) => {
      const page = parsePageOptions(options)
      const { tokens, nextCursor } = await ctx.withAssay(self, async (assay) => (page !== null ? assay.listApiTokensPage(page) : { tokens: await assay.store.listApiTokens(), nextCursor: null }))
      if (options.json) return writeJson(ctx.io, 'assay.tokens/v1', { tokens, nextCursor })
      writeNextPage(ctx.io, 'tokens', [commandLine(self), ['--limit', options.limit]], nextCursor)
      writeTable(
        ctx.io,
        ['ID', 'NAME', 'SCOPE', 'EXPERIMENTS', 'CREATED', 'EXPIRES', 'REVOKED'],
        tokens.map((t) => [t.id, t.name, t.scope, t.experiments?.join(',') ?? '*', formatTime(t.createdAt), formatTime(t.expiresAt), formatTime(t.revokedAt)]),
      )
    })
  command
    .command('revoke')
    .argument('<id>', 'token id (tok_…)')
    .action(async (id: string, _options: unknown, self: Command) => {
      await ctx.withAssay(self, (assay) => assay.store.revokeApiToken(id, Date.now()))
      ctx.io.err.write(`revoked ${id}\n`)
    })
  return command
}

const DURATION_UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** `30d`, `12h`, `90m`… in milliseconds; anything else is a usage error. */
function durationMs(text: string): number {
  const match = /^([1-9][0-9]{0,5})([smhdw])$/.exec(text.trim())
  if (match === null) throw new AssayError('ASSAY_INVALID_ARGUMENT', `--expires-in must be a positive whole number and a unit s, m, h, d or w (30d, 12h), got ${JSON.stringify(text)}`)
  return Number(match[1]) * (DURATION_UNIT_MS[match[2]] as number)
}

function safeUser(): string {
  try {
    return os.userInfo().username || 'unknown'
  } catch {
    return 'unknown'
  }
}
