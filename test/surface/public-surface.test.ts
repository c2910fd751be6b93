import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import * as sdk from '../../src/index.js'
import * as stats from '../../src/stats/index.js'
import { errorCatalogue } from '../../src/errors.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

describe('public surface', () => {
  it('exports the SDK entry points', () => {
    for (const name of ['Assay', 'Run', 'AssayError', 'errorCatalogue', 'isAssayError', 'LIMITS', 'parseRunFilter', 'loadGate', 'IMPORT_FORMATS', 'loadMonitor', 'loadMonitorFile', 'decideMonitor', 'compareCanary', 'MONITOR_DECISIONS', 'DECISION_PRECEDENCE']) {
      assert.ok(name in sdk, `assay does not export ${name}`)
    }
    assert.equal(typeof sdk.Assay.prototype.importResults, 'function')
    assert.deepEqual([...sdk.IMPORT_FORMATS], ['lm-eval', 'promptfoo', 'inspect'])
  })

  it('exports the types of a run search (checked by the compiler)', () => {
    const query: sdk.RunQuery & sdk.RunPageQuery = { filter: 'params.lr > 0.01', orderBy: 'metrics.acc desc', limit: 10 }
    assert.equal(Object.keys(query).length, 3)
  })

  it('exports every statistics function the engine promises from assay/stats', () => {
    const promised = `mean variance sd standardError median quantile iqm trimmedMean tInterval wilsonInterval
      clopperPearsonInterval bootstrapInterval stratifiedBootstrapInterval clusteredStandardError pairedTTest
      wilcoxonSignedRank signTest mcnemar pairedPermutationTest pairedBootstrap welchTTest studentTTest mannWhitneyU
      permutationTest probabilityOfImprovement almostStochasticOrder friedman averageRanks nemenyiCriticalDifference
      adjustPValues cohensD hedgesG cliffsDelta nonInferiority tost sampleSizePaired sampleSizeProportions
      minimumDetectableEffect seedsNeeded expectedMaxPerformance createRandom pairedDecision pairedDecisions ksTwoSample chiSquareTest
      twoProportionZTest clusteredTwoProportionTest binCounts populationStabilityIndex populationStabilityIndexFromCounts
      jensenShannon quantileInterval`.split(/\s+/)
    const missing = promised.filter((name) => typeof (stats as Record<string, unknown>)[name] !== 'function')
    assert.deepEqual(missing, [])
  })

  it('declares the package subpaths . and ./stats, each backed by one index file', () => {
    const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'))
    assert.equal(pkg.exports['.'].default, './dist/index.js')
    assert.equal(pkg.exports['./stats'].default, './dist/stats/index.js')
  })

  it('documents exactly the codes of the error catalogue', () => {
    const doc = readFileSync(path.join(repo, 'docs/errors.md'), 'utf8')
    const documented = new Set([...doc.matchAll(/`(ASSAY_[A-Z_]+)`/g)].map((m) => m[1]))
    assert.deepEqual([...documented].sort(), Object.keys(errorCatalogue).sort())
    for (const [code, entry] of Object.entries(errorCatalogue)) {
      assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${entry.status} \\|`), `${code} status in docs/errors.md`)
    }
  })
})
