/**
 * What every browser test of the web UI shares: Debian's /usr/bin/chromium driven by
 * playwright-core (no browser is downloaded), axe-core run in the page, a screenshot kept for a
 * failed step, a server on a loopback port over a real store, and the before/after hooks that
 * start and stop them (`browserSuite`). Each test file builds its own fixture; this file only
 * holds the plumbing.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { after, before } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type Page } from 'playwright-core'
import { buildServer } from '../../src/server/app.js'
import { UI_ASSETS_DIR } from '../../src/server/ui-routes.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { makeToken } from '../server/helpers.js'

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

/** A step of a suite's teardown; `quiet`: its failure (removing temporary files) does not fail the file. */
interface Closer {
  close: () => unknown
  quiet: boolean
}

/**
 * One browser test file's store, server and Chromium, started by `browserSuite`'s `before` hook
 * and stopped by its `after` hook. Its fields are there once `before` has run.
 */
export class BrowserSuite {
  private readonly closers: Closer[] = []
  private opened?: Store
  private served?: { app: FastifyInstance; url: string }
  private browser?: BrowserSession

  /** The store the server reads (opened by `openStore` or `tempStore`). */
  get store(): Store {
    assert.ok(this.opened, 'the suite has no store yet: its build opens one with openStore or tempStore')
    return this.opened
  }

  /** The server's base URL, `http://127.0.0.1:PORT`. */
  get url(): string {
    assert.ok(this.served, 'the server starts in the suite\'s before hook')
    return this.served.url
  }

  get session(): BrowserSession {
    assert.ok(this.browser, 'Chromium starts in the suite\'s before hook')
    return this.browser
  }

  /** Removes what the build wrote (a fixture's directory) after the store is closed; its failure is ignored. */
  onClose(remove: () => unknown): void {
    this.closers.push({ close: remove, quiet: true })
  }

  /** Opens the SQLite store at `dir` as the one the server reads; it is closed after the tests. */
  async openStore(dir: string): Promise<Store> {
    const store = await SqliteStore.open(dir)
    this.closers.push({ close: () => store.close(), quiet: false })
    this.opened = store
    return store
  }

  /** A new SQLite store in a temporary directory, removed after the tests. */
  async tempStore(prefix: string): Promise<Store> {
    const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
    this.closers.push({ close: () => rmSync(dir, { recursive: true, force: true }), quiet: false })
    return this.openStore(path.join(dir, 'store'))
  }

  /** The secret of a new read token on the store, limited to `experiments` (null: all). */
  async readSecret(experiments: string[] | null, name: string): Promise<string> {
    return (await makeToken(this.store, 'read', experiments, name)).secret
  }

  newPage(): Promise<Page> {
    return this.session.newPage()
  }

  signedIn(secret: string): Promise<Page> {
    return this.session.signedIn(secret)
  }

  step(page: Page, name: string, body: () => Promise<void>): Promise<void> {
    return this.session.step(page, name, body)
  }

  async start(build: (suite: BrowserSuite) => Promise<void>, auth: boolean): Promise<void> {
    await build(this)
    this.served = await listenUi(this.store, auth)
    this.browser = await BrowserSession.launch(this.served.url)
  }

  /** Chromium (failing on console errors), the server, then the store and fixture in reverse order of opening; every step runs, the first failure is thrown. */
  async stop(): Promise<void> {
    const steps: Closer[] = [
      { close: () => this.browser?.close(), quiet: false },
      { close: () => this.served?.app.close(), quiet: false },
      ...[...this.closers].reverse(),
    ]
    const failures: unknown[] = []
    for (const { close, quiet } of steps) {
      try {
        await close()
      } catch (error) {
        if (!quiet) failures.push(error)
      }
    }
    if (failures.length > 0) throw failures[0]
  }
}

type Build = (suite: BrowserSuite) => Promise<void>

/**
 * Registers the enclosing `describe`'s before and after hooks: `build` writes the file's fixture
 * and opens its store (`suite.openStore` or `suite.tempStore`), then the server listens over it
 * (asking for a token unless `auth` is false) and Chromium starts; after the tests all of it is closed.
 */
export function browserSuite(...args: [build: Build] | [options: { auth: boolean }, build: Build]): BrowserSuite {
  const [auth, build] = args.length === 1 ? [true, args[0]] : [args[0].auth, args[1]]
  const suite = new BrowserSuite()
  before(() => suite.start(build, auth))
  after(() => suite.stop())
  return suite
}
