/**
 * Deterministic data shared by the children (which write it) and the tests (which check it), and
 * the children's line protocol. Plain JavaScript, so children run without a TypeScript loader;
 * protocol.d.mts gives the tests its types.
 */

/** The value of metric point i: not trivially the index, and never the same twice in a run. */
export function metricValue(i, salt = 0) {
  return Math.sin(i * 0.001 + salt) * 1000 + i / 7
}

/** Eval record i: id, cluster, two scores, latency, tokens and cost. */
export function evalRecord(i, salt = 0) {
  return {
    id: `ex-${salt}-${i}`,
    cluster: `c${i % 17}`,
    scores: { correct: (i * 7 + salt) % 3 === 0 ? 1 : 0, f1: ((i * 37 + salt) % 101) / 100 },
    latencyMs: 10 + ((i * 13) % 250),
    tokens: 100 + (i % 400),
    cost: (100 + (i % 400)) * 2e-6,
  }
}

/** One line of the child protocol, written synchronously (stdout is a pipe, synchronous on POSIX). */
export function say(line) {
  process.stdout.write(`${line}\n`)
}

export function requireEnv(name) {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`child needs ${name}`)
  return value
}
