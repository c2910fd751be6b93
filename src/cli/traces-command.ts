import { Command } from 'commander'
import type { Trace, TraceSpan } from '../record/production.js'
import { formatNumber } from '../number-format.js'
import { commandLine, type CliContext } from './context.js'
import { formatTime, PAGE_OPTIONS, parsePageOptions, writeJson, writeNextPage, writeTable } from './output.js'
import { auditOf, modelOf } from './deployments-command.js'

export function tracesCommand(ctx: CliContext): Command {
  const command = new Command('traces')
  command
    .command('ls')
    .description('traces of a deployment by start time: latency, tokens, cost, guardrail')
    .requiredOption('--deployment <id>', 'the deployment')
    .option('--filter <expr>', "only traces passing the trace filter, e.g. \"status = 'error' or latency_ms > 2000\" (docs/production.md)")
    .option(...PAGE_OPTIONS.limit)
    .option(...PAGE_OPTIONS.cursor)
    .option('--json', 'print JSON (schema assay.traces/v1)')
    .action(async (options: { deployment: string; filter?: string; limit?: string; cursor?: string; json?: boolean }, self: Command) => {
      const page = parsePageOptions(options) ?? { limit: undefined, cursor: undefined }
      const { traces, nextCursor } = await ctx.withAssay(self, (assay) => assay.tracesPage({ deployment: options.deployment, filter: options.filter, ...page }))
      if (options.json) return writeJson(ctx.io, 'assay.traces/v1', { traces, nextCursor })
      writeNextPage(ctx.io, 'traces', [commandLine(self), ['--deployment', options.deployment], ['--filter', options.filter], ['--limit', options.limit]], nextCursor)
      if (traces.length === 0) return void ctx.io.out.write(options.filter === undefined ? 'no traces for this deployment yet\n' : 'no traces of this deployment pass the filter\n')
      writeTable(
        ctx.io,
        ['TRACE', 'START', 'STATUS', 'LATENCY MS', 'TOKENS IN/OUT', 'COST USD', 'GUARDRAIL', 'OPERATION'],
        traces.map((t) => [t.traceId, formatTime(t.startTime), t.status, formatNumber(t.latencyMs), `${t.inputTokens ?? '-'}/${t.outputTokens ?? '-'}`, t.costUsd === null ? '-' : formatNumber(t.costUsd), t.guardrailAction === null ? '-' : `${t.guardrailAction} ${t.guardrailOutcome ?? ''}`.trim(), t.operation ?? '-']),
      )
    })
  command
    .command('show')
    .description('one trace: the lineage header (deployment, model version, run) and the span tree with timing, tokens and cost')
    .argument('<trace>', 'trace id')
    .option('--json', 'print JSON (schema assay.trace/v1)')
    .action(async (traceId: string, options: { json?: boolean }, self: Command) => {
      const { trace, lineage } = await ctx.withAssay(self, async (assay) => ({ trace: await assay.getTrace(traceId), lineage: await assay.servingLineage(traceId) }))
      if (options.json) return writeJson(ctx.io, 'assay.trace/v1', { trace, lineage })
      const out = ctx.io.out
      out.write(`trace ${trace.traceId}  ${formatTime(trace.startTime)}  ${trace.status}  ${formatNumber(trace.latencyMs)} ms\n`)
      if (lineage.kind === 'serving') {
        const d = lineage.deployment
        out.write(`deployment ${d.id}  ${d.endpoint} ${d.endpointVersion}  model ${modelOf(d)}  ${auditOf(d)}\n`)
        if (lineage.run !== null) out.write(`run ${lineage.run.id} (${lineage.run.experiment})  code ${lineage.run.code.commit ?? '-'}\n`)
      }
      const fields: [string, string | number | null][] = [
        ['operation', trace.operation], ['model', trace.requestModel], ['tokens in', trace.inputTokens], ['tokens out', trace.outputTokens], ['cost usd', trace.costUsd],
        ['conversation', trace.conversationId], ['prompt', trace.promptName === null ? null : `${trace.promptName} v${trace.promptVersion ?? '?'}`], ['index', trace.retrievalIndexVersion],
        ['guardrail', trace.guardrailAction === null ? null : `${trace.guardrailAction} -> ${trace.guardrailOutcome ?? '?'}`], ['output hash', trace.outputHash],
      ]
      for (const [name, value] of fields) if (value !== null) out.write(`  ${name.padEnd(13)}${typeof value === 'number' ? formatNumber(value) : value}\n`)
      out.write('spans\n')
      for (const line of spanTree(trace)) out.write(`${line}\n`)
      for (const f of trace.feedback) out.write(`feedback ${f.name}=${formatNumber(f.value)} from ${f.source} at ${formatTime(f.at)}\n`)
    })
  return command
}

/** The spans as an indented tree (children by start time), each with its offset, duration, tokens and cost. */
function spanTree(trace: Trace): string[] {
  const ids = new Set(trace.spans.map((s) => s.spanId))
  const children = new Map<string | null, TraceSpan[]>()
  for (const span of trace.spans) {
    const parent = span.parentSpanId !== null && ids.has(span.parentSpanId) ? span.parentSpanId : null
    children.set(parent, [...(children.get(parent) ?? []), span])
  }
  const lines: string[] = []
  const walk = (parent: string | null, depth: number): void => {
    for (const span of children.get(parent) ?? []) {
      const a = span.attributes
      const extra = [
        typeof a['gen_ai.usage.input_tokens'] === 'number' ? `in ${a['gen_ai.usage.input_tokens']}` : '',
        typeof a['gen_ai.usage.output_tokens'] === 'number' ? `out ${a['gen_ai.usage.output_tokens']}` : '',
        typeof a['assay.cost.usd'] === 'number' ? `$${formatNumber(a['assay.cost.usd'])}` : '',
        span.status === 'error' ? 'ERROR' : '',
      ].filter((x) => x !== '').join(' ')
      lines.push(`  ${'  '.repeat(depth)}${span.name}  +${formatNumber(span.startTime - trace.startTime)} ms  ${formatNumber(span.endTime - span.startTime)} ms  ${span.kind}${extra === '' ? '' : `  ${extra}`}`)
      walk(span.spanId, depth + 1)
    }
  }
  walk(null, 0)
  return lines
}
