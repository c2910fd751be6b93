import { randomInt, randomUUID } from 'node:crypto'
import os from 'node:os'
import type { CheckCanaryResult, CheckCanaryOptions } from '../monitor/check-canary.js'
import type { CheckMonitorResult } from '../monitor/check-monitor.js'
import type { LoadedMonitor } from '../monitor/monitor-spec.js'
import type { AuditVerification } from '../audit/audit-log.js'
import type { CompareOptions } from '../compare/compare.js'
import type { Comparison } from '../compare/comparison-types.js'
import type { Leaderboard, LeaderboardOptions } from '../compare/leaderboard.js'
import type { VarianceOptions, VarianceResult } from '../compare/validation-variance.js'
import { AssayError } from '../errors.js'
import type { GateCheckResult } from '../gates/check-gate.js'
import type { LoadedGate } from '../gates/gate-spec.js'
import { captureCode } from '../record/code-version.js'
import { versionDataset, type DatasetInput } from '../record/datasets.js'
import { captureEnvironment } from '../record/environment.js'
import type { AliasEvent, ArtifactRef, AuditRecord, EvalColumns, EvalRecord, ExperimentSummary, GatePolicy, ModelVersion, Params, RegisteredModel, RunRecord, RunSummary } from '../record/types.js'
import type { ImportOptions, ImportResult } from './import-results.js'
import type { PromoteResult } from '../promotion/promotion.js'
import { assertCapturedRecord, assertName, assertParams, assertSeed, assertTags, describe } from '../record/validate.js'
import * as registry from '../registry/registry.js'
import { openStore } from '../store/open-store.js'
import { parseRunFilter, parseRunOrder } from '../store/run-filter.js'
import type { MetricColumns } from '../store/chunk-codec.js'
import { pageLimit } from '../store/pages.js'
import { artifactBytes } from '../store/blob-store.js'
import type { AliasEventPage, ApiTokenPage, ArtifactReadStream, AuditPage, ExperimentPage, GatePolicyPage, HoldoutReadPage, LineagePage, ModelPage, ModelVersionPage, RunPage, RunQuery, Store } from '../store/store.js'
import { evalColumnsToRecords } from './eval-records.js'
import type { RegistryActions } from './registry-actions.js'
import { Run } from './run.js'
import * as production from './production.js'
import { servingLineage, type DatasetLineage, type ServingLineage } from '../registry/serving-lineage.js'
import type { Deployment, Feedback, Trace } from '../record/production.js'
import type { DeploymentPage, LogTracesResult, TraceEvalRecordPage, TracePage } from '../store/store.js'

export { evalColumnsToRecords }

/** A running run whose heartbeat is older than this is marked crashed (ASSAY_HEARTBEAT_TIMEOUT_MS). */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 60_000
/** The least time between two sweeps for crashed runs before reads (sweepCrashed). */
const SWEEP_INTERVAL_MS = 1000
/** Where a dirty run's uncommitted diff is kept. */
export const CODE_DIFF_ARTIFACT = 'assay/code.diff'

export interface OpenOptions {
  /**
   * A directory or sqlite:<path> (embedded store), postgres://… (PostgreSQL, docs/postgres.md) or
   * http(s)://… (a team server, docs/server.md). Defaults to ASSAY_STORE, ASSAY_TRACKING_URI,
   * ASSAY_HOME, then ./.assay.
   */
  store?: string
  heartbeatTimeoutMs?: number
  /** false: refuse (ASSAY_STORE_NOT_FOUND) rather than create an embedded store that does not exist yet. Default true. */
  create?: boolean
  /**
   * Where the SDK's warnings go: with a team server, that writes started spooling (the server is
   * unreachable) and that writes are still spooled at close or exit, each with the `assay sync`
   * command that uploads them (docs/server.md). Default: a line on stderr.
   */
  warn?: (message: string) => void
}

