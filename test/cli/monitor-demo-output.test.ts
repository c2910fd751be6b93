/**
 * Two outputs the other tests leave unchecked: `assay monitor check --format markdown` (its
 * decision, one table row per check with its outcome and statistic, and the text format's exit
 * code), and the production act of `assay demo` (src/demo/demo-production.ts), called alone on a
 * fresh store through a server on a free port: traces stored, the drifted and the expensive slice
 * behind the decision, and the decision's audit record in a chain that verifies.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { DEMO_MODEL } from '../../src/demo/demo-promotion.js'
import { DEMO_ENDPOINT, runDemoProduction, type DemoProduction } from '../../src/demo/demo-production.js'
import { DECISION_PRECEDENCE } from '../../src/monitor/decide-monitor.js'
import { loadMonitorFile, type MonitorDecision } from '../../src/monitor/monitor-spec.js'
import { MONITOR_EXIT_CODES } from '../../src/monitor/monitor-report.js'
import { Assay } from '../../src/sdk/assay.js'
import { hashSecret, newTokenId, newTokenSecret } from '../../src/server/auth.js'
import { buildServer } from '../../src/server/app.js'
import { newDeployment } from '../production/helpers.js'
import { HOUR, MINUTE, storedTraffic, storeTraffic } from '../production/stored-traffic.js'
import { runCliOn } from './run-cli.js'

const MONITOR_HEAD = `monitor: qa-prod
owner: alice
escalation: oncall-ml@example.com
rollback:
  model: qa
  version: 1
  rationale: version 1 served a month without an incident
minRequests: 50
unauditable:
  require: [modelVersion, promptVersion, owner]
`
const DRIFT = `inconsistent:
  drift:
    - feature: inputTokens
      name: prompt length
`
const COSTLY = `costly:
  action: cache
  costPer1000: { max: 4 }
`

interface JsonCheck {
  check: string
  name: string
  status: string
  decision: string
  reason: string
  evidence: Record<string, unknown>
}

/** The cells of a markdown table row: split on unescaped pipes, escapes undone. */
function cells(row: string): string[] {
  assert.ok(row.startsWith('| ') && row.endsWith(' |'), `not a table row: ${row}`)
  return row
    .slice(2, -2)
    .split(/ (?<!\\)\| /)
    .map((c) => c.replaceAll('\\|', '|'))
}

