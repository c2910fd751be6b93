import type { MetricSeries } from '../store/store.js'

interface Column {
  steps: Float64Array
  values: Float64Array
  timestamps: Float64Array
  length: number
}

/** Points waiting for the next flush, kept per key in growable float64 columns (no object per point). */
export class MetricBuffer {
  private columns = new Map<string, Column>()
  size = 0

  add(key: string, value: number, step: number, timestamp: number): void {
    let column = this.columns.get(key)
    if (column === undefined) {
      column = { steps: new Float64Array(1024), values: new Float64Array(1024), timestamps: new Float64Array(1024), length: 0 }
      this.columns.set(key, column)
    } else if (column.length === column.values.length) {
      const capacity = column.length * 2
      column.steps = grow(column.steps, capacity)
      column.values = grow(column.values, capacity)
      column.timestamps = grow(column.timestamps, capacity)
    }
    const i = column.length++
    column.steps[i] = step
    column.values[i] = value
    column.timestamps[i] = timestamp
    this.size++
  }

  /** Return drained points after a failed write, ahead of anything logged since. */
  putBack(series: MetricSeries[]): void {
    const newer = this.drain()
    for (const batch of [series, newer]) {
      for (const s of batch) for (let i = 0; i < s.values.length; i++) this.add(s.key, s.values[i], s.steps[i], s.timestamps[i])
    }
  }

  /** Hand over everything buffered and start empty. */
  drain(): MetricSeries[] {
    const out: MetricSeries[] = []
    for (const [key, c] of this.columns) {
      out.push({ key, steps: c.steps.subarray(0, c.length), values: c.values.subarray(0, c.length), timestamps: c.timestamps.subarray(0, c.length) })
    }
    this.columns = new Map()
    this.size = 0
    return out
  }
}

function grow(array: Float64Array, capacity: number): Float64Array {
  const next = new Float64Array(capacity)
  next.set(array)
  return next
}
