import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { AssayError } from '../errors.js'
import { describe } from '../record/validate.js'
import { ERROR_RULES, EPOCH_REDUCERS, IMPORT_FORMATS, type ImportFormat, type ImportPlan, type ImportRules, type SourceFile } from './import-plan.js'
import { parseInspect } from './inspect.js'
import { lmEvalDateId, lmEvalSampleTask, parseLmEval } from './lm-eval.js'
import { parsePromptfoo } from './promptfoo.js'

/**
 * The one place the importers touch the file system: read the file (for lm-eval, the results file
 * and its samples files) and hand the bytes to the format's pure parser. The whole input is read
 * and checked before the SDK writes anything.
 */
export async function readImport(format: string, file: string, rules: Partial<ImportRules> = {}): Promise<ImportPlan> {
  if (!(IMPORT_FORMATS as readonly string[]).includes(format)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `unknown import format ${describe(format)}; the formats are ${IMPORT_FORMATS.join(', ')}`, { format })
  }
  const checked = checkRules(rules)
  if (typeof file !== 'string' || file === '') throw new AssayError('ASSAY_INVALID_ARGUMENT', `the path to import must be a non-empty string, got ${describe(file)}`)
  const absolute = path.resolve(file)
  const info = await stat(absolute).catch(() => null)
  if (info === null) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${absolute} does not exist: nothing to import`, { path: absolute })
  return distinctLabels(await parse(format as ImportFormat, absolute, info.isDirectory(), checked))
}

async function parse(format: ImportFormat, absolute: string, isDirectory: boolean, rules: ImportRules): Promise<ImportPlan> {
  switch (format) {
    case 'promptfoo':
      return parsePromptfoo(await readSource(absolute, isDirectory), rules)
    case 'inspect':
      return parseInspect(await readSource(absolute, isDirectory), rules)
    case 'lm-eval':
      return parseLmEval(await lmEvalFiles(absolute, isDirectory), rules)
  }
}

/** A run's label names it within its file (and finds it again on a repeated import), so labels are made distinct: "x", "x (2)". */
function distinctLabels(plan: ImportPlan): ImportPlan {
  const seen = new Map<string, number>()
  for (const run of plan.runs) {
    const n = (seen.get(run.label) ?? 0) + 1
    seen.set(run.label, n)
    if (n > 1) run.label = `${run.label} (${n})`
  }
  return plan
}

function checkRules(rules: Partial<ImportRules>): ImportRules {
  if (rules === null || typeof rules !== 'object') throw new AssayError('ASSAY_INVALID_ARGUMENT', `import options must be an object, got ${describe(rules)}`)
  const errors = rules.errors ?? 'exclude'
  if (!ERROR_RULES.includes(errors)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `errors must be one of ${ERROR_RULES.join(', ')}, got ${describe(errors)}`)
  const out: ImportRules = { errors }
  if (rules.epochsReducer !== undefined) {
    if (!EPOCH_REDUCERS.includes(rules.epochsReducer)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `epochsReducer must be one of ${EPOCH_REDUCERS.join(', ')}, got ${describe(rules.epochsReducer)}`)
    out.epochsReducer = rules.epochsReducer
  }
  if (rules.filter !== undefined) {
    if (typeof rules.filter !== 'string' || rules.filter === '') throw new AssayError('ASSAY_INVALID_ARGUMENT', `filter must be a non-empty string, got ${describe(rules.filter)}`)
    out.filter = rules.filter
  }
  return out
}

async function readSource(absolute: string, isDirectory: boolean): Promise<SourceFile> {
  if (isDirectory) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${absolute} is a directory; give the result file itself`, { path: absolute })
  return { name: path.basename(absolute), bytes: await readFile(absolute) }
}

/** A results_<date>.json file (or a directory holding exactly one) and the samples files of the same date beside it. */
async function lmEvalFiles(absolute: string, isDirectory: boolean): Promise<{ results: SourceFile; samples: Map<string, SourceFile> }> {
  let resultsPath = absolute
  if (isDirectory) {
    const candidates = (await readdir(absolute)).filter((name) => lmEvalDateId(name) !== null).sort()
    if (candidates.length !== 1) {
      throw new AssayError(
        'ASSAY_INVALID_ARGUMENT',
        candidates.length === 0 ? `${absolute} holds no results_<date>.json file of lm-eval` : `${absolute} holds ${candidates.length} results files (${candidates.join(', ')}); give one of them`,
        { path: absolute, candidates },
      )
    }
    resultsPath = path.join(absolute, candidates[0] as string)
  }
  const name = path.basename(resultsPath)
  const dateId = lmEvalDateId(name)
  if (dateId === null) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${name} is not named results_<date>.json, as lm-eval names its results file; its samples files are found by that date`, { path: resultsPath })
  const dir = path.dirname(resultsPath)
  const samples = new Map<string, SourceFile>()
  for (const entry of (await readdir(dir)).sort()) {
    const task = lmEvalSampleTask(entry, dateId)
    if (task !== null) samples.set(task, { name: entry, bytes: await readFile(path.join(dir, entry)) })
  }
  return { results: { name, bytes: await readFile(resultsPath) }, samples }
}
