import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { unzipSync } from 'fflate'
import { isAssayError } from '../../src/errors.js'
import { Assay } from '../../src/sdk/assay.js'
import type { ImportResult } from '../../src/sdk/import-results.js'
import { importResults } from '../../src/sdk/import-results.js'
import type { Store } from '../../src/store/store.js'
import { runCliOn } from '../cli/run-cli.js'
import { STORE_BACKENDS, tempDir } from '../store/backends.js'

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures')
const PROMPTFOO = path.join(fixtures, 'promptfoo-results.json')
const LM_GPT4O = path.join(fixtures, 'lm-eval/gpt-4o')
const LM_LLAMA = path.join(fixtures, 'lm-eval/llama3.1-pro16/results_2024-12-23T14-25-02.822078.json')
const INSPECT_EPOCHS = path.join(fixtures, 'inspect/log_streaming.eval')
const INSPECT_EVAL = path.join(fixtures, 'inspect/popularity.eval')
const INSPECT_JSON = path.join(fixtures, 'inspect/popularity.json')

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex')
const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / values.length

/** A fresh embedded store per test, opened through the SDK. */
async function withStore<T>(body: (assay: Assay, dir: string) => Promise<T>): Promise<T> {
  const { dir, cleanup } = tempDir('assay-import-')
  const assay = await Assay.open({ store: path.join(dir, 'store') })
  try {
    return await body(assay, dir)
  } finally {
    await assay.close()
    cleanup()
  }
}

async function expectInvalid(promise: Promise<unknown>, where: RegExp): Promise<Record<string, unknown>> {
  try {
    await promise
  } catch (error) {
    assert.ok(isAssayError(error, 'ASSAY_IMPORT_INVALID'), `expected ASSAY_IMPORT_INVALID, got ${String(error)}`)
    assert.match(error.message, where)
    assert.match(error.message, /nothing was imported/)
    return error.details ?? {}
  }
  assert.fail('the import was accepted')
}

