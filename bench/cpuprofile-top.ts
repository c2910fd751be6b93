/**
 * Where a V8 CPU profile (`node --cpu-prof`) spent its time: self time by function and by source
 * file, and the inclusive time of named functions (samples with the function anywhere on the
 * stack), as shares of the profile's busy time (idle apart), to write down in bench/results/*.md
 * what a benchmark's process did.
 *
 *   node --import tsx bench/cpuprofile-top.ts PROFILE.cpuprofile [--top 25] [--inclusive name,name]
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Self time in µs per function (name and place) and per source file, over all samples. */
export function selfTimes(profile: Profile): { functions: Map<string, number>; files: Map<string, number>; total: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const functions = new Map<string, number>()
  const files = new Map<string, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0
    const frame = byId.get(id)?.callFrame
    if (frame === undefined) return
    total += dt
    const file = frame.url === '' ? `(${frame.functionName || 'native'})` : shortPath(frame.url)
    const name = `${frame.functionName || '(anonymous)'} ${file}${frame.url === '' ? '' : `:${frame.lineNumber + 1}`}`
    functions.set(name, (functions.get(name) ?? 0) + dt)
    files.set(file, (files.get(file) ?? 0) + dt)
  })
  return { functions, files, total }
}

/** Time in µs of samples with a function of each name anywhere on their stack. */
export function inclusiveTimes(profile: Profile, names: readonly string[]): Map<string, number> {
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const out = new Map(names.map((n) => [n, 0]))
  profile.samples.forEach((id, i) => {
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)?.callFrame.functionName ?? ''
      if (out.has(name)) seen.add(name)
    }
    for (const name of seen) out.set(name, (out.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  return out
}

function shortPath(url: string): string {
  const file = url.startsWith('file://') ? new URL(url).pathname : url
  const modules = file.lastIndexOf('/node_modules/')
  if (modules !== -1) return file.slice(modules + '/node_modules/'.length)
  const src = file.lastIndexOf('/src/')
  if (src !== -1) return file.slice(src + 1)
  return path.basename(file)
}

function cli(): void {
  const file = process.argv[2]
  if (file === undefined) throw new Error('usage: cpuprofile-top.ts PROFILE.cpuprofile [--top N]')
  const i = process.argv.indexOf('--top')
  const top = i === -1 ? 25 : Number(process.argv[i + 1])
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const { functions, files, total } = selfTimes(profile)
  const idle = functions.get('(idle) ((idle))') ?? 0
  const busy = total - idle
  const show = (title: string, m: Map<string, number>): void => {
    console.log(`\n${title} (share of busy time ${(busy / 1000).toFixed(0)} ms; idle ${(idle / 1000).toFixed(0)} ms)`)
    for (const [name, us] of [...m].filter(([n]) => !n.includes('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${((100 * us) / busy).toFixed(1).padStart(5)}%  ${name}`)
    }
  }
  show('self time by file', files)
  show('self time by function', functions)
  const j = process.argv.indexOf('--inclusive')
  if (j !== -1) show('inclusive time', inclusiveTimes(profile, process.argv[j + 1].split(',')))
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) cli()
