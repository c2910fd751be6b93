import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { computeEnvelope } from '../../src/record/envelope.js'
import { replayPlan } from '../../src/record/replay-plan.js'
import type { Environment, RunRecord } from '../../src/record/types.js'
import { CODE, DATASETS, ENVIRONMENT } from '../store/fixtures.js'
import { tempDir } from '../store/backends.js'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

function record(overrides: Partial<RunRecord> = {}): RunRecord {
  const base = { params: {}, seed: 7, environment: ENVIRONMENT, code: CODE, datasets: DATASETS }
  const parts = { ...base, ...overrides }
  return {
    id: 'abc123abc123abc123abc123abc123ab',
    experiment: 'e',
    name: 'r',
    owner: 'o',
    status: 'finished',
    startTime: 0,
    endTime: 1,
    heartbeatAt: 1,
    parentId: null,
    groupId: null,
    seedSource: 'user',
    tags: {},
    metrics: [],
    evals: [],
    artifacts: [],
    ...parts,
    envelope: computeEnvelope(parts),
  } as RunRecord
}

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
    const script = path.join(dir, 'train.ts')
    const environmentModule = path.join(REPO_ROOT, 'src', 'record', 'environment.ts')
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
