/** The MLflow mapping's pure parts: experiment ids, filters and orders (docs/mlflow.md). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { AssayError, errorCatalogue, isAssayError } from '../../src/errors.js'
import { experimentId, experimentName } from '../../src/server/mlflow/experiment-ids.js'
import { mlflowError } from '../../src/server/mlflow/mlflow-errors.js'
import { assayFilter, assayOrder } from '../../src/server/mlflow/search-filter.js'

test('an experiment id is decimal and gives its name back; 0 is Default', () => {
  assert.equal(experimentId('Default'), '0')
  assert.equal(experimentName('0'), 'Default')
  assert.equal(experimentName(0), 'Default')
  for (const name of ['mnist', 'a', 'Überexperiment 🚀', 'team/vision:v2']) {
    const id = experimentId(name)
    assert.match(id, /^[1-9][0-9]*$/)
    assert.equal(experimentName(id), name)
  }
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme' }).filter((s) => s.trim() === s && ![...s].some((c) => (c.codePointAt(0) ?? 0) < 0x20 || ((c.codePointAt(0) ?? 0) >= 0x7f && (c.codePointAt(0) ?? 0) <= 0x9f))), (name) => {
      assert.equal(experimentName(experimentId(name)), name)
    }),
  )
})

test('an id that is not an experiment is RESOURCE_DOES_NOT_EXIST, not a crash', () => {
  for (const id of ['', 'abc', '-1', '007', '1.5', '1'.repeat(3000), '255', null, {}]) {
    assert.throws(() => experimentName(id), (e: unknown) => isAssayError(e, 'ASSAY_EXPERIMENT_NOT_FOUND'), String(id))
  }
})

test('MLflow filters become assay filters', () => {
  assert.equal(assayFilter(undefined), undefined)
  assert.equal(assayFilter('  '), undefined)
  assert.equal(assayFilter("metrics.acc > 0.9 and params.lr = '0.01'"), "metrics.`acc` > 0.9 and params.`lr` = '0.01'")
  assert.equal(assayFilter('tags."mlflow.runName" = "owl"'), "name = 'owl'")
  assert.equal(assayFilter("attributes.status = 'FINISHED' AND tags.`my key` != 'x'"), "status = 'finished' and tags.`my key` != 'x'")
  assert.equal(assayFilter("params.opt IN ('adam', 'sgd')"), "(params.`opt` = 'adam' or params.`opt` = 'sgd')")
  assert.equal(assayFilter("params.opt NOT IN ('adam')"), "params.`opt` != 'adam'")
  assert.equal(assayFilter("tags.stage LIKE '%prod%'"), "tags.`stage` ~ 'prod'")
  assert.equal(assayFilter("metric.loss <= -1e-3"), 'metrics.`loss` <= -1e-3')
  assert.equal(assayFilter("params.q = 'it\\'s'"), "params.`q` = 'it\\'s'")
  for (const bad of ["params.a ILIKE '%x%'", "params.a LIKE 'x%'", "params.a = 1 or params.b = 2", 'attributes.start_time > 5', "datasets.name = 'x'", 'metrics.a >', "params.a = 'open"]) {
    assert.throws(() => assayFilter(bad), (e: unknown) => isAssayError(e, 'ASSAY_INVALID_FILTER'), bad)
  }
})

test('MLflow orders become assay orders (one key)', () => {
  assert.equal(assayOrder(undefined), undefined)
  assert.equal(assayOrder(['metrics.acc DESC']), 'metrics.`acc` desc')
  assert.equal(assayOrder(['attributes.start_time']), 'start_time asc')
  assert.equal(assayOrder(['run_name ASC']), 'name asc')
  assert.throws(() => assayOrder(['metrics.a', 'metrics.b']), (e: unknown) => isAssayError(e, 'ASSAY_INVALID_ARGUMENT'))
  assert.throws(() => assayOrder(['tags.x']), (e: unknown) => isAssayError(e, 'ASSAY_INVALID_ARGUMENT'))
})

test('every catalogue code has an MLflow code; only what a retry can cure is 429 or 5xx', () => {
  const retried = new Set(['ASSAY_STORE_BUSY', 'ASSAY_STORE_FULL', 'ASSAY_STORE_UNAVAILABLE', 'ASSAY_INTERNAL', 'ASSAY_ARTIFACT_CORRUPT', 'ASSAY_STORE_SCHEMA_TOO_NEW', 'ASSAY_STORE_MALFORMED_RESPONSE'])
  for (const code of Object.keys(errorCatalogue) as (keyof typeof errorCatalogue)[]) {
    const { status, body } = mlflowError(new AssayError(code, 'x'))
    assert.equal(body.assay_code, code)
    assert.match(body.error_code, /^[A-Z_]+$/)
    assert.equal(status >= 500 || status === 429, retried.has(code), `${code} → ${status}`)
  }
})
