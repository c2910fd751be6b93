import { randomUUID } from 'node:crypto'
import { AssayError } from '../errors.js'
import { ERROR_RULES, sha256Hex, type EpochReducer, type ErrorRule, type ImportPlan, type PlannedRun } from '../import/import-plan.js'
import { readImport } from '../import/read-import.js'
import { captureEnvironment } from '../record/environment.js'
import type { CodeVersion, DatasetVersion, RunSummary } from '../record/types.js'
import { assertCapturedRecord, assertName, assertParams, assertTags, canonicalJson, describe } from '../record/validate.js'
import type { EvalChunk } from '../store/chunk-codec.js'
import type { Store } from '../store/store.js'
import { evalRecordsToChunk, splitChunk } from './eval-batch.js'

/** Options of Assay.importResults and `assay import` (docs/import.md). */
export interface ImportOptions {
  /** Experiment the runs go into; default the format's name ('lm-eval', 'promptfoo', 'inspect'). */
  experiment?: string
  /** Run name; when the file makes several runs, each is named "<name> <what tells it apart>". Default: that label alone. */
  name?: string
  /** Errored samples: left out and counted ('exclude', the default) or scored 0 ('zero'). */
  errors?: ErrorRule
  /** Inspect: how epochs of a sample are reduced (default: the log's own reducer, else 'mean'). */
  epochsReducer?: EpochReducer
  /** lm-eval: the filter to import for tasks scored under several. */
  filter?: string
  owner?: string
}

export interface ImportedRun {
  id: string
  name: string
  dataset: string
  datasetSha256: string
  records: number
  errored: number
  excluded: number
}

export interface ImportResult {
  format: string
  tool: { name: string; version: string | null }
  experiment: string
  files: { name: string; sha256: string; sizeBytes: number }[]
  /** What identifies this import (the files' sha256s, the format and the rules): a second import with the same key returns the runs of the first. */
  key: string
  /** True when the runs were already imported and nothing was written. */
  existing: boolean
  runs: ImportedRun[]
}

/** Tags every imported run carries. */
export const IMPORT_TAGS = {
  key: 'assay.import.key',
  format: 'assay.import.format',
  tool: 'assay.import.tool',
  file: 'assay.import.file',
  sha256: 'assay.import.sha256',
  errors: 'assay.import.errors',
  errored: 'assay.import.errored',
  excluded: 'assay.import.excluded',
  label: 'assay.import.label',
} as const

const EVAL_RECORDS_PER_CHUNK = 50_000

/**
 * Import a result file of another tool: parse and check all of it, then create its runs. Runs are
 * written 'running' and set 'finished' only once every run of the file is written; if a write
 * fails, the runs already created are set 'failed' (never counted as an earlier import).
 */
export async function importResults(store: Store, format: string, file: string, options: ImportOptions, owner: string): Promise<ImportResult> {
  if (options === null || typeof options !== 'object') throw new AssayError('ASSAY_INVALID_ARGUMENT', `import options must be an object, got ${describe(options)}`)
  if (options.errors !== undefined && !ERROR_RULES.includes(options.errors)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `errors must be one of ${ERROR_RULES.join(', ')}, got ${describe(options.errors)}`)
  const plan = await readImport(format, file, { errors: options.errors, epochsReducer: options.epochsReducer, filter: options.filter })
  const experiment = options.experiment ?? plan.format
  assertName(experiment, 'experiment name')
  assertName(owner, 'owner')
  if (options.name !== undefined) assertName(options.name, 'run name')
  const key = sha256Hex(canonicalJson({ format: plan.format, files: plan.files.map((f) => f.sha256), rules: plan.rules }))

  const existing = await previousImport(store, experiment, key, plan.runs.map((r) => r.label))
  if (existing !== null) {
    return {
      ...summary(plan, experiment, key, true),
      runs: plan.runs.map((planned) => {
        const run = existing.find((r) => r.tags[IMPORT_TAGS.label] === planned.label) as RunSummary
        return { id: run.id, name: run.name, dataset: planned.dataset.name, datasetSha256: planned.dataset.sha256, records: planned.records.length, errored: planned.errored, excluded: planned.excluded }
      }),
    }
  }

  // Everything is checked before the first write: names, params, tags, every eval record.
  const environment = captureEnvironment()
  const code: CodeVersion = { vcs: null, reason: `imported from a ${plan.tool.name} result file; the code that produced it is not known to assay` }
  const prepared = plan.runs.map((run) => prepare(plan, run, key, options.name))
  for (const p of prepared) assertCapturedRecord({ environment, code, datasets: [p.dataset] })

  const created: string[] = []
  try {
    for (const p of prepared) {
      const startTime = p.run.startTime ?? Date.now()
      await store.createRun({
        id: p.id,
        experiment,
        name: p.name,
        owner,
        startTime,
        parentId: null,
        groupId: null,
        params: p.run.params,
        seed: p.run.seed ?? 0,
        seedSource: 'user',
        tags: p.tags,
        environment,
        code,
        datasets: [p.dataset],
      })
      created.push(p.id)
      // The run's start is when the tool ran it; its heartbeat is now, so no reader marks it crashed mid-import.
      await store.heartbeat(p.id, Date.now())
      for (const chunk of p.chunks) await store.logEval(p.id, p.dataset.name, p.dataset.sha256, chunk)
    }
    for (const p of prepared) {
      const end = p.run.endTime !== null && p.run.startTime !== null && p.run.endTime >= p.run.startTime ? p.run.endTime : Math.max(Date.now(), p.run.startTime ?? 0)
      await store.setRunStatus(p.id, 'finished', end)
    }
  } catch (error) {
    for (const id of created) await store.setRunStatus(id, 'failed', Date.now()).catch(() => undefined)
    throw error
  }
  return {
    ...summary(plan, experiment, key, false),
    runs: prepared.map((p) => ({ id: p.id, name: p.name, dataset: p.dataset.name, datasetSha256: p.dataset.sha256, records: p.run.records.length, errored: p.run.errored, excluded: p.run.excluded })),
  }
}

