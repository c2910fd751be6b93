import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { hashSecret, newTokenId, newTokenSecret } from '../../src/server/auth.js'
import { runCliOn } from '../cli/run-cli.js'
import { bearer, testServer, type TestServer } from './helpers.js'

/** Tokens used to be valid until revoked; `tokens create --expires-in` gives them an end. */
describe('token expiry', () => {
  let s: TestServer
  before(async () => {
    s = await testServer()
  })
  after(async () => s.close())

  const tokenExpiringAt = async (expiresAt: number | null): Promise<string> => {
    const secret = newTokenSecret()
    await s.store.createApiToken({ id: newTokenId(), name: 'ci', scope: 'read', experiments: null, createdAt: Date.now() - 10_000, createdBy: 'test', revokedAt: null, expiresAt }, hashSecret(secret))
    return secret
  }

  it('an expired token is 401 naming the expiry; one expiring later, or never, is accepted', async () => {
    const expired = await tokenExpiringAt(Date.now() - 1000)
    const response = await s.app.inject({ method: 'GET', url: '/api/v1/runs', headers: bearer(expired) })
    assert.equal(response.statusCode, 401)
    const error = (response.json() as { error: { code: string; message: string } }).error
    assert.equal(error.code, 'ASSAY_UNAUTHENTICATED')
    assert.match(error.message, /expired at \d{4}-/)
    for (const secret of [await tokenExpiringAt(Date.now() + 3_600_000), await tokenExpiringAt(null)]) {
      assert.equal((await s.app.inject({ method: 'GET', url: '/api/v1/runs', headers: bearer(secret) })).statusCode, 200)
    }
  })

  it('tokens create --expires-in stores the end, tokens ls shows it, and a bad duration is a usage error', async () => {
    const before = Date.now()
    const created = await runCliOn(s.root, 'tokens', 'create', '--name', 'ci-short', '--scope', 'read', '--expires-in', '2h', '--json')
    assert.equal(created.code, 0, created.err)
    const { token } = JSON.parse(created.out) as { token: { id: string; createdAt: number; expiresAt: number } }
    assert.equal(token.expiresAt - token.createdAt, 2 * 3_600_000)
    assert.ok(token.createdAt >= before)
    const listed = await runCliOn(s.root, 'tokens', 'ls')
    assert.match(listed.out, /EXPIRES/)
    assert.ok(listed.out.includes(new Date(token.expiresAt).toISOString().replace('T', ' ').slice(0, 19)), listed.out)
    const bad = await runCliOn(s.root, 'tokens', 'create', '--name', 'x', '--scope', 'read', '--expires-in', 'soon')
    assert.equal(bad.code, 2)
    assert.match(bad.err, /--expires-in must be/)
  })
})
