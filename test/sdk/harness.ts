import { mkdirSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { Assay, type OpenOptions, type StartRunOptions } from '../../src/sdk/assay.js'
import type { Run } from '../../src/sdk/run.js'
import { tempDir } from '../store/backends.js'

export interface Harness {
  assay: Assay
  /** The temp directory holding everything of this test. */
  dir: string
  /** The store directory inside it. */
  storeDir: string
  /** A directory outside any git work tree, for runs whose code version does not matter. */
  codeDir: string
  /** Open another Assay on the same store (as a second process would). */
  reopen(options?: Omit<OpenOptions, 'store'>): Promise<Assay>
  /** End runs still active, close every Assay opened here, delete the directory. */
  cleanup(): Promise<void>
  track(run: Run): Run
  /** startRun on `assay`, outside git unless codeDir is given, and end the run at cleanup. */
  start(options: Partial<StartRunOptions> & { on?: Assay }): Promise<Run>
}

export async function openHarness(options: Omit<OpenOptions, 'store'> = {}): Promise<Harness> {
  const { dir, cleanup } = tempDir('assay-sdk-')
  const storeDir = path.join(dir, 'store')
  const codeDir = path.join(dir, 'code')
  mkdirSync(codeDir)
  const opened: Assay[] = []
  const runs: Run[] = []
  const assay = await Assay.open({ ...options, store: storeDir })
  opened.push(assay)
  return {
    assay,
    dir,
    storeDir,
    codeDir,
    async reopen(more = {}) {
      const other = await Assay.open({ ...more, store: storeDir })
      opened.push(other)
      return other
    },
    track(run) {
      runs.push(run)
      return run
    },
    async start({ on, ...options }) {
      const run = await (on ?? assay).startRun({ experiment: 'exp', codeDir, ...options })
      runs.push(run)
      return run
    },
    async cleanup() {
      for (const run of runs) if (run.isActive) await run.end().catch(() => undefined)
      for (const a of opened) await a.close()
      cleanup()
    },
  }
}

/** Every file below `dir`, relative, sorted. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort()
}
