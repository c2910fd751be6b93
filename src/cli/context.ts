import type { Command } from 'commander'
import type { Assay } from '../sdk/assay.js'
import { shellQuote } from '../record/replay-plan.js'
import type { CliIo } from './output.js'

export interface CliContext {
  io: CliIo
  /** Open the store named by --store (or ASSAY_STORE / ASSAY_TRACKING_URI / ASSAY_HOME / ./.assay), run `body`, close it. */
  withAssay<T>(command: Command, body: (assay: Assay) => Promise<T>): Promise<T>
  /** A command that ends normally with its own exit code (assay gate check: 0, 1 or 3) sets it here. */
  exitCode?: number
}

export function createContext(io: CliIo): CliContext {
  return {
    io,
    async withAssay(command, body) {
      const { store } = command.optsWithGlobals<{ store?: string }>()
      // Loaded here, not at start-up: `assay --help` and `assay --version` never open a store.
      const { Assay } = await import('../sdk/assay.js')
      // A read never creates an empty embedded store (a typo in --store, the wrong directory).
      const assay = await Assay.open({ store, create: !isReadOnly(command) })
      try {
        return await body(assay)
      } finally {
        await assay.close()
      }
    },
  }
}

/**
 * Commands that only read the store (compare, leaderboard and report may append to the holdout
 * ledger of a store that exists, but never create one).
 */
export const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set([
  'experiments ls',
  'runs ls',
  'runs show',
  'runs diff',
  'runs metrics',
  'replay',
  'artifacts ls',
  'artifacts get',
  'artifacts lineage',
  'compare',
  'variance',
  'leaderboard',
  'report',
  'models ls',
  'models show',
  'alias ls',
  'audit ls',
  'audit verify',
  'tokens ls',
  'deployments ls',
  'deployments show',
  'traces ls',
  'traces show',
  'lineage',
])

export function isReadOnly(command: Command): boolean {
  return READ_ONLY_COMMANDS.has(commandPath(command))
}

/**
 * The words after the program that run `command` again, for a printed next-page command: `--store
 * LOCATION` when the user passed one (a URL's password left out: it is never printed), then the
 * command's path.
 */
export function commandLine(command: Command): string {
  const { store } = command.optsWithGlobals<{ store?: string }>()
  const path = commandPath(command)
  return store === undefined || store === '' ? path : `--store ${shellQuote(withoutPassword(store))} ${path}`
}

/** A store location as it may be printed: a URL's password (and any query, which may carry a secret) removed. */
function withoutPassword(location: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return location
  try {
    const url = new URL(location)
    url.password = ''
    url.search = ''
    return url.toString()
  } catch {
    return location.replace(/\/\/([^@/:]*):[^@/]*@/, '//$1@')
  }
}

/** "models version add" for that leaf command. */
export function commandPath(command: Command): string {
  const names: string[] = []
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name())
  return names.join(' ')
}
