import { randomUUID } from 'node:crypto'
import os from 'node:os'
import { AssayError } from '../errors.js'
import type { DatasetRole, DatasetVersion, HoldoutRead } from '../record/types.js'
import { allPages } from '../store/pages.js'
import { PAGE_SIZE, type Store } from '../store/store.js'
import type { ComparisonWarning } from './comparison-types.js'

/**
 * The holdout ledger. Every comparison (compare, leaderboard, report) that reads a dataset version
 * whose role is `holdout` or `test` appends one entry to the store's append-only ledger: which
 * dataset version, which runs, for what, by whom and when. Past the budget, every result computed on
 * that version carries a HOLDOUT_OVERUSE warning: each further look is one more chance to pick a
 * model because it fits the noise of this particular sample (adaptive overfitting).
 *
 * Default budget: 20 reads per dataset version. Why 20: the bias adaptive reuse can cause grows
 * roughly like sqrt(k / n) for k adaptive reads of n examples (Dwork et al. 2015; Blum & Hardt 2015),
 * and 20 looks at a family-wise 5% level already cost a Bonferroni factor of 20 (per-read level
 * 0.0025). Twenty is enough for a team to check a handful of finalists at each of a few
 * milestones, and few enough that a test set used as a development set is noticed within days.
 * Override with `budget` (SDK/CLI option `--holdout-budget`) or ASSAY_HOLDOUT_BUDGET.
 */
export const DEFAULT_HOLDOUT_BUDGET = 20

/** Roles whose reads are counted. */
export const HOLDOUT_ROLES: readonly DatasetRole[] = ['holdout', 'test']

export function isHoldoutRole(role: DatasetRole): boolean {
  return HOLDOUT_ROLES.includes(role)
}

/** The budget in force: the option, else ASSAY_HOLDOUT_BUDGET, else DEFAULT_HOLDOUT_BUDGET (a non-negative integer). */
export function resolveHoldoutBudget(budget?: number, env: NodeJS.ProcessEnv = process.env): number {
  let value: number = DEFAULT_HOLDOUT_BUDGET
  let source = 'default'
  if (budget !== undefined) {
    value = budget
    source = 'budget option'
  } else if (env.ASSAY_HOLDOUT_BUDGET !== undefined && env.ASSAY_HOLDOUT_BUDGET.trim() !== '') {
    value = Number(env.ASSAY_HOLDOUT_BUDGET)
    source = 'ASSAY_HOLDOUT_BUDGET'
  }
  if (!Number.isInteger(value) || value < 0) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `the holdout budget (${source}) must be a non-negative integer number of reads, got ${String(value)}`)
  }
  return value
}

export interface HoldoutCheck {
  datasetSha256: string
  datasetName: string
  /** Reads recorded against this dataset version so far (the current one included when it was recorded). */
  reads: number
  budget: number
  overBudget: boolean
  /** Distinct actors that read it, in order of first read. */
  actors: string[]
  /** Every ledger entry, oldest first. */
  entries: HoldoutRead[]
  /** HOLDOUT_OVERUSE past the budget (reads > budget), else null. */
  warning: ComparisonWarning | null
  /**
   * Present when the check was computed for a caller limited to some experiments: entries and
   * actors are then only the ledger entries about runs of those experiments (what the ledger route
   * gives that caller). `reads`, `overBudget` and the warning still count every read of the
   * version, because overfitting a holdout does not depend on who read it; `hiddenReads` says how
   * many of them the caller may not see, and nothing else of them is given.
   */
  view?: 'readable experiments'
  /** With `view`: reads by runs of experiments the caller may not read (counted, not shown). */
  hiddenReads?: number
}

/**
 * Count the reads of one dataset version and say whether it is past its budget. Reads only; records
 * nothing. With `experiments` (a caller limited to some), only the entries that caller may read are
 * counted, shown and named (the entries the ledger route gives it), so nothing of other experiments'
 * reads leaks into a result.
 */
