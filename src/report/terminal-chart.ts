/**
 * A metric series as a small plot of block characters for the terminal (pure; `assay runs metrics`).
 * The steps are cut into `width` equal ranges and each column shows the mean of the finite values
 * in its range, filled up from the bottom in eighths of a row, so a loss curve reads at a glance
 * and a million points cost one pass.
 */
export interface ChartOptions {
  width?: number
  height?: number
  /** Formats the axis labels. */
  format?: (value: number) => string
}

const EIGHTHS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█']

export function renderTerminalChart(steps: ArrayLike<number>, values: ArrayLike<number>, options: ChartOptions = {}): string {
  const width = options.width ?? 60
  const height = options.height ?? 8
  const format = options.format ?? ((v: number) => String(v))
  const columns = columnMeans(steps, values, width)
  const finite = columns.filter((v): v is number => v !== null)
  if (finite.length === 0) return '  (no finite values to plot)\n'
  const low = Math.min(...finite)
  const high = Math.max(...finite)
  const span = high - low
  // Eighths of a row each column fills; a flat series sits at half height.
  const fill = columns.map((v) => (v === null ? null : span === 0 ? (height * 8) / 2 : 1 + Math.round(((v - low) / span) * (height * 8 - 1))))
  const labels = [format(high), format(low)]
  const labelWidth = Math.max(...labels.map((l) => l.length))
  const lines: string[] = []
  for (let row = height - 1; row >= 0; row--) {
    const label = row === height - 1 ? labels[0] : row === 0 ? labels[1] : ''
    const cells = fill.map((f) => (f === null ? ' ' : EIGHTHS[Math.max(0, Math.min(8, f - row * 8))])).join('')
    lines.push(`  ${label.padStart(labelWidth)} ┤${cells}`)
  }
  const first = steps[0]
  const last = steps[steps.length - 1]
  const axis = `step ${first}`
  lines.push(`  ${' '.repeat(labelWidth)} └${'─'.repeat(fill.length)}`)
  lines.push(`  ${' '.repeat(labelWidth)}  ${axis}${`${last}`.padStart(Math.max(fill.length - axis.length, String(last).length + 1))}`)
  return `${lines.join('\n')}\n`
}

/** The mean of the finite values in each of `width` equal step ranges (null: none); fewer columns when there are fewer points. */
function columnMeans(steps: ArrayLike<number>, values: ArrayLike<number>, width: number): (number | null)[] {
  const n = values.length
  if (n === 0) return []
  const columns = Math.max(1, Math.min(width, n))
  const first = steps[0]
  const range = steps[n - 1] - first
  const sums = new Float64Array(columns)
  const counts = new Float64Array(columns)
  for (let i = 0; i < n; i++) {
    const v = values[i]
    if (!Number.isFinite(v)) continue
    // Steps are in order; equal ranges of steps, or of positions when every step is the same.
    const at = range > 0 ? (steps[i] - first) / range : n === 1 ? 0 : i / (n - 1)
    const c = Math.min(columns - 1, Math.floor(at * columns))
    sums[c] += v
    counts[c]++
  }
  return Array.from(sums, (s, c) => (counts[c] === 0 ? null : s / counts[c]))
}
