/**
 * The SDK and the CLI unchanged against a real `assay server` on 127.0.0.1 (ephemeral port,
 * auth on), and the spool: a server that goes away loses nothing and stores nothing twice.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import http from 'node:http'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { EvalRecord } from '../../src/record/types.js'
import { Assay } from '../../src/sdk/assay.js'
import { listen, type RunningServer } from '../../src/server/server-process.js'
import { HttpStore } from '../../src/store/http/http-store.js'
import { encodeBatchFrame } from '../../src/store/http/wire.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { assayCommandName } from '../../src/command-name.js'
import { HANG_MS, spawnNode } from '../child-process.js'
import { rejectsWith, series } from '../store/fixtures.js'
import { runCli } from '../cli/run-cli.js'

const here = path.dirname(fileURLToPath(import.meta.url))

const cli = runCli

/** A port nothing listens on (taken from the OS, then released): a server that is down. */
async function unusedPort(): Promise<number> {
  const probe = http.createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as { port: number }).port
  await new Promise((resolve) => probe.close(resolve))
  return port
}

describe('SDK and CLI against a real server', () => {
  let dir: string
  let storeDir: string
  let server: RunningServer
  let writeToken: string
  let readToken: string
  let dataset: string

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'assay-e2e-'))
    storeDir = path.join(dir, 'store')
    delete process.env.ASSAY_STORE
    delete process.env.ASSAY_HOME
    process.env.ASSAY_SPOOL_DIR = path.join(dir, 'spool')
    // An admin bootstraps tokens on the store itself.
    const created = await cli('--store', storeDir, 'tokens', 'create', '--name', 'trainer', '--scope', 'write', '--json')
    assert.equal(created.code, 0, created.err)
    writeToken = JSON.parse(created.out).secret
    const plain = await cli('--store', storeDir, 'tokens', 'create', '--name', 'viewer', '--scope', 'read')
    assert.equal(plain.code, 0, plain.err)
    readToken = plain.out.trim()
    assert.match(readToken, /^assay_[A-Za-z0-9_-]{43}$/)
    const listed = await cli('--store', storeDir, 'tokens', 'ls')
    assert.match(listed.out, /trainer\s+write/)
    assert.ok(!listed.out.includes(readToken), 'a secret is shown once, never listed')
    server = await listen({ store: storeDir, port: 0, auth: true })
    process.env.ASSAY_TOKEN = writeToken
    dataset = path.join(dir, 'val.jsonl')
    writeFileSync(dataset, '{"id":"q1"}\n{"id":"q2"}\n{"id":"q3"}\n')
  })
  after(async () => {
    await server.close()
    delete process.env.ASSAY_TOKEN
    delete process.env.ASSAY_TRACKING_URI
    rmSync(dir, { recursive: true, force: true })
  })

  it('records a run over HTTP exactly as logged: metrics with NaN, eval records, artifacts, lineage', async () => {
    const assay = await Assay.open({ store: server.url })
    assert.equal(assay.store.kind, 'http')
    const run = await assay.startRun({ experiment: 'remote', params: { lr: 0.01, layers: [2, 3] }, seed: 11, datasets: [{ name: 'val', path: dataset, role: 'validation' }] })
    const logged = [2.5, NaN, Infinity, -Infinity, -0, 0.125]
    for (const [i, v] of logged.entries()) await run.log({ loss: v, acc: i / 10 }, { step: i })
    const records: EvalRecord[] = [
      { id: 'q1', cluster: 'c1', scores: { exact: 1, f1: 0.5 }, latencyMs: 12, tokens: 30, outputHash: 'h1' },
      { id: 'q2', scores: { exact: NaN }, latencyMs: Infinity },
      { id: 'q3', cluster: 'c2', scores: { exact: 0, f1: NaN }, cost: 0.002 },
    ]
    await run.logEval({ dataset: 'val', records })
    const weights = path.join(dir, 'weights.bin')
    writeFileSync(weights, Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251)))
    const a1 = await run.logArtifact('model/weights.bin', weights)
    await run.logArtifact('notes.txt', Buffer.from('hello'))
    await run.setTags({ stage: 'dev' })
    await run.end()

    const record = await assay.getRun(run.id.slice(0, 8))
    assert.equal(record.status, 'finished')
    assert.deepEqual(record.params, { lr: 0.01, layers: [2, 3] })
    assert.equal(record.seed, 11)
    assert.equal(record.tags.stage, 'dev')
    const loss = record.metrics.find((m) => m.key === 'loss')
    assert.deepEqual(loss, { key: 'loss', last: 0.125, lastStep: 5, min: loss?.min, max: 2.5, count: 6 })
    const history = await assay.metricHistory(run.id, 'loss')
    assert.deepEqual(history.map((p) => p.value), logged)
    assert.ok(Object.is(history[4].value, -0), '-0 travels bit for bit')
    assert.deepEqual(await assay.evalRecords(run.id, 'val'), records)
    assert.deepEqual(await assay.getArtifact(run.id, 'model/weights.bin'), readFileSync(weights))
    assert.equal((await assay.getArtifact(run.id, 'notes.txt')).toString(), 'hello')
    const lineage = await assay.lineage(a1.sha256)
    assert.deepEqual(lineage.map((e) => [e.runId, e.name, e.direction]), [[run.id, 'model/weights.bin', 'produced']])

    const consumer = await assay.startRun({ experiment: 'remote', name: 'consumer' })
    await consumer.useArtifact({ runId: run.id, name: 'model/weights.bin' })
    await consumer.end()
    assert.equal((await assay.lineage(a1.sha256)).length, 2)
    assert.deepEqual(await assay.lineage(a1.sha256.slice(0, 8)), await assay.lineage(a1.sha256), 'a sha256 prefix resolves over http as a run id prefix does')
    const listed = await assay.listRuns({ experiment: 'remote', filter: "params.lr < 0.1 and metrics.acc >= 0.5 and tags.stage = 'dev'" })
    assert.deepEqual(listed.map((r) => r.id), [run.id])
    await assay.close()
  })

  it('filter strings with SQL in them change nothing but the filter', async () => {
    const assay = await Assay.open({ store: server.url })
    const before_ = await assay.listRuns()
    for (const filter of ["name = \"x' OR '1'='1\"", "name = \"'; DROP TABLE runs; --\"", "experiment ~ \"' UNION SELECT secret_sha256 FROM api_tokens --\""]) {
      assert.deepEqual(await assay.listRuns({ filter }), [], filter)
    }
    // A tags key no run has is refused, naming the keys that exist.
    for (const filter of ["name = 'x'' OR 1=1 --'", "name = 'a'; DROP TABLE runs", "1=1 OR name = 'a'", "tags.`a'); DELETE FROM runs; --` = 'x'"]) {
      await rejectsWith(assay.listRuns({ filter }), 'ASSAY_INVALID_FILTER')
    }
    assert.deepEqual((await assay.listRuns()).map((r) => r.id), before_.map((r) => r.id))
    await assay.close()
  })

  it('the CLI works unchanged with ASSAY_TRACKING_URI', async () => {
    process.env.ASSAY_TRACKING_URI = server.url
    try {
      const runs = JSON.parse((await cli('runs', 'ls', '--json', '--filter', "name ~ 'consumer'")).out).runs
      assert.equal(runs.length, 1)
      const all = JSON.parse((await cli('runs', 'ls', '--json')).out).runs as { id: string; metrics: Record<string, unknown> }[]
      const trained = all.find((r) => 'loss' in r.metrics) as { id: string }
      const shown = await cli('runs', 'show', trained.id.slice(0, 8), '--json')
      assert.equal(shown.code, 0, shown.err)
      assert.equal(JSON.parse(shown.out).run.metrics.find((m: { key: string }) => m.key === 'loss').last, 0.125)
      const experiments = JSON.parse((await cli('experiments', 'ls', '--json')).out).experiments
      assert.deepEqual(experiments.map((e: { name: string; runCount: number }) => [e.name, e.runCount]), [['remote', 2]])
      const out = path.join(dir, 'got.txt')
      const got = await cli('artifacts', 'get', trained.id, 'notes.txt', '-o', out)
      assert.equal(got.code, 0, got.err)
      assert.equal(readFileSync(out, 'utf8'), 'hello')
      process.env.ASSAY_TOKEN = readToken
      assert.equal((await cli('runs', 'ls')).code, 0, 'a read token reads')
      const tokens = await cli('tokens', 'ls')
      assert.equal(tokens.code, 2)
      assert.match(tokens.err, /error ASSAY_FORBIDDEN/)
      process.env.ASSAY_TOKEN = 'assay_' + 'n'.repeat(43)
      const denied = await cli('runs', 'ls')
      assert.equal(denied.code, 2)
      assert.match(denied.err, /error ASSAY_UNAUTHENTICATED/)
    } finally {
      process.env.ASSAY_TOKEN = writeToken
      delete process.env.ASSAY_TRACKING_URI
    }
  })

  it('a refused write (403) fails at once and is never spooled', async () => {
    process.env.ASSAY_TOKEN = readToken
    try {
      const assay = await Assay.open({ store: server.url })
      await rejectsWith(assay.startRun({ experiment: 'remote' }), 'ASSAY_FORBIDDEN')
      assert.equal((assay.store as HttpStore).spool.pending, 0)
      await assay.close()
    } finally {
      process.env.ASSAY_TOKEN = writeToken
    }
  })

  it('spool: the server goes away mid-run; logging goes on; after a restart the next call uploads everything once', async () => {
    const port = Number(new URL(server.url).port)
    const assay = await Assay.open({ store: server.url })
    const store = assay.store as HttpStore
    const run = await assay.startRun({ experiment: 'outage', datasets: [{ name: 'val', path: dataset, role: 'validation' }] })
    for (let step = 0; step < 500; step++) await run.log({ loss: step }, { step })
    await run.flush()
    await server.close()

    for (let step = 500; step < 1500; step++) await run.log({ loss: step === 900 ? NaN : step }, { step })
    await run.flush()
    await run.logEval({ dataset: 'val', records: [{ id: 'q1', scores: { acc: 1 } }] })
    await run.logArtifact('offline.bin', Buffer.from('made offline'))
    await run.end()
    assert.ok(store.spool.pending >= 4, `writes were spooled (${store.spool.pending})`)
    await rejectsWith(assay.getRun(run.id), 'ASSAY_STORE_UNAVAILABLE')

    server = await listen({ store: storeDir, port, auth: true })
    const record = await assay.getRun(run.id)
    assert.equal(store.spool.pending, 0)
    assert.equal(record.status, 'finished')
    const history = await assay.metricHistory(run.id, 'loss')
    assert.equal(history.length, 1500, 'every point once')
    assert.deepEqual(history.map((p) => p.step), Array.from({ length: 1500 }, (_, i) => i))
    assert.ok(Number.isNaN(history[900].value))
    assert.deepEqual(await assay.evalRecords(run.id, 'val'), [{ id: 'q1', scores: { acc: 1 } }])
    assert.equal((await assay.getArtifact(run.id, 'offline.bin')).toString(), 'made offline')
    assert.deepEqual(readdirSync(store.spool.dir).filter((f) => f.endsWith('.wal')), [], 'the spool is empty')
    await assay.close()
  })

  it('spool: a replay of writes the server already applied (lost responses) stores them once', async () => {
    const store = new HttpStore(server.url)
    const assay = await Assay.open({ store: server.url })
    const run = await assay.startRun({ experiment: 'replay' })
    const record = await store.getRun(run.id)
    const frame = encodeBatchFrame({ batchId: 'batch-once', metrics: [series('x', [[0, 1], [1, 2]])] })
    await store.logBatch(run.id, { batchId: 'batch-once', metrics: [series('x', [[0, 1], [1, 2]])] })
    await store.setRunStatus(run.id, 'finished', Date.now())
    // As if the responses had been lost: the same writes are in the spool too.
    const { envelope: _e, metrics: _m, evals: _v, artifacts: _a, status: _s, endTime: _t, heartbeatAt: _h, ...newRun } = record
    store.spool.append({ op: 'createRun', run: newRun })
    store.spool.append({ op: 'logBatch', runId: run.id, batchId: 'batch-once', frame: frame.toString('base64') })
    store.spool.append({ op: 'setRunStatus', runId: run.id, status: 'finished', endTime: Date.now() })
    const result = await store.sync()
    assert.deepEqual([result.replayed, result.rejected, result.remaining], [3, 0, 0])
    assert.equal((await store.metricHistory(run.id, 'x')).values.length, 2)
    assert.equal((await store.getRun(run.id)).status, 'finished')
    await store.close()
    await assay.close()
  })

  it('spool: a holdout-ledger entry whose response was lost is counted once when replayed (with or without an id)', async () => {
    // A proxy that delivers the first POST of each entry to the server and then drops the connection
    // instead of the response: the client cannot tell the entry was stored, and spools it.
    const upstream = new URL(server.url)
    const seen = new Set<string>()
    const proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks)
        const forward = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
          const key = body.toString('utf8')
          if (req.method === 'POST' && req.url === '/api/v1/holdout-reads' && !seen.has(key)) {
            seen.add(key)
            answer.resume()
            answer.on('end', () => req.socket.destroy())
            return
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        })
        forward.end(body)
      })
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`
    const sha = 'e'.repeat(64)
    const anonymous = { datasetSha256: sha, datasetName: 'test', runIds: ['r1'], purpose: 'compare', actor: 'alice', at: 1000 }
    const keyed = { ...anonymous, id: 'entry-2', at: 2000 }
    try {
      for (const read of [anonymous, keyed]) {
        const store = new HttpStore(proxyUrl)
        try {
          await store.recordHoldoutRead(read)
          assert.equal(store.spool.pending, 1, 'the write was spooled after its response was lost')
          const result = await store.sync()
          assert.deepEqual([result.replayed, result.rejected, result.remaining], [1, 0, 0])
        } finally {
          await store.close()
        }
      }
      assert.equal(seen.size, 2, 'each entry reached the server before its response was dropped')
      const reader = new HttpStore(server.url)
      const reads = await reader.holdoutReads(sha)
      await reader.close()
      // The server records its own time (and the token as actor), not the client's claim.
      const untimed = reads.map(({ at: _at, ...rest }) => rest)
      const { at: _a, ...anonymousUntimed } = anonymous
      const { at: _k, ...keyedUntimed } = keyed
      assert.deepEqual(untimed, [{ ...anonymousUntimed, actor: 'token:trainer' }, { ...keyedUntimed, actor: 'token:trainer' }], 'each entry once; the id the client made is not part of the record')
      assert.ok(reads.every((r) => r.at > 1_700_000_000_000), 'recorded at the server time')
    } finally {
      await new Promise((resolve) => proxy.close(resolve))
    }
  })

  it('spool: a process that exits offline leaves its spool, says so on stderr; `assay sync` uploads it once', async () => {
    const port = Number(new URL(server.url).port)
    const child = spawnNode(path.join(here, 'children/spool-writer.mjs'), {
      env: { ASSAY_TRACKING_URI: server.url, ASSAY_TOKEN: writeToken, DATASET: dataset },
      stdin: 'pipe',
    })
    try {
      const runId = (await child.waitForLine(/^run [0-9a-f]{32}$/)).slice(4)
      await child.waitForLine(/^phase1$/)
      assert.equal(child.stderr(), '', 'nothing is said while the server answers')
      await server.close()
      child.proc.stdin?.write('go\n')
      await child.waitForLine(/^done 2000$/)
      assert.deepEqual(await child.exited, { code: 0, signal: null }, child.stderr())
      // Two notices: when spooling started (once, however many writes followed), and at close.
      const notices = child.stderr().trim().split('\n')
      assert.equal(notices.length, 2, child.stderr())
      const spoolDir = process.env.ASSAY_SPOOL_DIR as string
      // The command as the user would type it: `npx assay` here, where no assay is on PATH.
      const sync = `ASSAY_SPOOL_DIR=${spoolDir} ${assayCommandName()} --store ${server.url} sync`
      assert.match(notices[0] as string, new RegExp(`^assay: cannot reach the assay server at ${server.url} \\(ECONNREFUSED\\); writes are spooled in .* \\(1 pending\\)\\. If this process ends first, upload them with: `))
      assert.ok(notices[0]?.endsWith(sync), notices[0])
      const left = /^assay: (\d+) writes are still spooled in (\S+) /.exec(notices[1] as string)
      assert.ok(left !== null, notices[1])
      assert.equal(Number(left[1]), readFileSync(left[2] as string, 'utf8').split('\n').filter(Boolean).length, 'the count is what the spool file holds')
      assert.ok(notices[1]?.endsWith(sync), notices[1])

      server = await listen({ store: storeDir, port, auth: true })
      process.env.ASSAY_TRACKING_URI = server.url
      const synced = await cli('sync', '--json')
      assert.equal(synced.code, 0, synced.err)
      const result = JSON.parse(synced.out)
      assert.ok(result.replayed >= 4, synced.out)
      assert.equal(result.remaining, 0)
      assert.equal(result.rejected, 0)
      const again = JSON.parse((await cli('sync', '--json')).out)
      assert.equal(again.replayed, 0, 'a second sync has nothing to do')

      const direct = await SqliteStore.open(storeDir)
      try {
        const history = await direct.metricHistory(runId, 'loss')
        assert.equal(history.values.length, 2000, 'every acknowledged point, once')
        assert.deepEqual([...history.steps], Array.from({ length: 2000 }, (_, i) => i))
        const record = await direct.getRun(runId)
        assert.equal(record.status, 'finished')
        assert.equal(record.evals[0].count, 2)
        assert.ok(record.artifacts.some((a) => a.name === 'model.bin'))
      } finally {
        await direct.close()
      }
    } finally {
      child.proc.kill('SIGKILL')
      delete process.env.ASSAY_TRACKING_URI
    }
  })

  it('spool: the notices go to the warn sink given to Assay.open, once per episode, and none once everything is uploaded', async () => {
    const port = await unusedPort()
    const url = `http://127.0.0.1:${port}`
    const warnings: string[] = []
    const assay = await Assay.open({ store: url, warn: (message) => warnings.push(message) })
    const run = await assay.startRun({ experiment: 'sink' })
    for (let step = 0; step < 5; step++) await run.log({ loss: step }, { step })
    await run.flush()
    assert.equal(warnings.length, 1, warnings.join('\n'))
    assert.match(warnings[0] as string, /\(1 pending\)/)
    // The server comes back: the end goes through the spool, which drains; close has nothing to say.
    const back = await listen({ store: storeDir, port, auth: true })
    try {
      const store = assay.store as HttpStore
      await store.sync()
      assert.equal(store.spool.pending, 0)
      await run.end()
      await assay.close()
      assert.equal(warnings.length, 1, warnings.join('\n'))
    } finally {
      await back.close()
    }
  })

  it('a process that opens an http store and closes it exits by itself: no request, one read, a server that is down', async () => {
    const down = `http://127.0.0.1:${await unusedPort()}`
    for (const [uri, read] of [[server.url, '0'], [server.url, '1'], [down, '0']]) {
      const child = spawnNode(path.join(here, 'children/open-close.mjs'), { env: { ASSAY_TRACKING_URI: uri, READ: read } })
      await child.waitForLine(/^closed$/)
      // A handle left open would keep the child alive until spawnNode kills it after a hang (SIGKILL, not code 0).
      assert.deepEqual(await child.exited, { code: 0, signal: null }, `${uri} read=${read}: ${child.stderr()}`)
      assert.equal(child.stderr(), '', 'nothing was written, so nothing is announced')
    }
  })

  it('spool: many stores spooling in one process share one exit hook (no listener leak warning)', async () => {
    const url = `http://127.0.0.1:${await unusedPort()}`
    const before = process.listenerCount('exit')
    const warnings: string[] = []
    const stores = Array.from({ length: 12 }, () => new HttpStore(url, { warn: (m) => warnings.push(m) }))
    try {
      for (const store of stores) await store.recordHoldoutRead({ datasetSha256: 'f'.repeat(64), datasetName: 'test', runIds: ['r'], purpose: 'p', actor: 'a', at: 1 })
      assert.equal(warnings.length, 12, 'each store announces its own spool')
      assert.ok(process.listenerCount('exit') - before <= 1, `${process.listenerCount('exit') - before} exit listeners added`)
    } finally {
      for (const store of stores) await store.close()
      for (const store of stores) rmSync(store.spool.file, { force: true })
    }
    assert.equal(warnings.length, 24, 'and says at close what it left')
  })

  it('spool: a script that never reaches its server and exits without close() says what it left, and the printed `assay sync` uploads it', async () => {
    const port = await unusedPort()
    const url = `http://127.0.0.1:${port}`
    const child = spawnNode(path.join(here, 'children/offline-writer.mjs'), { env: { ASSAY_TRACKING_URI: url, ASSAY_TOKEN: writeToken, POINTS: '250' } })
    const spooled = Number((await child.waitForLine(/^spooled \d+$/)).slice('spooled '.length))
    assert.deepEqual(await child.exited, { code: 0, signal: null }, child.stderr())
    const notices = child.stderr().trim().split('\n')
    assert.equal(notices.length, 2, child.stderr())
    assert.match(notices[0] as string, new RegExp(`^assay: cannot reach the assay server at ${url} \\(ECONNREFUSED\\); writes are spooled in `))
    assert.match(notices[1] as string, new RegExp(`^assay: ${spooled} writes are still spooled in \\S+ \\(the server at ${url} could not be reached\\)`))
    assert.ok(spooled >= 3, 'createRun, the points and the end')

    // The server comes up on that port; the command printed uploads the run, as typed (with the
    // package's bin for `assay`, which is not on this machine's PATH).
    const offline = await listen({ store: storeDir, port, auth: true })
    try {
      const printed = (notices[1] as string).slice((notices[1] as string).indexOf('Upload them with: ') + 'Upload them with: '.length)
      assert.match(printed, /^(ASSAY_SPOOL_DIR=\S+ )?(npx )?assay --store /)
      const command = printed.replace(/(^|\s)(npx )?assay --store /, `$1${process.execPath} ${path.join(here, '../../bin/assay.js')} --store `)
      const synced = await promisify(execFile)('bash', ['-c', `${command} --json`], { env: { ...process.env, ASSAY_SPOOL_DIR: '' }, timeout: HANG_MS })
      assert.deepEqual(JSON.parse(synced.stdout).remaining, 0, synced.stdout)
      const reader = new HttpStore(url)
      try {
        const [run] = await reader.listRuns({ experiment: 'offline' })
        assert.equal(run?.status, 'finished')
        assert.equal((await reader.metricHistory(run.id, 'loss')).values.length, 250)
      } finally {
        await reader.close()
      }
    } finally {
      await offline.close()
    }
  })
})
