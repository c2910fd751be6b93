/**
 * OTLP/HTTP trace ingest on `assay server` over PostgreSQL: spans/s and request latency p50/p99
 * for protobuf and JSON from E concurrent exporters, next to the raw insert speed of the same rows
 * (one INSERT … unnest per table per batch, from a minimal pg client) measured in the same run.
 *
 *   ASSAY_TEST_POSTGRES_URL=postgres://… node --import tsx bench/otlp-ingest.ts [--exporters 16] [--spans 120000] [--batch 512] [--rate 20000] [--warmup 20480] [--phases=protobuf,json,sdk,raw] [--latencies FILE]
 *
 * Spans are made by the real OpenTelemetry SDK (@opentelemetry/sdk-trace-base) and shaped like LLM
 * traffic: per trace a server span, a retrieval span, 1-3 chat spans (GenAI attributes, tokens,
 * cost, guardrail) and 0-1 tool spans, 3-6 spans in all. Request bodies are encoded by the real
 * exporters (@opentelemetry/exporter-trace-otlp-proto and -http) ahead of time: each exporter
 * exports each batch once to a capturing local server, and the captured bodies are then sent to
 * `assay server` by E concurrent senders as the exporters' Node transport sends (http.request, a
 * keep-alive Agent; fetch cost the client twice the CPU), so the 2 cores measure the server and
 * not span creation in the client. Batches are cut every B spans as a BatchSpanProcessor cuts them,
 * so some traces straddle two requests (the join path). Phases, each with its own spans:
 *   - flat out: each sender sends its next body when the last is answered (the ceiling);
 *   - paced: E senders together at --rate spans/s (latency from each request's due time, so a
 *     server that falls behind shows it);
 *   - sdk: E real exporters driven by BatchSpanProcessors, spans created live (client cost included);
 *   - raw: the same rows (decoded and prepared beforehand) inserted by E concurrent pg clients
 *     (--raw-clients N: N instead, e.g. 10, the server's default pool size),
 *     flat out (the throughput ceiling) and paced at --rate (the p99 ceiling), each over the rows
 *     of the protobuf phase of the same name, so neither re-sends rows the other stored; and the
 *     same again into the old layout (a trace_spans row per span, before migration 16) in a schema
 *     of its own, for the ratio new/old. Before them, PostgreSQL's WAL bytes per span of each
 *     layout, from EXPLAIN (ANALYZE, WAL) of 40 batches (exact, whatever else the cluster does);
 *   - raw, group commit by 1 and by 2 writers: the paced rows again, into fresh schemas, queued
 *     at their due times and written by 1 or 2 connections, each taking every batch waiting into
 *     one transaction: the best a server that commits concurrent requests together could give,
 *     with no HTTP and no decode (the server's own group commit: src/store/trace-write.ts).
 * The protobuf and JSON phases run in the order --phases names them.
 * Before the phases, --warmup N spans (default 20,480) are sent flat out and not counted: a fresh
 * server's first seconds would otherwise fall in the first phase only. Each phase starts after a
 * CHECKPOINT (--no-checkpoint: none), so none pays for the checkpoint
 * its predecessors' WAL would trigger. The table's "over 100 ms" counts requests past the p99
 * bound; after a paced phase the notes give the senders' own worst start delay (a client stall
 * counted in the latency). OTLP_BENCH_SLOW=1 prints each request over 100 ms with its due time.
 * --latencies FILE appends every phase's request latencies to FILE (a JSON line per phase), for
 * bench/otlp-pooled.ts to pool the paced p99 over several runs with its interval.
 * Every phase ends with a count: each span the server acknowledged is stored exactly once.
 * Results: bench/results/otlp.md.
 */
import { appendFileSync } from 'node:fs'
import { Agent, createServer, request as httpRequest, type Server } from 'node:http'
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import { pathToFileURL } from 'node:url'
import pg from 'pg'
import { SpanKind, SpanStatusCode, context, trace, type Tracer } from '@opentelemetry/api'
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import { decodeJsonTraces, decodeProtobufTraces } from '../src/otlp/decode-traces.js'
import { extractTraceFields, storedSpan, type TraceInput } from '../src/record/production.js'
import { spanSetKeys, spanSetText, traceFieldValues } from '../src/store/production-rows.js'
import { openStore } from '../src/store/open-store.js'
import type { LatencyLine } from './otlp-pooled.js'
import { cpuOfThreads, dropSchema, machineCpu, makeAdminToken, startServerProcess, type ServerProcess } from './server-load.js'

type Encoding = 'protobuf' | 'json'

interface Body {
  bytes: Buffer
  spans: number
}

interface PhaseResult {
  /** Requests answered in more than 100 ms (the issue's p99 bound). */
  over100?: number
  name: string
  spans: number
  requests: number
  seconds: number
  spansPerSecond: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  failures: number
  /** Every request's latency (ms), ascending: written by --latencies FILE for bench/otlp-pooled.ts. */
  latencies: number[]
  /** The server's CPU by thread over the phase (serverCpu), for a phase given the server's pid. */
  serverCpu?: string
  /** The machine's CPU over the phase: PostgreSQL's processes by role, autovacuum, WAL syncs (machineSplit). */
  machine?: string
}

const MODELS = ['gpt-4o-mini', 'claude-haiku', 'llama-3-70b']

