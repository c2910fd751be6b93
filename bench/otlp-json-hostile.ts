/**
 * CPU and peak memory of parsing hostile OTLP/JSON bodies of about 16 MiB (the body limit): the
 * whole-body parse (`parseJsonBody`: one string, the depth scan, JSON.parse) against the span by
 * span one with its fallback (src/server/otlp-decoder.ts decodeOtlpBody's JSON step), each shape
 * and way in a process of its own so the peak RSS is its own.
 *
 *   npm run build && node --import tsx bench/otlp-json-hostile.ts
 *
 * Results: bench/results/otlp.md ("JSON without the large string").
 */
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const SHAPES: Record<string, () => string> = {
  'a million one-span scopes': () => `{"resourceSpans":[{"scopeSpans":[${Array(1_100_000).fill('{"spans":[{}]}').join(',')}]}]}`,
  'the same, its last bytes bad': () => `{"resourceSpans":[{"scopeSpans":[${Array(1_100_000).fill('{"spans":[{}]}').join(',')}]}],"x":tru}`,
  '5.6 million {} spans in one array': () => `{"resourceSpans":[{"scopeSpans":[{"spans":[${Array(5_600_000).fill('{}').join(',')}]}]}]}`,
  '1.4 million empty spans arrays': () => `{"resourceSpans":[{"scopeSpans":[${Array(1_400_000).fill('{"spans":[]}').join(',')}]}]}`,
}

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')

async function child(shape: string, way: string): Promise<void> {
  const { parseOtlpJsonBySpan } = (await import(pathToFileURL(path.join(root, 'dist/otlp/otlp-json.js')).href)) as { parseOtlpJsonBySpan: (b: Buffer, limit: number) => unknown }
  const { parseJsonBody, JSON_DEPTH_LIMIT } = (await import(pathToFileURL(path.join(root, 'dist/server/request-body.js')).href)) as { parseJsonBody: (t: string) => unknown; JSON_DEPTH_LIMIT: number }
  const bytes = Buffer.from(SHAPES[shape]())
  const before = process.cpuUsage()
  let outcome = 'parsed'
  try {
    const bySpan = way === 'span by span' ? parseOtlpJsonBySpan(bytes, JSON_DEPTH_LIMIT) : undefined
    if (bySpan === undefined) parseJsonBody(bytes.toString('utf8'))
  } catch (error) {
    outcome = (error as { code?: string }).code ?? 'threw'
  }
  const used = process.cpuUsage(before)
  console.log(JSON.stringify({ mib: bytes.length / 2 ** 20, cpu: (used.user + used.system) / 1e6, rssMib: process.resourceUsage().maxRSS / 1024, outcome }))
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4])
} else {
  console.log('| body | MiB | whole: CPU s, peak RSS MiB | span by span: CPU s, peak RSS MiB | outcome |\n|---|---:|---|---|---|')
  for (const shape of Object.keys(SHAPES)) {
    const runs = ['whole', 'span by span'].map((way) => {
      const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', shape, way], { encoding: 'utf8' })
      if (r.status !== 0) throw new Error(r.stderr)
      return JSON.parse(r.stdout) as { mib: number; cpu: number; rssMib: number; outcome: string }
    })
    console.log(`| ${shape} | ${runs[0].mib.toFixed(1)} | ${runs.map((r) => `${r.cpu.toFixed(2)}, ${Math.round(r.rssMib)}`).join(' | ')} | ${runs[1].outcome} |`)
  }
}
