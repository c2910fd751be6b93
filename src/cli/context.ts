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
      const assay = await Assay.open({ store })
      try {
        return await body(assay)
      } finally {
        await assay.close()
      }
    },
  }
}
