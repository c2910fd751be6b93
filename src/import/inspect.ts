import { unzipSync } from 'fflate'
import type { EvalRecord, JsonValue, Params } from '../record/types.js'
import { canonicalJson } from '../record/validate.js'
import {
  EPOCH_REDUCERS,
  FieldReader,
  datasetHash,
  decodeText,
  invalidImport,
  isoTime,
  parseJson,
  plainText,
  scoreName,
  sha256Hex,
  type EpochReducer,
  type ImportPlan,
  type ImportRules,
  type SourceFile,
} from './import-plan.js'

/**
 * Inspect AI: an eval log, either `.json` (one EvalLog document) or `.eval` (a zip of
 * header.json and samples/<id>_epoch_<n>.json). One run per log (task × model); one eval record
 * per sample id, its epochs reduced to one score per scorer by a declared rule.
 */

interface Epoch {
  id: string
  epoch: number
  input: unknown
  target: unknown
  errored: boolean
  scores: Record<string, number>
  seconds: number | null
  tokens: number | null
  outputHash: string | null
}

export function parseInspect(file: SourceFile, rules: ImportRules): ImportPlan {
  const { header, samples } = readLog(file)
  const read = new FieldReader(file.name)
  const log = read.object(header, '(root)')
  const evalSpec = read.object(log.eval, 'eval')
  const task = read.string(evalSpec.task, 'eval.task')
  const model = read.string(evalSpec.model, 'eval.model')
  const config = evalSpec.config === undefined || evalSpec.config === null ? {} : read.object(evalSpec.config, 'eval.config')
  const dataset = evalSpec.dataset === undefined || evalSpec.dataset === null ? {} : read.object(evalSpec.dataset, 'eval.dataset')
  const packages = evalSpec.packages === undefined || evalSpec.packages === null ? {} : read.object(evalSpec.packages, 'eval.packages')
  const status = read.optionalString(log.status, 'status')

  if (samples.length === 0) throw read.fail('samples', 'the log holds no samples: run Inspect with log_samples=True (the default) to record per-example results')
  const epochs = samples.map(({ value, path }) => parseSample(new FieldReader(path.file), value, path.field))

  const reducer = chooseReducer(read, rules, config)
  const byId = new Map<string, Epoch[]>()
  for (const epoch of epochs) {
    const list = byId.get(epoch.id) ?? []
    if (list.some((e) => e.epoch === epoch.epoch)) throw read.fail(`samples (id ${epoch.id})`, `epoch ${epoch.epoch} appears twice`)
    list.push(epoch)
    byId.set(epoch.id, list)
  }
  const scoreNames = new Set<string>()
  for (const e of epochs) for (const name of Object.keys(e.scores)) scoreNames.add(name)

  const records: EvalRecord[] = []
  let errored = 0
  let excluded = 0
  const examples: { id: string; input: unknown; target: unknown }[] = []
  for (const [id, list] of byId) {
    list.sort((a, b) => a.epoch - b.epoch)
    examples.push({ id, input: (list[0] as Epoch).input, target: (list[0] as Epoch).target })
    const failed = list.filter((e) => e.errored).length
    errored += failed
    let kept = list
    if (failed > 0) {
      if (rules.errors === 'exclude') kept = list.filter((e) => !e.errored)
      else kept = list.map((e) => (e.errored ? { ...e, scores: Object.fromEntries([...scoreNames].map((n) => [n, 0])) } : e))
    }
    if (kept.length === 0) {
      excluded++
      continue
    }
    const scores: Record<string, number> = {}
    for (const name of scoreNames) {
      const values = kept.flatMap((e) => (e.scores[name] === undefined ? [] : [e.scores[name] as number]))
      if (values.length > 0) scores[name] = reduce(reducer, values)
    }
    const record: EvalRecord = { id, scores }
    const seconds = kept.flatMap((e) => (e.seconds === null ? [] : [e.seconds]))
    if (seconds.length > 0) record.latencyMs = (1000 * seconds.reduce((s, v) => s + v, 0)) / seconds.length
    const tokens = kept.flatMap((e) => (e.tokens === null ? [] : [e.tokens]))
    if (tokens.length > 0) record.tokens = tokens.reduce((s, v) => s + v, 0) / tokens.length
    const hashes = kept.flatMap((e) => (e.outputHash === null ? [] : [e.outputHash]))
    if (hashes.length > 0) record.outputHash = hashes.length === 1 ? (hashes[0] as string) : sha256Hex(hashes.join('\n'))
    records.push(record)
  }

  const params: Params = { task, model }
  for (const [key, value] of [
    ['task_version', evalSpec.task_version],
    ['task_args', evalSpec.task_args],
    ['model_args', evalSpec.model_args],
    ['model_generate_config', evalSpec.model_generate_config],
    ['solver', evalSpec.solver],
    ['limit', config.limit],
    ['epochs', config.epochs],
  ] as const) {
    if (value !== undefined && value !== null && !(typeof value === 'object' && Object.keys(value).length === 0)) params[key] = value as JsonValue
  }
  params.epochs_reducer = reducer
  const tags: Record<string, string> = {}
  for (const [key, value] of [['inspect.run_id', evalSpec.run_id], ['inspect.eval_id', evalSpec.eval_id], ['inspect.status', status]] as const) {
    if (typeof value === 'string') tags[key] = plainText(value)
  }
  const generate = evalSpec.model_generate_config
  const seedValue = generate !== null && typeof generate === 'object' ? (generate as Record<string, unknown>).seed : undefined
  const seed = typeof seedValue === 'number' && Number.isSafeInteger(seedValue) && seedValue >= 0 ? seedValue : null
  const stats = log.stats === undefined || log.stats === null ? {} : read.object(log.stats, 'stats')
  const datasetName = read.optionalString(dataset.name, 'eval.dataset.name') ?? task
  const inspectVersion = typeof packages.inspect_ai === 'string' ? packages.inspect_ai : null

  return {
    format: 'inspect',
    tool: { name: 'inspect_ai', version: inspectVersion },
    files: [{ name: file.name, sha256: sha256Hex(file.bytes), sizeBytes: file.bytes.length }],
    rules: { errors: rules.errors, epochsReducer: reducer },
    runs: [
      {
        label: plainText(`${model} ${task}`, 200),
        params,
        tags,
        seed,
        startTime: isoTime(read.optionalString(stats.started_at, 'stats.started_at')) ?? isoTime(read.optionalString(evalSpec.created, 'eval.created')),
        endTime: isoTime(read.optionalString(stats.completed_at, 'stats.completed_at')),
        dataset: {
          name: plainText(datasetName, 200) || task,
          role: 'test',
          sha256: datasetHash(examples),
          rows: examples.length,
          hashedFrom: `Inspect dataset ${plainText(datasetName, 200)}${typeof dataset.location === 'string' ? ` (${plainText(dataset.location, 500)})` : ''}: sha256 over [id, input, target] per sample id in id order, computed by assay (the log carries no dataset hash)`,
        },
        records,
        errored,
        excluded,
      },
    ],
  }
}

