import { accessSync, constants } from 'node:fs'
import path from 'node:path'

/**
 * How a printed command should start so that it runs as printed: `assay` when an assay is on the
 * user's PATH, else `npx assay` (a fresh clone after `npm install` has assay only in
 * node_modules/.bin, which a shell does not search).
 */
export function assayCommandName(env: NodeJS.ProcessEnv = process.env): 'assay' | 'npx assay' {
  return assayOnPath(env.PATH ?? '') ? 'assay' : 'npx assay'
}

/** An executable `assay` on PATH, not counting the node_modules/.bin directories that npx and npm scripts add. */
function assayOnPath(searchPath: string): boolean {
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === '' || dir.split(/[\\/]/).includes('node_modules') || dir.includes(`${path.sep}node-gyp-bin`)) continue
    for (const name of process.platform === 'win32' ? ['assay.cmd', 'assay.exe'] : ['assay']) {
      try {
        accessSync(path.join(dir, name), constants.X_OK)
        return true
      } catch {
        // not here
      }
    }
  }
  return false
}
