import { Command } from 'commander'
import type { Writable } from 'node:stream'
import type { RunRecord } from '../record/types.js'
import { AssayError } from '../errors.js'
import { renderTerminalChart } from '../report/terminal-chart.js'
import { closestFirst } from '../store/run-filter.js'
import { commandLine, type CliContext } from './context.js'
import { formatNumber } from '../number-format.js'
import { formatTime, PAGE_OPTIONS, parseNumberOption, parsePageOptions, toJson, writeJson, writeNextPage, writeTable } from './output.js'

export function runsCommand(ctx: CliContext): Command {
  const command = new Command('runs')

  command
    .command('ls')
    .description('list runs, oldest first unless --order-by says otherwise')
    .option('-e, --experiment <name>', 'only runs of this experiment')
    .option('-f, --filter <expression>', "filter, e.g. \"params.lr > 0.01 and metrics.acc >= 0.8\" (docs/cli.md)")
    .option('--order-by <order>', "start_time, end_time, name, params.KEY or metrics.KEY, then asc or desc, e.g. \"metrics.acc desc\"")
    .option(...PAGE_OPTIONS.limit)
    .option(...PAGE_OPTIONS.cursor)
    .option('--json', 'print JSON (schema assay.runs/v1)')
    .action(async (options: { experiment?: string; filter?: string; orderBy?: string; limit?: string; cursor?: string; json?: boolean }, self: Command) => {
      const page = parsePageOptions(options)
      const query = { experiment: options.experiment, filter: options.filter, orderBy: options.orderBy }
      const { runs, nextCursor } = await ctx.withAssay(self, async (assay) =>
        page !== null ? assay.listRunsPage({ ...query, ...page }) : { runs: await assay.listRuns(query), nextCursor: null },
      )
      if (options.json) return writeJson(ctx.io, 'assay.runs/v1', { runs, nextCursor })
      writeNextPage(ctx.io, 'runs', [commandLine(self), ['--experiment', options.experiment], ['--filter', options.filter], ['--order-by', options.orderBy], ['--limit', options.limit]], nextCursor)
      const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort().slice(0, 4)
      writeTable(
        ctx.io,
        ['RUN', 'EXPERIMENT', 'NAME', 'STATUS', 'SEED', 'STARTED', ...metricKeys.map((k) => k.toUpperCase())],
        runs.map((r) => [r.id.slice(0, 8), r.experiment, r.name, r.status, String(r.seed), formatTime(r.startTime), ...metricKeys.map((k) => formatNumber(r.metrics[k]))]),
      )
    })

  command
    .command('show')
    .description('the whole record of a run')
    .argument('<run>', 'run id or unique prefix')
    .option('--json', 'print JSON (schema assay.run/v1)')
    .action(async (runId: string, options: { json?: boolean }, self: Command) => {
      const run = await ctx.withAssay(self, (assay) => assay.getRun(runId))
      if (options.json) return writeJson(ctx.io, 'assay.run/v1', { run })
      ctx.io.out.write(describeRun(run))
    })

  command
    .command('metrics')
    .description('the history of metrics (step, value, time): a chart per key and the points as a table')
    .argument('<run>', 'run id or unique prefix')
    .argument('[keys...]', 'metric keys (default: every metric of the run)')
    .option('--no-chart', 'leave out the charts')
    .option('--no-table', 'leave out the tables of points')
    .option('--width <columns>', 'chart width in columns', '60')
    .option('--json', 'print JSON (schema assay.metric-history/v1)')
    .action(async (runId: string, keys: string[], options: { chart: boolean; table: boolean; width: string; json?: boolean }, self: Command) => {
      const width = parseNumberOption(options.width, '--width', (n) => Number.isInteger(n) && n >= 1 && n <= 1000, 'an integer from 1 to 1000')
      const { run, series } = await ctx.withAssay(self, async (assay) => {
        const run = await assay.getRun(runId)
        const known = run.metrics.map((m) => m.key)
        for (const key of keys) {
          if (known.includes(key)) continue
          const closest = closestFirst(key, known)
          throw new AssayError('ASSAY_METRIC_NOT_FOUND', `run ${run.id} has no metric ${JSON.stringify(key)}; ${known.length === 0 ? 'it logged no metrics' : `its metrics, closest first: ${closest.slice(0, 10).join(', ')}`}`, { runId: run.id, key, known: closest })
        }
        const chosen = keys.length > 0 ? [...new Set(keys)] : known
        return { run, series: await Promise.all(chosen.map(async (key) => ({ key, ...(await assay.metricSeries(run.id, key)) }))) }
      })
      if (options.json) return writeJson(ctx.io, 'assay.metric-history/v1', { runId: run.id, metrics: series.map(({ key, steps, values, timestamps }) => ({ key, steps, values, timestamps })) })
      const out = ctx.io.out
      for (const [i, { key, steps, values, timestamps }] of series.entries()) {
        const summary = run.metrics.find((m) => m.key === key)
        out.write(`${i === 0 ? '' : '\n'}${key}: ${values.length} points, steps ${formatNumber(steps[0])}–${formatNumber(steps[steps.length - 1])}, last ${formatNumber(summary?.last)}, min ${formatNumber(summary?.min)}, max ${formatNumber(summary?.max)}\n`)
        if (options.chart && values.length > 0) out.write(renderTerminalChart(steps, values, { width, format: (v) => formatNumber(v) }))
        if (options.table) writePoints(out, steps, values, timestamps)
      }
    })

  command
    .command('diff')
    .description('which parts of two runs\' envelopes differ, and how')
    .argument('<a>', 'run id or prefix')
    .argument('<b>', 'run id or prefix')
    .option('--json', 'print JSON (schema assay.run-diff/v1)')
    .action(async (a: string, b: string, options: { json?: boolean }, self: Command) => {
      const { diffRuns } = await import('../record/run-diff.js')
      const diff = await ctx.withAssay(self, async (assay) => diffRuns(await assay.getRun(a), await assay.getRun(b)))
      if (options.json) return writeJson(ctx.io, 'assay.run-diff/v1', { diff })
      const out = ctx.io.out
      out.write(`a: ${diff.a}\nb: ${diff.b}\n`)
      out.write(diff.replicates ? 'same config fingerprint: these runs are replicates (they may differ by seed and hardware)\n' : 'different config fingerprint: these runs are not replicates\n')
      for (const part of diff.parts) {
        out.write(`\n${part.part}: ${part.same ? 'same' : 'DIFFERENT'}${part.inConfig ? '' : ' (not part of the config fingerprint)'}\n`)
        for (const change of part.changes) out.write(`  ${change.field}: ${toJson(change.a)} -> ${toJson(change.b)}\n`)
      }
      if (diff.metrics.length > 0) {
        out.write('\nmetrics (last values):\n')
        for (const change of diff.metrics) out.write(`  ${change.field}: ${formatNumber(change.a as number)} -> ${formatNumber(change.b as number)}\n`)
      }
    })
  return command
}

