import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isAssayError } from '../../src/errors.js'
import { parseGateSpec } from '../../src/gates/gate-spec.js'
import { NON_INFERIORITY, SUPERIORITY, gateYaml } from './helpers.js'

function specError(text: string, file = 'gate.yaml'): { field: string; line: number | null; message: string } {
  try {
    parseGateSpec(text, file)
  } catch (error) {
    assert.ok(isAssayError(error, 'ASSAY_INVALID_GATE_SPEC'), String(error))
    const d = error.details as { field: string; line: number | null }
    return { field: d.field, line: d.line, message: error.message }
  }
  return assert.fail('the gate parsed')
}

/** 1-based line of the first line of `text` containing `needle`. */
function lineOf(text: string, needle: string): number {
  return text.split('\n').findIndex((l) => l.includes(needle)) + 1
}

describe('gate spec', () => {
  it('parses a valid gate, with defaults, a hash and criterion lines', () => {
    const text = gateYaml(`${SUPERIORITY()}\n${NON_INFERIORITY()}`)
    const gate = parseGateSpec(text)
    assert.equal(gate.spec.criteria.length, 2)
    assert.equal(gate.spec.criteria[0].kind, 'superiority')
    assert.equal(gate.sha256.length, 64)
    assert.deepEqual(gate.criterionLines, [lineOf(text, 'kind: superiority'), lineOf(text, 'kind: non-inferiority')])
  })

  it('an unknown metric names the field and its line', () => {
    const text = gateYaml(SUPERIORITY().replace('metric: correct', 'metric: acuracy'))
    const e = specError(text)
    assert.equal(e.field, 'criteria[0].metric')
    assert.equal(e.line, lineOf(text, 'metric: acuracy'))
    assert.match(e.message, /unknown metric "acuracy"/)
  })

  it('a missing rationale is refused, at the criterion', () => {
    const text = gateYaml(SUPERIORITY().replace(/\n\s+rationale:.*$/, ''))
    const e = specError(text)
    assert.equal(e.field, 'criteria[0].rationale')
    assert.equal(e.line, lineOf(text, 'kind: superiority'))
    assert.match(e.message, /rationale is required/)
    const blank = specError(gateYaml(SUPERIORITY().replace(/rationale:.*$/, 'rationale: "  "')))
    assert.equal(blank.field, 'criteria[0].rationale')
  })

  it('a missing rollback candidate is refused', () => {
    const text = gateYaml(SUPERIORITY()).replace(/^rollback:.*\n/m, '')
    const e = specError(text)
    assert.equal(e.field, 'rollback')
    assert.match(e.message, /rollback is required/)
  })

  it('wrong types name the field and the line of the value', () => {
    const text = gateYaml(NON_INFERIORITY().replace('margin: 0.02', 'margin: "two percent"'))
    const e = specError(text)
    assert.equal(e.field, 'criteria[0].margin')
    assert.equal(e.line, lineOf(text, 'margin: "two percent"'))
    const action = specError(gateYaml(SUPERIORITY('maybe')))
    assert.equal(action.field, 'criteria[0].onFailure')
  })

  it('unknown fields, kinds and syntax errors are reported with lines; JSON too', () => {
    const text = gateYaml(`${SUPERIORITY()}\n    threshold: 3`)
    const e = specError(text)
    assert.equal(e.field, 'criteria[0].threshold')
    assert.equal(e.line, lineOf(text, 'threshold: 3'))
    assert.equal(specError(gateYaml('  - kind: best\n    metric: correct')).field, 'criteria[0].kind')
    const syntax = specError('gate: x\nowner: [a\n', 'g.yaml')
    assert.equal(syntax.field, '(syntax)')
    assert.ok(syntax.line !== null)
    const json = '{\n  "gate": "g",\n  "owner": "a",\n  "escalation": "b",\n  "rollback": "model:m@1",\n  "dataset": "val",\n  "scores": { "correct": { "min": 0, "max": 1 } },\n  "criteria": [\n    { "kind": "absolute", "metric": "correct", "test": "wilson", "max": "1%", "onFailure": "block", "rationale": "r" }\n  ]\n}\n'
    const je = specError(json, 'g.json')
    assert.equal(je.field, 'criteria[0].max')
    assert.equal(je.line, 9)
  })

  it('kind-specific rules: absolute needs exactly one bound, a budget needs max or maxRatio', () => {
    assert.match(specError(gateYaml('  - kind: absolute\n    metric: correct\n    test: wilson\n    onFailure: block\n    rationale: r')).message, /exactly one of max or min/)
    assert.match(specError(gateYaml('  - kind: budget\n    metric: latency\n    onFailure: warn\n    rationale: r')).message, /exactly one of max/)
    assert.equal(specError(gateYaml('  - kind: budget\n    metric: gpu\n    max: 1\n    onFailure: warn\n    rationale: r')).field, 'criteria[0].metric')
  })
})
