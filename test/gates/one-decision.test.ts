import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { loadGate } from '../../src/index.js'
import type { EvalRecord } from '../../src/record/types.js'
import { SUPERIORITY, gateYaml, openGateWorld, type GateWorld } from './helpers.js'

/**
 * Compare, the leaderboard and gates decide the same data through the one paired decision: constant
 * differences by the exact sign test everywhere, identical sides without an interval, clusters
 * (records' or the gate's rule) in the headline, and a FEW_EXAMPLES outcome in gates.
 */
function scored(values: number[], cluster?: (i: number) => string): EvalRecord[] {
  return values.map((v, i) => ({ id: `q${i}`, scores: { correct: v }, ...(cluster === undefined ? {} : { cluster: cluster(i) }) }))
}

describe('one paired decision for compare, leaderboard and gates', () => {
  let w: GateWorld
  const ids: Record<string, string> = {}
  // 60 examples in 3 topics, with a strong topic effect on the difference and a small average gain.
  const topic = (i: number): string => `t${i % 3}`
  const base60 = Array.from({ length: 60 }, (_, i) => 0.3 + 0.4 * ((i * 7) % 10) / 10)
  const cand60 = base60.map((v, i) => v + [0.2, -0.05, 0.02][i % 3]! + 0.002 * ((i * 3) % 5))

  before(async () => {
    w = await openGateWorld()
    ids.twoBetter = await w.logRun('two-better', scored([1, 0.75]))
    ids.twoBase = await w.logRun('two-base', scored([0.75, 0.5]))
    ids.tenthA = await w.logRun('tenth-a', scored([0.3, 0.7, 0.9, 0.6, 0.8, 0.4]))
    ids.tenthB = await w.logRun('tenth-b', scored([0.2, 0.6, 0.8, 0.5, 0.7, 0.3]))
    ids.same = await w.logRun('same', scored([0.2, 0.6, 0.8, 0.5, 0.7, 0.3]))
    ids.clusteredBase = await w.logRun('clustered-base', scored(base60, topic))
    ids.clusteredCand = await w.logRun('clustered-cand', scored(cand60, topic))
    ids.plainBase = await w.logRun('plain-base', scored(base60))
    ids.plainCand = await w.logRun('plain-cand', scored(cand60))
    await w.assay.createModel({ name: 'sentiment', owner: 'alice' })
    await w.assay.addModelVersion({ model: 'sentiment', run: ids.twoBase as string, artifact: 'model/weights.json' })
  })
  after(async () => w.cleanup())

  const gate = async (text: string, candidate: string, baseline: string) => (await w.assay.checkGate(loadGate(text), { candidate, baseline, record: false })).evidence.criteria[0]!
  const board = async (candidate: string, baseline: string) => (await w.assay.leaderboard({ datasets: ['val'], runs: [candidate, baseline], baseline, metric: 'correct', recordHoldout: false })).boards[0]!.entries[0]!

  it('two examples each better by 0.25: the exact sign test in all three (two-sided 0.5; the gate one-sided 0.25)', async () => {
    const c = await w.assay.compare(ids.twoBetter as string, ids.twoBase as string, { metric: 'correct' })
    const l = await board(ids.twoBetter as string, ids.twoBase as string)
    const g = await gate(gateYaml(SUPERIORITY()), ids.twoBetter as string, ids.twoBase as string)
    assert.equal(c.pValue, 0.5)
    assert.equal(l.pValue, 0.5)
    assert.equal(g.pValue, 0.25)
    for (const method of [c.method, l.test.method, g.test]) assert.match(method, /^exact sign test/)
    assert.equal(c.verdict, 'inconclusive')
    assert.equal(l.verdict, 'inconclusive')
    assert.equal(g.status, 'fail')
  })

  it('differences of 0.1 that differ in the last bits are constant for the leaderboard too (no ASSAY_STATS_DEGENERATE_INPUT)', async () => {
    const l = await board(ids.tenthA as string, ids.tenthB as string)
    assert.match(l.test.method, /^exact sign test/)
    assert.equal(l.pValue, 2 * 0.5 ** 6)
    const c = await w.assay.compare(ids.tenthA as string, ids.tenthB as string, { metric: 'correct' })
    assert.equal(c.differences, 'constant')
    assert.equal(c.pValue, l.pValue)
  })

  it('identical sides: no interval in the leaderboard or compare', async () => {
    const l = await board(ids.same as string, ids.tenthB as string)
    assert.equal(l.ci, null)
    assert.equal(l.pValue, 1)
    const c = await w.assay.compare(ids.same as string, ids.tenthB as string, { metric: 'correct' })
    assert.equal(c.ci, null)
  })

  it('records with clusters: compare, leaderboard and gate all use the cluster-robust t on C − 1 df and warn FEW_CLUSTERS', async () => {
    const c = await w.assay.compare(ids.clusteredCand as string, ids.clusteredBase as string, { metric: 'correct' })
    const l = await board(ids.clusteredCand as string, ids.clusteredBase as string)
    const g = await gate(gateYaml(SUPERIORITY()), ids.clusteredCand as string, ids.clusteredBase as string)
    assert.match(c.method, /^Cluster-robust/)
    assert.match(l.test.method, /^Cluster-robust/)
    assert.match(g.test, /^Cluster-robust/)
    assert.equal(l.clusters, 3)
    assert.equal(g.clusters, 3)
    assert.ok(c.warnings.some((x) => x.code === 'FEW_CLUSTERS'))
    assert.ok(g.warnings.some((x) => x.code === 'FEW_CLUSTERS'))
    // Same data, one decision: the p-values agree (compare and leaderboard two-sided).
    assert.equal(c.pValue, l.pValue)
    assert.equal(c.verdict, 'inconclusive')
    assert.equal(l.verdict, 'inconclusive')
    assert.equal(g.status, 'fail')
    // An inconclusive clustered comparison states what it needs in clusters, not examples.
    assert.equal(c.required?.examples, null)
    assert.ok((c.required?.clusters ?? 0) > 3)
    // Without clusters the same differences look decisive: the example-level test stays as a secondary.
    const plain = await w.assay.compare(ids.plainCand as string, ids.plainBase as string, { metric: 'correct' })
    assert.ok(plain.pValue < 0.05)
  })

  it("a gate's cluster rule (idPattern) clusters records that carry none", async () => {
    // Ids q0..q59: the last digit's residue is not the topic, so use a rule matching the ids' tens digit.
    const text = gateYaml(SUPERIORITY(), { extra: 'cluster: { idPattern: "^q(\\\\d*?)\\\\d$" }' })
    const g = await gate(text, ids.plainCand as string, ids.plainBase as string)
    assert.match(g.test, /^Cluster-robust/)
    assert.equal(g.clusters, 6)
    assert.throws(() => loadGate(gateYaml(SUPERIORITY(), { extra: 'cluster: { idPattern: "(" }' })), /cluster\.idPattern: not a valid regular expression/)
  })

  it('FEW_EXAMPLES: a passing comparative criterion on few pairs warns by default and blocks when the gate says so', async () => {
    const warnGate = gateYaml(`${SUPERIORITY()}\n    minEffect: 0`)
    const c10 = Array.from({ length: 10 }, (_, i) => 0.6 + 0.01 * i)
    const b10 = c10.map((v, i) => v - 0.3 - 0.01 * (i % 3))
    const cand = await w.logRun('ten-cand', scored(c10))
    const base = await w.logRun('ten-base', scored(b10))
    const warned = await gate(warnGate, cand, base)
    assert.equal(warned.status, 'pass')
    assert.equal(warned.outcome, 'warn')
    assert.match(warned.message, /FEW_EXAMPLES/)
    const blocked = await gate(`${warnGate.trimEnd()}\n    fewExamples: block\n`, cand, base)
    assert.equal(blocked.status, 'pass')
    assert.equal(blocked.outcome, 'block')
    const ignored = await gate(`${warnGate.trimEnd()}\n    fewExamples: ignore\n`, cand, base)
    assert.equal(ignored.outcome, 'pass')
  })

  it('loadGate takes the text of a gate file or an object with its fields', () => {
    const fromText = loadGate(gateYaml(SUPERIORITY()))
    const fromObject = loadGate(fromText.spec as unknown as Record<string, unknown>)
    assert.deepEqual(fromObject.spec, fromText.spec)
    assert.throws(() => loadGate({ gate: 'x' }), (e: Error & { code?: string }) => e.code === 'ASSAY_INVALID_GATE_SPEC')
  })
})
