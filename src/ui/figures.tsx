import type { ComponentChildren } from 'preact'
import { fmt, num, type WireNumber } from './api.js'

/**
 * The figures of the Compare and Leaderboard views as SVG drawn by Preact: a forest plot, the
 * paired-difference histogram and the critical-difference diagram, ported from the reports'
 * src/report/svg-plots.ts (the UI imports only types from src/). Each is an image with a title
 * for screen readers; the numbers behind it are also in a table beside it, with their runs.
 */

const WIDTH = 760

function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo]
  const step0 = (hi - lo) / count
  const mag = 10 ** Math.floor(Math.log10(step0))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0
  const out: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v)
  return out
}

function Axis({ x0, x1, y, lo, hi, label }: { x0: number; x1: number; y: number; lo: number; hi: number; label: string }) {
  const scale = (v: number): number => x0 + ((v - lo) / (hi - lo || 1)) * (x1 - x0)
  return (
    <g class="axis">
      <line x1={x0} y1={y} x2={x1} y2={y} stroke="#444" />
      {ticks(lo, hi).map((t) => (
        <g key={t}>
          <line x1={scale(t)} y1={y} x2={scale(t)} y2={y + 4} stroke="#444" />
          <text x={scale(t)} y={y + 15} font-size="10" text-anchor="middle" fill="#222">
            {fmt(t, 3)}
          </text>
        </g>
      ))}
      <text x={(x0 + x1) / 2} y={y + 30} font-size="11" text-anchor="middle" fill="#444">
        {label}
      </text>
    </g>
  )
}

function Figure({ kind, title, height, children }: { kind: string; title: string; height: number; children: ComponentChildren }) {
  return (
    <svg class="figure" data-figure={kind} width={WIDTH} height={height} viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={title}>
      <title>{title}</title>
      <rect width={WIDTH} height={height} fill="#fff" />
      <text x="12" y="20" font-size="14" font-weight="600" fill="#111">
        {title}
      </text>
      {children}
    </svg>
  )
}

export interface ForestRowView {
  label: string
  estimate: WireNumber
  ci: [WireNumber, WireNumber] | null
  emphasis?: boolean
  /** Shown at the right instead of "estimate [lo, hi]". */
  note?: string
}

/** Estimates with their intervals, one row each; a dashed line at `reference` (0 for differences). */
export function ForestPlot({ rows, title, xLabel, reference = 0 }: { rows: readonly ForestRowView[]; title: string; xLabel: string; reference?: number | null }) {
  const rowH = 22
  const top = 40
  const height = top + Math.max(1, rows.length) * rowH + 50
  const x0 = 250
  const x1 = WIDTH - 200
  const finite = rows.flatMap((r) => [num(r.estimate), ...(r.ci === null ? [] : [num(r.ci[0]), num(r.ci[1])])]).filter(Number.isFinite)
  if (reference !== null) finite.push(reference)
  let lo = Math.min(...finite)
  let hi = Math.max(...finite)
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [-1, 1]
  if (!(hi > lo)) [lo, hi] = [lo - 1, hi + 1]
  const pad = (hi - lo) * 0.05
  lo -= pad
  hi += pad
  const scale = (v: number): number => x0 + ((v - lo) / (hi - lo)) * (x1 - x0)
  const yAxis = top + rows.length * rowH + 6
  return (
    <Figure kind="forest-plot" title={title} height={height}>
      {reference !== null && <line x1={scale(reference)} y1={top - 6} x2={scale(reference)} y2={yAxis} stroke="#767676" stroke-dasharray="4 3" />}
      {rows.map((row, i) => {
        const y = top + i * rowH + rowH / 2
        const e = num(row.estimate)
        const ci = row.ci === null ? null : [Math.max(lo, num(row.ci[0])), Math.min(hi, num(row.ci[1]))]
        return (
          <g key={i} class="forest-row">
            {i % 2 === 0 && <rect x="8" y={y - rowH / 2} width={WIDTH - 16} height={rowH} fill="#f6f7f9" />}
            <text x="12" y={y + 4} font-size="11" fill="#111" font-weight={row.emphasis ? '600' : undefined}>
              {row.label.length > 38 ? `${row.label.slice(0, 37)}…` : row.label}
            </text>
            {ci !== null && Number.isFinite(ci[0]) && Number.isFinite(ci[1]) && <line class="interval" x1={scale(ci[0] as number)} y1={y} x2={scale(ci[1] as number)} y2={y} stroke="#1f5fa8" stroke-width="2" />}
            {Number.isFinite(e) && <rect class="estimate" x={scale(e) - 4} y={y - 4} width="8" height="8" fill={row.emphasis ? '#b3261e' : '#1f5fa8'} />}
            <text x={x1 + 10} y={y + 4} font-size="10" fill="#222">
              {row.note ?? `${fmt(row.estimate)}${row.ci === null ? '' : ` [${fmt(row.ci[0])}, ${fmt(row.ci[1])}]`}`}
            </text>
          </g>
        )
      })}
      <Axis x0={x0} x1={x1} y={yAxis} lo={lo} hi={hi} label={xLabel} />
    </Figure>
  )
}

export interface Bin {
  lo: WireNumber
  hi: WireNumber
  count: number
}

