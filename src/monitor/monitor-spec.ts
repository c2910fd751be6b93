import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { AssayError } from '../errors.js'
import { parseSpecFile, type SpecFileKind } from '../gates/gate-spec.js'

/**
 * The monitor file: a declarative YAML or JSON file (docs/production.md "Monitors") attached to a
 * deployment, read by the same parser as gate files (field and line in every error, a limit on
 * YAML aliases) and validated against the zod schema below. Owner, escalation contact and a
 * rollback candidate with its rationale are required: a monitor that can decide "rollback" must
 * say to what and why.
 */

/** What a failing check asks for, lowest to highest precedence after 'ok'. */
export const MONITOR_DECISIONS = ['ok', 'warn', 'retrain', 'rollback', 'escalate'] as const
export type MonitorDecision = (typeof MONITOR_DECISIONS)[number]

const decision = z.enum(['warn', 'retrain', 'rollback', 'escalate'])
const required = (what: string): z.ZodString => z.string({ error: `${what} is required` }).trim().min(1, `${what} is required`)

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** "90s", "30m", "24h", "7d" → milliseconds. */
export const duration = z
  .string()
  .regex(/^\d+(\.\d+)?(s|m|h|d)$/, 'a duration is a number and a unit: 90s, 30m, 24h or 7d')
  .transform((text) => Number(text.slice(0, -1)) * DURATION_UNITS[text.slice(-1)])

const stale = z
  .object({
    name: z.string().min(1).optional(),
    /** input: age of the deployment's input data version; traffic: time since the newest trace; feedback: time since the newest trace carrying the feedback score. */
    signal: z.enum(['input', 'traffic', 'feedback']),
    maxAge: duration,
    /** Feedback score to look for (signal: feedback). */
    score: z.string().min(1).optional(),
    action: z.enum(['warn', 'block', 'backfill']),
    /** Default: escalate for block, warn for warn and backfill. */
    decision: decision.optional(),
  })
  .strict()

const scoreRange = z
  .object({
    min: z.number().optional(),
    max: z.number().optional(),
    /** A trace without this score is malformed (default false: feedback arrives late). */
    required: z.boolean().default(false),
  })
  .strict()

const malformed = z
  .object({
    /** Attributes every trace must carry (TraceRow.attributes). */
    required: z.array(z.string().min(1)).default([]),
    scores: z.record(z.string().min(1), scoreRange).default({}),
    /** Features whose values must be numbers in a range. */
    features: z.record(z.string().min(1), z.object({ min: z.number().optional(), max: z.number().optional() }).strict()).default({}),
    /** Largest share of rejected traces before the check fails (default 0.01). */
    maxShare: z.number().min(0).max(1).default(0.01),
    decision: decision.default('warn'),
  })
  .strict()

const driftTest = z.enum(['ks', 'chi-square', 'psi', 'jensen-shannon', 'two-proportion', 'clustered-two-proportion'])

const driftItem = z
  .object({
    name: z.string().min(1).optional(),
    /** A feature value of each trace (number, or a category string). */
    feature: z.string().min(1).optional(),
    /** A score of each trace (feedback, evaluator, guardrail outcome). */
    score: z.string().min(1).optional(),
    /** A 0/1 rate: a score holding 0/1, or 'guardrail' for the share of traces whose guardrail acted. */
    rate: z.string().min(1).optional(),
    /** Default: ks for features and scores, clustered-two-proportion for rates. */
    test: driftTest.optional(),
    alternative: z.enum(['two-sided', 'greater', 'less']).default('two-sided'),
    /**
     * trace (default): every trace is one observation. conversation: one value per conversation (its
     * first trace's), for a feature fixed within a conversation (region, user tier): counted per trace,
     * it would look like far more evidence than it is, and the tests would reject too often.
     */
    unit: z.enum(['trace', 'conversation']).default('trace'),
    /** Cut points for psi / jensen-shannon on numbers (bins (-∞, c1), [c1, c2), ..., [ck, ∞)); without them, values are categories. */
    cuts: z.array(z.number()).min(1).optional(),
    /** Threshold of psi / jensen-shannon (PSI 0.2 and JS divergence 0.1 are common choices). */
    max: z.number().gt(0).optional(),
    decision: decision.optional(),
  })
  .strict()

