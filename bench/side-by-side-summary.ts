/**
 * The before/after table of bench/side-by-side.sh: medians over rounds of each figure, for the
 * base and the head checkout, and their ratio (head / base). Several OUT_DIRs (sessions of
 * side-by-side.sh) are summarised together: their rounds are pooled.
 *
 *   node --import tsx bench/side-by-side-summary.ts OUT_DIR [OUT_DIR ...]
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

const dirs = process.argv.slice(2)
if (dirs.length === 0) throw new Error('usage: side-by-side-summary.ts OUT_DIR [OUT_DIR ...]')

type Figures = Map<string, number>
/** What each benchmark's output says, as (figure name → value); `unit` tells which way is better. */
const parsers: Record<string, { unit: string; lowerIsBetter: boolean; parse(text: string): Figures }> = {
  store: {
    unit: 's',
    lowerIsBetter: true,
    parse: (text) => new Map([...text.matchAll(/^rep \d+\/\d+ (\S+)\s+([\d.]+) s/gm)].map((m) => [m[1], Number(m[2])])),
  },
  postgres: {
    unit: 'points/s',
    lowerIsBetter: false,
    parse: (text) => new Map([...text.matchAll(/^\| (\d+) \| ([^|]+) \| [\d,]+ \| ([\d,]+) \|$/gm)].map((m) => [`${m[1]} writers, ${m[2].trim()}`, Number(m[3].replace(/,/g, ''))])),
  },
  server: { unit: 'points/s', lowerIsBetter: false, parse: serverFigures },
  'server-sqlite': { unit: 'points/s', lowerIsBetter: false, parse: serverFigures },
  compare: {
    unit: 's',
    lowerIsBetter: true,
    parse: (text) => new Map([...text.matchAll(/total per comparison \(median of \d+\): ([\d.]+) s/g)].map((m) => ['assay.compare, 2 × 1,000,000 records', Number(m[1])])),
  },
  leaderboard: {
    unit: 'ms',
    lowerIsBetter: true,
    parse: (text) => new Map([...text.matchAll(/^\| ([^|]+) \| [^|]+ \| \d+ \| (\d+) \|/gm)].map((m) => [m[1].trim(), Number(m[2])])),
  },
}

function serverFigures(text: string): Figures {
  const m = /throughput: ([\d,]+) points\/s; latency p50 ([\d.]+) ms, p99 ([\d.]+) ms/.exec(text)
  return m === null ? new Map() : new Map([['throughput', Number(m[1].replace(/,/g, ''))]])
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

const files = dirs.flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.txt')).map((name) => ({ dir, name })))
const loads: number[] = []
console.log('| benchmark | figure | unit | base (median) | head (median) | head / base | rounds |')
console.log('| --- | --- | --- | ---: | ---: | ---: | ---: |')
for (const [name, parser] of Object.entries(parsers)) {
  const values: Record<'base' | 'head', Map<string, number[]>> = { base: new Map(), head: new Map() }
  for (const file of files) {
    const m = new RegExp(`^${name}\\.(base|head)\\.\\d+\\.txt$`).exec(file.name)
    if (m === null) continue
    const text = readFileSync(path.join(file.dir, file.name), 'utf8')
    for (const l of text.matchAll(/load average: ([\d.]+)/g)) loads.push(Number(l[1]))
    for (const [figure, value] of parser.parse(text)) {
      const list = values[m[1] as 'base' | 'head'].get(figure) ?? []
      list.push(value)
      values[m[1] as 'base' | 'head'].set(figure, list)
    }
  }
  for (const [figure, base] of values.base) {
    const head = values.head.get(figure) ?? []
    if (head.length === 0) continue
    const ratio = median(head) / median(base)
    const better = parser.lowerIsBetter ? ratio <= 1 : ratio >= 1
    console.log(`| ${name} | ${figure} | ${parser.unit} | ${fmt(median(base))} | ${fmt(median(head))} | ${ratio.toFixed(2)}${better ? '' : ' (worse)'} | ${Math.min(base.length, head.length)} |`)
  }
}
console.log(`\n1-minute load average over the runs: ${Math.min(...loads).toFixed(2)} to ${Math.max(...loads).toFixed(2)} (2 cores).`)

function fmt(x: number): string {
  return x >= 1000 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(1) : x.toFixed(3)
}
