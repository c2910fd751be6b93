/**
 * What every browser test of the web UI shares: Debian's /usr/bin/chromium driven by
 * playwright-core (no browser is downloaded), axe-core run in the page, a screenshot kept for a
 * failed step, and a server on a loopback port over a real store. Each test file builds its own
 * store and fixture; this file only holds the plumbing.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type Page } from 'playwright-core'
import { buildServer } from '../../src/server/app.js'
import { UI_ASSETS_DIR } from '../../src/server/ui-routes.js'
import type { Store } from '../../src/store/store.js'

export const CHROMIUM = '/usr/bin/chromium'
export const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking']
/** `describe(…, { skip: browserSkip })`: false where Chromium is installed, else the reason. */
export const browserSkip: string | false = existsSync(CHROMIUM) ? false : `no ${CHROMIUM} (apt-get install chromium): the browser tests need a real Chromium`

let axeSource: string | undefined

/** axe-core in the page: every rule violation, as "rule: target" lines (none expected). */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
  // Through the DevTools protocol, which the page's Content-Security-Policy does not govern (a script tag would be refused).
  await page.evaluate(axeSource)
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe
    const result = await axe.run()
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  })
}

/** Builds dist/ui when a test runs before `npm run build` has. */
export function ensureUiBuilt(): void {
  if (!existsSync(path.join(UI_ASSETS_DIR, 'app.js'))) execFileSync(process.execPath, ['scripts/build-ui.mjs'], { stdio: 'inherit' })
}

/** A real `assay server` app on a loopback port over `store`, and its base URL. */
export async function listenUi(store: Store, auth = true): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildServer({ store, auth: { enabled: auth } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  return { app, url: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}` }
}

/**
 * One Chromium for a test file. Anything a page logs as an error (a CSP refusal, a failed load)
 * is collected; `close()` fails when there was any.
 */
export class BrowserSession {
  readonly consoleErrors: string[] = []
  readonly shots = mkdtempSync(path.join(os.tmpdir(), 'assay-ui-shots-'))

  private constructor(
    readonly browser: Browser,
    readonly url: string,
  ) {}

  static async launch(url: string): Promise<BrowserSession> {
    ensureUiBuilt()
    return new BrowserSession(await chromium.launch({ executablePath: CHROMIUM, args: BROWSER_ARGS }), url)
  }

  /** A new browser context; 401/403 answers are expected in access tests and not counted. */
  async newPage(): Promise<Page> {
    const page = await (await this.browser.newContext()).newPage()
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 40[13]/.test(message.text())) this.consoleErrors.push(message.text())
    })
    return page
  }

  /** A page signed in with `secret`, showing the Runs view. */
  async signedIn(secret: string): Promise<Page> {
    const page = await this.newPage()
    await page.goto(`${this.url}/`)
    await page.getByLabel('API token').fill(secret)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Runs' }).waitFor()
    return page
  }

  /** Run a browser step; on failure keep a screenshot and say where. */
  async step(page: Page, name: string, body: () => Promise<void>): Promise<void> {
    try {
      await body()
    } catch (error) {
      const file = path.join(this.shots, `${name.replace(/\W+/g, '-')}.png`)
      await page.screenshot({ path: file, fullPage: true }).catch(() => undefined)
      console.error(`screenshot of the failed step "${name}": ${file}`)
      throw error
    }
  }

  async close(): Promise<void> {
    await this.browser.close()
    assert.deepEqual(this.consoleErrors, [], 'errors in the browser console (a Content-Security-Policy refusal shows here)')
  }
}
