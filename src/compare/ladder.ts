import { AssayError } from '../errors.js'

/**
 * The Ladder (Blum & Hardt 2015, "The Ladder: A Reliable Leaderboard for Machine Learning
 * Competitions") for a shared leaderboard. Submissions are taken in submission order; a new best
 * score is released only when the submission beats the current best by more than a threshold,
 * otherwise the old best is shown again. Small, noise-sized "improvements" therefore release no new
 * information about the holdout, which is what stops a leaderboard from being climbed by probing.
 *
 * Rule (the default is Blum & Hardt's parameter-free Ladder):
 *   - the first submission with at least 2 scored examples becomes the best and is released;
 *   - `paired-se` (default): submission t is paired with the current best on the examples both
 *     scored; with d_i the per-example difference (t minus best, sign-flipped when lower is better),
 *     accept when mean(d) > multiplier × sd(d) / sqrt(n) over those n pairs (multiplier 1: "beats
 *     the best by one standard error of the paired difference"); the released score is its mean;
 *   - `fixed` (the original Ladder with step eta): accept when the submission's score beats the
 *     last *released* score R_{t−1} by more than eta — score − R_{t−1} > eta (R_{t−1} − score > eta
 *     when lower is better), R_{t−1} being rounded, exactly as in the paper's algorithm; the released
 *     score R_t is its score rounded to the nearest multiple of eta. The score is the mean over the
 *     submission's finite scores; `pairs` then counts those.
 *   - not accepted: the released score stays the previous best's.
 * Pure: arrays in, steps out.
 */

export type LadderThreshold = { kind: 'paired-se'; multiplier: number } | { kind: 'fixed'; eta: number }

export interface LadderSubmission {
  id: string
  label?: string
  /** Per-example scores on a shared example order; NaN where this submission has no value. */
  scores: Float64Array | readonly number[]
}

export interface LadderOptions {
  higherIsBetter?: boolean
  threshold?: LadderThreshold
}

export interface LadderStep {
  index: number
  id: string
  label: string
  /** Mean of this submission over its finite scores. */
  mean: number
  /** Improvement over the current best on the paired examples (positive = better); null for the first. */
  improvement: number | null
  /** The threshold it had to beat; null for the first. */
  threshold: number | null
  pairs: number
  accepted: boolean
  /** The best after this step and its released score. */
  bestId: string
  releasedScore: number
}

export interface LadderResult {
  rule: string
  threshold: LadderThreshold
  higherIsBetter: boolean
  steps: LadderStep[]
  bestId: string | null
  releasedScore: number | null
}

export const DEFAULT_LADDER_THRESHOLD: LadderThreshold = { kind: 'paired-se', multiplier: 1 }

export function ladder(submissions: readonly LadderSubmission[], options: LadderOptions = {}): LadderResult {
  const higherIsBetter = options.higherIsBetter ?? true
  const threshold = options.threshold ?? DEFAULT_LADDER_THRESHOLD
  if (threshold.kind === 'paired-se' && !(Number.isFinite(threshold.multiplier) && threshold.multiplier >= 0)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `ladder multiplier must be a finite number >= 0, got ${String(threshold.multiplier)}`)
  }
  if (threshold.kind === 'fixed' && !(Number.isFinite(threshold.eta) && threshold.eta > 0)) {
    throw new AssayError('ASSAY_INVALID_ARGUMENT', `ladder eta must be a finite number > 0, got ${String(threshold.eta)}`)
  }
  const sign = higherIsBetter ? 1 : -1
  const round = (v: number): number => (threshold.kind === 'fixed' ? Math.round(v / threshold.eta) * threshold.eta : v)
  const steps: LadderStep[] = []
  let best: LadderSubmission | null = null
  let released: number | null = null
  submissions.forEach((s, index) => {
    const label = s.label ?? s.id
    const mean = finiteMean(s.scores)
    if (best === null || released === null) {
      const scored = countFinite(s.scores)
      const accepted = scored >= 2
      if (accepted) {
        best = s
        released = round(mean)
      }
      steps.push({ index, id: s.id, label, mean, improvement: null, threshold: null, pairs: scored, accepted, bestId: best?.id ?? s.id, releasedScore: released ?? NaN })
      return
    }
    if (threshold.kind === 'fixed') {
      // Blum & Hardt: compare with the released (rounded) score R_{t−1}, not the best's own mean.
      const scored = countFinite(s.scores)
      const improvement = scored >= 1 ? sign * (mean - released) : NaN
      const bar = scored < 2 ? Infinity : threshold.eta
      const accepted = scored >= 2 && improvement > bar
      if (accepted) {
        best = s
        released = round(mean)
      }
      steps.push({ index, id: s.id, label, mean, improvement, threshold: bar, pairs: scored, accepted, bestId: (best as LadderSubmission).id, releasedScore: released })
      return
    }
    const current: LadderSubmission = best
    const { n, meanD, sdD } = pairedDifference(s.scores, current.scores, sign)
    const bar = n < 2 ? Infinity : (threshold.multiplier * sdD) / Math.sqrt(n)
    const accepted = n >= 2 && meanD > bar
    if (accepted) {
      best = s
      released = round(mean)
    }
    steps.push({ index, id: s.id, label, mean, improvement: n >= 1 ? meanD : NaN, threshold: bar, pairs: n, accepted, bestId: best.id, releasedScore: released })
  })
  return {
    rule:
      threshold.kind === 'fixed'
        ? `Ladder (Blum & Hardt 2015): release a new best only when its score beats the last released score by more than eta = ${threshold.eta}; released scores rounded to multiples of eta`
        : `parameter-free Ladder (Blum & Hardt 2015): release a new best only when its paired mean improvement over the current best exceeds ${threshold.multiplier} × sd(d)/sqrt(n)`,
    threshold,
    higherIsBetter,
    steps,
    bestId: (best as LadderSubmission | null)?.id ?? null,
    releasedScore: released,
  }
}

function finiteMean(x: Float64Array | readonly number[]): number {
  let s = 0
  let n = 0
  for (let i = 0; i < x.length; i++) {
    const v = x[i]
    if (Number.isFinite(v)) {
      s += v
      n++
    }
  }
  return n === 0 ? NaN : s / n
}

function countFinite(x: Float64Array | readonly number[]): number {
  let n = 0
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i])) n++
  return n
}

/** Mean and sd of sign × (a - b) over positions where both are finite (Welford). */
function pairedDifference(a: Float64Array | readonly number[], b: Float64Array | readonly number[], sign: number): { n: number; meanD: number; sdD: number } {
  if (a.length !== b.length) throw new AssayError('ASSAY_STATS_LENGTH_MISMATCH', `ladder submissions must share one example order: lengths ${a.length} and ${b.length}`)
  let n = 0
  let m = 0
  let s = 0
  for (let i = 0; i < a.length; i++) {
    const x = a[i]
    const y = b[i]
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue
    const d = sign * (x - y)
    n++
    const delta = d - m
    m += delta / n
    s += delta * (d - m)
  }
  return { n, meanD: n === 0 ? NaN : m, sdD: n < 2 ? NaN : Math.sqrt(s / (n - 1)) }
}
