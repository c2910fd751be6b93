/**
 * What only the PostgreSQL store has: several processes' pools on one database (concurrent
 * writers, concurrent migration, batch ids raced across pools), its URL forms, and a database
 * that cannot be reached. The contract itself is store-contract.test.ts. Each test uses a fresh
 * schema and drops it. Skipped, with the reason, when ASSAY_TEST_POSTGRES_URL is not set.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createWriteStream, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, describe, test } from 'node:test'
import pg from 'pg'
import { openStore } from '../../src/store/open-store.js'
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/postgres-migrations.js'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { dropSchema, freshSchema } from './backends.js'
import { newRun, plain, readBytes, rejectsWith, series } from './fixtures.js'

const URL_ = process.env.ASSAY_TEST_POSTGRES_URL

const SKIP = URL_ ? undefined : 'ASSAY_TEST_POSTGRES_URL is not set (.ci/run sets it when a local PostgreSQL is running)'
// A skipped describe is not counted in the summary's "# skipped": this test is, so the skip shows.
if (SKIP !== undefined) test('PostgreSQL store', { skip: SKIP }, () => {})

describe('PostgreSQL store', { skip: SKIP }, () => {
  const url = URL_ as string
  const schemas: string[] = []
  const stores: PostgresStore[] = []

  /** `count` stores (each its own pool, like separate server processes) on one fresh schema. */
  async function openMany(count: number, schema = freshSchema()): Promise<PostgresStore[]> {
    schemas.push(schema)
    const opened = await Promise.all(Array.from({ length: count }, () => PostgresStore.open(url, { schema, poolSize: 4 })))
    stores.push(...opened)
    return opened
  }

  async function sql<T extends pg.QueryResultRow>(schema: string, text: string, values: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` })
    await client.connect()
    try {
      return (await client.query<T>(text, values)).rows
    } finally {
      await client.end()
    }
  }

  after(async () => {
    for (const store of stores) await store.close()
    for (const schema of schemas) await dropSchema(url, schema)
  })

  test('several stores migrate one fresh schema at once: every version applied exactly once', async () => {
    const schema = freshSchema()
    await openMany(6, schema)
    const versions = await sql<{ version: number }>(schema, 'SELECT version FROM assay_schema_migrations ORDER BY version')
    assert.deepEqual(
      versions.map((v) => v.version),
      POSTGRES_MIGRATIONS.map((m) => m.version),
    )
    // Opening again finds nothing to do.
    await openMany(2, schema)
    assert.equal((await sql(schema, 'SELECT version FROM assay_schema_migrations')).length, POSTGRES_MIGRATIONS.length)
  })

  test('a schema written by a newer assay is refused with ASSAY_STORE_SCHEMA_TOO_NEW', async () => {
    const schema = freshSchema()
    await openMany(1, schema)
    await sql(schema, 'INSERT INTO assay_schema_migrations (version, applied_at) VALUES (999, 0)')
    await rejectsWith(PostgresStore.open(url, { schema }), 'ASSAY_STORE_SCHEMA_TOO_NEW', /999/)
  })

  test('concurrent writers from several pools to one run and to many runs: nothing lost, no seq taken twice', async () => {
    const [a, b, c] = await openMany(3)
    const shared = newRun()
    await a.createRun(shared)
    const own = [newRun({ name: 'own-a' }), newRun({ name: 'own-b' }), newRun({ name: 'own-c' })]
    await Promise.all([a, b, c].map((s, i) => s.createRun(own[i])))
    const writers = 3
    const batches = 40
    const perBatch = 50
    await Promise.all(
      [a, b, c].flatMap((store, w) =>
        Array.from({ length: batches }, async (_, i) => {
          const points = Array.from({ length: perBatch }, (_, j) => [(w * batches + i) * perBatch + j, w + i / 100] as const)
          await store.logBatch(shared.id, { metrics: [series('loss', points), series(`writer_${w}`, points)], tags: { [`w${w}`]: String(i) } })
          await store.logBatch(own[w].id, { metrics: [series('loss', points)], params: { [`p${i}`]: i } })
        }),
      ),
    )
    const history = plain(await b.metricHistory(shared.id, 'loss'))
    assert.equal(history.steps.length, writers * batches * perBatch)
    assert.deepEqual(
      [...history.steps].sort((x, y) => x - y),
      Array.from({ length: writers * batches * perBatch }, (_, k) => k),
      'every point once',
    )
    const record = await c.getRun(shared.id)
    const loss = record.metrics.find((m) => m.key === 'loss')
    assert.equal(loss?.count, writers * batches * perBatch)
    assert.equal(loss?.lastStep, writers * batches * perBatch - 1)
    for (let w = 0; w < writers; w++) {
      assert.equal(record.metrics.find((m) => m.key === `writer_${w}`)?.count, batches * perBatch)
      const mine = await a.getRun(own[w].id)
      assert.equal(mine.metrics[0].count, batches * perBatch)
      assert.equal(Object.keys(mine.params).length, batches + Object.keys(own[w].params).length)
      assert.equal((await a.listRuns({})).find((r) => r.id === own[w].id)?.configFingerprint, mine.envelope.config, 'the fingerprint saw every param')
    }
    const seqs = await sql<{ key: string; n: number; max: number; distinct: number }>(
      a.schema,
      'SELECT key, COUNT(*)::int AS n, MAX(seq) AS max, COUNT(DISTINCT seq)::int AS distinct FROM metric_chunks WHERE run_id = $1 GROUP BY key ORDER BY key',
      [shared.id],
    )
    for (const row of seqs) assert.deepEqual([row.n, row.max, row.distinct], row.key === 'loss' ? [120, 119, 120] : [40, 39, 40], `seq of ${row.key} is 0..n-1`)
  })

  test('one batch id raced from several pools is applied once', async () => {
    const stores4 = await openMany(4)
    const run = newRun()
    await stores4[0].createRun(run)
    const ids = Array.from({ length: 20 }, (_, i) => `batch-${i}`)
    await Promise.all(
      ids.flatMap((batchId, i) =>
        stores4.map((store) => store.logBatch(run.id, { batchId, metrics: [series('x', [[i, i]])] })),
      ),
    )
    const history = plain(await stores4[1].metricHistory(run.id, 'x'))
    assert.deepEqual([...history.steps].sort((x, y) => x - y), ids.map((_, i) => i))
    assert.equal((await stores4[2].getRun(run.id)).metrics[0].count, ids.length)
  })

  test('NaN and infinite summaries are stored as themselves; seeds and counts read back as numbers', async () => {
    const [store] = await openMany(1)
    const run = newRun({ seed: 2 ** 32 })
    await store.createRun(run)
    await store.logBatch(run.id, { metrics: [series('n', [[0, NaN]]), series('i', [[0, -Infinity]])] })
    const rows = await sql<{ key: string; last: number }>(store.schema, 'SELECT key, last FROM metric_summaries ORDER BY key')
    assert.deepEqual(rows.map((r) => [r.key, r.last]), [['i', -Infinity], ['n', NaN]])
    const got = await store.getRun(run.id)
    assert.equal(got.seed, 2 ** 32)
    assert.equal(typeof got.metrics[0].count, 'number')
    assert.equal(typeof got.datasets[0].sizeBytes, 'number')
    assert.equal(typeof (await store.listExperiments())[0].runCount, 'number')
  })

  test('a run id created twice is ASSAY_INVALID_ARGUMENT and the first run is untouched', async () => {
    const [store] = await openMany(1)
    const run = newRun()
    await store.createRun(run)
    await rejectsWith(store.createRun({ ...run, name: 'again' }), 'ASSAY_INVALID_ARGUMENT', /already exists/)
    assert.equal((await store.getRun(run.id)).name, run.name)
  })

  test('an artifact larger than one read slice round-trips; the bytes are in the database', async () => {
    const [store] = await openMany(1)
    const run = newRun()
    await store.createRun(run)
    const bytes = randomBytes(40 * 1024 * 1024 + 7)
    const ref = await store.putArtifact(run.id, 'model.bin', { bytes }, 'produced')
    const back = await readBytes(store, run.id, 'model.bin')
    assert.equal(back.length, bytes.length)
    assert.ok(back.equals(bytes))
    const [row] = await sql<{ n: string; chunks: string }>(store.schema, 'SELECT SUM(octet_length(data)) AS n, COUNT(*) AS chunks FROM blob_chunks WHERE sha256 = $1', [ref.sha256])
    assert.equal(Number(row.n), bytes.length)
    assert.equal(Number(row.chunks), 11, '4 MiB chunks')
  })

  // Over the 1 GB a bytea value holds: chunked storage (schema v8) has no such limit. 1.1 GiB
  // written and read back takes minutes and disk, so it runs only when asked for.
  test('an artifact over 1 GiB round-trips (ASSAY_TEST_LARGE_BLOBS=1)', { skip: process.env.ASSAY_TEST_LARGE_BLOBS === '1' ? undefined : 'set ASSAY_TEST_LARGE_BLOBS=1' }, async () => {
    const [store] = await openMany(1)
    const run = newRun()
    await store.createRun(run)
    const file = path.join(os.tmpdir(), `assay-large-${process.pid}.bin`)
    const size = Math.round(1.1 * 1024 ** 3)
    const block = Buffer.alloc(1024 * 1024)
    const hash = createHash('sha256')
    const out = createWriteStream(file)
    for (let written = 0; written < size; written += block.length) {
      const piece = block.fill(written % 251).subarray(0, Math.min(block.length, size - written))
      hash.update(piece)
      if (!out.write(Buffer.from(piece))) await once(out, 'drain')
    }
    out.end()
    await once(out, 'finish')
    try {
      const ref = await store.putArtifact(run.id, 'huge.bin', { path: file }, 'produced')
      assert.equal(ref.sizeBytes, size)
      assert.equal(ref.sha256, hash.digest('hex'))
      const read = await store.readArtifact(run.id, 'huge.bin')
      const back = createHash('sha256')
      let got = 0
      for await (const chunk of read.stream) {
        back.update(chunk as Buffer)
        got += (chunk as Buffer).length
      }
      assert.equal(got, size)
      assert.equal(back.digest('hex'), ref.sha256)
    } finally {
      rmSync(file, { force: true })
    }
  })

  test('a connection the server drops is replaced: the store keeps working', async () => {
    const schema = freshSchema()
    schemas.push(schema)
    const app = `assay_test_${randomBytes(4).toString('hex')}`
    const store = await PostgresStore.open(`${url}${url.includes('?') ? '&' : '?'}application_name=${app}&schema=${schema}&pool_size=2`)
    stores.push(store)
    const run = newRun()
    await store.createRun(run)
    await store.logBatch(run.id, { metrics: [series('loss', [[0, 1]])] })
    const killed = await sql<{ ok: boolean }>('public', 'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1', [app])
    assert.ok(killed.length > 0, 'the store had a connection to drop')
    // Wait for a state, not a time: the terminated backends are gone (they sent their FATAL
    // message before exiting, which the store's pool reads while these queries are awaited).
    while ((await sql('public', 'SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [app])).length > 0) continue
    await store.logBatch(run.id, { metrics: [series('loss', [[1, 0.5]])] })
    assert.deepEqual(plain(await store.metricHistory(run.id, 'loss')).values, [1, 0.5])
  })

  describe('URLs and reachability', () => {
    test('openStore routes postgres:// and postgresql:// URLs, with ?schema=', async () => {
      const schema = freshSchema()
      schemas.push(schema)
      for (const scheme of ['postgres', 'postgresql']) {
        const store = await openStore(`${url.replace(/^postgres(ql)?:/, `${scheme}:`)}${url.includes('?') ? '&' : '?'}schema=${schema}`)
        try {
          assert.equal(store.kind, 'postgres')
          assert.ok(store.capabilities.maxArtifactBytes > 1024 ** 3, 'a PostgreSQL store keeps a blob in chunks, past the 1 GB of one bytea value')
          assert.equal(store.capabilities.localDirectory, null)
          assert.match(store.location, new RegExp(`schema=${schema}`))
          await store.createRun(newRun())
        } finally {
          await store.close()
        }
      }
      assert.equal((await sql(schema, 'SELECT id FROM runs')).length, 2, 'both landed in the schema')
    })

    test('a server that does not answer is ASSAY_STORE_UNAVAILABLE naming the URL without its password', async () => {
      const error = await rejectsWith(PostgresStore.open('postgres://assay:s3cret-pw@127.0.0.1:1/assay'), 'ASSAY_STORE_UNAVAILABLE', /127\.0\.0\.1:1/)
      assert.doesNotMatch(error.message, /s3cret-pw/)
      assert.equal((error as { status?: number }).status, 503)
      await rejectsWith(openStore('postgresql://127.0.0.1:1/assay'), 'ASSAY_STORE_UNAVAILABLE')
    })

    test('a database that does not exist is ASSAY_STORE_UNAVAILABLE', async () => {
      const missing = new URL(url)
      missing.pathname = `/assay_no_such_db_${randomBytes(4).toString('hex')}`
      await rejectsWith(PostgresStore.open(missing.href), 'ASSAY_STORE_UNAVAILABLE', /does not exist/)
    })

    test('bad schema names and pool sizes are ASSAY_INVALID_STORE_URL', async () => {
      await rejectsWith(PostgresStore.open(`${url}?schema=Robert"); DROP TABLE runs; --`), 'ASSAY_INVALID_STORE_URL', /schema/)
      await rejectsWith(PostgresStore.open(url, { schema: '1abc' }), 'ASSAY_INVALID_STORE_URL')
      await rejectsWith(PostgresStore.open(`${url}?pool_size=0`), 'ASSAY_INVALID_STORE_URL', /pool size/)
      await rejectsWith(PostgresStore.open('postgres://[bad'), 'ASSAY_INVALID_STORE_URL')
    })

    test('a write after close is refused, not hung', async () => {
      const [store] = await openMany(1)
      await store.close()
      await assert.rejects(store.createRun(newRun()))
    })
  })
})
