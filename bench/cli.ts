/**
 * CLI start-up and `assay runs metrics` on a million points, measured with hyperfine against
 * references run side by side in the same invocation:
 *
 *   npm run build && node --import tsx bench/cli.ts [--runs 30]
 *
 * Start-up: `node -e 0` (the floor of any node program) against `assay --version`,
 * `assay --help` and `assay runs ls` on a small store (the demo's 4 runs). Metric history:
 * bench/cli/raw-metric-read.mjs (the same points read from SQLite with better-sqlite3 into float64
 * columns) against `assay runs metrics RUN train/loss` with the chart only, with the table of all
 * points (stdout to /dev/null) and with --json. Every command is a fresh process of the built
 * package (bin/assay.js), as a user runs it. Writes bench/results/cli.md.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '..')
const bin = path.join(repo, 'bin', 'assay.js')
const resultsFile = path.join(here, 'results', 'cli.md')
const POINTS = 1_000_000
const runsArg = process.argv.indexOf('--runs')
const RUNS = runsArg === -1 ? 30 : Number(process.argv[runsArg + 1])

if (!fs.existsSync(path.join(repo, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first: the benchmark times the built CLI')

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-bench-cli-'))
const small = path.join(work, 'small')
const big = path.join(work, 'big')
const loadBefore = os.loadavg()

// A small store: the demo's four runs.
execFileSync(process.execPath, [bin, '--store', small, 'demo', '--seeds', '2', '--data-dir', path.join(work, 'data')], { stdio: 'ignore' })
// One run with a million points of one metric, logged through the SDK of the built package.
const { Assay } = (await import(path.join(repo, 'dist', 'index.js'))) as typeof import('../src/index.js')
const assay = await Assay.open({ store: big })
const run = await assay.startRun({ experiment: 'bench', name: 'long', seed: 1 })
for (let i = 0; i < POINTS; i++) await run.log({ 'train/loss': 2 * Math.exp(-i / 200_000) + 0.1 + 0.01 * Math.sin(i) }, { step: i })
await run.end('finished')
await assay.close()

interface Measured {
  name: string
  command: string
  mean: number
  stddev: number
  median: number
  min: number
  max: number
  /** Mean user + system CPU seconds: less moved by other work on a shared machine than wall time. */
  cpu: number
}

function hyperfine(commands: { name: string; command: string }[]): Measured[] {
  const exportFile = path.join(work, 'hyperfine.json')
  const args = ['-N', '--warmup', '3', '--runs', String(RUNS), '--export-json', exportFile, ...commands.flatMap((c) => ['-n', c.name, c.command])]
  const result = spawnSync('hyperfine', args, { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] })
  if (result.status !== 0) throw new Error(`hyperfine failed with ${result.status}`)
  const parsed = JSON.parse(fs.readFileSync(exportFile, 'utf8')) as { results: { mean: number; stddev: number; median: number; min: number; max: number; user: number; system: number }[] }
  return parsed.results.map((r, i) => ({ name: commands[i].name, command: commands[i].command, mean: r.mean, stddev: r.stddev, median: r.median, min: r.min, max: r.max, cpu: r.user + r.system }))
}

const node = process.execPath
const startup = hyperfine([
  { name: 'node -e 0', command: `${node} -e 0` },
  { name: 'assay --version', command: `${node} ${bin} --version` },
  { name: 'assay --help', command: `${node} ${bin} --help` },
  { name: 'assay runs ls (4 runs)', command: `${node} ${bin} --store ${small} runs ls` },
])
// hyperfine -N sends stdout to /dev/null, so the table of a million rows is formatted and written but not kept.
const metrics = hyperfine([
  { name: 'raw SQLite read (reference)', command: `${node} ${path.join(here, 'cli', 'raw-metric-read.mjs')} ${big} ${run.id} train/loss` },
  { name: 'runs metrics --no-table (read + chart)', command: `${node} ${bin} --store ${big} runs metrics ${run.id} train/loss --no-table` },
  { name: 'runs metrics (chart + table of every point)', command: `${node} ${bin} --store ${big} runs metrics ${run.id} train/loss` },
  { name: 'runs metrics --json', command: `${node} ${bin} --store ${big} runs metrics ${run.id} train/loss --json` },
])
const loadAfter = os.loadavg()
fs.rmSync(work, { recursive: true, force: true })

const ms = (s: number): string => (s * 1000).toFixed(0)
const row = (m: Measured, reference: Measured, target?: string): string =>
  `| ${m.name} | ${ms(m.median)} | ${ms(m.mean)} ± ${ms(m.stddev)} | ${ms(m.min)}–${ms(m.max)} | ${(m.median / reference.median).toFixed(2)}× | ${ms(m.cpu)} | ${(m.cpu / reference.cpu).toFixed(2)}× | ${target ?? ''} |`
const [nodeFloor] = startup
const [raw] = metrics
const within = (m: Measured, limit: number): string => `≤ ${limit}× node -e 0: **${m.median / nodeFloor.median <= limit ? 'met' : 'not met'}**`
const underSecond = (m: Measured): string => `< 1 s: **${m.median < 1 ? 'met' : 'not met'}**`
const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' / ')

const text = `# CLI: start-up and metric history

Generated by \`npm run build && node --import tsx bench/cli.ts --runs ${RUNS}\` on ${new Date().toISOString()}.
hyperfine -N, 3 warm-up runs and ${RUNS} timed runs per command, every run a fresh process of the
built CLI (\`node bin/assay.js\`); the references ran in the same hyperfine invocation, side by
side with what they are compared to. Times in milliseconds: wall clock (the targets are on the
ratio of medians), and CPU, the mean user + system time, which other work on a shared machine
moves less.

## Machine

- nproc: ${os.cpus().length}; cpu: ${os.cpus()[0]?.model ?? '?'}; node: ${process.version}; ${os.type()} ${os.release()}
- load average (1/5/15 min) before: ${load(loadBefore)}, after: ${load(loadAfter)} (the machine is shared; other work was running)

## Start-up

Each command loads only its own code (src/cli/main.ts): \`--version\` and \`--help\` load no
command, \`runs ls\` loads the runs command, the SDK and the SQLite store, not the statistics,
gates, YAML parser, PostgreSQL driver or server.

| command | median | mean ± sd | min–max | ratio to node -e 0 | CPU | CPU ratio | target |
|---|---:|---:|---:|---:|---:|---:|---|
${startup.map((m, i) => row(m, nodeFloor, i === 1 || i === 3 ? within(m, 2.5) : undefined)).join('\n')}

## \`assay runs metrics\` on ${POINTS.toLocaleString('en-US')} points of one metric

| command | median | mean ± sd | min–max | ratio to raw read | CPU | CPU ratio | target |
|---|---:|---:|---:|---:|---:|---:|---|
${metrics.map((m, i) => row(m, raw, i === 1 ? underSecond(m) : undefined)).join('\n')}
`
fs.writeFileSync(resultsFile, text)
process.stdout.write(text)