/** Counts of per-example differences; bins with lo = hi are single values, drawn as bars at that value with their count. */
export function DifferenceHistogram({ bins, title, xLabel }: { bins: readonly Bin[]; title: string; xLabel: string }) {
  const height = 260
  const x0 = 60
  const x1 = WIDTH - 30
  const yTop = 40
  const yBase = 200
  const b = bins.map((x) => ({ lo: num(x.lo), hi: num(x.hi), count: x.count }))
  const discrete = b.every((x) => x.lo === x.hi)
  let lo = Math.min(0, ...b.map((x) => x.lo))
  let hi = Math.max(0, ...b.map((x) => x.hi))
  if (discrete) {
    const span = hi - lo || 1
    lo -= span * 0.15
    hi += span * 0.15
  }
  if (!(hi > lo)) [lo, hi] = [lo - 1, hi + 1]
  const scale = (v: number): number => x0 + ((v - lo) / (hi - lo)) * (x1 - x0)
  const maxCount = Math.max(1, ...b.map((x) => x.count))
  const barWidth = discrete ? Math.max(6, Math.min(40, (x1 - x0) / (b.length * 3))) : 0
  return (
    <Figure kind="paired-difference-histogram" title={title} height={height}>
      <line x1={scale(0)} y1={yTop} x2={scale(0)} y2={yBase} stroke="#767676" stroke-dasharray="4 3" />
      <text x={x0} y={yTop - 4} font-size="10" fill="#4a4a4a">
        max count {maxCount}
      </text>
      {b.map((x, i) => {
        const h = ((yBase - yTop) * x.count) / maxCount
        const xa = discrete ? scale(x.lo) - barWidth / 2 : scale(x.lo)
        const w = discrete ? barWidth : Math.max(1, scale(x.hi) - scale(x.lo) - 1)
        const fill = x.hi < 0 || (discrete && x.lo < 0) ? '#b3261e' : x.lo > 0 ? '#1f7a3a' : '#6b7079'
        return (
          <g key={i}>
            <rect class="bin" data-count={x.count} x={xa} y={yBase - h} width={w} height={h} fill={fill}>
              <title>{`${fmt(x.lo)}${x.hi !== x.lo ? ` to ${fmt(x.hi)}` : ''}: ${x.count}`}</title>
            </rect>
            {discrete && (
              <text x={xa + w / 2} y={yBase - h - 4} font-size="10" text-anchor="middle" fill="#222">
                {x.count}
              </text>
            )}
          </g>
        )
      })}
      <Axis x0={x0} x1={x1} y={yBase} lo={lo} hi={hi} label={xLabel} />
    </Figure>
  )
}

/**
 * Critical-difference diagram (Demšar 2006): average ranks (1 = best, left), a bar of length CD,
 * and thick bars joining systems whose ranks lie within CD of each other.
 */
export function CriticalDifferenceDiagram({ systems, criticalDifference, cliques, title }: { systems: readonly { name: string; averageRank: number }[]; criticalDifference: number; cliques: readonly (readonly number[])[]; title: string }) {
  const k = systems.length
  const half = Math.ceil(k / 2)
  const x0 = 200
  const x1 = WIDTH - 200
  const axisY = 80
  const cliqueTop = axisY + 18
  const labelsTop = cliqueTop + cliques.length * 8 + 18
  const height = labelsTop + half * 20 + 20
  const scale = (rank: number): number => x0 + ((rank - 1) / Math.max(1, k - 1)) * (x1 - x0)
  const cdLen = scale(1 + criticalDifference) - scale(1)
  return (
    <Figure kind="critical-difference" title={title} height={height}>
      <g class="cd-bar">
        <line x1={x0} y1="50" x2={x0 + cdLen} y2="50" stroke="#b3261e" stroke-width="2" />
        <line x1={x0} y1="45" x2={x0} y2="55" stroke="#b3261e" stroke-width="2" />
        <line x1={x0 + cdLen} y1="45" x2={x0 + cdLen} y2="55" stroke="#b3261e" stroke-width="2" />
        <text x={x0 + cdLen / 2} y="43" font-size="11" text-anchor="middle" fill="#b3261e">
          CD = {fmt(criticalDifference, 3)}
        </text>
      </g>
      <line x1={x0} y1={axisY} x2={x1} y2={axisY} stroke="#222" stroke-width="1.5" />
      {Array.from({ length: k }, (_, i) => i + 1).map((rank) => (
        <g key={rank}>
          <line x1={scale(rank)} y1={axisY - 5} x2={scale(rank)} y2={axisY} stroke="#222" />
          <text x={scale(rank)} y={axisY - 8} font-size="10" text-anchor="middle" fill="#222">
            {rank}
          </text>
        </g>
      ))}
      {cliques.map((c, i) => {
        const ranks = c.map((j) => systems[j]?.averageRank ?? NaN).filter(Number.isFinite)
        if (ranks.length < 2) return null
        const y = cliqueTop + i * 8
        return <line key={i} class="clique" x1={scale(Math.min(...ranks)) - 3} y1={y} x2={scale(Math.max(...ranks)) + 3} y2={y} stroke="#222" stroke-width="4" />
      })}
      {systems.map((s, i) => {
        const x = scale(s.averageRank)
        const left = i < half
        const y = labelsTop + (left ? i : k - 1 - i) * 20
        const xLabel = left ? x0 - 10 : x1 + 10
        return (
          <g key={i} class="system">
            <path d={`M${x},${axisY} V${y} H${xLabel}`} fill="none" stroke="#555" stroke-width="1" />
            <text x={left ? xLabel - 4 : xLabel + 4} y={y + 4} font-size="11" text-anchor={left ? 'end' : 'start'} fill="#111">
              {`${s.name.length > 24 ? `${s.name.slice(0, 23)}…` : s.name} (${fmt(s.averageRank, 3)})`}
            </text>
          </g>
        )
      })}
    </Figure>
  )
}
