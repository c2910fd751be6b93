import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import path from 'node:path'

/**
 * Whether and how `assay ui` opens the browser (docs/ui.md, "Opening the browser"). It opens only
 * where someone is looking: not with --no-open, not under CI (CI set to anything but "false" or
 * "0"), not when standard output is not a terminal (a pipe, a service, a test), and on Linux and
 * the BSDs only with a display (DISPLAY or WAYLAND_DISPLAY) and `xdg-open` on the PATH. BROWSER,
 * when set, names the program to run instead (BROWSER=none: never). Opening never fails the command.
 */

export interface BrowserContext {
  platform: NodeJS.Platform
  env: NodeJS.ProcessEnv
  /** Standard output is a terminal. */
  interactive: boolean
  /** false: --no-open. */
  open: boolean
}

export type BrowserPlan = { command: string; args: string[] } | { skip: string }

/** The first executable file named `name` on `pathText` (PATH), or null. */
function onPath(name: string, pathText: string | undefined): string | null {
  for (const dir of (pathText ?? '').split(path.delimiter)) {
    if (dir === '') continue
    const file = path.join(dir, name)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      // not here
    }
  }
  return null
}

export function browserPlan(url: string, ctx: BrowserContext): BrowserPlan {
  const { env } = ctx
  if (!ctx.open) return { skip: '--no-open' }
  if (env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0') return { skip: 'CI is set' }
  if (!ctx.interactive) return { skip: 'standard output is not a terminal' }
  const chosen = env.BROWSER?.trim()
  if (chosen === 'none') return { skip: 'BROWSER=none' }
  if (chosen !== undefined && chosen !== '') return { command: chosen, args: [url] }
  if (ctx.platform === 'darwin') return { command: 'open', args: [url] }
  if (ctx.platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '', url] }
  if ((env.DISPLAY ?? '') === '' && (env.WAYLAND_DISPLAY ?? '') === '') return { skip: 'no display (DISPLAY and WAYLAND_DISPLAY are unset)' }
  const opener = onPath('xdg-open', env.PATH)
  if (opener === null) return { skip: 'xdg-open is not on the PATH' }
  return { command: opener, args: [url] }
}

/**
 * Start the plan's program detached and forget it; resolves with what happened, never rejects
 * (a browser that cannot start leaves the printed URL to open by hand).
 */
export function openBrowser(plan: BrowserPlan): Promise<{ opened: boolean; reason: string }> {
  if ('skip' in plan) return Promise.resolve({ opened: false, reason: plan.skip })
  return new Promise((resolve) => {
    try {
      const child = spawn(plan.command, plan.args, { detached: true, stdio: 'ignore', windowsHide: true })
      child.once('error', (error) => resolve({ opened: false, reason: `${plan.command} did not start: ${error.message}` }))
      child.once('spawn', () => {
        child.unref()
        resolve({ opened: true, reason: `${plan.command} started` })
      })
    } catch (error) {
      resolve({ opened: false, reason: `${plan.command} did not start: ${(error as Error).message}` })
    }
  })
}
