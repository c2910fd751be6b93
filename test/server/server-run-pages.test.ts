import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { runCliOn } from '../cli/run-cli.js'
import { newRun, series } from '../store/fixtures.js'
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
    const next = /^more runs: (?:npx )?assay --store \S+ runs ls --experiment exp-b --limit 3 --cursor (\S+)$/m.exec(first.err)
    assert.ok(next !== null, first.err)
    const second = await runCliOn(s.root, 'runs', 'ls', '--experiment', 'exp-b', '--limit', '3', '--cursor', next[1] as string, '--json')
    const page = JSON.parse(second.out) as { runs: { name: string }[]; nextCursor: string | null }
    assert.deepEqual(page.runs.map((r) => r.name), ['r7'])
    assert.equal(page.nextCursor, null)
    assert.equal((await runCliOn(s.root, 'runs', 'ls', '--limit', '0')).code, 2)
  })
})

/**
 * Experiment and model listings come in pages too: over HTTP (a limited token's experiments go
 * into the query, so its pages are full) and in the CLI, which prints the next page's command.
 */
describe('experiment and model listings in pages', () => {
  let s: TestServer
  let readSome = ''
  let readAll = ''
  const experiments = ['exp-a', 'exp-b', 'exp-c', 'exp-d', 'exp-e', 'exp-f']

  before(async () => {
    s = await testServer()
    for (const [i, experiment] of experiments.entries()) await s.store.createRun(newRun({ experiment, name: `r${i}`, startTime: Date.now() + i }))
    for (const name of ['m-c', 'm-a', 'm-b']) await s.store.createModel({ name, owner: 'alice', description: '', tags: {}, createdAt: 1000, createdBy: 'alice' })
    readSome = (await makeToken(s.store, 'read', ['exp-b', 'exp-d', 'exp-f'], 'reader-some')).secret
    readAll = (await makeToken(s.store, 'read', null, 'reader-all')).secret
  })
  after(() => s.close())

  const get = async <T>(url: string, secret = readSome) => {
    const response = await s.app.inject({ method: 'GET', url, headers: bearer(secret) })
    return { status: response.statusCode, body: response.json() as T & { nextCursor: string | null; error?: { code: string } } }
  }

  it('a limited token walks full pages of its own experiments only', async () => {
    const first = await get<{ experiments: { name: string }[] }>('/api/v1/experiments?limit=2')
    assert.equal(first.status, 200)
    assert.deepEqual(first.body.experiments.map((e) => e.name), ['exp-b', 'exp-d'])
    assert.ok(first.body.nextCursor !== null)
    const second = await get<{ experiments: { name: string }[] }>(`/api/v1/experiments?limit=2&cursor=${first.body.nextCursor}`)
    assert.deepEqual(second.body.experiments.map((e) => e.name), ['exp-f'])
    assert.equal(second.body.nextCursor, null)
  })

  it('models page by name; bad limits and cursors are 400', async () => {
    const first = await get<{ models: { name: string }[] }>('/api/v1/models?limit=2', readAll)
    assert.deepEqual(first.body.models.map((m) => m.name), ['m-a', 'm-b'])
    const second = await get<{ models: { name: string }[] }>(`/api/v1/models?limit=2&cursor=${first.body.nextCursor}`, readAll)
    assert.deepEqual(second.body, { models: [{ name: 'm-c', owner: 'alice', description: '', tags: {}, createdAt: 1000, createdBy: 'alice' }], nextCursor: null })
    for (const url of ['/api/v1/models?limit=0', '/api/v1/experiments?limit=1001', '/api/v1/models?cursor=bogus', '/api/v1/experiments?cursor=bogus', '/api/v1/models?page=2']) {
      const { status, body } = await get<object>(url, readAll)
      assert.equal(status, 400, url)
      assert.equal(body.error?.code, 'ASSAY_INVALID_ARGUMENT', url)
    }
  })

  it('the CLI prints one page of experiments or models with --limit and the command for the next one', async () => {
    const first = await runCliOn(s.root, 'experiments', 'ls', '--limit', '4')
    assert.equal(first.code, 0, first.err)
    assert.equal(first.out.trim().split('\n').length, 1 + 4, first.out)
    const next = /^more experiments: (?:npx )?assay --store \S+ experiments ls --limit 4 --cursor (\S+)$/m.exec(first.err)
    assert.ok(next !== null, first.err)
    const rest = JSON.parse((await runCliOn(s.root, 'experiments', 'ls', '--limit', '4', '--cursor', next[1] as string, '--json')).out) as { experiments: { name: string }[]; nextCursor: string | null }
    assert.deepEqual(rest.experiments.map((e) => e.name), ['exp-e', 'exp-f'])
    assert.equal(rest.nextCursor, null)

    const models = await runCliOn(s.root, 'models', 'ls', '--limit', '1')
    assert.equal(models.code, 0, models.err)
    assert.match(models.out, /m-a/)
    assert.doesNotMatch(models.out, /m-b/)
    assert.match(models.err, /^more models: (?:npx )?assay --store \S+ models ls --limit 1 --cursor \S+$/m)
    const whole = await runCliOn(s.root, 'models', 'ls', '--json')
    assert.deepEqual((JSON.parse(whole.out) as { models: { name: string }[] }).models.map((m) => m.name), ['m-a', 'm-b', 'm-c'])
    assert.equal(whole.err, '')
    assert.equal((await runCliOn(s.root, 'experiments', 'ls', '--limit', '0')).code, 2)
  })
})

