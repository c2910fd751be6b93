/**
 * Store throughput: metric points and eval records through the public SDK into the embedded
 * SQLite store, against a raw better-sqlite3 reference.
 *
 *   node --import tsx bench/store-throughput.ts [--reps 5] [--n 1000000] [--only name,name] [--no-write]
 *
 * Each repetition of each scenario is a fresh process (bench/store/scenario.ts) run under
 * /usr/bin/time -v, so "Maximum resident set size" is that scenario's peak alone. Repetitions are
 * interleaved (rep 1 of every scenario, then rep 2, ...) so machine noise spreads evenly; the
 * table reports medians. Writes bench/results/store.md, keeping anything below its notes marker.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '..')
const scenarioScript = path.join(here, 'store', 'scenario.ts')
const resultsFile = path.join(here, 'results', 'store.md')
const NOTES_MARKER = '<!-- notes: text below this line is kept when the benchmark rewrites this file -->'
const TIME = '/usr/bin/time'
/** The targets are stated for this many items. */
const TARGET_N = 1_000_000

interface Scenario {
  name: string
  what: string
  /** Raw reference it is compared with. */
  reference?: string
  /** Target in seconds, if the scenario has one. */
  target?: number
  /** Reads a store written once by prepare-read (instead of a fresh directory per repetition). */
  reads?: boolean
}

const SCENARIOS: Scenario[] = [
  { name: 'sdk-metrics', what: '`await run.log({ loss }, { step })` ×N, then `await run.flush()`', reference: 'raw-metrics', target: 3 },
  { name: 'sdk-metrics-4keys', what: '`await run.log({ 4 keys }, { step })` ×N/4, then flush', reference: 'raw-metrics' },
  { name: 'raw-metrics', what: 'raw: N prepared INSERTs (run_id, key, step, value, ts), one transaction' },
  { name: 'sdk-eval-write', what: '`await run.logEval({ dataset, records })` of N records built beforehand, then flush', reference: 'raw-eval-write', target: 3 },
  { name: 'raw-eval-write', what: 'raw: N prepared INSERTs of the same records (8 columns), one transaction' },
  { name: 'sdk-eval-read-records', what: '`assay.evalRecords(id, dataset)`: N records as objects', reference: 'raw-eval-read', target: 1, reads: true },
  { name: 'sdk-eval-read-columns', what: '`assay.evalColumns(id, dataset)`: N records as float64 columns', reference: 'raw-eval-read', reads: true },
  { name: 'raw-eval-read', what: 'raw: `SELECT` of the N rows with `.all()` (objects)', reads: true },
]

interface Sample {
  seconds: number
  rssBeforeMb: number
  peakRssMb: number
  extra?: Record<string, unknown>
}

function parseArgs(argv: string[]): { reps: number; n: number; only: Set<string> | null; write: boolean } {
  const options = { reps: 5, n: 1_000_000, only: null as Set<string> | null, write: true }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--reps') options.reps = Number(argv[++i])
    else if (arg === '--n') options.n = Number(argv[++i])
    else if (arg === '--only') options.only = new Set(argv[++i].split(','))
    else if (arg === '--no-write') options.write = false
    else throw new Error(`unknown argument ${arg}`)
  }
  if (!Number.isInteger(options.reps) || options.reps < 1) throw new Error('--reps must be a positive integer')
  if (!Number.isInteger(options.n) || options.n < 4 || options.n % 4 !== 0) throw new Error('--n must be a positive multiple of 4')
  return options
}

const tsxLoader = import.meta.resolve('tsx')
const haveTime = fs.existsSync(TIME)

