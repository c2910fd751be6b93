import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml'
import { z } from 'zod'
import { AssayError } from '../errors.js'

/**
 * The gate specification: a declarative YAML or JSON file (docs/gates.md), validated against a
 * zod schema. Every mistake is reported with the field (criteria[1].rationale) and the line it
 * sits on, from the yaml document API (node ranges + LineCounter); JSON is parsed by the same
 * parser so it gets lines too.
 */

const action = z.enum(['block', 'warn'])
const probability = z.number().gt(0).lt(0.5)
const rationale = z
  .string({ error: 'a rationale is required: a threshold with no rationale is not accepted' })
  .trim()
  .min(1, 'a rationale is required: a threshold with no rationale is not accepted')

const common = {
  /** Shown in reports; defaults to "<kind> <metric>". */
  name: z.string().min(1).optional(),
  alpha: probability.default(0.05),
  onFailure: action,
  rationale,
  /** Eval dataset name; defaults to the gate's dataset. */
  dataset: z.string().min(1).optional(),
  /** Seed of resampling tests (default: the gate's seed). */
  seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
}

/** What a comparative criterion does when the paired decision warns FEW_EXAMPLES or FEW_CLUSTERS: warn (default), block, or ignore. */
const fewExamples = z.enum(['warn', 'block', 'ignore']).default('warn')

/** Where a pair's cluster comes from when records carry no `cluster`: a regular expression on the example id (its first capture group, else the whole match). */
const clusterRule = z.object({ idPattern: z.string().min(1) }).strict()

const superiority = z
  .object({
    ...common,
    kind: z.literal('superiority'),
    metric: z.string().min(1),
    test: z.enum(['paired-bootstrap', 'paired-t']).default('paired-bootstrap'),
    higherIsBetter: z.boolean().default(true),
    /** The lower bound must clear this (metric units, >= 0). */
    minEffect: z.number().min(0).default(0),
    resamples: z.number().int().min(100).max(1_000_000).default(10_000),
    fewExamples,
  })
  .strict()

const nonInferiority = z
  .object({
    ...common,
    kind: z.literal('non-inferiority'),
    metric: z.string().min(1),
    test: z.enum(['paired-t', 'paired-bootstrap']).default('paired-t'),
    higherIsBetter: z.boolean().default(true),
    margin: z.number().gt(0),
    resamples: z.number().int().min(100).max(1_000_000).default(10_000),
    fewExamples,
  })
  .strict()

const absolute = z
  .object({
    ...common,
    kind: z.literal('absolute'),
    metric: z.string().min(1),
    /** wilson / clopper-pearson for 0/1 rates, t / bootstrap for means. */
    test: z.enum(['wilson', 'clopper-pearson', 't', 'bootstrap']),
    /** The upper bound must stay below max, or the lower bound above min (exactly one). */
    max: z.number().optional(),
    min: z.number().optional(),
    resamples: z.number().int().min(100).max(1_000_000).default(10_000),
  })
  .strict()

const budget = z
  .object({
    ...common,
    kind: z.literal('budget'),
    /** latency: p-quantile of latencyMs; tokens, cost: per 1,000 requests; storage: bytes of produced artifacts; compute: run seconds. */
    metric: z.enum(['latency', 'tokens', 'cost', 'storage', 'compute']),
    /** Quantile of latency (default 0.95). */
    quantile: z.number().gt(0).lt(1).default(0.95),
    /** Absolute budget (ms, tokens or money per 1,000 requests, bytes, seconds) ... */
    max: z.number().min(0).optional(),
    /** ... or relative to the baseline: the candidate may be at most maxRatio × the baseline. */
    maxRatio: z.number().gt(0).optional(),
    test: z.enum(['bootstrap', 't', 'none']).optional(),
    resamples: z.number().int().min(100).max(1_000_000).default(10_000),
  })
  .strict()

const criterion = z.discriminatedUnion('kind', [superiority, nonInferiority, absolute, budget], {
  error: (issue) =>
    issue.code === 'invalid_union' ? "kind must be one of 'superiority', 'non-inferiority', 'absolute', 'budget'" : undefined,
})

const scoreRange = z
  .object({
    min: z.number().optional(),
    max: z.number().optional(),
    /** A record without this score is malformed (default true). */
    required: z.boolean().default(true),
  })
  .strict()

const reference = z
  .object({
    metric: z.string().min(1),
    statistic: z.enum(['mean', 'p50', 'p95']).default('mean'),
    value: z.number(),
    tolerance: z.number().min(0),
    dataset: z.string().min(1).optional(),
  })
  .strict()

const sideRef = z.string().min(1)