export interface StartRunOptions {
  experiment: string
  name?: string
  params?: Params
  /** The run's seed; when absent, ASSAY_SEED if set, else assay draws one, records it and hands it back as run.seed. */
  seed?: number
  datasets?: DatasetInput[]
  tags?: Record<string, string>
  owner?: string
  parentId?: string
  groupId?: string
  /** Directory whose git state is the code version c (default: the working directory). */
  codeDir?: string
}

export interface MetricHistoryPoint {
  step: number
  value: number
  timestamp: number
}

export class Assay {
  private registryActions: Promise<RegistryActions> | undefined
  private lastSweep = -Infinity
  private sweeping: Promise<void> | null = null

  private constructor(
    readonly store: Store,
    private readonly heartbeatTimeoutMs: number,
  ) {}

  /** Where registry decisions are made (registry-actions.ts); loaded with the gates on first use. */
  private decide(): Promise<RegistryActions> {
    this.registryActions ??= import('./registry-actions.js').then(({ registryActionsFor }) => registryActionsFor(this.store))
    return this.registryActions
  }

  static async open(options: OpenOptions = {}): Promise<Assay> {
    const timeout = options.heartbeatTimeoutMs ?? Number(process.env.ASSAY_HEARTBEAT_TIMEOUT_MS ?? DEFAULT_HEARTBEAT_TIMEOUT_MS)
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `heartbeatTimeoutMs must be a positive number of milliseconds, got ${String(timeout)}`)
    }
    return new Assay(await openStore(options.store, { create: options.create, warn: options.warn }), timeout)
  }

  /** Start a run: captures environment, code, seed and dataset versions before anything else. */
  async startRun(options: StartRunOptions): Promise<Run> {
    if (options === null || typeof options !== 'object') throw new AssayError('ASSAY_INVALID_ARGUMENT', 'startRun takes an options object { experiment, ... }')
    assertName(options.experiment, 'experiment name')
    const id = randomUUID().replaceAll('-', '')
    const name = options.name ?? `run-${id.slice(0, 8)}`
    assertName(name, 'run name')
    const params = options.params ?? {}
    assertParams(params)
    const tags = options.tags ?? {}
    assertTags(tags)
    // ASSAY_SEED lets `assay replay` hand a drawn seed back to a script that never named one.
    const seedFromEnv = process.env.ASSAY_SEED === undefined || process.env.ASSAY_SEED === '' ? undefined : Number(process.env.ASSAY_SEED)
    const requestedSeed = options.seed ?? seedFromEnv
    if (requestedSeed !== undefined) assertSeed(requestedSeed)
    const owner = options.owner ?? process.env.ASSAY_OWNER ?? safeUsername()
    assertName(owner, 'owner')
    if (options.datasets !== undefined && !Array.isArray(options.datasets)) {
      throw new AssayError('ASSAY_INVALID_ARGUMENT', `datasets must be an array of { name, path, role }, got ${describe(options.datasets)}`)
    }
    const datasets = []
    for (const input of options.datasets ?? []) datasets.push(await versionDataset(input))
    const names = datasets.map((d) => d.name)
    if (new Set(names).size !== names.length) throw new AssayError('ASSAY_INVALID_ARGUMENT', `dataset names must be unique within a run: ${names.join(', ')}`)
    for (const [field, value] of [['parentId', options.parentId], ['groupId', options.groupId]] as const) {
      if (value !== undefined && (typeof value !== 'string' || value.length === 0 || value.length > 250)) {
        throw new AssayError('ASSAY_INVALID_ARGUMENT', `${field} must be a non-empty string, got ${describe(value)}`)
      }
    }

    // The embedded store's directory is not code, even inside the work tree (the default ./.assay).
    const { code, diff } = captureCode(options.codeDir, { exclude: this.store.capabilities.localDirectory === null ? [] : [this.store.capabilities.localDirectory] })
    if (diff !== null) code.diffArtifact = CODE_DIFF_ARTIFACT
    const seed = requestedSeed ?? randomInt(0, 2 ** 32)
    const environment = captureEnvironment()
    assertCapturedRecord({ environment, code, datasets })
    await this.store.createRun({
      id,
      experiment: options.experiment,
      name,
      owner,
      startTime: Date.now(),
      parentId: options.parentId ?? null,
      groupId: options.groupId ?? null,
      params,
      seed,
      seedSource: requestedSeed === undefined ? 'drawn' : 'user',
      tags,
      environment,
      code,
      datasets,
    })
    if (diff !== null) await this.store.putArtifact(id, CODE_DIFF_ARTIFACT, { bytes: diff }, 'produced')
    return new Run(this.store, { id, experiment: options.experiment, name, seed, datasets })
  }

  /**
   * Import a result file of another evaluation tool as runs with datasets, params and per-example
   * eval records: `format` is 'lm-eval' (a results_<date>.json with its samples files beside it),
   * 'promptfoo' (promptfoo eval --output) or 'inspect' (an Inspect AI .json or .eval log).
   * Importing the same file again with the same rules returns the runs of the first import
   * (docs/import.md).
   */
  async importResults(format: string, file: string, options: ImportOptions = {}): Promise<ImportResult> {
    const { importResults } = await import('./import-results.js')
    return importResults(this.store, format, file, options, options.owner ?? process.env.ASSAY_OWNER ?? safeUsername())
  }

  /** Start a run, give it to `body`, and end it: 'finished' on return, 'failed' if body throws. */
  async withRun<T>(options: StartRunOptions, body: (run: Run) => Promise<T>): Promise<T> {
    const run = await this.startRun(options)
    try {
      const result = await body(run)
      await run.end('finished')
      return result
    } catch (error) {
      await run.end('failed').catch(() => undefined)
      throw error
    }
  }

  /**
   * Before a read: mark running runs whose heartbeat is older than the timeout crashed. At most
   * once a second (SWEEP_INTERVAL_MS), as the server does: a sweep is a statement, a round trip
   * to PostgreSQL or a team server, and a listing is one; reads in between see a run go stale up
   * to a second late. Concurrent reads share the sweep under way; a failed sweep fails its
   * reads, and the next read tries again.
   */
  private sweepCrashed(): Promise<void> {
    if (this.sweeping !== null) return this.sweeping
    if (Date.now() - this.lastSweep < SWEEP_INTERVAL_MS) return Promise.resolve()
    this.lastSweep = Date.now()
    this.sweeping = this.store
      .markCrashedRuns(Date.now() - this.heartbeatTimeoutMs)
      .then(
        () => undefined,
        (error: unknown) => {
          this.lastSweep = -Infinity
          throw error
        },
      )
      .finally(() => {
        this.sweeping = null
      })
    return this.sweeping
  }

  /** The whole record of a run, by id or unique id prefix. */
  async getRun(idOrPrefix: string): Promise<RunRecord> {
    await this.sweepCrashed()
    return this.store.getRun(await this.store.resolveRunId(idOrPrefix))
  }

  /**
   * Runs, oldest first unless `orderBy` says otherwise; `filter` uses the grammar in docs/cli.md
   * (for example "params.lr > 0.01 and metrics.acc >= 0.8") and is applied by the database.
   */
  async listRuns(query: RunQuery = {}): Promise<RunSummary[]> {
    checkRunQuery(query)
    await this.sweepCrashed()
    return this.store.listRuns(query)
  }

  /**
   * One page of the runs that pass `filter`, in `orderBy` (start_time, end_time, name,
   * params.KEY or metrics.KEY, then asc or desc; default start_time asc): at most `limit` runs
   * (default 100, at most 1000) after `cursor` (the previous page's `nextCursor`, from the same
   * order). Only the page's runs are read.
   */
  async listRunsPage(query: RunQuery & { limit?: number; cursor?: string } = {}): Promise<RunPage> {
    checkRunQuery(query)
    await this.sweepCrashed()
    return this.store.listRunsPage({ ...query, limit: pageLimit(query.limit) })
  }

  listExperiments(): Promise<ExperimentSummary[]> {
    return this.store.listExperiments()
  }

  /** One page of experiments by name: at most `limit` (default 100, at most 1000) after `cursor` (the previous page's `nextCursor`). */
  listExperimentsPage(query: { limit?: number; cursor?: string } = {}): Promise<ExperimentPage> {
    return this.store.listExperimentsPage({ limit: pageLimit(query.limit), cursor: query.cursor })
  }

  /** Every point of one metric in step order (equal steps keep their logging order). */
  async metricHistory(idOrPrefix: string, key: string): Promise<MetricHistoryPoint[]> {
    const { steps, values, timestamps } = await this.metricSeries(idOrPrefix, key)
    return Array.from({ length: values.length }, (_, i) => ({ step: steps[i], value: values[i], timestamp: timestamps[i] }))
  }

  /** The same points as float64 columns, for long series (a million points read without a million objects). */
  async metricSeries(idOrPrefix: string, key: string): Promise<MetricColumns> {
    return inStepOrder(await this.store.metricHistory(await this.store.resolveRunId(idOrPrefix), key))
  }

  /** Eval records of a run for one dataset as logged, in logging order. */
  async evalRecords(idOrPrefix: string, dataset: string): Promise<EvalRecord[]> {
    return evalColumnsToRecords(await this.evalColumns(idOrPrefix, dataset))
  }

  /** The same records as columns (float64 arrays): what comparisons read. */
  async evalColumns(idOrPrefix: string, dataset: string): Promise<EvalColumns> {
    return this.store.evalColumns(await this.store.resolveRunId(idOrPrefix), dataset)
  }

  /** An artifact's bytes, verified against their sha256 (up to buffer.constants.MAX_LENGTH; openArtifact streams any size). */
  async getArtifact(idOrPrefix: string, name: string): Promise<Buffer> {
    return artifactBytes(await this.openArtifact(idOrPrefix, name))
  }

  /**
   * An artifact as a stream, verified as it passes: `stream` ends with ASSAY_ARTIFACT_CORRUPT
   * when the bytes are not the recorded ones, so write it somewhere temporary and keep it only
   * once the stream has ended without error.
   */
  async openArtifact(idOrPrefix: string, name: string): Promise<ArtifactReadStream> {
    return this.store.readArtifact(await this.store.resolveRunId(idOrPrefix), name)
  }

  /** Which runs produced and consumed the content with this sha256 (or a unique prefix of 6 or more hex characters, as run ids take). */
  async lineage(sha256OrPrefix: string): Promise<ArtifactRef[]> {
    return this.store.artifactLineage(await this.resolveSha256(sha256OrPrefix))
  }

  /** One page of the content's produced and consumed edges, by time: at most `limit` (default 100, at most 1000) after `cursor`. */
  async lineagePage(sha256OrPrefix: string, query: { limit?: number; cursor?: string } = {}): Promise<LineagePage> {
    const limit = pageLimit(query.limit)
    return this.store.artifactLineagePage({ sha256: await this.resolveSha256(sha256OrPrefix), limit, cursor: query.cursor })
  }

  /** One page of the holdout ledger of one dataset version, oldest first: at most `limit` (default 100, at most 1000) after `cursor`. */
  holdoutReadsPage(datasetSha256: string, query: { limit?: number; cursor?: string } = {}): Promise<HoldoutReadPage> {
    return this.store.holdoutReadsPage({ datasetSha256, limit: pageLimit(query.limit), cursor: query.cursor })
  }

  /** One page of API tokens, oldest first (never a secret; over HTTP, admin only): at most `limit` (default 100, at most 1000) after `cursor`. */
  listApiTokensPage(query: { limit?: number; cursor?: string } = {}): Promise<ApiTokenPage> {
    return this.store.listApiTokensPage({ limit: pageLimit(query.limit), cursor: query.cursor })
  }

  private async resolveSha256(text: string): Promise<string> {
    const prefix = typeof text === 'string' ? text.trim().toLowerCase() : ''
    if (/^[0-9a-f]{64}$/.test(prefix)) return prefix
    if (!/^[0-9a-f]{6,63}$/.test(prefix)) throw new AssayError('ASSAY_INVALID_ARGUMENT', `${describe(text)} is not a sha256 (64 hex characters, or a unique prefix of 6 or more)`)
    const matches = await this.store.artifactSha256sWithPrefix(prefix, 2)
    if (matches.length === 0) throw new AssayError('ASSAY_ARTIFACT_NOT_FOUND', `no artifact has a sha256 starting with ${prefix}`, { sha256: prefix })
    if (matches.length > 1) throw new AssayError('ASSAY_INVALID_ARGUMENT', `sha256 prefix ${prefix} is ambiguous (${matches.join(', ')}, …); give more characters`, { sha256: prefix })
    return matches[0]
  }

  /**
   * Candidates against a baseline on one dataset version, with multiplicity control; across several
   * datasets, average ranks, Friedman and the Nemenyi critical difference (docs/leaderboard.md).
   * Reads of holdout/test datasets are recorded in the holdout ledger under this owner.
   */
  async leaderboard(options: LeaderboardOptions = {}): Promise<Leaderboard> {
    await this.sweepCrashed()
    const { leaderboard } = await import('../compare/leaderboard.js')
    return leaderboard(this.store, { actor: process.env.ASSAY_OWNER ?? safeUsername(), ...options })
  }

  /**
   * Is A better than B on `metric`? A and B are run ids (or prefixes), comma-separated lists of run ids,
   * `config:<fingerprint prefix>` or `filter:<expression>` (docs/compare.md). Same options, same numbers.
   */
  async compare(a: string, b: string, options: CompareOptions): Promise<Comparison> {
    await this.sweepCrashed()
    const { compare } = await import('../compare/compare.js')
    return compare(this.store, a, b, options)
  }

  /** How much `metric` moves across seeds, examples and data splits in a group of replicate runs. */
  async variance(group: string, options: VarianceOptions): Promise<VarianceResult> {
    await this.sweepCrashed()
    const { validationVariance } = await import('../compare/validation-variance.js')
    return validationVariance(this.store, group, options)
  }

  // ---- Model registry, promotion gates and the audit log (docs/registry.md, docs/gates.md) ----
  // `actor` defaults to ASSAY_ACTOR, ASSAY_OWNER, then the OS user name.

  createModel(input: Omit<registry.CreateModelInput, 'actor'> & { actor?: string }): Promise<RegisteredModel> {
    return registry.createModel(this.store, { ...input, actor: input.actor ?? defaultActor() })
  }

  /** A new version of a model from a run (id or prefix) and, optionally, one of its produced artifacts. */
  addModelVersion(input: Omit<registry.AddVersionInput, 'actor'> & { actor?: string }): Promise<ModelVersion> {
    return registry.addModelVersion(this.store, { ...input, actor: input.actor ?? defaultActor() })
  }

  listModels(): Promise<RegisteredModel[]> {
    return this.store.listModels()
  }

  /** One page of registered models by name: at most `limit` (default 100, at most 1000) after `cursor`. */
  listModelsPage(query: { limit?: number; cursor?: string } = {}): Promise<ModelPage> {
    return this.store.listModelsPage({ limit: pageLimit(query.limit), cursor: query.cursor })
  }

  /** One page of a model's versions, oldest first: at most `limit` (default 100, at most 1000) after `cursor`. */
  listModelVersionsPage(model: string, query: { limit?: number; cursor?: string } = {}): Promise<ModelVersionPage> {
    return this.store.listModelVersionsPage({ model, limit: pageLimit(query.limit), cursor: query.cursor })
  }

  /**
   * A model with its versions and the current holder of each alias: every version, or with
   * `limit` or `cursor` one page of them (`nextCursor` continues it; null on the last page).
   */
  async showModel(name: string, versionPage?: { limit?: number; cursor?: string }): Promise<{ model: RegisteredModel; versions: ModelVersion[]; aliases: registry.AliasState[]; nextCursor: string | null }> {
    const model = await this.store.getModel(name)
    const { versions, nextCursor } = versionPage === undefined ? { versions: await this.store.listModelVersions(name), nextCursor: null } : await this.listModelVersionsPage(name, versionPage)
    return { model, versions, aliases: await registry.listAliases(this.store, name), nextCursor }
  }

  /** Point an alias at a version by hand (no gate; recorded in the audit log). version null removes it. */
  setAlias(model: string, alias: string, version: number | null, options: { reason?: string; actor?: string } = {}): Promise<AliasEvent> {
    return registry.setAlias(this.store, { model, alias, version, reason: options.reason, actor: options.actor ?? defaultActor() })
  }

  /** Every move of a model's aliases (or one alias), oldest first. */
  async aliasHistory(model: string, alias?: string): Promise<AliasEvent[]> {
    await this.store.getModel(model)
    return this.store.aliasEvents(model, alias)
  }

  /** One page of the moves of a model's aliases (or one alias), oldest first: at most `limit` (default 100, at most 1000) after `cursor`. */
  async aliasHistoryPage(model: string, query: { alias?: string; limit?: number; cursor?: string } = {}): Promise<AliasEventPage> {
    const limit = pageLimit(query.limit)
    await this.store.getModel(model)
    return this.store.aliasEventsPage({ model, alias: query.alias, limit, cursor: query.cursor })
  }

  /** Run a gate (a file path or a parsed gate) on a candidate against a baseline; the evidence is appended to the audit log. */
  async checkGate(gate: string | LoadedGate, options: { candidate: string; baseline?: string | null; actor?: string; record?: boolean; now?: number }): Promise<GateCheckResult> {
    const loaded = typeof gate === 'string' ? await loadGate(gate) : gate
    return (await this.decide()).checkGate({ ...options, gate: loaded, actor: options.actor ?? defaultActor() })
  }

  /**
   * Move an alias to a version only when the gate registered for the model and alias accepts (a
   * warn needs acceptWarnings and a reason). `gate`, when given, must be the registered gate (its
   * sha256 is compared; ASSAY_GATE_NOT_REGISTERED otherwise): a caller cannot bring its own.
   */
  async promote(input: { model: string; version: number; alias?: string; gate?: string | LoadedGate; baseline?: string | null; acceptWarnings?: boolean; reason?: string; actor?: string; now?: number }): Promise<PromoteResult> {
    const { gate, ...rest } = input
    const expectedGateSha256 = gate === undefined ? undefined : (typeof gate === 'string' ? await loadGate(gate) : gate).sha256
    return (await this.decide()).promote({ ...rest, expectedGateSha256, alias: input.alias ?? 'champion', actor: input.actor ?? defaultActor() })
  }

  /**
   * Register the gate `model@alias` is promoted through (a file path or a parsed gate): a new
   * version of its policy, recorded in the audit log with who and why. Over HTTP, admin only.
   */
  async setGatePolicy(model: string, input: { alias?: string; gate: string | LoadedGate; reason: string; actor?: string; now?: number }): Promise<GatePolicy> {
    const { gateText } = await import('./remote-registry-client.js')
    const sent = typeof input.gate === 'string' ? gateText(await loadGate(input.gate)) : gateText(input.gate)
    const { setGatePolicy } = await import('../promotion/gate-policy.js')
    return setGatePolicy(this.store, { model, alias: input.alias ?? 'champion', text: sent.text, source: sent.source, reason: input.reason, actor: input.actor ?? defaultActor(), at: input.now })
  }

  /** The current gate policy of every model and alias (or of one model's aliases). */
  async gatePolicies(model?: string): Promise<GatePolicy[]> {
    if (model !== undefined) await this.store.getModel(model)
    return (await import('../promotion/gate-policy.js')).currentGatePolicies(this.store, model)
  }

  /**
   * One page of gate policy versions by model, alias and version (of one model, and one alias):
   * with `current`, each alias's current version only (what gatePolicies lists). At most `limit`
   * (default 100, at most 1000) after `cursor`.
   */
  async gatePoliciesPage(query: { model?: string; alias?: string; current?: boolean; limit?: number; cursor?: string } = {}): Promise<GatePolicyPage> {
    const limit = pageLimit(query.limit)
    if (query.model !== undefined) await this.store.getModel(query.model)
    return this.store.gatePoliciesPage({ model: query.model, alias: query.alias, current: query.current, limit, cursor: query.cursor })
  }

  /** One version of `model@alias`'s gate policy (default: the current one); ASSAY_NO_GATE_POLICY when none. */
  async gatePolicy(model: string, options: { alias?: string; version?: number } = {}): Promise<GatePolicy> {
    await this.store.getModel(model)
    return (await import('../promotion/gate-policy.js')).gatePolicy(this.store, model, options.alias ?? 'champion', options.version)
  }

  /** Every version of `model@alias`'s gate policy, oldest first. */
  async gatePolicyHistory(model: string, alias = 'champion'): Promise<GatePolicy[]> {
    await this.store.getModel(model)
    return this.store.gatePolicies({ model, alias })
  }

  /**
   * Run a monitor (a file path or a loaded monitor) over a deployment's window of traces against
   * its reference; the decision is appended to the audit log (kind monitor-decision) and, when the
   * monitor says `actions.rollback: automatic`, a rollback decision moves the alias back.
   */
  async checkMonitor(
    monitor: string | LoadedMonitor,
    options: { deployment?: string; window?: string; reference?: string; actor?: string; record?: boolean; now?: number } = {},
  ): Promise<CheckMonitorResult> {
    const loaded = typeof monitor === 'string' ? (await import('../monitor/monitor-spec.js')).loadMonitorFile(monitor) : monitor
    return (await this.decide()).checkMonitor({ ...options, monitor: loaded, actor: options.actor ?? defaultActor() })
  }

  /**
   * Compare a challenger deployment with the champion over a window (compareCanary); the decision
   * is appended to the audit log (kind canary-decision). With `monitor` (a file path or a loaded
   * monitor) whose `canary.act` allows it, a promote decision moves the alias to the challenger's
   * version through the registered gate, and a rollback decision keeps it on (or rolls it back to)
   * the champion's, each citing the decision's record.
   */
  async checkCanary(options: Omit<CheckCanaryOptions, 'actor' | 'monitor' | 'promote'> & { actor?: string; monitor?: string | LoadedMonitor }): Promise<CheckCanaryResult> {
    const { monitor, ...rest } = options
    const loaded = typeof monitor === 'string' ? (await import('../monitor/monitor-spec.js')).loadMonitorFile(monitor) : monitor
    return (await this.decide()).checkCanary({ ...rest, monitor: loaded, actor: options.actor ?? defaultActor() })
  }

  /** Restore an alias's previous holder, recorded in the audit log. */
  async rollback(input: { model: string; alias?: string; reason?: string; actor?: string }): Promise<{ event: AliasEvent; audit: AuditRecord }> {
    return (await this.decide()).rollback({ ...input, alias: input.alias ?? 'champion', actor: input.actor ?? defaultActor() })
  }

  auditLog(): Promise<AuditRecord[]> {
    return this.store.auditRecords()
  }

  /** One page of the audit log in sequence order: at most `limit` (default 100, at most 1000) after `cursor`. */
  auditLogPage(query: { limit?: number; cursor?: string } = {}): Promise<AuditPage> {
    return this.store.auditRecordsPage({ limit: pageLimit(query.limit), cursor: query.cursor })
  }

  /** Check the audit log's hash chain; `expectHead` (a hash noted earlier) also detects removal of the newest records. */
  async verifyAudit(options: { expectHead?: string } = {}): Promise<AuditVerification> {
    const { verifyAuditLog } = await import('../audit/append-and-verify.js')
    return verifyAuditLog(this.store, options)
  }

  // ---- Production: deployments, traces, feedback (docs/production.md) --------------------------

  /** From a trace or deployment id down to the model version, run, datasets and code; from dataset:<sha256> up to the deployments it fed. */
  servingLineage(target: string): Promise<ServingLineage | DatasetLineage> {
    return servingLineage(this.store, target)
  }

  /** Record a deployment before it serves: endpoint and version, model version (or alias), code hash, input datasets, owner. */
  deploy(input: production.DeployInput): Promise<Deployment> {
    return production.deploy(this.store, input)
  }

  getDeployment(id: string): Promise<Deployment> {
    return this.store.getDeployment(id)
  }

  listDeploymentsPage(query: { endpoint?: string; input?: string; limit?: number; cursor?: string } = {}): Promise<DeploymentPage> {
    return this.store.listDeploymentsPage({ ...query, limit: pageLimit(query.limit) })
  }

  /** Log traces without OpenTelemetry; over HTTP they are spooled while the server is unreachable. */
  logTraces(traces: readonly production.TraceLogInput[]): Promise<LogTracesResult> {
    return production.logTraces(this.store, traces)
  }

  /** Attach feedback (a score) to a stored trace. */
  feedback(traceId: string, input: production.FeedbackInput): Promise<Feedback> {
    return production.addFeedback(this.store, traceId, input)
  }

  tracesPage(query: { deployment?: string; from?: number; to?: number; filter?: string; limit?: number; cursor?: string } = {}): Promise<TracePage> {
    return this.store.tracesPage({ ...query, limit: pageLimit(query.limit) })
  }

  getTrace(traceId: string): Promise<Trace> {
    return this.store.getTrace(traceId)
  }

  /** Traces as eval records (id, cluster, scores, latency, tokens, cost, output hash): every statistic applies. */
  traceEvalRecordsPage(query: { deployment?: string; from?: number; to?: number; limit?: number; cursor?: string } = {}): Promise<TraceEvalRecordPage> {
    return this.store.traceEvalRecordsPage({ ...query, limit: pageLimit(query.limit) })
  }

  async close(): Promise<void> {
    await this.store.close()
  }
}

