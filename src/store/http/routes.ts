/**
 * The paths of `assay server`'s API, one table for both sides: the server's route files declare
 * their `url` from it and the clients (HttpStore, the SDK's remote registry client) build their
 * requests from it, so a path is written once. `:name` segments are parameters (routePath).
 */
export const ROUTES = {
  health: '/api/v1/health',
  whoami: '/api/v1/whoami',
  runs: '/api/v1/runs',
  resolveRun: '/api/v1/runs/resolve',
  markCrashed: '/api/v1/runs/mark-crashed',
  run: '/api/v1/runs/:runId',
  runBatch: '/api/v1/runs/:runId/batch',
  runMetrics: '/api/v1/runs/:runId/metrics',
  runMetricBuckets: '/api/v1/runs/:runId/metrics/buckets',
  runCharts: '/api/v1/runs/:runId/charts',
  runStatus: '/api/v1/runs/:runId/status',
  runHeartbeat: '/api/v1/runs/:runId/heartbeat',
  runEvals: '/api/v1/runs/:runId/evals',
  runArtifacts: '/api/v1/runs/:runId/artifacts',
  runArtifactBySha256: '/api/v1/runs/:runId/artifacts/by-sha256',
  runArtifactContent: '/api/v1/runs/:runId/artifacts/content',
  artifactLineage: '/api/v1/artifacts/:sha256/lineage',
  datasetRuns: '/api/v1/datasets/:sha256/runs',
  artifactSha256s: '/api/v1/artifacts/sha256s',
  experiments: '/api/v1/experiments',
  compare: '/api/v1/compare',
  compareDetail: '/api/v1/compare/detail',
  leaderboard: '/api/v1/leaderboard',
  runGroups: '/api/v1/run-groups',
  runGroupBand: '/api/v1/run-groups/metric-band',
  variance: '/api/v1/variance',
  holdoutReads: '/api/v1/holdout-reads',
  holdoutReadsOf: '/api/v1/holdout-reads/:sha256',
  tokens: '/api/v1/tokens',
  tokenBySecret: '/api/v1/tokens/by-secret/:sha256',
  tokenRevoke: '/api/v1/tokens/:id/revoke',
  models: '/api/v1/models',
  model: '/api/v1/models/:name',
  modelVersions: '/api/v1/models/:name/versions',
  modelAliasEvents: '/api/v1/models/:name/alias-events',
  aliasMoves: '/api/v1/alias-moves',
  gatePolicies: '/api/v1/gate-policies',
  audit: '/api/v1/audit',
  auditLast: '/api/v1/audit/last',
  auditHead: '/api/v1/audit/head',
  auditVerify: '/api/v1/audit/verify',
  auditRecord: '/api/v1/audit/records/:seq',
  promotions: '/api/v1/promotions',
  rollbacks: '/api/v1/rollbacks',
  gateChecks: '/api/v1/gate-checks',
  deployments: '/api/v1/deployments',
  deployment: '/api/v1/deployments/:id',
  deploymentLineage: '/api/v1/deployments/:id/lineage',
  deploymentDecisions: '/api/v1/deployments/:id/decisions',
  traces: '/api/v1/traces',
  traceEvalRecords: '/api/v1/traces/eval-records',
  traceRows: '/api/v1/traces/monitor-rows',
  monitorChecks: '/api/v1/monitor-checks',
  canaryChecks: '/api/v1/canary-checks',
  trace: '/api/v1/traces/:traceId',
  feedback: '/api/v1/feedback',
  otlpTraces: '/v1/traces',
} as const

export type RoutePath = (typeof ROUTES)[keyof typeof ROUTES]

/** A route's path with its `:name` parameters filled in (URL-encoded). */
export function routePath(route: RoutePath, params: Record<string, string> = {}): string {
  return route.replace(/:([A-Za-z0-9]+)/g, (_, name: string) => {
    const value = params[name]
    if (value === undefined) throw new Error(`route ${route} needs :${name}`)
    return encodeURIComponent(value)
  })
}