/** One LLM request as an application instruments it: 3-6 spans. */
function llmTrace(tracer: Tracer, i: number): void {
  const root = tracer.startSpan('POST /v1/answer', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'POST', 'http.route': '/v1/answer', 'gen_ai.conversation.id': `conv-${i % 997}`, 'assay.prompt.name': 'support-answer', 'assay.prompt.version': '7', 'user.tier': i % 5 === 0 ? 'pro' : 'free' },
  })
  const ctx = trace.setSpan(context.active(), root)
  const retrieval = tracer.startSpan('retrieve docs', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'pgvector', 'assay.retrieval.index_version': 'kb-2026-11-30', 'retrieval.top_k': 8, 'retrieval.documents': ['doc-1', 'doc-7', 'doc-9'] } }, ctx)
  retrieval.end()
  const calls = 1 + (i % 3)
  for (let c = 0; c < calls; c++) {
    const model = MODELS[(i + c) % MODELS.length]
    const chat = tracer.startSpan(`chat ${model}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': 'chat', 'gen_ai.system': 'openai', 'gen_ai.request.model': model, 'gen_ai.response.model': model, 'gen_ai.request.temperature': 0.2,
        'gen_ai.usage.input_tokens': 600 + ((i * 37) % 900), 'gen_ai.usage.output_tokens': 40 + ((i * 13) % 300), 'gen_ai.response.finish_reasons': ['stop'],
        'assay.cost.usd': 0.0004 + (i % 17) * 0.0001, 'assay.guardrail.action': i % 29 === 0 ? 'redact' : 'none', 'assay.guardrail.outcome': i % 29 === 0 ? 'fail' : 'pass',
        'assay.output.hash': `sha256:${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')}`,
      },
    }, ctx)
    chat.addEvent('gen_ai.choice', { index: 0, finish_reason: 'stop' })
    if (i % 53 === 0) chat.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited' })
    chat.end()
  }
  if (i % 2 === 0) {
    const tool = tracer.startSpan('execute_tool lookup_order', { kind: SpanKind.INTERNAL, attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup_order', 'gen_ai.tool.call.id': `call_${i}` } }, ctx)
    tool.end()
  }
  root.end()
}

/** `count` spans from the real SDK, in whole traces, resource naming the deployment. */
function makeSpans(deploymentId: string, count: number, offset: number): ReadableSpan[] {
  const memory = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'support-bot', 'service.version': '2.4.1', 'assay.deployment.id': deploymentId, 'deployment.environment': 'production' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  })
  const tracer = provider.getTracer('support-bot', '2.4.1')
  for (let i = offset; memory.getFinishedSpans().length < count; i++) llmTrace(tracer, i)
  return memory.getFinishedSpans().slice(0, count)
}

