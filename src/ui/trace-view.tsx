import type { JsonValue } from '../record/types.js'
import { fmt, getJson, time } from './api.js'
import { DatasetHash } from './dataset-hash.js'
import { ErrorNote } from './error-note.js'
import type { WireLineage, WireSpan, WireTrace } from './evidence-types.js'
import { href } from './route.js'
import { useData } from './use-data.js'
import './evidence.css'

/** A span and its depth in the tree, in tree order (a parent before its children, siblings by start time). */
interface Placed {
  span: WireSpan
  depth: number
}

/** The span tree, flattened in order; a span whose parent is not in the trace is a root. */
export function spanTree(spans: readonly WireSpan[]): Placed[] {
  const ids = new Set(spans.map((s) => s.spanId))
  const children = new Map<string | null, WireSpan[]>()
  for (const s of spans) {
    const parent = s.parentSpanId !== null && ids.has(s.parentSpanId) ? s.parentSpanId : null
    const list = children.get(parent) ?? []
    list.push(s)
    children.set(parent, list)
  }
  for (const list of children.values()) list.sort((a, b) => a.startTime - b.startTime || a.spanId.localeCompare(b.spanId))
  const out: Placed[] = []
  const visit = (parent: string | null, depth: number): void => {
    for (const s of children.get(parent) ?? []) {
      out.push({ span: s, depth })
      visit(s.spanId, depth + 1)
    }
  }
  visit(null, 0)
  return out
}

const numberAttr = (attrs: { [key: string]: JsonValue }, key: string): number | null => (typeof attrs[key] === 'number' ? (attrs[key] as number) : null)
const textAttr = (attrs: { [key: string]: JsonValue }, key: string): string | null => (attrs[key] === undefined || attrs[key] === null ? null : String(attrs[key]))

function LineageHeader({ deploymentId }: { deploymentId: string }) {
  const loaded = useData(`lineage:${deploymentId}`, () => getJson<{ lineage: WireLineage }>(`/api/v1/deployments/${deploymentId}/lineage`).then((r) => r.lineage))
  if (loaded.state === 'loading') return <p role="status">Loading lineage…</p>
  if (loaded.state === 'error') return <ErrorNote error={loaded.error} />
  const { deployment: d, modelVersion: mv, run, gaps } = loaded.data
  return (
    <p class="lineage">
      Served by <a href={href(['deployment', d.id])}>{`${d.endpoint} ${d.endpointVersion}`}</a>
      {mv !== null && (
        <>
          {' '}
          → <a href={href(['registry', mv.model])}>{mv.model}</a> version {mv.version}
        </>
      )}
      {run !== null && (
        <>
          {' '}
          → run <a href={href(['run', run.id])}>{run.name}</a> (code {run.code.commit === undefined ? 'none' : <code title={run.code.commit}>{run.code.commit.slice(0, 10)}</code>}
          {run.datasets.map((ds) => (
            <span key={ds.name}>
              , {ds.name} <DatasetHash sha={ds.sha256} label="sha256 " />
            </span>
          ))}
          )
        </>
      )}
      {gaps.length > 0 && <span class="flags"> {gaps.join('; ')}</span>}
    </p>
  )
}

/** One trace (#/trace/ID): the lineage header, its totals, the span tree with timing, tokens, cost and guardrail, and feedback. */
export function TraceView({ id }: { id: string }) {
  const loaded = useData(`trace:${id}`, () => getJson<{ trace: WireTrace }>(`/api/v1/traces/${encodeURIComponent(id)}`).then((r) => r.trace))
  return (
    <section aria-labelledby="trace-title">
      <h1 id="trace-title">Trace {id.slice(0, 12)}</h1>
      {loaded.state === 'loading' && <p role="status">Loading trace…</p>}
      {loaded.state === 'error' && <ErrorNote error={loaded.error} />}
      {loaded.state === 'ready' && <TraceBody trace={loaded.data} />}
    </section>
  )
}

