/**
 * What the paired comparison's means and sd cost since they call assay/stats (meanUnchecked, with
 * R's refinement pass, and sdUnchecked) instead of private one-pass loops, which are kept here as
 * the reference. Run: node --import tsx bench/mean-cost.ts
 */
import { meanUnchecked, sdUnchecked } from '../src/stats/describe.js'
const x = new Float64Array(1_000_000).map((_, i) => (i % 7) / 7)
// The private loops compare/paired-comparison.ts had before.
const naive = (a: Float64Array): number => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s / a.length }
const naiveSd = (a: Float64Array, m: number): number => { let ss = 0; for (let i = 0; i < a.length; i++) ss += (a[i] - m) ** 2; return Math.sqrt(ss / (a.length - 1)) }
const time = (f: () => number): number => { const t = process.hrtime.bigint(); let z = 0; for (let r = 0; r < 40; r++) z += f(); if (z === -1) console.log(z); return Number(process.hrtime.bigint() - t) / 40 / 1e6 }
const before = () => naive(x) + naive(x) + naiveSd(x, naive(x))
const after = () => meanUnchecked(x) + meanUnchecked(x) + sdUnchecked(x, meanUnchecked(x))
for (let round = 0; round < 3; round++) console.log(`round ${round + 1}: private means+sd ${time(before).toFixed(1)} ms, assay/stats unchecked ${time(after).toFixed(1)} ms (3 means + 1 sd over 1e6 values)`)