/** A local server that keeps each request body: what the real exporters send, captured once. */
async function captureServer(): Promise<{ server: Server; url: string; bodies: Buffer[] }> {
  const bodies: Buffer[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks))
      const json = (req.headers['content-type'] ?? '').includes('json')
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/traces`, bodies }
}

function exportOnce(exporter: SpanExporter, spans: ReadableSpan[]): Promise<void> {
  return new Promise((resolve, reject) => exporter.export(spans, (r) => (r.code === 0 ? resolve() : reject(r.error ?? new Error('export failed')))))
}

/** Bodies of `spans` spans in batches of `batch`, encoded by the real exporter of `encoding`. */
export async function encodeBodies(encoding: Encoding, deploymentId: string, spans: number, batch: number, offset: number): Promise<Body[]> {
  const capture = await captureServer()
  const exporter = encoding === 'protobuf' ? new ProtoExporter({ url: capture.url }) : new JsonExporter({ url: capture.url })
  const out: Body[] = []
  try {
    for (let made = 0; made < spans; made += batch) {
      const n = Math.min(batch, spans - made)
      await exportOnce(exporter, makeSpans(deploymentId, n, offset + made))
      out.push({ bytes: capture.bodies.pop() as Buffer, spans: n })
    }
  } finally {
    await exporter.shutdown()
    capture.server.close()
  }
  return out
}

function quantile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN
}

/** The most a sender of the last `send` phase started a request after its due time (ms). */
const clientLag = { max: 0 }

/**
 * A CHECKPOINT before each phase: every phase starts with no dirty pages and no pending WAL, so
 * none pays for the checkpoint its predecessors' writes would trigger (max_wal_size) and the first
 * writes to each page after it (full-page images) fall in every phase alike. --no-checkpoint: none.
 */
let checkpointUrl: string | undefined
async function checkpoint(): Promise<void> {
  if (checkpointUrl === undefined || process.argv.includes('--no-checkpoint')) return
  const client = new pg.Client({ connectionString: checkpointUrl })
  await client.connect()
  try {
    await client.query('CHECKPOINT')
  } finally {
    await client.end()
  }
}

function summarise(name: string, latencies: number[], spans: number, seconds: number, failures: number): PhaseResult {
  latencies.sort((a, b) => a - b)
  return { name, spans, requests: latencies.length, seconds, spansPerSecond: spans / seconds, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99), maxMs: latencies[latencies.length - 1] ?? NaN, failures, over100: latencies.filter((l) => l > 100).length, latencies }
}

/**
 * One POST as the exporters' Node transport sends it (@opentelemetry/otlp-exporter-base:
 * http.request through an Agent with keepAlive): the status and the answer's bytes.
 */
function post(url: URL, agent: Agent, headers: Record<string, string>, body: Buffer): Promise<{ status: number; answer: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, answer: Buffer.concat(chunks) }))
      response.on('error', reject)
    })
    request.on('error', reject)
    request.end(body)
  })
}

/**
 * `senders` concurrent senders over `bodies`, each with its own kept-alive connection (as E
 * exporters, each with its keepAlive agent). rate 0: flat out (each sends its next body when the
 * last is answered); else together `rate` spans/s, latency from each due time.
 */
async function send(name: string, url: string, token: string, encoding: Encoding, bodies: readonly Body[], senders: number, rate: number, serverPid?: number): Promise<PhaseResult> {
  await checkpoint()
  clientLag.max = 0
  const headers = { authorization: `Bearer ${token}`, 'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json' }
  const target = new URL(`${url}/v1/traces`)
  const agent = new Agent({ keepAlive: true, maxSockets: senders })
  const latencies: number[] = []
  let next = 0
  let spans = 0
  let failures = 0
  const cpu0 = process.cpuUsage()
  // The server's threads read over the timed window alone (after the checkpoint), as `seconds` is.
  const threadsBefore = serverPid === undefined ? undefined : cpuOfThreads(serverPid)
  const machineBefore = serverPid === undefined ? undefined : await machineState()
  const started = performance.now()
  const spansPerBody = bodies[0]?.spans ?? 1
  try {
    await Promise.all(
      Array.from({ length: senders }, async () => {
        for (let i = next++; i < bodies.length; i = next++) {
          let t0 = performance.now()
          if (rate > 0) {
            const due = started + ((i * spansPerBody) / rate) * 1000
            if (due > t0) await new Promise((r) => setTimeout(r, due - t0))
            t0 = due
          }
          // How late this client itself sends (its own event loop, its GC): part of the latency that is not the server's.
          const lag = performance.now() - t0
          const { status, answer } = await post(target, agent, headers, bodies[i].bytes)
          latencies.push(performance.now() - t0)
          clientLag.max = Math.max(clientLag.max, lag)
          if (process.env.OTLP_BENCH_SLOW !== undefined && performance.now() - t0 > 100) console.error(`slow: due at ${((t0 - started) / 1000).toFixed(2)} s, client lag ${lag.toFixed(1)} ms, latency ${(performance.now() - t0).toFixed(1)} ms`)
          if (status === 200) spans += bodies[i].spans
          else if (failures++ === 0) console.error(`${name}: the first failed request: ${status} ${answer.toString().slice(0, 300)}`)
        }
      }),
    )
  } finally {
    agent.destroy()
  }
  const seconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpu0)
  clientCpu.set(name, (cpu.user + cpu.system) / 1e6 / seconds)
  const result = summarise(name, latencies, spans, seconds, failures)
  if (serverPid !== undefined && threadsBefore !== undefined) result.serverCpu = serverCpu(serverPid, threadsBefore, cpuOfThreads(serverPid), result)
  if (machineBefore !== undefined) result.machine = machineSplit(machineBefore, await machineState(), result)
  return result
}

/** machineCpu with PostgreSQL's own counts: autovacuum and autoanalyze runs, WAL syncs and their time. */
async function machineState(): Promise<ReturnType<typeof machineCpu> & { vacuums: number; analyzes: number; walSyncs: number; walSyncMs: number; walWriteMs: number }> {
  const cpu = machineCpu()
  if (checkpointUrl === undefined) return { ...cpu, vacuums: NaN, analyzes: NaN, walSyncs: NaN, walSyncMs: NaN, walWriteMs: NaN }
  const client = new pg.Client({ connectionString: checkpointUrl })
  await client.connect()
  try {
    const v = await client.query<{ vacuums: string; analyzes: string }>('SELECT sum(autovacuum_count) AS vacuums, sum(autoanalyze_count) AS analyzes FROM pg_stat_all_tables')
    const w = await client.query<{ wal_sync: string; wal_sync_time: number; wal_write_time: number }>('SELECT wal_sync, wal_sync_time, wal_write_time FROM pg_stat_wal')
    return { ...cpu, vacuums: Number(v.rows[0].vacuums), analyzes: Number(v.rows[0].analyzes), walSyncs: Number(w.rows[0].wal_sync), walSyncMs: w.rows[0].wal_sync_time, walWriteMs: w.rows[0].wal_write_time }
  } finally {
    await client.end()
  }
}

/**
 * Where the two cores went over a phase: the machine's busy CPU, PostgreSQL's processes by role
 * (backends, walwriter, autovacuum workers, ...) in cores and µs per span, how long PostgreSQL's
 * backends waited for a CPU, and the autovacuum/autoanalyze runs and WAL syncs in the window
 * (the sync time is 0 unless track_wal_io_timing is on).
 */
function machineSplit(before: Awaited<ReturnType<typeof machineState>>, after: Awaited<ReturnType<typeof machineState>>, r: PhaseResult): string {
  const roles = new Map<string, { ran: number; waited: number }>()
  for (const [pid, p] of after.postgres) {
    const b = before.postgres.get(pid)
    const sum = roles.get(p.role) ?? { ran: 0, waited: 0 }
    sum.ran += p.ran - (b?.ran ?? 0)
    sum.waited += p.waited - (b?.waited ?? 0)
    roles.set(p.role, sum)
  }
  const cores = (seconds: number): string => `${(seconds / r.seconds).toFixed(2)} (${((seconds * 1e6) / r.spans).toFixed(1)} µs/span)`
  const pgAll = [...roles.values()].reduce((n, x) => n + x.ran, 0)
  const byRole = [...roles].filter(([, x]) => x.ran / r.seconds >= 0.005).sort((a, b) => b[1].ran - a[1].ran).map(([role, x]) => `${role} ${cores(x.ran)}`)
  const backendWait = (((roles.get('backend')?.waited ?? 0) * 1000) / r.seconds).toFixed(0)
  const syncs = after.walSyncs - before.walSyncs
  return `machine busy ${((after.busy - before.busy) / r.seconds).toFixed(2)} cores, idle ${((after.idle - before.idle) / r.seconds).toFixed(2)}; PostgreSQL ${cores(pgAll)}: ${byRole.join(', ')}; its backends waited for a CPU ${backendWait} ms per s; autovacuum runs ${after.vacuums - before.vacuums}, autoanalyze runs ${after.analyzes - before.analyzes}; WAL syncs ${syncs} (${(syncs / r.seconds).toFixed(0)}/s, sync time ${(after.walSyncMs - before.walSyncMs).toFixed(0)} ms, write time ${(after.walWriteMs - before.walWriteMs).toFixed(0)} ms)`
}

/**
 * The server process's CPU over a phase, from /proc per thread (bench/server-load.ts cpuOfThreads):
 * its main thread (the event loop), the two busiest other threads (the decode threads, under
 * load: Node names no thread, so they are told apart by their use) and the rest (V8's helpers,
 * libuv's pool), in cores and µs per span; and how long the event loop and the decode threads
 * were ready to run but waited for a CPU, in ms per second of the phase.
 */
function serverCpu(pid: number, before: ReturnType<typeof cpuOfThreads>, after: ReturnType<typeof cpuOfThreads>, r: PhaseResult): string {
  const used = [...after].map(([tid, t]) => ({ tid, ran: t.ran - (before.get(tid)?.ran ?? 0), waited: t.waited - (before.get(tid)?.waited ?? 0) }))
  const main = used.find((t) => t.tid === pid) ?? { ran: 0, waited: 0 }
  const others = used.filter((t) => t.tid !== pid).sort((a, b) => b.ran - a.ran)
  const busiest = others.slice(0, 2)
  const sum = (ts: readonly { ran: number }[]): number => ts.reduce((n, t) => n + t.ran, 0)
  const part = (label: string, seconds: number): string => `${label} ${(seconds / r.seconds).toFixed(2)} (${((seconds * 1e6) / r.spans).toFixed(1)} µs/span)`
  const waited = (ts: readonly { waited: number }[]): string => ((ts.reduce((n, t) => n + t.waited, 0) * 1000) / r.seconds).toFixed(0)
  return `server CPU in cores: ${part('all', main.ran + sum(others))}; ${part('event loop', main.ran)}, ${part('two busiest other threads', sum(busiest))}, ${part('rest', sum(others.slice(2)))}; waiting for a CPU, ms per s: event loop ${waited([main])}, the two busiest ${waited(busiest)}`
}

/** The senders' own CPU per phase, in cores (CPU seconds per second): what the client took from the two cores. */
const clientCpu = new Map<string, number>()

/** E real exporters, each behind a BatchSpanProcessor, creating `spans` spans live at `rate` spans/s in all. */
async function sdkPhase(url: string, token: string, encoding: Encoding, deploymentId: string, exporters: number, spans: number, batch: number, rate: number): Promise<PhaseResult> {
  await checkpoint()
  const latencies: number[] = []
  let acknowledged = 0
  let failures = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: exporters }, async (_, e) => {
      // A loaded machine answers slowly: a 60 s timeout, so a slow answer counts as latency, not loss.
      const options = { url: `${url}/v1/traces`, headers: { Authorization: `Bearer ${token}` }, timeoutMillis: 60_000 }
      const inner = encoding === 'protobuf' ? new ProtoExporter(options) : new JsonExporter(options)
      const timed: SpanExporter = {
        export(items, done) {
          const t0 = performance.now()
          inner.export(items, (r) => {
            latencies.push(performance.now() - t0)
            if (r.code === 0) acknowledged += items.length
            else failures++
            done(r)
          })
        },
        shutdown: () => inner.shutdown(),
        forceFlush: () => inner.forceFlush(),
      }
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': 'support-bot', 'assay.deployment.id': deploymentId }),
        spanProcessors: [new BatchSpanProcessor(timed, { maxExportBatchSize: batch, maxQueueSize: 64 * batch, scheduledDelayMillis: 200 })],
      })
      const tracer = provider.getTracer('support-bot', '2.4.1')
      const share = Math.ceil(spans / exporters)
      const perTrace = 4.5
      const tick = 50
      const tracesPerTick = Math.max(1, Math.round(((rate / exporters) * tick) / 1000 / perTrace))
      for (let made = 0, i = e * 10_000_000; made < share; ) {
        const due = started + (made / perTrace / tracesPerTick) * tick
        const wait = due - performance.now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        for (let k = 0; k < tracesPerTick && made < share; k++, i++) {
          llmTrace(tracer, i)
          made += 3 + (i % 3) + (i % 2 === 0 ? 1 : 0)
        }
      }
      // A batch that failed is counted above; the flush reports it again.
      await provider.forceFlush().catch(() => undefined)
      await provider.shutdown().catch(() => undefined)
    }),
  )
  return summarise(`sdk ${encoding} (BatchSpanProcessor, ${rate} spans/s asked)`, latencies, acknowledged, (performance.now() - started) / 1000, failures)
}

/**
 * The rows the store writes for these bodies, prepared outside the timing, per body: the traces
 * rows, the trace_span_sets rows (one per trace and body, seq counting the bodies a trace was in
 * before, as the store's join path numbers them) and, for the old layout (trace_spans before
 * migration 16), a row per span.
 */
function rowsOf(bodies: readonly Body[]): { traces: unknown[][]; sets: unknown[][]; spans: unknown[][] }[] {
  const seqs = new Map<string, number>()
  return bodies.map((b) => {
    const decoded = decodeProtobufTraces(b.bytes)
    return {
      traces: decoded.traces.map((t: TraceInput) => [t.traceId, t.deploymentId, ...traceFieldValues(extractTraceFields(t.spans))]),
      sets: decoded.traces.map((t) => {
        const seq = seqs.get(t.traceId) ?? 0
        seqs.set(t.traceId, seq + 1)
        const forms = t.spans.map((s) => ({ spanId: s.spanId, ...storedSpan(s) }))
        return [t.traceId, seq, spanSetKeys(forms), spanSetText(forms.map((f) => f.data))]
      }),
      spans: decoded.traces.flatMap((t) => t.spans.map((s) => {
        const form = storedSpan(s)
        return [t.traceId, s.spanId, form.contentSha256, form.data]
      })),
    }
  })
}

type Layout = 'sets' | 'rows'

/** trace_spans as it was before migration 16 (after 15: no foreign key), made beside the sets in a raw schema of the old layout. */
const OLD_SPANS_TABLE = `CREATE TABLE trace_spans (
  trace_id text COLLATE "C" NOT NULL,
  span_id text COLLATE "C" NOT NULL,
  content_sha256 text COLLATE "C" NOT NULL,
  data text COLLATE "C" NOT NULL,
  PRIMARY KEY (trace_id, span_id)
)`
const INSERT_SETS = 'INSERT INTO trace_span_sets (trace_id, seq, span_keys, spans) SELECT * FROM unnest($1::text[], $2::int[], $3::bytea[], $4::text[])'
const INSERT_ROWS = 'INSERT INTO trace_spans (trace_id, span_id, content_sha256, data) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING'

/** The span statement's parameters for a batch in a layout. */
function spanValues(b: ReturnType<typeof rowsOf>[number], layout: Layout): unknown[][] {
  return [0, 1, 2, 3].map((c) => (layout === 'sets' ? b.sets : b.spans).map((r) => r[c]))
}

const TRACE_TYPES = ['text', 'text', 'float8', 'float8', 'float8', 'text', 'text', 'text', 'float8', 'float8', 'text', 'text', 'text', 'text', 'float8', 'text', 'text', 'text', 'bigint']
const TRACE_NAMES = 'trace_id, deployment_id, start_time, end_time, latency_ms, status, operation, request_model, input_tokens, output_tokens, conversation_id, prompt_name, prompt_version, retrieval_index_version, cost_usd, guardrail_action, guardrail_outcome, output_hash, span_count'

/**
 * The raw ceiling: per batch one transaction of one INSERT … unnest per table, E clients at once.
 * rate 0: flat out; else together `rate` spans/s, latency from each batch's due time (as `send`).
 */
async function rawPhase(name: string, pgUrl: string, schema: string, layout: Layout, batches: ReturnType<typeof rowsOf>, spansPerBatch: number[], clients: number, rate: number): Promise<PhaseResult> {
  await checkpoint()
  const pool = new pg.Pool({ connectionString: pgUrl, max: clients, options: `-c search_path=${schema}` })
  const insertTraces = `INSERT INTO traces (${TRACE_NAMES}) SELECT * FROM unnest(${TRACE_TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')}) ON CONFLICT (trace_id) DO NOTHING`
  const insertSpans = layout === 'sets' ? INSERT_SETS : INSERT_ROWS
  const latencies: number[] = []
  let spans = 0
  let next = 0
  const spansPerBatchMean = spansPerBatch[0] ?? 1
  // Connections opened before the clock starts, as the server's pool is warm before its phases.
  const clientsReady = await Promise.all(Array.from({ length: clients }, () => pool.connect()))
  const started = performance.now()
  await Promise.all(
    clientsReady.map(async (client) => {
      try {
        for (let i = next++; i < batches.length; i = next++) {
          let t0 = performance.now()
          if (rate > 0) {
            const due = started + ((i * spansPerBatchMean) / rate) * 1000
            if (due > t0) await new Promise((r) => setTimeout(r, due - t0))
            t0 = due
          }
          const b = batches[i]
          await client.query('BEGIN')
          await client.query({ name: 'raw_traces', text: insertTraces, values: TRACE_TYPES.map((_, c) => b.traces.map((r) => r[c])) })
          await client.query({ name: `raw_${layout}`, text: insertSpans, values: spanValues(b, layout) })
          await client.query('COMMIT')
          latencies.push(performance.now() - t0)
          spans += spansPerBatch[i]
        }
      } finally {
        client.release()
      }
    }),
  )
  await pool.end()
  return summarise(name, latencies, spans, (performance.now() - started) / 1000, 0)
}

/**
 * The raw ceiling with group commit: the same rows, due at the same times as rawPhase's paced
 * batches, queued; `writers` connections each take every batch waiting (up to `maxSpans` spans)
 * and write them in one transaction of one INSERT … unnest per table. Latency from each batch's
 * due time to the commit that holds it: what a server committing concurrent requests together
 * could give at best, with no HTTP and no decode.
 */
async function rawGroupPhase(name: string, pgUrl: string, schema: string, batches: ReturnType<typeof rowsOf>, spansPerBatch: number[], writers: number, rate: number, maxSpans: number): Promise<PhaseResult> {
  await checkpoint()
  const pool = new pg.Pool({ connectionString: pgUrl, max: writers, options: `-c search_path=${schema}` })
  const insertTraces = `INSERT INTO traces (${TRACE_NAMES}) SELECT * FROM unnest(${TRACE_TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')}) ON CONFLICT (trace_id) DO NOTHING`
  const latencies: number[] = []
  const waiting: { i: number; due: number }[] = []
  const sleepers: (() => void)[] = []
  const wakeAll = (): void => {
    for (const r of sleepers.splice(0)) r()
  }
  let produced = false
  let spans = 0
  let transactions = 0
  const spansPerBatchMean = spansPerBatch[0] ?? 1
  const clientsReady = await Promise.all(Array.from({ length: writers }, () => pool.connect()))
  const started = performance.now()
  const producer = (async () => {
    for (let i = 0; i < batches.length; i++) {
      const due = started + ((i * spansPerBatchMean) / rate) * 1000
      const now = performance.now()
      if (due > now) await new Promise((r) => setTimeout(r, due - now))
      waiting.push({ i, due })
      wakeAll()
    }
    produced = true
    wakeAll()
  })()
  await Promise.all(
    clientsReady.map(async (client) => {
      try {
        for (;;) {
          if (waiting.length === 0) {
            if (produced) break
            await new Promise<void>((r) => sleepers.push(r))
            continue
          }
          const group: { i: number; due: number }[] = []
          let n = 0
          while (waiting.length > 0 && (group.length === 0 || n + spansPerBatch[waiting[0].i] <= maxSpans)) {
            const item = waiting.shift()!
            group.push(item)
            n += spansPerBatch[item.i]
          }
          const traces = group.flatMap((g) => batches[g.i].traces)
          const sets = group.flatMap((g) => batches[g.i].sets)
          await client.query('BEGIN')
          await client.query({ name: 'raw_traces', text: insertTraces, values: TRACE_TYPES.map((_, c) => traces.map((r) => r[c])) })
          await client.query({ name: 'raw_sets', text: INSERT_SETS, values: [0, 1, 2, 3].map((c) => sets.map((r) => r[c])) })
          await client.query('COMMIT')
          const end = performance.now()
          transactions++
          for (const g of group) latencies.push(end - g.due)
          spans += n
          if (waiting.length > 0) wakeAll()
        }
      } finally {
        client.release()
      }
    }),
  )
  await producer
  await pool.end()
  const result = summarise(`${name} (${transactions} transactions)`, latencies, spans, (performance.now() - started) / 1000, 0)
  return result
}

/** Spans stored in a schema, counted (each set's lines; the old layout's rows): every acknowledged span exactly once. */
async function storedSpans(pgUrl: string, schema: string, layout: Layout = 'sets'): Promise<number> {
  const client = new pg.Client({ connectionString: pgUrl })
  await client.connect()
  try {
    const sql = layout === 'sets'
      ? `SELECT coalesce(sum(length(spans) - length(replace(spans, E'\\n', '')) + 1), 0) AS n FROM "${schema}".trace_span_sets`
      : `SELECT count(*) AS n FROM "${schema}".trace_spans`
    const { rows } = await client.query<{ n: string }>(sql)
    if (layout === 'sets') {
      // And no span twice: as many distinct (trace, span) pairs as lines.
      const distinct = await client.query<{ n: string }>(`SELECT count(DISTINCT (trace_id, line::json->>'spanId')) AS n FROM "${schema}".trace_span_sets, unnest(string_to_array(spans, E'\\n')) AS line`)
      if (distinct.rows[0].n !== rows[0].n) throw new Error(`${schema}: ${rows[0].n} spans stored, ${distinct.rows[0].n} distinct`)
    }
    return Number(rows[0].n)
  } finally {
    await client.end()
  }
}

/**
 * PostgreSQL's own WAL per span of each layout: `EXPLAIN (ANALYZE, WAL)` of the span statement of
 * `sample` batches, each in a transaction after its traces, one client, into a fresh schema of each
 * layout (exact per statement, so other work on the cluster does not count). Also the heap, index
 * and TOAST sizes those batches left.
 */
async function walPerSpan(pgUrl: string, schemas: Record<Layout, string>, batches: ReturnType<typeof rowsOf>): Promise<string[]> {
  const out: string[] = []
  for (const layout of ['rows', 'sets'] as const) {
    const client = new pg.Client({ connectionString: pgUrl, options: `-c search_path=${schemas[layout]}` })
    await client.connect()
    try {
      const insertTraces = `INSERT INTO traces (${TRACE_NAMES}) SELECT * FROM unnest(${TRACE_TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')}) ON CONFLICT (trace_id) DO NOTHING`
      const insertSpans = layout === 'sets' ? INSERT_SETS : INSERT_ROWS
      let bytes = 0
      let records = 0
      let fpi = 0
      let traceBytes = 0
      let spans = 0
      let ms = 0
      for (const b of batches) {
        await client.query('BEGIN')
        const t = await client.query<{ 'QUERY PLAN': [{ Plan: { 'WAL Bytes': number } }] }>({ text: `EXPLAIN (ANALYZE, WAL, FORMAT JSON) ${insertTraces}`, values: TRACE_TYPES.map((_, c) => b.traces.map((r) => r[c])) })
        traceBytes += t.rows[0]['QUERY PLAN'][0].Plan['WAL Bytes']
        const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: { 'WAL Bytes': number; 'WAL Records': number; 'WAL FPI': number }; 'Execution Time': number }] }>({ text: `EXPLAIN (ANALYZE, WAL, FORMAT JSON) ${insertSpans}`, values: spanValues(b, layout) })
        await client.query('COMMIT')
        const plan = rows[0]['QUERY PLAN'][0]
        bytes += plan.Plan['WAL Bytes']
        records += plan.Plan['WAL Records']
        fpi += plan.Plan['WAL FPI']
        ms += plan['Execution Time']
        spans += b.spans.length
      }
      const table = layout === 'sets' ? 'trace_span_sets' : 'trace_spans'
      const size = (await client.query<{ heap: string; idx: string; toast: string }>(`SELECT pg_relation_size('${table}') AS heap, pg_indexes_size('${table}') AS idx, coalesce(pg_total_relation_size(nullif(reltoastrelid, 0)), 0) AS toast FROM pg_class WHERE oid = '${table}'::regclass`)).rows[0]
      out.push(`${layout === 'sets' ? 'new layout (trace_span_sets, a row per trace and request)' : 'old layout (trace_spans, a row per span)'}: span statement over ${batches.length} batches, ${spans} spans, one client: ` +
        `WAL ${Math.round(bytes / spans)} bytes/span (${(records / spans).toFixed(2)} records/span, ${fpi} full-page images), execution ${((ms * 1000) / spans).toFixed(1)} µs/span; ` +
        `the traces statement ${Math.round(traceBytes / spans)} WAL bytes/span; stored: heap ${Math.round(Number(size.heap) / spans)} B/span, indexes ${Math.round(Number(size.idx) / spans)} B/span, TOAST ${Math.round(Number(size.toast) / spans)} B/span`)
    } finally {
      await client.end()
    }
  }
  return out
}

