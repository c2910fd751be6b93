/**
 * The server's cache of verified tokens (src/server/auth.ts TokenCache, `--token-cache-ms`): a
 * token revoked in the store is refused once the window has passed, one revoked through the
 * server at once; and the scope checks in front of PostgreSQL's one-statement batch writes.
 */
import assert from 'node:assert/strict'
import { after, describe, it, test } from 'node:test'
import { buildServer } from '../../src/server/app.js'
import { hashSecret, newTokenId, newTokenSecret, TokenCache } from '../../src/server/auth.js'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { dropSchema, freshSchema } from '../store/backends.js'
import { newRun } from '../store/fixtures.js'
import { bearer, makeToken, testServer } from './helpers.js'

const batch = { metrics: [{ key: 'loss', steps: [0], values: [1], timestamps: [1_700_000_000_000] }] }

describe('token cache', () => {
  it('a token revoked in the store is still served inside the window and refused once it has passed', async () => {
    const windowMs = 300
    const s = await testServer({ tokenCacheMs: windowMs })
    try {
      const { secret, token } = await makeToken(s.store, 'read')
      const list = () => s.app.inject({ method: 'GET', url: '/api/v1/runs', headers: bearer(secret) })
      assert.equal((await list()).statusCode, 200)
      const verifiedBy = Date.now()
      await s.store.revokeApiToken(token.id, Date.now())
      // The cache answers without reading the store: the revocation is not seen yet.
      if (Date.now() < verifiedBy + windowMs / 2) assert.equal((await list()).statusCode, 200, 'served from the cache inside the window')
      // Wait for the clock, not for a guess: once the window is over the token is read again.
      while (Date.now() <= verifiedBy + windowMs) await new Promise((resolve) => setTimeout(resolve, 25))
      const refused = await list()
      assert.equal(refused.statusCode, 401)
      assert.match(refused.body, /was revoked/)
    } finally {
      await s.close()
    }
  })

  it('inside the window a revocation elsewhere is not seen; one through the server is, on the next request', async () => {
    const s = await testServer({ tokenCacheMs: 3_600_000 })
    try {
      const { secret: admin } = await makeToken(s.store, 'admin')
      const { secret, token } = await makeToken(s.store, 'write')
      const list = () => s.app.inject({ method: 'GET', url: '/api/v1/runs', headers: bearer(secret) })
      assert.equal((await list()).statusCode, 200)
      // Revoked in the store by someone else: this server trusts its cached answer for the window.
      await s.store.revokeApiToken(token.id, Date.now())
      assert.equal((await list()).statusCode, 200)
      const revoked = await s.app.inject({ method: 'POST', url: `/api/v1/tokens/${token.id}/revoke`, headers: bearer(admin), payload: { at: Date.now() } })
      assert.equal(revoked.statusCode, 200)
      assert.equal((await list()).statusCode, 401)
    } finally {
      await s.close()
    }
  })

  it('--token-cache-ms 0 reads the token on every request: a revocation in the store counts at once', async () => {
    const s = await testServer({ tokenCacheMs: 0 })
    try {
      const { secret, token } = await makeToken(s.store, 'read')
      const list = () => s.app.inject({ method: 'GET', url: '/api/v1/runs', headers: bearer(secret) })
      assert.equal((await list()).statusCode, 200)
      await s.store.revokeApiToken(token.id, Date.now())
      assert.equal((await list()).statusCode, 401)
    } finally {
      await s.close()
    }
  })

  it('only the canonical "Bearer <token>" header is remembered by header: padded spellings authenticate but add no entry', async () => {
    const s = await testServer({ tokenCacheMs: 3_600_000 })
    try {
      const { secret } = await makeToken(s.store, 'read')
      const padded = [`Bearer  ${secret}`, `Bearer ${secret}   `, `Bearer\t${secret}`, `bearer ${secret}${' '.repeat(4000)}`]
      for (const authorization of padded) {
        const answer = await s.app.inject({ method: 'GET', url: '/api/v1/runs', headers: { authorization } })
        assert.equal(answer.statusCode, 200, JSON.stringify(authorization.slice(0, 20)))
      }
    } finally {
      await s.close()
    }
    const cache = new TokenCache(3_600_000)
    const secret = newTokenSecret()
    const token = { id: newTokenId(), name: 't', scope: 'read' as const, experiments: null, createdAt: 0, createdBy: 'test', revokedAt: null, expiresAt: null }
    const now = Date.now()
    cache.set(hashSecret(secret), token, now, `Bearer  ${secret}  `)
    assert.equal(cache.callerOfHeader(`Bearer  ${secret}  `, now), undefined, 'a padded header is not a key')
    assert.notEqual(cache.caller(hashSecret(secret), now), undefined, 'the token is still cached by its hash')
    cache.set(hashSecret(secret), token, now, `Bearer ${secret}`)
    assert.notEqual(cache.callerOfHeader(`Bearer ${secret}`, now), undefined, 'the canonical header is a key')
  })

  it('an expired token is refused even while cached', async () => {
    const s = await testServer({ tokenCacheMs: 3_600_000 })
    try {
      const expiresAt = Date.now() + 300
      const secret = newTokenSecret()
      await s.store.createApiToken({ id: newTokenId(), name: 'expiring', scope: 'read', experiments: null, createdAt: Date.now(), createdBy: 'test', revokedAt: null, expiresAt }, hashSecret(secret))
      const list = () => s.app.inject({ method: 'GET', url: '/api/v1/runs', headers: bearer(secret) })
      const first = await list()
      if (Date.now() < expiresAt) assert.equal(first.statusCode, 200)
      while (Date.now() <= expiresAt) await new Promise((resolve) => setTimeout(resolve, 25))
      const refused = await list()
      assert.equal(refused.statusCode, 401)
      assert.match(refused.body, /expired/)
    } finally {
      await s.close()
    }
  })
})