describe('promptfoo', () => {
  it('makes one run per prompt × provider with records keyed by the vars, scores, tokens and cost', async () => {
    await withStore(async (assay) => {
      const result = await assay.importResults('promptfoo', PROMPTFOO)
      assert.equal(result.existing, false)
      assert.equal(result.tool.name, 'promptfoo')
      assert.equal(result.tool.version, '0.121.20')
      assert.deepEqual(result.files, [{ name: 'promptfoo-results.json', sha256: sha256(PROMPTFOO), sizeBytes: readFileSync(PROMPTFOO).length }])
      const byProvider = new Map(result.runs.map((r) => [r.name.split(' ')[0], r]))
      const echo = byProvider.get('echo')
      const adder = byProvider.get('adder')
      assert.ok(echo !== undefined && adder !== undefined)
      assert.equal(echo.records, 24)
      // adder errored on 7 + 7: left out under the default rule, and counted.
      assert.deepEqual([adder.records, adder.errored, adder.excluded], [23, 1, 1])
      assert.equal(echo.datasetSha256, adder.datasetSha256)

      const run = await assay.getRun(adder.id)
      assert.equal(run.status, 'finished')
      assert.equal(run.params.provider, 'adder')
      assert.equal(run.tags['assay.import.errors'], 'exclude')
      assert.equal(run.tags['assay.import.errored'], '1')
      assert.equal(run.tags['assay.import.sha256'], sha256(PROMPTFOO))
      assert.equal(run.tags['assay.import.tool'], 'promptfoo 0.121.20')
      assert.equal(run.tags['assay.import.seed'], 'none recorded by promptfoo; 0 stands in')
      assert.equal(run.datasets[0]?.rows, 24)
      assert.match(run.datasets[0]?.source ?? '', /computed by assay/)
      const records = await assay.evalRecords(adder.id, run.datasets[0]?.name ?? '')
      const key = JSON.stringify({ a: 8, b: 9, guess: 17, sum: 17 })
      const wrong = records.find((r) => r.id === key)
      assert.ok(wrong !== undefined, 'the record of 8 + 9 is keyed by its vars')
      // The adder answers 18 for 8 + 9: accuracy 0, closeness 1 / (1 + 1), overall score their mean.
      assert.deepEqual(wrong.scores, { score: 0.25, pass: 0, accuracy: 0, closeness: 0.5 })
      assert.equal(wrong.tokens, 12)
      assert.ok(Math.abs((wrong.cost ?? 0) - 0.0018) < 1e-12)
      assert.equal(records.some((r) => r.id === JSON.stringify({ a: 7, b: 7, guess: 14, sum: 14 })), false)

      // The file's own per-provider pass counts.
      const file = JSON.parse(readFileSync(PROMPTFOO, 'utf8')) as { results: { prompts: { provider: string; metrics: { testPassCount: number } }[] } }
      for (const prompt of file.results.prompts) {
        const imported = await assay.evalRecords(byProvider.get(prompt.provider)?.id ?? '', run.datasets[0]?.name ?? '')
        assert.equal(imported.filter((r) => r.scores.pass === 1).length, prompt.metrics.testPassCount)
      }
    })
  })

  it('scores errored samples 0 under --errors zero, still counted', async () => {
    await withStore(async (assay) => {
      const result = await assay.importResults('promptfoo', PROMPTFOO, { errors: 'zero' })
      const adder = result.runs.find((r) => r.name.startsWith('adder'))
      assert.ok(adder !== undefined)
      assert.deepEqual([adder.records, adder.errored, adder.excluded], [24, 1, 0])
      const run = await assay.getRun(adder.id)
      const records = await assay.evalRecords(adder.id, run.datasets[0]?.name ?? '')
      const errored = records.find((r) => r.id === JSON.stringify({ a: 7, b: 7, guess: 14, sum: 14 }))
      assert.deepEqual(errored?.scores, { score: 0, pass: 0, accuracy: 0, closeness: 0 })
      assert.equal(run.tags['assay.import.errors'], 'zero')
    })
  })

  it('pairs the two providers of one file directly in assay compare', async () => {
    await withStore(async (assay, dir) => {
      const { runs } = await assay.importResults('promptfoo', PROMPTFOO)
      const [adder, echo] = [runs.find((r) => r.name.startsWith('adder')), runs.find((r) => r.name.startsWith('echo'))]
      await assay.close()
      const out = await runCliOn(path.join(dir, 'store'), 'compare', adder?.id ?? '', echo?.id ?? '', '--metric', 'accuracy', '--json')
      assert.equal(out.code, 0, out.err)
      const comparison = JSON.parse(out.out) as { sampleSizes: { pairs: number; lostB: number }; paired: boolean; a: { mean: number }; b: { mean: number } }
      assert.equal(comparison.sampleSizes.pairs, 23)
      assert.equal(comparison.sampleSizes.lostB, 1)
      assert.ok(Math.abs(comparison.a.mean - 19 / 23) < 1e-12)
    })
  })
})

