import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { computeEnvelope } from '../../src/record/envelope.js'
import { replayPlan } from '../../src/record/replay-plan.js'
import type { Environment } from '../../src/record/types.js'
import { CODE, DATASETS, ENVIRONMENT, finishedRecord } from '../store/fixtures.js'
import { Assay } from '../../src/sdk/assay.js'
import { tempDir } from '../store/backends.js'
import { runCliOn } from '../cli/run-cli.js'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

const record = finishedRecord

function runCommand(plan: ReturnType<typeof replayPlan>): string {
  const step = plan.steps.find((s) => s.title === 'Run the command')
  assert.ok(step)
  return step.commands[step.commands.length - 1]
}

describe('execArgv (node options before the script)', () => {
  let dir: string
  let cleanup: () => void
  beforeEach(() => ({ dir, cleanup } = tempDir('assay-execargv-')))
  afterEach(() => cleanup())

  test('`node --import tsx train.ts` records execArgv and replays as `node --import tsx train.ts`', () => {
    // The script itself is plain JavaScript on the built package, so the child does not compile the sources.
    const script = path.join(dir, 'train.ts')
    const environmentModule = path.join(REPO_ROOT, 'dist', 'record', 'environment.js')
    writeFileSync(script, `import { captureEnvironment } from ${JSON.stringify(environmentModule)}\nprocess.stdout.write(JSON.stringify(captureEnvironment()))\n`)
    const env = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', script, '--lr', '0.1'], { cwd: REPO_ROOT, encoding: 'utf8' })) as Environment
    assert.deepEqual(env.execArgv, ['--import', 'tsx'])
    assert.deepEqual(env.argv.slice(1), [script, '--lr', '0.1'])
    const plan = replayPlan(record({ environment: { ...env, envVars: {} }, code: { ...CODE, root: dir } }))
    assert.equal(runCommand(plan), 'ASSAY_SEED=7 node --import tsx train.ts --lr 0.1')
  })

  test('execArgv is not part of the environment fingerprint; a record without it replays as before', () => {
    const a = computeEnvelope({ params: {}, seed: 1, environment: { ...ENVIRONMENT, execArgv: ['--import', 'tsx'] }, code: CODE, datasets: DATASETS })
    const b = computeEnvelope({ params: {}, seed: 1, environment: { ...ENVIRONMENT, execArgv: [] }, code: CODE, datasets: DATASETS })
    assert.equal(a.environment, b.environment)
    assert.equal(a.config, b.config)
    assert.equal(runCommand(replayPlan(record())), 'NODE_ENV=test TZ=UTC ASSAY_SEED=7 node train.js --lr 0.1')
  })
})

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

describe('replaying the code of a dirty run', () => {
  let dir: string
  let cleanup: () => void
  beforeEach(() => ({ dir, cleanup } = tempDir('assay-replay-')))
  afterEach(() => cleanup())

  test("the plan's own commands, run in a shell elsewhere, rebuild the run's working tree (tracked changes and new files)", async () => {
    const origin = path.join(dir, 'origin.git')
    const repo = path.join(dir, 'repo')
    git(dir, 'init', '-q', '--bare', origin)
    git(dir, 'clone', '-q', origin, repo)
    writeFileSync(path.join(repo, 'train.py'), 'lr = 0.1\n')
    git(repo, 'add', '.')
    git(repo, 'commit', '-q', '-m', 'initial')
    git(repo, 'push', '-q', 'origin', 'HEAD')
    writeFileSync(path.join(repo, 'train.py'), 'lr = 0.2\nwarmup = 5\n')
    writeFileSync(path.join(repo, 'new_module.py'), 'def f():\n    return 1\n')

    const store = path.join(dir, 'store')
    const assay = await Assay.open({ store })
    let plan: ReturnType<typeof replayPlan>
    try {
      const run = await assay.startRun({ experiment: 'e', seed: 3, codeDir: repo })
      await run.end()
      plan = replayPlan(await assay.getRun(run.id), { store: assay.store.location })
    } finally {
      await assay.close()
    }
    const checkout = plan.steps.find((s) => s.title === 'Check out the code')
    assert.ok(checkout)
    assert.ok(!plan.cannotReproduce.some((r) => r.includes('untracked')), 'new files are in the diff now')

    // `assay` on PATH runs this checkout's CLI; the commands run from an unrelated directory
    // with no ASSAY_* variables, as a colleague would run them.
    const bin = path.join(dir, 'bin')
    mkdirSync(bin)
    symlinkSync(path.join(REPO_ROOT, 'bin', 'assay.js'), path.join(bin, 'assay'))
    const work = path.join(dir, 'elsewhere')
    mkdirSync(work)
    const env: NodeJS.ProcessEnv = { ...GIT_ENV, PATH: `${bin}:${process.env.PATH ?? ''}`, TMPDIR: dir }
    for (const name of ['ASSAY_STORE', 'ASSAY_HOME', 'ASSAY_TRACKING_URI', 'ASSAY_TOKEN']) delete env[name]
    execFileSync('bash', ['-euc', checkout.commands.join('\n')], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] })

    const replayed = path.join(work, 'replay')
    assert.equal(readFileSync(path.join(replayed, 'train.py'), 'utf8'), 'lr = 0.2\nwarmup = 5\n')
    assert.equal(readFileSync(path.join(replayed, 'new_module.py'), 'utf8'), 'def f():\n    return 1\n')
    assert.equal(existsSync(path.join(replayed, '.assay')), false, 'no empty store was created in the clone')
    assert.equal(existsSync(path.join(work, '.assay')), false)
  })

  test('the store is named without the credentials of its URL', () => {
    const plan = replayPlan(record(), { store: 'https://alice:s3cret@tracking.example:7321' })
    const commands = plan.steps.flatMap((s) => s.commands).join('\n')
    assert.match(commands, /assay --store https:\/\/tracking\.example:7321 artifacts get /)
    assert.ok(!commands.includes('s3cret') && !commands.includes('alice'))
  })

  test('a read-only CLI command on a store that does not exist fails and creates nothing', async () => {
    const missing = path.join(dir, 'typo-store')
    const { code, err } = await runCliOn(missing, 'runs', 'ls')
    assert.equal(code, 2)
    assert.match(err, /ASSAY_STORE_NOT_FOUND/)
    assert.equal(existsSync(missing), false)
    await assert.rejects(Assay.open({ store: missing, create: false }), { code: 'ASSAY_STORE_NOT_FOUND' })
    assert.equal(existsSync(missing), false)
  })
})
