import { formatNumber } from '../number-format.js'
import { mean } from '../stats/index.js'

/**
 * Plots as hand-written SVG strings: no plotting dependency, no external reference. Every figure
 * carries its provenance (run ids, dataset hashes, seeds, assay version) both as visible text at its
 * foot and, complete, in its <desc>, so a copied figure can be traced back. Every user string is
 * escaped. Pure: data in, a string out.
 */

export interface FigureProvenance {
  assayVersion: string
  runIds: readonly string[]
  datasets: readonly { name: string; sha256: string }[]
  seeds: readonly { runId: string; seed: number }[]
}

/** Escape text for XML/HTML content and attribute values. */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)
}

const FONT = "font-family='system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif'"
const WIDTH = 760

/** One or two short lines naming what the figure was computed from. */
export function provenanceLines(p: FigureProvenance): string[] {
  const shown = p.runIds.slice(0, 6).map((id) => id.slice(0, 8))
  const more = p.runIds.length > shown.length ? ` (+${p.runIds.length - shown.length} more, listed in this figure's metadata)` : ''
  const seeds = [...new Set(p.seeds.map((s) => s.seed))]
  const seedText = seeds.length > 12 ? `${seeds.slice(0, 12).join(', ')}, …` : seeds.join(', ')
  const data = p.datasets.map((d) => `${d.name}@${d.sha256.slice(0, 12)}`).join(', ')
  return [`assay ${p.assayVersion} · runs ${shown.join(', ')}${more}`, `data ${data || 'none'} · seeds ${seedText || 'none'}`]
}

function svgOpen(height: number, title: string, p: FigureProvenance, kind: string): string {
  const desc = JSON.stringify({ figure: kind, assayVersion: p.assayVersion, runIds: p.runIds, datasets: p.datasets, seeds: p.seeds })
  return (
    `<svg xmlns='http://www.w3.org/2000/svg' class='assay-figure' data-figure='${escapeXml(kind)}' width='${WIDTH}' height='${height}' viewBox='0 0 ${WIDTH} ${height}' role='img'>` +
    `<title>${escapeXml(title)}</title><desc>${escapeXml(desc)}</desc>` +
    `<rect width='${WIDTH}' height='${height}' fill='#fff'/>` +
    `<text x='12' y='20' ${FONT} font-size='14' font-weight='600' fill='#111'>${escapeXml(title)}</text>`
  )
}

function svgClose(height: number, p: FigureProvenance): string {
  const [l1, l2] = provenanceLines(p)
  return (
    `<text x='12' y='${height - 20}' ${FONT} font-size='10' fill='#666'>${escapeXml(l1)}</text>` +
    `<text x='12' y='${height - 7}' ${FONT} font-size='10' fill='#666'>${escapeXml(l2)}</text></svg>`
  )
}

function text(x: number, y: number, s: string, opts: { size?: number; anchor?: 'start' | 'middle' | 'end'; fill?: string; weight?: string } = {}): string {
  return `<text x='${r(x)}' y='${r(y)}' ${FONT} font-size='${opts.size ?? 11}' text-anchor='${opts.anchor ?? 'start'}' fill='${opts.fill ?? '#222'}'${opts.weight ? ` font-weight='${opts.weight}'` : ''}>${escapeXml(s)}</text>`
}

function line(x1: number, y1: number, x2: number, y2: number, stroke = '#222', width = 1, dash?: string): string {
  return `<line x1='${r(x1)}' y1='${r(y1)}' x2='${r(x2)}' y2='${r(y2)}' stroke='${stroke}' stroke-width='${width}'${dash ? ` stroke-dasharray='${dash}'` : ''}/>`
}

function r(v: number): string {
  return (Math.round(v * 10) / 10).toString()
}

/** Nice axis ticks over [lo, hi]. */
function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo]
  const step0 = (hi - lo) / count
  const mag = 10 ** Math.floor(Math.log10(step0))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0
  const out: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v)
  return out
}

function axis(x0: number, x1: number, y: number, lo: number, hi: number, label: string): { svg: string; scale: (v: number) => number } {
  const scale = (v: number): number => x0 + ((v - lo) / (hi - lo || 1)) * (x1 - x0)
  let svg = line(x0, y, x1, y, '#444')
  for (const t of ticks(lo, hi)) svg += line(scale(t), y, scale(t), y + 4, '#444') + text(scale(t), y + 15, formatNumber(t, 3), { size: 10, anchor: 'middle' })
  svg += text((x0 + x1) / 2, y + 30, label, { size: 11, anchor: 'middle', fill: '#444' })
  return { svg, scale }
}

export interface ForestRow {
  label: string
  estimate: number
  ci: [number, number]
  /** Shown at the right, e.g. "p = 0.003 (Holm 0.02)". */
  note?: string
  emphasis?: boolean
}