export const gateSpecSchema = z
  .object({
    gate: z.string().min(1),
    description: z.string().optional(),
    /** The registered model this gate guards: lets alias:ALIAS and model:@VERSION omit the model name. */
    model: z.string().min(1).optional(),
    owner: z.string({ error: 'owner is required' }).trim().min(1, 'owner is required'),
    escalation: z.string({ error: 'escalation is required: who to call when the gate blocks' }).trim().min(1, 'escalation is required'),
    rollback: sideRef.describe('the version production returns to if the promotion goes wrong'),
    dataset: z.string().min(1),
    cluster: clusterRule.optional(),
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
    scores: z.record(z.string().min(1), scoreRange),
    freshness: z.object({ maxAgeDays: z.number().gt(0), onFailure: action }).strict().optional(),
    references: z.array(reference).default([]),
    criteria: z.array(criterion).min(1, 'a gate needs at least one criterion'),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const declared = new Set(Object.keys(spec.scores))
    spec.criteria.forEach((c, i) => {
      if (c.kind !== 'budget' && !declared.has(c.metric)) {
        ctx.addIssue({
          code: 'custom',
          path: ['criteria', i, 'metric'],
          message: `unknown metric ${JSON.stringify(c.metric)}: declare it under scores (declared: ${[...declared].join(', ') || 'none'})`,
        })
      }
      if (c.kind === 'absolute' && (c.max === undefined) === (c.min === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['criteria', i, 'max'], message: 'an absolute criterion needs exactly one of max or min' })
      }
      if (c.kind === 'absolute' && (c.test === 'wilson' || c.test === 'clopper-pearson')) {
        const range = spec.scores[c.metric]
        if (range !== undefined && (range.min !== 0 || range.max !== 1)) {
          ctx.addIssue({ code: 'custom', path: ['criteria', i, 'test'], message: `${c.test} is for 0/1 rates: declare scores.${c.metric} with min: 0 and max: 1` })
        }
      }
      if (c.kind === 'budget') {
        if ((c.max === undefined) === (c.maxRatio === undefined)) {
          ctx.addIssue({ code: 'custom', path: ['criteria', i, 'max'], message: 'a budget criterion needs exactly one of max (absolute) or maxRatio (relative to the baseline)' })
        }
        if (c.test !== undefined && (c.metric === 'storage' || c.metric === 'compute') && c.test !== 'none') {
          ctx.addIssue({ code: 'custom', path: ['criteria', i, 'test'], message: `${c.metric} is one number per run: test must be 'none'` })
        }
        if (c.metric === 'latency' && c.test === 't') {
          ctx.addIssue({ code: 'custom', path: ['criteria', i, 'test'], message: "a latency quantile's interval is a bootstrap: test must be 'bootstrap'" })
        }
      }
    })
    if (spec.cluster !== undefined) {
      try {
        new RegExp(spec.cluster.idPattern)
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['cluster', 'idPattern'], message: `not a valid regular expression: ${(error as Error).message}` })
      }
    }
    spec.references.forEach((r, i) => {
      if (!declared.has(r.metric)) {
        ctx.addIssue({ code: 'custom', path: ['references', i, 'metric'], message: `unknown metric ${JSON.stringify(r.metric)}: declare it under scores` })
      }
    })
    for (const [name, range] of Object.entries(spec.scores)) {
      if (range.min !== undefined && range.max !== undefined && range.min > range.max) {
        ctx.addIssue({ code: 'custom', path: ['scores', name, 'min'], message: 'min is above max' })
      }
    }
  })

export type GateSpec = z.infer<typeof gateSpecSchema>
export type Criterion = GateSpec['criteria'][number]
export type CriterionKind = Criterion['kind']

export interface LoadedGate {
  spec: GateSpec
  /** Where it came from (a path, or "<inline>"). */
  source: string
  /** sha256 of the file's bytes: the evidence names exactly which gate decided. */
  sha256: string
  /** Line of each criterion in the file (1-based), for reports. */
  criterionLines: number[]
}

export interface GateSpecIssue {
  field: string
  line: number | null
  column: number | null
  message: string
}

/** "criteria[1].rationale" from ['criteria', 1, 'rationale']. */
export function fieldName(path: readonly PropertyKey[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out === '' ? '(root)' : out
}

/** The deepest node on `path` that exists (a missing field points at its parent). */
function nodeAt(root: Node | null, path: readonly PropertyKey[]): { node: Node | null; exact: boolean; keyNode: Node | null } {
  let node: Node | null = root
  let keyNode: Node | null = null
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(part))
      if (pair === undefined) return { node, exact: false, keyNode }
      keyNode = isScalar(pair.key) ? pair.key : null
      node = (pair.value as Node | null) ?? keyNode
    } else if (isSeq(node) && typeof part === 'number' && node.items[part] !== undefined) {
      keyNode = null
      node = node.items[part] as Node
    } else return { node, exact: false, keyNode }
  }
  return { node, exact: true, keyNode }
}