/** Decoding alone, in this process: spans/s of decodeProtobufTraces / decodeJsonTraces over the bodies. */
function decodeSpeed(encoding: Encoding, bodies: readonly Body[]): number {
  const t0 = performance.now()
  let spans = 0
  for (const b of bodies) {
    const decoded = encoding === 'protobuf' ? decodeProtobufTraces(b.bytes) : decodeJsonTraces(JSON.parse(b.bytes.toString('utf8')))
    spans += decoded.traces.reduce((n, t) => n + t.spans.length, 0)
  }
  return spans / ((performance.now() - t0) / 1000)
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}

function line(r: PhaseResult, raw?: PhaseResult): string {
  const ratio = raw === undefined ? '' : ` | ${(r.spansPerSecond / raw.spansPerSecond).toFixed(2)}`
  return `| ${r.name} | ${r.spans.toLocaleString('en-US')} | ${r.requests} | ${Math.round(r.spansPerSecond).toLocaleString('en-US')} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.maxMs.toFixed(1)} | ${r.over100 ?? ''} | ${r.failures}${ratio} |`
}

async function cli(): Promise<void> {
  const pgUrl = process.env.ASSAY_TEST_POSTGRES_URL
  if (pgUrl === undefined) throw new Error('set ASSAY_TEST_POSTGRES_URL: this benchmark measures the PostgreSQL store')
  checkpointUrl = pgUrl
  const exporters = arg('exporters', 16)
  // The raw insert's connections (default: one per exporter); --raw-clients 10 gives it the server's
  // default pool size instead, so its p99 is that of the database behind the same number of connections.
  const rawClients = arg('raw-clients', exporters)
  const spans = arg('spans', 120_000)
  const batch = arg('batch', 512)
  const rate = arg('rate', 20_000)
  const phases = (process.argv.find((a) => a.startsWith('--phases='))?.slice('--phases='.length) ?? 'protobuf,json,sdk,raw').split(',')
  const suffix = randomBytes(4).toString('hex')
  const latencyAt = process.argv.indexOf('--latencies')
  const latencyFile = latencyAt === -1 ? undefined : process.argv[latencyAt + 1]
  if (process.argv.some((a) => a.startsWith('--latencies=')) || (latencyAt !== -1 && (latencyFile === undefined || latencyFile.startsWith('--')))) throw new Error('--latencies takes a file name after a space: --latencies FILE')
  const schema = `bench_otlp_${suffix}`
  const rawSchema = `bench_otlp_raw_${suffix}`
  // The old layout (a trace_spans row per span, as before migration 16) beside it, for the ratio.
  const rawOldSchema = `bench_otlp_rawold_${suffix}`
  const walSchemas: Record<Layout, string> = { sets: `bench_otlp_walsets_${suffix}`, rows: `bench_otlp_walrows_${suffix}` }
  const location = `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${schema}`
  const setup = await openStore(location)
  const rawSetup = await openStore(`${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${rawSchema}`)
  const rawStores = phases.includes('raw') ? await Promise.all([rawOldSchema, walSchemas.sets, walSchemas.rows].map((name) => openStore(`${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${name}`))) : []
  let server: ServerProcess | undefined
  const loadBefore = os.loadavg()
  const startedAt = new Date().toISOString()
  try {
    const deployment = { id: randomBytes(16).toString('hex'), endpoint: 'support-bot', endpointVersion: '2.4.1', model: null, modelVersion: null, alias: null, codeHash: 'c'.repeat(40), inputs: [], environment: 'production', owner: 'bench', createdAt: Date.now() }
    await setup.createDeployment(deployment)
    await rawSetup.createDeployment(deployment)
    for (const store of rawStores) await store.createDeployment(deployment)
    if (rawStores.length > 0) {
      const admin = new pg.Client({ connectionString: pgUrl })
      await admin.connect()
      for (const name of [rawOldSchema, walSchemas.rows]) await admin.query(`SET search_path TO "${name}"; ${OLD_SPANS_TABLE}`)
      await admin.end()
    }
    const token = await makeAdminToken(setup)
    server = await startServerProcess(location)
    const results: PhaseResult[] = []
    const push = (r: PhaseResult): void => {
      results.push(r)
      console.error(`${line(r)} (load ${os.loadavg()[0].toFixed(2)})`)
    }
    const notes: string[] = []
    let offset = 0
    let expected = 0
    const run = async (encoding: Encoding): Promise<{ flat: Body[]; paced: Body[] }> => {
      const t0 = performance.now()
      const flat = await encodeBodies(encoding, deployment.id, spans, batch, (offset += 10_000_000))
      const paced = await encodeBodies(encoding, deployment.id, spans, batch, (offset += 10_000_000))
      notes.push(`${encoding}: ${flat.length + paced.length} bodies encoded by the real exporter in ${((performance.now() - t0) / 1000).toFixed(1)} s, mean ${Math.round(flat.reduce((n, b) => n + b.bytes.length, 0) / flat.length / 1024)} KiB; decode alone in one process: ${Math.round(decodeSpeed(encoding, flat.slice(0, 40))).toLocaleString('en-US')} spans/s`)
      push(await send(`${encoding} flat out`, server!.url, token, encoding, flat, exporters, 0))
      const pid = server!.proc.pid as number
      const pacedResult = await send(`${encoding} paced at ${rate.toLocaleString('en-US')} spans/s`, server!.url, token, encoding, paced, exporters, rate, pid)
      push(pacedResult)
      notes.push(`${encoding} paced: ${pacedResult.serverCpu}`)
      notes.push(`${encoding} paced: ${pacedResult.machine}`)
      const pacedName = `${encoding} paced at ${rate.toLocaleString('en-US')} spans/s`
      notes.push(`${encoding} paced: the senders started a request at most ${clientLag.max.toFixed(1)} ms after its due time (client-side delay, counted in the latency); the senders used ${(clientCpu.get(pacedName) ?? NaN).toFixed(2)} of a core`)
      expected += [...flat, ...paced].reduce((n, b) => n + b.spans, 0)
      return { flat, paced }
    }
    // A warm-up, not counted: a fresh server process's first seconds (JIT, its heap growing to its
    // working size, the decode threads starting) would otherwise fall in the first phase only.
    const warmup = arg('warmup', 20_480)
    if (warmup > 0 && (phases.includes('protobuf') || phases.includes('json'))) {
      const bodies = await encodeBodies('protobuf', deployment.id, warmup, batch, (offset += 10_000_000))
      const r = await send('warm-up (not counted)', server.url, token, 'protobuf', bodies, exporters, 0)
      if (r.failures > 0) throw new Error(`the warm-up had ${r.failures} failed requests`)
      expected += r.spans
      notes.push(`warm-up before the phases, not counted: ${r.spans.toLocaleString('en-US')} protobuf spans flat out`)
    }
    let protoBodies: { flat: Body[]; paced: Body[] } | undefined
    // The encodings in the order --phases names them: a phase later in a run writes into bigger
    // tables after more checkpoints, so `--phases=json,protobuf` against the default order tells
    // the encoding from its place (bench/results/otlp.md "JSON without the large string").
    for (const encoding of new Set(phases.filter((p): p is Encoding => p === 'protobuf' || p === 'json'))) {
      const bodies = await run(encoding)
      if (encoding === 'protobuf') protoBodies = bodies
    }
    if (phases.includes('sdk')) {
      for (const encoding of ['protobuf', 'json'] as const) {
        const r = await sdkPhase(server.url, token, encoding, deployment.id, exporters, Math.round(spans / 2), batch, rate)
        push(r)
        expected += r.spans
      }
    }
    const stored = await storedSpans(pgUrl, schema)
    let raw: PhaseResult | undefined
    if (phases.includes('raw')) {
      protoBodies ??= {
        flat: await encodeBodies('protobuf', deployment.id, spans, batch, (offset += 10_000_000)),
        paced: await encodeBodies('protobuf', deployment.id, spans, batch, (offset += 10_000_000)),
      }
      const flatRows = rowsOf(protoBodies.flat)
      const pacedRows = rowsOf(protoBodies.paced)
      notes.push(...(await walPerSpan(pgUrl, walSchemas, flatRows.slice(0, 40))))
      const flatSpans = protoBodies.flat.map((b) => b.spans)
      const pacedSpans = protoBodies.paced.map((b) => b.spans)
      raw = await rawPhase('raw INSERT … unnest flat out (pg client, same rows)', pgUrl, rawSchema, 'sets', flatRows, flatSpans, rawClients, 0)
      push(raw)
      const rawOld = await rawPhase('raw, old layout (a row per span), flat out', pgUrl, rawOldSchema, 'rows', flatRows, flatSpans, rawClients, 0)
      push(rawOld)
      const rawPaced = await rawPhase(`raw INSERT … unnest paced at ${rate.toLocaleString('en-US')} spans/s`, pgUrl, rawSchema, 'sets', pacedRows, pacedSpans, rawClients, rate)
      push(rawPaced)
      const rawOldPaced = await rawPhase(`raw, old layout (a row per span), paced at ${rate.toLocaleString('en-US')} spans/s`, pgUrl, rawOldSchema, 'rows', pacedRows, pacedSpans, rawClients, rate)
      push(rawOldPaced)
      notes.push(`new layout against old, raw insert of the same rows in this run: flat out ${(raw.spansPerSecond / rawOld.spansPerSecond).toFixed(2)}× the spans/s (p99 ${raw.p99Ms.toFixed(0)} against ${rawOld.p99Ms.toFixed(0)} ms); paced p99 ${rawPaced.p99Ms.toFixed(0)} against ${rawOldPaced.p99Ms.toFixed(0)} ms`)
      for (const writers of [1, 2]) {
        // A fresh schema each: the paced rows are already in rawSchema.
        const groupSchema = `bench_otlp_rawgroup${writers}_${suffix}`
        const groupStore = await openStore(`${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${groupSchema}`)
        await groupStore.createDeployment(deployment)
        await groupStore.close()
        const group = await rawGroupPhase(`raw, group commit by ${writers} writer${writers === 1 ? '' : 's'}, paced at ${rate.toLocaleString('en-US')} spans/s`, pgUrl, groupSchema, pacedRows, pacedSpans, writers, rate, arg('group-spans', 8192))
        push(group)
        const groupStored = await storedSpans(pgUrl, groupSchema)
        if (groupStored !== group.spans) notes.push(`PROBLEM: ${group.name} stored ${groupStored} spans of ${group.spans}`)
        await dropSchema(pgUrl, groupSchema)
      }
      const rawStored = await storedSpans(pgUrl, rawSchema)
      if (rawStored !== raw.spans + rawPaced.spans) notes.push(`PROBLEM: raw phases stored ${rawStored} spans of ${raw.spans + rawPaced.spans}`)
      const rawOldStored = await storedSpans(pgUrl, rawOldSchema, 'rows')
      if (rawOldStored !== rawOld.spans + rawOldPaced.spans) notes.push(`PROBLEM: raw old-layout phases stored ${rawOldStored} spans of ${rawOld.spans + rawOldPaced.spans}`)
    }
    const cpu = os.cpus()[0]?.model ?? '?'
    console.log(`machine: ${os.cpus().length} CPUs, ${cpu}, node ${process.version}; one assay server on PostgreSQL; ${exporters} exporters; raw insert by ${rawClients} clients; batches of ${batch} spans; ${spans.toLocaleString('en-US')} spans per phase`)
    console.log(`load average (1/5/15 min) before: ${loadBefore.map((l) => l.toFixed(2)).join(' / ')}, after: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`)
    for (const n of notes) console.log(n)
    console.log('')
    console.log(`| phase | spans | requests | spans/s | p50 ms | p99 ms | max ms | over 100 ms | failed requests${raw ? ' | of raw' : ''} |`)
    console.log(`|---|---:|---:|---:|---:|---:|---:|---:|---:|${raw ? '---:|' : ''}`)
    for (const r of results) console.log(line(r, raw))
    console.log('')
    console.log(stored === expected ? `verified: the server stored ${stored} spans, each acknowledged span exactly once` : `PROBLEM: the server stored ${stored} spans; ${expected} were acknowledged`)
    if (stored !== expected) process.exitCode = 1
    // Only a verified run's latencies: a run that lost or doubled spans is not one to pool.
    if (latencyFile !== undefined && stored === expected) {
      // One line per phase; a group phase's name loses its transaction count, so runs pool by phase.
      const connection = /[?&]host=\//.test(pgUrl) ? 'unix socket' : 'tcp'
      const lines = results.map((r): LatencyLine => ({ run: startedAt, connection, phase: r.name.replace(/ \(\d+ transactions\)$/, ''), latencies: r.latencies.map((l) => Math.round(l * 100) / 100) }))
      appendFileSync(latencyFile, lines.map((l) => `${JSON.stringify(l)}\n`).join(''))
    }
  } finally {
    await server?.stop()
    await setup.close()
    await rawSetup.close()
    for (const store of rawStores) await store.close()
    for (const name of [schema, rawSchema, rawOldSchema, walSchemas.sets, walSchemas.rows]) await dropSchema(pgUrl, name)
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await cli()
