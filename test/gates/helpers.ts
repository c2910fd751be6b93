import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { EvalRecord } from '../../src/record/types.js'
import type { Assay } from '../../src/sdk/assay.js'
import { openHarness, type Harness } from '../sdk/harness.js'

/**
 * Real runs for gate tests: a temp git repository (so runs have a code version), a dataset file,
 * and binary `correct` scores built so the difference between two runs is known by construction.
 */

export const N = 400

export interface GateWorld {
  h: Harness
  assay: Assay
  /** A git work tree: runs started here have a code version. */
  repo: string
  dataPath: string
  /** Log a finished run with these eval records; returns its id. */
  logRun(name: string, records: EvalRecord[], options?: { codeDir?: string; seed?: number; artifact?: boolean; owner?: string }): Promise<string>
  /** Write a gate file and return its path. */
  gateFile(name: string, text: string): string
  /** Open the store's SQLite file directly (to tamper with it). */
  db(): Database.Database
  cleanup(): Promise<void>
}

/** `correct` = 1 on the examples whose index is in `right`, else 0; latency and tokens constant-ish. */
export function records(right: (i: number) => boolean, extra: (i: number) => Partial<EvalRecord> = () => ({})): EvalRecord[] {
  return Array.from({ length: N }, (_, i) => ({ id: `q${i}`, scores: { correct: right(i) ? 1 : 0 }, latencyMs: 10 + (i % 7), tokens: 100 + (i % 3), ...extra(i) }))
}

export async function openGateWorld(): Promise<GateWorld> {
  const h = await openHarness()
  const repo = path.join(h.dir, 'repo')
  mkdirSync(repo)
  const git = (...args: string[]): void => {
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'commit.gpgsign=false', ...args], { cwd: repo, stdio: 'ignore' })
  }
  git('init', '-q')
  writeFileSync(path.join(repo, 'train.py'), 'print("train")\n')
  git('add', 'train.py')
  git('commit', '-q', '-m', 'init')
  const dataPath = path.join(h.dir, 'val.csv')
  writeFileSync(dataPath, `id\n${Array.from({ length: N }, (_, i) => `q${i}`).join('\n')}\n`)
  const opened: Database.Database[] = []
  return {
    h,
    assay: h.assay,
    repo,
    dataPath,
    async logRun(name, evalRecords, options = {}) {
      const run = await h.assay.startRun({
        experiment: 'gates',
        name,
        seed: options.seed ?? 1,
        owner: options.owner ?? 'alice',
        codeDir: options.codeDir ?? repo,
        datasets: [{ name: 'val', path: dataPath, role: 'validation' }],
      })
      await run.logEval({ dataset: 'val', records: evalRecords })
      if (options.artifact !== false) await run.logArtifact('model/weights.json', Buffer.from(JSON.stringify({ name })))
      await run.end('finished')
      return run.id
    },
    gateFile(name, text) {
      const file = path.join(h.dir, name)
      writeFileSync(file, text)
      return file
    },
    db() {
      const db = new Database(path.join(h.storeDir, 'assay.db'))
      opened.push(db)
      return db
    },
    async cleanup() {
      for (const db of opened) if (db.open) db.close()
      await h.cleanup()
    },
  }
}

/** A gate with the common header; `criteria` is YAML indented under `criteria:`. */
export function gateYaml(criteria: string, header: Partial<Record<'model' | 'rollback' | 'extra', string>> = {}): string {
  return [
    'gate: release',
    `model: ${header.model ?? 'sentiment'}`,
    'owner: alice@example.com',
    'escalation: ml-oncall@example.com',
    `rollback: ${header.rollback ?? 'model:sentiment@1'}`,
    'dataset: val',
    'seed: 7',
    'scores:',
    '  correct: { min: 0, max: 1 }',
    ...(header.extra === undefined ? [] : [header.extra]),
    'criteria:',
    criteria,
    '',
  ].join('\n')
}

export const SUPERIORITY = (onFailure = 'block') => `  - kind: superiority
    metric: correct
    alpha: 0.05
    test: paired-bootstrap
    onFailure: ${onFailure}
    rationale: a release must be measurably better on accuracy`

export const NON_INFERIORITY = (margin = 0.02, onFailure = 'block') => `  - kind: non-inferiority
    metric: correct
    margin: ${margin}
    alpha: 0.05
    test: paired-t
    onFailure: ${onFailure}
    rationale: accuracy may not drop by more than ${margin}`

/** A gate any candidate passes (one criterion `absolute, min: 0`): the lax gate a client must not be able to promote with. */
export const LAX_CRITERION = `  - kind: absolute
    metric: correct
    test: wilson
    min: 0
    onFailure: block
    rationale: anything goes`

/**
 * Model sentiment with version 1 from `baseline` and version 2 from `better` (their
 * model/weights.json), the release gate (superiority, non-inferiority 0.02) on its champion alias,
 * champion on version 1, then version 2 promoted through the gate by bob. Returns the promotion's
 * audit record seq.
 */
export async function promotedSentiment(world: GateWorld, baseline: string, better: string): Promise<number> {
  await world.assay.createModel({ name: 'sentiment', owner: 'alice' })
  await world.assay.addModelVersion({ model: 'sentiment', run: baseline, artifact: 'model/weights.json' })
  await world.assay.addModelVersion({ model: 'sentiment', run: better, artifact: 'model/weights.json' })
  const gate = world.gateFile('release.yaml', gateYaml(`${SUPERIORITY()}\n${NON_INFERIORITY(0.02)}`))
  await world.assay.setGatePolicy('sentiment', { alias: 'champion', gate, reason: 'release policy', actor: 'alice' })
  await world.assay.setAlias('sentiment', 'champion', 1, { reason: 'first release', actor: 'alice' })
  return (await world.assay.promote({ model: 'sentiment', version: 2, actor: 'bob' })).audit.seq
}
