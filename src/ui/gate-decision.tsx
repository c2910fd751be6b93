import { fmt, fmtP, num, time, type WireNumber } from './api.js'
import { DatasetHash } from './dataset-hash.js'
import type { WireCriterion, WireEvidenceSide, WireGateEvidence } from './evidence-types.js'
import { href } from './route.js'
import './evidence.css'

/** A criterion's interval as text: "[lower, upper]", an open end as −∞ or ∞. */
export function intervalText(ci: [WireNumber, WireNumber] | null): string {
  return ci === null ? 'none' : `[${fmt(ci[0])}, ${fmt(ci[1])}]`
}

const WIDTH = 320
const HEIGHT = 44
const PAD = 12

/**
 * One criterion drawn: its interval as a bar, the estimate as a dot, the threshold as a line, in
 * the outcome's colour. An open end of a one-sided bound runs to the edge with an arrow. The
 * numbers are in the table beside it and in the image's label.
 */
export function IntervalPlot({ criterion }: { criterion: WireCriterion }) {
  const ci = criterion.ci === null ? null : ([num(criterion.ci[0]), num(criterion.ci[1])] as const)
  const estimate = num(criterion.estimate)
  const threshold = num(criterion.threshold)
  const finite = [ci?.[0], ci?.[1], estimate, threshold].filter((v): v is number => v !== undefined && Number.isFinite(v))
  const label = `${criterion.name}: interval ${intervalText(criterion.ci)}, estimate ${fmt(criterion.estimate)}, threshold ${fmt(criterion.threshold)}, ${criterion.outcome}`
  if (finite.length === 0) {
    return (
      <svg class="interval" role="img" aria-label={label} width={WIDTH} height={HEIGHT}>
        <text x={PAD} y={HEIGHT / 2}>
          not evaluated
        </text>
      </svg>
    )
  }
  let lo = Math.min(...finite)
  let hi = Math.max(...finite)
  if (hi - lo < 1e-12) {
    lo -= Math.abs(lo) * 0.1 + 1e-3
    hi += Math.abs(hi) * 0.1 + 1e-3
  }
  const span = hi - lo
  lo -= span * 0.15
  hi += span * 0.15
  const x = (v: number): number => (v === -Infinity ? PAD / 2 : v === Infinity ? WIDTH - PAD / 2 : PAD + ((v - lo) / (hi - lo)) * (WIDTH - 2 * PAD))
  const y = HEIGHT / 2 - 4
  return (
    <svg class={`interval ${criterion.outcome}`} role="img" aria-label={label} width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`}>
      <line class="axis" x1={PAD / 2} x2={WIDTH - PAD / 2} y1={HEIGHT - 10} y2={HEIGHT - 10} />
      {ci !== null && !Number.isNaN(ci[0]) && !Number.isNaN(ci[1]) && (
        <>
          <line class="ci" x1={x(ci[0])} x2={x(ci[1])} y1={y} y2={y} />
          {ci[0] === -Infinity ? <path class="open" d={`M${x(ci[0]) + 6},${y - 5} L${x(ci[0])},${y} L${x(ci[0]) + 6},${y + 5}`} /> : <line class="ci" x1={x(ci[0])} x2={x(ci[0])} y1={y - 6} y2={y + 6} />}
          {ci[1] === Infinity ? <path class="open" d={`M${x(ci[1]) - 6},${y - 5} L${x(ci[1])},${y} L${x(ci[1]) - 6},${y + 5}`} /> : <line class="ci" x1={x(ci[1])} x2={x(ci[1])} y1={y - 6} y2={y + 6} />}
        </>
      )}
      {Number.isFinite(estimate) && <circle class="estimate" cx={x(estimate)} cy={y} r={4} />}
      {Number.isFinite(threshold) && (
        <>
          <line class="threshold" x1={x(threshold)} x2={x(threshold)} y1={2} y2={HEIGHT - 6} />
          <text class="tick" x={x(threshold)} y={HEIGHT - 1}>
            {fmt(threshold, 3)}
          </text>
        </>
      )}
    </svg>
  )
}

const MARK = { pass: 'PASS', warn: 'WARN', block: 'BLOCK', 'not-evaluated': 'SKIP' } as const

/** A side's runs with the seed, code and dataset hashes behind every number of the decision. */
function Side({ title, side }: { title: string; side: WireEvidenceSide | null }) {
  if (side === null) return <p>{title}: none</p>
  return (
    <div class="side">
      <h4>
        {title}: {side.label}
      </h4>
      <p class="hint">{side.how}</p>
      {side.modelVersion !== null && (
        <p>
          model <a href={href(['registry', side.modelVersion.model])}>{side.modelVersion.model}</a> version {side.modelVersion.version}
          {side.modelVersion.artifact !== null && (
            <>
              , artifact {side.modelVersion.artifact.name} <code title={side.modelVersion.artifact.sha256}>sha256 {side.modelVersion.artifact.sha256.slice(0, 12)}</code>
            </>
          )}
        </p>
      )}
      <ul>
        {side.runs.map((r) => (
          <li key={r.runId}>
            run <a href={href(['run', r.runId])}>{r.runId.slice(0, 8)}</a>, seed {r.seed}, owner {r.owner}, code {r.code.commit === null ? 'none' : <code title={r.code.commit}>{r.code.commit.slice(0, 10)}</code>}
            {r.code.dirty === true ? ' (dirty)' : ''}
            {r.datasets.map((d) => (
              <span key={d.name}>
                , {d.name} <DatasetHash sha={d.sha256} label="sha256 " />
              </span>
            ))}
          </li>
        ))}
      </ul>
    </div>
  )
}

/** The dataset hash a criterion read on the candidate's first run, when the evidence holds it. */
function datasetHash(e: WireGateEvidence, dataset: string | null): string | null {
  if (dataset === null) return null
  return e.candidate.runs[0]?.datasets.find((d) => d.name === dataset)?.sha256 ?? null
}

/** A gate check's evidence (the body of a gate-check audit record), drawn: checks, each criterion against its threshold, both sides. */
export function GateDecision({ evidence: e, seq }: { evidence: WireGateEvidence; seq: number }) {
  return (
    <section aria-labelledby={`gate-${seq}`} class="gate-decision">
      <h2 id={`gate-${seq}`} class={`decision ${e.decision}`}>
        Gate {e.gate.name}: {e.decision.toUpperCase()}
      </h2>
      <p>
        Next: {e.nextAction}
        {e.reasons.length > 0 && ` (${e.reasons.join('; ')})`}
      </p>
      <dl class="pairs">
        <div>
          <dt>Gate file</dt>
          <dd>
            {e.gate.source}, sha256 <code title={e.gate.sha256}>{e.gate.sha256.slice(0, 16)}</code>; owner {e.gate.owner}, escalation {e.gate.escalation}, rollback {e.gate.rollback}
          </dd>
        </div>
        <div>
          <dt>Checked</dt>
          <dd>
            {time(e.checkedAt)} by {e.actor} (assay {e.assayVersion}), <a href={href(['audit', String(seq)])}>audit record {seq}</a>
          </dd>
        </div>
      </dl>
      <table class="criteria">
        <caption>Criteria: each interval against its threshold</caption>
        <thead>
          <tr>
            <th scope="col">Criterion</th>
            <th scope="col">Outcome</th>
            <th scope="col">Estimate</th>
            <th scope="col">Interval</th>
            <th scope="col">Threshold</th>
            <th scope="col">p-value</th>
            <th scope="col">Test</th>
            <th scope="col">n</th>
            <th scope="col">Seed</th>
            <th scope="col">Drawn</th>
          </tr>
        </thead>
        <tbody>
          {e.criteria.map((c) => {
            const hash = datasetHash(e, c.dataset)
            return (
              <tr key={c.name}>
                <th scope="row">
                  {c.name}
                  <div class="hint">
                    {c.kind}, {c.metric}
                    {c.dataset !== null && (
                      <>
                        {' '}
                        on {c.dataset}
                        {hash !== null && (
                          <>
                            {' '}
                            <DatasetHash sha={hash} label="sha256 " />
                          </>
                        )}
                      </>
                    )}
                    ; {c.rule}
                  </div>
                </th>
                <td class={`outcome ${c.outcome}`}>{MARK[c.status === 'not-evaluated' ? 'not-evaluated' : c.outcome]}</td>
                <td class="num">{fmt(c.estimate)}</td>
                <td class="num">{intervalText(c.ci)}</td>
                <td class="num">{fmt(c.threshold)}</td>
                <td class="num">{c.pValue === null ? '' : fmtP(c.pValue)}</td>
                <td>
                  {c.test}
                  {c.confidenceLevel !== null && `, ${fmt(num(c.confidenceLevel) * 100, 3)}%`}, α {fmt(c.alpha)}
                </td>
                <td class="num">
                  {c.sampleSizes.pairs !== null ? `${c.sampleSizes.pairs} pairs` : `${c.sampleSizes.candidate}${c.sampleSizes.baseline === null ? '' : ` / ${c.sampleSizes.baseline}`}`}
                  {c.clusters !== null && `, ${c.clusters} clusters`}
                </td>
                <td class="num">
                  {c.seed ?? ''}
                  {c.resamples !== null && ` (${c.resamples} resamples)`}
                </td>
                <td>
                  <IntervalPlot criterion={c} />
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
      <ul class="messages">
        {e.criteria.map((c) => (
          <li key={c.name}>
            <strong>{c.name}</strong>: {c.message} <span class="hint">Rationale: {c.rationale}</span>
            {c.warnings.map((w) => (
              <span key={w.code}>
                {' '}
                <strong>{w.code}</strong> {w.message}
              </span>
            ))}
          </li>
        ))}
      </ul>
      <table>
        <caption>Contract checks</caption>
        <thead>
          <tr>
            <th scope="col">Check</th>
            <th scope="col">Status</th>
            <th scope="col">Finding</th>
          </tr>
        </thead>
        <tbody>
          {e.checks.map((c) => (
            <tr key={c.check}>
              <th scope="row">{c.check}</th>
              <td class={`outcome ${c.status}`}>{MARK[c.status]}</td>
              <td>
                {c.message}
                {c.findings.length > 0 && (
                  <ul>
                    {c.findings.map((f, i) => (
                      <li key={i}>{f}</li>
                    ))}
                  </ul>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>The runs behind the numbers</h3>
      <Side title="Candidate" side={e.candidate} />
      <Side title="Baseline" side={e.baseline} />
    </section>
  )
}
