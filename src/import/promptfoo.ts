import type { EvalRecord, Params } from '../record/types.js'
import { canonicalJson } from '../record/validate.js'
import {
  FieldReader,
  datasetHash,
  decodeText,
  invalidImport,
  isoTime,
  parseJson,
  plainText,
  scoreName,
  sha256Hex,
  type ImportPlan,
  type ImportRules,
  type PlannedRun,
  type SourceFile,
} from './import-plan.js'

/**
 * promptfoo: the file `promptfoo eval --output results.json` writes (results.version 3 and the
 * same rows in earlier versions). One run per prompt × provider (the file's `results.prompts`
 * entries); one eval record per test, keyed by the test's vars, not its row index.
 */

/** promptfoo's ResultFailureReason.ERROR: the provider or the grader failed, no score was given. */
const FAILURE_ERROR = 2
/** Ids longer than this are written as the sha256 of the test's vars. */
const READABLE_ID_LENGTH = 200

interface Row {
  path: string
  group: string
  key: string
  vars: unknown
  errored: boolean
  scores: Record<string, number>
  latencyMs?: number
  tokens?: number
  cost?: number
  outputHash?: string
}

export function parsePromptfoo(file: SourceFile, rules: ImportRules): ImportPlan {
  const read = new FieldReader(file.name)
  const root = read.object(parseJson(decodeText(file), file.name), '(root)')
  const results = read.object(root.results, 'results')
  const rows = read.array(results.results, 'results.results')
  if (rows.length === 0) throw read.fail('results.results', 'holds no results')
  const prompts = results.prompts === undefined ? [] : read.array(results.prompts, 'results.prompts')
  const metadata = root.metadata === undefined || root.metadata === null ? {} : read.object(root.metadata, 'metadata')
  const version = read.optionalString(metadata.promptfooVersion, 'metadata.promptfooVersion')
  const startTime = isoTime(read.optionalString(results.timestamp, 'results.timestamp') ?? read.optionalString(metadata.evaluationCreatedAt, 'metadata.evaluationCreatedAt'))
  const evalId = read.optionalString(root.evalId, 'evalId')
  const stats = results.stats === undefined || results.stats === null ? {} : read.object(results.stats, 'results.stats')
  const durationMs = read.optionalNumber(stats.durationMs, 'results.stats.durationMs')
  const endTime = startTime === null || durationMs === null ? null : startTime + durationMs

  const parsed = rows.map((row, i) => parseRow(read, row, `results.results[${i}]`))
  // Repeated tests (--repeat, or the same vars twice) share a key: number them in row order.
  const groups = new Map<string, Row[]>()
  for (const row of parsed) {
    const list = groups.get(row.group) ?? []
    list.push(row)
    groups.set(row.group, list)
  }
  const examples = new Map<string, unknown>()
  for (const list of groups.values()) {
    const seen = new Map<string, number>()
    for (const row of list) {
      const n = (seen.get(row.key) ?? 0) + 1
      seen.set(row.key, n)
      if (n > 1) row.key = `${row.key}#${n}`
      if (!examples.has(row.key)) examples.set(row.key, row.vars)
    }
  }
  const sha256 = datasetHash([...examples].map(([id, vars]) => ({ id, input: vars, target: null })))
  const datasetName = plainText(read.optionalString(readConfig(read, root).description, 'config.description') ?? 'promptfoo-tests', 100) || 'promptfoo-tests'

  const runs: PlannedRun[] = []
  for (const [group, list] of groups) {
    const index = Number(group.split('\u0000')[0])
    const provider = group.split('\u0000')[1] as string
    const prompt = Number.isInteger(index) && prompts[index] !== undefined ? read.object(prompts[index], `results.prompts[${index}]`) : {}
    const promptLabel = read.optionalString(prompt.label, `results.prompts[${index}].label`) ?? read.optionalString(prompt.raw, `results.prompts[${index}].raw`) ?? `prompt ${index}`
    const records: EvalRecord[] = []
    let errored = 0
    let excluded = 0
    const scoreNames = new Set<string>()
    for (const row of list) for (const name of Object.keys(row.scores)) scoreNames.add(name)
    for (const row of list) {
      if (row.errored) {
        errored++
        if (rules.errors === 'exclude') {
          excluded++
          continue
        }
        const zeros: Record<string, number> = {}
        for (const name of scoreNames) zeros[name] = 0
        records.push({ id: row.key, scores: zeros, ...measures(row) })
        continue
      }
      records.push({ id: row.key, scores: row.scores, ...measures(row) })
    }
    const params: Params = { provider, prompt: promptLabel }
    const promptId = read.optionalString(prompt.id, `results.prompts[${index}].id`)
    if (promptId !== null) params['prompt.id'] = promptId
    const tags: Record<string, string> = {}
    if (evalId !== null) tags['promptfoo.evalId'] = plainText(evalId)
    runs.push({
      label: plainText(`${provider} ${promptLabel}`, 120),
      params,
      tags,
      seed: null,
      startTime,
      endTime,
      dataset: {
        name: datasetName,
        role: 'test',
        sha256,
        rows: examples.size,
        hashedFrom: `promptfoo tests: sha256 over [id, vars, null] per test in id order, computed by assay (the file carries no dataset hash; assertions are not part of it, an errored row does not carry them)`,
      },
      records,
      errored,
      excluded,
    })
  }
  return {
    format: 'promptfoo',
    tool: { name: 'promptfoo', version },
    files: [{ name: file.name, sha256: sha256Hex(file.bytes), sizeBytes: file.bytes.length }],
    rules: { errors: rules.errors },
    runs,
  }
}

