import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { buildServer } from '../../src/server/app.js'
import { HttpStore } from '../../src/store/http/http-store.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { runCli } from '../cli/run-cli.js'
import { newRun, runId } from '../store/fixtures.js'
import { makeToken } from './helpers.js'

/**
 * Spools used to be kept per server URL only: another token's `assay sync` claimed a dead
 * process's spool, got 403 for each write, moved them aside and exited 0; and close() swallowed
 * what its last replay could not deliver. Now a spool belongs to a URL and a token.
 */
describe('spools per token, refused writes never silent', () => {
  let dir: string
  let spoolDir: string
  let store: SqliteStore
  let app: FastifyInstance | null = null
  let port = 0
  let tokenA = ''
  let tokenB = ''
  const url = () => `http://127.0.0.1:${port}`

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'assay-spool-tokens-'))
    spoolDir = path.join(dir, 'spool')
    store = await SqliteStore.open(path.join(dir, 'store'))
    tokenA = (await makeToken(store, 'write', ['exp-a'], 'team-a')).secret
    tokenB = (await makeToken(store, 'write', ['exp-b'], 'team-b')).secret
    // A port nothing listens on yet: the server is down.
    const probe = http.createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    port = (probe.address() as { port: number }).port
    await new Promise((resolve) => probe.close(resolve))
  })
  after(async () => {
    await app?.close()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const startServer = async () => {
    app = await buildServer({ store, auth: { enabled: true }, uploadDir: path.join(dir, 'uploads'), crashAfterMs: 0 })
    await app.listen({ host: '127.0.0.1', port })
  }
  const syncAs = async (token: string) => {
    const saved = { token: process.env.ASSAY_TOKEN, spool: process.env.ASSAY_SPOOL_DIR }
    process.env.ASSAY_TOKEN = token
    process.env.ASSAY_SPOOL_DIR = spoolDir
    try {
      const result = await runCli('--store', url(), 'sync', '--json')
      return { code: result.code, err: result.err, body: result.code === 2 ? null : (JSON.parse(result.out) as { replayed: number; rejected: number; remaining: number }) }
    } finally {
      for (const [key, value] of [['ASSAY_TOKEN', saved.token], ['ASSAY_SPOOL_DIR', saved.spool]] as const) {
        if (value === undefined) delete process.env[key]
        else process.env[key] = value
      }
    }
  }
  const walFiles = (d: string) => (existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.wal')) : [])

  it("another token's sync leaves a spool alone; its own token's sync uploads it", async () => {
    const notices: string[] = []
    const a = new HttpStore(url(), { token: tokenA, spoolDir, warn: (m) => notices.push(m) })
    const run = newRun({ experiment: 'exp-a', startTime: Date.now() })
    await a.createRun(run)
    assert.equal(a.spool.pending, 1, 'spooled: the server is down')
    await a.close()
    assert.match(notices.at(-1) as string, /1 write is still spooled/)
    const b = new HttpStore(url(), { token: tokenB, spoolDir })
    assert.notEqual(b.spool.dir, a.spool.dir, 'one folder per token')
    await b.close()

    await startServer()
    const foreign = await syncAs(tokenB)
    assert.equal(foreign.code, 0, foreign.err)
    assert.deepEqual(foreign.body && [foreign.body.replayed, foreign.body.rejected], [0, 0])
    assert.equal(walFiles(a.spool.dir).length, 1, "team a's spool is untouched")
    assert.deepEqual(readdirSync(a.spool.dir).filter((f) => f.endsWith('.rejected')), [])

    const own = await syncAs(tokenA)
    assert.equal(own.code, 0, own.err)
    assert.deepEqual(own.body && [own.body.replayed, own.body.rejected, own.body.remaining], [1, 0, 0])
    assert.equal((await store.getRun(run.id)).experiment, 'exp-a')
  })

  it('sync exits 1 when the server refused spooled writes', async () => {
    await app?.close()
    app = null
    const a = new HttpStore(url(), { token: tokenA, spoolDir, warn: () => {} })
    await a.setRunStatus(runId(), 'finished', Date.now()) // a run the server does not have: refused (404) on replay
    await a.close()
    await startServer()
    const result = await syncAs(tokenA)
    assert.equal(result.code, 1, result.err)
    assert.equal(result.body?.rejected, 1)
  })

  it('close() says when the server refused what it replayed', async () => {
    await app?.close()
    app = null
    const notices: string[] = []
    const a = new HttpStore(url(), { token: tokenA, spoolDir, warn: (m) => notices.push(m) })
    await a.setRunStatus(runId(), 'finished', Date.now())
    assert.equal(a.spool.pending, 1)
    await startServer()
    await a.close()
    assert.ok(notices.some((m) => /refused 1 spooled write \(ASSAY_RUN_NOT_FOUND: .*kept in .*\.rejected/.test(m)), notices.join('\n'))
  })
})
