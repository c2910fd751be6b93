import type { DatasetRole, EvalRecord, JsonValue, Params } from '../record/types.js'
import { canonicalJson } from '../record/validate.js'
import {
  FieldReader,
  datasetHash,
  decodeText,
  invalidImport,
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
 * lm-evaluation-harness with --log_samples: a `results_<date>.json` and one
 * `samples_<task>_<date>.jsonl` per task beside it. One run per model and task; one eval record
 * per document (`doc_id`, with the harness's `doc_hash`), for one filter.
 */

export interface LmEvalFiles {
  results: SourceFile
  /** Samples files by task name (from the file name). */
  samples: Map<string, SourceFile>
}

/** The date id of a results file name, `results_<date>.json`, or null when the name is another. */
export function lmEvalDateId(fileName: string): string | null {
  const match = /^results_(.+)\.json$/.exec(fileName)
  return match === null ? null : (match[1] as string)
}

/** The task of a samples file name of one results file, `samples_<task>_<date>.jsonl`, or null. */
export function lmEvalSampleTask(fileName: string, dateId: string): string | null {
  const suffix = `_${dateId}.jsonl`
  return fileName.startsWith('samples_') && fileName.endsWith(suffix) && fileName.length > 'samples_'.length + suffix.length
    ? fileName.slice('samples_'.length, -suffix.length)
    : null
}

interface Sample {
  docId: number
  docHash: string | null
  targetHash: string | null
  doc: unknown
  target: unknown
  filter: string
  scores: Record<string, number>
  unscored: string[]
  outputHash: string
}

export function parseLmEval(files: LmEvalFiles, rules: ImportRules): ImportPlan {
  const read = new FieldReader(files.results.name)
  const root = read.object(parseJson(decodeText(files.results), files.results.name), '(root)')
  const results = read.object(root.results, 'results')
  const config = root.config === undefined || root.config === null ? {} : read.object(root.config, 'config')
  const configs = root.configs === undefined || root.configs === null ? {} : read.object(root.configs, 'configs')
  const nShot = root['n-shot'] === undefined || root['n-shot'] === null ? {} : read.object(root['n-shot'], 'n-shot')
  const versions = root.versions === undefined || root.versions === null ? {} : read.object(root.versions, 'versions')
  const taskHashes = root.task_hashes === undefined || root.task_hashes === null ? {} : read.object(root.task_hashes, 'task_hashes')
  const model = read.optionalString(config.model, 'config.model')
  if (model === null) throw read.fail('config.model', 'is missing: this is not a results file of lm-evaluation-harness (simple_evaluate writes config.model)')
  const modelName = read.optionalString(root.model_name, 'model_name') ?? modelFromArgs(config.model_args) ?? model
  const date = read.optionalNumber(root.date, 'date')
  const seconds = root.total_evaluation_time_seconds === undefined ? null : Number(root.total_evaluation_time_seconds)
  const startTime = date === null ? null : Math.round(date * 1000)
  const endTime = startTime === null || seconds === null || !Number.isFinite(seconds) ? null : startTime + Math.round(seconds * 1000)

  const common: Params = { model }
  for (const key of ['model_args', 'batch_size', 'limit', 'gen_kwargs', 'random_seed', 'numpy_seed', 'torch_seed', 'fewshot_seed', 'model_revision', 'model_sha', 'model_dtype']) {
    if (config[key] !== undefined && config[key] !== null) common[key] = config[key] as JsonValue
  }
  common.model_name = modelName
  for (const key of ['git_hash', 'lm_eval_version', 'transformers_version', 'chat_template_sha', 'system_instruction_sha', 'fewshot_as_multiturn']) {
    if (root[key] !== undefined && root[key] !== null) common[key] = root[key] as JsonValue
  }
  const seed = typeof config.random_seed === 'number' && Number.isSafeInteger(config.random_seed) && config.random_seed >= 0 ? config.random_seed : null

  if (files.samples.size === 0) {
    throw invalidImport(files.results.name, 'samples', 'no samples_<task>_<date>.jsonl file beside it: run lm-eval with --log_samples to record per-example results')
  }
  const runs: PlannedRun[] = []
  for (const [task, file] of [...files.samples].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (results[task] === undefined) throw invalidImport(files.results.name, `field results.${task}`, `is missing, but ${file.name} holds samples of task ${task}`, { field: `results.${task}` })
    const samples = parseSamples(file)
    const filters = [...new Set(samples.map((s) => s.filter))]
    let filter: string
    if (filters.length === 1) filter = filters[0] as string
    else if (rules.filter !== undefined && filters.includes(rules.filter)) filter = rules.filter
    else {
      throw invalidImport(file.name, 'field filter', `task ${task} was scored under ${filters.length} filters (${filters.join(', ')}); choose one with --filter`, { filters })
    }
    const chosen = samples.filter((s) => s.filter === filter)
    const records: EvalRecord[] = []
    const ids = new Set<string>()
    for (const s of chosen) {
      const id = s.docHash === null ? String(s.docId) : `${s.docId}:${s.docHash.slice(0, 12)}`
      if (ids.has(id)) throw invalidImport(file.name, `doc_id ${s.docId}`, `appears twice under filter ${filter}`, { docId: s.docId })
      ids.add(id)
      records.push({ id, scores: s.scores, outputHash: s.outputHash })
    }
    const withHashes = chosen.every((s) => s.docHash !== null && s.targetHash !== null)
    const sha256 = withHashes
      ? datasetHash(chosen.map((s) => ({ id: String(s.docId), input: s.docHash, target: s.targetHash })))
      : datasetHash(chosen.map((s) => ({ id: String(s.docId), input: s.doc, target: s.target })))
    const taskHash = typeof taskHashes[task] === 'string' ? (taskHashes[task] as string) : null
    const taskConfig = configs[task] === undefined || configs[task] === null ? {} : read.object(configs[task], `configs.${task}`)
    const params: Params = { ...common, task, filter }
    if (nShot[task] !== undefined && nShot[task] !== null) params['n-shot'] = nShot[task] as JsonValue
    if (versions[task] !== undefined && versions[task] !== null) params.task_version = versions[task] as JsonValue
    const tags: Record<string, string> = {}
    if (taskHash !== null) tags['lm-eval.task_hash'] = plainText(taskHash)
    const unscored = [...new Set(chosen.flatMap((s) => s.unscored))]
    if (unscored.length > 0) tags['lm-eval.metrics-not-per-example'] = plainText(unscored.join(', '), 1000)
    runs.push({
      label: plainText(`${modelName} ${task}`, 200),
      params,
      tags,
      seed,
      startTime,
      endTime,
      dataset: {
        name: plainText(task, 200),
        role: splitRole(taskConfig),
        sha256,
        rows: chosen.length,
        hashedFrom: withHashes
          ? `lm-eval task ${task}: sha256 over [doc_id, doc_hash, target_hash] per document in id order, the harness's own per-document hashes (its task hash ${taskHash ?? 'absent'} also covers the prompts, which differ between models' chat templates)`
          : `lm-eval task ${task}: sha256 over [doc_id, doc, target] per document in id order, computed by assay (the samples carry no doc_hash)`,
      },
      records,
      errored: 0,
      excluded: 0,
    })
  }
  return {
    format: 'lm-eval',
    tool: { name: 'lm-evaluation-harness', version: typeof root.lm_eval_version === 'string' ? root.lm_eval_version : typeof root.git_hash === 'string' ? `git ${root.git_hash}` : null },
    files: [files.results, ...[...files.samples.values()]].map((f) => ({ name: f.name, sha256: sha256Hex(f.bytes), sizeBytes: f.bytes.length })),
    rules: { errors: rules.errors, ...(rules.filter === undefined ? {} : { filter: rules.filter }) },
    runs,
  }
}

/** lm-eval scores the test split when the task has one, else the validation split. */
function splitRole(taskConfig: Record<string, unknown>): DatasetRole {
  if (typeof taskConfig.test_split === 'string' && taskConfig.test_split !== '') return 'test'
  if (typeof taskConfig.validation_split === 'string' && taskConfig.validation_split !== '') return 'validation'
  return 'other'
}

function modelFromArgs(args: unknown): string | null {
  if (typeof args === 'string') {
    const match = /(?:^|,)\s*(?:pretrained|model)=([^,]+)/.exec(args)
    return match === null ? null : (match[1] as string).trim()
  }
  if (args !== null && typeof args === 'object') {
    const record = args as Record<string, unknown>
    const value = record.pretrained ?? record.model
    return typeof value === 'string' ? value : null
  }
  return null
}

function parseSamples(file: SourceFile): Sample[] {
  const text = decodeText(file)
  const lines = text.split('\n')
  const samples: Sample[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, '')
    if (line.trim() === '') continue
    const where = `line ${i + 1}`
    const value = parseJson(line, file.name, i)
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidImport(file.name, where, 'is not a JSON object', { line: i + 1 })
    const row = value as Record<string, unknown>
    const read = new FieldReader(`${file.name} ${where}`)
    const docId = read.integer(row.doc_id, 'doc_id')
    const metrics = read.array(row.metrics, 'metrics')
    const scores: Record<string, number> = {}
    const unscored: string[] = []
    for (const [k, metric] of metrics.entries()) {
      const name = read.string(metric, `metrics[${k}]`)
      const score = row[name]
      if (typeof score === 'number' && Number.isFinite(score)) scores[scoreName(name)] = score
      else if (typeof score === 'boolean') scores[scoreName(name)] = score ? 1 : 0
      else if (score === undefined) throw read.fail(name, `is listed in metrics but missing`)
      // Corpus-level metrics (bleu, f1 …) log per-sample material, not a score: named, not imported.
      else unscored.push(name)
    }
    samples.push({
      docId,
      docHash: read.optionalString(row.doc_hash, 'doc_hash'),
      targetHash: read.optionalString(row.target_hash, 'target_hash'),
      doc: row.doc ?? null,
      target: row.target ?? null,
      filter: read.optionalString(row.filter, 'filter') ?? 'none',
      scores,
      unscored,
      outputHash: sha256Hex(canonicalJson(row.filtered_resps ?? row.resps ?? null)),
    })
  }
  if (samples.length === 0) throw invalidImport(file.name, 'line 1', 'the samples file is empty')
  return samples
}
