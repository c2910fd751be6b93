import type { MetricSummary } from '../record/types.js'
import type { MetricSeries } from './store.js'

/**
 * Fold a batch of points into a key's running summary. "last" is the value at the highest step;
 * among equal steps the one logged last wins, so re-logging a step corrects it.
 * Every backend calls this inside its write transaction.
 */
export function foldMetricSummary(existing: MetricSummary | undefined, series: MetricSeries): MetricSummary {
  let last = existing?.last ?? NaN
  let lastStep = existing?.lastStep ?? -Infinity
  let min = existing?.min ?? null
  let max = existing?.max ?? null
  const { steps, values } = series
  for (let i = 0; i < values.length; i++) {
    const step = steps[i]
    const value = values[i]
    if (step >= lastStep) {
      lastStep = step
      last = value
    }
    if (Number.isFinite(value)) {
      if (min === null || value < min) min = value
      if (max === null || value > max) max = value
    }
  }
  return { key: series.key, last, lastStep, min, max, count: (existing?.count ?? 0) + values.length }
}
