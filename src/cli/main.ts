import { Command, CommanderError, Help } from 'commander'
import { isAssayError, storeFullError } from '../errors.js'
import { createContext, type CliContext } from './context.js'
import { writeError, type CliIo } from './output.js'
import { ASSAY_VERSION } from '../version.js'

/** Exit codes (docs/cli.md): 0 success, 1 an unexpected failure, 2 a usage or input error. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const

type CommandFactory = (ctx: CliContext) => Command

/**
 * Every command with what `assay --help` shows of it and how to load it. A command's code (and what
 * it imports: statistics, gates, the server) is imported only when that command runs or shows its
 * own help, so `assay --version` or `assay runs ls` do not pay for the rest (bench/cli-startup.ts).
 * `term` is the command's line in the listing; a test checks it against the loaded command.
 */
export const COMMANDS: readonly { name: string; term: string; description: string; load: () => Promise<CommandFactory> }[] = [
  { name: 'experiments', term: 'experiments', description: 'experiments in the store', load: async () => (await import('./experiments-command.js')).experimentsCommand },
  { name: 'runs', term: 'runs', description: 'list, show and compare the record of runs; metric histories as tables and charts', load: async () => (await import('./runs-command.js')).runsCommand },
  { name: 'replay', term: 'replay [options] <run>', description: 'the exact steps to reproduce a run, and what cannot be reproduced and why', load: async () => (await import('./replay-command.js')).replayCommand },
  {
    name: 'import',
    term: 'import [options] <format> <path>',
    description: 'import result files of lm-evaluation-harness, promptfoo or Inspect AI as runs with per-example eval records (docs/import.md)',
    load: async () => (await import('./import-command.js')).importCommand,
  },
  { name: 'artifacts', term: 'artifacts', description: 'content-addressed artifacts of runs', load: async () => (await import('./artifacts-command.js')).artifactsCommand },
  {
    name: 'compare',
    term: 'compare [options] <a> <b>',
    description: 'is A better than B on a metric? paired per example, or across groups of seeds; verdict, estimate, interval, p-value',
    load: async () => (await import('./compare-command.js')).compareCommand,
  },
  {
    name: 'variance',
    term: 'variance [options] <group>',
    description: 'how much a metric moves across seeds, examples and data splits; the standard error a single run really has',
    load: async () => (await import('./variance-command.js')).varianceCommand,
  },
  {
    name: 'leaderboard',
    term: 'leaderboard [options]',
    description: 'candidates against a baseline with multiplicity control; ranks, Friedman and Nemenyi CD across datasets; holdout ledger; ladder',
    load: async () => (await import('./leaderboard-command.js')).leaderboardCommand,
  },
  {
    name: 'report',
    term: 'report [options] [a] [b]',
    description: 'write a comparison (A B) or a leaderboard (--leaderboard) as Markdown and as one self-contained HTML file with plots',
    load: async () => (await import('./report-command.js')).reportCommand,
  },
  {
    name: 'demo',
    term: 'demo [options]',
    description: 'run a real small experiment (logistic regression, two configurations × five seeds) and record everything',
    load: async () => (await import('./demo-command.js')).demoCommand,
  },
  {
    name: 'server',
    term: 'server [options]',
    description: 'serve the store (--store) over HTTP for a team: SDK and CLI use it with ASSAY_TRACKING_URI=http://host:port',
    load: async () => (await import('./server-command.js')).serverCommand,
  },
  {
    name: 'ui',
    term: 'ui [options]',
    description: 'the web UI over the store on 127.0.0.1: runs, a run with its charts, comparisons, the registry with gate decisions, the audit log, production (docs/ui.md)',
    load: async () => (await import('./ui-command.js')).uiCommand,
  },
  { name: 'tokens', term: 'tokens', description: 'API tokens of assay server: create (the secret is printed once), list, revoke', load: async () => (await import('./tokens-command.js')).tokensCommand },
  {
    name: 'sync',
    term: 'sync [options]',
    description: 'upload writes spooled while the server was unreachable (this machine, processes that have exited)',
    load: async () => (await import('./sync-command.js')).syncCommand,
  },
  { name: 'models', term: 'models', description: 'the model registry: models, versions made from runs, and their aliases', load: async () => (await import('./models-command.js')).modelsCommand },
  { name: 'alias', term: 'alias', description: 'aliases of registered models (champion, challenger, any name) with their full history', load: async () => (await import('./alias-command.js')).aliasCommand },
  { name: 'gate', term: 'gate', description: 'promotion gates: decide accept, warn or block on intervals and tests (docs/gates.md)', load: async () => (await import('./gate-command.js')).gateCommand },
  {
    name: 'gates',
    term: 'gates',
    description: 'gate policies: the gate each model alias is promoted through, held by the store (set by an admin, versioned, audited)',
    load: async () => (await import('./gates-command.js')).gatesCommand,
  },
  {
    name: 'promote',
    term: 'promote [options] <model> <version>',
    description: 'move an alias to a version only when its registered gate accepts (a warn needs --accept-warnings and --reason); all or nothing',
    load: async () => (await import('./promote-command.js')).promoteCommand,
  },
  { name: 'rollback', term: 'rollback [options] <model>', description: "restore an alias's previous holder, recorded in the audit log", load: async () => (await import('./rollback-command.js')).rollbackCommand },
  {
    name: 'deployments',
    term: 'deployments',
    description: 'what serves in production: endpoint and version, model version, code, input data, owner (docs/production.md)',
    load: async () => (await import('./deployments-command.js')).deploymentsCommand,
  },
  { name: 'traces', term: 'traces', description: 'traces of a deployment (OTLP or the SDK): list, and one as a span tree with tokens, cost and lineage', load: async () => (await import('./traces-command.js')).tracesCommand },
  {
    name: 'monitor',
    term: 'monitor',
    description: 'production monitors: check a deployment window (ok, warn, retrain, rollback, escalate; recorded), compare a canary, validate a monitor file',
    load: async () => (await import('./monitor-command.js')).monitorCommand,
  },
  {
    name: 'lineage',
    term: 'lineage [options] <target>',
    description: 'from a trace or deployment down to the model version, run, datasets and code; from dataset:<sha256> up to the deployments it fed',
    load: async () => (await import('./lineage-command.js')).lineageCommand,
  },
  {
    name: 'audit',
    term: 'audit',
    description: 'the append-only, hash-chained audit log of gate checks, promotions, rollbacks and alias moves',
    load: async () => (await import('./audit-command.js')).auditCommand,
  },
]

