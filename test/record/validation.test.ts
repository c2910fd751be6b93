/**
 * Bad input named by the run-record spec: each is refused with an AssayError with a stable code,
 * and what the store already held is still there, unchanged, afterwards.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import type { ErrorCode } from '../../src/errors.js'
import { LIMITS } from '../../src/record/validate.js'
import type { Assay } from '../../src/sdk/assay.js'
import type { Run } from '../../src/sdk/run.js'
import { rejectsWith } from '../store/fixtures.js'
import { filesUnder, openHarness, type Harness } from '../sdk/harness.js'

async function storeContent(assay: Assay, runId: string): Promise<unknown> {
  const run = await assay.getRun(runId)
  const histories: Record<string, unknown> = {}
  for (const m of run.metrics) histories[m.key] = await assay.metricHistory(runId, m.key)
  const artifacts: Record<string, string> = {}
  for (const a of run.artifacts) artifacts[`${a.direction}:${a.name}`] = (await assay.getArtifact(runId, a.name)).toString('base64')
  return { run, histories, artifacts, runs: await assay.listRuns(), experiments: await assay.listExperiments() }
}

describe('validation through the SDK', () => {
  let h: Harness
  let run: Run
  let before: unknown

  beforeEach(async () => {
    h = await openHarness()
    run = await h.start({ params: { lr: 0.1, arch: { depth: 4 } }, tags: { team: 'a' } })
    await run.log({ loss: 1.5 })
    await run.log({ loss: 0.5 })
    await run.logArtifact('model/weights.bin', Buffer.from('weights'))
    await run.flush()
    before = await storeContent(h.assay, run.id)
  })
  afterEach(async () => {
    await h.cleanup()
  })

  /** Run `attempt`, require `code`, then require the store to hold exactly what it held before. */
  async function refused(code: ErrorCode, attempt: () => Promise<unknown>, message?: RegExp): Promise<void> {
    await rejectsWith(attempt, code, message)
    await run.flush()
    assert.deepEqual(await storeContent(h.assay, run.id), before, `store changed after a refused ${code}`)
  }

  describe('keys', () => {
    const badKeys: [string, string, RegExp][] = [
      ['empty', '', /empty/],
      ['too long', 'k'.repeat(LIMITS.keyLength + 1), /251 characters; the limit is 250/],
      ['newline', 'a\nb', /control character/],
      ['NUL', 'a\u0000b', /control character/],
      ['tab', 'a\tb', /control character/],
      ['DEL', 'a\u007fb', /control character/],
      ['C1 control', 'a\u0085b', /control character/],
      ['escape', '\u001b[31mred', /control character/],
      ['padded', ' lr', /whitespace/],
    ]
    for (const [what, key, message] of badKeys) {
      test(`${what}: refused for params, tags and metrics with ASSAY_INVALID_KEY`, async () => {
        await refused('ASSAY_INVALID_KEY', () => run.logParams({ [key]: 1 }), message)
        await refused('ASSAY_INVALID_KEY', () => run.setTags({ [key]: 'v' }), message)
        await refused('ASSAY_INVALID_KEY', () => run.log({ [key]: 1 }), message)
        await refused('ASSAY_INVALID_KEY', () => run.logParams({ nested: { [key]: 1 } }), message)
      })
    }

    test('a key of exactly the limit is accepted', async () => {
      const key = 'k'.repeat(LIMITS.keyLength)
      await run.logParams({ [key]: 1 })
      await run.log({ [key]: 2 })
      await run.flush()
      const got = await h.assay.getRun(run.id)
      assert.equal(got.params[key], 1)
      assert.ok(got.metrics.some((m) => m.key === key))
    })

    test('a metric call with one bad key buffers none of its values', async () => {
      await refused('ASSAY_INVALID_KEY', () => run.log({ good: 1, 'bad\n': 2 }, { step: 7 }))
      await run.flush()
      assert.deepEqual(await h.assay.metricHistory(run.id, 'good'), [])
    })
  })

  describe('__proto__ as a key (as JSON.parse produces it)', () => {
    test('is refused for nested params, tags, metrics and score names instead of silently vanishing', async () => {
      const proto = JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as Record<string, never>
      await refused('ASSAY_INVALID_KEY', () => run.logParams({ cfg: proto }), /reserved/)
      await refused('ASSAY_INVALID_KEY', () => run.logParams(JSON.parse('{"__proto__": 1}')), /reserved/)
      await refused('ASSAY_INVALID_KEY', () => run.setTags(JSON.parse('{"__proto__": "x"}')), /reserved/)
      await refused('ASSAY_INVALID_KEY', () => run.log(JSON.parse('{"__proto__": 1}')), /reserved/)
    })
  })

  describe('values over the documented limits', () => {
    test(`a param value over ${LIMITS.paramValueBytes} bytes of JSON is ASSAY_VALUE_TOO_LARGE; at the limit it is kept`, async () => {
      // JSON of a string of n ASCII characters is n + 2 bytes.
      await refused('ASSAY_VALUE_TOO_LARGE', () => run.logParams({ prompt: 'x'.repeat(LIMITS.paramValueBytes - 1) }), /65537 bytes/)
      await refused('ASSAY_VALUE_TOO_LARGE', () => run.logParams({ list: Array.from({ length: 20_000 }, (_, i) => i) }))
      const atLimit = 'x'.repeat(LIMITS.paramValueBytes - 2)
      await run.logParams({ prompt: atLimit })
      assert.equal((await h.assay.getRun(run.id)).params.prompt, atLimit)
    })

    test(`params nested deeper than ${LIMITS.paramDepth} arrays or objects are ASSAY_VALUE_TOO_LARGE; at the limit they are kept`, async () => {
      const nest = (levels: number, leaf: unknown, asObject: boolean): unknown => {
        let v = leaf
        for (let i = 0; i < levels; i++) v = asObject ? { k: v } : [v]
        return v
      }
      for (const asObject of [false, true]) {
        await refused('ASSAY_VALUE_TOO_LARGE', () => run.logParams({ deep: nest(LIMITS.paramDepth + 1, 1, asObject) as never }), /nested deeper than 64/)
        // Far past the limit: what used to be a bare RangeError (call stack exceeded).
        await refused('ASSAY_VALUE_TOO_LARGE', () => run.logParams({ deep: nest(200_000, 1, asObject) as never }))
        await refused('ASSAY_VALUE_TOO_LARGE', () => h.start({ params: { deep: nest(200_000, 1, asObject) as never } }))
      }
      const atLimit = nest(LIMITS.paramDepth, 1, true)
      await run.logParams({ deep: atLimit as never })
      assert.deepEqual((await h.assay.getRun(run.id)).params.deep, atLimit)
    })

    test('a cyclic param is ASSAY_INVALID_ARGUMENT; a shared (acyclic) sub-object is fine, but its repeats count towards the size', async () => {
      const cyclic: Record<string, unknown> = { a: 1 }
      cyclic.self = cyclic
      await refused('ASSAY_INVALID_ARGUMENT', () => run.logParams({ c: cyclic as never }), /cycle/)
      const list: unknown[] = [1]
      list.push({ back: list })
      await refused('ASSAY_INVALID_ARGUMENT', () => run.logParams({ c: list as never }), /cycle/)
      // 2^40 leaves by reference, a few objects in memory: refused at once, not expanded.
      let doubling: unknown = [0]
      for (let i = 0; i < 40; i++) doubling = [doubling, doubling]
      await refused('ASSAY_VALUE_TOO_LARGE', () => run.logParams({ big: doubling as never }))
      const shared = { x: 1 }
      await run.logParams({ s: { a: shared, b: shared } })
      assert.deepEqual((await h.assay.getRun(run.id)).params.s, { a: { x: 1 }, b: { x: 1 } })
    })

    test(`a tag value over ${LIMITS.tagValueBytes} bytes is ASSAY_VALUE_TOO_LARGE, counting UTF-8 bytes, not characters`, async () => {
      await refused('ASSAY_VALUE_TOO_LARGE', () => run.setTags({ note: 'x'.repeat(LIMITS.tagValueBytes + 1) }))
      // 4097 characters of two bytes each: under the limit in characters, over it in bytes.
      await refused('ASSAY_VALUE_TOO_LARGE', () => run.setTags({ note: 'é'.repeat(LIMITS.tagValueBytes / 2 + 1) }))
      await run.setTags({ note: 'é'.repeat(LIMITS.tagValueBytes / 2) })
      assert.equal((await h.assay.getRun(run.id)).tags.note.length, LIMITS.tagValueBytes / 2)
    })

  })

  describe('wrong types', () => {
    const cases: [string, () => Promise<unknown>][] = [
      ['params null', () => run.logParams(null as never)],
      ['params an array', () => run.logParams([1, 2] as never)],
      ['param NaN', () => run.logParams({ lr: Number.NaN + 1, fresh: 1 })],
      ['param Infinity', () => run.logParams({ big: Infinity })],
      ['param undefined', () => run.logParams({ missing: undefined } as never)],
      ['param a Date', () => run.logParams({ when: new Date(0) } as never)],
      ['param a function', () => run.logParams({ fn: (() => 1) as never })],
      ['param a bigint', () => run.logParams({ n: 1n as never })],
      ['param a Map', () => run.logParams({ m: new Map() as never })],
      ['tags an array', () => run.setTags(['a'] as never)],
      ['tag value a number', () => run.setTags({ n: 1 as never })],
      ['metrics null', () => run.log(null as never)],
      ['metric a string', () => run.log({ loss: '0.5' as never })],
      ['metric a bigint', () => run.log({ loss: 1n as never })],
      ['step fractional', () => run.log({ loss: 0.1 }, { step: 1.5 })],
      ['step NaN', () => run.log({ loss: 0.1 }, { step: NaN })],
      ['step a string', () => run.log({ loss: 0.1 }, { step: '3' as never })],
      ['timestamp NaN', () => run.log({ loss: 0.1 }, { timestamp: NaN })],
      ['artifact content a number', () => run.logArtifact('a.txt', 42 as never)],
    ]
    for (const [what, attempt] of cases) {
      test(`${what}: ASSAY_INVALID_ARGUMENT`, async () => {
        await refused('ASSAY_INVALID_ARGUMENT', attempt)
      })
    }
  })

  describe('params logged twice', () => {
    test('the same value again is fine; a different value is ASSAY_PARAM_CONFLICT and the first value stays', async () => {
      await run.logParams({ lr: 0.1, arch: { depth: 4 } })
      await run.flush()
      const { run: record } = (await storeContent(h.assay, run.id)) as { run: { params: unknown } }
      assert.deepEqual(record.params, { lr: 0.1, arch: { depth: 4 } }, 'a same-value re-log changes nothing')
      // A successful write refreshes the heartbeat; take the new state as the baseline.
      before = await storeContent(h.assay, run.id)
      await refused('ASSAY_PARAM_CONFLICT', () => run.logParams({ lr: 0.2 }), /lr/)
      await refused('ASSAY_PARAM_CONFLICT', () => run.logParams({ arch: { depth: 5 } }), /arch/)
      await refused('ASSAY_PARAM_CONFLICT', () => run.logParams({ lr: '0.1' }), /lr/)
      // A conflicting call does not half-apply: its other keys are not written either.
      await refused('ASSAY_PARAM_CONFLICT', () => run.logParams({ brand_new: 1, lr: 0.3 }))
      assert.equal((await h.assay.getRun(run.id)).params.brand_new, undefined)
      // The run is still usable.
      await run.logParams({ brand_new: 1 })
      assert.equal((await h.assay.getRun(run.id)).params.brand_new, 1)
    })
  })
})

