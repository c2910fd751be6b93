import type { JsonValue } from '../record/types.js'
import { fmt, fmtP, time, type WireNumber } from './api.js'
import type { WireCanaryDecision, WireMonitorCheck, WireMonitorDecision } from './evidence-types.js'
import { intervalText } from './gate-decision.js'
import { href } from './route.js'
import './evidence.css'

const isWireNumber = (v: JsonValue): v is WireNumber => typeof v === 'number' || v === 'NaN' || v === 'Infinity' || v === '-Infinity'

/** A check's evidence as "name value" facts: numbers, intervals and words; nested results stay in the JSON. */
function facts(evidence: { [key: string]: JsonValue }): string[] {
  const out: string[] = []
  for (const [key, value] of Object.entries(evidence)) {
    if (key === 'pValue' || key === 'adjustedPValue') {
      if (value !== null && isWireNumber(value)) out.push(`${key} ${fmtP(value)}`)
    } else if (isWireNumber(value)) out.push(`${key} ${fmt(value)}`)
    else if (typeof value === 'string' || typeof value === 'boolean') out.push(`${key} ${String(value)}`)
    else if (Array.isArray(value) && value.length === 2 && value.every(isWireNumber)) out.push(`${key} ${intervalText(value as [WireNumber, WireNumber])}`)
    else if (Array.isArray(value) && value.length <= 8 && value.every((v) => typeof v === 'string')) out.push(`${key} ${value.join(', ') || 'none'}`)
  }
  return out
}

function ChecksTable({ checks }: { checks: WireMonitorCheck[] }) {
  return (
    <table class="monitor-checks">
      <caption>Checks</caption>
      <thead>
        <tr>
          <th scope="col">Check</th>
          <th scope="col">Kind</th>
          <th scope="col">Status</th>
          <th scope="col">Decides</th>
          <th scope="col">Action</th>
          <th scope="col">Evidence</th>
        </tr>
      </thead>
      <tbody>
        {checks.map((c, i) => (
          <tr key={i}>
            <th scope="row">{c.name}</th>
            <td>{c.check}</td>
            <td class={`outcome ${c.status === 'pass' ? 'pass' : c.status === 'fail' ? 'block' : 'warn'}`}>{c.status}</td>
            <td>{c.decision}</td>
            <td>{c.action}</td>
            <td>
              {c.reason}
              <div class="hint">{facts(c.evidence).join(' · ')}</div>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** A monitor-decision audit record's evidence: the decision, its window and reference, and every check with its statistics. */
export function MonitorDecision({ evidence: e, seq }: { evidence: WireMonitorDecision; seq: number }) {
  const d = e.deployment
  const ref = e.reference
  return (
    <section aria-labelledby={`monitor-${seq}`}>
      <h2 id={`monitor-${seq}`}>
        Monitor {e.monitor.name}: {e.decision}
      </h2>
      <p>{e.reason}</p>
      <dl class="pairs">
        <div>
          <dt>Deployment</dt>
          <dd>
            <a href={href(['deployment', d.id])}>
              {d.endpoint} {d.endpointVersion}
            </a>
            {d.model !== null && (
              <>
                , <a href={href(['registry', d.model])}>{d.model}</a> version {d.modelVersion ?? '?'}
              </>
            )}
            {d.unauditable.length > 0 && <span class="flags"> unauditable: no {d.unauditable.join(', no ')}</span>}
          </dd>
        </div>
        <div>
          <dt>Window</dt>
          <dd>
            {time(e.window.from)} to {time(e.window.to)}, {e.window.traces} traces
          </dd>
        </div>
        <div>
          <dt>Reference</dt>
          <dd>
            {ref.kind === 'run' && ref.run !== undefined ? (
              <>
                run <a href={href(['run', ref.run])}>{ref.run.slice(0, 8)}</a>
                {ref.dataset !== undefined && `, dataset ${ref.dataset}`}
              </>
            ) : (
              `trailing window ${time(ref.from ?? null)} to ${time(ref.to ?? null)}`
            )}
            , {ref.traces} traces
          </dd>
        </div>
        <div>
          <dt>Monitor file</dt>
          <dd>
            {e.monitor.source}, sha256 <code title={e.monitor.sha256}>{e.monitor.sha256.slice(0, 16)}</code>
          </dd>
        </div>
        {e.result.multiplicity !== null && (
          <div>
            <dt>Multiplicity</dt>
            <dd>
              {e.result.multiplicity.method} over {e.result.multiplicity.tests} tests at α {fmt(e.result.multiplicity.alpha)}
            </dd>
          </div>
        )}
        <div>
          <dt>Actions, next</dt>
          <dd>
            {e.actions.length === 0 ? 'none' : e.actions.join(', ')}
            {e.next !== null && `; next: ${e.next}`}
            {e.escalation !== null && `; escalate to ${e.escalation}`}
          </dd>
        </div>
        <div>
          <dt>Recorded</dt>
          <dd>
            {time(e.checkedAt)} by {e.actor}, <a href={href(['audit', String(seq)])}>audit record {seq}</a>
          </dd>
        </div>
      </dl>
      <ChecksTable checks={e.result.checks} />
    </section>
  )
}

/** A canary-decision audit record's evidence: the two deployments and each metric's comparison. */
export function CanaryDecision({ evidence: e, seq }: { evidence: WireCanaryDecision; seq: number }) {
  const side = (s: WireCanaryDecision['champion']) => (
    <>
      <a href={href(['deployment', s.id])}>{s.endpoint}</a>
      {s.model !== null && ` (${s.model} version ${s.modelVersion ?? '?'})`}, {s.traces} traces
    </>
  )
  return (
    <section aria-labelledby={`canary-${seq}`}>
      <h2 id={`canary-${seq}`}>Canary: {e.decision}</h2>
      <p>{e.reason}</p>
      <dl class="pairs">
        <div>
          <dt>Champion</dt>
          <dd>{side(e.champion)}</dd>
        </div>
        <div>
          <dt>Challenger</dt>
          <dd>{side(e.challenger)}</dd>
        </div>
        <div>
          <dt>Window</dt>
          <dd>
            {time(e.window.from)} to {time(e.window.to)}, {e.result.paired ? 'paired' : 'unpaired'}, {fmt(Number(e.result.confidenceLevel) * 100, 3)}% intervals
          </dd>
        </div>
        <div>
          <dt>Next, recorded</dt>
          <dd>
            {e.next}; {time(e.checkedAt)} by {e.actor}, <a href={href(['audit', String(seq)])}>audit record {seq}</a>
          </dd>
        </div>
      </dl>
      <table>
        <caption>Metrics (challenger − champion)</caption>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col">Verdict</th>
            <th scope="col">Estimate</th>
            <th scope="col">Interval</th>
            <th scope="col">p-value</th>
            <th scope="col">Method</th>
            <th scope="col">n</th>
          </tr>
        </thead>
        <tbody>
          {e.result.metrics.map((m) => (
            <tr key={m.metric}>
              <th scope="row">{m.metric}</th>
              <td>{m.verdict}</td>
              <td class="num">{fmt(m.estimate)}</td>
              <td class="num">{intervalText(m.ci)}</td>
              <td class="num">{fmtP(m.pValue)}</td>
              <td>{m.method}</td>
              <td class="num">
                {m.nChallenger} / {m.nChampion}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
