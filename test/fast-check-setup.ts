import fc from 'fast-check'

/**
 * Property tests run with a fixed seed so CI is deterministic. To explore new inputs, run with
 * FC_SEED=random (or any integer); a failure prints the seed that reproduces it.
 */
const requested = process.env.FC_SEED
const seed = requested === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(requested ?? 20261126)
fc.configureGlobal({ seed, numRuns: requested === 'random' ? 1000 : undefined })
