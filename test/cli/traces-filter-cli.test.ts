/**
 * `assay traces ls --deployment D --filter '…'` on an embedded store: the filter narrows the
 * listing, the next-page hint carries it, and a bad filter is refused with its code.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { Assay } from '../../src/sdk/assay.js'
import { runCliOn } from './run-cli.js'
import { hex, span } from '../production/helpers.js'

let dir: string
let store: string
let deploymentId: string
const ids: string[] = []

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'assay-traces-filter-cli-'))
  store = path.join(dir, 'store')
  const assay = await Assay.open({ store })
  const input = { name: 'features', role: 'other' as const, sha256: 'e'.repeat(64), kind: 'file' as const, sizeBytes: 1, fileCount: 1, rows: null, columns: null, source: 'warehouse' }
  deploymentId = (await assay.deploy({ endpoint: 'qa', version: '1.0.0', inputs: [input] })).id
  const latencies = [100, 3000, 2500, 50]
  for (const [i, latency] of latencies.entries()) {
    const start = 1_700_000_000_000 + i * 1000
    const traceId = hex(16)
    ids.push(traceId)
    await assay.logTraces([{ traceId, deploymentId, spans: [span({ startTime: start, endTime: start + latency, status: i === 3 ? 'error' : 'ok', attributes: { 'gen_ai.request.model': i % 2 === 0 ? 'gpt-x' : 'gpt-x-mini' } })] }])
  }
  await assay.close()
})
after(() => rmSync(dir, { recursive: true, force: true }))

test('traces ls --filter lists the traces passing it, and its next-page hint keeps the filter', async () => {
  const filter = "latency_ms > 2000 or status = 'error'"
  const all = await runCliOn(store, 'traces', 'ls', '--deployment', deploymentId, '--filter', filter, '--json')
  assert.equal(all.code, 0, all.err)
  assert.deepEqual((JSON.parse(all.out) as { traces: { traceId: string }[] }).traces.map((t) => t.traceId), [ids[1], ids[2], ids[3]])
  const first = await runCliOn(store, 'traces', 'ls', '--deployment', deploymentId, '--filter', filter, '--limit', '2')
  assert.equal(first.code, 0, first.err)
  assert.ok(first.out.includes(ids[1]) && first.out.includes(ids[2]) && !first.out.includes(ids[0]), first.out)
  const hint = / --filter (.+) --limit 2 --cursor (\S+)/.exec(first.err)
  assert.ok(hint !== null, first.err)
  assert.equal(hint[1], `'latency_ms > 2000 or status = '\\''error'\\'''`, 'the hint quotes the filter for the shell')
  const cursor = hint[2]
  const second = await runCliOn(store, 'traces', 'ls', '--deployment', deploymentId, '--filter', filter, '--limit', '2', '--cursor', cursor)
  assert.equal(second.code, 0, second.err)
  assert.ok(second.out.includes(ids[3]) && !second.out.includes(ids[1]), second.out)
  const none = await runCliOn(store, 'traces', 'ls', '--deployment', deploymentId, '--filter', "model ~ 'claude'")
  assert.match(none.out, /no traces of this deployment pass the filter/)
})

test('traces ls --filter refuses a bad filter with ASSAY_INVALID_FILTER', async () => {
  const bad = await runCliOn(store, 'traces', 'ls', '--deployment', deploymentId, '--filter', 'latency > 5')
  assert.notEqual(bad.code, 0)
  assert.match(bad.err, /ASSAY_INVALID_FILTER/)
  assert.match(bad.err, /unknown trace field "latency"/)
})
