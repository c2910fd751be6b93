/**
 * A full disk under the store: writes over HTTP are 507 ASSAY_STORE_FULL with a clear message,
 * and everything stored before reads back intact. The store lives on a 6 MiB tmpfs (mounting
 * needs root; the test is skipped without it).
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { buildServer } from '../../src/server/app.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { encodeBatchFrame } from '../../src/store/http/wire.js'
import type { Store } from '../../src/store/store.js'
import { newRun } from '../store/fixtures.js'
import { smallDisk } from '../small-disk.js'

const { base, disk, mounted, release } = smallDisk('assay-full-')

describe('a full disk under the store', { skip: mounted ? false : 'mounting a tmpfs needs root' }, () => {
  let store: Store
  let app: Awaited<ReturnType<typeof buildServer>>
  const run = newRun()
  const first = Buffer.alloc(512 * 1024, 7)

  before(async () => {
    store = await SqliteStore.open(path.join(disk, 'store'))
    app = await buildServer({ store, auth: { enabled: false }, uploadDir: path.join(base, 'uploads') })
    await store.createRun(run)
  })
  after(async () => {
    await app?.close()
    await store?.close()
    release()
  })

  const upload = (name: string, bytes: Buffer) =>
    app.inject({
      method: 'PUT',
      url: `/api/v1/runs/${run.id}/artifacts?name=${name}`,
      payload: bytes,
      headers: { 'content-type': 'application/octet-stream', 'x-assay-sha256': createHash('sha256').update(bytes).digest('hex') },
    })

  it('artifact uploads and batches are 507 ASSAY_STORE_FULL once the disk is full; earlier data intact', async () => {
    assert.equal((await upload('first.bin', first)).statusCode, 201)
    await store.logBatch(run.id, { params: { lr: 0.1 }, tags: { kept: 'yes' } })
    let full: Awaited<ReturnType<typeof upload>> | undefined
    for (let i = 0; i < 40 && full === undefined; i++) {
      const response = await upload(`fill-${i}.bin`, Buffer.alloc(1024 * 1024, i))
      if (response.statusCode !== 201) full = response
    }
    assert.ok(full !== undefined, 'the disk filled up')
    assert.equal(full.statusCode, 507, full.body)
    const error = (full.json() as { error: { code: string; message: string } }).error
    assert.equal(error.code, 'ASSAY_STORE_FULL')
    assert.match(error.message, /disk is full/)
    // A batch of params that cannot fit either.
    const params = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`p${i}`, 'x'.repeat(60_000)]))
    const batch = await app.inject({ method: 'POST', url: `/api/v1/runs/${run.id}/batch`, payload: encodeBatchFrame({ params }), headers: { 'content-type': 'application/octet-stream' } })
    assert.equal(batch.statusCode, 507, batch.body)
    assert.equal((batch.json() as { error: { code: string } }).error.code, 'ASSAY_STORE_FULL')

    const record = (await app.inject({ method: 'GET', url: `/api/v1/runs/${run.id}` })).json() as { run: { params: Record<string, unknown>; tags: Record<string, string> } }
    assert.deepEqual(record.run.params, { ...run.params, lr: 0.1 })
    assert.equal(record.run.tags.kept, 'yes')
    const read = await app.inject({ method: 'GET', url: `/api/v1/runs/${run.id}/artifacts/content?name=first.bin` })
    assert.equal(read.statusCode, 200)
    assert.ok(read.rawPayload.equals(first))
  })
})
