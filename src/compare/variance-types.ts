import type { ComparisonWarning } from './comparison-types.js'

/** What `assay variance` answers (assay.variance/v1): plain data, so the web UI can import these types. */

export interface VarianceRun {
  runId: string
  seed: number
  /** The run's metric: mean score over the examples used, or the run-level metric's last value. */
  value: number
  /** Examples behind `value` (null for run-level metrics). */
  n: number | null
  /** The standard error a single run reports from its examples alone: sd(scores) / sqrt(n). */
  exampleStandardError: number | null
  datasetSha256: string | null
}

export interface VarianceResult {
  schema: 'assay.variance/v1'
  assayVersion: string
  metric: string
  source: 'eval-records' | 'run-metrics'
  dataset: string | null
  group: { label: string; resolvedAs: string; runIds: string[]; seeds: number[] }
  runs: VarianceRun[]
  mean: number
  /** t interval of the mean over runs. */
  ci: [number, number]
  confidenceLevel: number
  /** Across seeds: the spread of run values, and the seed variance component σ²_seed. */
  seeds: { count: number; sd: number; variance: number; component: number }
  /** Example sampling: the variance of a run's mean from which examples were drawn, (σ²_example + σ²_ε) / n. */
  examples: { n: number; sdPerRun: number; component: number } | null
  /** How scores move across seeds on each example (one split only). */
  perExample: {
    meanSdAcrossSeeds: number
    /** Examples whose score is not the same in every run. */
    unstable: number
    unstableShare: number
    mostUnstable: { id: string; mean: number; sd: number; min: number; max: number }[]
  } | null
  /** Across data splits (runs evaluated on different dataset versions of the metric). */
  splits: { count: number; values: { datasetSha256: string; runs: number; mean: number }[]; sd: number; component: number } | null
  /** Share of the single-run variance from each source (sums to 1). */
  shares: { seeds: number; examples: number | null; splits: number | null }
  /** sqrt(σ²_seed + (σ²_example + σ²_ε)/n + σ²_split): the standard error a single run really has. */
  singleRunStandardError: number
  /** What one run would report from its own examples: the mean of the runs' example standard errors. */
  naiveStandardError: number | null
  /** singleRunStandardError / naiveStandardError. */
  inflation: number | null
  warnings: ComparisonWarning[]
}
