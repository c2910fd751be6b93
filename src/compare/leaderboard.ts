import { AssayError } from '../errors.js'
import type { DatasetRole, EvalColumns, RunRecord, RunSummary } from '../record/types.js'
import { adjustPValues, mcnemar, pairedDecisions, type PairedDecisionResult, type PValueAdjustment } from '../stats/index.js'
import { parseRunFilter } from '../store/run-filter.js'
import type { Store } from '../store/store.js'
import type { ComparisonWarning } from './comparison-types.js'
import { formatPValue } from '../number-format.js'
import { criticalDifference, type CriticalDifferenceResult } from './critical-difference.js'
import { alignExamples } from './align-examples.js'
import { checkHoldoutBudget, defaultActor, recordAndCheckHoldout, type HoldoutCheck } from './holdout-ledger.js'
import { ladder, type LadderResult, type LadderThreshold } from './ladder.js'
import { bestSeedOnlyWarnings, winnersCurseWarning, type SeedRun } from './winners-curse.js'
import { ASSAY_VERSION } from '../version.js'

/**
 * `assay leaderboard`: many candidates against one baseline on one dataset version, with
 * multiplicity control; across several datasets, average ranks, Friedman and the Nemenyi critical
 * difference. See docs/leaderboard.md for every rule stated here.
 */

export const LEADERBOARD_SCHEMA = 'assay.leaderboard/v1'

/** Bootstrap resamples per candidate when the bootstrap interval is asked for (`interval: 'bootstrap'`). */
export const LEADERBOARD_RESAMPLES = 1000
export const LEADERBOARD_SEED = 20150701

export interface LeaderboardOptions {
  /** Dataset names. One: a leaderboard. Several, or none (= every dataset the candidates share): also a ranking across datasets. */
  datasets?: string[]
  experiment?: string
  /**
   * Where the other seeds of a represented configuration are looked for (BEST_SEED_ONLY): every
   * experiment by default; the server passes the token's experiment, so a token limited to some
   * experiments learns nothing of the runs of others.
   */
  siblingsExperiment?: string
  /** Run filter (docs/cli.md grammar) on the candidates. */
  filter?: string
  /** Explicit candidate runs (ids or unique prefixes); the experiment and filter still apply. */
  runs?: string[]
  /** Baseline run; default: the earliest run (by start time) with eval records on the dataset. */
  baseline?: string
  /** Score name; default: the only score every candidate has. */
  metric?: string
  higherIsBetter?: boolean
  /** 'holm' (default, family-wise error) or 'BH' (false discovery rate); any method of adjustPValues. */
  adjust?: PValueAdjustment
  alpha?: number
  confidenceLevel?: number
  /**
   * Interval of each mean difference: 'analytic' (default: the paired t interval, mean(d) ± t(n−1) sd(d)/√n,
   * fast at any size) or 'bootstrap' (paired bootstrap percentile interval, `resamples` with a fixed `seed`).
   */
  interval?: 'analytic' | 'bootstrap'
  resamples?: number
  seed?: number
  /** McNemar on binary scores: 'exact' (default, binomial on the discordant pairs) or 'asymptotic' (chi-squared with continuity correction). */
  mcnemar?: 'exact' | 'asymptotic'
  /** Ladder mode: true for the parameter-free rule, or a threshold. */
  ladder?: boolean | LadderThreshold
  holdoutBudget?: number
  /** Record this read in the holdout ledger (default true); false only checks the budget. */
  recordHoldout?: boolean
  actor?: string
  /** A caller limited to these experiments: each board's holdout checks and warnings are of the ledger entries it may read (checkHoldoutBudget). */
  holdoutVisibleExperiments?: readonly string[]
  /** Allow eval records on different versions of a dataset (paired by example id, with a DIFFERENT_DATA warning). */
  allowDifferentVersions?: boolean
  /** Across datasets, what a "system" is: 'run' (default), 'name', 'params.KEY' or 'tags.KEY' (its runs' means are averaged). */
  systemBy?: string
  now?: number
}

export interface DifferenceHistogram {
  /** Bin edges (length counts + 1); for few distinct differences, one bin per value with lo = hi. */
  bins: { lo: number; hi: number; count: number }[]
}

export interface LeaderboardEntry {
  rank: number
  runId: string
  name: string
  experiment: string
  status: string
  seed: number
  startTime: number
  configFingerprint: string
  datasetSha256: string
  /** Candidate and baseline means over the paired examples. */
  mean: number
  baselineMean: number
  pairs: number
  lost: { baseline: number; candidate: number; nonFinite: number }
  /** mean(candidate - baseline); "better" follows higherIsBetter. */
  estimate: number
  /** Interval of the mean difference (cluster-robust with clusters); null when identical to the baseline. */
  ci: [number, number] | null
  /** Standard error behind the interval (cluster-robust with clusters; 0 for constant differences). */
  standardError: number
  /** Distinct clusters behind a cluster-robust decision, else null. */
  clusters: number | null
  test: { method: string; statistic: number | null; pValue: number; discordant: { candidateOnly: number; baselineOnly: number } | null }
  pValue: number
  adjustedPValue: number
  significant: boolean
  verdict: 'better' | 'worse' | 'inconclusive'
  histogram: DifferenceHistogram
  warnings: ComparisonWarning[]
}

