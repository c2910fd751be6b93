/**
 * Where a process spent its CPU, from the .cpuprofile files `node --cpu-prof` writes (for example
 * `bench/ingest-scaling.ts --profile DIR`): self time by part (assay's own files, each package,
 * Node's internals, the garbage collector, idle) and the functions with the most self time, as
 * shares of the busy (non-idle) time.
 *
 *   node --import tsx bench/cpu-profile-summary.ts DIR_OR_FILE... [--top 25] [--after SECONDS]
 *
 * --after S: only samples taken S seconds or more after the profile started, so that a server's
 * start-up (compiling and resolving modules) is left out of the steady state under load.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

/** The part of the process a frame belongs to: a package, a file of assay, Node itself, or V8's own entries. */
function partOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)'
  const modules = url.lastIndexOf('/node_modules/')
  if (modules !== -1) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/')
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url)
  }
  if (url.startsWith('node:')) return 'node (internals)'
  const src = url.indexOf('/src/')
  const dist = url.indexOf('/dist/')
  const at = src !== -1 ? src : dist
  return at !== -1 ? `assay ${url.slice(at + 1)}` : url
}

function files(args: readonly string[]): string[] {
  return args.flatMap((a) => (statSync(a).isDirectory() ? readdirSync(a).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(a, f)) : [a]))
}

function main(): void {
  const args = process.argv.slice(2)
  const topAt = args.indexOf('--top')
  const top = topAt === -1 ? 25 : Number(args[topAt + 1])
  const afterAt = args.indexOf('--after')
  const afterUs = afterAt === -1 ? 0 : Number(args[afterAt + 1]) * 1e6
  const options = new Set([topAt, topAt + 1, afterAt, afterAt + 1].filter((_, i) => (i < 2 ? topAt : afterAt) !== -1))
  const inputs = files(args.filter((_, i) => !options.has(i)))
  const byPart = new Map<string, number>()
  const byFunction = new Map<string, number>()
  let total = 0
  let wall = 0
  for (const file of inputs) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
    wall += (profile.endTime - profile.startTime - Math.min(afterUs, profile.endTime - profile.startTime)) / 1000
    let at = 0
    profile.samples.forEach((id, i) => {
      const node = nodes.get(id)
      const us = profile.timeDeltas[i] ?? 0
      at += us
      if (node === undefined || at < afterUs) return
      const { functionName, url, lineNumber } = node.callFrame
      const part = partOf(url, functionName)
      total += us
      byPart.set(part, (byPart.get(part) ?? 0) + us)
      const name = `${functionName || '(anonymous)'} ${url === '' ? '' : `${path.basename(url)}:${lineNumber + 1}`} [${part}]`
      byFunction.set(name, (byFunction.get(name) ?? 0) + us)
    })
  }
  const idle = byPart.get('(idle)') ?? 0
  const busy = total - idle
  const ms = (us: number) => `${(us / 1000).toFixed(0)} ms`
  const share = (us: number) => `${((100 * us) / busy).toFixed(1)} %`
  console.log(`${inputs.length} profile(s), ${ms(wall * 1000)} of wall time; sampled ${ms(total)}, idle ${ms(idle)} (${((100 * idle) / total).toFixed(1)} % of samples), busy ${ms(busy)}`)
  console.log('\n| part | busy time | share of busy |\n| --- | ---: | ---: |')
  for (const [part, us] of [...byPart].filter(([p]) => p !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`| ${part} | ${ms(us)} | ${share(us)} |`)
  console.log('\n| function (self time) | busy time | share of busy |\n| --- | ---: | ---: |')
  for (const [name, us] of [...byFunction].filter(([n]) => !n.endsWith('[(idle)]')).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`| ${name.replaceAll('|', '\\|')} | ${ms(us)} | ${share(us)} |`)
}

main()
