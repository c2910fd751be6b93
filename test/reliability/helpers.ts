/**
 * Shared plumbing of the reliability suite: spawn real Node children (plain .mjs scripts that run
 * the built package, see ../child-process.ts), read their line protocol from stdout, and give
 * every test its own store directory.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { REPO_ROOT, spawnNode, type Child, type SpawnOptions } from '../child-process.js'

export const CHILDREN = path.join(REPO_ROOT, 'test/reliability/children')

export function makeStoreDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `assay-rel-${label}-`))
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true })
}

/** A small dataset file for startRun({ datasets }); eval records must point at a declared dataset. */
export function writeDataset(dir: string): string {
  const file = path.join(dir, 'dataset.jsonl')
  fs.writeFileSync(file, Array.from({ length: 20 }, (_, i) => JSON.stringify({ id: `e${i}`, text: `example ${i}` })).join('\n') + '\n')
  return file
}

/** Run test/reliability/children/<script> in a real Node process. */
export function spawnChild(script: string, env: Record<string, string>, options: Omit<SpawnOptions, 'env'> = {}): Child {
  return spawnNode(path.join(CHILDREN, script), { ...options, env })
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export type { Child, Exit } from '../child-process.js'
export { evalRecord, metricValue } from './children/protocol.mjs'
