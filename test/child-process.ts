/**
 * Real child processes for tests. Children are plain .mjs scripts that import the built package
 * by its own name (`import { Assay } from 'assay'`, resolved to dist/ through package.json
 * "exports"), as a user's script would: no TypeScript loader, so a child starts in a fraction of
 * a second even on a loaded machine. `npm test` rebuilds dist/ first (the pretest script).
 *
 * Timeouts here only catch a hang; they never measure speed. They are generous and scale with
 * ASSAY_TEST_TIMEOUT_SCALE (default 1) for an exceptionally slow machine.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** `ms` scaled by ASSAY_TEST_TIMEOUT_SCALE: how long a test may wait before it calls something a hang. */
export function patience(ms: number): number {
  const scale = Number(process.env.ASSAY_TEST_TIMEOUT_SCALE ?? 1)
  return ms * (Number.isFinite(scale) && scale > 0 ? scale : 1)
}

/** Long enough that only a hang reaches it, even with load averages many times the core count. */
export const HANG_MS = patience(5 * 60_000)

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface Child {
  proc: ChildProcess
  /** Complete stdout lines received so far. */
  lines: string[]
  stderr: () => string
  /** Resolves with the first line matching `re` (rejects if the child exits first, or after a hang). */
  waitForLine: (re: RegExp) => Promise<string>
  /** Resolves when `count` lines matching `re` have arrived. */
  waitForLines: (re: RegExp, count: number) => Promise<string[]>
  exited: Promise<Exit>
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** 'pipe' to write to the child's stdin; default 'ignore'. */
  stdin?: 'pipe' | 'ignore'
}

/** Run a .mjs script in a real Node process; SIGKILLed if it is still running after a hang. */
export function spawnNode(script: string, options: SpawnOptions = {}): Child {
  const proc = spawn(process.execPath, [script], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  })
  const name = path.basename(script)
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
  const killer = setTimeout(() => proc.kill('SIGKILL'), 2 * HANG_MS)
  const exited = new Promise<Exit>((resolve) => {
    proc.on('close', (code, signal) => {
      clearTimeout(killer)
      done = true
      for (const notify of listeners) notify()
      resolve({ code, signal })
    })
  })

  const waitForLines = (re: RegExp, count: number): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const matching = lines.filter((line) => re.test(line))
        if (matching.length >= count) {
          finish()
          resolve(matching)
        } else if (done) {
          finish()
          reject(new Error(`child ${name} exited before ${count} lines matching ${re}; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`))
        }
      }
      const timer = setTimeout(() => {
        finish()
        reject(new Error(`no ${count} lines matching ${re} from ${name} after ${HANG_MS} ms (a hang?); stderr:\n${stderr}`))
      }, HANG_MS)
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
    waitForLine: async (re) => (await waitForLines(re, 1))[0] as string,
    exited,
  }
}
