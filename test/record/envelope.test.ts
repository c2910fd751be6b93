import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { computeEnvelope } from '../../src/record/envelope.js'
import type { Params, RunRecord } from '../../src/record/types.js'
import { CODE, DATASETS, ENVIRONMENT } from '../store/fixtures.js'
import { openHarness, type Harness } from '../sdk/harness.js'

const base = { params: { lr: 0.1, opt: { name: 'adam', beta: 0.9 } } as Params, seed: 1, environment: ENVIRONMENT, code: CODE, datasets: DATASETS }

describe('envelope fingerprints (unit)', () => {
  test('runs differing only by seed share config and differ in seed', () => {
    const a = computeEnvelope(base)
    const b = computeEnvelope({ ...base, seed: 2 })
    assert.equal(a.config, b.config)
    assert.notEqual(a.seed, b.seed)
    assert.deepEqual({ ...a, seed: '' }, { ...b, seed: '' })
  })

  test('param key order, dataset order, hostname, argv, cwd and env vars do not change config', () => {
    const a = computeEnvelope(base)
    const b = computeEnvelope({
      ...base,
      params: { opt: { beta: 0.9, name: 'adam' }, lr: 0.1 },
      datasets: [...DATASETS].reverse(),
      environment: { ...ENVIRONMENT, hostname: 'other', argv: ['node', 'x.js'], cwd: '/elsewhere', envVars: { TZ: 'Europe/Paris' } },
    })
    assert.equal(a.config, b.config)
    assert.equal(a.environment, b.environment)
  })

  test('each of params, datasets, code and environment changes config and only its own part', () => {
    const a = computeEnvelope(base)
    const changes: [string, Partial<typeof base>, keyof typeof a][] = [
      ['a param value', { params: { ...base.params, lr: 0.2 } }, 'config'],
      ['a new param', { params: { ...base.params, dropout: 0 } }, 'config'],
      ['dataset bytes', { datasets: [{ ...DATASETS[0], sha256: 'e'.repeat(64) }, DATASETS[1]] }, 'datasets'],
      ['dataset role', { datasets: [{ ...DATASETS[0], role: 'test' }, DATASETS[1]] }, 'datasets'],
      ['the commit', { code: { ...CODE, commit: 'f'.repeat(40) } }, 'code'],
      ['the uncommitted diff', { code: { ...CODE, diffSha256: 'f'.repeat(64) } }, 'code'],
      ['the untracked files', { code: { ...CODE, untracked: [] } }, 'code'],
      ['the lockfile', { environment: { ...ENVIRONMENT, lockfile: { path: 'x', sha256: 'f'.repeat(64) } } }, 'environment'],
      ['an installed dependency', { environment: { ...ENVIRONMENT, dependencies: { ...ENVIRONMENT.dependencies, zod: '4.0.1' } } }, 'environment'],
      ['the runtime version', { environment: { ...ENVIRONMENT, runtimeVersion: '22.0.0' } }, 'environment'],
    ]
    for (const [what, change, part] of changes) {
      const b = computeEnvelope({ ...base, ...change })
      assert.notEqual(b.config, a.config, `${what} changes config`)
      assert.notEqual(b[part], a[part], `${what} changes the ${part} fingerprint`)
      assert.equal(b.seed, a.seed, `${what} leaves seed alone`)
    }
  })

  test('hardware is recorded apart from config', () => {
    const a = computeEnvelope(base)
    const b = computeEnvelope({ ...base, environment: { ...ENVIRONMENT, gpu: null } })
    assert.notEqual(a.hardware, b.hardware)
    assert.notEqual(a.hardwareClass, b.hardwareClass)
    assert.equal(a.config, b.config, 'replicates on other hardware share config')
  })
})

describe('envelope fingerprints through the SDK', () => {
  let h: Harness
  let repo: string
  let data: string
  const git = (...args: string[]): void => {
    execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd: repo, stdio: 'ignore' })
  }
  const record = async (options: { seed?: number; params?: Record<string, number> } = {}): Promise<RunRecord> => {
    const run = await h.start({ codeDir: repo, params: options.params ?? { lr: 0.1 }, seed: options.seed ?? 1, datasets: [{ name: 'val', path: data, role: 'validation' }] })
    await run.end()
    return h.assay.getRun(run.id)
  }

  before(async () => {
    h = await openHarness()
    repo = path.join(h.dir, 'repo')
    mkdirSync(repo)
    git('init', '-q', '-b', 'main')
    writeFileSync(path.join(repo, 'train.py'), 'print(1)\n')
    git('add', '.')
    git('commit', '-q', '-m', 'one')
    data = path.join(h.dir, 'val.csv')
    writeFileSync(data, 'id,label\n1,0\n2,1\n')
  })
  after(async () => {
    await h.cleanup()
  })

  test('seed-only replicates share config; params, dataset bytes and code each change it', async () => {
    const a = await record({ seed: 1 })
    const b = await record({ seed: 2 })
    assert.equal(a.envelope.config, b.envelope.config)
    assert.notEqual(a.envelope.seed, b.envelope.seed)
    assert.equal(a.envelope.datasets, b.envelope.datasets)
    assert.equal(a.envelope.code, b.envelope.code)
    const listed = await h.assay.listRuns()
    assert.equal(listed.find((r) => r.id === a.id)?.configFingerprint, a.envelope.config)
    assert.equal(listed.find((r) => r.id === b.id)?.configFingerprint, a.envelope.config)

    const param = await record({ params: { lr: 0.2 } })
    assert.notEqual(param.envelope.config, a.envelope.config, 'a param changes config')
    assert.equal(param.envelope.seed, a.envelope.seed)

    writeFileSync(data, 'id,label\n1,0\n2,0\n')
    const dataChanged = await record()
    assert.notEqual(dataChanged.envelope.datasets, a.envelope.datasets, 'one changed byte of the dataset')
    assert.notEqual(dataChanged.envelope.config, a.envelope.config)
    writeFileSync(data, 'id,label\n1,0\n2,1\n')
    assert.equal((await record()).envelope.config, a.envelope.config, 'the same bytes again give the same config')

    writeFileSync(path.join(repo, 'train.py'), 'print(2)\n')
    const dirty = await record()
    assert.notEqual(dirty.envelope.code, a.envelope.code, 'an uncommitted change changes code')
    assert.notEqual(dirty.envelope.config, a.envelope.config)
    git('commit', '-q', '-am', 'two')
    const committed = await record()
    assert.notEqual(committed.envelope.code, a.envelope.code, 'a new commit changes code')
    assert.notEqual(committed.envelope.code, dirty.envelope.code)
    assert.notEqual(committed.envelope.config, a.envelope.config)

    const late = await h.start({ codeDir: repo, params: { lr: 0.1 }, seed: 1, datasets: [{ name: 'val', path: data, role: 'validation' }] })
    const beforeParams = (await h.assay.getRun(late.id)).envelope.config
    await late.logParams({ warmup: 3 })
    await late.end()
    assert.notEqual((await h.assay.getRun(late.id)).envelope.config, beforeParams, 'a param logged after start changes config too')
  })
})
