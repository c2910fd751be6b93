import type { Command } from 'commander'
import { Assay } from '../sdk/assay.js'
import type { CliIo } from './output.js'

export interface CliContext {
  io: CliIo
  /** Open the store named by --store (or ASSAY_STORE / ASSAY_HOME / ./.assay), run `body`, close it. */
  withAssay<T>(command: Command, body: (assay: Assay) => Promise<T>): Promise<T>
  /** A command that ends normally with its own exit code (assay gate check: 0, 1 or 3) sets it here. */
  exitCode?: number
}

export function createContext(io: CliIo): CliContext {
  return {
    io,
    async withAssay(command, body) {
      const { store } = command.optsWithGlobals<{ store?: string }>()
      // A read never creates an empty embedded store (a typo in --store, the wrong directory).
      const assay = await Assay.open({ store, create: !READ_ONLY.has(commandPath(command)) })
      try {
        return await body(assay)
      } finally {
        await assay.close()
      }
    },
  }
}

/** Commands that only read the store. */
const READ_ONLY = new Set(['experiments ls', 'runs ls', 'runs show', 'runs diff', 'replay', 'artifacts ls', 'artifacts get', 'artifacts lineage'])

function commandPath(command: Command): string {
  const names: string[] = []
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name())
  return names.join(' ')
}