export interface LeaderboardBaseline {
  runId: string
  name: string
  seed: number
  startTime: number
  configFingerprint: string
  datasetSha256: string
  mean: number
  n: number
  rule: 'given' | 'earliest run'
}

export interface DatasetBoard {
  dataset: { name: string; sha256: string; role: DatasetRole; versions: string[] }
  baseline: LeaderboardBaseline
  entries: LeaderboardEntry[]
  adjustment: { method: string; adjustment: PValueAdjustment; hypotheses: number }
  ladder: LadderResult | null
  holdout: HoldoutCheck[]
  warnings: ComparisonWarning[]
}

export interface Leaderboard {
  schema: typeof LEADERBOARD_SCHEMA
  assayVersion: string
  generatedAt: number
  metric: string
  higherIsBetter: boolean
  alpha: number
  confidenceLevel: number
  adjustment: PValueAdjustment
  /** How each candidate was tested and how its interval was computed. */
  methods: { binary: string; continuous: string; interval: string; intervalKind: 'analytic' | 'bootstrap'; resamples: number | null; seed: number | null }
  boards: DatasetBoard[]
  /** Across datasets (two or more): average ranks, Friedman, Nemenyi CD; else null. */
  ranking: CriticalDifferenceResult | null
  provenance: Provenance
  warnings: ComparisonWarning[]
}

export interface Provenance {
  assayVersion: string
  runIds: string[]
  datasets: { name: string; sha256: string }[]
  seeds: { runId: string; seed: number }[]
}

interface Loaded {
  record: RunRecord
  summary: RunSummary | undefined
  columns: EvalColumns
}

/**
 * The candidate runs (the experiment's, through the filter, which the store applies, and the
 * explicit list), the baseline's id, and the listing summary of each of them.
 */
async function selectCandidates(store: Store, options: LeaderboardOptions): Promise<{ selected: RunSummary[]; baselineId: string | undefined; summaryById: Map<string, RunSummary> }> {
  const filter = options.filter !== undefined && options.filter.trim() !== '' ? options.filter : undefined
  if (filter !== undefined) parseRunFilter(filter)
  let selected = await store.listRuns({ experiment: options.experiment, filter })
  if (options.runs !== undefined && options.runs.length > 0) {
    const ids = new Set<string>()
    for (const r of options.runs) ids.add(await store.resolveRunId(r))
    selected = selected.filter((r) => ids.has(r.id))
    const missing = [...ids].filter((id) => !selected.some((r) => r.id === id))
    if (missing.length > 0) throw new AssayError('ASSAY_INVALID_ARGUMENT', `runs ${missing.join(', ')} are not in the candidate set (experiment or filter excludes them)`)
  }
  const baselineId = options.baseline === undefined ? undefined : await store.resolveRunId(options.baseline)
  const summaryById = new Map(selected.map((s) => [s.id, s]))
  if (baselineId !== undefined && !summaryById.has(baselineId)) {
    // A baseline outside the filter keeps its summary when it is a run of the experiment.
    for (const s of await store.listRuns({ experiment: options.experiment, filter: `id = '${baselineId}'` })) summaryById.set(s.id, s)
  }
  return { selected, baselineId, summaryById }
}

