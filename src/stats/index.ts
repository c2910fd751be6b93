/**
 * assay/stats: pure statistics. Numbers in, plain JSON-serialisable result objects out; no I/O.
 * Every result names its method and every parameter used so it can be stored as evidence.
 */
export { createRandom, type RandomGenerator } from './random.js'
export type { Alternative, Sample } from './validate.js'
