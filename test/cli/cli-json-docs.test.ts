import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { buildProgram, COMMANDS } from '../../src/cli/main.js'
import { runCli, runCliOn } from './run-cli.js'

const docs = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/cli.md'), 'utf8')

/** docs/cli.md's JSON table: schema → the top-level keys of its body (`?`: optional), or null when the body is described elsewhere. */
function documentedSchemas(): Map<string, { required: string[]; optional: string[] } | null> {
  const schemas = new Map<string, { required: string[]; optional: string[] } | null>()
  for (const line of docs.split('\n')) {
    const row = /^\| `(assay\.[a-z-]+\/v1)` \| (.*) \|$/.exec(line)
    if (row === null) continue
    const body = /`(\{.*?\})`/.exec(row[2])?.[1]
    if (body === undefined) {
      schemas.set(row[1], null)
      continue
    }
    const keys: string[] = []
    let depth = 0
    let current = ''
    for (const ch of body.slice(1, -1)) {
      if ('{[('.includes(ch)) depth++
      if ('}])'.includes(ch)) depth--
      if (ch === ',' && depth === 0) {
        keys.push(current)
        current = ''
      } else current += ch
    }
    keys.push(current)
    // `comparison? \| leaderboard?`: one of two optional keys; `x: T \| null` is one key.
    const names = keys.flatMap((k) => (/^\s*[A-Za-z][A-Za-z0-9]*\?/.test(k) ? k.split('\\|') : [k])).map((k) => /^\s*([A-Za-z][A-Za-z0-9]*\??)/.exec(k)?.[1] ?? '')
    schemas.set(row[1], { required: names.filter((n) => !n.endsWith('?')), optional: names.filter((n) => n.endsWith('?')).map((n) => n.slice(0, -1)) })
  }
  return schemas
}

function leaves(command: Command): Command[] {
  return command.commands.length === 0 ? [command] : command.commands.flatMap(leaves)
}

