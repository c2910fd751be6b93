import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { renderTerminalChart } from '../../src/report/terminal-chart.js'

/** The plot's cells, top row first, one string per row. */
function cells(chart: string): string[] {
  return chart
    .split('\n')
    .filter((l) => l.includes('┤'))
    .map((l) => l.slice(l.indexOf('┤') + 1))
}

const column = (rows: string[], c: number): string => rows.map((r) => r[c]).join('')

describe('terminal chart of a metric series', () => {
  it('a falling loss curve fills its first column to the top and its last to one eighth', () => {
    const steps = Float64Array.from({ length: 1000 }, (_, i) => i)
    const values = Float64Array.from(steps, (s) => 2 * Math.exp(-s / 200) + 0.1)
    const chart = renderTerminalChart(steps, values, { width: 40, height: 6, format: (v) => v.toFixed(2) })
    const rows = cells(chart)
    assert.equal(rows.length, 6)
    assert.ok(rows.every((r) => r.length === 40))
    assert.equal(column(rows, 0), '█'.repeat(6))
    assert.equal(column(rows, 39), `${' '.repeat(5)}▁`)
    // Column heights never rise along a falling curve.
    const height = (c: number): number => column(rows, c).split('').reduce((sum, ch) => sum + ' ▁▂▃▄▅▆▇█'.indexOf(ch), 0)
    for (let c = 1; c < 40; c++) assert.ok(height(c) <= height(c - 1), `column ${c}`)
    // Axis labels: the highest and lowest column means, first and last step.
    const mean = (from: number, to: number): number => values.slice(from, to).reduce((a, b) => a + b, 0) / (to - from)
    assert.ok(chart.startsWith(`  ${mean(0, 25).toFixed(2)} ┤`), chart)
    assert.ok(chart.includes(`\n  ${mean(975, 1000).toFixed(2)} ┤`), chart)
    assert.match(chart, /step 0 +999\n$/)
  })

  it('columns are equal ranges of steps, not of points', () => {
    // Dense points at steps 0..9, one point at step 100: the gap shows as empty columns.
    const steps = Float64Array.from([...Array.from({ length: 10 }, (_, i) => i), 100])
    const values = Float64Array.from(steps, (s) => s)
    const rows = cells(renderTerminalChart(steps, values, { width: 10, height: 4 }))
    assert.notEqual(column(rows, 0).trim(), '')
    for (let c = 1; c < 9; c++) assert.equal(column(rows, c), '    ', `column ${c} has no steps`)
    assert.equal(column(rows, 9), '████')
  })

  it('NaN and infinite values leave gaps; a flat series sits at half height; nothing finite says so', () => {
    const steps = Float64Array.from([0, 1, 2, 3])
    const rows = cells(renderTerminalChart(steps, Float64Array.from([1, Number.NaN, Number.POSITIVE_INFINITY, 1]), { width: 4, height: 2 }))
    assert.equal(column(rows, 1), '  ')
    assert.equal(column(rows, 2), '  ')
    assert.equal(column(rows, 0), ' █')
    assert.equal(renderTerminalChart(steps, Float64Array.from([Number.NaN, Number.NaN, Number.NaN, Number.NaN])), '  (no finite values to plot)\n')
    assert.equal(cells(renderTerminalChart(Float64Array.from([5]), Float64Array.from([3]), { width: 60, height: 2 }))[0].length, 1, 'one column per point when there are fewer points')
  })
})
