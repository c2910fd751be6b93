/**
 * CPU per span of an OTLP decode thread's whole step (src/server/otlp-decoder.ts decodeAndPrepare:
 * the decode, the checks, each span's canonical JSON and sha256, the trace rows' fields), for
 * protobuf and JSON bodies encoded by the real exporters (bench/otlp-ingest.ts encodeBodies), on
 * this thread, no database. Best and median of 7 passes over the same bodies.
 *
 *   node --import tsx bench/otlp-decode-cpu.ts [--root DIR] [--spans 51200] [--bodies FILE]
 *
 * The bodies are encoded once into FILE (default in the system's temporary folder) by a separate
 * process and read from it: encoding them here would leave the heap full of the SDK's spans, and
 * its garbage collection would be measured with the decode (2× the CPU per span, and erratic).
 *
 * `--root DIR` takes decodeAndPrepare from DIR/dist (a built checkout, e.g. a worktree of an older
 * commit; default this one), so two builds are compared on the same bodies: run them alternately.
 * Results: bench/results/otlp.md ("Decode without the oneof", "JSON without the large string").
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { encodeBodies } from './otlp-ingest.js'

type Decode = (task: { bytes: Uint8Array; encoding: 'protobuf' | 'json' }) => unknown

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}

/** Protobuf and JSON bodies of `spans` spans, as the real exporters encode them. */
async function writeBodies(file: string, spans: number): Promise<void> {
  const out: Record<string, string[]> = {}
  for (const encoding of ['protobuf', 'json'] as const) out[encoding] = (await encodeBodies(encoding, 'd'.repeat(32), spans, 512, 0)).map((b) => b.bytes.toString('base64'))
  writeFileSync(file, JSON.stringify(out))
}

async function cli(): Promise<void> {
  const root = path.resolve(arg('root') ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'))
  const spans = Number(arg('spans') ?? 51_200)
  const file = arg('bodies') ?? path.join(os.tmpdir(), `assay-otlp-decode-bodies-${spans}.json`)
  if (process.argv.includes('--write-bodies')) return writeBodies(file, spans)
  if (!existsSync(file)) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--write-bodies', '--bodies', file, '--spans', String(spans)], { stdio: 'inherit' })
    if (child.status !== 0) throw new Error(`encoding the bodies failed (${child.status})`)
  }
  const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<'protobuf' | 'json', string[]>
  const { decodeAndPrepare } = (await import(pathToFileURL(path.join(root, 'dist/server/otlp-decoder.js')).href)) as { decodeAndPrepare: Decode }
  console.log(`root ${root}; load average before: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}; node ${process.version}; bodies ${file}`)
  /** CPU per span of `step` over every body, best and median of 7 passes. */
  const measure = (bodies: Buffer[], step: (bytes: Buffer) => unknown): string => {
    const passes: number[] = []
    for (let pass = 0; pass < 7; pass++) {
      const before = process.cpuUsage()
      for (const bytes of bodies) step(bytes)
      const used = process.cpuUsage(before)
      passes.push((used.user + used.system) / spans)
    }
    passes.sort((a, b) => a - b)
    return `${passes[0].toFixed(2)} µs per span best, ${passes[3].toFixed(2)} median`
  }
  const bodies = { protobuf: saved.protobuf.map((b) => Buffer.from(b, 'base64')), json: saved.json.map((b) => Buffer.from(b, 'base64')) }
  for (const encoding of ['protobuf', 'json'] as const) {
    console.log(`${encoding}: decodeAndPrepare ${measure(bodies[encoding], (bytes) => decodeAndPrepare({ bytes, encoding }))} (${spans} spans in ${bodies[encoding].length} bodies)`)
  }
  // Why JSON bodies are parsed span by span (src/otlp/otlp-json.ts): a whole body's text is one
  // large string, which costs far more per byte than the same bytes in pieces of 16 KiB.
  const json = bodies.json
  const piecesOf = (bytes: Buffer): void => {
    for (let at = 0; at < bytes.length; at += 16_384) bytes.toString('utf8', at, Math.min(bytes.length, at + 16_384))
  }
  console.log(`json bodies (mean ${Math.round(json.reduce((n, b) => n + b.length, 0) / json.length / 1024)} KiB): UTF-8 to one string ${measure(json, (b) => b.toString('utf8'))}; to strings of 16 KiB ${measure(json, piecesOf)}`)
  const { parseJsonBody, JSON_DEPTH_LIMIT } = (await import(pathToFileURL(path.join(root, 'dist/server/request-body.js')).href)) as { parseJsonBody: (text: string) => unknown; JSON_DEPTH_LIMIT: number }
  const whole = `the whole body as one string, its depth scan and JSON.parse (parseJsonBody) ${measure(json, (b) => parseJsonBody(b.toString('utf8')))}`
  const bySpanFile = path.join(root, 'dist/otlp/otlp-json.js')
  if (existsSync(bySpanFile)) {
    const { parseOtlpJsonBySpan } = (await import(pathToFileURL(bySpanFile).href)) as { parseOtlpJsonBySpan: (bytes: Buffer, depthLimit: number) => unknown }
    console.log(`json bodies: ${whole}; parsed span by span, with its depth scan ${measure(json, (b) => parseOtlpJsonBySpan(b, JSON_DEPTH_LIMIT))}`)
  } else {
    console.log(`json bodies: ${whole}`)
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await cli()
