import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { renderMarkdownReport } from '../../src/report/markdown-report.js'
import { formatPValue } from '../../src/number-format.js'
import { Assay } from '../../src/sdk/assay.js'
import { runCli, runCliOn } from './run-cli.js'

/** The whole error object a --json command wrote to stderr (and nothing to stdout). */
function jsonError(result: { out: string; err: string }): { code: string; message: string; details: Record<string, unknown> } {
  assert.equal(result.out, '', 'stdout stays empty')
  const parsed = JSON.parse(result.err) as { error: { code: string; message: string; details: Record<string, unknown> } }
  assert.deepEqual(Object.keys(parsed), ['error'])
  assert.deepEqual(Object.keys(parsed.error), ['code', 'message', 'details'])
  return parsed.error
}

describe('the CLI says only true things', () => {
  let dir: string
  let store: string
  let demoOut: string
  let runs: { id: string; name: string; params: Record<string, unknown>; seed: number }[]

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'assay-cli-truth-'))
    store = path.join(dir, 'store')
    const demo = await runCliOn(store, 'demo', '--seeds', '2', '--data-dir', path.join(dir, 'data'))
    assert.equal(demo.code, 0, demo.err)
    demoOut = demo.out
    runs = JSON.parse((await runCliOn(store, 'runs', 'ls', '--json')).out).runs
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('every read refuses a store that does not exist, with exit 2, and creates nothing', async () => {
    const missing = path.join(dir, 'typo', 'store')
    const run = 'abcdef12'
    const reads = [
      ['experiments', 'ls'],
      ['runs', 'ls'],
      ['runs', 'show', run],
      ['runs', 'diff', run, run],
      ['runs', 'metrics', run],
      ['replay', run],
      ['artifacts', 'ls', run],
      ['artifacts', 'get', run, 'model/weights.json'],
      ['artifacts', 'lineage', 'abcdef'],
      ['compare', run, run, '--metric', 'correct'],
      ['variance', run, '--metric', 'correct'],
      ['leaderboard'],
      ['report', run, run, '--metric', 'correct'],
      ['models', 'ls'],
      ['models', 'show', 'demo-classifier'],
      ['alias', 'ls', 'demo-classifier'],
      ['audit', 'ls'],
      ['audit', 'verify'],
      ['audit', 'verify', '--expect-head', 'ab'.repeat(32)],
      ['tokens', 'ls'],
    ]
    for (const args of reads) {
      const result = await runCliOn(missing, ...args)
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.out}${result.err}`)
      assert.match(result.err, /^error ASSAY_STORE_NOT_FOUND: there is no assay store at /, args.join(' '))
      assert.equal(result.out, '', args.join(' '))
      assert.equal(existsSync(path.join(dir, 'typo')), false, `${args.join(' ')} created a directory`)
    }
  })

  it('audit verify --expect-head takes the 16-character head the demo prints', async () => {
    const printed = /audit log intact: (\d+) records, head ([0-9a-f]{16})…/.exec(demoOut)
    assert.ok(printed, demoOut)
    const [count, short] = [Number(printed[1]), printed[2]]
    const verified = await runCliOn(store, 'audit', 'verify', '--expect-head', short)
    assert.equal(verified.code, 0, verified.err)
    const head = /head ([0-9a-f]{64})\n$/.exec(verified.out)?.[1]
    assert.ok(head?.startsWith(short), verified.out)
    // The short head of `audit ls` works the same, in any case.
    const listed = await runCliOn(store, 'audit', 'ls')
    assert.ok(listed.out.trimEnd().endsWith(short), listed.out)
    assert.equal((await runCliOn(store, 'audit', 'verify', '--expect-head', short.toUpperCase())).code, 0)

    // A head that is no record of the chain: exit 1, whole hashes, and the record named exists.
    const wrong = `${short.slice(0, 15)}${short[15] === '0' ? '1' : '0'}`
    const refused = await runCliOn(store, 'audit', 'verify', '--expect-head', wrong, '--json')
    assert.equal(refused.code, 1)
    const body = JSON.parse(refused.out) as { ok: boolean; firstBadSeq: number; problem: string; count: number }
    assert.equal(body.ok, false)
    assert.equal(body.firstBadSeq, count, 'names the head record, which exists')
    assert.ok(body.problem.includes(head as string), body.problem)
    assert.ok(body.problem.includes(`not the expected ${wrong},`), body.problem)
    assert.equal(jsonError({ out: '', err: refused.err }).code, 'ASSAY_AUDIT_CHAIN_BROKEN')

    // Too short to mean anything: a usage error, not a verdict on the log.
    const tooShort = await runCliOn(store, 'audit', 'verify', '--expect-head', short.slice(0, 11))
    assert.equal(tooShort.code, 2)
    assert.match(tooShort.err, /error ASSAY_INVALID_ARGUMENT: an expected head is the whole hash \(64 hex characters\) or a prefix of at least 12/)

    // Records appended since the head was noted leave it in the chain: still intact.
    const moved = await runCliOn(store, 'alias', 'set', 'demo-classifier', 'staging', '1', '--reason', 'test')
    assert.equal(moved.code, 0, moved.err)
    const grown = await runCliOn(store, 'audit', 'verify', '--expect-head', short, '--json')
    assert.equal(grown.code, 0, grown.err)
    assert.equal(JSON.parse(grown.out).count, count + 1)
  })

  it('a filter naming a key no run has lists the keys that exist, closest first', async () => {
    const typo = await runCliOn(store, 'runs', 'ls', '--filter', 'metrics.val_acc > 0.5')
    assert.equal(typo.code, 2)
    assert.match(typo.err, /^error ASSAY_INVALID_FILTER: no run has metrics\.val_acc; metrics keys that exist, closest first: metrics\.validation\/accuracy, /)
    const param = await runCliOn(store, 'runs', 'ls', '--filter', "params.confg = 'candidate'", '--json')
    assert.equal(param.code, 2)
    const error = jsonError(param)
    assert.equal(error.code, 'ASSAY_INVALID_FILTER')
    assert.equal((error.details.known as string[])[0], 'config')
    // The same rule in compare's filter: sides.
    const compared = await runCliOn(store, 'compare', 'filter:metrics.val_acc > 0', 'filter:seed = 1', '--metric', 'correct')
    assert.equal(compared.code, 2)
    assert.match(compared.err, /no run has metrics\.val_acc/)
    // A key some run has still filters as before, and an empty answer stays an answer.
    const none = JSON.parse((await runCliOn(store, 'runs', 'ls', '--json', '--filter', 'metrics.`validation/accuracy` > 1')).out).runs
    assert.deepEqual(none, [])
  })

  it('artifacts lineage takes a unique sha256 prefix, as run ids do', async () => {
    const artifacts = JSON.parse((await runCliOn(store, 'artifacts', 'ls', runs[0].id, '--json')).out).artifacts as { sha256: string; name: string }[]
    const weights = artifacts.find((a) => a.name === 'model/weights.json')
    assert.ok(weights)
    const whole = JSON.parse((await runCliOn(store, 'artifacts', 'lineage', weights.sha256, '--json')).out)
    assert.ok(whole.edges.length >= 1)
    const byPrefix = await runCliOn(store, 'artifacts', 'lineage', weights.sha256.slice(0, 8), '--json')
    assert.equal(byPrefix.code, 0, byPrefix.err)
    assert.deepEqual(JSON.parse(byPrefix.out), whole, 'the same answer, with the whole sha256')
    const short = await runCliOn(store, 'artifacts', 'lineage', weights.sha256.slice(0, 5))
    assert.equal(short.code, 2)
    assert.match(short.err, /ASSAY_INVALID_ARGUMENT: "[0-9a-f]{5}" is not a sha256 \(64 hex characters, or a unique prefix of 6 or more\)/)
    const known = new Set(artifacts.map((a) => a.sha256.slice(0, 6)))
    const absent = ['000000', '111111', 'ffffff', 'aaaaaa'].find((p) => !known.has(p)) as string
    const none = await runCliOn(store, 'artifacts', 'lineage', absent)
    assert.equal(none.code, 2)
    assert.match(none.err, /ASSAY_ARTIFACT_NOT_FOUND: no artifact has a sha256 starting with/)
  })

  it('a mistyped option is reported as unknown with the closest option, before a missing required one', async () => {
    const typo = await runCliOn(store, 'compare', runs[0].id, runs[1].id, '--metrc', 'correct')
    assert.equal(typo.code, 2)
    assert.match(typo.err, /error: unknown option '--metrc'\n\(Did you mean --metric\?\)/)
    assert.doesNotMatch(typo.err, /required option/)
    // A required option still is required.
    const missing = await runCliOn(store, 'compare', runs[0].id, runs[1].id)
    assert.equal(missing.code, 2)
    assert.match(missing.err, /error: required option '-m, --metric <name>' not specified/)
    const token = await runCliOn(store, 'tokens', 'create', '--nmae', 'ci', '--scope', 'read')
    assert.match(token.err, /unknown option '--nmae'\n\(Did you mean --name\?\)/)
  })

  it('with --json, errors are JSON on stderr with code, message and details', async () => {
    const missingStore = jsonError(await runCli('--store', path.join(dir, 'nowhere'), 'runs', 'ls', '--json'))
    assert.equal(missingStore.code, 'ASSAY_STORE_NOT_FOUND')
    assert.equal(missingStore.details.location, path.join(dir, 'nowhere'))
    const unknownRun = await runCliOn(store, 'runs', 'show', 'ffffffffffff', '--json')
    assert.equal(unknownRun.code, 2)
    assert.equal(jsonError(unknownRun).code, 'ASSAY_RUN_NOT_FOUND')
    const usage = await runCliOn(store, 'compare', 'a', 'b', '--metrc', 'x', '--json')
    assert.equal(usage.code, 2)
    const usageError = jsonError(usage)
    assert.equal(usageError.code, 'ASSAY_USAGE')
    assert.equal(usageError.message, "unknown option '--metrc' (Did you mean --metric?)")
    assert.deepEqual(usageError.details, { commander: 'commander.unknownOption' })
    // Without --json the text form is unchanged.
    assert.match((await runCliOn(store, 'runs', 'show', 'ffffffffffff')).err, /^error ASSAY_RUN_NOT_FOUND: /)
  })

  it('the Markdown report carries the p-value of every test the text output lists', async () => {
    const candidates = runs.filter((r) => r.params.config === 'candidate').map((r) => r.id)
    const baselines = runs.filter((r) => r.params.config === 'baseline').map((r) => r.id)
    const sides = [candidates.join(','), baselines.join(','), '--metric', 'correct', '--dataset', 'validation']
    const text = await runCliOn(store, 'compare', ...sides)
    assert.equal(text.code, 0, text.err)
    const listed = text.out.split('\ntests\n')[1]?.split('\n\n')[0]?.split('\n').filter((l) => l.startsWith('  ')) ?? []
    assert.ok(listed.length >= 2, text.out)
    const comparison = JSON.parse((await runCliOn(store, 'compare', ...sides, '--json')).out)
    const markdown = await runCliOn(store, 'report', ...sides)
    assert.equal(markdown.code, 0, markdown.err)
    const tests = comparison.tests.filter((t: { pValue?: unknown }) => typeof t.pValue === 'number') as { method: string; pValue: number }[]
    assert.equal(tests.length, listed.length)
    for (const [i, t] of tests.entries()) {
      assert.ok(listed[i].startsWith(`  ${t.method}: p = `), listed[i])
      assert.ok(markdown.out.includes(`| ${t.method.replaceAll('|', '\\|')} | ${formatPValue(t.pValue)} |`), `${t.method} p ${formatPValue(t.pValue)} missing from the report`)
    }
    assert.ok(markdown.out.includes('### Tests'))
    // The renderer itself, given the same comparison.
    const direct = renderMarkdownReport({ kind: 'comparison', comparison: { schema: 'assay.comparison/v1', ...comparison }, differences: null })
    assert.ok(direct.includes(`| ${tests[0].method.replaceAll('|', '\\|')} | ${formatPValue(tests[0].pValue)} |`))
  })

  it('runs metrics prints each series as a chart and a table, and as JSON', async () => {
    const run = runs[0]
    const assay = await Assay.open({ store, create: false })
    const history = await assay.metricHistory(run.id, 'train/loss').finally(() => assay.close())
    assert.ok(history.length >= 3)

    const json = await runCliOn(store, 'runs', 'metrics', run.id.slice(0, 8), 'train/loss', '--json')
    assert.equal(json.code, 0, json.err)
    const body = JSON.parse(json.out)
    assert.equal(body.schema, 'assay.metric-history/v1')
    assert.equal(body.runId, run.id)
    assert.deepEqual(body.metrics.map((m: { key: string }) => m.key), ['train/loss'])
    assert.deepEqual(body.metrics[0].steps, history.map((p) => p.step))
    assert.deepEqual(body.metrics[0].values, history.map((p) => p.value))
    assert.deepEqual(body.metrics[0].timestamps, history.map((p) => p.timestamp))

    const text = await runCliOn(store, 'runs', 'metrics', run.id, 'train/loss', '--width', '20')
    assert.equal(text.code, 0, text.err)
    const lines = text.out.split('\n')
    assert.match(lines[0], new RegExp(`^train/loss: ${history.length} points, steps ${history[0].step}–${history.at(-1)?.step}, `))
    const chart = lines.filter((l) => l.includes('┤'))
    assert.equal(chart.length, 8, 'eight rows of chart')
    const header = lines.findIndex((l) => /^STEP\s+VALUE\s+TIME$/.test(l))
    assert.ok(header > 0, text.out)
    const rows = lines.slice(header + 1).filter((l) => l !== '')
    assert.equal(rows.length, history.length)
    for (const [i, row] of rows.entries()) {
      const [step, value] = row.split(/\s+/)
      assert.equal(Number(step), history[i].step)
      assert.ok(Math.abs(Number(value) - history[i].value) <= 1e-7 * Math.abs(history[i].value), `${value} vs ${history[i].value}`)
    }

    // Every metric of the run without keys; only charts with --no-table.
    const all = await runCliOn(store, 'runs', 'metrics', run.id, '--no-table')
    const keys = (JSON.parse((await runCliOn(store, 'runs', 'show', run.id, '--json')).out).run.metrics as { key: string }[]).map((m) => m.key)
    for (const key of keys) assert.match(all.out, new RegExp(`^${key}: \\d+ points`, 'm'))
    assert.doesNotMatch(all.out, /STEP\s+VALUE/)

    const typo = await runCliOn(store, 'runs', 'metrics', run.id, 'train/los')
    assert.equal(typo.code, 2)
    assert.match(typo.err, /error ASSAY_METRIC_NOT_FOUND: run [0-9a-f]{32} has no metric "train\/los"; its metrics, closest first: train\/loss, /)
  })

  it('reads leave no store behind and write commands still create one', async () => {
    const fresh = path.join(dir, 'fresh')
    assert.equal((await runCliOn(fresh, 'audit', 'verify')).code, 2)
    assert.equal(existsSync(fresh), false)
    const created = await runCliOn(fresh, 'models', 'create', 'm', '--owner', 'me')
    assert.equal(created.code, 0, created.err)
    assert.ok(readdirSync(fresh).includes('assay.db'))
    const verified = await runCliOn(fresh, 'audit', 'verify')
    assert.equal(verified.code, 0, verified.err)
    assert.match(verified.out, /^audit log intact: 0 records/)
  })
})
