/**
 * Calibration benchmark: every setting of test/calibration/settings.ts with many seeded
 * replications; prints a Markdown table of false-positive rates and coverage with Clopper–Pearson
 * 95% intervals. Run: node --import tsx bench/calibration.ts [--scale S] [--only SUBSTRING]
 * (scale multiplies each setting's replications; the results in bench/results/calibration.md use 5).
 */
import { SETTINGS } from '../test/calibration/settings.js'
import { formatRates, summarize, type RateSummary } from '../test/calibration/simulation.js'

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name)
  return i < 0 ? undefined : process.argv[i + 1]
}
const scale = Number(arg('--scale') ?? 5)
const only = arg('--only')
const results: RateSummary[] = []
for (const [k, setting] of SETTINGS.entries()) {
  if (only !== undefined && !setting.name.includes(only)) continue
  results.push(...setting.run(Math.round(setting.replications * scale), 1000 + k).map(summarize))
}
process.stdout.write(`${formatRates(results)}\n\n${results.filter((r) => r.miscalibrated).length} of ${results.length} rates miscalibrated\n`)