function TraceBody({ trace: t }: { trace: WireTrace }) {
  const placed = spanTree(t.spans)
  const start = Math.min(...t.spans.map((s) => s.startTime))
  const end = Math.max(...t.spans.map((s) => s.endTime))
  const total = Math.max(end - start, 1e-9)
  return (
    <>
      <LineageHeader deploymentId={t.deploymentId} />
      <dl class="pairs">
        <div>
          <dt>Spans</dt>
          <dd>{t.spanCount} spans</dd>
        </div>
        <div>
          <dt>Time</dt>
          <dd>
            {time(t.startTime)}, {fmt(t.latencyMs)} ms, {t.status}
          </dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd>
            {t.inputTokens ?? 0} in, {t.outputTokens ?? 0} out
          </dd>
        </div>
        <div>
          <dt>Cost (USD)</dt>
          <dd>{t.costUsd === null ? 'not recorded' : fmt(t.costUsd)}</dd>
        </div>
        <div>
          <dt>Guardrail</dt>
          <dd>{t.guardrailAction === null ? 'not recorded' : `${t.guardrailAction}${t.guardrailOutcome === null ? '' : `: ${t.guardrailOutcome}`}`}</dd>
        </div>
        <div>
          <dt>Model, prompt, index</dt>
          <dd>
            {[t.operation, t.requestModel, t.promptName === null && t.promptVersion === null ? null : `prompt ${t.promptName ?? ''}@${t.promptVersion ?? ''}`, t.retrievalIndexVersion === null ? null : `index ${t.retrievalIndexVersion}`]
              .filter((x) => x !== null)
              .join(', ') || 'not recorded'}
          </dd>
        </div>
        <div>
          <dt>Conversation, output</dt>
          <dd>
            {t.conversationId ?? 'none'}, {t.outputHash ?? 'no output hash'}
          </dd>
        </div>
      </dl>
      <table class="spans">
        <caption>Span tree</caption>
        <thead>
          <tr>
            <th scope="col">Span</th>
            <th scope="col">Kind</th>
            <th scope="col">Start (ms)</th>
            <th scope="col">Duration (ms)</th>
            <th scope="col">Tokens</th>
            <th scope="col">Cost (USD)</th>
            <th scope="col">Guardrail</th>
            <th scope="col">Status</th>
            <th scope="col">Timing</th>
          </tr>
        </thead>
        <tbody>
          {placed.map(({ span: s, depth }) => {
            const input = numberAttr(s.attributes, 'gen_ai.usage.input_tokens')
            const output = numberAttr(s.attributes, 'gen_ai.usage.output_tokens')
            const cost = numberAttr(s.attributes, 'assay.cost.usd')
            const action = textAttr(s.attributes, 'assay.guardrail.action')
            const outcome = textAttr(s.attributes, 'assay.guardrail.outcome')
            return (
              <tr key={s.spanId} data-depth={depth}>
                <th scope="row">
                  <span class="depth" style={{ paddingLeft: `${depth * 1.25}rem` }}>
                    {depth > 0 ? '└ ' : ''}
                    {s.name}
                  </span>
                </th>
                <td>{s.kind}</td>
                <td class="num">{fmt(s.startTime - start)}</td>
                <td class="num">{fmt(s.endTime - s.startTime)}</td>
                <td class="num">{input === null && output === null ? '' : `${input ?? 0} in / ${output ?? 0} out`}</td>
                <td class="num">{fmt(cost)}</td>
                <td>{action === null ? '' : `${action}${outcome === null ? '' : `: ${outcome}`}`}</td>
                <td>
                  {s.status}
                  {s.statusMessage !== null && `: ${s.statusMessage}`}
                </td>
                <td class="bar">
                  <div class="track" role="img" aria-label={`${s.name} from ${fmt(s.startTime - start)} ms for ${fmt(s.endTime - s.startTime)} ms`}>
                    <div class={`fill ${s.status === 'error' ? 'error' : ''}`} style={{ left: `${((s.startTime - start) / total) * 100}%`, width: `${((s.endTime - s.startTime) / total) * 100}%` }} />
                  </div>
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
      {t.feedback.length > 0 && (
        <table>
          <caption>Feedback</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Value</th>
              <th scope="col">Source</th>
              <th scope="col">At</th>
            </tr>
          </thead>
          <tbody>
            {t.feedback.map((f) => (
              <tr key={f.id}>
                <th scope="row">{f.name}</th>
                <td class="num">{fmt(f.value)}</td>
                <td>{f.source}</td>
                <td>{time(f.at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  )
}
