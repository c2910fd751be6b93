/**
 * The web UI's evidence and production views in real headless Chromium (test/ui/browser-harness.ts)
 * against `assay server` on a real port over a real SQLite store: a promotion's gate decision read
 * against the evidence stored in the audit log, the audit log verified intact, a deployment's trace
 * opened into its span tree, a monitor decision with its checks, and a token limited to one
 * experiment seeing nothing of another experiment's deployments and traces. axe-core checks every page.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkMonitor } from '../../src/monitor/check-monitor.js'
import { parseMonitorSpec } from '../../src/monitor/monitor-spec.js'
import { formatNumber } from '../../src/number-format.js'
import type { Deployment, TraceInput } from '../../src/record/production.js'
import type { AuditRecord } from '../../src/record/types.js'
import { openGateWorld, promotedSentiment, records, type GateWorld } from '../gates/helpers.js'
import { llmTrace, newDeployment } from '../production/helpers.js'
import { HOUR, monitorText, storedTraffic, storeTraffic } from '../production/stored-traffic.js'
import { accessibilityViolations, browserSkip, browserSuite } from './browser-harness.js'

/** The production tests' monitor file, its rollback (not automatic) to version 1 of sentiment. */
const MONITOR = monitorText('sentiment', false)

/** A number as the UI writes it (src/number-format.ts), from an audit body (where ±Infinity is a string). */
const shown = (v: number | string | null): string => (v === null ? '' : formatNumber(Number(v)))
const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