const URL_ = process.env.ASSAY_TEST_POSTGRES_URL
const SKIP = URL_ ? undefined : 'ASSAY_TEST_POSTGRES_URL is not set (.ci/run sets it when a local PostgreSQL is running)'
if (SKIP !== undefined) test('batches over a server on PostgreSQL', { skip: SKIP }, () => {})

describe('batches over a server on PostgreSQL', { skip: SKIP }, () => {
  const url = URL_ as string
  const schema = freshSchema()
  after(async () => dropSchema(url, schema))

  it('a token limited to one experiment cannot write to a run of another (403, nothing stored); its own runs take batches', async () => {
    const store = await PostgresStore.open(url, { schema, poolSize: 4 })
    const app = await buildServer({ store, auth: { enabled: true } })
    try {
      const mine = newRun({ experiment: 'mine' })
      const theirs = newRun({ experiment: 'theirs' })
      await store.createRun(mine)
      await store.createRun(theirs)
      const { secret } = await makeToken(store, 'write', ['mine'])
      const post = (id: string, batchId: string) => app.inject({ method: 'POST', url: `/api/v1/runs/${id}/batch`, headers: bearer(secret), payload: { ...batch, batchId } })
      const refused = await post(theirs.id, 'scope-1')
      assert.equal(refused.statusCode, 403)
      assert.equal((refused.json() as { error: { code: string } }).error.code, 'ASSAY_FORBIDDEN')
      assert.deepEqual((await store.getRun(theirs.id)).metrics, [])
      assert.equal((await post(mine.id, 'scope-2')).statusCode, 200)
      assert.equal((await post(mine.id, 'scope-2')).statusCode, 200, 'the same batch again is acknowledged')
      assert.equal((await store.getRun(mine.id)).metrics[0]?.count, 1)
      const unknown = await post('e'.repeat(32), 'scope-3')
      assert.equal(unknown.statusCode, 404)
      await store.setRunStatus(mine.id, 'finished', Date.now())
      const ended = await post(mine.id, 'scope-4')
      assert.equal(ended.statusCode, 409)
      assert.equal((ended.json() as { error: { code: string } }).error.code, 'ASSAY_RUN_NOT_ACTIVE')
    } finally {
      await app.close()
      await store.close()
    }
  })
})
