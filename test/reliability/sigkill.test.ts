/**
 * A process SIGKILLed while it logs loses nothing it was told was durable: the store opens clean,
 * every acknowledged metric point and eval record is there with its exact value, and the run
 * reads as 'crashed' once its heartbeat is stale.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import Database from 'better-sqlite3'
import { Assay } from '../../src/index.js'
import { evalRecord, makeStoreDir, metricValue, removeDir, sleep, spawnChild, writeDataset } from './helpers.js'

const HEARTBEAT_TIMEOUT_MS = 250

/** [acknowledged flushes to wait for, extra delay before the kill in ms] */
const KILL_POINTS: [number, number][] = [
  [3, 0],
  [6, 13],
  [10, 37],
  [16, 71],
]

describe('SIGKILL mid-logging', () => {
  let dir: string
  before(() => {
    dir = makeStoreDir('sigkill')
  })
  after(() => removeDir(dir))

  for (const [acks, delay] of KILL_POINTS) {
    test(`killed after ${acks} acknowledged flushes + ${delay} ms`, async (t) => {
      const store = path.join(dir, `store-${acks}`)
      const child = spawnChild('log-until-killed.mjs', {
        STORE: store,
        DATASET: writeDataset(dir),
        FLUSH_EVERY: '250',
        EVAL_EVERY_FLUSHES: '3',
        EVAL_BATCH: '200',
      })
      await child.waitForLines(/^acked \d+$/, acks)
      await child.waitForLine(/^evals \d+$/)
      if (delay > 0) await sleep(delay)
      assert.ok(child.proc.kill('SIGKILL'))
      // Read after the signal is sent, not before: the child may write one more heartbeat between a clock read and the kill.
      const killedAt = Date.now()
      const exit = await child.exited
      assert.equal(exit.signal, 'SIGKILL', 'the child was still logging when killed')

      const runId = (child.lines.find((l) => l.startsWith('run ')) as string).slice(4)
      const lastNumber = (prefix: string): number => Number(child.lines.filter((l) => l.startsWith(prefix)).at(-1)?.slice(prefix.length) ?? 0)
      const ackedPoints = lastNumber('acked ')
      const ackedEvals = lastNumber('evals ')
      assert.ok(ackedPoints >= acks * 250 && ackedEvals >= 200)

      // The file itself: WAL recovery leaves a consistent database.
      const db = new Database(path.join(store, 'assay.db'))
      try {
        assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }])
        assert.deepEqual(db.pragma('foreign_key_check'), [])
      } finally {
        db.close()
      }

      // A reader whose timeout the heartbeat has not outlived still sees the run as running (an
      // hour, not the default minute: a loaded machine may take that long to get here).
      const fresh = await Assay.open({ store, heartbeatTimeoutMs: 3_600_000 })
      try {
        assert.equal((await fresh.getRun(runId)).status, 'running')
        const history = await fresh.metricHistory(runId, 'loss')
        assert.ok(history.length >= ackedPoints, `${history.length} points stored, ${ackedPoints} acknowledged`)
        // Everything stored, acknowledged or not, is the exact prefix of what was logged: no gap, no duplicate, no torn chunk.
        for (let i = 0; i < history.length; i++) {
          if (history[i].step !== i || history[i].value !== metricValue(i)) {
            assert.fail(`point ${i} is ${JSON.stringify(history[i])}, expected step ${i} value ${metricValue(i)}`)
          }
        }
        const records = await fresh.evalRecords(runId, 'val')
        assert.ok(records.length >= ackedEvals, `${records.length} eval records stored, ${ackedEvals} acknowledged`)
        assert.equal(records.length % 200, 0, 'an eval batch is stored whole or not at all')
        assert.deepEqual(records, Array.from({ length: records.length }, (_, k) => evalRecord(k)))
        t.diagnostic(`points acked ${ackedPoints}, stored ${history.length}; eval records acked ${ackedEvals}, stored ${records.length}`)
        const run = await fresh.getRun(runId)
        assert.equal(run.metrics.find((m) => m.key === 'loss')?.count, history.length, 'the summary agrees with the chunks')
        assert.equal(run.evals.find((e) => e.dataset === 'val')?.count, records.length)
      } finally {
        await fresh.close()
      }

      // Once the heartbeat is older than the reader's timeout, the run is crashed.
      await sleep(Math.max(0, killedAt + HEARTBEAT_TIMEOUT_MS + 50 - Date.now()))
      const reader = await Assay.open({ store, heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS })
      try {
        const run = await reader.getRun(runId)
        assert.equal(run.status, 'crashed')
        assert.equal(run.endTime, run.heartbeatAt)
        assert.ok(run.heartbeatAt <= killedAt)
        assert.equal((await reader.listRuns({ experiment: 'sigkill' }))[0].status, 'crashed')
      } finally {
        await reader.close()
      }
    })
  }
})