describe('lm-evaluation-harness', () => {
  it('makes one run per model and task from a results file and its samples, with the harness hashes and params', async () => {
    await withStore(async (assay) => {
      const result = await assay.importResults('lm-eval', LM_GPT4O)
      assert.equal(result.runs.length, 1)
      assert.equal(result.tool.version, 'git 6653bd23')
      assert.deepEqual(result.files.map((f) => f.name).sort(), ['results_2024-12-23T14-29-31.806745.json', 'samples_winogrande_2024-12-23T14-29-31.806745.jsonl'])
      const [imported] = result.runs
      const run = await assay.getRun(imported?.id ?? '')
      assert.equal(run.experiment, 'lm-eval')
      assert.equal(run.name, 'gpt-4o winogrande')
      assert.deepEqual(
        { model: run.params.model, model_args: run.params.model_args, task: run.params.task, filter: run.params.filter, nShot: run.params['n-shot'], limit: run.params.limit, git: run.params.git_hash },
        { model: 'openai-chat-completions', model_args: 'model=gpt-4o', task: 'winogrande', filter: 'get-answer', nShot: 0, limit: 10, git: '6653bd23' },
      )
      assert.equal(run.seed, 0)
      assert.equal(run.tags['assay.import.seed'], undefined)
      assert.equal(run.tags['lm-eval.task_hash'], '5f04a81ebfde533cb38689b25e675cfa3ea122f0878a3f51fc77f79659760949')
      assert.equal(run.datasets[0]?.role, 'validation')
      // The harness's `date` and total_evaluation_time_seconds, not the time of the import.
      assert.deepEqual([run.startTime, run.endTime], [Math.round(1734931741.653538 * 1000), Math.round(1734931741.653538 * 1000) + Math.round(36.197886385023594 * 1000)])
      const records = await assay.evalRecords(run.id, 'winogrande')
      assert.equal(records.length, 10)
      assert.match(records[0]?.id ?? '', /^0:[0-9a-f]{12}$/)
      // The harness's own aggregate of the same samples.
      const summary = JSON.parse(readFileSync(path.join(LM_GPT4O, 'results_2024-12-23T14-29-31.806745.json'), 'utf8')) as { results: { winogrande: Record<string, number> } }
      assert.equal(mean(records.map((r) => r.scores.exact_match ?? NaN)), summary.results.winogrande['exact_match,get-answer'])
    })
  })

  it('gives two models the same dataset version (doc and target hashes, not the prompts) and compares them end to end', async () => {
    await withStore(async (assay, dir) => {
      const store = path.join(dir, 'store')
      await assay.close()
      const first = await runCliOn(store, 'import', 'lm-eval', LM_LLAMA, '--json')
      const second = await runCliOn(store, 'import', 'lm-eval', LM_GPT4O, '--experiment', 'lm-eval', '--json')
      assert.equal(first.code, 0, first.err)
      assert.equal(second.code, 0, second.err)
      const [a, b] = [JSON.parse(first.out) as ImportResult, JSON.parse(second.out) as ImportResult]
      assert.equal(a.runs[0]?.datasetSha256, b.runs[0]?.datasetSha256)
      const out = await runCliOn(store, 'compare', a.runs[0]?.id ?? '', b.runs[0]?.id ?? '', '--metric', 'exact_match', '--json')
      assert.equal(out.code, 0, out.err)
      const comparison = JSON.parse(out.out) as { sampleSizes: { pairs: number }; a: { mean: number }; b: { mean: number }; method: { name: string } }
      assert.equal(comparison.sampleSizes.pairs, 10)
      assert.deepEqual([comparison.a.mean, comparison.b.mean], [0.7, 0.3])
      const text = await runCliOn(store, 'compare', a.runs[0]?.id ?? '', b.runs[0]?.id ?? '', '--metric', 'exact_match')
      assert.match(text.out, /10 pairs/)
      assert.match(text.out, /McNemar/)
    })
  })

  it('refuses a results file without its samples, and a samples line without doc_id, naming the line', async () => {
    await withStore(async (assay, dir) => {
      const lonely = path.join(dir, 'lonely')
      mkdirSync(lonely)
      copyFileSync(LM_LLAMA, path.join(lonely, path.basename(LM_LLAMA)))
      await expectInvalid(assay.importResults('lm-eval', lonely), /--log_samples/)

      const broken = path.join(dir, 'broken')
      mkdirSync(broken)
      for (const name of readdirSync(LM_GPT4O)) copyFileSync(path.join(LM_GPT4O, name), path.join(broken, name))
      const samples = path.join(broken, 'samples_winogrande_2024-12-23T14-29-31.806745.jsonl')
      const lines = readFileSync(samples, 'utf8').split('\n')
      const third = JSON.parse(lines[2] as string) as Record<string, unknown>
      delete third.doc_id
      lines[2] = JSON.stringify(third)
      writeFileSync(samples, lines.join('\n'))
      const details = await expectInvalid(assay.importResults('lm-eval', broken), /line 3: field doc_id: must be a non-negative integer/)
      assert.equal(details.field, 'doc_id')

      lines[2] = (lines[2] as string).slice(0, 40)
      writeFileSync(samples, lines.join('\n'))
      const truncated = await expectInvalid(assay.importResults('lm-eval', broken), /line 3, column \d+: the JSON ends early/)
      assert.equal(truncated.line, 3)
      assert.deepEqual(await assay.listRuns(), [])
    })
  })
})

