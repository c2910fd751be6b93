/**
 * Shared plumbing of the reliability suite: spawn real `node --import tsx` children, read their
 * line protocol from stdout, and give every test its own store directory.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** Absolute URL of the tsx loader, so children resolve it whatever their cwd. */
export const TSX_LOADER = import.meta.resolve('tsx')
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
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

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface Child {
  proc: ChildProcess
  /** Complete stdout lines received so far. */
  lines: string[]
  stderr: () => string
  /** Resolves with the first line matching `re` (rejects if the child exits first or after `timeoutMs`). */
  waitForLine: (re: RegExp, timeoutMs?: number) => Promise<string>
  /** Resolves when `count` lines matching `re` have arrived. */
  waitForLines: (re: RegExp, count: number, timeoutMs?: number) => Promise<string[]>
  exited: Promise<Exit>
}

/** Run test/reliability/children/<script> in a real Node process. It is SIGKILLed after `hardTimeoutMs`. */
export function spawnChild(script: string, env: Record<string, string>, hardTimeoutMs = 40_000): Child {
  const proc = spawn(process.execPath, ['--import', TSX_LOADER, path.join(CHILDREN, script)], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  let partial = ''
  let stderr = ''
  const listeners = new Set<() => void>()
  let done = false
  proc.stdout?.setEncoding('utf8')
  proc.stdout?.on('data', (text: string) => {
    partial += text
    const parts = partial.split('\n')
    partial = parts.pop() ?? ''
    lines.push(...parts)
    for (const notify of listeners) notify()
  })
  proc.stderr?.setEncoding('utf8')
  proc.stderr?.on('data', (text: string) => {
    stderr += text
  })
  const killer = setTimeout(() => proc.kill('SIGKILL'), hardTimeoutMs)
  const exited = new Promise<Exit>((resolve) => {
    proc.on('close', (code, signal) => {
      clearTimeout(killer)
      done = true
      for (const notify of listeners) notify()
      resolve({ code, signal })
    })
  })

  const waitForLines = (re: RegExp, count: number, timeoutMs = 30_000): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const matching = lines.filter((line) => re.test(line))
        if (matching.length >= count) {
          finish()
          resolve(matching)
        } else if (done) {
          finish()
          reject(new Error(`child ${script} exited before ${count} lines matching ${re}; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`))
        }
      }
      const timer = setTimeout(() => {
        finish()
        reject(new Error(`timed out waiting for ${count} lines matching ${re} from ${script}; stderr:\n${stderr}`))
      }, timeoutMs)
      const finish = (): void => {
        clearTimeout(timer)
        listeners.delete(check)
      }
      listeners.add(check)
      check()
    })

  return {
    proc,
    lines,
    stderr: () => stderr,
    waitForLines,
    waitForLine: async (re, timeoutMs) => (await waitForLines(re, 1, timeoutMs))[0],
    exited,
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export { evalRecord, metricValue } from './shared.js'
