/**
 * The run page's chart of a 1,000,000-point metric, two versions of assay side by side: one server
 * process from each tree over its own copy of one SQLite store (built by the base tree's code, so an
 * older schema is migrated by the newer tree on open), and one headless Chromium alternating fresh
 * contexts between them. Each time is navigation start to the chart's canvas inserted, by a
 * MutationObserver installed before the page's scripts (the same clock for both versions, which
 * need not have the chart's drawn mark), with each server's compare form as its reference.
 *
 *   node --import tsx bench/ui-chart-side-by-side.ts BASE_TREE NEW_TREE [rounds, default 7]
 *
 * Each tree must be built (`npm run build`: the UI is served from its dist/ui) and have node_modules.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser } from 'playwright-core'

const self = fileURLToPath(import.meta.url)

if (process.argv[2] === '--build' || process.argv[2] === '--serve') {
  // Child modes, run with the tree's own code: build the store, or serve it and print the port.
  const [mode, root, dir] = process.argv.slice(2)
  const { SqliteStore } = await import(path.join(root, 'src/store/sqlite/sqlite-store.ts'))
  const store = await SqliteStore.open(dir)
  if (mode === '--build') {
    // As bench/ui.ts builds its chart: one run, one metric of 1,000,000 points with one spike.
    const { Assay } = await import(path.join(root, 'src/index.ts'))
    const assay = await Assay.open({ store: dir })
    const run = await assay.startRun({ experiment: 'bench', name: 'million', params: {}, seed: 1 })
    const n = 1_000_000
    const steps = Float64Array.from({ length: n }, (_, i) => i)
    const values = Float64Array.from({ length: n }, (_, i) => (i === 777_777 ? 10 : Math.sin(i / 5000)))
    await store.logBatch(run.id, { metrics: [{ key: 'loss', steps, values, timestamps: new Float64Array(n).fill(Date.now()) }] })
    await run.end('finished')
    await assay.close()
    await store.close()
    console.log(`RUN ${run.id}`)
  } else {
    const { buildServer } = await import(path.join(root, 'src/server/app.ts'))
    const app = await buildServer({ store, auth: { enabled: false } })
    await app.listen({ host: '127.0.0.1', port: 0 })
    console.log(`PORT ${(app.server.address() as { port: number }).port}`)
  }
} else {
  const [baseTree, newTree] = process.argv.slice(2).map((p) => path.resolve(p))
  const rounds = Number(process.argv[4] ?? 7)
  if (newTree === undefined) throw new Error('usage: node --import tsx bench/ui-chart-side-by-side.ts BASE_TREE NEW_TREE [rounds]')
  const child = (root: string, args: string[], marker: string): Promise<{ process: ChildProcess; value: string }> =>
    new Promise((resolve, reject) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', self, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        const m = new RegExp(`${marker} (\\S+)`).exec(out)
        if (m !== null) resolve({ process: proc, value: m[1] })
      })
      proc.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)))
    })
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-bench-side-'))
  const baseDir = path.join(work, 'base')
  const newDir = path.join(work, 'new')
  const built = await child(baseTree, ['--build', baseTree, baseDir], 'RUN')
  fs.cpSync(baseDir, newDir, { recursive: true })
  const runId = built.value
  const base = await child(baseTree, ['--serve', baseTree, baseDir], 'PORT')
  const next = await child(newTree, ['--serve', newTree, newDir], 'PORT')
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] })
  try {
    const once = async (b: Browser, url: string, selector: string): Promise<number> => {
      const context = await b.newContext()
      const page = await context.newPage()
      // Page code as text: this file is type-checked without the DOM's types.
      await page.addInitScript({
        content: "new MutationObserver(() => { if (window.seen === undefined && document.querySelector('.chart canvas, #compare-title') !== null) window.seen = performance.now() }).observe(document, { childList: true, subtree: true })",
      })
      await page.goto(url)
      await page.waitForSelector(selector)
      const ms = (await page.evaluate('window.seen')) as number
      await context.close()
      return ms
    }
    const urls = { base: `http://127.0.0.1:${base.value}`, next: `http://127.0.0.1:${next.value}` }
    const times: Record<string, number[]> = { 'base: compare form (reference)': [], 'base: run page, chart on the canvas': [], 'new: compare form (reference)': [], 'new: run page, chart on the canvas': [] }
    const loadBefore = os.loadavg()
    await once(browser, `${urls.base}/#/run/${runId}`, '.chart canvas')
    await once(browser, `${urls.next}/#/run/${runId}`, '.chart canvas')
    for (let i = 0; i < rounds; i++) {
      for (const [name, url] of [['base', urls.base], ['new', urls.next]] as const) {
        times[`${name}: compare form (reference)`].push(await once(browser, `${url}/#/compare`, '#compare-title'))
        times[`${name}: run page, chart on the canvas`].push(await once(browser, `${url}/#/run/${runId}`, '.chart canvas'))
      }
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]
    const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]))
    console.log('| measured | median (ms) | / its compare form |\n| --- | ---: | ---: |')
    for (const side of ['base', 'new']) {
      const ref = m[`${side}: compare form (reference)`]
      const run = m[`${side}: run page, chart on the canvas`]
      console.log(`| ${side}: compare form (reference) | ${ref.toFixed(1)} | 1.00 |\n| ${side}: run page, chart on the canvas | ${run.toFixed(1)} | ${(run / ref).toFixed(2)} |`)
    }
    console.log(`\nnew / base, run page: ${(m['new: run page, chart on the canvas'] / m['base: run page, chart on the canvas']).toFixed(2)}`)
    console.log(`load average before: ${loadBefore.map((x) => x.toFixed(2)).join(', ')}; after: ${os.loadavg().map((x) => x.toFixed(2)).join(', ')}`)
  } finally {
    await browser.close()
    base.process.kill()
    next.process.kill()
    fs.rmSync(work, { recursive: true, force: true })
  }
}
