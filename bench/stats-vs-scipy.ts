/**
 * Benchmark: assay/stats paired resampling against SciPy on the same data.
 *
 *   node --import tsx bench/stats-vs-scipy.ts
 *
 * n = 10,000 paired examples generated with assay's seeded generator and written to a temporary file
 * that a python3 subprocess reads; Python timings are measured inside that subprocess. Reports medians
 * of several repetitions and writes bench/results/stats.md.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pairedBootstrap, pairedPermutationTest } from '../src/stats/paired-resampling.js'
import { createRandom } from '../src/stats/random.js'

const PYTHON = '/usr/bin/python3'
const N = 10_000
const RESAMPLES = 10_000
const TS_REPS = 7
const PY_REPS = 3

function median(values: number[]): number {
  const s = [...values].sort((x, y) => x - y)
  const h = s.length >> 1
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2
}

function timeIt(fn: () => void, reps: number, warmup = 2): number[] {
  for (let i = 0; i < warmup; i++) fn()
  const out: number[] = []
  for (let i = 0; i < reps; i++) {
    const t = performance.now()
    fn()
    out.push((performance.now() - t) / 1000)
  }
  return out
}

// Same data for both sides: accuracy-like per-example scores of two models.
const rng = createRandom(2024)
const a = new Float64Array(N)
const b = new Float64Array(N)
for (let i = 0; i < N; i++) {
  a[i] = rng.nextFloat()
  b[i] = a[i] - 0.005 + 0.1 * (rng.nextFloat() - 0.5)
}

const PY_SCRIPT = String.raw`
import json, sys, time
import numpy as np
import scipy
from scipy import stats
with open(sys.argv[1]) as f:
    data = json.load(f)
a = np.array(data['a']); b = np.array(data['b']); reps = int(sys.argv[2]); B = int(sys.argv[3])
def mean_diff(x, y, axis=-1):
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)
def run(fn):
    out = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); out.append(time.perf_counter() - t)
    return out
res = {'scipy': scipy.__version__, 'numpy': np.__version__}
res['bootstrapBCa'] = run(lambda: stats.bootstrap((a, b), mean_diff, paired=True, vectorized=True, method='BCa', n_resamples=B, random_state=0))
res['bootstrapPercentile'] = run(lambda: stats.bootstrap((a, b), mean_diff, paired=True, vectorized=True, method='percentile', n_resamples=B, random_state=0))
res['permutation'] = run(lambda: stats.permutation_test((a, b), mean_diff, permutation_type='samples', vectorized=True, n_resamples=B, random_state=0))
print(json.dumps(res))
`

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'))
    return line ? line.split(':')[1].trim() : 'unknown'
  } catch {
    return 'unknown'
  }
}

const ours = {
  bootstrap: timeIt(() => pairedBootstrap(a, b, { resamples: RESAMPLES, seed: 0 }), TS_REPS),
  permutation: timeIt(() => pairedPermutationTest(a, b, { resamples: RESAMPLES, seed: 0 }), TS_REPS),
}
let ourBoot = median(ours.bootstrap)
let ourPerm = median(ours.permutation)
console.log(`assay pairedBootstrap        (n=${N}, B=${RESAMPLES}): median ${ourBoot.toFixed(3)} s`)
console.log(`assay pairedPermutationTest  (n=${N}, B=${RESAMPLES}): median ${ourPerm.toFixed(3)} s`)

const check = spawnSync(PYTHON, ['-c', 'import scipy, numpy'], { encoding: 'utf8' })
if (check.status !== 0) {
  console.log(`skipping the SciPy comparison: ${PYTHON} cannot import scipy/numpy`)
  process.exit(0)
}

const dir = mkdtempSync(join(tmpdir(), 'assay-bench-'))
let py: { scipy: string; numpy: string; bootstrapBCa: number[]; bootstrapPercentile: number[]; permutation: number[] }
try {
  const file = join(dir, 'paired.json')
  writeFileSync(file, JSON.stringify({ a: Array.from(a), b: Array.from(b) }))
  const run = spawnSync(PYTHON, ['-W', 'ignore', '-c', PY_SCRIPT, file, String(PY_REPS), String(RESAMPLES)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  })
  if (run.status !== 0) throw new Error(`python failed: ${run.stderr}`)
  py = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}')
} finally {
  rmSync(dir, { recursive: true, force: true })
}

// Time assay again after SciPy, so that both sides see similar machine load; the medians pool both rounds.
ours.bootstrap.push(...timeIt(() => pairedBootstrap(a, b, { resamples: RESAMPLES, seed: 0 }), TS_REPS, 0))
ours.permutation.push(...timeIt(() => pairedPermutationTest(a, b, { resamples: RESAMPLES, seed: 0 }), TS_REPS, 0))
ourBoot = median(ours.bootstrap)
ourPerm = median(ours.permutation)
console.log(`assay medians over both rounds: bootstrap ${ourBoot.toFixed(3)} s, permutation ${ourPerm.toFixed(3)} s`)

const pyBca = median(py.bootstrapBCa)
const pyPct = median(py.bootstrapPercentile)
const pyPerm = median(py.permutation)
const ratioBoot = pyBca / ourBoot
const ratioBootPct = pyPct / ourBoot
const ratioPerm = pyPerm / ourPerm
console.log(`scipy bootstrap BCa           median ${pyBca.toFixed(3)} s  -> assay is ${ratioBoot.toFixed(1)}x faster`)
console.log(`scipy bootstrap percentile    median ${pyPct.toFixed(3)} s  -> assay is ${ratioBootPct.toFixed(1)}x faster`)
console.log(`scipy permutation_test        median ${pyPerm.toFixed(3)} s  -> assay is ${ratioPerm.toFixed(1)}x faster`)

const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(3)).join(', ')
const md = `# assay/stats vs SciPy: paired resampling

Command: \`node --import tsx bench/stats-vs-scipy.ts\` (writes this file).

Data: n = ${N} paired examples generated with \`createRandom(2024)\`, the same values passed to SciPy through a temporary JSON file.
Python timings are measured inside the python3 subprocess (\`time.perf_counter\`), after loading the data.
Medians of ${2 * TS_REPS} runs for assay (${TS_REPS} before and ${TS_REPS} after the SciPy subprocess, after 2 warm-up runs) and ${PY_REPS} runs for SciPy.

Machine: ${availableParallelism()} CPUs (nproc), ${cpuModel()}; Node ${process.version}; SciPy ${py.scipy}, NumPy ${py.numpy}.
Load average when the benchmark ended: ${loadavg().map((x) => x.toFixed(2)).join(', ')} (a shared machine; timings are noisy).

| Task (B = ${RESAMPLES}) | assay median (s) | SciPy median (s) | SciPy / assay |
|---|---:|---:|---:|
| paired bootstrap of the mean difference: \`pairedBootstrap\` vs \`scipy.stats.bootstrap((a, b), mean_diff, paired=True, vectorized=True, method='BCa')\` | ${ourBoot.toFixed(3)} | ${pyBca.toFixed(3)} | **${ratioBoot.toFixed(1)}x** |
| same, SciPy with \`method='percentile'\` (no jackknife; closest to what assay computes) | ${ourBoot.toFixed(3)} | ${pyPct.toFixed(3)} | ${ratioBootPct.toFixed(1)}x |
| paired permutation test: \`pairedPermutationTest\` vs \`scipy.stats.permutation_test(..., permutation_type='samples', vectorized=True)\` | ${ourPerm.toFixed(3)} | ${pyPerm.toFixed(3)} | **${ratioPerm.toFixed(1)}x** |

Target: at least 10x faster than SciPy in both rows in bold: ${ratioBoot >= 10 && ratioPerm >= 10 ? 'met' : 'NOT met'}.

Notes: assay's \`pairedBootstrap\` computes a percentile interval and a bootstrap p-value, not BCa; SciPy's BCa adds a jackknife
(n leave-one-out means), so the percentile row is the like-for-like comparison. assay's permutation test tabulates the 16 signed
partial sums of each block of 4 differences once, so a resample costs n / 4 table look-ups.

Raw timings (s): assay bootstrap [${fmt(ours.bootstrap)}], assay permutation [${fmt(ours.permutation)}],
SciPy BCa [${fmt(py.bootstrapBCa)}], SciPy percentile [${fmt(py.bootstrapPercentile)}], SciPy permutation [${fmt(py.permutation)}].
`
writeFileSync(new URL('./results/stats.md', import.meta.url), md)
console.log('wrote bench/results/stats.md')
