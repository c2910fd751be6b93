import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { formatNumber, formatPValue } from '../../src/number-format.js'
import { ASSAY_VERSION } from '../../src/version.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(repo, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = `${dir}/${entry.name}`
    if (entry.isDirectory()) return filesUnder(file)
    return file.endsWith('.ts') ? [file] : []
  })
}

/** The files under `dir` whose text matches `pattern`, except `allowed`. */
function filesMatching(dir: string, pattern: RegExp, allowed: readonly string[]): string[] {
  return filesUnder(dir).filter((file) => !allowed.includes(file) && pattern.test(readFileSync(path.join(repo, file), 'utf8')))
}

describe('one definition of each shared rule', () => {
  it('reads the version from package.json once (src/version.ts)', () => {
    assert.equal(ASSAY_VERSION, JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).version)
    assert.deepEqual(filesMatching('src', /ASSAY_VERSION\s*=|createRequire\(import\.meta\.url\)\(['"][./]*package\.json/, ['src/version.ts']), [])
  })

  it('writes numbers for people in one place (src/number-format.ts)', () => {
    // stats/ imports only the error catalogue; compare.ts rounds alpha to a clean value, it does not write it.
    const allowed = ['src/number-format.ts', 'src/stats/paired-decision.ts', 'src/compare/compare.ts']
    assert.deepEqual(filesMatching('src', /\.toPrecision\(|\.toExponential\(/, allowed), [])
    assert.deepEqual(filesMatching('src', /function (fmt|fmtP|num|format(?!Time)[A-Z]\w*)\(\s*\w+: number/, ['src/number-format.ts']), [])
  })

  it('runs the CLI in process through test/cli/run-cli.ts only', () => {
    const callsMain = /\bmain\(\s*\[\s*'node'/
    assert.deepEqual(filesMatching('test', callsMain, ['test/cli/run-cli.ts']), [])
  })
})

describe('formatNumber and formatPValue', () => {
  it('drops trailing zeros, keeps integers whole and names what is not finite', () => {
    assert.equal(formatNumber(0.5), '0.5')
    assert.equal(formatNumber(0.123456), '0.1235')
    assert.equal(formatNumber(0.123456, 3), '0.123')
    assert.equal(formatNumber(1234567), '1234567')
    assert.equal(formatNumber(1234567.5), '1.235e+6')
    assert.equal(formatNumber(-0.00001234), '-1.234e-5')
    assert.equal(formatNumber(Number.NaN), 'NaN')
    assert.equal(formatNumber(-Infinity), '-Infinity')
    assert.equal(formatNumber(null), '-')
    assert.equal(formatNumber(undefined), '-')
  })

  it('writes p-values with three significant digits and small ones in exponent form', () => {
    assert.equal(formatPValue(0.05), '0.05')
    assert.equal(formatPValue(0.012345), '0.0123')
    assert.equal(formatPValue(3.2e-7), '3.2e-7')
    assert.equal(formatPValue(0), '0')
    assert.equal(formatPValue(1), '1')
  })
})
