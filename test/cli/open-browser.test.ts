/**
 * How `assay ui` decides to open a browser (src/cli/open-browser.ts): never with --no-open, under
 * CI, off a terminal or without a display; the platform's opener otherwise; and starting it never
 * fails the command. The start is tested with a real program on a temporary PATH.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { browserPlan, openBrowser, type BrowserContext } from '../../src/cli/open-browser.js'

const PAGE_URL = 'http://127.0.0.1:7321/'
let bin: string
let log: string

before(() => {
  bin = mkdtempSync(path.join(os.tmpdir(), 'assay-open-'))
  log = path.join(bin, 'opened.txt')
  // A stand-in xdg-open that writes down what it was asked to open.
  writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${log}'\n`, { mode: 0o755 })
})
after(() => rmSync(bin, { recursive: true, force: true }))

const linux = (env: NodeJS.ProcessEnv, over: Partial<BrowserContext> = {}): BrowserContext => ({ platform: 'linux', env: { PATH: bin, DISPLAY: ':0', ...env }, interactive: true, open: true, ...over })

test('it does not open with --no-open, under CI, off a terminal, without a display or an opener', () => {
  assert.deepEqual(browserPlan(PAGE_URL, linux({}, { open: false })), { skip: '--no-open' })
  assert.deepEqual(browserPlan(PAGE_URL, linux({ CI: 'true' })), { skip: 'CI is set' })
  assert.deepEqual(browserPlan(PAGE_URL, linux({ CI: '1' })), { skip: 'CI is set' })
  assert.deepEqual(browserPlan(PAGE_URL, linux({}, { interactive: false })), { skip: 'standard output is not a terminal' })
  assert.deepEqual(browserPlan(PAGE_URL, linux({ DISPLAY: '' })), { skip: 'no display (DISPLAY and WAYLAND_DISPLAY are unset)' })
  assert.deepEqual(browserPlan(PAGE_URL, linux({ PATH: '/nonexistent' })), { skip: 'xdg-open is not on the PATH' })
  assert.deepEqual(browserPlan(PAGE_URL, linux({ BROWSER: 'none' })), { skip: 'BROWSER=none' })
})

test("it picks the platform's opener, or BROWSER", () => {
  assert.deepEqual(browserPlan(PAGE_URL, linux({ CI: 'false' })), { command: path.join(bin, 'xdg-open'), args: [PAGE_URL] })
  assert.deepEqual(browserPlan(PAGE_URL, linux({ DISPLAY: undefined, WAYLAND_DISPLAY: 'wayland-0' })), { command: path.join(bin, 'xdg-open'), args: [PAGE_URL] })
  assert.deepEqual(browserPlan(PAGE_URL, { platform: 'darwin', env: {}, interactive: true, open: true }), { command: 'open', args: [PAGE_URL] })
  assert.deepEqual(browserPlan(PAGE_URL, { platform: 'win32', env: {}, interactive: true, open: true }), { command: 'cmd', args: ['/c', 'start', '', PAGE_URL] })
  assert.deepEqual(browserPlan(PAGE_URL, linux({ BROWSER: 'firefox' })), { command: 'firefox', args: [PAGE_URL] })
})

test('it starts the opener with the PAGE_URL, and a missing program is a reason, not a failure', async () => {
  const opened = await openBrowser(browserPlan(PAGE_URL, linux({})))
  assert.equal(opened.opened, true, opened.reason)
  // The opener runs detached: wait for what it writes (five minutes only catch a hang).
  for (let i = 0; i < 15_000 && !(existsSync(log) && readFileSync(log, 'utf8') === PAGE_URL); i++) await sleep(20)
  assert.equal(readFileSync(log, 'utf8'), PAGE_URL)
  const missing = await openBrowser({ command: path.join(bin, 'no-such-browser'), args: [PAGE_URL] })
  assert.equal(missing.opened, false)
  assert.match(missing.reason, /did not start: .*ENOENT/)
  assert.deepEqual(await openBrowser({ skip: 'CI is set' }), { opened: false, reason: 'CI is set' })
})
