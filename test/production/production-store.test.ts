/**
 * The production part of the store contract (deployments, traces, feedback), run against every
 * backend: SQLite, PostgreSQL and HTTP through `assay server`.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import type { Store } from '../../src/store/store.js'
import { STORE_BACKENDS, type OpenedStore } from '../store/backends.js'
import { newRun, rejectsWith } from '../store/fixtures.js'
import { auditHash, GENESIS_HASH } from '../../src/audit/audit-hash.js'
import { hex, llmTrace, newDeployment, span } from './helpers.js'

for (const backend of STORE_BACKENDS) {
  if (backend.skip !== undefined) test(`production store: ${backend.name}`, { skip: backend.skip }, () => {})
  describe(`production store: ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStore
    let store: Store
    beforeEach(async () => {
      opened = await backend.open()
      store = opened.store
    })
    afterEach(async () => {
      await opened.dispose()
    })

    test('a deployment through an alias records the version it resolved to, its experiment, and no audit gaps', async () => {
      const run = newRun()
      await store.createRun(run)
      await store.createModel({ name: 'qa', owner: 'alice', description: '', tags: {}, createdAt: 1, createdBy: 'alice' })
      await store.addModelVersion({ model: 'qa', runId: run.id, artifact: null, description: '', tags: {}, createdAt: 2, createdBy: 'alice' })
      await store.addModelVersion({ model: 'qa', runId: run.id, artifact: null, description: '', tags: {}, createdAt: 3, createdBy: 'alice' })
      const content = { seq: 1, at: 10, kind: 'alias-set' as const, actor: 'alice', subject: 'qa@champion', body: {}, prevHash: GENESIS_HASH }
      await store.moveAlias({ ...content, hash: auditHash(content) }, { model: 'qa', alias: 'champion', kind: 'set', version: 2, previousVersion: null, actor: 'alice', at: 10, reason: 'r' })
      const d = await store.createDeployment(newDeployment({ model: 'qa', alias: 'champion' }))
      assert.equal(d.modelVersion, 2)
      assert.equal(d.alias, 'champion')
      assert.equal(d.experiment, run.experiment)
      assert.deepEqual(d.unauditable, [])
      assert.deepEqual(await store.getDeployment(d.id), d)
      assert.deepEqual(await store.createDeployment(newDeployment({ id: d.id, model: 'qa', alias: 'champion' })), d, 'a replayed create returns the stored deployment')
      await rejectsWith(store.createDeployment(newDeployment({ model: 'qa', alias: 'nobody' })), 'ASSAY_ALIAS_NOT_FOUND')
      await rejectsWith(store.createDeployment(newDeployment({ model: 'qa', modelVersion: 9 })), 'ASSAY_MODEL_NOT_FOUND')
      await rejectsWith(store.createDeployment(newDeployment({ model: 'nope', modelVersion: 1 })), 'ASSAY_MODEL_NOT_FOUND')
      await rejectsWith(store.getDeployment(hex(16)), 'ASSAY_DEPLOYMENT_NOT_FOUND')
    })

    test('a trace refused for naming a deployment the store lacks is stored once that deployment exists (a known deployment is remembered, an unknown one is not)', async () => {
      const known = await store.createDeployment(newDeployment({}))
      assert.deepEqual((await store.logTraces([llmTrace(known.id)])).rejected, [])
      const laterId = hex(16)
      const early = llmTrace(laterId)
      const refused = await store.logTraces([early, llmTrace(known.id)])
      assert.deepEqual(refused.rejected.map((r) => [r.traceId, r.code]), [[early.traceId, 'ASSAY_UNKNOWN_DEPLOYMENT']])
      assert.equal(refused.stored.length, 1, 'the trace of the remembered deployment is stored beside it')
      await store.createDeployment(newDeployment({ id: laterId }))
      assert.deepEqual(await store.logTraces([early]), { stored: [early.traceId], unchanged: [], rejected: [] })
      assert.equal((await store.getTrace(early.traceId)).deploymentId, laterId)
    })

    test('a deployment missing model version, code hash, inputs and owner is stored and flagged unauditable', async () => {
      const d = await store.createDeployment(newDeployment({ codeHash: null, inputs: [], owner: null }))
      assert.deepEqual(d.unauditable, ['modelVersion', 'codeHash', 'inputs', 'owner'])
      assert.deepEqual((await store.getDeployment(d.id)).unauditable, d.unauditable)
    })

    test('deployments page in time order, by endpoint and by the dataset version that fed them', async () => {
      const a = await store.createDeployment(newDeployment({ createdAt: 1 }))
      const b = await store.createDeployment(newDeployment({ createdAt: 2, endpoint: 'search', inputs: [] }))
      const c = await store.createDeployment(newDeployment({ createdAt: 3 }))
      const first = await store.listDeploymentsPage({ limit: 2 })
      assert.deepEqual(first.deployments.map((d) => d.id), [a.id, b.id])
      const second = await store.listDeploymentsPage({ limit: 2, cursor: first.nextCursor ?? undefined })
      assert.deepEqual(second.deployments.map((d) => d.id), [c.id])
      assert.equal(second.nextCursor, null)
      assert.deepEqual((await store.listDeploymentsPage({ limit: 10, endpoint: 'search' })).deployments.map((d) => d.id), [b.id])
      assert.deepEqual((await store.listDeploymentsPage({ limit: 10, input: 'f'.repeat(64) })).deployments.map((d) => d.id), [a.id, c.id])
    })

    test('traces: fields extracted from GenAI and assay attributes; a retried call is stored once; later spans join', async () => {
      const d = await store.createDeployment(newDeployment())
      const trace = llmTrace(d.id)
      const result = await store.logTraces([trace])
      assert.deepEqual(result, { stored: [trace.traceId], unchanged: [], rejected: [] })
      assert.deepEqual(await store.logTraces([trace]), { stored: [], unchanged: [trace.traceId], rejected: [] })
      const stored = await store.getTrace(trace.traceId)
      assert.equal(stored.deploymentId, d.id)
      assert.equal(stored.operation, 'chat')
      assert.equal(stored.requestModel, 'gpt-x')
      assert.equal(stored.inputTokens, 120)
      assert.equal(stored.outputTokens, 30)
      assert.equal(stored.conversationId, 'conv-1')
      assert.equal(stored.promptName, 'qa')
      assert.equal(stored.promptVersion, '3')
      assert.equal(stored.retrievalIndexVersion, 'idx-7')
      assert.ok(Math.abs((stored.costUsd ?? 0) - 0.003) < 1e-12)
      assert.equal(stored.guardrailAction, 'none')
      assert.equal(stored.outputHash, 'sha256:abc')
      assert.equal(stored.latencyMs, 400)
      assert.equal(stored.spanCount, 3)
      assert.deepEqual(stored.spans.map((s) => s.spanId), [...trace.spans].sort((x, y) => x.startTime - y.startTime).map((s) => s.spanId))
      // A span exported later (another batch) joins the trace; the fields are extracted again.
      const late = span({ parentSpanId: trace.spans[0].spanId, startTime: 1_700_000_001_390, endTime: 1_700_000_001_600, status: 'error', attributes: { 'gen_ai.usage.output_tokens': 5 } })
      assert.deepEqual((await store.logTraces([{ ...trace, spans: [late] }])).stored, [trace.traceId])
      const grown = await store.getTrace(trace.traceId)
      assert.equal(grown.spanCount, 4)
      assert.equal(grown.outputTokens, 35)
      assert.equal(grown.status, 'error')
      assert.equal(grown.latencyMs, 600)
    })

    test('concurrent requests carrying spans of the same traces store every span once; a re-sent request is unchanged', async () => {
      const d = await store.createDeployment(newDeployment())
      // 24 traces of 6 spans; request A carries spans 0-3 of each, B spans 2-5 (in reverse trace
      // order), C is A again: all three at once, twice over, so inserts of one new trace race.
      const traces = Array.from({ length: 24 }, (_, t) => {
        const root = span({ name: 'answer', kind: 'server', startTime: 1_700_000_000_000 + t, endTime: 1_700_000_000_900 + t })
        const children = Array.from({ length: 5 }, (_, k) => span({ parentSpanId: root.spanId, name: `call ${k}`, startTime: 1_700_000_000_010 + t + k, endTime: 1_700_000_000_020 + t + k, attributes: { 'gen_ai.usage.output_tokens': k + 1 } }))
        return { traceId: hex(16), deploymentId: d.id, spans: [root, ...children] }
      })
      const a = traces.map((t) => ({ ...t, spans: t.spans.slice(0, 4) }))
      const b = traces.map((t) => ({ ...t, spans: t.spans.slice(2) })).reverse()
      const results = await Promise.all([store.logTraces(a), store.logTraces(b), store.logTraces(a), store.logTraces(b)])
      for (const r of results) assert.deepEqual(r.rejected, [])
      // Each trace was stored (or grown) by at least one request; every request saw each trace.
      for (const t of traces) {
        assert.ok(results.some((r) => r.stored.includes(t.traceId)))
        for (const r of results) assert.equal(Number(r.stored.includes(t.traceId)) + Number(r.unchanged.includes(t.traceId)), 1)
      }
      for (const t of traces) {
        const stored = await store.getTrace(t.traceId)
        assert.deepEqual(stored.spans.map((s) => s.spanId).sort(), t.spans.map((s) => s.spanId).sort())
        assert.equal(stored.spanCount, 6)
        assert.equal(stored.outputTokens, 15, 'fields extracted from every span, whichever request came last')
        assert.equal(stored.latencyMs, 900)
      }
      assert.deepEqual(await store.logTraces(a), { stored: [], unchanged: a.map((t) => t.traceId), rejected: [] })
      assert.deepEqual(await store.logTraces([...b].reverse()), { stored: [], unchanged: traces.map((t) => t.traceId), rejected: [] })
    })

    test('calls written together in one group commit each get their own outcomes: new, unknown deployment, re-sent, late span, conflict', async () => {
      const d = await store.createDeployment(newDeployment())
      const old = llmTrace(d.id)
      const growing = llmTrace(d.id)
      const clashing = llmTrace(d.id)
      await store.logTraces([old, growing, clashing])
      const tokensBefore = (await store.getTrace(growing.traceId)).outputTokens ?? 0
      const late = span({ parentSpanId: growing.spans[0].spanId, name: 'late tool', startTime: 1_700_000_001_100, endTime: 1_700_000_001_200, attributes: { 'gen_ai.usage.output_tokens': 5 } })
      const fresh = [llmTrace(d.id), llmTrace(d.id)]
      const orphan = llmTrace(hex(16))
      const lone = llmTrace(d.id)
      const changed = { ...clashing, spans: [{ ...clashing.spans[0], name: 'other content' }] }
      // The first calls find the writers idle and go alone; the others arrive while they write and share a transaction.
      const [first, a, b, c, e] = await Promise.all([
        store.logTraces([lone]),
        store.logTraces(fresh),
        store.logTraces([orphan, llmTrace(d.id)].reverse()),
        store.logTraces([old, { ...growing, spans: [late] }]),
        store.logTraces([changed]),
      ])
      assert.deepEqual(first, { stored: [lone.traceId], unchanged: [], rejected: [] })
      assert.deepEqual(a, { stored: fresh.map((t) => t.traceId), unchanged: [], rejected: [] })
      assert.equal(b.stored.length, 1)
      assert.deepEqual(b.rejected.map((r) => [r.traceId, r.code, r.spans]), [[orphan.traceId, 'ASSAY_UNKNOWN_DEPLOYMENT', orphan.spans.length]])
      assert.deepEqual(c, { stored: [growing.traceId], unchanged: [old.traceId], rejected: [] })
      assert.deepEqual(e.rejected.map((r) => [r.traceId, r.code]), [[clashing.traceId, 'ASSAY_TRACE_CONFLICT']])
      assert.deepEqual([e.stored, e.unchanged], [[], []])
      const grown = await store.getTrace(growing.traceId)
      assert.equal(grown.spanCount, growing.spans.length + 1)
      assert.equal(grown.outputTokens, tokensBefore + 5, 'fields from the stored spans and the late one')
      assert.equal((await store.getTrace(clashing.traceId)).spans[0].name, clashing.spans[0].name, 'the stored trace is unchanged')
      await rejectsWith(store.getTrace(orphan.traceId), 'ASSAY_TRACE_NOT_FOUND')
    })

    test('text with quotes, backslashes, newlines and astral characters round-trips; a trace with a lone surrogate is refused alone', async () => {
      const d = await store.createDeployment(newDeployment())
      const tricky = 'q"\\ \n\t{a,b} NULL é 😀 \u2028'
      const a = llmTrace(d.id)
      a.spans[0].attributes['gen_ai.conversation.id'] = tricky
      a.spans[0].name = tricky
      const b = llmTrace(d.id)
      b.spans[0].attributes['gen_ai.conversation.id'] = 'a\ud800b'
      const logged = await store.logTraces([a, b])
      assert.deepEqual(logged.stored, [a.traceId])
      assert.deepEqual(logged.rejected.map((r) => [r.traceId, r.code]), [[b.traceId, 'ASSAY_INVALID_ARGUMENT']])
      const stored = await store.getTrace(a.traceId)
      assert.equal(stored.conversationId, tricky)
      assert.equal(stored.spans.find((s) => s.spanId === a.spans[0].spanId)?.name, tricky)
      // A lone surrogate is not text: stored, the drivers would turn it into U+FFFD and a retry would differ.
      await assert.rejects(store.getTrace(b.traceId), (e: unknown) => (e as { code?: string }).code === 'ASSAY_TRACE_NOT_FOUND')
    })

    test('two concurrent requests carrying the same new trace with different content: one stores it, the other is refused', async () => {
      const d = await store.createDeployment(newDeployment())
      const first = llmTrace(d.id)
      const second = { ...first, spans: first.spans.map((s, i) => (i === 0 ? { ...s, name: 'changed' } : s)) }
      const other = { ...llmTrace(d.id), traceId: first.traceId, deploymentId: (await store.createDeployment(newDeployment())).id }
      const [x, y, z] = await Promise.all([store.logTraces([first]), store.logTraces([second]), store.logTraces([other])])
      assert.equal([x, y, z].filter((r) => r.stored.length === 1).length, 1)
      assert.deepEqual([x, y, z].flatMap((r) => r.rejected.map((e) => e.code)), ['ASSAY_TRACE_CONFLICT', 'ASSAY_TRACE_CONFLICT'])
      const stored = await store.getTrace(first.traceId)
      assert.equal(stored.spans.length, 3)
    })

    test('bad traces are rejected whole, the others stored, and nothing stored changes', async () => {
      const d = await store.createDeployment(newDeployment())
      const good = llmTrace(d.id)
      await store.logTraces([good])
      const before = await store.getTrace(good.traceId)
      const unknown = llmTrace(hex(16))
      const wrongType = llmTrace(d.id)
      wrongType.spans[1].attributes['gen_ai.usage.input_tokens'] = 'many'
      const huge = llmTrace(d.id)
      huge.spans[0].attributes.big = 'x'.repeat(40_000)
      const noId = { ...llmTrace(d.id), traceId: '' }
      const conflicting = { ...good, spans: [{ ...good.spans[0], name: 'changed' }] }
      const fresh = llmTrace(d.id)
      const result = await store.logTraces([unknown, wrongType, huge, noId, conflicting, fresh])
      assert.deepEqual(result.stored, [fresh.traceId])
      assert.deepEqual(
        result.rejected.map((r) => r.code).sort(),
        ['ASSAY_INVALID_TRACE', 'ASSAY_INVALID_TRACE', 'ASSAY_INVALID_TRACE', 'ASSAY_TRACE_CONFLICT', 'ASSAY_UNKNOWN_DEPLOYMENT'].sort(),
      )
      assert.deepEqual(await store.getTrace(good.traceId), before)
      await rejectsWith(store.getTrace(wrongType.traceId), 'ASSAY_TRACE_NOT_FOUND')
      await rejectsWith(store.getTrace(unknown.traceId), 'ASSAY_TRACE_NOT_FOUND')
    })

    test('traces page by deployment and time window; feedback joins the eval-record view', async () => {
      const d = await store.createDeployment(newDeployment())
      const other = await store.createDeployment(newDeployment())
      const traces = [0, 1000, 2000, 3000].map((t) => llmTrace(d.id, 1_700_000_000_000 + t))
      await store.logTraces([...traces, llmTrace(other.id)])
      const page = await store.tracesPage({ deployment: d.id, limit: 2 })
      assert.deepEqual(page.traces.map((t) => t.traceId), traces.slice(0, 2).map((t) => t.traceId))
      const rest = await store.tracesPage({ deployment: d.id, limit: 2, cursor: page.nextCursor ?? undefined })
      assert.deepEqual(rest.traces.map((t) => t.traceId), traces.slice(2).map((t) => t.traceId))
      const window = await store.tracesPage({ deployment: d.id, limit: 10, from: 1_700_000_001_000, to: 1_700_000_003_000 })
      assert.deepEqual(window.traces.map((t) => t.traceId), traces.slice(1, 3).map((t) => t.traceId))
      await rejectsWith(store.tracesPage({ deployment: hex(16), limit: 10 }), 'ASSAY_DEPLOYMENT_NOT_FOUND')

      const feedback = { id: hex(8), traceId: traces[0].traceId, name: 'thumbs_up', value: 1, source: 'user', at: 5 }
      await store.addFeedback(feedback)
      await store.addFeedback(feedback)
      await store.addFeedback({ ...feedback, id: hex(8), value: 0, at: 6 })
      await rejectsWith(store.addFeedback({ ...feedback, id: hex(8), traceId: hex(16) }), 'ASSAY_TRACE_NOT_FOUND')
      assert.equal((await store.getTrace(traces[0].traceId)).feedback.length, 2)
      const records = await store.traceEvalRecordsPage({ deployment: d.id, limit: 1 })
      assert.deepEqual(records.records, [
        { id: traces[0].traceId, cluster: 'conv-1', scores: { thumbs_up: 0, guardrail_triggered: 0, guardrail_pass: 1 }, latencyMs: 400, tokens: 150, cost: records.records[0].cost, outputHash: 'sha256:abc' },
      ])
      assert.ok(Math.abs((records.records[0].cost ?? 0) - 0.003) < 1e-12)
    })
  })
}
