import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { runCliOn } from '../cli/run-cli.js'
import { newRun } from '../store/fixtures.js'
import { bearer, makeToken, testServer, type TestServer } from './helpers.js'

/**
 * Run listings come in pages (a limit and a cursor) over HTTP and in the CLI; a token limited to
 * some experiments gets full pages of its own runs (its experiments go into the store's query).
 */
describe('run listings in pages', () => {
  let s: TestServer
  let readA = ''
  const names: string[] = []

  before(async () => {
    s = await testServer()
    for (let i = 0; i < 8; i++) {
      const run = newRun({ experiment: i % 2 === 0 ? 'exp-a' : 'exp-b', name: `r${i}`, startTime: Date.now() + i })
      await s.store.createRun(run)
      if (i % 2 === 0) names.push(run.name)
    }
    readA = (await makeToken(s.store, 'read', ['exp-a'], 'reader-a')).secret
  })
  after(() => s.close())

  const get = async (query: string, secret = readA) => {
    const response = await s.app.inject({ method: 'GET', url: `/api/v1/runs${query}`, headers: bearer(secret) })
    return { status: response.statusCode, body: response.json() as { runs: { name: string; experiment: string }[]; nextCursor: string | null; error?: { code: string } } }
  }

  it('a limited token walks full pages of its own runs with the cursor', async () => {
    const first = await get('?limit=3')
    assert.equal(first.status, 200)
    assert.deepEqual(first.body.runs.map((r) => r.name), names.slice(0, 3))
    assert.ok(first.body.nextCursor !== null)
    const second = await get(`?limit=3&cursor=${first.body.nextCursor}`)
    assert.deepEqual(second.body.runs.map((r) => r.name), names.slice(3))
    assert.equal(second.body.nextCursor, null)
  })

  it('page sizes outside 1–1000 and foreign cursors are 400', async () => {
    for (const query of ['?limit=0', '?limit=1001', '?limit=x', '?cursor=bogus']) {
      const { status, body } = await get(query)
      assert.equal(status, 400, query)
      assert.equal(body.error?.code, 'ASSAY_INVALID_ARGUMENT', query)
    }
  })

  it('the CLI prints one page with --limit and the command for the next one', async () => {
    const first = await runCliOn(s.root, 'runs', 'ls', '--experiment', 'exp-b', '--limit', '3')
    assert.equal(first.code, 0, first.err)
    assert.equal(first.out.trim().split('\n').length, 1 + 3, first.out)
    const next = /^more runs: assay runs ls --experiment exp-b --limit 3 --cursor (\S+)$/m.exec(first.err)
    assert.ok(next !== null, first.err)
    const second = await runCliOn(s.root, 'runs', 'ls', '--experiment', 'exp-b', '--limit', '3', '--cursor', next[1] as string, '--json')
    const page = JSON.parse(second.out) as { runs: { name: string }[]; nextCursor: string | null }
    assert.deepEqual(page.runs.map((r) => r.name), ['r7'])
    assert.equal(page.nextCursor, null)
    assert.equal((await runCliOn(s.root, 'runs', 'ls', '--limit', '0')).code, 2)
  })
})