function readConfig(read: FieldReader, root: Record<string, unknown>): Record<string, unknown> {
  return root.config === undefined || root.config === null ? {} : read.object(root.config, 'config')
}

function measures(row: Row): Omit<EvalRecord, 'id' | 'scores'> {
  const out: Omit<EvalRecord, 'id' | 'scores'> = {}
  if (row.latencyMs !== undefined) out.latencyMs = row.latencyMs
  if (row.tokens !== undefined) out.tokens = row.tokens
  if (row.cost !== undefined) out.cost = row.cost
  if (row.outputHash !== undefined) out.outputHash = row.outputHash
  return out
}

function parseRow(read: FieldReader, value: unknown, path: string): Row {
  const row = read.object(value, path)
  const testCase = row.testCase === undefined || row.testCase === null ? {} : read.object(row.testCase, `${path}.testCase`)
  const vars = row.vars ?? testCase.vars ?? {}
  read.object(vars, row.vars === undefined ? `${path}.testCase.vars` : `${path}.vars`)
  const description = read.optionalString(testCase.description, `${path}.testCase.description`)
  const material = canonicalJson(description === null ? vars : { description, vars })
  const key = material.length <= READABLE_ID_LENGTH ? material : `sha256:${sha256Hex(material).slice(0, 32)}`

  const provider = providerName(read, row.provider, `${path}.provider`)
  const promptIdx = row.promptIdx === undefined ? 0 : read.integer(row.promptIdx, `${path}.promptIdx`)
  const failureReason = row.failureReason === undefined ? null : read.integer(row.failureReason, `${path}.failureReason`)
  const error = read.optionalString(row.error, `${path}.error`)
  const errored = failureReason === null ? error !== null && (row.gradingResult === undefined || row.gradingResult === null) : failureReason === FAILURE_ERROR

  const scores: Record<string, number> = {}
  if (!errored) {
    scores.score = read.number(row.score, `${path}.score`)
    if (typeof row.success !== 'boolean') throw read.fail(`${path}.success`, `must be true or false, got ${JSON.stringify(row.success)}`)
    scores.pass = row.success ? 1 : 0
    const named = row.namedScores === undefined || row.namedScores === null ? {} : read.object(row.namedScores, `${path}.namedScores`)
    for (const [name, score] of Object.entries(named)) {
      const clean = scoreName(name)
      scores[clean === 'score' || clean === 'pass' ? `named.${clean}` : clean] = read.number(score, `${path}.namedScores.${name}`)
    }
  }
  const out: Row = { path, group: `${promptIdx}\u0000${provider}`, key, vars, errored, scores }
  const latency = read.optionalNumber(row.latencyMs, `${path}.latencyMs`)
  if (latency !== null) out.latencyMs = latency
  const usage = row.tokenUsage === undefined || row.tokenUsage === null ? null : read.object(row.tokenUsage, `${path}.tokenUsage`)
  const total = usage === null ? null : read.optionalNumber(usage.total, `${path}.tokenUsage.total`)
  if (total !== null) out.tokens = total
  const cost = read.optionalNumber(row.cost, `${path}.cost`)
  if (cost !== null) out.cost = cost
  const response = row.response === undefined || row.response === null ? null : read.object(row.response, `${path}.response`)
  if (response !== null && response.output !== undefined && response.output !== null) out.outputHash = sha256Hex(canonicalJson(response.output))
  return out
}

/** The provider's label when it has one (what the promptfoo table shows), else its id. */
function providerName(read: FieldReader, value: unknown, path: string): string {
  if (typeof value === 'string') return plainText(value) || 'provider'
  const provider = read.object(value, path)
  const label = read.optionalString(provider.label, `${path}.label`)
  const id = read.optionalString(provider.id, `${path}.id`)
  const name = label !== null && label !== '' ? label : id
  if (name === null || plainText(name) === '') throw invalidImport(read.file, `field ${path}.id`, 'the provider has neither an id nor a label', { field: `${path}.id` })
  return plainText(name)
}
