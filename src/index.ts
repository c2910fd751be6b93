/**
 * assay: the public SDK surface. Statistics live at the subpath 'assay/stats'.
 */
export { Assay, CODE_DIFF_ARTIFACT, DEFAULT_HEARTBEAT_TIMEOUT_MS, evalColumnsToRecords } from './sdk/assay.js'
export type { MetricHistoryPoint, OpenOptions, StartRunOptions } from './sdk/assay.js'
export { Run } from './sdk/run.js'
export { IMPORT_FORMATS } from './import/import-plan.js'
export type { EpochReducer, ErrorRule, ImportFormat } from './import/import-plan.js'
export type { ImportOptions, ImportResult, ImportedRun } from './sdk/import-results.js'
export { AssayError, errorCatalogue, isAssayError } from './errors.js'
export type { ErrorCode } from './errors.js'
export { LIMITS } from './record/validate.js'
export { parseRunFilter } from './store/run-filter.js'
export type {
  AliasEventPage,
  ApiTokenPage,
  DeploymentPage,
  ArtifactReadStream,
  AuditPage,
  ExperimentPage,
  GatePolicyPage,
  HoldoutReadPage,
  LineagePage,
  LogTracesResult,
  ModelPage,
  ModelVersionPage,
  PageQuery,
  RunPage,
  RunPageQuery,
  RunQuery,
  Store,
  TraceEvalRecordPage,
  TracePage,
} from './store/store.js'
export type { Deployment, Feedback, SpanEvent, SpanStatus, Trace, TraceSpan, TraceSummary } from './record/production.js'
export type { DeployInput, FeedbackInput, SpanInput, TraceLogInput } from './sdk/production.js'
export type { DatasetLineage, ServingLineage } from './registry/serving-lineage.js'
export type * from './record/types.js'
export type { DatasetInput } from './record/datasets.js'
export { loadGate } from './gates/gate-spec.js'
export type { GateSpec, LoadedGate } from './gates/gate-spec.js'
export { loadMonitor, loadMonitorFile, MONITOR_DECISIONS } from './monitor/monitor-spec.js'
export type { LoadedMonitor, MonitorDecision, MonitorSpec } from './monitor/monitor-spec.js'
export { decideMonitor, DECISION_PRECEDENCE, monitorColumnNeeds } from './monitor/decide-monitor.js'
export { traceColumnsFromRows } from './record/trace-columns.js'
export type { TraceCodes, TraceColumnNeeds, TraceColumns, TraceFeatureColumn } from './record/trace-columns.js'
export type { MonitorCheckResult, MonitorResult, CheckKind, CheckStatus } from './monitor/decide-monitor.js'
export { compareCanary } from './monitor/canary.js'
export type { CanaryDecision, CanaryMetric, CanaryMetricResult, CanaryOptions, CanaryResult } from './monitor/canary.js'
export type { DecisionWindow, DeploymentInfo, MonitorWindow, TraceRow } from './monitor/trace-row.js'
export type { CheckMonitorResult, MonitorCheckEvidence, MonitorReference } from './monitor/check-monitor.js'
export type { CheckCanaryResult, CanaryAction, CanaryCheckEvidence } from './monitor/check-canary.js'