describe('assay monitor check --format markdown', () => {
  let dir: string
  let store: string
  let both: string
  let costOnly: string
  let drifted: string
  let steady: string

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'assay-monitor-markdown-'))
    store = path.join(dir, 'store')
    both = path.join(dir, 'both.monitor.yaml')
    writeFileSync(both, MONITOR_HEAD + DRIFT + COSTLY)
    costOnly = path.join(dir, 'cost.monitor.yaml')
    writeFileSync(costOnly, MONITOR_HEAD + COSTLY)
    const assay = await Assay.open({ store })
    const run = await assay.startRun({ experiment: 'qa', name: 'train' })
    await run.end()
    await assay.createModel({ name: 'qa', owner: 'alice' })
    await assay.addModelVersion({ model: 'qa', run: run.id })
    await assay.setAlias('qa', 'champion', 1)
    const now = Date.now()
    drifted = (await assay.store.createDeployment(newDeployment({ model: 'qa', alias: 'champion' }))).id
    steady = (await assay.store.createDeployment(newDeployment({ model: 'qa', alias: 'champion', endpoint: 'chat-b' }))).id
    // Traffic kept five minutes clear of the window's edges, so every run in this file sees the same traces.
    const reference = [now - 2 * HOUR + 5 * MINUTE, now - HOUR - 5 * MINUTE] as const
    const current = [now - HOUR + 5 * MINUTE, now - 10_000] as const
    await storeTraffic(assay.store, storedTraffic(11, drifted, 120, ...reference))
    // Every current trace of `drifted` has three times the tokens, so three times the cost (about 8 USD per 1,000 against a budget of 4).
    await storeTraffic(assay.store, storedTraffic(12, drifted, 120, ...current, { costFactor: 3 }))
    await storeTraffic(assay.store, storedTraffic(13, steady, 120, ...reference))
    await storeTraffic(assay.store, storedTraffic(14, steady, 120, ...current))
    await assay.close()
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  const check = (file: string, deployment: string, ...rest: string[]) => runCliOn(store, 'monitor', 'check', file, '--deployment', deployment, '--window', '1h', '--reference', 'trailing:1h', ...rest)

  const cases: { title: string; file: () => string; deployment: () => string; decision: MonitorDecision; failing: string[] }[] = [
    { title: 'drift and cost over budget: retrain', file: () => both, deployment: () => drifted, decision: 'retrain', failing: ['inconsistent', 'costly'] },
    { title: 'cost over budget alone: warn', file: () => costOnly, deployment: () => drifted, decision: 'warn', failing: ['costly'] },
    { title: 'steady traffic: ok', file: () => both, deployment: () => steady, decision: 'ok', failing: [] },
  ]

  for (const c of cases) {
    test(`${c.title}: the decision, a table row per check with its outcome and statistic, the text format's exit code`, async () => {
      const json = await check(c.file(), c.deployment(), '--format', 'json', '--no-record')
      const body = JSON.parse(json.out) as { evidence: { decision: string; monitor: { name: string; sha256: string }; result: { checks: JsonCheck[] } } }
      assert.equal(body.evidence.decision, c.decision, json.out)
      const checks = body.evidence.result.checks
      assert.deepEqual(checks.filter((k) => k.status === 'fail').map((k) => k.check).sort(), [...c.failing].sort(), JSON.stringify(checks))

      const text = await check(c.file(), c.deployment(), '--no-record')
      assert.match(text.out, new RegExp(`: ${c.decision.toUpperCase()}$`, 'm'))
      const md = await check(c.file(), c.deployment(), '--format', 'markdown')
      assert.equal(md.err, '')
      assert.equal(md.code, text.code, md.out)
      assert.equal(md.code, MONITOR_EXIT_CODES[c.decision])

      const lines = md.out.split('\n')
      assert.equal(lines[0], `## Monitor qa-prod: **${c.decision}**`)
      assert.ok(md.out.includes(`Monitor sha256 \`${body.evidence.monitor.sha256}\``), md.out)
      assert.match(md.out, /^Audit record \d+ \(`[0-9a-f]{64}`\)\.$/m)

      // The table: a header, a separator with as many columns, then exactly one row per check, and a blank line after.
      const header = lines.findIndex((l) => l.startsWith('| check |'))
      assert.ok(header > 0, md.out)
      const columns = cells(lines[header])
      assert.deepEqual(columns, ['check', 'name', 'status', 'decision', 'reason'])
      assert.match(lines[header + 1], /^\|( --- \|)+$/)
      assert.equal(lines[header + 1].split('---').length - 1, columns.length)
      const rows = lines.slice(header + 2, header + 2 + checks.length)
      assert.equal(lines[header + 2 + checks.length], '', 'the table ends after one row per check')
      assert.equal(lines.filter((l) => l.startsWith('| ')).length, checks.length + 2, 'header, separator and the rows: no other table lines')
      for (const [i, k] of checks.entries()) {
        const row = cells(rows[i])
        assert.equal(row.length, columns.length, rows[i])
        assert.deepEqual(row, [k.check, k.name, k.status, k.decision, k.reason.replaceAll('\n', ' ')])
      }
      // The statistic of each numeric check is in its row: the drift test's statistic, the cost estimate.
      for (const [i, k] of checks.entries()) {
        if (k.check === 'inconsistent') assert.match(rows[i], /^\| inconsistent \| prompt length \| \w+ \| \w+ \| prompt length: ks statistic [\d.e-]+, p = /)
        if (k.check === 'costly') assert.match(rows[i], /cost per 1,000 requests [\d.]+ USD \(95% interval \[[\d.]+, [\d.]+\]\) is (over|within) the budget 4 USD/)
      }
      for (const kind of c.failing) assert.ok(checks.some((k) => k.check === kind && rows.some((r) => r.startsWith(`| ${kind} |`) && r.includes('| fail |'))))
    })
  }
})