/** Differences with their intervals, one row each, with a dashed line at zero (no difference). */
export function forestPlot(rows: readonly ForestRow[], opts: { title: string; xLabel: string; provenance: FigureProvenance }): string {
  const rowH = 22
  const top = 40
  const height = top + Math.max(1, rows.length) * rowH + 90
  const x0 = 230
  const x1 = WIDTH - 190
  const finite = rows.flatMap((row) => [row.ci[0], row.ci[1], row.estimate]).filter(Number.isFinite)
  let lo = Math.min(0, ...finite)
  let hi = Math.max(0, ...finite)
  if (!(hi > lo)) [lo, hi] = [lo - 1, hi + 1]
  const pad = (hi - lo) * 0.05
  lo -= pad
  hi += pad
  const yAxis = top + rows.length * rowH + 10
  const { svg: axisSvg, scale } = axis(x0, x1, yAxis, lo, hi, opts.xLabel)
  let body = line(scale(0), top - 6, scale(0), yAxis, '#999', 1, '4 3')
  rows.forEach((row, i) => {
    const y = top + i * rowH + rowH / 2
    if (i % 2 === 0) body += `<rect x='8' y='${r(y - rowH / 2)}' width='${WIDTH - 16}' height='${rowH}' fill='#f6f7f9'/>`
    body += text(12, y + 4, truncate(row.label, 34), { weight: row.emphasis ? '600' : undefined })
    const [a, b] = [Math.max(lo, row.ci[0]), Math.min(hi, row.ci[1])]
    if (Number.isFinite(a) && Number.isFinite(b)) body += line(scale(a), y, scale(b), y, '#1f5fa8', 2)
    if (Number.isFinite(row.estimate)) body += `<rect x='${r(scale(row.estimate) - 4)}' y='${r(y - 4)}' width='8' height='8' fill='${row.emphasis ? '#b3261e' : '#1f5fa8'}'/>`
    body += text(x1 + 10, y + 4, row.note ?? `${formatNumber(row.estimate)} [${formatNumber(row.ci[0])}, ${formatNumber(row.ci[1])}]`, { size: 10 })
  })
  return svgOpen(height, opts.title, opts.provenance, 'forest-plot') + body + axisSvg + svgClose(height, opts.provenance)
}

/** Histogram of per-example paired differences; bins with lo = hi are single values (drawn as bars at that value). */
export function differenceHistogram(bins: readonly { lo: number; hi: number; count: number }[], opts: { title: string; xLabel: string; provenance: FigureProvenance }): string {
  const height = 300
  const x0 = 60
  const x1 = WIDTH - 30
  const yTop = 40
  const yBase = 200
  const discrete = bins.every((b) => b.lo === b.hi)
  let lo = Math.min(0, ...bins.map((b) => b.lo))
  let hi = Math.max(0, ...bins.map((b) => b.hi))
  if (discrete) {
    const span = hi - lo || 1
    lo -= span * 0.15
    hi += span * 0.15
  }
  if (!(hi > lo)) [lo, hi] = [lo - 1, hi + 1]
  const maxCount = Math.max(1, ...bins.map((b) => b.count))
  const { svg: axisSvg, scale } = axis(x0, x1, yBase, lo, hi, opts.xLabel)
  let body = line(scale(0), yTop, scale(0), yBase, '#999', 1, '4 3')
  const barWidth = discrete ? Math.max(6, Math.min(40, (x1 - x0) / (bins.length * 3))) : 0
  for (const b of bins) {
    const h = ((yBase - yTop) * b.count) / maxCount
    const xa = discrete ? scale(b.lo) - barWidth / 2 : scale(b.lo)
    const w = discrete ? barWidth : Math.max(1, scale(b.hi) - scale(b.lo) - 1)
    const fill = b.hi < 0 || (discrete && b.lo < 0) ? '#b3261e' : b.lo > 0 ? '#1f7a3a' : '#8a8f98'
    body += `<rect x='${r(xa)}' y='${r(yBase - h)}' width='${r(w)}' height='${r(h)}' fill='${fill}'><title>${escapeXml(`${formatNumber(b.lo)}${b.hi !== b.lo ? ` to ${formatNumber(b.hi)}` : ''}: ${b.count}`)}</title></rect>`
    if (discrete) body += text(xa + w / 2, yBase - h - 4, String(b.count), { size: 10, anchor: 'middle' })
  }
  body += text(x0, yTop - 4, `max count ${maxCount}`, { size: 10, fill: '#666' })
  return svgOpen(height, opts.title, opts.provenance, 'paired-difference-histogram') + body + axisSvg + svgClose(height, opts.provenance)
}

export interface SeedGroup {
  label: string
  points: { value: number; seed: number; runId: string }[]
}

