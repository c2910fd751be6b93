import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { isAssayError } from '../../src/errors.js'
import { loadMonitor, MONITOR_MAX_ALIASES, parseMonitorSpec } from '../../src/monitor/monitor-spec.js'
import { MONITOR_YAML } from './traffic.js'

function specError(text: string): { field: string; line: number | null; message: string } {
  try {
    parseMonitorSpec(text, 'm.yaml')
  } catch (error) {
    assert.ok(isAssayError(error, 'ASSAY_INVALID_MONITOR_SPEC'), String(error))
    const d = error.details as { field: string; line: number | null }
    return { field: d.field, line: d.line, message: error.message }
  }
  return assert.fail('the monitor parsed')
}

const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1

describe('monitor file', () => {
  it('parses the example with its defaults and durations in milliseconds', () => {
    const m = parseMonitorSpec(MONITOR_YAML)
    assert.equal(m.spec.stale[0].maxAge, 30 * 60_000)
    assert.equal(m.spec.stale[1].maxAge, 7 * 86_400_000)
    assert.equal(m.spec.inconsistent?.drift[3].test, undefined) // a rate defaults to the cluster-robust test when decided
    assert.deepEqual(m.spec.unauditable.require, ['modelVersion', 'promptVersion', 'owner'])
    assert.equal(m.sha256.length, 64)
  })

  for (const [field, pattern] of [
    ['owner', /owner is required/],
    ['escalation', /escalation is required/],
  ] as const) {
    it(`refuses a monitor without ${field}`, () => {
      const e = specError(MONITOR_YAML.replace(new RegExp(`^${field}:.*\\n`, 'm'), ''))
      assert.equal(e.field, field)
      assert.match(e.message, pattern)
    })
  }

  it('refuses a monitor without a rollback candidate, or one without its rationale', () => {
    const none = specError(MONITOR_YAML.replace(/^rollback:\n( {2}.*\n)+/m, ''))
    assert.equal(none.field, 'rollback')
    assert.match(none.message, /rollback is required/)
    const text = MONITOR_YAML.replace(/^ {2}rationale:.*\n/m, '')
    const e = specError(text)
    assert.equal(e.field, 'rollback.rationale')
    assert.equal(e.line, lineOf(text, 'rollback:') + 1)
    const both = specError(MONITOR_YAML.replace('  version: 2', '  version: 2\n  alias: stable'))
    assert.match(both.message, /exactly one of version or alias/)
  })

  it('names the field and line of a bad drift item', () => {
    const text = MONITOR_YAML.replace('    - score: quality\n      test: ks', '    - score: quality\n      test: psi')
    const e = specError(text)
    assert.equal(e.field, 'inconsistent.drift[2].max')
    assert.match(e.message, /psi needs a threshold max/)
    const rateKs = specError(MONITOR_YAML.replace('    - rate: refusal', '    - rate: refusal\n      test: ks'))
    assert.match(rateKs.message, /a rate is compared by two-proportion/)
    const two = specError(MONITOR_YAML.replace('    - rate: refusal', '    - rate: refusal\n      score: quality'))
    assert.match(two.message, /exactly one of feature, score or rate/)
  })

  it('refuses a bad duration, an unknown field and a budget-less costly section', () => {
    assert.match(specError(MONITOR_YAML.replace('maxAge: 30m', 'maxAge: half an hour')).message, /a duration is a number and a unit/)
    const unknown = specError(MONITOR_YAML.replace('alpha: 0.05', 'alpha: 0.05\nalhpa: 0.1'))
    assert.equal(unknown.field, 'alhpa')
    assert.match(specError(MONITOR_YAML.replace(/^costly:\n( {2}.*\n)+/m, 'costly:\n  action: cache\n')).message, /at least one budget/)
  })

  it('limits YAML aliases as gate files do', () => {
    const anchors = `x: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\ny: [${Array.from({ length: MONITOR_MAX_ALIASES + 5 }, () => '*a').join(', ')}]\n`
    const e = specError(`${anchors}${MONITOR_YAML}`)
    assert.equal(e.field, '(aliases)')
  })

  it('parses the monitor file shown in docs/production.md', () => {
    const doc = readFileSync(new URL('../../docs/production.md', import.meta.url), 'utf8')
    const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1]
    assert.ok(yaml !== undefined)
    const m = parseMonitorSpec(yaml, 'docs/production.md')
    assert.equal(m.spec.inconsistent?.drift.length, 6)
    assert.equal(m.spec.stale[2].score, 'thumbs_up')
  })

  it('takes an object with the file fields', () => {
    const m = loadMonitor({ monitor: 'm', owner: 'o', escalation: 'e', rollback: { model: 'x', alias: 'stable', rationale: 'the last good one' } })
    assert.equal(m.spec.alpha, 0.05)
    assert.throws(() => loadMonitor([] as never), (e) => isAssayError(e, 'ASSAY_INVALID_MONITOR_SPEC'))
  })
})
