import { jsonText, junitDocument, xml } from '../gates/gate-report.js'
import type { CheckCanaryResult } from './check-canary.js'
import type { CheckMonitorResult } from './check-monitor.js'
import type { MonitorDecision } from './monitor-spec.js'

/** Renderings of a monitor check (text, json, markdown, junit) and a canary check; pure (docs/production.md). */

export type MonitorReportFormat = 'text' | 'json' | 'markdown' | 'junit'
export const MONITOR_REPORT_FORMATS: readonly MonitorReportFormat[] = ['text', 'json', 'markdown', 'junit']

/** Exit codes of `assay monitor check`, as gate checks: 0 ok, 3 warn, 1 an action (rollback, retrain, escalate); 2 is a usage or input error. */
export const MONITOR_EXIT_CODES: Record<MonitorDecision, number> = { ok: 0, warn: 3, retrain: 1, rollback: 1, escalate: 1 }

const MARK = { pass: 'PASS', fail: 'FAIL', marginal: 'MARGINAL', insufficient: 'INSUFFICIENT' } as const

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms)
}

function windowLine(r: CheckMonitorResult): string {
  const e = r.evidence
  const ref = e.reference.kind === 'run' ? `run ${e.reference.run} (${e.reference.dataset})` : `trailing ${iso(e.reference.from as number)} .. ${iso(e.reference.to as number)}`
  return `window ${iso(e.window.from)} .. ${iso(e.window.to)}: ${e.window.traces} traces; reference ${ref}: ${e.reference.traces} rows`
}

function actionLines(r: CheckMonitorResult): string[] {
  const lines: string[] = []
  if (r.rolledBack !== null) {
    lines.push(`rolled back ${r.rolledBack.event.model}@${r.rolledBack.event.alias} from version ${r.rolledBack.event.previousVersion} to version ${r.rolledBack.event.version}; audit record ${r.rolledBack.audit.seq}`)
  } else {
    if (r.rollbackRefused !== null) lines.push(`automatic rollback not made (${r.rollbackRefused.code}): ${r.rollbackRefused.message}`)
    if (r.evidence.next !== null) lines.push(`next: ${r.evidence.next}`)
  }
  return lines
}

export function renderMonitorText(r: CheckMonitorResult): string {
  const e = r.evidence
  const lines = [
    `Monitor ${e.monitor.name} on ${e.deployment.endpoint} (deployment ${e.deployment.id}${e.deployment.model === null ? '' : `, ${e.deployment.model} version ${e.deployment.modelVersion ?? '?'}`}): ${e.decision.toUpperCase()}`,
    `  ${e.reason}`,
    `  ${windowLine(r)}`,
  ]
  for (const c of e.result.checks) lines.push(`  ${MARK[c.status].padEnd(12)} ${c.check}: ${c.name}: ${c.reason}`)
  for (const line of actionLines(r)) lines.push(line)
  lines.push(r.audit === null ? 'not recorded (--no-record)' : `audit record ${r.audit.seq} (monitor-decision, ${r.audit.hash.slice(0, 16)}); monitor sha256 ${e.monitor.sha256}`)
  return `${lines.join('\n')}\n`
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

export function renderMonitorMarkdown(r: CheckMonitorResult): string {
  const e = r.evidence
  const lines = [
    `## Monitor ${cell(e.monitor.name)}: **${e.decision}**`,
    '',
    cell(e.reason),
    '',
    `${cell(windowLine(r))}. Monitor sha256 \`${e.monitor.sha256}\`.`,
    '',
    '| check | name | status | decision | reason |',
    '| --- | --- | --- | --- | --- |',
    ...e.result.checks.map((c) => `| ${c.check} | ${cell(c.name)} | ${c.status} | ${c.decision} | ${cell(c.reason)} |`),
    '',
    ...actionLines(r).map((line) => `${cell(line)}  `),
    r.audit === null ? 'Not recorded.' : `Audit record ${r.audit.seq} (\`${r.audit.hash}\`).`,
    '',
  ]
  return lines.join('\n')
}

/** JUnit XML: one testcase per check; a check deciding rollback, retrain or escalate is a failure, a warning a skipped test. */
export function renderMonitorJunit(r: CheckMonitorResult): string {
  const e = r.evidence
  let failures = 0
  let skipped = 0
  const cases = e.result.checks.map((c) => {
    const head = `    <testcase classname="monitor.${xml(e.monitor.name)}.${c.check}" name="${xml(c.name)}"`
    if (c.status === 'pass') return `${head}/>`
    if (c.decision === 'warn') {
      skipped++
      return `${head}>\n      <skipped message="${xml(`warn: ${c.reason}`)}"/>\n    </testcase>`
    }
    failures++
    return `${head}>\n      <failure message="${xml(c.reason)}" type="${c.decision}">${xml(JSON.stringify(c.evidence))}</failure>\n    </testcase>`
  })
  return junitDocument({
    suites: 'assay monitor',
    suite: e.monitor.name,
    checkedAt: e.checkedAt,
    failures,
    skipped,
    properties: { decision: e.decision, next: e.next ?? '', monitorSha256: e.monitor.sha256, deployment: e.deployment.id },
    cases,
  })
}

export function renderMonitorReport(format: MonitorReportFormat, r: CheckMonitorResult): string {
  switch (format) {
    case 'json':
      return `${jsonText({ schema: 'assay.monitor-check/v1', ...r })}\n`
    case 'markdown':
      return renderMonitorMarkdown(r)
    case 'junit':
      return renderMonitorJunit(r)
    default:
      return renderMonitorText(r)
  }
}

export function renderCanaryText(r: CheckCanaryResult): string {
  const e = r.evidence
  const lines = [
    `Canary ${e.challenger.endpoint} (${e.challenger.traces} traces) against ${e.champion.endpoint} (${e.champion.traces} traces), ${e.result.paired ? 'paired' : 'unpaired'}: ${e.decision.toUpperCase()}`,
    `  ${e.reason}`,
  ]
  for (const m of e.result.metrics) lines.push(`  ${m.verdict.padEnd(12)} ${m.metric}: ${m.reason}`)
  lines.push(r.audit === null ? 'not recorded (--no-record)' : `audit record ${r.audit.seq} (canary-decision, ${r.audit.hash.slice(0, 16)})`)
  const a = r.acted
  if (a !== null && a.action === 'keep') lines.push(`kept ${a.model}@${a.alias} on version ${a.version} (monitor ${e.monitor?.name ?? '-'}, canary.act ${e.act})`)
  else if (a !== null) {
    lines.push(`${a.action === 'promote' ? 'promoted' : 'rolled back'} ${a.model}@${a.alias} from version ${a.previousVersion ?? '-'} to version ${a.version} (monitor ${e.monitor?.name ?? '-'}, canary.act ${e.act}); audit record ${a.audit?.seq ?? '-'}`)
  } else {
    if (r.actRefused !== null) lines.push(`not acted on (${r.actRefused.code}): ${r.actRefused.message}`)
    lines.push(`next: ${e.next}`)
  }
  return `${lines.join('\n')}\n`
}

/** Exit codes of `assay monitor canary`: 0 promote, 3 continue, 1 rollback. */
export const CANARY_EXIT_CODES = { promote: 0, continue: 3, rollback: 1 } as const
