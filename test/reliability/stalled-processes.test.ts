/**
 * Processes that stall or never yield: a SIGTERM must still end a run that only awaits
 * run.log, and a run marked crashed while its process was paused must keep logging after it
 * resumes (a write is proof of life).
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { Assay } from '../../src/index.js'
import { makeStoreDir, removeDir, sleep, spawnChild } from './helpers.js'

let dir: string
before(() => {
  dir = makeStoreDir('known')
})
after(() => removeDir(dir))

test(
  'SIGTERM reaches a run whose loop only awaits run.log',
  async () => {
    const store = path.join(dir, 'tight')
    const child = spawnChild('tight-loop.ts', { STORE: store, DURATION_MS: '2500' })
    const runId = (await child.waitForLine(/^run /)).slice(4)
    await child.waitForLines(/^acked /, 3)
    const sentAt = Date.now()
    child.proc.kill('SIGTERM')
    const exit = await child.exited
    const assay = await Assay.open({ store })
    const status = (await assay.getRun(runId)).status
    await assay.close()
    // Without assay's listener the default action would have ended the process at once.
    assert.deepEqual({ exit, status, tookLessThan1s: Date.now() - sentAt < 1000 }, { exit: { code: 143, signal: null }, status: 'killed', tookLessThan1s: true })
  },
)

test(
  'a live run marked crashed while its process was paused keeps logging after it resumes',
  async () => {
    const store = path.join(dir, 'paused')
    const child = spawnChild('pausable.ts', { STORE: store, DURATION_MS: '1500' })
    const runId = (await child.waitForLine(/^run /)).slice(4)
    await child.waitForLines(/^acked /, 5)
    child.proc.kill('SIGSTOP')
    await sleep(400)
    const reader = await Assay.open({ store, heartbeatTimeoutMs: 200 })
    // The inference itself is right from the reader's side: the heartbeat is stale.
    assert.equal((await reader.getRun(runId)).status, 'crashed')
    await reader.close()
    child.proc.kill('SIGCONT')
    const exit = await child.exited
    assert.deepEqual(exit, { code: 0, signal: null })
    const errors = child.lines.filter((l) => l.includes('error'))
    const assay = await Assay.open({ store })
    const run = await assay.getRun(runId)
    const stored = (await assay.metricHistory(runId, 'loss')).length
    await assay.close()
    const logged = Number(child.lines.filter((l) => l.startsWith('acked ')).at(-1)?.slice(6)) + errors.filter((l) => l.startsWith('flush-error')).length
    assert.deepEqual({ errors: errors.slice(0, 2), status: run.status, stored }, { errors: [], status: 'finished', stored: logged })
  },
)
