import { useLayoutEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import type { WireNumber } from './api.js'
import { fmt, num } from './api.js'

/** The server's buckets of one metric (GET /api/v1/runs/:runId/metrics/buckets). */
export interface MetricBuckets {
  key: string
  points: number
  steps: WireNumber[]
  min: (WireNumber | null)[]
  max: (WireNumber | null)[]
  counts: number[]
  nonFinite: number[]
}

/**
 * uPlot's legend hides a series on a click, which no key can do (its rows are not focusable, and
 * they sit inside the chart's role="img"): the legend only names the lines here, and app.css drops
 * its pointer cursor. Every chart's numbers are in its caption.
 */
export const LEGEND_NAMES_ONLY: uPlot.Cursor = { bind: { click: () => null } }

/** The values drawn, from the lowest bucket minimum to the highest maximum (spikes included). */
function range(buckets: MetricBuckets): string {
  const lows = buckets.min.filter((v) => v !== null).map(num)
  const highs = buckets.max.filter((v) => v !== null).map(num)
  if (lows.length === 0) return ''
  return `; values from ${fmt(Math.min(...lows))} to ${fmt(Math.max(...highs))}`
}

/** One metric drawn as the min and max of each bucket: both lines meet where a bucket holds one point. */
export function MetricChart({ buckets, width = 560, height = 220 }: { buckets: MetricBuckets; width?: number; height?: number }) {
  const host = useRef<HTMLDivElement>(null)
  useLayoutEffect(() => {
    const element = host.current
    if (element === null) return
    const steps = buckets.steps.map(num)
    const min = buckets.min.map((v) => (v === null ? null : num(v)))
    const max = buckets.max.map((v) => (v === null ? null : num(v)))
    const downsampled = buckets.points > buckets.steps.length
    const plot = new uPlot(
      {
        width,
        height,
        title: undefined,
        scales: { x: { time: false } },
        cursor: LEGEND_NAMES_ONLY,
        // Once the first draw is on the canvas: a mark in the page's performance timeline (bench/ui.ts reads it) and data-drawn.
        hooks: {
          ready: [
            () => {
              performance.mark('assay:chart-drawn', { detail: buckets.key })
              element.setAttribute('data-drawn', '')
            },
          ],
        },
        axes: [{ label: 'step' }, { values: (_u, ticks) => ticks.map((t) => fmt(t, 3)) }],
        series: downsampled
          ? [{ label: 'step' }, { label: 'max per bucket', stroke: '#1f4e99', width: 1.5 }, { label: 'min per bucket', stroke: '#7a2e8c', width: 1.5 }]
          : [{ label: 'step' }, { label: buckets.key, stroke: '#1f4e99', width: 1.5 }],
      },
      (downsampled ? [steps, max, min] : [steps, max]) as uPlot.AlignedData,
      element,
    )
    return () => plot.destroy()
  }, [buckets, width, height])
  return (
    <figure class="chart">
      <div ref={host} role="img" aria-label={`chart of ${buckets.key}: ${buckets.points} points${buckets.points > buckets.steps.length ? `, drawn as min and max of ${buckets.steps.length} buckets` : ''}`} data-metric={buckets.key} />
      <figcaption>
        {buckets.key}: {buckets.points} points
        {buckets.points > buckets.steps.length ? `, min and max of ${buckets.steps.length} buckets` : ''}
        {range(buckets)}
        {buckets.nonFinite.some((n) => n > 0) ? `; ${buckets.nonFinite.reduce((a, b) => a + b, 0)} non-finite values not drawn` : ''}
      </figcaption>
    </figure>
  )
}