describe('docs/cli.md lists every --json schema the CLI prints', () => {
  let dir: string
  let store: string
  const printed = new Map<string, string[]>()

  /** Run a --json command and remember the keys it printed under its schema. */
  async function json(...args: string[]): Promise<Record<string, unknown>> {
    const result = await runCliOn(store, ...args)
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.err}`)
    const body = JSON.parse(result.out) as Record<string, unknown>
    printed.set(body.schema as string, Object.keys(body).filter((k) => k !== 'schema'))
    return body
  }

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'assay-cli-docs-'))
    store = path.join(dir, 'store')
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('every command with --json names a schema that docs/cli.md lists', async () => {
    const io = { out: new PassThrough(), err: new PassThrough() }
    const program = await buildProgram(io)
    const documented = documentedSchemas()
    const named: string[] = []
    for (const command of leaves(program)) {
      const option = command.options.find((o) => o.long === '--json')
      if (option === undefined) continue
      const schema = /schema (assay\.[a-z-]+\/v1)/.exec(option.description)?.[1]
      assert.ok(schema, `${command.name()}: --json's help names no schema`)
      assert.ok(documented.has(schema), `${schema} (${command.parent?.name()} ${command.name()}) is missing from docs/cli.md`)
      named.push(schema)
    }
    assert.ok(named.length >= 25, `found ${named.length}`)
  })

  it('the keys each command prints are the documented ones', async () => {
    const demo = await json('demo', '--seeds', '2', '--data-dir', path.join(dir, 'data'), '--json')
    const runs = ((await json('runs', 'ls', '--json')).runs as { id: string }[]).map((r) => r.id)
    const gateFile = (demo.promotion as { gateFile: string }).gateFile
    await json('experiments', 'ls', '--json')
    const run = (await json('runs', 'show', runs[0], '--json')).run as { artifacts: { sha256: string }[] }
    await json('runs', 'diff', runs[0], runs[1], '--json')
    await json('runs', 'metrics', runs[0], '--json')
    await json('replay', runs[0], '--json')
    await json('artifacts', 'ls', runs[0], '--json')
    await json('artifacts', 'lineage', run.artifacts[0].sha256, '--json')
    await json('compare', runs[2], runs[0], '--metric', 'correct', '--json')
    await json('variance', runs[0], '--metric', 'correct', '--json')
    await json('leaderboard', '--metric', 'correct', '--json')
    await json('report', runs[2], runs[0], '--metric', 'correct', '--json')
    await json('models', 'create', 'docs-model', '--owner', 'docs', '--json')
    await json('models', 'version', 'add', 'docs-model', runs[0], '--artifact', 'model/weights.json', '--json')
    await json('models', 'version', 'add', 'docs-model', runs[2], '--artifact', 'model/weights.json', '--json')
    await json('models', 'ls', '--json')
    await json('models', 'show', 'docs-model', '--json')
    await json('alias', 'set', 'docs-model', 'champion', '1', '--json')
    await json('alias', 'ls', 'docs-model', '--history', '--json')
    // The demo's gate guards its model, whose champion the demo moved from version 1 to 2.
    await json('rollback', 'demo-classifier', '--reason', 'docs', '--json')
    // The demo registered its gate as the champion's; registering the same file again is a new version.
    await json('gates', 'set', 'demo-classifier', gateFile, '--alias', 'champion', '--reason', 'docs', '--json')
    await json('gates', 'ls', '--json')
    await json('gates', 'show', 'demo-classifier', '--json')
    await json('gates', 'show', 'demo-classifier', '--limit', '1', '--json')
    await json('promote', 'demo-classifier', '2', '--gate', gateFile, '--accept-warnings', '--reason', 'docs', '--json')
    await json('audit', 'ls', '--json')
    await json('audit', 'verify', '--json')
    await json('tokens', 'create', '--name', 'docs', '--scope', 'read', '--json')
    await json('tokens', 'ls', '--json')
    const gate = await runCliOn(store, 'gate', 'check', gateFile, '--candidate', runs[2], '--baseline', runs[0], '--format', 'json', '--no-record')
    const gateBody = JSON.parse(gate.out) as Record<string, unknown>
    printed.set(gateBody.schema as string, Object.keys(gateBody).filter((k) => k !== 'schema'))

    const documented = documentedSchemas()
    for (const [schema, keys] of printed) {
      assert.ok(documented.has(schema), `${schema} is printed but not documented`)
      const doc = documented.get(schema)
      if (doc === null || doc === undefined) continue // described on another page (compare.md, leaderboard.md)
      for (const key of keys) assert.ok(doc.required.includes(key) || doc.optional.includes(key), `${schema}: printed key ${key} is not documented`)
      for (const key of doc.required) assert.ok(keys.includes(key), `${schema}: documented key ${key} is not printed`)
    }
    assert.ok(printed.size >= 24, [...printed.keys()].join(', '))
  })

  it('--help lists every command from the light table, and each loaded command matches its entry', async () => {
    const help = await runCli('--help')
    assert.equal(help.code, 0)
    const io = { out: new PassThrough(), err: new PassThrough() }
    const full = await buildProgram(io)
    for (const entry of COMMANDS) {
      assert.match(help.out, new RegExp(`^  ${entry.term.replace(/[[\]]/g, '\\$&')}\\s`, 'm'), entry.name)
      const loaded = full.commands.find((c) => c.name() === entry.name) as Command
      assert.equal(full.createHelp().subcommandTerm(loaded), entry.term, `${entry.name}: the table's term is not the command's`)
    }
    assert.deepEqual(full.commands.map((c) => c.name()), COMMANDS.map((c) => c.name))
    assert.match(help.out.replace(/\s+/g, ' '), /ASSAY_STORE, ASSAY_TRACKING_URI, ASSAY_HOME, then \.\/\.assay/)
    // A command's own help loads it in full.
    const runsHelp = await runCli('runs', 'metrics', '--help')
    assert.match(runsHelp.out, /--no-chart/)
  })
})
