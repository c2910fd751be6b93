/**
 * Eight processes log to one embedded store at the same moment, flushing often so their write
 * transactions contend. None may see "database is locked", and every point and record of every
 * run must be there afterwards, exactly.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import Database from 'better-sqlite3'
import { Assay } from '../../src/index.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/sqlite-migrations.js'
import { evalRecord, makeStoreDir, metricValue, removeDir, spawnChild, writeDataset } from './helpers.js'

const WRITERS = 8
const STEPS = 2500
const KEYS = 2
const FLUSH_EVERY = 10 // 250 metric transactions per writer, plus eval batches, heartbeats and the end
const EVAL_BATCHES = 10
const EVAL_BATCH = 50

let dir: string
before(() => {
  dir = makeStoreDir('concurrent')
})
after(() => removeDir(dir))

test(`${WRITERS} processes log to one store at once`, async (t) => {
  const store = path.join(dir, 'store')
  const dataset = writeDataset(dir)
  const goFile = path.join(dir, 'go')
  // Create the store first, so the children contend on writes rather than on the schema migration.
  await (await Assay.open({ store })).close()
  const children = Array.from({ length: WRITERS }, (_, salt) =>
    spawnChild('concurrent-writer.mjs', {
      STORE: store,
      DATASET: dataset,
      GO_FILE: goFile,
      SALT: String(salt),
      STEPS: String(STEPS),
      KEYS: String(KEYS),
      FLUSH_EVERY: String(FLUSH_EVERY),
      EVAL_BATCHES: String(EVAL_BATCHES),
      EVAL_BATCH: String(EVAL_BATCH),
    }),
  )
  const ids = await Promise.all(children.map(async (c) => (await c.waitForLine(/^ready [0-9a-f]{32}$/)).slice(6)))
  const started = Date.now()
  fs.writeFileSync(goFile, '')
  // Meanwhile this process reads, as a dashboard would (listRuns also sweeps crashed runs: a write).
  const reader = await Assay.open({ store })
  let reads = 0
  let writing = true
  const exiting = Promise.all(children.map((c) => c.exited)).finally(() => {
    writing = false
  })
  try {
    while (writing) {
      const runs = await reader.listRuns({ experiment: 'concurrent' })
      assert.equal(runs.length, WRITERS)
      for (const run of runs) assert.notEqual(run.status, 'crashed')
      const history = await reader.metricHistory(ids[reads % WRITERS], 'm0')
      assert.ok(history.every((p, i) => p.step === i), 'a reader sees a prefix of the steps')
      reads++
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  } finally {
    await reader.close()
  }
  const exits = await exiting
  t.diagnostic(`${WRITERS} writers finished ${Date.now() - started} ms after the go signal; ${reads} concurrent reads`)

  children.forEach((child, salt) => {
    assert.deepEqual(exits[salt], { code: 0, signal: null }, `writer ${salt} exit; stderr:\n${child.stderr()}`)
    assert.doesNotMatch(child.stderr(), /locked|BUSY/i)
    assert.equal(child.stderr(), '', `writer ${salt} wrote to stderr`)
    assert.ok(child.lines.includes(`done ${ids[salt]} ${EVAL_BATCHES * EVAL_BATCH}`), `writer ${salt} finished its loop`)
  })

  const db = new Database(path.join(store, 'assay.db'), { readonly: true })
  try {
    assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }])
  } finally {
    db.close()
  }

  const assay = await Assay.open({ store })
  try {
    const runs = await assay.listRuns({ experiment: 'concurrent' })
    assert.deepEqual(runs.map((r) => r.id).sort(), [...ids].sort())
    for (let salt = 0; salt < WRITERS; salt++) {
      const id = ids[salt]
      const run = await assay.getRun(id)
      assert.equal(run.status, 'finished')
      assert.deepEqual(run.params, { salt })
      for (let k = 0; k < KEYS; k++) {
        const history = await assay.metricHistory(id, `m${k}`)
        assert.equal(history.length, STEPS, `run ${salt} m${k} count`)
        for (let step = 0; step < STEPS; step++) {
          const expected = metricValue(step, salt * 10 + k)
          if (history[step].step !== step || history[step].value !== expected) {
            assert.fail(`run ${salt} m${k}[${step}] is ${JSON.stringify(history[step])}, expected ${expected}`)
          }
        }
        assert.equal(run.metrics.find((m) => m.key === `m${k}`)?.count, STEPS)
      }
      const records = await assay.evalRecords(id, 'val')
      assert.deepEqual(records, Array.from({ length: EVAL_BATCHES * EVAL_BATCH }, (_, i) => evalRecord(i, salt)))
    }
  } finally {
    await assay.close()
  }
})

test(`${WRITERS} processes create the same fresh store at once`, async () => {
  const store = path.join(dir, 'fresh-store')
  const goFile = path.join(dir, 'go-fresh')
  const dataset = writeDataset(dir)
  const steps = 200
  const children = Array.from({ length: WRITERS }, (_, salt) =>
    spawnChild('concurrent-writer.mjs', {
      STORE: store,
      DATASET: dataset,
      GO_FILE: goFile,
      OPEN_AFTER_GO: '1',
      SALT: String(salt),
      STEPS: String(steps),
      KEYS: '1',
      FLUSH_EVERY: '20',
      EVAL_BATCHES: '2',
      EVAL_BATCH: '10',
    }),
  )
  await Promise.all(children.map((c) => c.waitForLine(/^waiting$/)))
  assert.equal(fs.existsSync(store), false)
  fs.writeFileSync(goFile, '')
  const exits = await Promise.all(children.map((c) => c.exited))
  children.forEach((child, salt) => {
    assert.deepEqual(exits[salt], { code: 0, signal: null }, `writer ${salt} exit; stderr:\n${child.stderr()}`)
    assert.equal(child.stderr(), '', `writer ${salt} wrote to stderr`)
  })
  const ids = children.map((c) => (c.lines.find((l) => l.startsWith('done ')) as string).split(' ')[1])
  const assay = await Assay.open({ store })
  try {
    assert.equal((await assay.listRuns({ experiment: 'concurrent' })).length, WRITERS)
    for (let salt = 0; salt < WRITERS; salt++) {
      const values = (await assay.metricHistory(ids[salt], 'm0')).map((p) => p.value)
      assert.deepEqual(values, Array.from({ length: steps }, (_, step) => metricValue(step, salt * 10)))
      assert.equal((await assay.evalRecords(ids[salt], 'val')).length, 20)
    }
    const db = new Database(path.join(store, 'assay.db'), { readonly: true })
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
      assert.equal(db.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.at(-1)?.version, 'migrated to the latest version')
    } finally {
      db.close()
    }
  } finally {
    await assay.close()
  }
})
