/**
 * How every number is written for people (CLI text, reports, gate evidence, reasons): one rule,
 * so the same value reads the same everywhere. JSON output keeps full precision and never uses it.
 */

/**
 * `digits` significant digits with trailing zeros dropped (0.5, not 0.5000); integers as they are;
 * the exponent form below 1e-4 and from 1e6 on; NaN and ±Infinity by name; null or undefined as '-'.
 */
export function formatNumber(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined) return '-'
  if (!Number.isFinite(value) || Number.isInteger(value)) return String(value)
  const magnitude = Math.abs(value)
  if (magnitude < 1e-4 || magnitude >= 1e6) return value.toExponential(digits - 1)
  return Number(value.toPrecision(digits)).toString()
}

/** A p-value: three significant digits, the exponent form below 1e-4 (p = 3.2e-7). */
export function formatPValue(p: number | null | undefined): string {
  if (typeof p === 'number' && Number.isFinite(p) && p > 0 && p < 1e-4) return p.toExponential(1)
  return formatNumber(p, 3)
}
