/**
 * The trace group commit (src/store/trace-write.ts TraceGroupCommit): calls that arrive while a
 * transaction is being written go together into the next one, in arrival order, within the span
 * cap and never two calls with one trace id; each call gets its own traces' outcomes; a failed
 * group is written call by call. The write here records what it was given and answers as a store
 * would; the stores' own tests (test/production/production-store.test.ts, concurrent requests)
 * run the real transaction under concurrency.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TraceGroupCommit, type PreparedTrace } from '../../src/store/trace-write.js'
import type { LogTracesResult } from '../../src/store/store.js'

function trace(traceId: string, spanCount = 1): PreparedTrace {
  return {
    traceId,
    deploymentId: 'd',
    spanCount,
    text: '{}',
    keys: new Uint8Array(40 * spanCount),
    fields: { startTime: 0, endTime: 0, latencyMs: 0, status: 'unset', operation: null, requestModel: null, inputTokens: null, outputTokens: null, conversationId: null, promptName: null, promptVersion: null, retrievalIndexVersion: null, costUsd: null, guardrailAction: null, guardrailOutcome: null, outputHash: null, spanCount },
  }
}

/** A write that takes `ms`, stores every trace whose id does not start with "x" and rejects those; `poison` fails the whole transaction. */
function recordingWrite(ms: number, poison = new Set<string>()) {
  const groups: string[][] = []
  let inFlight = 0
  let most = 0
  const write = async (traces: readonly PreparedTrace[]): Promise<LogTracesResult> => {
    inFlight++
    most = Math.max(most, inFlight)
    groups.push(traces.map((t) => t.traceId))
    await new Promise((r) => setTimeout(r, ms))
    inFlight--
    if (traces.some((t) => poison.has(t.traceId))) throw new Error(`poisoned: ${traces.map((t) => t.traceId).join(',')}`)
    return {
      stored: traces.filter((t) => !t.traceId.startsWith('x')).map((t) => t.traceId),
      unchanged: [],
      rejected: traces.filter((t) => t.traceId.startsWith('x')).map((t) => ({ traceId: t.traceId, spans: t.spanCount, code: 'ASSAY_TRACE_CONFLICT', message: `conflict ${t.traceId}` })),
    }
  }
  return { write, groups, most: () => most }
}

const ONE_WRITER = { spans: 8192, characters: 32 * 1024 * 1024, writers: 1 }

test('calls arriving during a write are committed together in the next, one writer at a time, each answered with its own traces', async () => {
  const w = recordingWrite(20)
  const commit = new TraceGroupCommit(w.write, ONE_WRITER)
  const first = commit.submit([trace('a1'), trace('a2')])
  // Arrive while a1/a2 are being written: the next transaction takes all three calls.
  await new Promise((r) => setTimeout(r, 5))
  const results = await Promise.all([first, commit.submit([trace('b1')]), commit.submit([trace('c1'), trace('x-c')]), commit.submit([trace('d1')])])
  assert.deepEqual(w.groups, [['a1', 'a2'], ['b1', 'c1', 'x-c', 'd1']])
  assert.equal(w.most(), 1, 'one transaction at a time')
  assert.deepEqual(results[0], { stored: ['a1', 'a2'], unchanged: [], rejected: [] })
  assert.deepEqual(results[1], { stored: ['b1'], unchanged: [], rejected: [] })
  assert.deepEqual(results[2], { stored: ['c1'], unchanged: [], rejected: [{ traceId: 'x-c', spans: 1, code: 'ASSAY_TRACE_CONFLICT', message: 'conflict x-c' }] })
  assert.deepEqual(results[3], { stored: ['d1'], unchanged: [], rejected: [] })
})

test('a call naming a trace id already in the group, or past the span cap, waits for the next transaction (arrival order kept)', async () => {
  const w = recordingWrite(10)
  const commit = new TraceGroupCommit(w.write, { spans: 10, characters: 1e9, writers: 1 })
  const busy = commit.submit([trace('z')])
  await new Promise((r) => setTimeout(r, 2))
  await Promise.all([
    busy,
    commit.submit([trace('t1', 3)]),
    commit.submit([trace('t2', 3)]),
    commit.submit([trace('t1', 2)]), // the same trace as the first waiting call: next group
    commit.submit([trace('t3', 1)]),
    commit.submit([trace('t4', 9)]), // 2 + 1 + 9 > 10: the group after
  ])
  assert.deepEqual(w.groups, [['z'], ['t1', 't2'], ['t1', 't3'], ['t4']])
})

test('a failed group is written call by call: only the call that fails is refused', async () => {
  const w = recordingWrite(5, new Set(['bad']))
  const commit = new TraceGroupCommit(w.write, ONE_WRITER)
  const busy = commit.submit([trace('first')])
  await new Promise((r) => setTimeout(r, 1))
  const [, good, bad, other] = await Promise.allSettled([busy, commit.submit([trace('g1')]), commit.submit([trace('bad')]), commit.submit([trace('g2')])])
  assert.deepEqual(w.groups, [['first'], ['g1', 'bad', 'g2'], ['g1'], ['bad'], ['g2']])
  assert.equal(good.status, 'fulfilled')
  assert.deepEqual((good as PromiseFulfilledResult<LogTracesResult>).value.stored, ['g1'])
  assert.equal(bad.status, 'rejected')
  assert.match(String((bad as PromiseRejectedResult).reason), /poisoned: bad/)
  assert.deepEqual((other as PromiseFulfilledResult<LogTracesResult>).value.stored, ['g2'])
  // The writer goes on after a failure.
  assert.deepEqual((await commit.submit([trace('after')])).stored, ['after'])
})

test('a call alone on an idle writer is written at once, not held for company', async () => {
  const w = recordingWrite(0)
  const commit = new TraceGroupCommit(w.write, ONE_WRITER)
  await commit.submit([trace('solo')])
  assert.deepEqual(w.groups, [['solo']])
  // And the next call, after it, gets a transaction of its own too.
  await commit.submit([trace('next')])
  assert.deepEqual(w.groups, [['solo'], ['next']])
})

test('with two writers, two calls are written at once and the rest wait for the first writer free; the character cap splits groups too', async () => {
  const w = recordingWrite(15)
  const commit = new TraceGroupCommit(w.write, { spans: 8192, characters: 5, writers: 2 })
  await Promise.all(['a', 'b', 'c', 'd', 'e'].map((id) => commit.submit([trace(id)])))
  assert.equal(w.most(), 2)
  // Each trace's text is 2 characters: at most two calls a group under the cap of 5.
  assert.deepEqual(w.groups, [['a'], ['b'], ['c', 'd'], ['e']])
})

test('past the waiting limit a call is refused at once with ASSAY_STORE_BUSY, and the writer goes on', async () => {
  const w = recordingWrite(20)
  const commit = new TraceGroupCommit(w.write, ONE_WRITER)
  const busy = commit.submit([trace('first')])
  const waiting = Array.from({ length: 16 }, (_, i) => commit.submit([trace(`w${i}`, 8192)]))
  await assert.rejects(commit.submit([trace('over')]), (e: unknown) => (e as { code?: string }).code === 'ASSAY_STORE_BUSY')
  await Promise.all([busy, ...waiting])
  assert.deepEqual((await commit.submit([trace('after')])).stored, ['after'])
})