describe('Inspect AI', () => {
  it('reads an .eval zip log and reduces epochs with the mean, as the log itself reduced them', async () => {
    await withStore(async (assay) => {
      const result = await assay.importResults('inspect', INSPECT_EPOCHS)
      const run = await assay.getRun(result.runs[0]?.id ?? '')
      assert.equal(run.params.epochs, 2)
      assert.equal(run.params.epochs_reducer, 'mean')
      assert.equal(run.tags['assay.import.epochs-reducer'], 'mean')
      assert.match(result.tool.version ?? '', /^0\.3\./)
      const records = await assay.evalRecords(run.id, run.datasets[0]?.name ?? '')
      const zip = unzipSync(readFileSync(INSPECT_EPOCHS))
      const reductions = JSON.parse(Buffer.from(zip['reductions.json'] as Uint8Array).toString('utf8')) as { scorer: string; samples: { value: number; sample_id: number }[] }[]
      const expected = Object.fromEntries((reductions[0]?.samples ?? []).map((s) => [String(s.sample_id), s.value]))
      assert.deepEqual(Object.fromEntries(records.map((r) => [r.id, r.scores.match])), expected)
      // Tokens are the model_usage totals averaged over the epochs (this older log has no total_time).
      assert.ok(records.every((r) => typeof r.tokens === 'number' && r.tokens > 0 && r.latencyMs === undefined))
    })
  })

  it('takes max under --epochs-reducer max, and is another import', async () => {
    await withStore(async (assay) => {
      const meanImport = await assay.importResults('inspect', INSPECT_EPOCHS)
      const maxImport = await assay.importResults('inspect', INSPECT_EPOCHS, { epochsReducer: 'max' })
      assert.notEqual(maxImport.key, meanImport.key)
      assert.equal(maxImport.existing, false)
      const records = await assay.evalRecords(maxImport.runs[0]?.id ?? '', maxImport.runs[0]?.dataset ?? '')
      assert.deepEqual(Object.fromEntries(records.map((r) => [r.id, r.scores.match])), { '1': 1, '2': 1 })
    })
  })

  it('reduces with mode as Counter.most_common does: the first epoch among equal counts', async () => {
    await withStore(async (assay) => {
      const zip = unzipSync(readFileSync(INSPECT_EPOCHS))
      const firstEpoch: Record<string, number> = {}
      for (const [name, data] of Object.entries(zip)) {
        const match = /^samples\/(.+)_epoch_1\.json$/.exec(name)
        if (match === null) continue
        const sample = JSON.parse(Buffer.from(data).toString('utf8')) as { scores: { match: { value: string } } }
        firstEpoch[match[1] as string] = sample.scores.match.value === 'C' ? 1 : 0
      }
      const result = await assay.importResults('inspect', INSPECT_EPOCHS, { epochsReducer: 'mode' })
      const records = await assay.evalRecords(result.runs[0]?.id ?? '', result.runs[0]?.dataset ?? '')
      // Sample 1 has one correct and one incorrect epoch (its mean is 0.5): mode takes epoch 1's.
      assert.deepEqual(Object.fromEntries(records.map((r) => [r.id, r.scores.match])), firstEpoch)
    })
  })

  it('reads .json and .eval logs; scores C/I as Inspect does and agree with the log accuracy', async () => {
    await withStore(async (assay) => {
      for (const file of [INSPECT_EVAL, INSPECT_JSON]) {
        const result = await assay.importResults('inspect', file)
        const records = await assay.evalRecords(result.runs[0]?.id ?? '', result.runs[0]?.dataset ?? '')
        const log = file.endsWith('.json')
          ? (JSON.parse(readFileSync(file, 'utf8')) as { results: { scores: { metrics: { accuracy: { value: number } } }[] } })
          : (JSON.parse(Buffer.from(unzipSync(readFileSync(file))['header.json'] as Uint8Array).toString('utf8')) as { results: { scores: { metrics: { accuracy: { value: number } } }[] } })
        assert.ok(Math.abs(mean(records.map((r) => r.scores.match ?? NaN)) - (log.results.scores[0]?.metrics.accuracy.value ?? NaN)) < 1e-12, file)
      }
    })
  })

  it('excludes an errored sample and counts it, or scores it 0', async () => {
    await withStore(async (assay, dir) => {
      const log = JSON.parse(readFileSync(INSPECT_JSON, 'utf8')) as { samples: Record<string, unknown>[] }
      ;(log.samples[1] as Record<string, unknown>).error = { message: 'RuntimeError: the model timed out', traceback: '' }
      const file = path.join(dir, 'errored.json')
      writeFileSync(file, JSON.stringify(log))
      const excluded = await assay.importResults('inspect', file)
      assert.deepEqual([excluded.runs[0]?.records, excluded.runs[0]?.errored, excluded.runs[0]?.excluded], [2, 1, 1])
      const zero = await assay.importResults('inspect', file, { errors: 'zero' })
      assert.deepEqual([zero.runs[0]?.records, zero.runs[0]?.errored, zero.runs[0]?.excluded], [3, 1, 0])
      const records = await assay.evalRecords(zero.runs[0]?.id ?? '', zero.runs[0]?.dataset ?? '')
      assert.equal(records.find((r) => r.id === '2')?.scores.match, 0)
      assert.equal((await assay.getRun(excluded.runs[0]?.id ?? '')).tags['assay.import.excluded'], '1')
    })
  })

  it('refuses a damaged .eval zip and a score Inspect cannot convert, naming the entry and field', async () => {
    await withStore(async (assay, dir) => {
      const cut = path.join(dir, 'cut.eval')
      const bytes = readFileSync(INSPECT_EVAL)
      writeFileSync(cut, bytes.subarray(0, bytes.length - 200))
      await expectInvalid(assay.importResults('inspect', cut), /zip/)
      const log = JSON.parse(readFileSync(INSPECT_JSON, 'utf8')) as { samples: { scores: Record<string, { value: unknown }> }[] }
      ;(log.samples[0]?.scores.match as { value: unknown }).value = 'maybe'
      const odd = path.join(dir, 'odd.json')
      writeFileSync(odd, JSON.stringify(log))
      const details = await expectInvalid(assay.importResults('inspect', odd), /field samples\[0\]\.scores\.match\.value/)
      assert.equal(details.field, 'samples[0].scores.match.value')
      assert.deepEqual(await assay.listRuns(), [])
    })
  })
})