describe('assay demo: the production act alone', () => {
  let dir: string
  let assay: Assay
  let act: DemoProduction
  let seconds: number

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'assay-demo-production-'))
    writeFileSync(path.join(dir, 'validation.csv'), 'x,y\n1,0\n2,1\n')
    assay = await Assay.open({ store: path.join(dir, 'store') })
    // What the demo's promotion act leaves: the model with two versions, the champion on the second.
    const run = await assay.startRun({ experiment: 'demo', name: 'train' })
    await run.end()
    await assay.createModel({ name: DEMO_MODEL, owner: 'demo-owner@example.com' })
    await assay.addModelVersion({ model: DEMO_MODEL, run: run.id })
    await assay.addModelVersion({ model: DEMO_MODEL, run: run.id })
    await assay.setAlias(DEMO_MODEL, 'champion', 2)
    // As src/cli/demo-command.ts productionAct: a write token and a server over the store on a free port.
    const secret = newTokenSecret()
    const now = Date.now()
    await assay.store.createApiToken({ id: newTokenId(), name: 'demo-otlp', scope: 'write', experiments: null, createdAt: now, createdBy: 'test', revokedAt: null, expiresAt: now + 15 * 60_000 }, hashSecret(secret))
    const app = await buildServer({ store: assay.store, auth: { enabled: true } })
    const started = Date.now()
    try {
      await app.listen({ host: '127.0.0.1', port: 0 })
      const { port } = app.server.address() as { port: number }
      act = await runDemoProduction(assay, { dir, otlpUrl: `http://127.0.0.1:${port}/v1/traces`, token: secret, rollbackVersion: 1 })
    } finally {
      await app.close()
    }
    seconds = (Date.now() - started) / 1000
  })
  after(async () => {
    await assay.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('every trace sent through POST /v1/traces is stored under the deployment, and the monitor read them all', async () => {
    assert.ok(seconds < 60, `the act took ${seconds} s`)
    assert.equal(act.deployment.endpoint, DEMO_ENDPOINT)
    assert.equal(act.deployment.model, DEMO_MODEL)
    assert.equal(act.deployment.modelVersion, 2)
    assert.equal(act.sent.traces, 800)
    assert.equal(act.sent.requests, 4)
    assert.ok(act.sent.drifted > 0 && act.sent.expensive > 0, JSON.stringify(act.sent))
    let stored = 0
    let cursor: string | undefined
    do {
      const page = await assay.store.tracesPage({ deployment: act.deployment.id, limit: 200, cursor })
      stored += page.traces.length
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    assert.equal(stored, act.sent.traces)
    const e = act.check.evidence
    assert.equal(e.deployment.id, act.deployment.id)
    assert.equal(e.window.traces + e.reference.traces, act.sent.traces)
  })

  test("the drifted and the expensive slice decide: the drift check and the cost check fail, and the decision is the monitor file's", async () => {
    const e = act.check.evidence
    const spec = loadMonitorFile(act.monitorFile).spec
    const drift = spec.inconsistent?.drift[0]
    assert.equal(drift?.feature, 'inputTokens')
    const driftDecision = drift?.decision ?? spec.inconsistent?.decision
    const costDecision = spec.costly?.decision
    assert.ok(driftDecision !== undefined && costDecision !== undefined)
    const implied = DECISION_PRECEDENCE.find((d) => d === driftDecision || d === costDecision)
    assert.equal(implied, 'retrain')
    assert.equal(e.decision, implied)

    const byCheck = (kind: string) => e.result.checks.filter((c) => c.check === kind)
    const [driftCheck] = byCheck('inconsistent')
    assert.equal(driftCheck.name, 'prompt length (input tokens)')
    assert.equal(driftCheck.status, 'fail')
    assert.equal(driftCheck.decision, driftDecision)
    const [costCheck] = byCheck('costly')
    assert.equal(costCheck.name, 'cost per 1,000 requests')
    assert.equal(costCheck.status, 'fail')
    assert.equal(costCheck.decision, costDecision)
    assert.ok((costCheck.evidence.ci as number[])[0] > 4, JSON.stringify(costCheck.evidence))
    // Nothing else fails: the lineage metadata is complete, so the two slices alone make the decision.
    assert.deepEqual(e.result.checks.filter((c) => c.status !== 'pass').map((c) => c.check).sort(), ['costly', 'inconsistent'])
    assert.ok(e.reason.includes('prompt length (input tokens)'), e.reason)
    assert.deepEqual([...e.actions].sort(), ['cache', 'investigate'])

    // The ordinary hour alone (the reference hour as the window, without a record) is within the budget.
    const ordinary = await assay.checkMonitor(act.monitorFile, { deployment: act.deployment.id, window: '1h', reference: 'trailing:1h', now: e.window.from, record: false })
    assert.equal(ordinary.evidence.window.traces, e.reference.traces)
    const ordinaryCost = ordinary.evidence.result.checks.find((c) => c.check === 'costly')
    assert.equal(ordinaryCost?.status, 'pass', ordinaryCost?.reason)
  })

  test("the decision's audit record carries the monitor's hash, and the audit chain verifies", async () => {
    const e = act.check.evidence
    const sha256 = createHash('sha256').update(readFileSync(act.monitorFile)).digest('hex')
    assert.equal(e.monitor.sha256, sha256)
    assert.ok(act.check.audit !== null && act.record !== null)
    assert.equal(act.record.seq, act.check.audit.seq)
    assert.equal(act.record.hash, act.check.audit.hash)
    const log = await assay.auditLog()
    const stored = log.find((r) => r.seq === act.check.audit?.seq)
    assert.ok(stored !== undefined)
    assert.equal(stored.kind, 'monitor-decision')
    assert.equal(stored.subject, DEMO_ENDPOINT)
    assert.equal(stored.hash, act.record.hash)
    const body = stored.body as { decision: string; monitor: { sha256: string }; deployment: { id: string } }
    assert.equal(body.monitor.sha256, sha256)
    assert.equal(body.decision, e.decision)
    assert.equal(body.deployment.id, act.deployment.id)
    const verify = await assay.verifyAudit()
    assert.equal(verify.ok, true, verify.problem ?? '')
    assert.equal(verify.count, log.length)
    assert.equal(verify.head, log.at(-1)?.hash)
  })
})