describe('startRun refuses bad input before anything is stored', () => {
  let h: Harness
  before(async () => {
    h = await openHarness()
  })
  after(async () => {
    await h.cleanup()
  })

  const cases: [string, ErrorCode, Record<string, unknown>][] = [
    ['empty experiment', 'ASSAY_INVALID_KEY', { experiment: '' }],
    ['experiment with a newline', 'ASSAY_INVALID_KEY', { experiment: 'a\nb' }],
    ['run name too long', 'ASSAY_INVALID_KEY', { name: 'n'.repeat(LIMITS.nameLength + 1) }],
    ['negative seed', 'ASSAY_INVALID_ARGUMENT', { seed: -1 }],
    ['fractional seed', 'ASSAY_INVALID_ARGUMENT', { seed: 1.5 }],
    ['seed a string', 'ASSAY_INVALID_ARGUMENT', { seed: '7' }],
    ['param NaN', 'ASSAY_INVALID_ARGUMENT', { params: { lr: NaN } }],
    ['param value too large', 'ASSAY_VALUE_TOO_LARGE', { params: { p: 'x'.repeat(LIMITS.paramValueBytes) } }],
    ['tag too large', 'ASSAY_VALUE_TOO_LARGE', { tags: { t: 'x'.repeat(LIMITS.tagValueBytes + 1) } }],
    ['datasets not an array', 'ASSAY_INVALID_ARGUMENT', { datasets: { name: 'a' } }],
    ['dataset with a bad role', 'ASSAY_INVALID_ARGUMENT', { datasets: [{ name: 'a', path: '.', role: 'dev' }] }],
    ['dataset that does not exist', 'ASSAY_DATASET_NOT_FOUND', { datasets: [{ name: 'a', path: '/definitely/not/here.csv', role: 'test' }] }],
  ]
  for (const [what, code, options] of cases) {
    test(`${what}: ${code}, and no run is created`, async () => {
      const runsBefore = await h.assay.listRuns()
      await rejectsWith(h.start(options), code)
      assert.deepEqual(await h.assay.listRuns(), runsBefore)
      assert.deepEqual(await h.assay.listExperiments(), [])
    })
  }

  test('a missing dataset path names the path', async () => {
    const missing = path.join(h.dir, 'nope', 'data.csv')
    const error = await rejectsWith(h.start({ datasets: [{ name: 'val', path: missing, role: 'validation' }] }), 'ASSAY_DATASET_NOT_FOUND')
    assert.ok(error.message.includes(missing))
    assert.deepEqual(await h.assay.listRuns(), [])
  })
})

