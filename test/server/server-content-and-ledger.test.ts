import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { newRun } from '../store/fixtures.js'
import { bearer, makeToken, testServer, type TestServer } from './helpers.js'

/**
 * Two findings of a token limited to one experiment: it could attach any stored blob by sha256
 * to its own run and then download it (and learn whether content exists), and it could write
 * holdout-ledger entries naming no run, back-dated, spending other teams' budget.
 */
describe('a limited token: content by hash and the holdout ledger', () => {
  let s: TestServer
  const runA = newRun({ experiment: 'exp-a', name: 'a', startTime: Date.now() })
  const runB = newRun({ experiment: 'exp-b', name: 'b', startTime: Date.now() })
  const secretB = Buffer.from('weights of team b')
  const sharedA = Buffer.from('a dataset team a uploaded')
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
  let writeA = ''
  let write = ''

  before(async () => {
    s = await testServer()
    await s.store.createRun(runA)
    await s.store.createRun(runB)
    await s.store.putArtifact(runB.id, 'model.bin', { bytes: secretB }, 'produced')
    await s.store.putArtifact(runA.id, 'data.csv', { bytes: sharedA }, 'produced')
    writeA = (await makeToken(s.store, 'write', ['exp-a'], 'team-a')).secret
    write = (await makeToken(s.store, 'write', null, 'ci')).secret
  })
  after(() => s.close())

  const post = (url: string, secret: string, payload: unknown) =>
    s.app.inject({ method: 'POST', url, headers: { ...bearer(secret), 'content-type': 'application/json' }, payload: JSON.stringify(payload) })

  it("attaching another experiment's content by hash is answered exactly as unknown content, and nothing is attached", async () => {
    const foreign = await post(`/api/v1/runs/${runA.id}/artifacts/by-sha256`, writeA, { name: 'stolen.bin', sha256: sha(secretB), direction: 'consumed' })
    const unknown = await post(`/api/v1/runs/${runA.id}/artifacts/by-sha256`, writeA, { name: 'stolen.bin', sha256: 'e'.repeat(64), direction: 'consumed' })
    assert.equal(foreign.statusCode, 404)
    assert.equal(unknown.statusCode, 404)
    const errorOf = (r: typeof foreign) => (r.json() as { error: { code: string; message: string } }).error
    assert.equal(errorOf(foreign).code, 'ASSAY_ARTIFACT_NOT_FOUND')
    assert.equal(errorOf(foreign).message.replace(sha(secretB), 'X'), errorOf(unknown).message.replace('e'.repeat(64), 'X'), 'the same answer')
    assert.deepEqual((await s.store.getRun(runA.id)).artifacts.map((a) => a.name), ['data.csv'])
    const download = await s.app.inject({ method: 'GET', url: `/api/v1/runs/${runA.id}/artifacts/content?name=stolen.bin`, headers: bearer(writeA) })
    assert.equal(download.statusCode, 404)
  })

  it('content attached to a run the token may read can be attached by hash; a token for all experiments may attach any attached content', async () => {
    const own = await post(`/api/v1/runs/${runA.id}/artifacts/by-sha256`, writeA, { name: 'input.csv', sha256: sha(sharedA), direction: 'consumed' })
    assert.equal(own.statusCode, 201, own.body)
    const all = await post(`/api/v1/runs/${runA.id}/artifacts/by-sha256`, write, { name: 'baseline.bin', sha256: sha(secretB), direction: 'consumed' })
    assert.equal(all.statusCode, 201, all.body)
  })

  it('a limited token must name runs of its experiments in a ledger entry, and the server sets the time', async () => {
    const entry = { datasetSha256: 'f'.repeat(64), datasetName: 'holdout', purpose: 'leaderboard', actor: 'me', at: 1000 }
    for (const runIds of [[], [runB.id], [runA.id, runB.id]]) {
      const refused = await post('/api/v1/holdout-reads', writeA, { ...entry, runIds })
      assert.equal(refused.statusCode, 403, `runIds ${JSON.stringify(runIds)}: ${refused.body}`)
    }
    assert.deepEqual(await s.store.holdoutReads('f'.repeat(64)), [], 'nothing was recorded')
    const before = Date.now()
    const accepted = await post('/api/v1/holdout-reads', writeA, { ...entry, runIds: [runA.id] })
    assert.equal(accepted.statusCode, 201, accepted.body)
    const [stored] = await s.store.holdoutReads('f'.repeat(64))
    assert.ok(stored.at >= before, `recorded at the server's time, not the claimed 1000 (got ${stored.at})`)
    assert.equal(stored.actor, 'token:team-a')
  })
})
