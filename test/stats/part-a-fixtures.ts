import { readFileSync } from 'node:fs'
import type { Alternative } from '../../src/stats/validate.js'

/**
 * Reference values for part A of assay/stats, written by scripts/fixtures/stats-part-a.R (R) and
 * scripts/fixtures/stats-part-a.py (SciPy / statsmodels). Every entry records the call that produced it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

function load(name: string): Json {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'))
}

export const R: Json = load('part-a-r.json')
export const PY: Json = load('part-a-py.json')

export function data(name: string): number[] {
  const v = R.data[name]
  if (!Array.isArray(v)) throw new Error(`no fixture data ${name}`)
  return v
}

/** R spells two-sided as 'two.sided'. */
export function alt(name: string): Alternative {
  return (name === 'two.sided' ? 'two-sided' : name) as Alternative
}

/** R's one-sided bounds are written as the strings "Infinity" / "-Infinity". */
export function num(v: number | string): number {
  return typeof v === 'string' ? Number(v) : v
}
