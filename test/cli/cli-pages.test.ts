import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { assayCommandName } from '../../src/command-name.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { LAX_CRITERION, gateYaml } from '../gates/helpers.js'
import { llmTrace, newDeployment } from '../production/helpers.js'
import { newRun } from '../store/fixtures.js'
import { runCli, runCliOn } from './run-cli.js'

/**
 * --limit and --cursor on every listing command beyond `runs ls`, `experiments ls` and `models ls`
 * (server-run-pages.test.ts): --json pages carry nextCursor and, walked, are the whole listing;
 * text pages print on stderr the command that shows the next page, and that command works.
 */
describe('CLI listings in pages', () => {
  let dir: string
  let store: string
  let sha256 = ''
  const deployment = newDeployment({ endpoint: 'chat' })

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'assay-cli-pages-'))
    store = path.join(dir, 'store')
    const gates = new Map(['m', 'other'].map((model) => [model, path.join(dir, `${model}.yaml`)]))
    for (const [model, file] of gates) writeFileSync(file, gateYaml(LAX_CRITERION, { model, rollback: `model:${model}@1` }))
    const s = await SqliteStore.open(store)
    try {
      const runs = Array.from({ length: 5 }, (_, i) => newRun({ name: `r${i}`, startTime: 1000 + i }))
      for (const run of runs) await s.createRun(run)
      sha256 = (await s.putArtifact(runs[0].id, 'model.bin', { bytes: Buffer.from('weights') }, 'produced')).sha256
      for (const run of runs.slice(1)) await s.putArtifact(run.id, 'input.bin', { sha256 }, 'consumed')
      for (const name of ['m', 'other']) {
        await s.createModel({ name, owner: 'alice', description: '', tags: {}, createdAt: 1000, createdBy: 'alice' })
        for (let i = 0; i < 5; i++) await s.addModelVersion({ model: name, runId: runs[i].id, artifact: null, description: `v${i + 1}`, tags: {}, createdAt: 2000 + i, createdBy: 'alice' })
      }
      await s.createDeployment(deployment)
      for (let i = 0; i < 4; i++) await s.createDeployment(newDeployment({ endpoint: 'chat', createdAt: 1_700_000_000_001 + i }))
      await s.logTraces(Array.from({ length: 5 }, (_, i) => llmTrace(deployment.id, 1_700_000_001_000 + i * 1000)))
    } finally {
      await s.close()
    }
    const ok = async (...args: string[]) => assert.equal((await runCliOn(store, ...args)).code, 0, args.join(' '))
    for (const version of ['1', '2', '3', '4', '5']) await ok('alias', 'set', 'm', version === '5' ? 'canary' : 'champion', version)
    for (const [model, alias] of [['m', 'champion'], ['m', 'champion'], ['m', 'canary'], ['other', 'champion'], ['m', 'champion']]) await ok('gates', 'set', model, gates.get(model) as string, '--alias', alias, '--reason', 'pages')
    for (let i = 0; i < 5; i++) await ok('tokens', 'create', '--name', `t${i}`, '--scope', 'read')
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  async function json(args: string[]): Promise<Record<string, unknown>> {
    const result = await runCliOn(store, ...args, '--json')
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.err}`)
    return JSON.parse(result.out) as Record<string, unknown>
  }

  /** Walk `args` with --limit and --cursor in JSON: every page but the last full, joined equal to the listing without --limit. */
  async function walkJson(args: string[], key: string, limit: number): Promise<unknown[]> {
    const whole = (await json(args))[key] as unknown[]
    assert.equal((await json(args)).nextCursor, null, `${args.join(' ')} without --limit has no next page`)
    const items: unknown[] = []
    let cursor: string | null = null
    do {
      const page = await json([...args, '--limit', String(limit), ...(cursor === null ? [] : ['--cursor', cursor])])
      const got = page[key] as unknown[]
      assert.ok(got.length === limit || page.nextCursor === null, `${args.join(' ')}: a page before the last is full`)
      items.push(...got)
      cursor = page.nextCursor as string | null
    } while (cursor !== null)
    assert.deepEqual(items, whole, `${args.join(' ')}: the pages, joined, are the whole listing`)
    return items
  }

  it('every paged command walks its whole listing in --json pages', async () => {
    assert.equal((await walkJson(['models', 'show', 'm'], 'versions', 2)).length, 5)
    assert.equal((await walkJson(['alias', 'ls', 'm', '--history'], 'history', 2)).length, 5)
    assert.equal((await walkJson(['alias', 'ls', 'm', '--history', '--alias', 'champion'], 'history', 3)).length, 4)
    assert.equal((await walkJson(['gates', 'ls'], 'policies', 1)).length, 3, 'the current policy of m@canary, m@champion and other@champion')
    assert.equal((await walkJson(['gates', 'ls', 'm'], 'policies', 1)).length, 2)
    assert.equal((await walkJson(['audit', 'ls'], 'records', 4)).length, 10)
    assert.equal((await walkJson(['tokens', 'ls'], 'tokens', 2)).length, 5)
    assert.equal((await walkJson(['artifacts', 'lineage', sha256.slice(0, 8)], 'edges', 2)).length, 5)
    const versions = await json(['gates', 'show', 'm', '--alias', 'champion', '--limit', '2'])
    assert.equal(versions.schema, 'assay.gate-policy-versions/v1')
    assert.deepEqual((versions.policies as { version: number }[]).map((p) => p.version), [1, 2])
    const rest = await json(['gates', 'show', 'm', '--alias', 'champion', '--limit', '2', '--cursor', versions.nextCursor as string])
    assert.deepEqual(rest, { schema: 'assay.gate-policy-versions/v1', policies: (rest.policies as unknown[]).slice(), nextCursor: null })
    assert.deepEqual((rest.policies as { version: number }[]).map((p) => p.version), [3])
  })

  it('a text page prints the command for the next page on stderr, and that command shows it', async () => {
    const cases: [args: string[], what: string, rows: number][] = [
      [['models', 'show', 'm'], 'versions', 2],
      [['alias', 'ls', 'm', '--history', '--alias', 'champion'], 'events', 2],
      [['gates', 'ls'], 'gate policies', 2],
      [['audit', 'ls'], 'records', 2],
      [['tokens', 'ls'], 'tokens', 2],
      [['artifacts', 'lineage', sha256], 'edges', 2],
      [['gates', 'show', 'm', '--alias', 'champion'], 'policy versions', 2],
      [['deployments', 'ls', '--endpoint', 'chat'], 'deployments', 2],
      [['traces', 'ls', '--deployment', deployment.id], 'traces', 2],
    ]
    for (const [args, what, limit] of cases) {
      const first = await runCliOn(store, ...args, '--limit', String(limit))
      assert.equal(first.code, 0, `${args.join(' ')}: ${first.err}`)
      const next = new RegExp(`^more ${what}: (.*) --cursor (\\S+)$`, 'm').exec(first.err)
      assert.ok(next !== null, `${args.join(' ')}: ${first.err}`)
      // The program as it runs here (`assay` on PATH, else `npx assay`), the --store given, then the command as typed.
      assert.equal(next[1], `${assayCommandName()} --store ${store} ${[...args, '--limit', String(limit)].join(' ')}`, 'the next page\'s command is the one typed, with its options')
      const words = (next[1] as string).split(' ').slice(assayCommandName().split(' ').length)
      const second = await runCli(...words, '--cursor', next[2] as string)
      assert.equal(second.code, 0, second.err)
      assert.notEqual(second.out, first.out, `${args.join(' ')}: the next page is another page`)
    }
  })

  it('the next-page command repeats --store only when one was passed, and never prints a password or query of a store URL', async () => {
    const walked = await json(['deployments', 'ls', '--limit', '2'])
    assert.equal((walked.deployments as unknown[]).length, 2)
    const prior = process.env.ASSAY_STORE
    process.env.ASSAY_STORE = store
    try {
      const fromEnv = await runCli('deployments', 'ls', '--limit', '2')
      assert.equal(fromEnv.code, 0, fromEnv.err)
      assert.match(fromEnv.err, new RegExp(`^more deployments: ${assayCommandName()} deployments ls --limit 2 --cursor \\S+$`, 'm'), 'no --store when none was typed')
    } finally {
      if (prior === undefined) delete process.env.ASSAY_STORE
      else process.env.ASSAY_STORE = prior
    }
    const { commandLine } = await import('../../src/cli/context.js')
    const { Command } = await import('commander')
    const program = new Command('assay').option('--store <location>')
    const ls = program.command('models').command('ls').action(() => undefined)
    for (const [location, shown] of [
      ['postgres://alice:s3cret@db.example:5432/assay?sslmode=require&password=s3cret', '--store postgres://alice@db.example:5432/assay models ls'],
      ['https://assay.example/', '--store https://assay.example/ models ls'],
      ['/srv/my store', "--store '/srv/my store' models ls"],
    ]) {
      await program.parseAsync(['node', 'assay', '--store', location as string, 'models', 'ls'])
      assert.equal(commandLine(ls), shown)
      assert.ok(!commandLine(ls).includes('s3cret'))
    }
  })

  it('page options are checked: a bad limit or cursor, --limit without --history, --limit with --policy-version', async () => {
    const refused = async (args: string[], message: RegExp) => {
      const result = await runCliOn(store, ...args)
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.err}`)
      assert.match(result.err, message)
    }
    await refused(['audit', 'ls', '--limit', '0'], /--limit must be a whole number from 1 to 1000/)
    await refused(['tokens', 'ls', '--limit', '1001'], /--limit must be a whole number from 1 to 1000/)
    await refused(['audit', 'ls', '--cursor', 'bogus'], /not a cursor of the audit log listing/)
    const tokenCursor = (await json(['tokens', 'ls', '--limit', '1'])).nextCursor as string
    await refused(['audit', 'ls', '--cursor', tokenCursor], /not a cursor of the audit log listing/)
    await refused(['alias', 'ls', 'm', '--limit', '2'], /add --history/)
    await refused(['gates', 'show', 'm', '--policy-version', '1', '--limit', '1'], /use one or the other/)
  })
})
