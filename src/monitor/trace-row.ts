import type { TraceColumns } from '../record/trace-columns.js'
import type { TraceRow } from '../record/trace-row.js'

// The row and column types live with the record so the store can produce them.
export type { TraceColumns, TraceRow }

/** What the monitor knows of the deployment behind the window (lineage metadata). */
export interface DeploymentInfo {
  endpoint?: string
  modelVersion?: string
  promptVersion?: string
  owner?: string
  codeHash?: string
  inputVersion?: string
  /** When the input data version was produced, milliseconds since the epoch. */
  inputVersionTime?: number
}

export interface MonitorWindow {
  /** Traces of the window being checked. */
  current: readonly TraceRow[]
  /** Traces of the reference: the evaluation that promoted the model, or a trailing window. */
  reference: readonly TraceRow[]
  /** The end of the window, milliseconds since the epoch: the monitor reads no clock. */
  now: number
  deployment?: DeploymentInfo
}

/** A window as decideMonitor takes it: each side as rows, or as columns (Store.traceColumns reads a window into them). */
export type DecisionWindow = Omit<MonitorWindow, 'current' | 'reference'> & {
  current: readonly TraceRow[] | TraceColumns
  reference: readonly TraceRow[] | TraceColumns
}
