import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SETTINGS } from './settings.js'
import { formatRates, summarize } from './simulation.js'

/**
 * Quick calibration: every setting of settings.ts with its base number of seeded replications
 * (the benchmark bench/calibration.ts runs five times as many). A rate fails when its
 * Clopper–Pearson 95% interval lies wholly above α (false positives) or wholly below the nominal
 * coverage: a miscalibration the replications cannot explain by chance.
 */
describe('calibration: decisions hold their error rate (quick, seeded)', () => {
  for (const [k, setting] of SETTINGS.entries()) {
    it(setting.name, () => {
      const rates = setting.run(setting.replications, 1000 + k).map(summarize)
      const bad = rates.filter((r) => r.miscalibrated)
      assert.deepEqual(bad.length, 0, `miscalibrated:\n${formatRates(bad)}`)
    })
  }
})
