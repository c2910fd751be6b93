import { AssayError } from '../errors.js'
import type { EvalColumns } from '../record/types.js'

/**
 * Pairing of two runs' eval records on one score, by example id. Pure: no store, no I/O.
 *
 * A pair exists for every id present on both sides whose score is present and finite on both.
 * Everything else is "lost" and counted per side, by reason, so a comparison can say how many
 * examples each side gave up to be paired.
 */

/** Whether a score only takes the values 0 and 1 (McNemar applies) or anything else. */
export type ScoreType = 'binary' | 'continuous'

export interface AlignedExamples {
  /** The score name that was aligned. */
  metric: string
  /** Ids of the pairs, in A's order. */
  ids: string[]
  /** Score of A and of B per pair (finite). */
  a: Float64Array
  b: Float64Array
  /** Cluster id per pair (A's cluster, else B's), or null when neither side has clusters. */
  clusters: (string | null)[] | null
  /** Position of each pair in A's and B's columns. */
  indexA: Int32Array
  indexB: Int32Array
  /** Records on each side before pairing. */
  nA: number
  nB: number
  pairs: number
  /** Records of each side that did not become a pair, for any reason (= nX − pairs). */
  lostA: number
  lostB: number
  /** Why they were lost: id absent on the other side; score not logged; score NaN/±Infinity; repeated id. */
  lost: {
    a: { unmatched: number; missingScore: number; nonFinite: number; duplicateId: number }
    b: { unmatched: number; missingScore: number; nonFinite: number; duplicateId: number }
  }
  /** True when both sides had identical ids in identical order (the id map was skipped). */
  sameOrder: boolean
  /** Binary when every paired score on both sides is 0 or 1. */
  scoreType: ScoreType
}

/** 'binary' when every finite value of every array is exactly 0 or 1 (and there is at least one). */
export function detectScoreType(...arrays: readonly Float64Array[]): ScoreType {
  let seen = false
  for (const values of arrays) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number
      if (v !== 0 && v !== 1) return 'continuous'
      seen = true
    }
  }
  return seen ? 'binary' : 'continuous'
}

function scoreColumn(columns: EvalColumns, metric: string, side: string): Float64Array {
  const column = columns.scores[metric]
  if (column === undefined) {
    const available = Object.keys(columns.scores).sort()
    throw new AssayError(
      'ASSAY_METRIC_NOT_FOUND',
      `side ${side} has no score ${JSON.stringify(metric)} in its eval records for dataset ${JSON.stringify(columns.dataset)}` +
        (available.length > 0 ? ` (it has: ${available.join(', ')})` : ''),
      { side, metric, dataset: columns.dataset, available },
    )
  }
  return column
}

function missingMask(columns: EvalColumns, metric: string): Uint8Array | null {
  const positions = columns.missing[`score:${metric}`]
  if (positions === undefined || positions.length === 0) return null
  const mask = new Uint8Array(columns.ids.length)
  for (const p of positions) mask[p] = 1
  return mask
}

/**
 * Align A and B on the score `metric`, pairing by example id (A's order is kept).
 * Throws ASSAY_METRIC_NOT_FOUND when either side has no such score.
 */
