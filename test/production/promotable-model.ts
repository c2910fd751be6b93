import { setGatePolicy } from '../../src/promotion/gate-policy.js'
import { addModelVersion, createModel, setAlias } from '../../src/registry/registry.js'
import { evalRecordsToChunk } from '../../src/sdk/eval-batch.js'
import type { Store } from '../../src/store/store.js'
import { binaryRecords } from '../compare/helpers.js'
import { LAX_CRITERION } from '../gates/helpers.js'
import { newRun } from '../store/fixtures.js'

/**
 * A registered model that promotion can move, on any store: versions made from runs with full
 * lineage (code version, dataset versions, seed, owner) and eval records on their `train` dataset,
 * and a registered gate any such candidate passes, so a refusal in the tests comes from what they
 * test, not from the gate.
 */
export function laxGate(model: string): string {
  return [
    'gate: release',
    `model: ${model}`,
    'owner: alice@example.com',
    'escalation: ml-oncall@example.com',
    `rollback: model:${model}@1`,
    'dataset: train',
    'seed: 7',
    'scores:',
    '  correct: { min: 0, max: 1 }',
    'criteria:',
    LAX_CRITERION,
    '',
  ].join('\n')
}

/** Model `name` with `versions` versions (one run each), the lax gate on `champion`, and the alias on version 1. Returns the runs' ids. */
export async function promotableModel(store: Store, name: string, versions = 2): Promise<string[]> {
  await createModel(store, { name, owner: 'alice', actor: 'alice', at: 1 })
  const runs: string[] = []
  for (let v = 1; v <= versions; v++) {
    const run = newRun({ experiment: name, name: `${name}-v${v}` })
    await store.createRun(run)
    const train = run.datasets[0]
    await store.logEval(run.id, train.name, train.sha256, evalRecordsToChunk(binaryRecords(200, (i) => i % (3 + v) !== 0), new Set()))
    await addModelVersion(store, { model: name, run: run.id, actor: 'alice', at: 2 + v })
    runs.push(run.id)
  }
  await setGatePolicy(store, { model: name, alias: 'champion', text: laxGate(name), source: `${name}.gate.yaml`, actor: 'alice', reason: 'release policy', at: 10 })
  await setAlias(store, { model: name, alias: 'champion', version: 1, actor: 'alice', at: 11 })
  return runs
}