function invalid(source: string, issues: GateSpecIssue[], code: 'ASSAY_INVALID_GATE_SPEC' | 'ASSAY_INVALID_MONITOR_SPEC' = 'ASSAY_INVALID_GATE_SPEC'): AssayError {
  const first = issues[0]
  const where = first.line === null ? source : `${source}:${first.line}`
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more: ${issues.slice(1).map((i) => `${i.field}${i.line === null ? '' : ` line ${i.line}`}`).join(', ')})` : ''
  return new AssayError(code, `${where}: ${first.field}: ${first.message}${more}`, {
    file: source,
    field: first.field,
    line: first.line,
    column: first.column,
    issues,
  })
}

/** YAML aliases (*name) a gate file may use, counted as the yaml package counts their expansion. */
export const GATE_MAX_ALIASES = 50

/** How a declarative file (a gate, a monitor) is read: its error code, its name in messages, its alias limit. */
export interface SpecFileKind {
  code: 'ASSAY_INVALID_GATE_SPEC' | 'ASSAY_INVALID_MONITOR_SPEC'
  /** "a gate file" */
  what: string
  maxAliases: number
  /** What the root mapping holds, for the message when the file is not a mapping. */
  fields: string
}

export interface ParsedSpecFile<T> {
  data: T
  /** Line (1-based) of the node at a path of the file, or 0. */
  lineOf: (path: readonly PropertyKey[]) => number
  sha256: string
}

/**
 * Parse a declarative YAML or JSON file and validate it with a zod schema: every mistake is
 * reported with its field and line under the kind's error code. Gate files and monitor files are
 * read by this one function.
 */
export function parseSpecFile<S extends z.ZodType>(text: string, source: string, schema: S, kind: SpecFileKind): ParsedSpecFile<z.output<S>> {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  if (doc.errors.length > 0) {
    throw invalid(
      source,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0])
        return { field: '(syntax)', line: pos.line, column: pos.col, message: e.message.split('\n')[0] }
      }),
      kind.code,
    )
  }
  let data: unknown
  try {
    // Each alias is expanded in full: a few nested ones (a "billion laughs") would build gigabytes.
    data = doc.toJS({ maxAliasCount: kind.maxAliases })
  } catch (error) {
    throw invalid(source, [{ field: '(aliases)', line: 1, column: 1, message: `${(error as Error).message.split('\n')[0]} (${kind.what} may use at most ${kind.maxAliases} YAML aliases)` }], kind.code)
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw invalid(source, [{ field: '(root)', line: 1, column: 1, message: `${kind.what} is a mapping with ${kind.fields}` }], kind.code)
  }
  const parsed = schema.safeParse(data)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue): GateSpecIssue => {
      let path = issue.path
      let message = issue.message
      if (issue.code === 'unrecognized_keys') {
        path = [...path, issue.keys[0]]
        message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`
      }
      const { node, keyNode, exact } = nodeAt(doc.contents, path)
      // A missing required key: name the key itself, pointing at its parent's line.
      if (!exact && issue.code === 'invalid_type' && message.startsWith('Invalid input')) message = `${fieldName(path)} is required`
      else if (message.startsWith('Invalid input: ')) message = message.slice('Invalid input: '.length)
      const anchor = issue.code === 'unrecognized_keys' ? (keyNode ?? node) : node
      const offset = anchor?.range?.[0]
      const pos = offset === undefined ? null : lineCounter.linePos(offset)
      return { field: fieldName(path), line: pos?.line ?? null, column: pos?.col ?? null, message }
    })
    issues.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity))
    throw invalid(source, issues, kind.code)
  }
  const lineOf = (path: readonly PropertyKey[]): number => {
    const offset = nodeAt(doc.contents, path).node?.range?.[0]
    return offset === undefined ? 0 : lineCounter.linePos(offset).line
  }
  return { data: parsed.data as z.output<S>, lineOf, sha256: createHash('sha256').update(text).digest('hex') }
}

const GATE_FILE: SpecFileKind = {
  code: 'ASSAY_INVALID_GATE_SPEC',
  what: 'a gate file',
  maxAliases: GATE_MAX_ALIASES,
  fields: 'gate, owner, escalation, rollback, dataset, scores and criteria',
}

/** Parse and validate a gate file's text (YAML or JSON). Throws ASSAY_INVALID_GATE_SPEC with field and line. */
export function parseGateSpec(text: string, source = '<inline>'): LoadedGate {
  const { data, lineOf, sha256 } = parseSpecFile(text, source, gateSpecSchema, GATE_FILE)
  const criterionLines = data.criteria.map((_, i) => lineOf(['criteria', i]))
  return { spec: data, source, sha256, criterionLines }
}

/** Read and parse a gate file. */
export function loadGateFile(file: string): LoadedGate {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new AssayError('ASSAY_INVALID_GATE_SPEC', `cannot read gate file ${file}: ${(error as Error).message}`, { file, field: null, line: null })
  }
  return parseGateSpec(text, file)
}

/** What a report calls a criterion. */
export function criterionName(c: Criterion): string {
  return c.name ?? `${c.kind} ${c.metric}`
}

/**
 * A gate from its text (YAML or JSON) or from an object with the gate file's fields: what users
 * call to check a gate they build in code. An object is validated as its JSON text, so its
 * sha256 and error lines refer to JSON.stringify(object, null, 2).
 */
export function loadGate(gate: string | Record<string, unknown>, source = '<inline>'): LoadedGate {
  if (typeof gate === 'string') return parseGateSpec(gate, source)
  if (gate === null || typeof gate !== 'object' || Array.isArray(gate)) {
    throw new AssayError('ASSAY_INVALID_GATE_SPEC', `${source}: a gate is the text of a gate file or an object with its fields`, { file: source })
  }
  return parseGateSpec(JSON.stringify(gate, null, 2), source)
}