function runScenario(name: string, dir: string, n: number): Sample {
  const nodeArgs = ['--import', tsxLoader, scenarioScript, name, dir, String(n)]
  const child = haveTime
    ? spawnSync(TIME, ['-v', process.execPath, ...nodeArgs], { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    : spawnSync(process.execPath, nodeArgs, { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (child.status !== 0) throw new Error(`scenario ${name} failed (exit ${child.status}):\n${child.stdout}\n${child.stderr}`)
  const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '))
  if (line === undefined) throw new Error(`scenario ${name} printed no RESULT line:\n${child.stdout}`)
  const result = JSON.parse(line.slice(7)) as { seconds: number; rssBeforeMb: number; maxRssMbSelf: number; extra?: Record<string, unknown> }
  let peakRssMb = result.maxRssMbSelf
  if (haveTime) {
    const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(child.stderr)
    if (match === null) throw new Error(`no "Maximum resident set size" in the output of ${TIME} -v:\n${child.stderr}`)
    peakRssMb = Number(match[1]) / 1024
  }
  return { seconds: result.seconds, rssBeforeMb: result.rssBeforeMb, peakRssMb, extra: result.extra }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `assay-bench-${label}-`))
}

function fsType(dir: string): string {
  const out = spawnSync('df', ['--output=fstype', dir], { encoding: 'utf8' })
  return out.status === 0 ? (out.stdout.trim().split('\n').at(-1) ?? 'unknown').trim() : 'unknown'
}

function machine(): Record<string, string> {
  const db = new Database(':memory:')
  const sqlite = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v
  db.close()
  const betterSqlite = (JSON.parse(fs.readFileSync(path.join(repo, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string }).version
  return {
    nproc: String(os.availableParallelism()),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memory: `${Math.round(os.totalmem() / 1024 ** 3)} GiB`,
    node: process.version,
    'better-sqlite3': betterSqlite,
    sqlite,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    'store directory': `${os.tmpdir()} (${fsType(os.tmpdir())})`,
  }
}

const fmt = (x: number, digits = 3): string => x.toFixed(digits)

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  const selected = SCENARIOS.filter((s) => options.only === null || options.only.has(s.name))
  const { n, reps } = options
  const info = machine()
  const loadBefore = os.loadavg()
  const startedAt = new Date()
  console.log(`store throughput: N = ${n}, ${reps} repetitions, ${haveTime ? `${TIME} -v` : 'process.resourceUsage().maxRSS'} for peak RSS`)

  let readDir: string | null = null
  if (selected.some((s) => s.reads)) {
    readDir = tempDir('read')
    console.log(`preparing ${n} eval records for the read scenarios in ${readDir}`)
    runScenario('prepare-read', readDir, n)
  }

  const samples = new Map<string, Sample[]>(selected.map((s) => [s.name, []]))
  try {
    for (let rep = 1; rep <= reps; rep++) {
      for (const scenario of selected) {
        const dir = scenario.reads ? (readDir as string) : tempDir(scenario.name)
        try {
          const sample = runScenario(scenario.name, dir, n)
          samples.get(scenario.name)?.push(sample)
          console.log(`rep ${rep}/${reps} ${scenario.name.padEnd(22)} ${fmt(sample.seconds)} s  peak RSS ${fmt(sample.peakRssMb, 0)} MB`)
        } finally {
          if (!scenario.reads) fs.rmSync(dir, { recursive: true, force: true })
        }
      }
    }
  } finally {
    if (readDir !== null) fs.rmSync(readDir, { recursive: true, force: true })
  }
  const loadAfter = os.loadavg()

  const medians = new Map([...samples].map(([name, list]) => [name, median(list.map((s) => s.seconds))]))
  const rows = selected.map((scenario) => {
    const list = samples.get(scenario.name) as Sample[]
    const seconds = list.map((s) => s.seconds)
    const med = medians.get(scenario.name) as number
    const ref = scenario.reference === undefined ? undefined : medians.get(scenario.reference)
    const build = list.map((s) => s.extra?.buildSeconds).filter((b): b is number => typeof b === 'number')
    return {
      scenario,
      med,
      min: Math.min(...seconds),
      max: Math.max(...seconds),
      rate: n / med / 1e6,
      peak: median(list.map((s) => s.peakRssMb)),
      peakMax: Math.max(...list.map((s) => s.peakRssMb)),
      before: median(list.map((s) => s.rssBeforeMb)),
      ratio: ref === undefined ? '' : `${fmt(med / ref, 2)}× ${scenario.reference}`,
      target:
        scenario.target === undefined
          ? ''
          : n === TARGET_N
            ? `≤ ${scenario.target} s: ${med <= scenario.target ? '**met**' : '**NOT met**'}`
            : `n/a (targets are for N = ${TARGET_N.toLocaleString('en-US')})`,
      build: build.length > 0 ? median(build) : undefined,
    }
  })

  const table = [
    '| scenario | what is timed | median s | min–max s | M items/s | peak RSS MB (median, max) | RSS before timed section MB | ratio to raw | target |',
    '|---|---|---:|---:|---:|---:|---:|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.scenario.name} | ${r.scenario.what} | ${fmt(r.med)} | ${fmt(r.min)}–${fmt(r.max)} | ${fmt(r.rate, 2)} | ${fmt(r.peak, 0)}, ${fmt(r.peakMax, 0)} | ${fmt(r.before, 0)} | ${r.ratio} | ${r.target} |`,
    ),
  ].join('\n')
  const buildNote = rows
    .filter((r) => r.build !== undefined)
    .map((r) => `- ${r.scenario.name}: building the ${n} record objects took a median ${fmt(r.build as number)} s before the clock started (not included).`)
    .join('\n')

  const generated = `# Store throughput (embedded SQLite)

Generated by \`node --import tsx bench/store-throughput.ts${process.argv.slice(2).length > 0 ? ` ${process.argv.slice(2).join(' ')}` : ''}\` on ${startedAt.toISOString()}.
N = ${n.toLocaleString('en-US')} items per scenario, ${reps} repetitions each, every repetition in its own process; figures are medians.

## Machine

${Object.entries(info)
  .map(([k, v]) => `- ${k}: ${v}`)
  .join('\n')}
- load average (1/5/15 min) before: ${loadBefore.map((x) => x.toFixed(2)).join(' / ')}, after: ${loadAfter.map((x) => x.toFixed(2)).join(' / ')} (the machine is shared; other work was running)

## Results

${table}

- Time is wall-clock (\`performance.now()\`) around the timed section only; process start, opening the store and \`startRun\` are outside it.
- Peak RSS is "Maximum resident set size" from \`${haveTime ? `${TIME} -v` : 'process.resourceUsage().maxRSS'}\` for the whole scenario process, so it includes the inputs built in memory before the clock started (for the eval write scenarios: ${n.toLocaleString('en-US')} record objects); "RSS before timed section" shows that baseline.
- Eval records: \`{ id: 'q-0000123', cluster: 'topic-123', scores: { exact, f1 }, latencyMs, tokens, cost }\`, built in memory before timing; the SDK writes them in one \`logEval\` call (stored as chunks of 50,000).
- Metric points: one key per call (\`sdk-metrics\`, the target) and four keys per call (\`sdk-metrics-4keys\`); every \`run.log\` is awaited. Values are read back and counted (run summary) after the clock stops.
- Raw references use the same pragmas as the store (WAL, synchronous=NORMAL), a prepared statement and one transaction; the read reference is one \`SELECT ... WHERE run_id = ?\` returning row objects.
${buildNote}
`

  console.log(`\n${table}`)
  if (options.write) {
    const previous = fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, 'utf8') : ''
    const at = previous.indexOf(NOTES_MARKER)
    const notes = at >= 0 ? previous.slice(at) : `${NOTES_MARKER}\n`
    fs.mkdirSync(path.dirname(resultsFile), { recursive: true })
    fs.writeFileSync(resultsFile, `${generated}\n${notes}`)
    console.log(`\nwrote ${path.relative(repo, resultsFile)}`)
  }
}

await main()