const inconsistent = z
  .object({
    /** Multiplicity control across every drift test with a p-value: Holm (family-wise) or BH (false discovery rate). */
    multiplicity: z.enum(['holm', 'BH']).default('holm'),
    alpha: z.number().gt(0).lt(0.5).optional(),
    /** What the reference window is, for the evidence (the evaluation run that promoted the model, or a trailing window). */
    reference: z.string().min(1).optional(),
    /** Default decision of a drifted item (default retrain). */
    decision: decision.default('retrain'),
    drift: z.array(driftItem).min(1, 'inconsistent needs at least one drift item'),
  })
  .strict()

const auditField = z.enum(['modelVersion', 'promptVersion', 'owner', 'codeHash', 'inputVersion'])

const unauditable = z
  .object({
    require: z.array(auditField).min(1).default(['modelVersion', 'promptVersion', 'owner']),
    decision: decision.default('escalate'),
  })
  .strict()

const costly = z
  .object({
    /** What to do when over budget (printed as the next action). */
    action: z.enum(['route', 'cache', 'batch', 'downscale']),
    decision: decision.default('warn'),
    confidenceLevel: z.number().gt(0).lt(1).default(0.95),
    latency: z.object({ quantile: z.number().gt(0).lt(1).default(0.95), maxMs: z.number().gt(0) }).strict().optional(),
    tokensPer1000: z.object({ max: z.number().gt(0) }).strict().optional(),
    costPer1000: z.object({ max: z.number().gt(0) }).strict().optional(),
  })
  .strict()

const rollback = z
  .object({
    model: required('rollback.model'),
    version: z.union([z.number().int().min(1), z.string().min(1)]).optional(),
    alias: z.string().min(1).optional(),
    rationale: z
      .string({ error: 'rollback.rationale is required: why this version is the safe one' })
      .trim()
      .min(1, 'rollback.rationale is required: why this version is the safe one'),
  })
  .strict()

export const monitorSpecSchema = z
  .object({
    monitor: z.string().min(1),
    description: z.string().optional(),
    /** The deployment (endpoint) this monitor watches. */
    deployment: z.string().min(1).optional(),
    owner: required('owner'),
    escalation: required('escalation'),
    rollback: rollback.optional(),
    /**
     * What `monitor check` may do itself. rollback: automatic moves the deployment's alias back to
     * the rollback candidate (through the registry's recorded rollback) when the decision is
     * rollback; manual (default) prints the command instead.
     */
    actions: z.object({ rollback: z.enum(['automatic', 'manual']).default('manual') }).strict().default({ rollback: 'manual' }),
    /**
     * What `monitor canary --monitor FILE` may do on its decision: promote moves the alias to the
     * challenger's model version (through the registered gate, as `assay promote`), rollback keeps
     * it on (or moves it back to) the champion's; both allows either; none (default) prints the
     * next command. alias: the alias moved (default: the champion deployment's alias, else champion).
     */
    canary: z
      .object({ act: z.enum(['none', 'promote', 'rollback', 'both']).default('none'), alias: z.string().min(1).optional() })
      .strict()
      .default({ act: 'none' }),
    /** Default significance level of the drift tests. */
    alpha: z.number().gt(0).lt(0.5).default(0.05),
    /** Fewest accepted traces in each window for the statistical checks (fewer: insufficient, a warning). */
    minRequests: z.number().int().min(2).default(100),
    stale: z.array(stale).default([]),
    malformed: malformed.optional(),
    inconsistent: inconsistent.optional(),
    unauditable: unauditable.default({ require: ['modelVersion', 'promptVersion', 'owner'], decision: 'escalate' }),
    costly: costly.optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.rollback === undefined) {
      ctx.addIssue({ code: 'custom', path: ['rollback'], message: 'rollback is required: the model and version (or alias) production returns to, and why' })
    } else if ((spec.rollback.version === undefined) === (spec.rollback.alias === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['rollback'], message: 'rollback names exactly one of version or alias' })
    }
    spec.stale.forEach((s, i) => {
      if (s.signal === 'feedback' && s.score === undefined) ctx.addIssue({ code: 'custom', path: ['stale', i, 'score'], message: 'a feedback freshness check names the feedback score' })
      if (s.signal !== 'feedback' && s.score !== undefined) ctx.addIssue({ code: 'custom', path: ['stale', i, 'score'], message: 'score is for signal: feedback' })
    })
    spec.inconsistent?.drift.forEach((d, i) => {
      const sources = [d.feature, d.score, d.rate].filter((v) => v !== undefined).length
      if (sources !== 1) ctx.addIssue({ code: 'custom', path: ['inconsistent', 'drift', i], message: 'a drift item names exactly one of feature, score or rate' })
      const test = d.test ?? (d.rate !== undefined ? 'clustered-two-proportion' : 'ks')
      if ((test === 'psi' || test === 'jensen-shannon') !== (d.max !== undefined)) {
        ctx.addIssue({ code: 'custom', path: ['inconsistent', 'drift', i, 'max'], message: `${test === 'psi' || test === 'jensen-shannon' ? `${test} needs a threshold max` : `max is the threshold of psi or jensen-shannon; ${test} is decided by its p-value`}` })
      }
      if (d.cuts !== undefined && test !== 'psi' && test !== 'jensen-shannon' && test !== 'chi-square') {
        ctx.addIssue({ code: 'custom', path: ['inconsistent', 'drift', i, 'cuts'], message: `cuts bin numbers for psi, jensen-shannon or chi-square, not ${test}` })
      }
      if (d.cuts !== undefined && d.cuts.some((c, k) => k > 0 && !(c > d.cuts![k - 1]))) {
        ctx.addIssue({ code: 'custom', path: ['inconsistent', 'drift', i, 'cuts'], message: 'cuts must increase strictly' })
      }
      if ((test === 'two-proportion' || test === 'clustered-two-proportion') && d.rate === undefined) {
        ctx.addIssue({ code: 'custom', path: ['inconsistent', 'drift', i, 'test'], message: `${test} compares rates: name a rate` })
      }
      if (d.unit === 'conversation' && test === 'clustered-two-proportion') {
        ctx.addIssue({ code: 'custom', path: ['inconsistent', 'drift', i, 'unit'], message: 'clustered-two-proportion already counts conversations as clusters: keep unit: trace' })
      }
      if (d.rate !== undefined && test !== 'two-proportion' && test !== 'clustered-two-proportion') {
        ctx.addIssue({ code: 'custom', path: ['inconsistent', 'drift', i, 'test'], message: 'a rate is compared by two-proportion or clustered-two-proportion' })
      }
    })
    if (spec.costly !== undefined && spec.costly.latency === undefined && spec.costly.tokensPer1000 === undefined && spec.costly.costPer1000 === undefined) {
      ctx.addIssue({ code: 'custom', path: ['costly'], message: 'costly needs at least one budget: latency, tokensPer1000 or costPer1000' })
    }
  })

