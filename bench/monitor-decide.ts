/**
 * Benchmark: decideMonitor over a window of 1,000,000 traces against a reference of 1,000,000.
 * Usage: node --import tsx bench/monitor-decide.ts [n=1000000] [repetitions=3]
 *
 * Setup (not timed): synthetic traces from test/monitor/traffic.ts (conversations of 1–6 traces)
 * and its monitor file: two stale checks, the schema check, five drift tests (KS on a numeric
 * feature and on a score, chi-square per conversation, a cluster-robust and a pooled rate test,
 * Holm), lineage, and three budgets (p95 latency with its order-statistic interval, tokens and cost
 * per 1,000 requests). Timed: decideMonitor on the rows (which it turns into columns first), and
 * decideMonitor on those columns made beforehand (as Store.traceColumns hands them to `monitor
 * check`). Reference measured in the same run: sorting
 * the window's n latencies once (Float64Array sort), the least any p95 of the window costs; the
 * result is given as a ratio to it.
 */
import { performance } from 'node:perf_hooks'
import { decideMonitor, monitorColumnNeeds } from '../src/monitor/decide-monitor.js'
import { traceColumnsFromRows } from '../src/record/trace-columns.js'
import { loadMonitor } from '../src/monitor/monitor-spec.js'
import { createRandom } from '../src/stats/index.js'
import { MONITOR_YAML, NOW, traffic } from '../test/monitor/traffic.js'

const n = Number(process.argv[2] ?? 1_000_000)
const repetitions = Number(process.argv[3] ?? 3)
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

const rng = createRandom(1)
// traffic() draws 1–6 traces per conversation, 3.5 on average.
const reference = traffic(rng, Math.round(n / 3.5), {}, 'r')
const current = traffic(rng, Math.round(n / 3.5), { promptLength: 0.02 }, 'c')
const monitor = loadMonitor(MONITOR_YAML, 'bench')
const deployment = { modelVersion: 'support-bot@3', promptVersion: 'triage@7', owner: 'ml-platform', inputVersionTime: NOW - 3_600_000 }

const needs = monitorColumnNeeds(monitor.spec)
const currentColumns = traceColumnsFromRows(current, needs)
const referenceColumns = traceColumnsFromRows(reference, needs)
const decide: number[] = []
const columnar: number[] = []
const sort: number[] = []
let decision = ''
for (let r = 0; r < repetitions; r++) {
  let t = performance.now()
  const lat = Float64Array.from(current, (row) => row.latencyMs as number)
  lat.sort()
  sort.push(performance.now() - t)
  t = performance.now()
  const result = decideMonitor(monitor, { current, reference, now: NOW, deployment })
  decide.push(performance.now() - t)
  t = performance.now()
  const fromColumns = decideMonitor(monitor, { current: currentColumns, reference: referenceColumns, now: NOW, deployment })
  columnar.push(performance.now() - t)
  if (fromColumns.reason !== result.reason) throw new Error('rows and columns decided differently')
  decision = `${result.decision}: ${result.reason}`
}
const c = median(columnar)
const d = median(decide)
const s = median(sort)
process.stdout.write(
  [
    `traces: current ${current.length}, reference ${reference.length}; repetitions ${repetitions}`,
    `decideMonitor on rows (turned into columns first): median ${(d / 1000).toFixed(2)} s (all: ${decide.map((x) => (x / 1000).toFixed(2)).join(', ')}); ${(d / s).toFixed(1)}× the sort`,
    `decideMonitor on columns: median ${(c / 1000).toFixed(2)} s (all: ${columnar.map((x) => (x / 1000).toFixed(2)).join(', ')}); ${(c / s).toFixed(1)}× the sort`,
    `reference, sort ${current.length} latencies: median ${(s / 1000).toFixed(3)} s`,
    `decision: ${decision}`,
  ].join('\n') + '\n',
)