/** The declared reducer, else the log's own first epochs_reducer when assay knows it, else Inspect's default 'mean'. */
function chooseReducer(read: FieldReader, rules: ImportRules, config: Record<string, unknown>): EpochReducer {
  if (rules.epochsReducer !== undefined) return rules.epochsReducer
  const declared = config.epochs_reducer
  if (declared === undefined || declared === null) return 'mean'
  const names = read.array(declared, 'eval.config.epochs_reducer')
  const first = names[0]
  if (first === undefined) return 'mean'
  if (typeof first === 'string' && (EPOCH_REDUCERS as readonly string[]).includes(first)) return first as EpochReducer
  throw read.fail('eval.config.epochs_reducer', `names ${JSON.stringify(first)}, which assay does not reproduce; choose one of ${EPOCH_REDUCERS.join(', ')} with --epochs-reducer`)
}

function reduce(reducer: EpochReducer, values: readonly number[]): number {
  if (values.length === 1) return values[0] as number
  switch (reducer) {
    case 'mean':
      return values.reduce((s, v) => s + v, 0) / values.length
    case 'max':
      return Math.max(...values)
    case 'median': {
      const sorted = [...values].sort((a, b) => a - b)
      const mid = sorted.length >> 1
      return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
    }
    case 'mode': {
      // Python's Counter.most_common: the highest count, the first seen among equal counts.
      const counts = new Map<number, number>()
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
      let best = values[0] as number
      for (const [v, n] of counts) if (n > (counts.get(best) as number)) best = v
      return best
    }
  }
}

/** Inspect's value_to_float: C 1, P 0.5, I and N 0, yes/true 1, no/false 0, numeric strings, numbers, booleans. */
export function inspectValueToFloat(value: unknown): number | null {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  if (typeof value !== 'string') return null
  if (value === 'C') return 1
  if (value === 'P') return 0.5
  if (value === 'I' || value === 'N') return 0
  const lower = value.toLowerCase()
  if (lower === 'yes' || lower === 'true') return 1
  if (lower === 'no' || lower === 'false') return 0
  if (/^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/.test(value)) return Number(value)
  return null
}

