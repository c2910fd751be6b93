import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Alternative } from '../../src/stats/validate.js'

/** Loads the committed part-B reference fixtures (see scripts/fixtures/stats-part-b.R and .py). */
function load(name: string): unknown {
  const path = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
  // R writes infinities as the strings "Infinity" / "-Infinity" (JSON has no infinities).
  return JSON.parse(readFileSync(path, 'utf8'), (_key, value: unknown) =>
    value === 'Infinity' ? Infinity : value === '-Infinity' ? -Infinity : value,
  )
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const R: any = load('part-b-r.json')
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const SCIPY: any = load('part-b-scipy.json')

/** R's alternative names to assay's. */
export function alt(r: string): Alternative {
  return r === 'two.sided' ? 'two-sided' : (r as Alternative)
}
