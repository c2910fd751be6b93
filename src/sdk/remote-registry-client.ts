import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { GateCheckResult } from '../gates/check-gate.js'
import type { LoadedGate } from '../gates/gate-spec.js'
import type { CheckCanaryResult, CheckCanaryOptions } from '../monitor/check-canary.js'
import type { CheckMonitorOptions, CheckMonitorResult } from '../monitor/check-monitor.js'
import type { AliasEvent, AuditRecord } from '../record/types.js'
import type { PromoteResult } from '../promotion/promotion.js'
import { ROUTES } from '../store/http/routes.js'
import type { RemoteServer } from '../store/store.js'

/**
 * Promotion, rollback and recorded gate checks, run by an `assay server` (a write token
 * suffices): the server records its token as the actor and its clock as the time. The store
 * contract stays in HttpStore; this is the other client of the same server.
 */
export class RemoteRegistryClient {
  constructor(private readonly server: RemoteServer) {}

  /** Promote through the server's registered gate (POST /api/v1/promotions); `expectedGateSha256` is checked against it there. */
  promote(input: { model: string; version: number; alias: string; expectedGateSha256?: string; baseline?: string | null; acceptWarnings?: boolean; reason?: string; actor?: string }): Promise<PromoteResult> {
    const { expectedGateSha256, ...rest } = input
    return this.server.call<PromoteResult>('POST', ROUTES.promotions, { ...rest, gateSha256: expectedGateSha256 })
  }

  /** Roll an alias back on the server (POST /api/v1/rollbacks). */
  rollback(input: { model: string; alias: string; reason?: string; actor?: string }): Promise<{ event: AliasEvent; audit: AuditRecord }> {
    return this.server.call<{ event: AliasEvent; audit: AuditRecord }>('POST', ROUTES.rollbacks, input)
  }

  /** Run a monitor on the server, record its decision and roll back when it allows (POST /api/v1/monitor-checks). */
  checkMonitor(input: Omit<CheckMonitorOptions, 'now' | 'record'>): Promise<CheckMonitorResult> {
    return this.server.call<CheckMonitorResult>('POST', ROUTES.monitorChecks, { ...input, monitor: gateText(input.monitor) })
  }

  /** Compare a canary on the server, record its decision and act on it when the monitor allows (POST /api/v1/canary-checks). */
  checkCanary(input: Omit<CheckCanaryOptions, 'now' | 'record' | 'seed' | 'promote'>): Promise<CheckCanaryResult> {
    const { monitor, ...rest } = input
    return this.server.call<CheckCanaryResult>('POST', ROUTES.canaryChecks, monitor === undefined ? rest : { ...rest, monitor: gateText(monitor) })
  }

  /** Run a gate on the server and record its evidence (POST /api/v1/gate-checks). */
  checkGate(input: { gate: LoadedGate; candidate: string; baseline?: string | null; actor?: string }): Promise<GateCheckResult> {
    return this.server.call<GateCheckResult>('POST', ROUTES.gateChecks, { ...input, gate: gateText(input.gate) })
  }
}

/**
 * The gate (or monitor) as the server receives it: the file's own text when its source still hashes to the
 * sha256 it was loaded with (so the evidence names the same gate as a local check would), else the
 * parsed spec as JSON (its sha256 is then that text's).
 */
export function gateText(gate: Pick<LoadedGate, 'source' | 'sha256'> & { spec: unknown }): { source: string; text: string } {
  try {
    const text = readFileSync(gate.source, 'utf8')
    if (createHash('sha256').update(text, 'utf8').digest('hex') === gate.sha256) return { source: gate.source, text }
  } catch {
    // not a readable file: an inline gate
  }
  return { source: gate.source, text: JSON.stringify(gate.spec, null, 2) }
}