/**
 * GET /api/v1/runs takes the filter and the order: the database filters (only the experiments
 * the token may read, whose keys alone are named when a key is unknown), a cursor continues its
 * own order, and a filter that does not parse is 400 ASSAY_INVALID_FILTER. The CLI's --order-by
 * goes into the next page's command.
 */
describe('run search over HTTP', () => {
  let s: TestServer
  let readA = ''
  const acc = [0.95, 0.5, 0.85, 0.81, 0.99, 0.7]
  const lr = [0.1, 0.1, 0.001, 0.05, 0.02, 0.3]
  const idsA: { id: string; acc: number; lr: number }[] = []

  before(async () => {
    s = await testServer()
    for (let i = 0; i < acc.length; i++) {
      for (const experiment of ['exp-a', 'exp-b']) {
        const run = newRun({ experiment, name: `${experiment}-r${i}`, startTime: 1_700_000_000_000 + i, params: experiment === 'exp-b' ? { lr: lr[i], hidden_b: 1 } : { lr: lr[i] } })
        await s.store.createRun(run)
        await s.store.logBatch(run.id, { metrics: [series('acc', [[0, acc[i]]])] })
        if (experiment === 'exp-a') idsA.push({ id: run.id, acc: acc[i], lr: lr[i] })
      }
    }
    readA = (await makeToken(s.store, 'read', ['exp-a'], 'reader-a')).secret
  })
  after(() => s.close())

  const get = async (query: Record<string, string>) => {
    const response = await s.app.inject({ method: 'GET', url: `/api/v1/runs?${new URLSearchParams(query).toString()}`, headers: bearer(readA) })
    return { status: response.statusCode, body: response.json() as { runs: { id: string; experiment: string; metrics: Record<string, number> }[]; nextCursor: string | null; error?: { code: string; message: string } } }
  }

  it('filters in the store, within the token experiments', async () => {
    const { status, body } = await get({ filter: 'params.lr > 0.01 and metrics.acc >= 0.8' })
    assert.equal(status, 200)
    assert.deepEqual(body.runs.map((r) => r.id), idsA.filter((r) => r.lr > 0.01 && r.acc >= 0.8).map((r) => r.id))
    assert.ok(body.runs.every((r) => r.experiment === 'exp-a'))
  })

  it('pages in the asked order, and a cursor continues only its own order', async () => {
    const walked: string[] = []
    let cursor: string | undefined
    for (;;) {
      const { status, body } = await get({ orderBy: 'metrics.acc desc', limit: '4', ...(cursor === undefined ? {} : { cursor }) })
      assert.equal(status, 200)
      walked.push(...body.runs.map((r) => r.id))
      if (body.nextCursor === null) break
      cursor = body.nextCursor
    }
    assert.deepEqual(walked, [...idsA].sort((x, y) => y.acc - x.acc).map((r) => r.id))
    const first = await get({ orderBy: 'metrics.acc desc', limit: '2' })
    const foreign = await get({ orderBy: 'name', limit: '2', cursor: first.body.nextCursor as string })
    assert.equal(foreign.status, 400)
    assert.equal(foreign.body.error?.code, 'ASSAY_INVALID_ARGUMENT')
  })

  it('a bad filter is 400 ASSAY_INVALID_FILTER; an unknown key names only keys the token may read', async () => {
    for (const filter of ['params.lr >', 'bogus = 1', "params.lr = 'x", 'x'.repeat(5000)]) {
      const { status, body } = await get({ filter })
      assert.equal(status, 400, filter)
      assert.equal(body.error?.code, 'ASSAY_INVALID_FILTER', filter.slice(0, 40))
    }
    const unknown = await get({ filter: 'params.hidden = 1' })
    assert.equal(unknown.status, 400)
    assert.equal(unknown.body.error?.code, 'ASSAY_INVALID_FILTER')
    assert.match(unknown.body.error?.message ?? '', /params keys that exist, closest first: params\.lr/)
    assert.doesNotMatch(unknown.body.error?.message ?? '', /hidden_b/)
    const badOrder = await get({ orderBy: 'seed' })
    assert.equal(badOrder.status, 400)
    assert.equal(badOrder.body.error?.code, 'ASSAY_INVALID_ARGUMENT')
  })

  it('the CLI filters and orders, and its next-page command keeps --order-by', async () => {
    const first = await runCliOn(s.root, 'runs', 'ls', '--experiment', 'exp-a', '--filter', 'metrics.acc >= 0.8', '--order-by', 'params.lr desc', '--limit', '2', '--json')
    assert.equal(first.code, 0, first.err)
    const page = JSON.parse(first.out) as { runs: { id: string }[]; nextCursor: string | null }
    const wanted = idsA.filter((r) => r.acc >= 0.8).sort((x, y) => y.lr - x.lr).map((r) => r.id)
    assert.deepEqual(page.runs.map((r) => r.id), wanted.slice(0, 2))
    const table = await runCliOn(s.root, 'runs', 'ls', '--experiment', 'exp-a', '--filter', 'metrics.acc >= 0.8', '--order-by', 'params.lr desc', '--limit', '2')
    const next = /^more runs: (?:npx )?assay --store \S+ runs ls --experiment exp-a --filter .+ --order-by .+ --limit 2 --cursor (\S+)$/m.exec(table.err)
    assert.ok(next !== null, table.err)
    const rest = JSON.parse((await runCliOn(s.root, 'runs', 'ls', '--experiment', 'exp-a', '--filter', 'metrics.acc >= 0.8', '--order-by', 'params.lr desc', '--limit', '2', '--cursor', next[1] as string, '--json')).out) as { runs: { id: string }[] }
    assert.deepEqual(rest.runs.map((r) => r.id), wanted.slice(2, 4))
  })
})
