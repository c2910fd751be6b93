import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import type { MetricBand } from '../compare/run-group-types.js'
import { fmt, num } from './api.js'
import { LEGEND_NAMES_ONLY, type MetricBuckets } from './chart.js'

/** Line colours with at least 4.5:1 contrast on white; a group's band is its colour, translucent. */
const COLOURS = ['#1f4e99', '#a3321f', '#2e6b30', '#7a2e8c', '#8a5a00', '#00667a', '#5a5a5a', '#b0245e']

export interface ChartedRun {
  id: string
  label: string
  buckets: MetricBuckets
}

export interface ChartedBand {
  label: string
  band: MetricBand
}

export function colourOf(i: number): string {
  return COLOURS[i % COLOURS.length] as string
}

function translucent(hex: string): string {
  const n = Number.parseInt(hex.slice(1), 16)
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, 0.18)`
}

/**
 * Several runs and groups of one metric on one chart: a run as its line (the max and min of
 * each bucket where the server bucketed it, so spikes stay), a group as its mean with its
 * interval as a band. uPlot.join aligns the series on the union of their steps.
 */
export function OverlayChart({ metric, runs, bands, width = 720, height = 280 }: { metric: string; runs: ChartedRun[]; bands: ChartedBand[]; width?: number; height?: number }) {
  const host = useRef<HTMLDivElement>(null)
  useEffect(() => {
    if (host.current === null) return
    const tables: uPlot.AlignedData[] = []
    const series: uPlot.Series[] = [{ label: 'step' }]
    const fills: uPlot.Band[] = []
    let column = 1
    runs.forEach((run, i) => {
      const colour = colourOf(i)
      const steps = run.buckets.steps.map(num)
      const max = run.buckets.max.map((v) => (v === null ? null : num(v)))
      if (run.buckets.points > run.buckets.steps.length) {
        tables.push([steps, max, run.buckets.min.map((v) => (v === null ? null : num(v)))] as uPlot.AlignedData)
        series.push({ label: `${run.label} max`, stroke: colour, width: 1.5, spanGaps: true }, { label: `${run.label} min`, stroke: colour, width: 1, dash: [4, 3], spanGaps: true })
        column += 2
      } else {
        tables.push([steps, max] as uPlot.AlignedData)
        series.push({ label: run.label, stroke: colour, width: 1.5, spanGaps: true })
        column += 1
      }
    })
    bands.forEach((g, j) => {
      const colour = colourOf(runs.length + j)
      tables.push([g.band.steps, g.band.mean, g.band.upper, g.band.lower] as uPlot.AlignedData)
      series.push(
        { label: `${g.label} mean`, stroke: colour, width: 2, spanGaps: true },
        { label: `${g.label} upper`, stroke: colour, width: 0.5, spanGaps: true },
        { label: `${g.label} lower`, stroke: colour, width: 0.5, spanGaps: true },
      )
      fills.push({ series: [column + 1, column + 2], fill: translucent(colour) })
      column += 3
    })
    const plot = new uPlot(
      {
        width,
        height,
        scales: { x: { time: false } },
        cursor: LEGEND_NAMES_ONLY,
        axes: [{ label: 'step' }, { values: (_u, ticks) => ticks.map((t) => fmt(t, 3)) }],
        series,
        bands: fills,
      },
      uPlot.join(tables),
      host.current,
    )
    return () => plot.destroy()
  }, [metric, runs, bands, width, height])
  const described = [...runs.map((r) => `run ${r.label} (${r.buckets.points} points)`), ...bands.map((b) => `group ${b.label} as its mean with a ${Math.round(b.band.confidenceLevel * 100)}% band over ${b.band.runIds.length} runs`)].join('; ')
  return <div ref={host} role="img" aria-label={`chart of ${metric}: ${described}`} data-metric={metric} data-bands={bands.length} />
}
