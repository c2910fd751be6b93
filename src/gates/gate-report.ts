import type { GateEvidence } from './evidence.js'
import { formatNumber, formatPValue } from '../number-format.js'

/** Renderings of a gate check's evidence: text, json, markdown, junit (docs/gates.md). Pure. */

export type GateReportFormat = 'text' | 'json' | 'markdown' | 'junit'
export const GATE_REPORT_FORMATS: readonly GateReportFormat[] = ['text', 'json', 'markdown', 'junit']

function interval(ci: [number, number] | null): string {
  return ci === null ? '-' : `[${formatNumber(ci[0])}, ${formatNumber(ci[1])}]`
}

/** JSON with non-finite numbers as strings ("Infinity"), for reports. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)
}

const MARK = { pass: 'PASS', warn: 'WARN', block: 'BLOCK', 'not-evaluated': 'SKIP' } as const

export function renderText(e: GateEvidence, audit: { seq: number; hash: string } | null): string {
  const lines: string[] = []
  lines.push(`gate ${e.gate.name} (${e.gate.source}, sha256 ${e.gate.sha256.slice(0, 12)})`)
  lines.push(`candidate: ${e.candidate.label} — ${e.candidate.how}`)
  lines.push(`baseline:  ${e.baseline === null ? '(none)' : `${e.baseline.label} — ${e.baseline.how}`}`)
  lines.push('')
  lines.push('checks')
  for (const c of e.checks) {
    lines.push(`  ${MARK[c.status].padEnd(5)}  ${c.check.padEnd(12)} ${c.message}`)
    for (const f of c.findings) lines.push(`                      - ${f}`)
  }
  lines.push('')
  lines.push('criteria')
  for (const r of e.criteria) {
    lines.push(`  ${MARK[r.outcome].padEnd(5)}  ${r.name} (${r.kind}, ${r.metric}, on failure ${r.onFailure})`)
    lines.push(`         ${r.message}`)
    lines.push(`         estimate ${formatNumber(r.estimate)}  interval ${interval(r.ci)}  p ${formatPValue(r.pValue)}  test ${r.test}  n ${r.sampleSizes.candidate}${r.sampleSizes.baseline === null ? '' : `/${r.sampleSizes.baseline}`}${r.sampleSizes.pairs === null ? '' : ` (${r.sampleSizes.pairs} pairs)`}${r.seed === null ? '' : `  seed ${r.seed}`}`)
    lines.push(`         rule: ${r.rule}`)
    lines.push(`         rationale: ${r.rationale}`)
  }
  lines.push('')
  lines.push(`decision: ${e.decision.toUpperCase()}`)
  lines.push(`next: ${e.nextAction}`)
  if (audit !== null) lines.push(`evidence: audit record ${audit.seq} (${audit.hash.slice(0, 16)}…)`)
  return `${lines.join('\n')}\n`
}

function md(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

export function renderMarkdown(e: GateEvidence, audit: { seq: number; hash: string } | null): string {
  const out: string[] = []
  out.push(`## Gate \`${e.gate.name}\`: **${e.decision.toUpperCase()}**`)
  out.push('')
  out.push(`**Next:** ${md(e.nextAction)}`)
  out.push('')
  out.push(`Candidate \`${md(e.candidate.label)}\` vs baseline ${e.baseline === null ? '(none)' : `\`${md(e.baseline.label)}\``}; gate file \`${md(e.gate.source)}\` (sha256 \`${e.gate.sha256.slice(0, 12)}\`), assay ${e.assayVersion}.`)
  out.push('')
  out.push('| criterion | kind | outcome | estimate | interval | p | test | n | rule |')
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const r of e.criteria) {
    out.push(`| ${md(r.name)} | ${r.kind} | ${MARK[r.outcome]} | ${formatNumber(r.estimate)} | ${interval(r.ci)} | ${formatPValue(r.pValue)} | ${md(r.test)} | ${r.sampleSizes.pairs ?? r.sampleSizes.candidate} | ${md(r.rule)} |`)
  }
  out.push('')
  out.push('| check | status | finding |')
  out.push('| --- | --- | --- |')
  for (const c of e.checks) out.push(`| ${c.check} | ${MARK[c.status]} | ${md(c.findings.length > 0 ? c.findings.join('; ') : c.message)} |`)
  if (audit !== null) {
    out.push('')
    out.push(`Evidence: audit record ${audit.seq} (\`${audit.hash}\`).`)
  }
  return `${out.join('\n')}\n`
}

// Characters XML 1.0 cannot hold (built from code points so the source has no control characters).
const CONTROL_CHARACTERS = new RegExp(`[${String.fromCharCode(0)}-${String.fromCharCode(8)}${String.fromCharCode(11)}${String.fromCharCode(12)}${String.fromCharCode(14)}-${String.fromCharCode(31)}]`, 'g')

/** Text escaped for XML attributes and content, control characters dropped. */
export function xml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string).replace(CONTROL_CHARACTERS, '')
}