describe('every format', () => {
  it('is idempotent: the same file with the same rules returns the first runs and writes nothing', async () => {
    await withStore(async (assay) => {
      for (const [format, file] of [['promptfoo', PROMPTFOO], ['lm-eval', LM_GPT4O], ['inspect', INSPECT_EVAL]] as const) {
        const first = await assay.importResults(format, file)
        const before = (await assay.listRuns()).length
        const again = await assay.importResults(format, file)
        assert.equal(again.existing, true, format)
        assert.deepEqual(again.runs.map((r) => r.id), first.runs.map((r) => r.id), format)
        assert.equal((await assay.listRuns()).length, before, format)
      }
    })
  })

  it('refuses truncated JSON, wrong types and missing fields with the line or field, and stores nothing', async () => {
    await withStore(async (assay, dir) => {
      const text = readFileSync(PROMPTFOO, 'utf8')
      const truncated = path.join(dir, 'truncated.json')
      writeFileSync(truncated, text.slice(0, Math.floor(text.length / 2)))
      const cut = await expectInvalid(assay.importResults('promptfoo', truncated), /line \d+, column \d+: the JSON ends early/)
      assert.equal(typeof cut.line, 'number')

      const doc = JSON.parse(text) as { results: { results: Record<string, unknown>[] } }
      const wrongType = structuredClone(doc)
      ;(wrongType.results.results[5] as Record<string, unknown>).score = '1'
      const typed = path.join(dir, 'typed.json')
      writeFileSync(typed, JSON.stringify(wrongType))
      await expectInvalid(assay.importResults('promptfoo', typed), /field results\.results\[5\]\.score: must be a finite number, got "1"/)

      const missing = structuredClone(doc) as { results: Record<string, unknown> }
      delete missing.results.results
      const gone = path.join(dir, 'missing.json')
      writeFileSync(gone, JSON.stringify(missing))
      await expectInvalid(assay.importResults('promptfoo', gone), /field results\.results: must be an array, got undefined/)

      const cli = await runCliOn(path.join(dir, 'store'), 'import', 'promptfoo', truncated, '--json')
      assert.equal(cli.code, 2)
      assert.equal((JSON.parse(cli.err) as { error: { code: string } }).error.code, 'ASSAY_IMPORT_INVALID')
      assert.deepEqual(await assay.listRuns(), [])
      assert.deepEqual(await assay.listExperiments(), [])
    })
  })

  it('leaves no finished run behind when a store write fails mid-way, so a retry imports afresh', async () => {
    await withStore(async (assay) => {
      let createdRuns = 0
      const failing = new Proxy(assay.store, {
        get(target, property, receiver) {
          if (property === 'createRun') {
            return async (...args: Parameters<Store['createRun']>) => {
              if (++createdRuns === 2) throw new Error('disk unplugged')
              return target.createRun(...args)
            }
          }
          const value = Reflect.get(target, property, receiver) as unknown
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
        },
      })
      await assert.rejects(importResults(failing, 'promptfoo', PROMPTFOO, {}, 'tester'), /disk unplugged/)
      const left = await assay.listRuns()
      assert.deepEqual(left.map((r) => r.status), ['failed'])
      const retry = await assay.importResults('promptfoo', PROMPTFOO)
      assert.equal(retry.existing, false)
      assert.equal((await assay.listRuns()).filter((r) => r.status === 'finished').length, 2)
    })
  })

  it('refuses an unknown format and rule as arguments', async () => {
    await withStore(async (assay) => {
      await assert.rejects(assay.importResults('mlflow', PROMPTFOO), (e: unknown) => isAssayError(e, 'ASSAY_INVALID_ARGUMENT') && /lm-eval, promptfoo, inspect/.test(e.message))
      await assert.rejects(assay.importResults('promptfoo', PROMPTFOO, { errors: 'ignore' as 'zero' }), (e: unknown) => isAssayError(e, 'ASSAY_INVALID_ARGUMENT'))
    })
  })
})


describe('on every store backend', () => {
  for (const backend of STORE_BACKENDS) {
    it(`imports, finds the import again and pairs it (${backend.name})`, { skip: backend.skip }, async () => {
      const opened = await backend.open()
      try {
        const first = await importResults(opened.store, 'lm-eval', LM_LLAMA, {}, 'tester')
        const second = await importResults(opened.store, 'lm-eval', LM_GPT4O, {}, 'tester')
        const again = await importResults(opened.store, 'lm-eval', LM_LLAMA, {}, 'tester')
        assert.equal(again.existing, true)
        assert.deepEqual(again.runs.map((r) => r.id), first.runs.map((r) => r.id))
        assert.equal((await opened.store.listRuns({ experiment: 'lm-eval' })).length, 2)
        const columns = await opened.store.evalColumns(second.runs[0]?.id ?? '', 'winogrande')
        assert.equal(columns.ids.length, 10)
        assert.equal(columns.datasetSha256, first.runs[0]?.datasetSha256)
        assert.deepEqual(Array.from(columns.scores.exact_match ?? []), [0, 1, 0, 0, 0, 1, 1, 0, 0, 0])
      } finally {
        await opened.dispose()
      }
    })
  }
})