/** One row per group, one dot per seed (run), with the group mean as a vertical tick. */
export function seedStrip(groups: readonly SeedGroup[], opts: { title: string; xLabel: string; provenance: FigureProvenance }): string {
  const rowH = 30
  const top = 42
  const height = top + Math.max(1, groups.length) * rowH + 90
  const x0 = 230
  const x1 = WIDTH - 40
  const values = groups.flatMap((g) => g.points.map((p) => p.value)).filter(Number.isFinite)
  let lo = Math.min(...values)
  let hi = Math.max(...values)
  if (!(hi > lo)) [lo, hi] = [(lo || 0) - 1e-3, (hi || 0) + 1e-3]
  const pad = (hi - lo) * 0.08
  const yAxis = top + groups.length * rowH + 6
  const { svg: axisSvg, scale } = axis(x0, x1, yAxis, lo - pad, hi + pad, opts.xLabel)
  let body = ''
  groups.forEach((g, i) => {
    const y = top + i * rowH + rowH / 2
    if (i % 2 === 0) body += `<rect x='8' y='${r(y - rowH / 2)}' width='${WIDTH - 16}' height='${rowH}' fill='#f6f7f9'/>`
    body += text(12, y + 4, `${truncate(g.label, 30)} (${g.points.length} seed${g.points.length === 1 ? '' : 's'})`)
    const finite = g.points.filter((p) => Number.isFinite(p.value))
    finite.forEach((p, k) => {
      const jitter = ((k % 5) - 2) * 2.5
      body += `<circle cx='${r(scale(p.value))}' cy='${r(y + jitter)}' r='4' fill='#1f5fa8' fill-opacity='0.7'><title>${escapeXml(`seed ${p.seed}, run ${p.runId}: ${formatNumber(p.value)}`)}</title></circle>`
    })
    if (finite.length > 0) {
      const m = mean(finite.map((p) => p.value))
      body += line(scale(m), y - 9, scale(m), y + 9, '#b3261e', 2)
    }
  })
  return svgOpen(height, opts.title, opts.provenance, 'seed-spread') + body + axisSvg + svgClose(height, opts.provenance)
}

/**
 * Critical-difference diagram (Demšar 2006): an axis of average ranks (1 = best, at the left), each
 * system named and tied to its rank, a bar of length CD, and thick bars joining systems whose ranks
 * lie within CD of each other (not told apart).
 */
export function criticalDifferenceDiagram(
  systems: readonly { name: string; averageRank: number }[],
  opts: { title: string; criticalDifference: number; cliques: readonly (readonly number[])[]; provenance: FigureProvenance; subtitle?: string },
): string {
  const k = systems.length
  const half = Math.ceil(k / 2)
  const x0 = 190
  const x1 = WIDTH - 190
  const axisY = 80
  const cliqueTop = axisY + 18
  const labelsTop = cliqueTop + opts.cliques.length * 8 + 18
  const height = labelsTop + half * 20 + 70
  const scale = (rank: number): number => x0 + ((rank - 1) / Math.max(1, k - 1)) * (x1 - x0)
  let body = ''
  if (opts.subtitle) body += text(12, 36, opts.subtitle, { size: 10, fill: '#444' })
  // CD bar above the axis.
  const cdLen = scale(1 + opts.criticalDifference) - scale(1)
  body += `<g class='cd-bar'>${line(x0, 50, x0 + cdLen, 50, '#b3261e', 2)}${line(x0, 45, x0, 55, '#b3261e', 2)}${line(x0 + cdLen, 45, x0 + cdLen, 55, '#b3261e', 2)}${text(x0 + cdLen / 2, 43, `CD = ${formatNumber(opts.criticalDifference, 3)}`, { size: 11, anchor: 'middle', fill: '#b3261e' })}</g>`
  body += line(x0, axisY, x1, axisY, '#222', 1.5)
  for (let rank = 1; rank <= k; rank++) body += line(scale(rank), axisY - 5, scale(rank), axisY, '#222') + text(scale(rank), axisY - 8, String(rank), { size: 10, anchor: 'middle' })
  opts.cliques.forEach((c, i) => {
    const ranks = c.map((j) => systems[j]?.averageRank ?? NaN).filter(Number.isFinite)
    if (ranks.length < 2) return
    const y = cliqueTop + i * 8
    body += line(scale(Math.min(...ranks)) - 3, y, scale(Math.max(...ranks)) + 3, y, '#222', 4)
  })
  systems.forEach((s, i) => {
    const x = scale(s.averageRank)
    const left = i < half
    const y = labelsTop + (left ? i : k - 1 - i) * 20
    const xLabel = left ? x0 - 10 : x1 + 10
    body += `<path d='M${r(x)},${axisY} V${r(y)} H${r(xLabel)}' fill='none' stroke='#555' stroke-width='1'/>`
    body += text(left ? xLabel - 4 : xLabel + 4, y + 4, `${truncate(s.name, 22)} (${formatNumber(s.averageRank, 3)})`, { anchor: left ? 'end' : 'start', size: 11 })
  })
  return svgOpen(height, opts.title, opts.provenance, 'critical-difference') + body + svgClose(height, opts.provenance)
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`
}