/** STEP VALUE TIME rows, written in blocks: a million points in one string would be hundreds of MB of small writes. */
function writePoints(out: Writable, steps: Float64Array, values: Float64Array, timestamps: Float64Array): void {
  const stepWidth = Math.max(4, ...[steps[0], steps[steps.length - 1]].filter((s) => s !== undefined).map((s) => formatNumber(s).length))
  let block = `${'STEP'.padEnd(stepWidth)}  ${'VALUE'.padEnd(12)}  TIME\n`
  // Points come many to a second: format each second once.
  let second = Number.NaN
  let time = ''
  for (let i = 0; i < values.length; i++) {
    if (Math.floor(timestamps[i] / 1000) !== second) {
      second = Math.floor(timestamps[i] / 1000)
      time = formatTime(timestamps[i])
    }
    block += `${formatNumber(steps[i]).padEnd(stepWidth)}  ${formatNumber(values[i], 8).padEnd(12)}  ${time}\n`
    if (block.length > 1 << 16) {
      out.write(block)
      block = ''
    }
  }
  out.write(block)
}

function describeRun(run: RunRecord): string {
  const lines: string[] = []
  const add = (label: string, value: string): void => void lines.push(`${label.padEnd(14)}${value}`)
  add('run', run.id)
  add('name', run.name)
  add('experiment', run.experiment)
  add('owner', run.owner)
  add('status', run.status)
  add('started', formatTime(run.startTime))
  add('ended', formatTime(run.endTime))
  add('seed', `${run.seed} (${run.seedSource === 'drawn' ? 'drawn by assay' : 'given'})`)
  if (run.parentId) add('parent', run.parentId)
  if (run.groupId) add('group', run.groupId)
  lines.push('', 'params')
  for (const [k, v] of Object.entries(run.params)) lines.push(`  ${k} = ${JSON.stringify(v)}`)
  lines.push('', 'code')
  if (run.code.vcs === null) lines.push(`  none: ${run.code.reason}`)
  else {
    lines.push(`  commit ${run.code.commit} on ${run.code.branch ?? '(detached)'}${run.code.remote ? ` from ${run.code.remote}` : ''}`)
    lines.push(`  ${run.code.dirty ? `dirty: diff sha256 ${run.code.diffSha256 ?? '(only untracked files)'}${run.code.diffArtifact ? `, kept as artifact ${run.code.diffArtifact}` : ''}` : 'clean'}`)
  }
  lines.push('', 'datasets')
  for (const d of run.datasets) {
    lines.push(`  ${d.name} (${d.role}) sha256 ${d.sha256} ${d.sizeBytes} bytes${d.rows === null ? '' : `, ${d.rows} rows`}${d.columns ? `, columns ${d.columns.join(',')}` : ''}`)
  }
  const e = run.environment
  lines.push('', 'environment')
  lines.push(`  ${e.runtime} ${e.runtimeVersion} on ${e.os} ${e.osRelease} ${e.arch}; ${e.cpuCount} × ${e.cpuModel}; ${(e.memoryBytes / 2 ** 30).toFixed(1)} GiB; GPU ${e.gpu?.join(', ') ?? 'none'}`)
  lines.push(`  host ${e.hostname}; command ${e.argv.join(' ')}`)
  if (e.lockfile) lines.push(`  lockfile ${e.lockfile.path} sha256 ${e.lockfile.sha256}`)
  lines.push('', 'metrics (last / min / max / points)')
  for (const m of run.metrics) lines.push(`  ${m.key}: ${formatNumber(m.last)} / ${formatNumber(m.min)} / ${formatNumber(m.max)} / ${m.count}`)
  if (run.evals.length > 0) {
    lines.push('', 'eval records')
    for (const s of run.evals) lines.push(`  ${s.dataset}: ${s.count} records, scores ${s.scoreNames.join(', ')} (dataset sha256 ${s.datasetSha256.slice(0, 16)}…)`)
  }
  if (run.artifacts.length > 0) {
    lines.push('', 'artifacts')
    for (const a of run.artifacts) lines.push(`  ${a.direction === 'produced' ? '->' : '<-'} ${a.name} sha256 ${a.sha256.slice(0, 16)}… ${a.sizeBytes} bytes`)
  }
  lines.push('', 'envelope')
  for (const [k, v] of Object.entries(run.envelope)) lines.push(`  ${k}: ${v}`)
  return `${lines.join('\n')}\n`
}
