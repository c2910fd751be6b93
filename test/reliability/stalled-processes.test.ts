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
    // The child never ends on its own: only the signal can end it.
    const child = spawnChild('tight-loop.mjs', { STORE: store })
    const runId = (await child.waitForLine(/^run /)).slice(4)
    await child.waitForLines(/^acked /, 3)
    child.proc.kill('SIGTERM')
    const exit = await child.exited
    const assay = await Assay.open({ store, heartbeatTimeoutMs: 3_600_000 })
    const status = (await assay.getRun(runId)).status
    await assay.close()
    // Exit code 143 is assay's listener (the default action ends the process by the signal, code
    // null); 'killed' is the run it ended on the way out.
    assert.deepEqual({ exit, status }, { exit: { code: 143, signal: null }, status: 'killed' })
  },
)

test(
  'a live run marked crashed while its process was paused keeps logging after it resumes',
  async () => {
    const store = path.join(dir, 'paused')
    const child = spawnChild('pausable.mjs', { STORE: store, PAUSE_AFTER: '5' }, { stdin: 'pipe' })
    const runId = (await child.waitForLine(/^run /)).slice(4)
    await child.waitForLine(/^pausing$/)
    // Stopped (it stops itself between two writes), the child cannot write: once its last heartbeat is older than the reader's timeout,
    // the reader must see the run as crashed. Wait for that state, read from the store.
    const timeoutMs = 200
    const observer = await Assay.open({ store, heartbeatTimeoutMs: 3_600_000 })
    const lastSign = (await observer.getRun(runId)).heartbeatAt
    await observer.close()
    await sleep(Math.max(0, lastSign + timeoutMs + 50 - Date.now()))
    const reader = await Assay.open({ store, heartbeatTimeoutMs: timeoutMs })
    // The inference itself is right from the reader's side: the heartbeat is stale.
    assert.equal((await reader.getRun(runId)).status, 'crashed')
    await reader.close()
    const ackedBeforeResume = child.lines.filter((l) => l.startsWith('acked ')).length
    child.proc.kill('SIGCONT')
    // It logs again after it resumes (a write is proof of life); then it is told to stop.
    await child.waitForLines(/^acked /, ackedBeforeResume + 3)
    child.proc.stdin?.end('stop\n')
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
