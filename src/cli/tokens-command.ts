import { Command } from 'commander'
import os from 'node:os'
import { AssayError } from '../errors.js'
import type { ApiToken, TokenScope } from '../record/types.js'
import { assertName } from '../record/validate.js'
import { hashSecret, newTokenId, newTokenSecret } from '../server/auth.js'
import type { CliContext } from './context.js'
import { formatTime, writeJson, writeTable } from './output.js'

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
    .option('--json', 'print JSON (schema assay.token/v1), secret included')
    .action(async (options: { name: string; scope: string; experiment?: string[]; json?: boolean }, self: Command) => {
      if (!['read', 'write', 'admin'].includes(options.scope)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `--scope must be read, write or admin, got ${JSON.stringify(options.scope)}`)
      assertName(options.name, 'token name')
      for (const e of options.experiment ?? []) assertName(e, 'experiment name')
      const secret = newTokenSecret()
      const token: ApiToken = {
        id: newTokenId(),
        name: options.name,
        scope: options.scope as TokenScope,
        experiments: options.experiment && options.experiment.length > 0 ? [...new Set(options.experiment)] : null,
        createdAt: Date.now(),
        createdBy: safeUser(),
        revokedAt: null,
      }
      await ctx.withAssay(self, (assay) => assay.store.createApiToken(token, hashSecret(secret)))
      if (options.json) return writeJson(ctx.io, 'assay.token/v1', { token, secret })
      ctx.io.out.write(`${secret}\n`)
      ctx.io.err.write(
        `created token ${token.id} (${token.name}, ${token.scope}, ${token.experiments ? `experiments ${token.experiments.join(', ')}` : 'all experiments'}).\n` +
          'The secret above is shown once; only its sha256 is stored. Use it as ASSAY_TOKEN.\n',
      )
    })
  command
    .command('ls')
    .option('--json', 'print JSON (schema assay.tokens/v1)')
    .action(async (options: { json?: boolean }, self: Command) => {
      const tokens = await ctx.withAssay(self, (assay) => assay.store.listApiTokens())
      if (options.json) return writeJson(ctx.io, 'assay.tokens/v1', { tokens })
      writeTable(
        ctx.io,
        ['ID', 'NAME', 'SCOPE', 'EXPERIMENTS', 'CREATED', 'REVOKED'],
        tokens.map((t) => [t.id, t.name, t.scope, t.experiments?.join(',') ?? '*', formatTime(t.createdAt), formatTime(t.revokedAt)]),
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

function safeUser(): string {
  try {
    return os.userInfo().username || 'unknown'
  } catch {
    return 'unknown'
  }
}