/**
 * JUnit XML: one testsuite per gate, one testcase per check and criterion; block is a failure, warn
 * a skipped test with its message, a check not evaluated (malformed records) a skipped test too.
 */
export function renderJunit(e: GateEvidence): string {
  const cases: string[] = []
  let failures = 0
  let skipped = 0
  const add = (classname: string, name: string, status: 'pass' | 'warn' | 'block' | 'not-evaluated', message: string, detail: string): void => {
    const open = `    <testcase classname="${xml(classname)}" name="${xml(name)}">`
    if (status === 'pass') cases.push(`    <testcase classname="${xml(classname)}" name="${xml(name)}"/>`)
    else if (status === 'block') {
      failures++
      cases.push(`${open}\n      <failure message="${xml(message)}" type="block">${xml(detail)}</failure>\n    </testcase>`)
    } else {
      skipped++
      cases.push(`${open}\n      <skipped message="${xml(status === 'warn' ? `warn: ${message}` : message)}"/>\n    </testcase>`)
    }
  }
  for (const c of e.checks) add(`gate.${e.gate.name}.checks`, c.check, c.status, c.message, c.findings.join('\n'))
  for (const r of e.criteria) {
    add(`gate.${e.gate.name}.criteria`, r.name, r.outcome, r.message, `estimate ${formatNumber(r.estimate)}, interval ${interval(r.ci)}, p ${formatPValue(r.pValue)}, test ${r.test}\nrule: ${r.rule}\nrationale: ${r.rationale}`)
  }
  return junitDocument({
    suites: 'assay gate',
    suite: e.gate.name,
    checkedAt: e.checkedAt,
    failures,
    skipped,
    properties: { decision: e.decision, nextAction: e.nextAction, gateSha256: e.gate.sha256, candidate: e.candidate.label, baseline: e.baseline?.label ?? '' },
    cases,
  })
}

/** One JUnit XML document of one test suite (gate and monitor reports): CI systems read its counts, properties and cases. */
export function junitDocument(d: { suites: string; suite: string; checkedAt: number; failures: number; skipped: number; properties: Record<string, string>; cases: readonly string[] }): string {
  const counts = `tests="${d.cases.length}" failures="${d.failures}" skipped="${d.skipped}"`
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(d.suites)}" ${counts}>`,
    `  <testsuite name="${xml(d.suite)}" ${counts} timestamp="${new Date(d.checkedAt).toISOString()}">`,
    '    <properties>',
    ...Object.entries(d.properties).map(([name, value]) => `      <property name="${name}" value="${xml(value)}"/>`),
    '    </properties>',
    ...d.cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n')
}

export function renderGateReport(format: GateReportFormat, evidence: GateEvidence, audit: { seq: number; hash: string } | null): string {
  switch (format) {
    case 'json':
      return `${jsonText({ schema: 'assay.gate-check/v1', audit, evidence })}\n`
    case 'markdown':
      return renderMarkdown(evidence, audit)
    case 'junit':
      return renderJunit(evidence)
    default:
      return renderText(evidence, audit)
  }
}
