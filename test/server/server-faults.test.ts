/**
 * Load and faults on PostgreSQL: two real `assay server` processes on one database, 32
 * concurrent clients logging through the batch endpoint; one server is SIGKILLed mid-load and
 * restarted. Every acknowledged point must be stored, and stored once (batch ids make the
 * replays of the clients' spools idempotent). Bounded: 32 × 30 batches; the deadline only catches a hang.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it } from 'node:test'
import { dropSchema, makeAdminToken, runLoad, startServerProcess, verifyStored, type ServerProcess } from '../../bench/server-load.js'
import { HttpStore } from '../../src/store/http/http-store.js'
import { patience } from '../child-process.js'
import { openStore } from '../../src/store/open-store.js'

const PG = process.env.ASSAY_TEST_POSTGRES_URL
let pgBackend = true
try {
  await import('../../src/store/postgres/postgres-store.js')
} catch {
  pgBackend = false
}
const skip = !PG ? 'ASSAY_TEST_POSTGRES_URL is not set (.ci/run sets it when a local PostgreSQL is running)' : !pgBackend ? 'this version has no PostgreSQL store' : undefined

// A skipped describe is not counted in the summary's "# skipped": this test is, so the skip shows.
if (skip !== undefined) it('server faults on PostgreSQL', { skip }, () => {})

describe('server faults on PostgreSQL', { skip, timeout: patience(20 * 60_000) }, () => {
  it('two servers, 32 clients, one server SIGKILLed mid-load and restarted: every acknowledged point stored exactly once', async () => {
    const url = PG as string
    const schema = `assay_faults_${randomBytes(4).toString('hex')}`
    const location = `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`
    const dir = mkdtempSync(path.join(os.tmpdir(), 'assay-faults-'))
    const spoolDir = path.join(dir, 'spool')
    const setup = await openStore(location)
    const servers: ServerProcess[] = []
    let killed = false
    let restarted: Promise<void> | undefined
    try {
      const token = await makeAdminToken(setup)
      servers.push(await startServerProcess(location), await startServerProcess(location))
      let acknowledged = 0
      const result = await runLoad({
        urls: servers.map((s) => s.url),
        token,
        clients: 32,
        batches: 30,
        batchSize: 500,
        spoolDir,
        deadlineMs: patience(10 * 60_000),
        onBatch: () => {
          acknowledged++
          if (!killed && acknowledged >= 300) {
            killed = true
            const victim = servers[0]
            victim.proc.kill('SIGKILL')
            restarted = (async () => {
              await victim.exited
              await new Promise((r) => setTimeout(r, 300))
              servers[0] = await startServerProcess(location, victim.port)
            })()
          }
        },
      })
      assert.ok(killed, 'the kill happened mid-load')
      await restarted
      assert.equal(result.points, 32 * 30 * 500, 'every logBatch call was acknowledged (by a server, or by the spool)')
      // Clients that were still logging after the restart replayed their spools themselves;
      // the rest (finished while the server was down) are uploaded as `assay sync` would.
      const syncer = new HttpStore(servers[0].url, { token, spoolDir })
      const synced = await syncer.sync()
      await syncer.close()
      assert.equal(synced.remaining, 0)
      assert.equal(synced.rejected, 0)
      const leftovers = existsSync(spoolDir) ? readdirSync(spoolDir, { recursive: true }).filter((f) => String(f).endsWith('.wal')) : []
      assert.deepEqual(leftovers, [], 'every spool was replayed')
      assert.deepEqual(await verifyStored(setup, result.runs), [])
    } finally {
      for (const s of servers) await s.stop('SIGKILL')
      await setup.close()
      await dropSchema(url, schema)
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