function summary(plan: ImportPlan, experiment: string, key: string, existing: boolean): Omit<ImportResult, 'runs'> {
  return { format: plan.format, tool: plan.tool, experiment, files: plan.files, key, existing }
}

interface PreparedRun {
  id: string
  name: string
  run: PlannedRun
  tags: Record<string, string>
  dataset: DatasetVersion
  chunks: EvalChunk[]
}

function prepare(plan: ImportPlan, run: PlannedRun, key: string, name: string | undefined): PreparedRun {
  const runName = name === undefined ? run.label : plan.runs.length === 1 ? name : `${name} ${run.label}`.slice(0, 250)
  assertName(runName, 'run name')
  assertParams(run.params)
  const main = plan.files[0] as { name: string; sha256: string }
  const tags: Record<string, string> = {
    ...run.tags,
    [IMPORT_TAGS.key]: key,
    [IMPORT_TAGS.format]: plan.format,
    [IMPORT_TAGS.tool]: plan.tool.version === null ? plan.tool.name : `${plan.tool.name} ${plan.tool.version}`,
    [IMPORT_TAGS.file]: main.name,
    [IMPORT_TAGS.sha256]: main.sha256,
    [IMPORT_TAGS.errors]: plan.rules.errors,
    [IMPORT_TAGS.errored]: String(run.errored),
    [IMPORT_TAGS.excluded]: String(run.excluded),
    [IMPORT_TAGS.label]: run.label,
  }
  if (plan.rules.epochsReducer !== undefined) tags['assay.import.epochs-reducer'] = plan.rules.epochsReducer
  // The record needs a seed; 0 stands in, and says so, when the tool recorded none.
  if (run.seed === null) tags['assay.import.seed'] = `none recorded by ${plan.tool.name}; 0 stands in`
  if (plan.files.length > 1) tags['assay.import.files'] = plan.files.map((f) => `${f.name} ${f.sha256}`).join('; ').slice(0, 8000)
  assertTags(tags)
  const dataset: DatasetVersion = {
    name: run.dataset.name,
    role: run.dataset.role,
    sha256: run.dataset.sha256,
    kind: 'file',
    sizeBytes: 0,
    fileCount: 0,
    rows: run.dataset.rows,
    columns: null,
    source: run.dataset.hashedFrom.slice(0, 4000),
  }
  assertName(dataset.name, 'dataset name')
  const chunks = splitChunk(evalRecordsToChunk(run.records, new Set()), EVAL_RECORDS_PER_CHUNK)
  return { id: randomUUID().replaceAll('-', ''), name: runName, run, tags, dataset, chunks }
}

/** The finished runs of an earlier import with this key, when it made all of them; else null. */
async function previousImport(store: Store, experiment: string, key: string, labels: readonly string[]): Promise<RunSummary[] | null> {
  const runs = await store.listRuns({ experiment }).catch((error: unknown) => {
    if (error instanceof AssayError && error.code === 'ASSAY_EXPERIMENT_NOT_FOUND') return []
    throw error
  })
  const finished = runs.filter((run) => run.tags[IMPORT_TAGS.key] === key && run.status === 'finished')
  const complete = finished.length === labels.length && labels.every((label) => finished.filter((run) => run.tags[IMPORT_TAGS.label] === label).length === 1)
  return complete ? finished : null
}