/** Columns sorted by step, stably; a series logged in step order (the usual case) is returned as it is. */
function inStepOrder(columns: MetricColumns): MetricColumns {
  const { steps, values, timestamps } = columns
  let sorted = true
  for (let i = 1; i < steps.length && sorted; i++) sorted = steps[i - 1] <= steps[i]
  if (sorted) return columns
  const order = Array.from({ length: steps.length }, (_, i) => i).sort((x, y) => steps[x] - steps[y] || x - y)
  const pick = (column: Float64Array): Float64Array => Float64Array.from(order, (i) => column[i])
  return { steps: pick(steps), values: pick(values), timestamps: pick(timestamps) }
}

// Statistics, gates and the YAML parser load on first use, so a script (or CLI call) that only
// records or lists runs starts without them.
async function loadGate(file: string): Promise<LoadedGate> {
  return (await import('../gates/gate-spec.js')).loadGateFile(file)
}

/** Who is acting on the registry: ASSAY_ACTOR, ASSAY_OWNER, then the OS user name. */
function defaultActor(): string {
  return process.env.ASSAY_ACTOR || process.env.ASSAY_OWNER || safeUsername()
}

function safeUsername(): string {
  try {
    return os.userInfo().username || 'unknown'
  } catch {
    return 'unknown'
  }
}

/** A filter or an order that does not parse is refused here, before any store is asked. */
function checkRunQuery(query: RunQuery): void {
  if (query.filter !== undefined && query.filter.trim() !== '') parseRunFilter(query.filter)
  parseRunOrder(query.orderBy)
}