export function alignExamples(a: EvalColumns, b: EvalColumns, metric: string): AlignedExamples {
  const scoresA = scoreColumn(a, metric, 'A')
  const scoresB = scoreColumn(b, metric, 'B')
  const nA = a.ids.length
  const nB = b.ids.length
  const missA = missingMask(a, metric)
  const missB = missingMask(b, metric)
  const lost = {
    a: { unmatched: 0, missingScore: 0, nonFinite: 0, duplicateId: 0 },
    b: { unmatched: 0, missingScore: 0, nonFinite: 0, duplicateId: 0 },
  }

  // Fast path: identical id order on both sides (the common case of one eval set scored twice).
  let sameOrder = nA === nB
  if (sameOrder) {
    const idsA = a.ids
    const idsB = b.ids
    for (let i = 0; i < nA; i++) {
      if (idsA[i] !== idsB[i]) {
        sameOrder = false
        break
      }
    }
  }

  let indexA: Int32Array
  let indexB: Int32Array
  let count = 0
  // Classifies one candidate pair; returns true when it is kept.
  const keep = (i: number, j: number): boolean => {
    let ok = true
    if (missA !== null && missA[i] === 1) {
      lost.a.missingScore++
      ok = false
    } else if (!Number.isFinite(scoresA[i] as number)) {
      lost.a.nonFinite++
      ok = false
    }
    if (missB !== null && missB[j] === 1) {
      lost.b.missingScore++
      ok = false
    } else if (!Number.isFinite(scoresB[j] as number)) {
      lost.b.nonFinite++
      ok = false
    }
    // A record kept on one side but whose partner is unusable counts as unmatched on that side.
    if (!ok) {
      const aBad = (missA !== null && missA[i] === 1) || !Number.isFinite(scoresA[i] as number)
      const bBad = (missB !== null && missB[j] === 1) || !Number.isFinite(scoresB[j] as number)
      if (!aBad) lost.a.unmatched++
      if (!bBad) lost.b.unmatched++
    }
    return ok
  }

  if (sameOrder) {
    indexA = new Int32Array(nA)
    indexB = new Int32Array(nA)
    if (missA === null && missB === null) {
      // Hot loop: no per-record bookkeeping beyond finiteness.
      for (let i = 0; i < nA; i++) {
        const x = scoresA[i] as number
        const y = scoresB[i] as number
        if (x - x === 0 && y - y === 0) {
          indexA[count] = i
          indexB[count] = i
          count++
        } else keep(i, i)
      }
    } else {
      for (let i = 0; i < nA; i++) {
        if (keep(i, i)) {
          indexA[count] = i
          indexB[count] = i
          count++
        }
      }
    }
  } else {
    const positionB = new Map<string, number>()
    const idsB = b.ids
    for (let j = 0; j < nB; j++) {
      const id = idsB[j] as string
      if (positionB.has(id)) lost.b.duplicateId++
      else positionB.set(id, j)
    }
    const usedB = new Uint8Array(nB)
    const size = Math.min(nA, nB)
    indexA = new Int32Array(size)
    indexB = new Int32Array(size)
    const seenA = new Set<string>()
    const idsA = a.ids
    for (let i = 0; i < nA; i++) {
      const id = idsA[i] as string
      if (seenA.has(id)) {
        lost.a.duplicateId++
        continue
      }
      seenA.add(id)
      const j = positionB.get(id)
      if (j === undefined) {
        lost.a.unmatched++
        continue
      }
      usedB[j] = 1
      if (keep(i, j)) {
        indexA[count] = i
        indexB[count] = j
        count++
      }
    }
    for (const j of positionB.values()) if (usedB[j] === 0) lost.b.unmatched++
  }

  indexA = indexA.subarray(0, count)
  indexB = indexB.subarray(0, count)
  const outA = new Float64Array(count)
  const outB = new Float64Array(count)
  const ids = new Array<string>(count)
  const idsA = a.ids
  for (let k = 0; k < count; k++) {
    const i = indexA[k] as number
    outA[k] = scoresA[i] as number
    outB[k] = scoresB[indexB[k] as number] as number
    ids[k] = idsA[i] as string
  }

  let clusters: (string | null)[] | null = null
  if (a.clusters !== null || b.clusters !== null) {
    clusters = new Array<string | null>(count)
    const ca = a.clusters
    const cb = b.clusters
    for (let k = 0; k < count; k++) {
      const fromA = ca === null ? null : (ca[indexA[k] as number] ?? null)
      clusters[k] = fromA ?? (cb === null ? null : (cb[indexB[k] as number] ?? null))
    }
  }

  return {
    metric,
    ids,
    a: outA,
    b: outB,
    clusters,
    indexA,
    indexB,
    nA,
    nB,
    pairs: count,
    lostA: nA - count,
    lostB: nB - count,
    lost,
    sameOrder,
    scoreType: detectScoreType(outA, outB),
  }
}

export interface AlignedRuns {
  metric: string
  /** Ids present, with a finite score, in every run (in the first run's order). */
  ids: string[]
  /** One array per run, over `ids`. */
  scores: Float64Array[]
  /** Per run: records that are not in the common set. */
  lost: number[]
}

/**
 * Align any number of runs' eval records on the ids every one of them scored (finite `metric`), in
 * the first run's order: what the two-level bootstrap and validation variance read. Throws
 * ASSAY_METRIC_NOT_FOUND naming the run index when one has no such score.
 */
export function alignRuns(columns: readonly EvalColumns[], metric: string): AlignedRuns {
  if (columns.length === 0) return { metric, ids: [], scores: [], lost: [] }
  const usable = columns.map((c, k) => {
    const values = scoreColumn(c, metric, `#${k + 1}`)
    const miss = missingMask(c, metric)
    const map = new Map<string, number>()
    for (let i = 0; i < c.ids.length; i++) {
      const v = values[i] as number
      if ((miss === null || miss[i] === 0) && Number.isFinite(v) && !map.has(c.ids[i] as string)) map.set(c.ids[i] as string, i)
    }
    return { values, map }
  })
  const first = columns[0] as EvalColumns
  // Fast path: every run has the first run's ids in the same order and no unusable value.
  const sameOrder = columns.every((c, k) => c.ids.length === first.ids.length && usable[k]?.map.size === first.ids.length && c.ids.every((id, i) => id === first.ids[i]))
  if (sameOrder) {
    return { metric, ids: first.ids.slice(), scores: usable.map((u) => Float64Array.from(u.values)), lost: columns.map(() => 0) }
  }
  const ids: string[] = []
  for (const id of (usable[0] as { map: Map<string, number> }).map.keys()) if (usable.every((u) => u.map.has(id))) ids.push(id)
  const scores = usable.map((u) => {
    const out = new Float64Array(ids.length)
    for (let k = 0; k < ids.length; k++) out[k] = u.values[u.map.get(ids[k] as string) as number] as number
    return out
  })
  return { metric, ids, scores, lost: columns.map((c) => c.ids.length - ids.length) }
}
