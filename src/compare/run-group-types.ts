/** What the group routes answer (GET /api/v1/run-groups, /run-groups/metric-band): plain data, no imports, so the web UI can import these types. */

export interface RunGroupMetric {
  key: string
  /** Runs of the group with a finite last value of the metric. */
  n: number
  mean: number | null
  ci: [number, number] | null
  sd: number | null
  /** Runs whose last value was NaN or ±Infinity (left out of n). */
  nonFinite: number
}

export interface RunGroup {
  /** The group's identity: the config fingerprint, or the JSON of the grouping params' values. */
  key: string
  /** The params' values (by params), or the fingerprint (by config). */
  label: string
  n: number
  /** The first GROUP_RUNS_LISTED runs (oldest first) with their seeds. */
  runs: { id: string; seed: number; name: string }[]
  /** The filter that lists exactly this group's runs in the runs table; null where the grammar cannot say it (an object param, a missing one). */
  filter: string | null
  metrics: RunGroupMetric[]
}

export interface RunGroupsPage {
  groupBy: string
  metrics: string[]
  confidenceLevel: number
  method: string
  /** Finished runs read (every group of the listing, not only this page's). */
  runsGrouped: number
  groupCount: number
  groups: RunGroup[]
  nextCursor: string | null
}

export interface MetricBand {
  key: string
  runIds: string[]
  /** Points of each run's series. */
  points: number[]
  confidenceLevel: number
  method: string
  /** Each bucket's first step (buckets of equal width in steps over the runs' common range). */
  steps: number[]
  /** Runs with a finite value in the bucket. */
  n: number[]
  mean: (number | null)[]
  lower: (number | null)[]
  upper: (number | null)[]
}
