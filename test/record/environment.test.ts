import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { allowlistedEnv, captureEnvironment, DEFAULT_ENV_ALLOWLIST, hardwareClass } from '../../src/record/environment.js'
import { tempDir } from '../store/backends.js'
import { openHarness } from '../sdk/harness.js'

const SECRET_LOOKING = [
  'MY_API_KEY',
  'GITHUB_TOKEN',
  'OPENAI_API_KEY',
  'HF_TOKEN',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'DB_PASSWORD',
  'PGPASSWORD',
  'DB_PASS',
  'SMTP_PASS',
  'MYSQL_PWD',
  'GPG_PASSPHRASE',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'NPM_AUTH',
  'SESSION_COOKIE',
  'SSH_PRIVATE_KEY',
  'GH_PAT',
  'SENTRY_DSN',
  'my_api_key',
  'ApiKey',
]

describe('environment variables', () => {
  test('the default allowlist is kept; names not on it are not', () => {
    const env = { NODE_ENV: 'production', TZ: 'UTC', CUDA_VISIBLE_DEVICES: '0,1', HOME: '/root', PATH: '/usr/bin', USER: 'me', DATABASE_HOST: 'db' }
    assert.deepEqual(allowlistedEnv(env), { CUDA_VISIBLE_DEVICES: '0,1', NODE_ENV: 'production', TZ: 'UTC' })
  })

  test('ASSAY_ENV_ALLOWLIST adds names (comma-separated, spaces trimmed)', () => {
    const env = { ASSAY_ENV_ALLOWLIST: 'EXPERIMENT_SHARD, BATCH_SIZE,,', EXPERIMENT_SHARD: '3', BATCH_SIZE: '64', OTHER: 'x' }
    assert.deepEqual(allowlistedEnv(env), { BATCH_SIZE: '64', EXPERIMENT_SHARD: '3' })
  })

  for (const name of SECRET_LOOKING) {
    test(`${name} is never kept, even when allowlisted`, () => {
      const env = { ASSAY_ENV_ALLOWLIST: `${name},KEEP_ME`, [name]: 'sk-live-0123456789', KEEP_ME: 'yes' }
      const kept = allowlistedEnv(env)
      assert.deepEqual(kept, { KEEP_ME: 'yes' })
      assert.ok(!JSON.stringify(kept).includes('sk-live'))
    })
  }

  test('the default allowlist itself has no secret-looking names, and ordinary names are not mistaken for secrets', () => {
    const env: Record<string, string> = { ASSAY_ENV_ALLOWLIST: 'PWD,OLDPWD,MONKEY_COUNT,BATCH_SIZE,PATH' }
    const ordinary = [...DEFAULT_ENV_ALLOWLIST, 'BATCH_SIZE', 'PATH', 'PWD', 'OLDPWD']
    for (const name of ordinary) env[name] = 'v'
    const kept = allowlistedEnv(env)
    for (const name of ordinary) assert.equal(kept[name], 'v', `${name} kept`)
  })

  test('a run started through the SDK records allowlisted variables and no secrets', async () => {
    const saved = { ...process.env }
    process.env.ASSAY_ENV_ALLOWLIST = 'GITHUB_TOKEN,MY_API_KEY,SHARD_INDEX'
    process.env.GITHUB_TOKEN = 'ghp_secretsecret'
    process.env.MY_API_KEY = 'sk-secret'
    process.env.SHARD_INDEX = '7'
    process.env.TZ = 'UTC'
    const h = await openHarness()
    try {
      const run = await h.start({})
      await run.end()
      const record = await h.assay.getRun(run.id)
      assert.equal(record.environment.envVars.SHARD_INDEX, '7')
      assert.equal(record.environment.envVars.TZ, 'UTC')
      assert.equal(record.environment.envVars.GITHUB_TOKEN, undefined)
      assert.equal(record.environment.envVars.MY_API_KEY, undefined)
      assert.ok(!JSON.stringify(record).includes('ghp_secretsecret'))
      assert.ok(!JSON.stringify(record).includes('sk-secret'))
    } finally {
      await h.cleanup()
      for (const name of ['ASSAY_ENV_ALLOWLIST', 'GITHUB_TOKEN', 'MY_API_KEY', 'SHARD_INDEX', 'TZ']) {
        if (saved[name] === undefined) delete process.env[name]
        else process.env[name] = saved[name]
      }
    }
  })
})

describe('lockfile and dependencies', () => {
  let dir: string
  let cleanup: () => void
  beforeEach(() => {
    ;({ dir, cleanup } = tempDir('assay-env-'))
  })
  afterEach(() => cleanup())

  test('the lockfile of the project is found from a subdirectory and hashed; installed versions are recorded', () => {
    const lock = JSON.stringify({ name: 'proj', lockfileVersion: 3, packages: {} })
    writeFileSync(path.join(dir, 'package-lock.json'), lock)
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'proj', dependencies: { left: '^1.0.0' }, devDependencies: { right: '~2.0.0' } }))
    mkdirSync(path.join(dir, 'node_modules', 'left'), { recursive: true })
    writeFileSync(path.join(dir, 'node_modules', 'left', 'package.json'), JSON.stringify({ name: 'left', version: '1.4.2' }))
    const sub = path.join(dir, 'src', 'train')
    mkdirSync(sub, { recursive: true })
    const env = captureEnvironment({ cwd: sub, argv: ['node', 'train.js'], env: { ASSAY_SKIP_GPU_DETECTION: '1' } })
    assert.deepEqual(env.lockfile, { path: path.join(dir, 'package-lock.json'), sha256: createHash('sha256').update(lock).digest('hex') })
    assert.deepEqual(env.dependencies, { left: '1.4.2', right: 'not installed (declared ~2.0.0)' })
    assert.equal(env.cwd, sub)
    assert.deepEqual(env.argv, ['node', 'train.js'])
    assert.equal(env.runtime, 'node')
    assert.equal(env.runtimeVersion, process.versions.node)
    assert.ok(env.cpuCount > 0)
    assert.ok(env.memoryBytes > 0)
    assert.equal(env.gpu, null)
    assert.deepEqual(env.envVars, {})
    assert.match(hardwareClass(env), /no-gpu$/)
  })

  test('other lockfile kinds are found too', () => {
    writeFileSync(path.join(dir, 'uv.lock'), 'version = 1\n')
    const env = captureEnvironment({ cwd: dir, env: { ASSAY_SKIP_GPU_DETECTION: '1' } })
    assert.equal(env.lockfile?.path, path.join(dir, 'uv.lock'))
    assert.equal(env.lockfile?.sha256, createHash('sha256').update('version = 1\n').digest('hex'))
    assert.deepEqual(env.dependencies, {})
  })
})