function parseSample(read: FieldReader, value: unknown, path: string): Epoch {
  const sample = read.object(value, path)
  const rawId = sample.id
  if (typeof rawId !== 'string' && (typeof rawId !== 'number' || !Number.isFinite(rawId))) throw read.fail(`${path}.id`, `must be a string or a number, got ${JSON.stringify(rawId)}`)
  const id = String(rawId)
  const epoch = sample.epoch === undefined ? 1 : read.integer(sample.epoch, `${path}.epoch`)
  const errored = sample.error !== undefined && sample.error !== null
  const scores: Record<string, number> = {}
  const rawScores = sample.scores === undefined || sample.scores === null ? {} : read.object(sample.scores, `${path}.scores`)
  for (const [scorer, scoreValue] of Object.entries(rawScores)) {
    const score = read.object(scoreValue, `${path}.scores.${scorer}`)
    flattenScore(read, scoreName(scorer), score.value, `${path}.scores.${scorer}.value`, scores)
  }
  let seconds: number | null = null
  if (sample.total_time !== undefined && sample.total_time !== null) seconds = read.number(sample.total_time, `${path}.total_time`)
  let tokens: number | null = null
  if (sample.model_usage !== undefined && sample.model_usage !== null) {
    const usage = read.object(sample.model_usage, `${path}.model_usage`)
    for (const [name, entry] of Object.entries(usage)) {
      const total = read.object(entry, `${path}.model_usage.${name}`).total_tokens
      if (total !== undefined && total !== null) tokens = (tokens ?? 0) + read.number(total, `${path}.model_usage.${name}.total_tokens`)
    }
  }
  const output = sample.output !== null && typeof sample.output === 'object' ? (sample.output as Record<string, unknown>) : null
  const completion = output === null ? undefined : output.completion
  return {
    id,
    epoch,
    input: sample.input ?? null,
    target: sample.target ?? null,
    errored,
    scores,
    seconds,
    tokens,
    outputHash: completion === undefined || completion === null ? null : sha256Hex(canonicalJson(completion)),
  }
}

/** A scalar score under the scorer's name; a dictionary's entries as scorer.key; a list's as scorer.0, scorer.1 … */
function flattenScore(read: FieldReader, name: string, value: unknown, path: string, into: Record<string, number>): void {
  if (value === null || value === undefined) return
  if (Array.isArray(value)) {
    value.forEach((item, i) => flattenScore(read, `${name}.${i}`, item, `${path}[${i}]`, into))
    return
  }
  if (typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) flattenScore(read, scoreName(`${name}.${key}`), item, `${path}.${key}`, into)
    return
  }
  const number = inspectValueToFloat(value)
  if (number === null) throw read.fail(path, `${JSON.stringify(value)} is not a score Inspect converts to a number (C, I, P, N, yes/no, true/false or a number)`)
  into[name] = number
}

/** The log's header and its samples, from a .json document or an .eval zip. */
function readLog(file: SourceFile): { header: unknown; samples: { value: unknown; path: { file: string; field: string } }[] } {
  const bytes = file.bytes
  const isZip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04
  if (!isZip) {
    const root = parseJson(decodeText(file), file.name)
    const read = new FieldReader(file.name)
    const log = read.object(root, '(root)')
    const samples = log.samples === undefined || log.samples === null ? [] : read.array(log.samples, 'samples')
    return { header: log, samples: samples.map((value, i) => ({ value, path: { file: file.name, field: `samples[${i}]` } })) }
  }
  let entries: Record<string, Uint8Array>
  try {
    entries = unzipSync(bytes)
  } catch (error) {
    throw invalidImport(file.name, 'zip', `the .eval file is not a readable zip archive (${(error as Error).message})`)
  }
  const entryText = (name: string): unknown => {
    const data = entries[name] as Uint8Array
    return parseJson(decodeText({ name: `${file.name}!${name}`, bytes: data }), `${file.name}!${name}`)
  }
  const headerName = entries['header.json'] !== undefined ? 'header.json' : entries['_journal/start.json'] !== undefined ? '_journal/start.json' : null
  if (headerName === null) throw invalidImport(file.name, 'zip entry header.json', 'is missing: this is not an Inspect .eval log')
  const sampleNames = Object.keys(entries)
    .filter((name) => name.startsWith('samples/') && name.endsWith('.json'))
    .sort()
  return {
    header: entryText(headerName),
    samples: sampleNames.map((name) => ({ value: entryText(name), path: { file: `${file.name}!${name}`, field: '(root)' } })),
  }
}
