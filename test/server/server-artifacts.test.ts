/**
 * Artifact downloads over HTTP against a real server on 127.0.0.1: the client checks the bytes,
 * as they arrive, against the sha256 recorded for the run (sent by the server from the record,
 * not recomputed from what it read), so damaged bytes are ASSAY_ARTIFACT_CORRUPT at the client
 * wherever they were damaged. Uploads are capped at what the store can read back.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { isAssayError } from '../../src/errors.js'
import { artifactLimitFor, buildServer, DEFAULT_ARTIFACT_LIMIT } from '../../src/server/app.js'
import { HttpStore } from '../../src/store/http/http-store.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { newRun, readBytes } from '../store/fixtures.js'

describe('server artifacts: downloads are checked against the recorded sha256', () => {
  let dir: string
  let root: string
  let inner: SqliteStore
  let app: FastifyInstance
  let client: HttpStore
  /** When set, the store underneath hands back these bytes for every artifact, unverified. */
  let substitute: Buffer | null = null
  const run = newRun({ experiment: 'exp', startTime: Date.now() })
  const big = Buffer.alloc(3 * 1024 * 1024 + 17)
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'assay-artifacts-'))
    root = path.join(dir, 'store')
    inner = await SqliteStore.open(root)
    // The real store, except that readArtifact can be made to return other bytes (a backend that
    // failed to verify, or a bug between the store and the response).
    const store = new Proxy(inner, {
      get(target, key, receiver) {
        if (key === 'readArtifact') {
          return async (runId: string, name: string) => {
            const real = await target.readArtifact(runId, name)
            if (substitute === null) return real
            real.stream.destroy()
            return { ...real, sizeBytes: substitute.length, stream: Readable.from([substitute]) }
          }
        }
        const value: unknown = Reflect.get(target, key, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    }) as Store
    app = await buildServer({ store, auth: { enabled: false }, uploadDir: path.join(dir, 'uploads') })
    await app.listen({ host: '127.0.0.1', port: 0 })
    client = new HttpStore(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`, { spoolDir: path.join(dir, 'spool') })
    await inner.createRun(run)
  })
  after(async () => {
    await client.close()
    await app.close()
    await inner.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('a large artifact arrives whole, with the recorded sha256 in x-assay-sha256', async () => {
    const ref = await client.putArtifact(run.id, 'model/big.bin', { bytes: big }, 'produced')
    assert.equal(ref.sha256, createHash('sha256').update(big).digest('hex'))
    assert.ok((await readBytes(client, run.id, 'model/big.bin')).equals(big))
  })

  it('bytes that are not the recorded ones are ASSAY_ARTIFACT_CORRUPT at the client, even when the store did not notice', async () => {
    await client.putArtifact(run.id, 'model/w.json', { bytes: Buffer.from('{"w":[1,2,3]}') }, 'produced')
    substitute = Buffer.from('{"w":[6,6,6]}')
    try {
      await assert.rejects(readBytes(client, run.id, 'model/w.json'), (e: unknown) => {
        assert.ok(isAssayError(e, 'ASSAY_ARTIFACT_CORRUPT'), String(e))
        assert.equal((e.details as { expected: string }).expected, createHash('sha256').update('{"w":[1,2,3]}').digest('hex'))
        return true
      })
    } finally {
      substitute = null
    }
  })

  it('a tampered blob in the store is ASSAY_ARTIFACT_CORRUPT at the client', async () => {
    const ref = await client.putArtifact(run.id, 'model/t.bin', { bytes: Buffer.from('original bytes') }, 'produced')
    writeFileSync(path.join(root, 'artifacts', 'sha256', ref.sha256.slice(0, 2), ref.sha256), 'tampered bytes')
    await assert.rejects(readBytes(client, run.id, 'model/t.bin'), (e: unknown) => isAssayError(e, 'ASSAY_ARTIFACT_CORRUPT') || assert.fail(String(e)))
  })

  it('uploads are capped at what the store can read back', async () => {
    assert.ok(artifactLimitFor(inner) <= 4 * 1024 ** 3, 'readArtifact returns one Buffer')
    assert.ok(artifactLimitFor(inner) <= DEFAULT_ARTIFACT_LIMIT)
    const smallStore = { capabilities: { ...inner.capabilities, maxArtifactBytes: 5000 } } as Store
    assert.equal(artifactLimitFor(smallStore), 5000, 'the limit is what the store says it keeps')
    const small = await buildServer({ store: inner, auth: { enabled: false }, uploadDir: path.join(dir, 'uploads-small'), artifactLimit: 1024 })
    try {
      const bytes = Buffer.alloc(2048, 1)
      const response = await small.inject({
        method: 'PUT',
        url: `/api/v1/runs/${run.id}/artifacts?name=over.bin`,
        payload: bytes,
        headers: { 'content-type': 'application/octet-stream', 'x-assay-sha256': createHash('sha256').update(bytes).digest('hex') },
      })
      assert.equal(response.statusCode, 413, response.body)
      assert.ok(!(await inner.getRun(run.id)).artifacts.some((a) => a.name === 'over.bin'))
    } finally {
      await small.close()
    }
  })
})