export type MonitorSpec = z.infer<typeof monitorSpecSchema>
export type DriftItem = NonNullable<MonitorSpec['inconsistent']>['drift'][number]

export interface LoadedMonitor {
  spec: MonitorSpec
  source: string
  /** sha256 of the file's bytes: the evidence names exactly which monitor decided. */
  sha256: string
}

/** YAML aliases a monitor file may use (as gate files). */
export const MONITOR_MAX_ALIASES = 50

const MONITOR_FILE: SpecFileKind = {
  code: 'ASSAY_INVALID_MONITOR_SPEC',
  what: 'a monitor file',
  maxAliases: MONITOR_MAX_ALIASES,
  fields: 'monitor, owner, escalation, rollback and checks (stale, malformed, inconsistent, unauditable, costly)',
}

/** Parse and validate a monitor file's text (YAML or JSON). Throws ASSAY_INVALID_MONITOR_SPEC with field and line. */
export function parseMonitorSpec(text: string, source = '<inline>'): LoadedMonitor {
  const { data, sha256 } = parseSpecFile(text, source, monitorSpecSchema, MONITOR_FILE)
  return { spec: data, source, sha256 }
}

/** A monitor from its text or from an object with the file's fields (validated as its JSON text). */
export function loadMonitor(monitor: string | Record<string, unknown>, source = '<inline>'): LoadedMonitor {
  if (typeof monitor === 'string') return parseMonitorSpec(monitor, source)
  if (monitor === null || typeof monitor !== 'object' || Array.isArray(monitor)) {
    throw new AssayError('ASSAY_INVALID_MONITOR_SPEC', `${source}: a monitor is the text of a monitor file or an object with its fields`, { file: source })
  }
  return parseMonitorSpec(JSON.stringify(monitor, null, 2), source)
}

/** Read and parse a monitor file. */
export function loadMonitorFile(file: string): LoadedMonitor {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new AssayError('ASSAY_INVALID_MONITOR_SPEC', `cannot read monitor file ${file}: ${(error as Error).message}`, { file, field: null, line: null })
  }
  return parseMonitorSpec(text, file)
}
