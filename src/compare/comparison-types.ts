import type { EvalRecord } from '../record/types.js'

/**
 * The shape of a comparison: what `assay.compare`, `assay compare --json`, reports and (later)
 * promotion gates read. A comparison is evidence: it names every method, parameter and seed, and
 * the run ids and dataset hashes it was computed from, so it can be recomputed.
 */

export type Verdict = 'better' | 'worse' | 'equivalent' | 'inconclusive'

export type ComparisonMode =
  /** Both sides are single runs with eval records on the same dataset version: per-example pairs. */
  | 'paired-examples'
  /** Different data allowed (--allow-different-data): unpaired per-example methods. */
  | 'unpaired-examples'
  /** Groups of replicate runs, one value per run (seed). */
  | 'replicate-groups'
  /** Groups of runs that all have eval records: bootstrap over seeds, then over examples. */
  | 'two-level'

/** A stable, machine-readable warning with a sentence for people. */
export interface ComparisonWarning {
  code:
    | 'PARTIAL_OVERLAP'
    | 'DIFFERENT_DATA'
    | 'FEW_SEEDS'
    | 'FEW_EXAMPLES'
    | 'HOLDOUT_OVERUSE'
    | 'WINNERS_CURSE'
    | 'BEST_SEED_ONLY'
    | 'METHOD_FALLBACK'
    | 'NON_FINITE_SCORES'
    | 'FEW_CLUSTERS'
    | 'SKEWED_DIFFERENCES'
    | 'IDENTICAL_SIDES'
    | 'TOO_FEW_RESAMPLES'
  message: string
}

export interface ComparisonSide {
  /** What the user named: a run id, a group expression, later an alias. */
  label: string
  runIds: string[]
  seeds: number[]
  /** Dataset version the eval records point at; null for run-level metrics. */
  datasetSha256: string | null
  /** Examples (paired or per side) or runs, whichever the mode counts. */
  n: number
  /** Mean of the metric on this side. */
  mean: number
}

export interface GroupSummary {
  label: string
  runIds: string[]
  seeds: number[]
  values: number[]
  mean: number
  /** t interval of the group mean; null when every run has the same value. */
  ci: [number, number] | null
  sd: number
  min: number
  max: number
}

export interface ExampleDelta {
  id: string
  a: number
  b: number
  delta: number
}

export interface Comparison {
  schema: 'assay.comparison/v1'
  assayVersion: string
  metric: string
  /** Direction of "better"; the estimate is always a minus b. */
  higherIsBetter: boolean
  mode: ComparisonMode
  a: ComparisonSide
  b: ComparisonSide
  verdict: Verdict
  estimate: number
  /** Interval of A − B; null when the sides are identical (no zero-width interval is reported). */
  ci: [number, number] | null
  pValue: number
  /** Paired examples: identical (every difference 0), constant (one non-zero difference: exact sign test) or varied; null otherwise. */
  differences: 'identical' | 'constant' | 'varied' | null
  /** The primary test that decided the verdict, e.g. "McNemar exact test + paired bootstrap". */
  method: string
  confidenceLevel: number
  alpha: number
  /** Equivalence margin in metric units, or null when no equivalence claim was asked for. */
  margin: number | null
  resamples: number
  seed: number
  sampleSizes: { a: number; b: number; pairs: number | null; lostA: number; lostB: number; /** Two-level mode: examples every run scored. */ examples?: number }
  /** Every statistic computed, as returned by assay/stats (each names its method and parameters). */
  tests: Record<string, unknown>[]
  effectSize: { name: string; value: number } | null
  /** Cluster-robust standard error of the mean difference when examples carry cluster ids. */
  clusteredStandardError: { value: number; clusters: number } | null
  groups: { a: GroupSummary; b: GroupSummary } | null
  topRegressions: ExampleDelta[]
  topImprovements: ExampleDelta[]
  /**
   * When inconclusive (or, for groups, FEW_SEEDS): how many examples or seeds per group are needed.
   * examples: to detect the observed difference at 80% power. seeds: max(5, the power-based count);
   * `seedsBasis` says which set it ('minimum': assay's floor of 5; 'power': the power calculation).
   */
  required: { examples: number | null; seeds: number | null; power: number; seedsBasis?: 'minimum' | 'power' | null; /** Clustered examples: clusters needed (more examples in the same clusters cannot help). */ clusters?: number | null } | null
  warnings: ComparisonWarning[]
  /** Eval dataset the per-example scores came from (A's name), or null for run-level metrics. */
  dataset: string | null
  /** Where the metric was read: per-example scores in eval records, or the runs' metric summaries (`last`). */
  source: 'eval-records' | 'run-metrics'
  /** Score type of per-example scores (decides the paired tests); null for run-level metrics. */
  scoreType: 'binary' | 'continuous' | null
  /** How the verdict was reached: the rule applied and why (see docs/compare.md). */
  decision: { significant: boolean; withinMargin: boolean; reason: string }
  /** estimate ± t(C−1) × clustered SE when examples carry cluster ids: the headline `ci` itself (kept for readers of this field). */
  clusteredCi: [number, number] | null
  /** Holdout/test dataset versions this comparison read, with their ledger counts after this read. */
  holdout: { datasetSha256: string; datasetName: string; reads: number; budget: number; overBudget: boolean; view?: 'readable experiments'; hiddenReads?: number }[]
  /** How each side was resolved to runs, in words. */
  resolvedAs: { a: string; b: string }
}

/** A row of the forest plot the web UI draws of a comparison (compare/comparison-detail.ts). */
export interface ForestRow {
  side: 'A' | 'B'
  /** One run, or the side pooled (a group's mean over its runs with the group's t interval). */
  kind: 'run' | 'pooled'
  label: string
  runIds: string[]
  seeds: number[]
  datasetSha256: string | null
  /** Examples behind a run's mean (eval records), or runs behind a pooled mean; 1 for a run-level metric. */
  n: number
  estimate: number
  /** t interval at the comparison's confidence level; null for one value or no spread. */
  ci: [number, number] | null
}

export interface ExampleRecords extends ExampleDelta {
  /** Every run's record of this example id as stored, A's runs first; null where a run has none. */
  records: { side: 'A' | 'B'; runId: string; seed: number; record: EvalRecord | null }[]
}

export interface ComparisonDetail {
  forest: ForestRow[]
  /** Per-example differences A − B (a group's side is its runs' mean at the example); null when examples cannot be paired. */
  differences: { n: number; what: string; histogram: { bins: { lo: number; hi: number; count: number }[] } } | null
  /** Why there is no histogram, in words; null when there is one. */
  differencesNote: string | null
  regressed: ExampleRecords[]
  improved: ExampleRecords[]
}
