/**
 * CPU per span of each in-process step of OTLP ingest, without a database, over bodies encoded
 * by the real protobuf exporter (bench/otlp-ingest.ts): the protobuf decode (protobufjs), the
 * decode to assay traces, the store's validation, and each span's canonical JSON and sha256.
 * Each line is cumulative (it includes the steps above it); best of 5 passes.
 *
 *   node --import tsx bench/otlp-stages.ts [--spans 20480]
 *
 * Results: bench/results/otlp.md ("CPU per span, in process").
 */
import os from 'node:os'
import { pathToFileURL } from 'node:url'
import { decodeProtobufTraces } from '../src/otlp/decode-traces.js'
import { ExportTraceServiceRequest } from '../src/otlp/otlp-proto.js'
import { storedSpan, validateTraceInput } from '../src/record/production.js'
import { encodeBodies } from './otlp-ingest.js'

async function cli(): Promise<void> {
  const i = process.argv.indexOf('--spans')
  const bodies = await encodeBodies('protobuf', 'd'.repeat(32), i === -1 ? 20_480 : Number(process.argv[i + 1]), 512, 0)
  const spans = bodies.reduce((n, b) => n + b.spans, 0)
  const steps: [string, (bytes: Buffer) => void][] = [
    ['protobuf decode (protobufjs)', (bytes) => void ExportTraceServiceRequest.decode(bytes)],
    ['+ to assay traces (decodeProtobufTraces)', (bytes) => void decodeProtobufTraces(bytes)],
    ['+ validation (validateTraceInput)', (bytes) => {
      const checked = new WeakSet<object>()
      for (const t of decodeProtobufTraces(bytes).traces) validateTraceInput(t, checked)
    }],
    ['+ canonical JSON and sha256 per span (storedSpan)', (bytes) => {
      const checked = new WeakSet<object>()
      for (const t of decodeProtobufTraces(bytes).traces) for (const s of validateTraceInput(t, checked).spans) storedSpan(s)
    }],
  ]
  console.log(`load average before: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}; ${spans} spans in ${bodies.length} bodies`)
  for (const [name, step] of steps) {
    let best = Infinity
    for (let pass = 0; pass < 5; pass++) {
      const t0 = process.cpuUsage()
      for (const body of bodies) step(body.bytes)
      const used = process.cpuUsage(t0)
      best = Math.min(best, (used.user + used.system) / spans)
    }
    console.log(`${name}: ${best.toFixed(1)} µs per span`)
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await cli()
