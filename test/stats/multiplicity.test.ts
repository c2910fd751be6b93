import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isAssayError } from '../../src/errors.js'
import { adjustPValues, type PValueAdjustment } from '../../src/stats/multiplicity.js'
import { assertClose } from './assert-close.js'
import { R } from './part-b-fixtures.js'

// Reference: R 4.2 p.adjust(p, method) (scripts/fixtures/stats-part-b.R); assay follows R's algorithm step by step,
// so the values agree to the last bit in practice (tested at 1e-15 relative).
describe('adjustPValues against R p.adjust', () => {
  for (const c of R.pAdjust) {
    it(c.call, () => {
      const r = adjustPValues(c.p, c.method)
      assert.equal(r.adjustment, c.method)
      assert.equal(r.n, c.p.length)
      c.adjusted.forEach((v: number, i: number) => assertClose(r.adjusted[i], v, 1e-15, `[${i}]`))
    })
  }
})

describe('adjustPValues edge cases', () => {
  const methods: PValueAdjustment[] = ['bonferroni', 'holm', 'hochberg', 'BH', 'BY']
  it('p-values of 0 and 1 stay in [0, 1] (R: p.adjust(c(0, 1, 0, 1), m))', () => {
    for (const m of methods) {
      const r = adjustPValues([0, 1, 0, 1], m)
      assert.deepEqual([r.adjusted[0], r.adjusted[2]], [0, 0])
      assert.deepEqual([r.adjusted[1], r.adjusted[3]], [1, 1])
    }
  })
  it('a single p-value is returned unchanged', () => {
    for (const m of methods) assert.deepEqual(adjustPValues([0.03], m).adjusted, [0.03])
  })
  it('ties are adjusted equally', () => {
    for (const m of methods) {
      const r = adjustPValues([0.02, 0.01, 0.02], m)
      assert.equal(r.adjusted[0], r.adjusted[2])
    }
  })
  it('rejects empty lists, values outside [0, 1], NaN and unknown methods', () => {
    assert.throws(() => adjustPValues([], 'holm'), (e) => isAssayError(e, 'ASSAY_STATS_EMPTY_INPUT'))
    assert.throws(() => adjustPValues([0.5, 1.2], 'holm'), (e) => isAssayError(e, 'ASSAY_INVALID_ARGUMENT'))
    assert.throws(() => adjustPValues([-0.1], 'BH'), (e) => isAssayError(e, 'ASSAY_INVALID_ARGUMENT'))
    assert.throws(() => adjustPValues([NaN], 'BH'), (e) => isAssayError(e, 'ASSAY_INVALID_ARGUMENT'))
    assert.throws(() => adjustPValues([0.1], 'fdr' as never), (e) => isAssayError(e, 'ASSAY_STATS_INVALID_OPTION'))
  })
})

describe('adjustPValues properties', () => {
  const pList = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 30 })
  it('adjusted >= raw, within [0, 1]; BH <= Holm <= Bonferroni; Hochberg <= Holm; BH <= BY', () => {
    fc.assert(
      fc.property(pList, (p) => {
        const get = (m: PValueAdjustment) => adjustPValues(p, m).adjusted
        const bonf = get('bonferroni')
        const holm = get('holm')
        const hoch = get('hochberg')
        const bh = get('BH')
        const by = get('BY')
        for (let i = 0; i < p.length; i++) {
          for (const adj of [bonf, holm, hoch, bh, by]) {
            assert.ok(adj[i] >= p[i] && adj[i] <= 1)
          }
          assert.ok(bh[i] <= holm[i] * (1 + 1e-15))
          assert.ok(holm[i] <= bonf[i] * (1 + 1e-15))
          assert.ok(hoch[i] <= holm[i] * (1 + 1e-15))
          assert.ok(bh[i] <= by[i] * (1 + 1e-15))
        }
      }),
      { numRuns: 200 },
    )
  })
})
