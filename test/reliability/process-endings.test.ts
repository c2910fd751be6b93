/**
 * A run whose process ends badly is closed, not left running: SIGTERM/SIGINT mark it 'killed'
 * and exit 128+signal; an uncaught exception or unhandled rejection marks it 'failed', prints the
 * error and exits 1. In every case the points logged before are flushed.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Assay } from '../../src/index.js'
import type { RunRecord } from '../../src/index.js'
import { makeStoreDir, metricValue, removeDir, spawnChild } from './helpers.js'

let dir: string
before(() => {
  dir = makeStoreDir('endings')
})
after(() => removeDir(dir))

async function inspect(store: string, runId: string): Promise<{ run: RunRecord; values: number[] }> {
  // A long heartbeat timeout: the status must come from the child, not from a crash sweep.
  const assay = await Assay.open({ store, heartbeatTimeoutMs: 3_600_000 })
  try {
    const run = await assay.getRun(runId)
    const values = (await assay.metricHistory(runId, 'loss')).map((p) => p.value)
    return { run, values }
  } finally {
    await assay.close()
  }
}

function assertExactPrefix(values: number[]): void {
  for (let i = 0; i < values.length; i++) if (values[i] !== metricValue(i)) assert.fail(`point ${i} is ${values[i]}, expected ${metricValue(i)}`)
}

describe('signals', () => {
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    test(`${signal} on an active run: 'killed', exit ${code}`, async () => {
      const store = path.join(dir, signal)
      const child = spawnChild('end-badly.mjs', { STORE: store, MODE: 'signal' })
      const runId = (await child.waitForLine(/^run /)).slice(4)
      await child.waitForLines(/^acked /, 5)
      const sentAt = Date.now()
      child.proc.kill(signal)
      const exit = await child.exited
      assert.deepEqual(exit, { code, signal: null }, `stderr:\n${child.stderr()}`)
      assert.equal(child.stderr(), '')
      const acked = Number(child.lines.filter((l) => l.startsWith('acked ')).at(-1)?.slice(6))
      const { run, values } = await inspect(store, runId)
      assert.equal(run.status, 'killed')
      assert.ok(run.endTime !== null && run.endTime >= sentAt, 'endTime is when the signal was handled')
      assert.ok(values.length >= acked, `${values.length} points stored, ${acked} acknowledged`)
      assertExactPrefix(values)
    })
  }
})

describe('fatal errors', () => {
  for (const mode of ['throw', 'reject'] as const) {
    test(`${mode === 'throw' ? 'uncaught exception' : 'unhandled rejection'} on an active run: 'failed', exit 1, buffered points kept`, async () => {
      const store = path.join(dir, mode)
      const logged = 1234
      const child = spawnChild('end-badly.mjs', { STORE: store, MODE: mode, LOGGED: String(logged) })
      const runId = (await child.waitForLine(/^run /)).slice(4)
      const exit = await child.exited
      assert.deepEqual(exit, { code: 1, signal: null }, `stderr:\n${child.stderr()}`)
      assert.match(child.stderr(), mode === 'throw' ? /reliability-sentinel: uncaught/ : /reliability-sentinel: unhandled rejection/)
      assert.ok(child.lines.includes(`logged ${logged}`))
      const { run, values } = await inspect(store, runId)
      assert.equal(run.status, 'failed')
      assert.notEqual(run.endTime, null)
      // Nothing was flushed explicitly: ending the run on the way down wrote the buffer.
      assert.equal(values.length, logged)
      assertExactPrefix(values)
    })
  }
})