export async function checkHoldoutBudget(
  store: Pick<Store, 'holdoutReads' | 'holdoutReadsPage'>,
  datasetSha256: string,
  options: { budget?: number; datasetName?: string; experiments?: readonly string[] } = {},
): Promise<HoldoutCheck> {
  const budget = resolveHoldoutBudget(options.budget)
  const experiments = options.experiments
  const all = await store.holdoutReads(datasetSha256)
  const entries =
    experiments === undefined
      ? all
      : await allPages((cursor) => store.holdoutReadsPage({ datasetSha256, experiments, limit: PAGE_SIZE.max, cursor }), (page) => page.reads)
  const datasetName = options.datasetName ?? entries.at(-1)?.datasetName ?? datasetSha256.slice(0, 12)
  // The budget is of every read (the holdout is as overfit whoever read it); what is shown is scoped.
  const reads = all.length
  const overBudget = reads > budget
  const actors = [...new Set(entries.map((e) => e.actor))]
  const scoped = experiments !== undefined
  const hidden = reads - entries.length
  const by = hidden > 0 ? `${actors.length > 0 ? `${actors.join(', ')} and ` : ''}${hidden} by runs of experiments this token may not read` : actors.join(', ')
  return {
    datasetSha256,
    datasetName,
    reads,
    budget,
    overBudget,
    actors,
    entries,
    warning: overBudget
      ? {
          code: 'HOLDOUT_OVERUSE',
          message:
            `dataset ${datasetName} (sha256 ${datasetSha256.slice(0, 12)}…) has been read ${reads} times, past its budget of ${budget}` +
            ` (by ${by}): the holdout is being overfit; results on it are optimistic. Confirm on a fresh holdout.`,
        }
      : null,
    ...(scoped ? { view: 'readable experiments' as const, hiddenReads: hidden } : {}),
  }
}

export interface HoldoutReadInput {
  /** The runs whose eval records on the dataset were read, with their declared datasets (RunRecord fits). */
  runs: readonly { id: string; datasets: readonly DatasetVersion[] }[]
  datasetName: string
  /** The dataset version read; when absent, every version of `datasetName` the runs declare is counted. */
  datasetSha256?: string
  /** What read it, e.g. "compare accuracy" or "leaderboard accuracy". */
  purpose: string
  /** Who: default ASSAY_OWNER, else the OS user name. */
  actor?: string
  at?: number
  budget?: number
  /** The experiments of a caller limited to some: the checks count only the entries it may read (checkHoldoutBudget). */
  visibleExperiments?: readonly string[]
}

/**
 * Record one read in the ledger when any of the runs declares the dataset version with role holdout or
 * test, and check the budget. Returns one check per holdout version read ([] when none was a holdout).
 * A version counts as a holdout if any run declares it so: a test set is not excused by one run calling
 * it validation.
 */
export async function recordAndCheckHoldout(store: Pick<Store, 'recordHoldoutRead' | 'holdoutReads' | 'holdoutReadsPage'>, input: HoldoutReadInput): Promise<HoldoutCheck[]> {
  const budget = resolveHoldoutBudget(input.budget)
  const versions = new Map<string, boolean>()
  for (const run of input.runs) {
    for (const d of run.datasets) {
      if (d.name !== input.datasetName) continue
      if (input.datasetSha256 !== undefined && d.sha256 !== input.datasetSha256) continue
      versions.set(d.sha256, (versions.get(d.sha256) ?? false) || isHoldoutRole(d.role))
    }
  }
  const actor = input.actor ?? defaultActor()
  const at = input.at ?? Date.now()
  const runIds = input.runs.map((r) => r.id)
  const checks: HoldoutCheck[] = []
  for (const [sha256, holdout] of versions) {
    if (!holdout) continue
    await store.recordHoldoutRead({ id: randomUUID(), datasetSha256: sha256, datasetName: input.datasetName, runIds, purpose: input.purpose, actor, at })
    checks.push(await checkHoldoutBudget(store, sha256, { budget, datasetName: input.datasetName, ...(input.visibleExperiments === undefined ? {} : { experiments: input.visibleExperiments }) }))
  }
  return checks
}

export function defaultActor(): string {
  if (process.env.ASSAY_OWNER) return process.env.ASSAY_OWNER
  try {
    return os.userInfo().username || 'unknown'
  } catch {
    return 'unknown'
  }
}