describe('artifact names that would leave the store', () => {
  let h: Harness
  let run: Run
  let outside: string[]
  before(async () => {
    h = await openHarness()
    run = await h.start({})
    await run.logArtifact('kept.txt', Buffer.from('kept'))
    await run.flush()
    outside = readdirSync(h.dir)
  })
  after(async () => {
    await h.cleanup()
  })

  const escaping = ['../x', '../../x', '/etc/passwd', 'C:\\x', 'C:/x', '%2e%2e%2f', '%2e%2e%2fx', '%252e%252e%252f', 'a#/../b', 'a?/../b', 'a\\b', '..\\x', 'a/../../x', './x', 'a//b', 'a/', '..', '.', '', ' x', 'x\u0000', 'x\n']
  for (const name of escaping) {
    test(`${JSON.stringify(name)} is ASSAY_INVALID_ARTIFACT_NAME and writes nothing anywhere`, async () => {
      const passwd = statSync('/etc/passwd')
      const storeFiles = filesUnder(h.storeDir).filter((f) => !f.startsWith('assay.db'))
      await rejectsWith(run.logArtifact(name, Buffer.from('escape attempt')), 'ASSAY_INVALID_ARTIFACT_NAME')
      await rejectsWith(run.useArtifact({ runId: run.id, name: 'kept.txt' }, name), 'ASSAY_INVALID_ARTIFACT_NAME')
      await run.flush()
      assert.deepEqual(readdirSync(h.dir), outside, 'nothing appeared next to the store')
      assert.deepEqual(filesUnder(h.storeDir).filter((f) => !f.startsWith('assay.db')), storeFiles, 'nothing new inside the store either')
      assert.equal(existsSync(path.join(h.storeDir, 'artifacts', 'x')), false)
      assert.equal(existsSync(path.resolve('x')), false)
      assert.equal(statSync('/etc/passwd').mtimeMs, passwd.mtimeMs)
      const artifacts = (await h.assay.getRun(run.id)).artifacts
      assert.deepEqual(artifacts.map((a) => a.name), ['kept.txt'])
    })
  }

  test('a name over the length limit is refused', async () => {
    await rejectsWith(run.logArtifact('a'.repeat(LIMITS.artifactNameLength + 1), Buffer.from('x')), 'ASSAY_INVALID_ARTIFACT_NAME')
  })

  test('plain relative names, dots inside segments included, are accepted and read back', async () => {
    for (const name of ['model/weights.bin', 'a..b', '.hidden', 'dir/sub dir/file name+v=1@2,3.txt', 'assay-run_1/x']) {
      await run.logArtifact(name, Buffer.from(name))
      assert.deepEqual(await h.assay.getArtifact(run.id, name), Buffer.from(name))
    }
  })
})