/** The store lookup order of src/store/open-store.ts, as --store's help states it. */
export const STORE_HELP =
  'store: a directory (embedded SQLite), sqlite:<path>, postgres://… or http(s)://… of an assay server; default, in order: ASSAY_STORE, ASSAY_TRACKING_URI, ASSAY_HOME, then ./.assay'

/**
 * The program with the commands named in `load` built in full and the others as light entries
 * (name and description) for the help listing. `load: 'all'` builds every command.
 */
export async function buildProgram(io: CliIo, ctx: CliContext = createContext(io), load: 'all' | readonly string[] = 'all'): Promise<Command> {
  const terms = new Map(COMMANDS.map((c) => [c.name, c.term]))
  const program = new Command('assay')
    .description('experiment tracking that tells whether a difference between two models is real')
    .version(ASSAY_VERSION)
    .option('--store <location>', STORE_HELP)
    .configureHelp({ subcommandTerm: (command) => terms.get(command.name()) ?? new Help().subcommandTerm(command) })
    .showHelpAfterError()
  for (const entry of COMMANDS) {
    const command = load === 'all' || load.includes(entry.name) ? (await entry.load())(ctx) : new Command(entry.name)
    program.addCommand(command.description(entry.description))
  }
  forEachCommand(program, (command) => command.exitOverride().configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) }))
  reportUnknownOptionsFirst(program)
  return program
}

function forEachCommand(command: Command, visit: (command: Command) => void): void {
  visit(command)
  for (const sub of command.commands) forEachCommand(sub, visit)
}

/**
 * Commander checks required options before unknown ones, so `--metrc acc` would be reported as a
 * missing --metric. Required options are checked here instead, in a hook that runs after the
 * unknown-option check (which names the closest option).
 */
function reportUnknownOptionsFirst(program: Command): void {
  const required = new Map<Command, { flags: string; key: string }[]>()
  forEachCommand(program, (command) => {
    for (const option of command.options) {
      if (!option.mandatory) continue
      option.mandatory = false
      required.set(command, [...(required.get(command) ?? []), { flags: option.flags, key: option.attributeName() }])
    }
  })
  program.hook('preAction', (_root, action) => {
    for (let command: Command | null = action; command !== null; command = command.parent) {
      for (const option of required.get(command) ?? []) {
        if (command.getOptionValue(option.key) === undefined) command.error(`error: required option '${option.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' })
      }
    }
  })
}

/**
 * The command a command line runs: the first word that is not an option (or the word after
 * `help`). Only that command's code is loaded; with none (`assay --help`), none is.
 */
export function requestedCommand(args: readonly string[]): string | undefined {
  const words: string[] = []
  for (let i = 0; i < args.length && words.length < 2; i++) {
    const arg = args[i]
    if (arg === '--') break
    if (arg === '--store') i++
    else if (!arg.startsWith('-')) words.push(arg)
  }
  return words[0] === 'help' ? words[1] : words[0]
}

/** Whether the command line asks for JSON, so that an error is written as JSON too. */
function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf('--')
  return (end === -1 ? args : args.slice(0, end)).includes('--json')
}

/**
 * Run the CLI; resolves to the exit code. Errors are printed as "error CODE: message", or with
 * --json as {"error": {code, message, details}} on stderr (docs/cli.md).
 */
export async function main(argv: string[], io: CliIo = { out: process.stdout, err: process.stderr }): Promise<number> {
  const args = argv.slice(2)
  const json = wantsJson(args)
  const ctx = createContext(io)
  try {
    const name = requestedCommand(args)
    const program = await buildProgram(io, ctx, name === undefined ? [] : [name])
    // Under --json, commander's own error text gives way to the JSON error written below.
    if (json) forEachCommand(program, (command) => command.configureOutput({ writeErr: () => undefined }))
    await program.parseAsync(argv)
    return ctx.exitCode ?? EXIT.ok
  } catch (caught) {
    const error = storeFullError(caught) ?? caught
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      if (error.exitCode === 0) return EXIT.ok
      if (json) writeError(io, { code: 'ASSAY_USAGE', message: error.message.replace(/^error: /, '').replaceAll('\n', ' '), details: { commander: error.code } })
      return EXIT.usage
    }
    if (isAssayError(error)) {
      if (json) writeError(io, { code: error.code, message: error.message, details: error.details ?? {} })
      else io.err.write(`error ${error.code}: ${error.message}\n`)
      return error.status < 500 ? EXIT.usage : EXIT.failure
    }
    if (json) writeError(io, { code: 'ASSAY_INTERNAL', message: error instanceof Error ? error.message : String(error), details: {} })
    else io.err.write(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    return EXIT.failure
  }
}
