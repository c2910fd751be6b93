import assert from 'node:assert/strict'

/**
 * Assert |actual - expected| <= rel * max(|expected|, tiny). Non-finite values must match exactly.
 * `rel` defaults to 1e-9 (the tolerance for closed forms in assay/stats).
 */
export function assertClose(actual: number, expected: number, rel = 1e-9, message?: string): void {
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) {
    assert.equal(actual, expected, message)
    return
  }
  const scale = Math.max(Math.abs(expected), Number.MIN_VALUE)
  const err = Math.abs(actual - expected)
  if (!(err <= rel * scale || err === 0)) {
    assert.fail(`${message ? message + ': ' : ''}expected ${expected}, got ${actual} (relative error ${(err / scale).toExponential(3)} > ${rel})`)
  }
}

/** Element-wise assertClose for pairs such as confidence intervals. */
export function assertCloseAll(actual: readonly number[], expected: readonly number[], rel = 1e-9, message?: string): void {
  assert.equal(actual.length, expected.length, message)
  for (let i = 0; i < expected.length; i++) assertClose(actual[i], expected[i], rel, `${message ?? ''}[${i}]`)
}

/** Assert |actual - expected| <= abs. */
export function assertAbsClose(actual: number, expected: number, abs: number, message?: string): void {
  if (!(Math.abs(actual - expected) <= abs)) {
    assert.fail(`${message ? message + ': ' : ''}expected ${expected} ± ${abs}, got ${actual}`)
  }
}
