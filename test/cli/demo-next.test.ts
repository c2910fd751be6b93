import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { HANG_MS } from '../child-process.js'
import { tempDir } from '../store/backends.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const run = promisify(execFile)
/** Only a hang takes this long (each command starts a whole CLI). */
const TIMEOUT_MS = HANG_MS

/** The environment of a user who has not configured assay: no ASSAY_* variables, no assay on PATH. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('ASSAY_') && !key.startsWith('npm_')) env[key] = value
  const path_ = (env.PATH ?? '').split(path.delimiter).filter((d) => !d.split(/[\\/]/).includes('node_modules'))
  return { ...env, PATH: path_.join(path.delimiter), ...extra }
}

/**
 * assay demo in a user's project that has assay installed (node_modules/assay, its bin linked in
 * node_modules/.bin, as npm install leaves them) with ASSAY_HOME set: the data goes into that store,
 * and every "Next" line runs as printed, from the same directory, without ASSAY_HOME.
 */
describe('assay demo: data under the store, and "Next" lines that run as printed', () => {
  let dir: string
  let cleanup: () => void
  let project: string
  let home: string
  let out: string

  before(async () => {
    ;({ dir, cleanup } = tempDir('assay-demo-next-'))
    project = path.join(dir, 'project')
    home = path.join(dir, 'assay home')
    mkdirSync(path.join(project, 'node_modules', '.bin'), { recursive: true })
    writeFileSync(path.join(project, 'package.json'), '{ "name": "user-project", "private": true }\n')
    symlinkSync(repo, path.join(project, 'node_modules', 'assay'))
    symlinkSync('../assay/bin/assay.js', path.join(project, 'node_modules', '.bin', 'assay'))
    const demo = await run('npx', ['assay', 'demo', '--seeds', '2'], { cwd: project, env: userEnv({ ASSAY_HOME: home }), timeout: TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 })
    out = demo.stdout
  })
  after(() => cleanup())

  it('writes the generated data, the gate file and the monitor file under ASSAY_HOME, and nothing into ./.assay', () => {
    assert.equal(existsSync(path.join(project, '.assay')), false)
    assert.deepEqual(readdirSync(path.join(home, 'demo-data')).sort(), ['demo.monitor.yaml', 'release-gate.yaml', 'train.csv', 'validation.csv'])
  })

  it('prints Next lines that start with npx assay (no assay on PATH) and name the store', () => {
    const next = nextLines(out)
    assert.equal(next.length, 15, out)
    for (const line of next) assert.ok(line.startsWith(`npx assay --store '${home}' `), line)
  })

  it('every Next line exits as it should when run as printed, from the same directory, without ASSAY_HOME', async () => {
    for (const line of nextLines(out)) {
      // A gate check exits 1 when it blocks: here the runs have no code version (no git work tree).
      // A monitor check exits 1 on its retrain decision (the demo's traffic drifted on purpose).
      const expected = line.includes(' gate check ') || line.includes(' monitor check ') ? [0, 1, 3] : [0]
      const result = await run('bash', ['-c', line], { cwd: project, env: userEnv(), timeout: TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      )
      assert.ok(expected.includes(result.code), `${line}\nexit ${result.code}\n${result.stderr}`)
      assert.ok(result.stdout.length > 0, `${line} printed nothing`)
    }
    assert.equal(existsSync(path.join(project, '.assay')), false, 'no command created ./.assay')
  })

  it('with an assay on PATH, the lines start with assay', async () => {
    const bin = path.join(dir, 'bin')
    mkdirSync(bin)
    symlinkSync(path.join(repo, 'bin', 'assay.js'), path.join(bin, 'assay'))
    const env = userEnv({ PATH: `${bin}${path.delimiter}${userEnv().PATH}` })
    const other = path.join(dir, 'second store')
    const demo = await run('assay', ['--store', other, 'demo', '--seeds', '2'], { cwd: dir, env, timeout: TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 })
    const next = nextLines(demo.stdout)
    assert.equal(next.length, 15)
    for (const line of next) assert.ok(line.startsWith(`assay --store '${other}' `), line)
    const first = await run('bash', ['-c', next[0] as string], { cwd: dir, env, timeout: TIMEOUT_MS })
    assert.match(first.stdout, /demo-logistic-regression/)
  })
})

function nextLines(out: string): string[] {
  const at = out.indexOf('\nNext:\n')
  assert.ok(at >= 0, out)
  return out.slice(at + '\nNext:\n'.length).split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim())
}
