import { Command, CommanderError } from 'commander'
import { createRequire } from 'node:module'
import { isAssayError, storeFullError } from '../errors.js'
import { aliasCommand } from './alias-command.js'
import { artifactsCommand } from './artifacts-command.js'
import { auditCommand } from './audit-command.js'
import { compareCommand } from './compare-command.js'
import { createContext, type CliContext } from './context.js'
import { demoCommand } from './demo-command.js'
import { experimentsCommand } from './experiments-command.js'
import { gateCommand } from './gate-command.js'
import { leaderboardCommand } from './leaderboard-command.js'
import { modelsCommand } from './models-command.js'
import type { CliIo } from './output.js'
import { promoteCommand } from './promote-command.js'
import { replayCommand } from './replay-command.js'
import { reportCommand } from './report-command.js'
import { rollbackCommand } from './rollback-command.js'
import { runsCommand } from './runs-command.js'
import { serverCommand } from './server-command.js'
import { syncCommand } from './sync-command.js'
import { tokensCommand } from './tokens-command.js'
import { varianceCommand } from './variance-command.js'

/** Exit codes (docs/cli.md): 0 success, 1 an unexpected failure, 2 a usage or input error. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const

export const ASSAY_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version

export function buildProgram(io: CliIo, ctx: CliContext = createContext(io)): Command {
  const program = new Command('assay')
    .description('experiment tracking that tells whether a difference between two models is real')
    .version(ASSAY_VERSION)
    .option('--store <location>', 'store directory or URL (default: ASSAY_STORE, ASSAY_HOME, then ./.assay)')
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) })
    .exitOverride()
    .showHelpAfterError()
  for (const command of [experimentsCommand(ctx), runsCommand(ctx), replayCommand(ctx), artifactsCommand(ctx), compareCommand(ctx), varianceCommand(ctx), leaderboardCommand(ctx), reportCommand(ctx), demoCommand(ctx), serverCommand(ctx), tokensCommand(ctx), syncCommand(ctx), modelsCommand(ctx), aliasCommand(ctx), gateCommand(ctx), promoteCommand(ctx), rollbackCommand(ctx), auditCommand(ctx)]) {
    program.addCommand(command.exitOverride().configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) }))
    for (const sub of command.commands) sub.exitOverride().configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) })
  }
  return program
}

/** Run the CLI; resolves to the exit code. Errors are printed as "error CODE: message". */
export async function main(argv: string[], io: CliIo = { out: process.stdout, err: process.stderr }): Promise<number> {
  const ctx = createContext(io)
  const program = buildProgram(io, ctx)
  try {
    await program.parseAsync(argv)
    return ctx.exitCode ?? EXIT.ok
  } catch (caught) {
    const error = storeFullError(caught) ?? caught
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage
    }
    if (isAssayError(error)) {
      io.err.write(`error ${error.code}: ${error.message}\n`)
      return error.status < 500 ? EXIT.usage : EXIT.failure
    }
    io.err.write(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    return EXIT.failure
  }
}
