import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { runCliOn } from './run-cli.js'
import { NON_INFERIORITY, SUPERIORITY, gateYaml, openGateWorld, records, type GateWorld } from '../gates/helpers.js'

const cli = runCliOn

/** A minimal well-formedness check: one root, every tag closed in order, attributes quoted. */
function assertWellFormedXml(text: string): { name: string; attrs: string }[] {
  assert.match(text, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/)
  const body = text.replace(/^<\?xml[^>]*\?>/, '')
  const stack: string[] = []
  const seen: { name: string; attrs: string }[] = []
  let roots = 0
  const tag = /<(\/?)([A-Za-z][\w.-]*)((?:\s+[\w.-]+="[^"<]*")*)\s*(\/?)>/g
  let last = 0
  for (let m = tag.exec(body); m !== null; m = tag.exec(body)) {
    const between = body.slice(last, m.index)
    assert.ok(!/[<>]/.test(between), `stray markup: ${between}`)
    last = m.index + m[0].length
    const [, closing, name, attrs, selfClosing] = m
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`)
    else {
      if (stack.length === 0) roots++
      seen.push({ name, attrs })
      if (!selfClosing) stack.push(name)
    }
  }
  assert.equal(stack.length, 0, `unclosed: ${stack.join(', ')}`)
  assert.equal(roots, 1)
  assert.equal(body.slice(last).trim(), '')
  return seen
}

describe('assay gate / models / alias / promote / rollback / audit CLI', () => {
  let w: GateWorld
  let store: string
  const ids: Record<string, string> = {}
  let strict: string
  let lenient: string

  before(async () => {
    w = await openGateWorld()
    store = w.h.storeDir
    ids.baseline = await w.logRun('baseline', records((i) => i < 300))
    ids.worse = await w.logRun('worse', records((i) => i < 200))
    ids.slight = await w.logRun('slight', records((i) => (i < 300 && i !== 0) || i === 300 || i === 301))
    ids.better = await w.logRun('better', records((i) => i < 360))
    strict = w.gateFile('strict.yaml', gateYaml(`${SUPERIORITY()}\n${NON_INFERIORITY(0.02)}`))
    lenient = w.gateFile('lenient.yaml', gateYaml(`${SUPERIORITY('warn')}\n${NON_INFERIORITY(0.05)}`))
  })
  after(async () => w.cleanup())

  it('registers models and versions and sets aliases', async () => {
    assert.equal((await cli(store, 'models', 'create', 'sentiment')).code, 2, '--owner is required')
    const created = await cli(store, 'models', 'create', 'sentiment', '--owner', 'alice', '--description', 'classifier', '--tag', 'team=nlp')
    assert.equal(created.code, 0, created.err)
    for (const key of ['baseline', 'worse', 'slight', 'better']) {
      const added = await cli(store, 'models', 'version', 'add', 'sentiment', (ids[key] as string).slice(0, 8), '--artifact', 'model/weights.json')
      assert.equal(added.code, 0, added.err)
    }
    assert.equal((await cli(store, 'models', 'version', 'add', 'sentiment')).code, 2, 'a usage error two levels deep ends through main()')
    assert.equal((await cli(store, 'alias', 'set', 'sentiment', 'champion', '1', '--reason', 'first')).code, 0)
    const listed = JSON.parse((await cli(store, 'models', 'ls', '--json')).out)
    assert.equal(listed.schema, 'assay.models/v1')
    assert.deepEqual(listed.models.map((m: { name: string }) => m.name), ['sentiment'])
    const shown = JSON.parse((await cli(store, 'models', 'show', 'sentiment', '--json')).out)
    assert.equal(shown.versions.length, 4)
    assert.deepEqual(shown.aliases.map((a: { alias: string; version: number }) => [a.alias, a.version]), [['champion', 1]])
    const missing = await cli(store, 'models', 'show', 'nope')
    assert.equal(missing.code, 2)
    assert.match(missing.err, /ASSAY_MODEL_NOT_FOUND/)
  })

  it('gate check exits 0 on accept, 1 on block, 3 on warn, 2 on a usage or input error', async () => {
    const accept = await cli(store, 'gate', 'check', strict, '--candidate', 'model:sentiment@4')
    assert.equal(accept.code, 0, accept.out + accept.err)
    assert.match(accept.out, /decision: ACCEPT\nnext: promote/)
    const block = await cli(store, 'gate', 'check', strict, '--candidate', 'model:sentiment@2')
    assert.equal(block.code, 1)
    assert.match(block.out, /decision: BLOCK\nnext: do not promote/)
    const warn = await cli(store, 'gate', 'check', lenient, '--candidate', 'alias:champion', '--baseline', 'model:sentiment@1')
    assert.equal(warn.code, 3, 'the champion against itself is not superior (every difference is 0): the lenient gate warns')
  })

  it('warn exits 3 and says to promote with --accept-warnings', async () => {
    const warn = await cli(store, 'gate', 'check', lenient, '--candidate', 'model:sentiment@3', '--baseline', 'model:sentiment@1')
    assert.equal(warn.code, 3, warn.out + warn.err)
    assert.match(warn.out, /next: promote with --accept-warnings and a reason/)
    const usage = await cli(store, 'gate', 'check', strict, '--candidate', 'model:sentiment@4', '--format', 'pdf')
    assert.equal(usage.code, 2)
    const bad = await cli(store, 'gate', 'check', w.gateFile('bad.yaml', 'gate: x\nowner: [\n'), '--candidate', 'model:sentiment@4')
    assert.equal(bad.code, 2)
    assert.match(bad.err, /error ASSAY_INVALID_GATE_SPEC: .*bad\.yaml:\d+/)
  })

  it('serves CI formats: json, markdown and well-formed junit', async () => {
    const json = JSON.parse((await cli(store, 'gate', 'check', strict, '--candidate', 'model:sentiment@4', '--format', 'json')).out)
    assert.equal(json.schema, 'assay.gate-check/v1')
    assert.equal(json.evidence.decision, 'accept')
    assert.equal(json.evidence.criteria[1].ci[1], 'Infinity', 'a one-sided bound is written as a string')
    const md = (await cli(store, 'gate', 'check', strict, '--candidate', 'model:sentiment@2', '--format', 'markdown')).out
    assert.match(md, /^## Gate `release`: \*\*BLOCK\*\*/)
    assert.match(md, /\| criterion \| kind \| outcome/)
    const junit = await cli(store, 'gate', 'check', strict, '--candidate', 'model:sentiment@2', '--format', 'junit')
    assert.equal(junit.code, 1)
    const elements = assertWellFormedXml(junit.out)
    assert.equal(elements[0].name, 'testsuites')
    const cases = elements.filter((e) => e.name === 'testcase')
    assert.equal(cases.length, 5 + 2, 'five checks and two criteria')
    assert.ok(elements.some((e) => e.name === 'failure'))
    assert.match(elements[0].attrs, /failures="[1-9]/)
  })

  it('a bad gate file given to promote moves nothing: exit 2, alias history and audit log unchanged', async () => {
    const history = (await cli(store, 'alias', 'ls', 'sentiment', '--history', '--json')).out
    const log = (await cli(store, 'audit', 'ls', '--json')).out
    const unparsable = await cli(store, 'promote', 'sentiment', '4', '--gate', w.gateFile('broken.yaml', 'gate: x\nowner: [\n'))
    assert.equal(unparsable.code, 2)
    assert.match(unparsable.err, /error ASSAY_INVALID_GATE_SPEC: .*broken\.yaml:\d+/)
    // Valid YAML, but a criterion without a rationale (which would otherwise accept version 4).
    const noRationale = await cli(store, 'promote', 'sentiment', '4', '--gate', w.gateFile('no-rationale.yaml', gateYaml(SUPERIORITY()).replace(/\n\s+rationale: .*\n/, '\n')))
    assert.equal(noRationale.code, 2)
    assert.match(noRationale.err, /ASSAY_INVALID_GATE_SPEC: .*no-rationale\.yaml:\d+: criteria\[0\]\.rationale/)
    const missing = await cli(store, 'promote', 'sentiment', '4', '--gate', `${w.h.dir}/no-such-gate.yaml`)
    assert.equal(missing.code, 2)
    const otherModel = await cli(store, 'gates', 'set', 'sentiment', w.gateFile('other.yaml', gateYaml(SUPERIORITY(), { model: 'other' })), '--reason', 'wrong file')
    assert.equal(otherModel.code, 2)
    assert.match(otherModel.err, /guards model other, not sentiment/)
    // With no gate registered, no promotion runs at all.
    const unregistered = await cli(store, 'promote', 'sentiment', '4')
    assert.equal(unregistered.code, 2)
    assert.match(unregistered.err, /ASSAY_NO_GATE_POLICY: no gate is registered for sentiment@champion: an admin registers one with `assay gates set sentiment --alias champion GATE.yaml/)
    assert.equal((await cli(store, 'alias', 'ls', 'sentiment', '--history', '--json')).out, history, 'no alias moved')
    assert.equal((await cli(store, 'audit', 'ls', '--json')).out, log, 'nothing was appended to the audit log')
  })

  it('promotes through the registered gate (gates set, ls, show), rolls back, and verifies the audit log', async () => {
    const setStrict = await cli(store, 'gates', 'set', 'sentiment', strict, '--reason', 'release policy', '--json')
    assert.equal(setStrict.code, 0, setStrict.err)
    assert.equal(JSON.parse(setStrict.out).policy.version, 1)
    const blocked = await cli(store, 'promote', 'sentiment', '2', '--gate', strict)
    assert.equal(blocked.code, 1)
    assert.match(blocked.err, /ASSAY_GATE_BLOCKED/)
    // A gate file that is not the registered one is refused: the client does not choose its gate.
    const notRegistered = await cli(store, 'promote', 'sentiment', '3', '--gate', lenient, '--accept-warnings', '--reason', 'mine')
    assert.equal(notRegistered.code, 2)
    assert.match(notRegistered.err, /ASSAY_GATE_NOT_REGISTERED/)
    assert.equal((await cli(store, 'gates', 'set', 'sentiment', lenient, '--alias', 'champion', '--reason', 'a lenient week')).code, 0)
    const listed = JSON.parse((await cli(store, 'gates', 'ls', '--json')).out).policies
    assert.deepEqual(listed.map((p: { model: string; alias: string; version: number; reason: string }) => [p.model, p.alias, p.version, p.reason]), [['sentiment', 'champion', 2, 'a lenient week']])
    const shown = await cli(store, 'gates', 'show', 'sentiment', '--policy-version', '1')
    assert.equal(shown.code, 0, shown.err)
    assert.match(shown.out, /policy version 1/)
    assert.ok(shown.out.includes(readFileSync(strict, 'utf8')), 'show prints the registered text')
    const warned = await cli(store, 'promote', 'sentiment', '3')
    assert.equal(warned.code, 3)
    assert.match(warned.err, /ASSAY_WARNINGS_NOT_ACCEPTED/)
    const noReason = await cli(store, 'promote', 'sentiment', '3', '--accept-warnings')
    assert.equal(noReason.code, 2)
    assert.equal((await cli(store, 'gates', 'set', 'sentiment', strict, '--reason', 'back to the release policy')).code, 0)
    const promoted = await cli(store, 'promote', 'sentiment', '4', '--gate', strict)
    assert.equal(promoted.code, 0, promoted.err)
    assert.match(promoted.out, /promoted sentiment version 4 to champion \(was version 1\)/)
    const rolled = await cli(store, 'rollback', 'sentiment', '--reason', 'incident 42')
    assert.equal(rolled.code, 0, rolled.err)
    assert.match(rolled.out, /from version 4 to version 1/)
    assert.equal((await cli(store, 'rollback', 'sentiment')).code, 2)
    const history = JSON.parse((await cli(store, 'alias', 'ls', 'sentiment', '--history', '--json')).out).history
    assert.deepEqual(history.map((e: { kind: string; version: number }) => [e.kind, e.version]), [['set', 1], ['promote', 4], ['rollback', 1]])
    const log = await cli(store, 'audit', 'ls')
    assert.match(log.out, /gate-check/)
    assert.match(log.out, /promotion/)
    assert.match(log.out, /gate-policy/)
    const verified = await cli(store, 'audit', 'verify')
    assert.equal(verified.code, 0, verified.err)
    assert.match(verified.out, /audit log intact: \d+ records/)
    const db = w.db()
    db.exec('DROP TRIGGER audit_log_append_only_update')
    db.prepare("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2").run()
    const broken = await cli(store, 'audit', 'verify')
    assert.equal(broken.code, 1)
    assert.match(broken.err, /ASSAY_AUDIT_CHAIN_BROKEN: audit log broken at record 2/)
  })
})