/** Every run (of any experiment) whose config fingerprint one of `records` has: the seeds of their groups. */
async function runsSharingConfig(store: Store, records: readonly RunRecord[], experiment: string | undefined): Promise<RunSummary[]> {
  const fingerprints = [...new Set(records.map((r) => r.envelope.config))].filter((f) => /^[0-9a-f]+$/.test(f))
  const out: RunSummary[] = []
  // A filter is at most 4096 characters: 40 fingerprints of 64 characters per listing.
  for (let i = 0; i < fingerprints.length; i += 40) {
    out.push(...(await store.listRuns({ experiment, filter: fingerprints.slice(i, i + 40).map((f) => `config = '${f}'`).join(' or ') })))
  }
  return out.sort((a, b) => a.startTime - b.startTime || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

export async function leaderboard(store: Store, options: LeaderboardOptions = {}): Promise<Leaderboard> {
  const higherIsBetter = options.higherIsBetter ?? true
  const adjustment = options.adjust ?? 'holm'
  const alpha = options.alpha ?? 0.05
  const confidenceLevel = options.confidenceLevel ?? 0.95
  const resamples = options.resamples ?? LEADERBOARD_RESAMPLES
  const seed = options.seed ?? LEADERBOARD_SEED
  const interval = options.interval ?? 'analytic'
  if (interval !== 'analytic' && interval !== 'bootstrap') throw new AssayError('ASSAY_INVALID_ARGUMENT', `interval must be analytic or bootstrap, got ${String(interval)}`)
  const now = options.now ?? Date.now()
  if (!(alpha > 0 && alpha < 1)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `alpha must be in (0, 1), got ${String(alpha)}`)
  if (!(confidenceLevel > 0 && confidenceLevel < 1)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `confidenceLevel must be in (0, 1), got ${String(confidenceLevel)}`)
  if (!Number.isInteger(resamples) || resamples < 100) throw new AssayError('ASSAY_INVALID_ARGUMENT', `resamples must be an integer >= 100, got ${String(resamples)}`)

  // Candidates: runs of the experiment, through the filter (in the store) and the explicit list.
  const { selected, baselineId, summaryById } = await selectCandidates(store, options)
  const records = new Map<string, RunRecord>()
  const getRecord = async (id: string): Promise<RunRecord> => {
    let r = records.get(id)
    if (r === undefined) {
      r = await store.getRun(id)
      records.set(id, r)
    }
    return r
  }
  for (const s of selected) await getRecord(s.id)
  if (baselineId !== undefined) await getRecord(baselineId)

  // Datasets.
  let datasetNames = options.datasets?.filter((d) => d.trim() !== '') ?? []
  const pool = [...records.values()]
  if (datasetNames.length === 0) {
    const counts = new Map<string, number>()
    for (const r of pool) for (const e of r.evals) counts.set(e.dataset, (counts.get(e.dataset) ?? 0) + 1)
    datasetNames = [...counts].filter(([, c]) => c >= 2).map(([d]) => d).sort()
    if (datasetNames.length === 0) throw new AssayError('ASSAY_LEADERBOARD_EMPTY', 'no dataset has eval records from two or more candidate runs')
  }
  if (new Set(datasetNames).size !== datasetNames.length) throw new AssayError('ASSAY_INVALID_ARGUMENT', `datasets are listed twice: ${datasetNames.join(', ')}`)
  // A named dataset no candidate has eval records on: say so, and name the datasets they do have.
  const withEvals = new Map<string, number>()
  for (const r of pool) for (const name of new Set(r.evals.map((e) => e.dataset))) withEvals.set(name, (withEvals.get(name) ?? 0) + 1)
  const absent = datasetNames.filter((d) => !withEvals.has(d))
  if (absent.length > 0) {
    const have = [...withEvals].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([name, count]) => `${name} (${count} run${count === 1 ? '' : 's'})`)
    throw new AssayError(
      'ASSAY_EVAL_NOT_FOUND',
      `no candidate run has eval records on dataset${absent.length === 1 ? '' : 's'} ${absent.map((d) => JSON.stringify(d)).join(', ')}; ` +
        (have.length === 0 ? `the ${pool.length} candidate run${pool.length === 1 ? ' has' : 's have'} no eval records at all` : `the candidates have eval records on: ${have.join(', ')}`),
      { datasets: absent, available: [...withEvals.keys()].sort() },
    )
  }

  // Metric: the given one, or the only score every run on the first dataset shares.
  const metric = options.metric ?? inferMetric(pool, datasetNames)
  const allSummaries = await runsSharingConfig(store, pool, options.siblingsExperiment)
  const boards: DatasetBoard[] = []
  const warnings: ComparisonWarning[] = []
  for (const dataset of datasetNames) {
    boards.push(
      await buildBoard(store, {
        dataset,
        metric,
        higherIsBetter,
        adjustment,
        alpha,
        confidenceLevel,
        resamples,
        seed,
        interval,
        mcnemarMethod: options.mcnemar ?? 'exact',
        candidates: pool.filter((r) => r.evals.some((e) => e.dataset === dataset) && (selected.some((s) => s.id === r.id) || r.id === baselineId)),
        baselineId,
        summaryById,
        allSummaries,
        getRecord,
        ladderThreshold: options.ladder === undefined || options.ladder === false ? null : options.ladder === true ? { kind: 'paired-se', multiplier: 1 } : options.ladder,
        holdoutBudget: options.holdoutBudget,
        recordHoldout: options.recordHoldout ?? true,
        actor: options.actor ?? defaultActor(),
        holdoutVisibleExperiments: options.holdoutVisibleExperiments,
        now,
        allowDifferentVersions: options.allowDifferentVersions ?? false,
      }),
    )
  }

  let ranking: CriticalDifferenceResult | null = null
  if (datasetNames.length >= 2) {
    ranking = await rankAcrossDatasets(store, pool.filter((r) => selected.some((s) => s.id === r.id) || r.id === baselineId), datasetNames, metric, higherIsBetter, alpha, options.systemBy ?? 'run', warnings)
  }

  const runIds = new Set<string>()
  for (const b of boards) {
    runIds.add(b.baseline.runId)
    for (const e of b.entries) runIds.add(e.runId)
  }
  for (const s of ranking?.systems ?? []) for (const id of s.runIds) runIds.add(id)
  const ids = [...runIds]
  return {
    schema: LEADERBOARD_SCHEMA,
    assayVersion: ASSAY_VERSION,
    generatedAt: now,
    metric,
    higherIsBetter,
    alpha,
    confidenceLevel,
    adjustment,
    methods: {
      binary: `${(options.mcnemar ?? 'exact') === 'exact' ? 'exact McNemar test (binomial on the discordant pairs)' : "McNemar's chi-squared test with continuity correction"} when every paired score is 0 or 1`,
      continuous: 'paired t-test otherwise; cluster-robust t (CR1, C − 1 df) when examples carry clusters; exact sign test for constant differences',
      interval:
        interval === 'bootstrap'
          ? `paired studentized bootstrap (bootstrap-t) interval of the mean difference (${resamples} resamples, seed ${seed})`
          : 'paired t interval of the mean difference: mean(d) ± t(n−1) · sd(d)/√n',
      intervalKind: interval,
      resamples: interval === 'bootstrap' ? resamples : null,
      seed: interval === 'bootstrap' ? seed : null,
    },
    boards,
    ranking,
    provenance: {
      assayVersion: ASSAY_VERSION,
      runIds: ids,
      datasets: dedupe(boards.flatMap((b) => b.dataset.versions.map((sha256) => ({ name: b.dataset.name, sha256 })))),
      seeds: ids.map((id) => ({ runId: id, seed: records.get(id)?.seed ?? NaN })),
    },
    warnings,
  }
}

function dedupe(list: { name: string; sha256: string }[]): { name: string; sha256: string }[] {
  const seen = new Set<string>()
  return list.filter((d) => {
    const key = `${d.name}\u0000${d.sha256}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

function inferMetric(pool: RunRecord[], datasets: string[]): string {
  let shared: string[] | undefined
  for (const r of pool) {
    for (const e of r.evals) {
      if (!datasets.includes(e.dataset)) continue
      shared = shared === undefined ? [...e.scoreNames] : shared.filter((name) => e.scoreNames.includes(name))
    }
  }
  const list = [...(shared ?? [])].sort()
  if (list.length === 1) return list[0]
  if (list.length === 0) throw new AssayError('ASSAY_METRIC_NOT_FOUND', `the candidate runs share no score on ${datasets.join(', ')}; name one with --metric`)
  throw new AssayError('ASSAY_INVALID_ARGUMENT', `the candidates have several scores (${list.join(', ')}); choose one with --metric`)
}

/**
 * A bootstrap p-value is at least 2/(B + 1), and the adjustment across K candidates raises the
 * smallest further (Holm: K times): with too few resamples no continuous-score candidate can be
 * called better or worse, whatever the data. Said instead of a silent row of "inconclusive".
 */
function bootstrapFloorWarning(input: BoardInput, bootstrapped: number, hypotheses: number): ComparisonWarning | null {
  if (input.interval !== 'bootstrap' || bootstrapped === 0) return null
  const floor = 2 / (input.resamples + 1)
  const best = Math.min(...adjustPValues(new Array<number>(hypotheses).fill(floor), input.adjustment).adjusted)
  if (best < input.alpha) return null
  const needed = Math.ceil((2 * hypotheses) / input.alpha)
  return {
    code: 'TOO_FEW_RESAMPLES',
    message: `with ${input.resamples} bootstrap resamples the smallest p-value is 2/(B + 1) = ${formatPValue(floor)}, and after ${input.adjustment} over ${hypotheses} candidates none can reach alpha = ${input.alpha}: every continuous-score verdict is inconclusive by construction; use --bootstrap ${needed} or more`,
  }
}

interface BoardInput {
  dataset: string
  metric: string
  higherIsBetter: boolean
  adjustment: PValueAdjustment
  alpha: number
  confidenceLevel: number
  resamples: number
  seed: number
  interval: 'analytic' | 'bootstrap'
  mcnemarMethod: 'exact' | 'asymptotic'
  candidates: RunRecord[]
  baselineId: string | undefined
  summaryById: Map<string, RunSummary>
  allSummaries: RunSummary[]
  getRecord: (id: string) => Promise<RunRecord>
  ladderThreshold: LadderThreshold | null
  holdoutBudget: number | undefined
  recordHoldout: boolean
  actor: string
  holdoutVisibleExperiments: readonly string[] | undefined
  now: number
  allowDifferentVersions: boolean
}

async function buildBoard(store: Store, input: BoardInput): Promise<DatasetBoard> {
  const { dataset, metric, higherIsBetter } = input
  const warnings: ComparisonWarning[] = []
  const runs = [...input.candidates].sort((x, y) => x.startTime - y.startTime || (x.id < y.id ? -1 : 1))
  let baselineRecord: RunRecord | undefined
  if (input.baselineId !== undefined) {
    baselineRecord = runs.find((r) => r.id === input.baselineId)
    if (baselineRecord === undefined) throw new AssayError('ASSAY_EVAL_NOT_FOUND', `baseline run ${input.baselineId} has no eval records for dataset ${JSON.stringify(dataset)}`)
  } else baselineRecord = runs[0]
  if (baselineRecord === undefined || runs.length < 2) {
    throw new AssayError('ASSAY_LEADERBOARD_EMPTY', `dataset ${JSON.stringify(dataset)}: a leaderboard needs a baseline and at least one candidate with eval records there; found ${runs.length} run(s)`)
  }
  const baseline = baselineRecord

  // One dataset version, unless told otherwise.
  const shaOf = (r: RunRecord): string => r.evals.find((e) => e.dataset === dataset)!.datasetSha256
  const versions = new Map<string, string[]>()
  for (const r of runs) versions.set(shaOf(r), [...(versions.get(shaOf(r)) ?? []), r.id])
  if (versions.size > 1) {
    const detail = [...versions].map(([sha, ids]) => `${sha} (${ids.length} run${ids.length === 1 ? '' : 's'}: ${ids.slice(0, 3).map((id) => id.slice(0, 8)).join(', ')}${ids.length > 3 ? ', …' : ''})`).join('; ')
    if (!input.allowDifferentVersions) {
      throw new AssayError('ASSAY_NOT_COMPARABLE', `dataset ${JSON.stringify(dataset)}: the candidates were evaluated on ${versions.size} different versions: ${detail}. Restrict the candidates (--filter, --runs) or pass --allow-different-versions to pair by example id anyway`, {
        dataset,
        versions: Object.fromEntries(versions),
      })
    }
    warnings.push({ code: 'DIFFERENT_DATA', message: `dataset ${dataset}: candidates were evaluated on ${versions.size} different versions (${detail}); examples are paired by id across versions` })
  }
  const role = roleOf(runs, dataset, shaOf(baseline))

  // Load and align every run to the baseline's example order: one Float64Array per run, NaN where absent.
  const loaded = new Map<string, Loaded>()
  for (const r of runs) {
    const columns = await store.evalColumns(r.id, dataset)
    if (!(metric in columns.scores)) {
      throw new AssayError('ASSAY_METRIC_NOT_FOUND', `run ${r.id} has no score ${JSON.stringify(metric)} on dataset ${JSON.stringify(dataset)} (it has ${Object.keys(columns.scores).join(', ') || 'none'})`)
    }
    loaded.set(r.id, { record: r, summary: input.summaryById.get(r.id), columns })
  }
  const base = loaded.get(baseline.id)!.columns
  const n = base.ids.length
  const baseScores = base.scores[metric]
  // Every run in the baseline's example order (NaN where it has no usable score): what the ladder reads.
  const inBaselineOrder = new Map<string, Float64Array>([[baseline.id, baseScores]])

  // Per candidate: pair with the baseline once (alignExamples); then every candidate's test and
  // interval in one call, so candidates with as many pairs share their bootstrap resamples.
  const aligned: { run: RunRecord; pair: ReturnType<typeof alignExamples>; meanA: number; meanB: number; warnings: ComparisonWarning[] }[] = []
  let nonFiniteBaseline = 0
  let nonFiniteCandidates = 0
  for (const r of runs) {
    if (r.id === baseline.id) continue
    const pair = alignExamples(base, loaded.get(r.id)!.columns, metric)
    const pairs = pair.pairs
    if (pairs < 2) {
      throw new AssayError('ASSAY_NOT_COMPARABLE', `run ${r.id} shares ${pairs} scored example(s) with baseline ${baseline.id} on ${dataset}; at least 2 are needed`)
    }
    const ordered = new Float64Array(n).fill(NaN)
    for (let k = 0; k < pairs; k++) ordered[pair.indexA[k]] = pair.b[k]
    inBaselineOrder.set(r.id, ordered)
    nonFiniteBaseline = Math.max(nonFiniteBaseline, pair.lost.a.nonFinite)
    nonFiniteCandidates += pair.lost.b.nonFinite
    const entryWarnings: ComparisonWarning[] = []
    if (pair.lostA > 0 || pair.lostB > 0) {
      entryWarnings.push({
        code: 'PARTIAL_OVERLAP',
        message: `${pairs} examples paired; ${pair.lostA} of the baseline's ${pair.nA} and ${pair.lostB} of the candidate's ${pair.nB} records have no usable partner`,
      })
    }
    // alignExamples(baseline, candidate): side a is the baseline, side b the candidate.
    let meanA = 0
    let meanB = 0
    for (let i = 0; i < pairs; i++) {
      meanA += pair.b[i]
      meanB += pair.a[i]
    }
    aligned.push({ run: r, pair, meanA: meanA / pairs, meanB: meanB / pairs, warnings: entryWarnings })
  }
  const decided = leaderboardPairs(
    aligned.map(({ pair }) => ({ candidate: pair.b, baseline: pair.a, clusters: pair.clusters, binary: pair.scoreType === 'binary' })),
    { confidenceLevel: input.confidenceLevel, interval: input.interval, resamples: input.resamples, seed: input.seed, mcnemar: input.mcnemarMethod },
  )
  const partial: Omit<LeaderboardEntry, 'rank' | 'adjustedPValue' | 'significant' | 'verdict'>[] = aligned.map(({ run: r, pair, meanA, meanB, warnings: entryWarnings }, k) => {
    const { decision, test } = decided[k]
    for (const w of decision.warnings) entryWarnings.push(w)
    if (decision.data === 'identical') entryWarnings.push({ code: 'IDENTICAL_SIDES', message: `identical to the baseline on all ${pair.pairs} examples: no interval` })
    return {
      runId: r.id,
      name: r.name,
      experiment: r.experiment,
      status: r.status,
      seed: r.seed,
      startTime: r.startTime,
      configFingerprint: r.envelope.config,
      datasetSha256: shaOf(r),
      mean: meanA,
      baselineMean: meanB,
      pairs: pair.pairs,
      lost: { baseline: pair.lostA, candidate: pair.lostB, nonFinite: pair.lost.b.nonFinite },
      estimate: meanA - meanB,
      ci: decision.ci,
      standardError: decision.standardError ?? 0,
      clusters: decision.clusters,
      test,
      pValue: test.pValue,
      histogram: differenceHistogramOf(pair.b, pair.a),
      warnings: entryWarnings,
    }
  })
  if (nonFiniteBaseline + nonFiniteCandidates > 0) {
    warnings.push({ code: 'NON_FINITE_SCORES', message: `scores logged as NaN or ±Infinity were left out of their pairs: ${nonFiniteBaseline} of the baseline's, ${nonFiniteCandidates} of the candidates'` })
  }

  const adjusted = adjustPValues(
    partial.map((e) => e.pValue),
    input.adjustment,
  )
  const resampleFloor = bootstrapFloorWarning(input, aligned.filter(({ pair }) => pair.scoreType !== 'binary').length, partial.length)
  if (resampleFloor !== null) warnings.push(resampleFloor)
  const sign = higherIsBetter ? 1 : -1
  const entries: LeaderboardEntry[] = partial.map((e, i) => {
    const significant = adjusted.adjusted[i] < input.alpha
    return {
      ...e,
      rank: 0,
      adjustedPValue: adjusted.adjusted[i],
      significant,
      verdict: !significant || e.estimate === 0 ? 'inconclusive' : sign * e.estimate > 0 ? 'better' : 'worse',
    }
  })
  entries.sort((x, y) => sign * (y.estimate - x.estimate) || x.startTime - y.startTime || (x.runId < y.runId ? -1 : 1))
  entries.forEach((e, i) => (e.rank = i + 1))

  // Winner's curse: the top of K >= 2 candidates was picked on this very data.
  const top = entries[0]
  const curse = winnersCurseWarning({
    candidates: entries.length,
    bestLabel: `${top.name} (${top.runId.slice(0, 8)})`,
    selectionDatasetSha256: [...versions.keys()],
    evaluationDatasetSha256: top.datasetSha256,
    standardError: top.standardError,
  })
  if (curse !== null) {
    top.warnings.push(curse)
    warnings.push(curse)
  }

  // Best seed only: replicate groups represented by one seed while others exist.
  const represented: (SeedRun & { label: string })[] = runs.map((r) => ({
    runId: r.id,
    label: `${r.name} (${r.id.slice(0, 8)})`,
    groupKey: r.envelope.config,
    seed: r.seed,
    mean: r.id === baseline.id ? meanOf(baseScores) : (entries.find((e) => e.runId === r.id)?.mean ?? null),
  }))
  const groups = new Set(represented.map((r) => r.groupKey))
  const siblings = input.allSummaries.filter((s) => groups.has(s.configFingerprint) && !runs.some((r) => r.id === s.id))
  const siblingRuns: SeedRun[] = []
  for (const s of siblings) {
    const rec = await input.getRecord(s.id)
    let mean: number | null = null
    if (rec.evals.some((e) => e.dataset === dataset)) {
      const cols = await store.evalColumns(s.id, dataset)
      mean = metric in cols.scores ? meanOf(cols.scores[metric]) : null
    }
    siblingRuns.push({ runId: s.id, groupKey: s.configFingerprint, seed: s.seed, mean })
  }
  const bestSeed = bestSeedOnlyWarnings(represented, siblingRuns, higherIsBetter)
  for (const e of entries) {
    const w = bestSeed.get(e.runId)
    if (w !== undefined) e.warnings.push(w)
  }
  const baselineBestSeed = bestSeed.get(baseline.id)
  if (baselineBestSeed !== undefined) warnings.push(baselineBestSeed)

  // Ladder over the runs in submission (start time) order, baseline included.
  const ladderResult =
    input.ladderThreshold === null
      ? null
      : ladder(
          runs.map((r) => ({ id: r.id, label: r.name, scores: inBaselineOrder.get(r.id)! })),
          { higherIsBetter, threshold: input.ladderThreshold },
        )

  // Holdout ledger.
  const purpose = `leaderboard ${metric}`
  let holdout: HoldoutCheck[] = []
  if (input.recordHoldout) {
    holdout = await recordAndCheckHoldout(store, { runs, datasetName: dataset, purpose, actor: input.actor, at: input.now, budget: input.holdoutBudget, visibleExperiments: input.holdoutVisibleExperiments })
  } else {
    for (const sha of versions.keys()) {
      if (roleOf(runs, dataset, sha) === 'holdout' || roleOf(runs, dataset, sha) === 'test') holdout.push(await checkHoldoutBudget(store, sha, { budget: input.holdoutBudget, datasetName: dataset, experiments: input.holdoutVisibleExperiments }))
    }
  }
  for (const check of holdout) {
    if (check.warning === null) continue
    warnings.push(check.warning)
    for (const e of entries) e.warnings.push(check.warning)
  }

  return {
    dataset: { name: dataset, sha256: shaOf(baseline), role, versions: [...versions.keys()] },
    baseline: {
      runId: baseline.id,
      name: baseline.name,
      seed: baseline.seed,
      startTime: baseline.startTime,
      configFingerprint: baseline.envelope.config,
      datasetSha256: shaOf(baseline),
      mean: meanOf(baseScores),
      n,
      rule: input.baselineId === undefined ? 'earliest run' : 'given',
    },
    entries,
    adjustment: { method: adjusted.method, adjustment: input.adjustment, hypotheses: adjusted.n },
    ladder: ladderResult,
    holdout,
    warnings,
  }
}

/** The role a dataset version plays: holdout or test when any run declares it so, else the baseline's declaration. */
function roleOf(runs: RunRecord[], dataset: string, sha256: string): DatasetRole {
  let role: DatasetRole = 'other'
  for (const r of runs) {
    for (const d of r.datasets) {
      if (d.name !== dataset || d.sha256 !== sha256) continue
      if (d.role === 'holdout' || d.role === 'test') return d.role
      role = d.role
    }
  }
  return role
}

function meanOf(x: Float64Array): number {
  let s = 0
  let n = 0
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(x[i])) {
      s += x[i]
      n++
    }
  }
  return n === 0 ? NaN : s / n
}

export interface LeaderboardPairOptions {
  confidenceLevel: number
  interval: 'analytic' | 'bootstrap'
  resamples: number
  seed: number
  mcnemar: 'exact' | 'asymptotic'
}

/**
 * One candidate against the baseline: the one paired decision of assay/stats (pairedDecision, two-sided,
 * cluster-robust when the examples carry clusters), with the leaderboard's interval and McNemar options.
 * Pure; what the calibration suite calls.
 */
export function leaderboardPair(
  candidate: Float64Array,
  baseline: Float64Array,
  options: LeaderboardPairOptions & { clusters: readonly (string | null)[] | null; binary: boolean },
): { decision: PairedDecisionResult; test: LeaderboardEntry['test'] } {
  return leaderboardPairs([{ candidate, baseline, clusters: options.clusters, binary: options.binary }], options)[0]
}

/**
 * Every candidate of a board against the baseline (what buildBoard calls): leaderboardPair for each,
 * through pairedDecisions, so candidates of one score type with as many pairs share one draw of
 * bootstrap resamples.
 */
export function leaderboardPairs(
  pairs: readonly { candidate: Float64Array; baseline: Float64Array; clusters: readonly (string | null)[] | null; binary: boolean }[],
  options: LeaderboardPairOptions,
): { decision: PairedDecisionResult; test: LeaderboardEntry['test'] }[] {
  const decisionOptions = {
    confidenceLevel: options.confidenceLevel,
    interval: options.interval === 'bootstrap' ? ('bootstrap-t' as const) : ('t' as const),
    resamples: options.resamples,
    seed: options.seed,
  }
  const decisions = new Array<PairedDecisionResult>(pairs.length)
  for (const binary of [true, false]) {
    const members = pairs.flatMap((p, k) => (p.binary === binary ? [k] : []))
    if (members.length === 0) continue
    const results = pairedDecisions(
      members.map((k) => ({ a: pairs[k].candidate, b: pairs[k].baseline, clusters: pairs[k].clusters })),
      { ...decisionOptions, scoreType: binary ? 'binary' : 'continuous' },
    )
    members.forEach((k, j) => (decisions[k] = results[j]))
  }
  return pairs.map(({ candidate, baseline, binary }, k) => {
    const decision = decisions[k]
    let candidateOnly = 0
    let baselineOnly = 0
    for (let i = 0; i < candidate.length; i++) {
      if (candidate[i] > baseline[i]) candidateOnly++
      else if (candidate[i] < baseline[i]) baselineOnly++
    }
    const discordant = binary ? { candidateOnly, baselineOnly } : null
    // The asymptotic McNemar replaces the exact one only where McNemar is the headline (0/1 scores, no clusters, varied differences).
    if (binary && options.mcnemar === 'asymptotic' && decision.clusters === null && decision.data === 'varied' && options.interval === 'analytic') {
      const r = mcnemar(candidateOnly, baselineOnly, { exact: false, correction: true })
      return { decision: { ...decision, pValue: r.pValue, method: r.method }, test: { method: r.method, statistic: r.statistic, pValue: r.pValue, discordant } }
    }
    return { decision, test: { method: decision.method, statistic: decision.statistic, pValue: decision.pValue, discordant } }
  })
}

/** Distribution of the paired differences: one bin per value when there are at most 21 distinct ones, else 20 equal bins. */
export function differenceHistogramOf(a: Float64Array, b: Float64Array): DifferenceHistogram {
  const n = a.length
  const distinct = new Map<number, number>()
  let lo = Infinity
  let hi = -Infinity
  for (let i = 0; i < n; i++) {
    const d = a[i] - b[i]
    if (d < lo) lo = d
    if (d > hi) hi = d
    if (distinct.size <= 21) distinct.set(d, (distinct.get(d) ?? 0) + 1)
  }
  if (distinct.size <= 21) {
    return { bins: [...distinct].sort((x, y) => x[0] - y[0]).map(([v, count]) => ({ lo: v, hi: v, count })) }
  }
  const bins = 20
  const width = (hi - lo) / bins
  const counts = new Array<number>(bins).fill(0)
  for (let i = 0; i < n; i++) counts[Math.min(bins - 1, Math.floor((a[i] - b[i] - lo) / width))]++
  return { bins: counts.map((count, k) => ({ lo: lo + k * width, hi: k === bins - 1 ? hi : lo + (k + 1) * width, count })) }
}

/** Systems × datasets matrix of means (each run's mean over its finite scores; a system's runs averaged). */
async function rankAcrossDatasets(
  store: Store,
  runs: RunRecord[],
  datasets: string[],
  metric: string,
  higherIsBetter: boolean,
  alpha: number,
  systemBy: string,
  warnings: ComparisonWarning[],
): Promise<CriticalDifferenceResult | null> {
  const keyOf = systemKey(systemBy)
  const systems = new Map<string, { runIds: string[]; sums: number[]; counts: number[] }>()
  const shas = new Map<string, string>()
  for (const r of runs) {
    const key = keyOf(r)
    if (key === null) continue
    let s = systems.get(key)
    if (s === undefined) {
      s = { runIds: [], sums: datasets.map(() => 0), counts: datasets.map(() => 0) }
      systems.set(key, s)
    }
    let used = false
    for (let j = 0; j < datasets.length; j++) {
      const set = r.evals.find((e) => e.dataset === datasets[j])
      if (set === undefined || !set.scoreNames.includes(metric)) continue
      const cols = await store.evalColumns(r.id, datasets[j])
      const m = meanOf(cols.scores[metric])
      if (!Number.isFinite(m)) continue
      s.sums[j] += m
      s.counts[j]++
      used = true
      if (!shas.has(datasets[j])) shas.set(datasets[j], set.datasetSha256)
    }
    if (used) s.runIds.push(r.id)
  }
  const complete = [...systems].filter(([, s]) => s.counts.every((c) => c > 0))
  const incomplete = [...systems].filter(([, s]) => s.runIds.length > 0 && !s.counts.every((c) => c > 0)).map(([k]) => k)
  if (incomplete.length > 0) {
    warnings.push({ code: 'PARTIAL_OVERLAP', message: `left out of the ranking across datasets, for lacking ${metric} on some of ${datasets.join(', ')}: ${incomplete.slice(0, 10).join(', ')}${incomplete.length > 10 ? ', …' : ''}` })
  }
  if (complete.length < 2) {
    warnings.push({ code: 'FEW_EXAMPLES', message: `fewer than 2 systems have ${metric} on every dataset (${datasets.join(', ')}); no ranking across datasets` })
    return null
  }
  return criticalDifference({
    systems: complete.map(([system, s]) => ({ system, runIds: s.runIds })),
    datasets: datasets.map((name) => ({ name, sha256: shas.get(name) ?? '' })),
    matrix: datasets.map((_, j) => complete.map(([, s]) => s.sums[j] / s.counts[j])),
    higherIsBetter,
    alpha,
  })
}

function systemKey(systemBy: string): (r: RunRecord) => string | null {
  if (systemBy === 'run') return (r) => `${r.name} (${r.id.slice(0, 8)})`
  if (systemBy === 'name') return (r) => r.name
  const m = /^(params|tags)\.(.+)$/.exec(systemBy)
  if (m === null) throw new AssayError('ASSAY_INVALID_ARGUMENT', `systemBy must be run, name, params.KEY or tags.KEY, got ${JSON.stringify(systemBy)}`)
  const [, scope, key] = m
  return (r) => {
    const v = scope === 'params' ? r.params[key] : r.tags[key]
    return v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v)
  }
}