describe('the web UI: promotions, the audit log and production', { skip: browserSkip }, () => {
  let world: GateWorld
  let readerSecret: string
  let gatesSecret: string
  let promotionSeq: number
  let qa: Deployment
  let chat: Deployment
  let hidden: Deployment
  let chatTrace: TraceInput
  let hiddenTrace: TraceInput

  const ui = browserSuite(async (suite) => {
    world = await openGateWorld()
    suite.onClose(() => world.cleanup())
    const baseline = await world.logRun('baseline', records((i) => i < 300))
    const better = await world.logRun('better', records((i) => i < 360))
    promotionSeq = await promotedSentiment(world, baseline, better)
    await world.assay.rollback({ model: 'sentiment', reason: 'incident 42', actor: 'carol' })
    // A model of another experiment, served by its own deployment.
    const secretRun = await world.assay.startRun({ experiment: 'secret', name: 'hidden-run', seed: 3 })
    await secretRun.end('finished')
    await world.assay.createModel({ name: 'hidden-model', owner: 'mallory' })
    await world.assay.addModelVersion({ model: 'hidden-model', run: secretRun.id })
    await world.assay.close()

    const store = await suite.openStore(world.h.storeDir)
    qa = await store.createDeployment(newDeployment({ endpoint: 'qa', model: 'sentiment', modelVersion: 2 }))
    chat = await store.createDeployment(newDeployment({ endpoint: 'chat', model: 'sentiment', modelVersion: 2 }))
    hidden = await store.createDeployment(newDeployment({ endpoint: 'hidden-endpoint', model: 'hidden-model', modelVersion: 1 }))
    const now = Date.now()
    chatTrace = llmTrace(chat.id, now - 3 * HOUR)
    hiddenTrace = llmTrace(hidden.id, now - 3 * HOUR)
    const logged = await store.logTraces([chatTrace, hiddenTrace])
    assert.deepEqual(logged.rejected, [])
    // Two hours of traffic on qa, the last with a quality drop, and the monitor's decision over the last hour.
    await storeTraffic(store, storedTraffic(7, qa.id, 60, now - 2 * HOUR, now - HOUR))
    await storeTraffic(store, storedTraffic(8, qa.id, 60, now - HOUR, now - 10_000, { quality: -0.3 }))
    await checkMonitor(store, { monitor: parseMonitorSpec(MONITOR, 'qa.monitor.yaml'), deployment: qa.id, window: '1h', reference: 'trailing:1h', actor: 'monitor', now })

    readerSecret = await suite.readSecret(null, 'reader')
    gatesSecret = await suite.readSecret(['gates'], 'gates-reader')
  })

  async function auditRecord(seq: number): Promise<AuditRecord> {
    const page = await ui.store.auditRecordsPage({ limit: 1000 })
    const record = page.records.find((r) => r.seq === seq)
    assert.ok(record, `audit record ${seq}`)
    return record
  }

  it("opens a promotion's gate decision: each criterion's interval and threshold as stored", async () => {
    const promotion = await auditRecord(promotionSeq)
    const body = promotion.body as { evidence: { seq: number }; gate: { sha256: string; policyVersion: number } }
    const evidence = (await auditRecord(body.evidence.seq)).body as unknown as {
      decision: string
      criteria: { name: string; ci: [number | string, number | string]; threshold: number | string; estimate: number | string; seed: number | null }[]
      candidate: { runIds: string[] }
    }
    assert.ok(evidence.criteria.length >= 2)
    const page = await ui.signedIn(readerSecret)
    await ui.step(page, 'promotion', async () => {
      await page.getByRole('link', { name: 'Registry' }).click()
      await page.getByRole('link', { name: 'sentiment' }).click()
      const history = page.getByRole('table', { name: /Alias history/ })
      await history.waitFor()
      assert.match(await history.innerText(), /rollback[^\n]*2\s*→\s*1[^\n]*carol[^\n]*incident 42/)
      await page.getByRole('link', { name: `gate decision (record ${promotionSeq})` }).click()
      await page.getByRole('heading', { name: `Gate release: ${evidence.decision.toUpperCase()}` }).waitFor()
      const text = await page.locator('main').innerText()
      assert.match(text, new RegExp(`policy version ${body.gate.policyVersion}, sha256 ${body.gate.sha256.slice(0, 16)}`))
      const rows = page.locator('table.criteria tbody tr')
      assert.equal(await rows.count(), evidence.criteria.length)
      for (const [i, c] of evidence.criteria.entries()) {
        const cells = rows.nth(i).locator('td')
        assert.match(await rows.nth(i).locator('th').innerText(), new RegExp(`^${escaped(c.name)}`))
        assert.equal(await cells.nth(1).innerText(), shown(c.estimate))
        assert.equal(await cells.nth(2).innerText(), `[${shown(c.ci[0])}, ${shown(c.ci[1])}]`)
        assert.equal(await cells.nth(3).innerText(), shown(c.threshold))
        assert.equal((await cells.nth(7).innerText()).split(' ')[0], c.seed === null ? '' : String(c.seed))
        const drawn = rows.nth(i).getByRole('img')
        assert.match((await drawn.getAttribute('aria-label')) ?? '', new RegExp(`interval ${escaped(`[${shown(c.ci[0])}, ${shown(c.ci[1])}]`)}`))
      }
      // The numbers link to the runs behind them.
      for (const id of evidence.candidate.runIds) assert.equal(await page.locator(`a[href="#/run/${id}"]`).count() > 0, true)
      assert.deepEqual(await accessibilityViolations(page), [])
    })
  })

  it('shows the audit log a page at a time, verified intact', async () => {
    const page = await ui.signedIn(readerSecret)
    await ui.step(page, 'audit', async () => {
      await page.getByRole('link', { name: 'Audit log' }).click()
      const count = (await ui.store.auditRecordsPage({ limit: 1000 })).records.length
      await page.getByText(new RegExp(`^Audit log intact: ${count} records, head [0-9a-f]{16}$`)).waitFor()
      const rows = page.locator('tbody tr')
      assert.equal(await rows.count(), Math.min(count, 50))
      assert.match(await page.locator('tbody').innerText(), /promotion\s+sentiment@champion\s+bob/)
      assert.match(await page.locator('tbody').innerText(), /monitor-decision\s+qa-prod\s+monitor/)
      assert.deepEqual(await accessibilityViolations(page), [])
    })
  })

  it("opens a deployment's trace into its span tree with the fixture's span count and tokens", async () => {
    const page = await ui.signedIn(gatesSecret)
    await ui.step(page, 'trace', async () => {
      await page.getByRole('link', { name: 'Production' }).click()
      await page.getByRole('link', { name: 'chat v1' }).click()
      await page.getByRole('heading', { name: 'Lineage' }).waitFor()
      assert.match(await page.locator('main').innerText(), /Run\s+better \(gates/)
      await page.getByRole('link', { name: chatTrace.traceId.slice(0, 12) }).click()
      await page.getByRole('table', { name: 'Span tree' }).waitFor()
      const spans = page.locator('table.spans tbody tr')
      assert.equal(await spans.count(), chatTrace.spans.length)
      const input = chatTrace.spans.reduce((s, x) => s + Number(x.attributes['gen_ai.usage.input_tokens'] ?? 0), 0)
      const output = chatTrace.spans.reduce((s, x) => s + Number(x.attributes['gen_ai.usage.output_tokens'] ?? 0), 0)
      // The lineage header loads on its own request: wait for it before reading the page.
      await page.getByText(/Served by chat v1/).waitFor()
      const text = await page.locator('main').innerText()
      assert.match(text, new RegExp(`Spans\\s+${chatTrace.spans.length} spans`))
      assert.match(text, new RegExp(`Tokens\\s+${input} in, ${output} out`))
      assert.match(text, /Guardrail\s+none: pass/)
      assert.match(text, /Served by chat v1 → sentiment version 2 → run better/)
      // The root first, its two children under it.
      const depths: (string | null)[] = []
      for (let i = 0; i < chatTrace.spans.length; i++) depths.push(await spans.nth(i).getAttribute('data-depth'))
      assert.deepEqual(depths, ['0', '1', '1'])
      assert.deepEqual(await accessibilityViolations(page), [])
    })
  })

  it('shows a monitor decision recorded for a deployment with every check', async () => {
    const decisions = (await ui.store.auditRecordsPage({ limit: 1000 })).records.filter((r) => r.kind === 'monitor-decision')
    assert.equal(decisions.length, 1)
    const evidence = decisions[0].body as unknown as { decision: string; result: { checks: { name: string; status: string }[] }; window: { traces: number } }
    const page = await ui.signedIn(gatesSecret)
    await ui.step(page, 'monitor', async () => {
      await page.goto(`${ui.url}/#/deployment/${qa.id}`)
      await page.getByRole('heading', { name: `Monitor qa-prod: ${evidence.decision}` }).waitFor()
      const rows = page.locator('table.monitor-checks tbody tr')
      assert.equal(await rows.count(), evidence.result.checks.length)
      for (const [i, c] of evidence.result.checks.entries()) {
        assert.equal(await rows.nth(i).locator('th').innerText(), c.name)
        assert.equal(await rows.nth(i).locator('td').nth(1).innerText(), c.status)
      }
      assert.match(await page.locator('main').innerText(), new RegExp(`Window\\s+[^\\n]+, ${evidence.window.traces} traces`))
      assert.deepEqual(await accessibilityViolations(page), [])
    })
  })

  it("shows a token limited to one experiment nothing of another's deployments and traces", async () => {
    const page = await ui.signedIn(gatesSecret)
    await ui.step(page, 'production-access', async () => {
      await page.getByRole('link', { name: 'Production' }).click()
      await page.getByRole('link', { name: 'qa v1' }).waitFor()
      const listed = await page.locator('main').innerText()
      assert.match(listed, /chat v1/)
      assert.doesNotMatch(listed, /hidden/)
      for (const target of [`#/deployment/${hidden.id}`, `#/trace/${hiddenTrace.traceId}`]) {
        await page.goto(`${ui.url}/${target}`)
        await page.reload()
        await page.getByRole('alert').first().waitFor()
        assert.match(await page.getByRole('alert').first().innerText(), /ASSAY_FORBIDDEN/)
        assert.doesNotMatch(await page.locator('main').innerText(), /hidden-endpoint|hidden-model|mallory/)
      }
    })
    // The whole-store reader sees it.
    const reader = await ui.signedIn(readerSecret)
    await ui.step(reader, 'production-reader', async () => {
      await reader.getByRole('link', { name: 'Production' }).click()
      await reader.getByRole('link', { name: 'hidden-endpoint v1' }).waitFor()
    })
  })
})
