/**
 * Store.traceColumns on PostgreSQL reads by binary COPY (copy-binary.ts): the columns it decodes
 * are exactly those of the store core's paged read of row objects (SqlStore.traceColumns, which
 * SQLite keeps), over values that test a decoder: NULLs, NaN and ±Infinity, integers up to 2^53,
 * fractional and far times, text beyond ASCII, feedback ties, and tuples split across chunks.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import type { TraceColumnNeeds } from '../../src/record/trace-columns.js'
import { isAssayError } from '../../src/errors.js'
import { CopyBinaryDecoder, type CopyField } from '../../src/store/postgres/copy-binary.js'
import { TRACE_FEEDBACK_FILL } from '../../src/store/postgres/postgres-migrations.js'
import { SqlStore } from '../../src/store/sql-store.js'
import type { Store, TraceColumnsQuery } from '../../src/store/store.js'
import { STORE_BACKENDS, type OpenedStore } from '../store/backends.js'
import { newDeployment } from './helpers.js'

const postgres = STORE_BACKENDS.find((b) => b.name === 'postgres')

/** The fields of the test streams: SELECT g::float8, text or NULL, g::int4. */
const FIELDS: CopyField[] = [
  { name: 'f', type: 'float8', nullable: false },
  { name: 't', type: 'text', nullable: true },
  { name: 'i', type: 'int4', nullable: false },
]

const malformed = (message: RegExp) => (error: unknown): boolean => isAssayError(error, 'ASSAY_STORE_MALFORMED_RESPONSE') && message.test(error.message)

/** A binary COPY stream built by hand: tuples of fields (null: NULL), with the parts to break. */
function copyBytes(opts: { tuples: (Buffer | null)[][]; signature?: Buffer; flags?: number; extension?: number; trailer?: boolean; lengthOverride?: [tuple: number, field: number, length: number] }): Buffer {
  const parts: Buffer[] = [opts.signature ?? Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')]
  const int = (v: number, bytes: 2 | 4): Buffer => {
    const b = Buffer.alloc(bytes)
    if (bytes === 2) b.writeInt16BE(v)
    else b.writeInt32BE(v)
    return b
  }
  const flags = Buffer.alloc(4)
  flags.writeUInt32BE((opts.flags ?? 0) >>> 0)
  parts.push(flags, int(opts.extension ?? 0, 4))
  opts.tuples.forEach((tuple, t) => {
    parts.push(int(tuple.length, 2))
    tuple.forEach((field, f) => {
      const [ot, of, length] = opts.lengthOverride ?? [-1, -1, 0]
      parts.push(int(ot === t && of === f ? length : field === null ? -1 : field.length, 4))
      if (field !== null) parts.push(field)
    })
  })
  if (opts.trailer !== false) parts.push(int(-1, 2))
  return Buffer.concat(parts)
}
const NOW = Date.UTC(2026, 11, 1, 12)
const FAR_PAST = -8.64e15

const EVERYTHING: TraceColumnNeeds = {
  scores: ['quality', 'guardrail_triggered', 'guardrail_pass', 'absent'],
  features: ['inputTokens', 'latencyMs', 'operation', 'requestModel', 'promptVersion', 'retrievalIndexVersion'],
  attributes: true,
  conversationId: true,
  guardrailAction: true,
  modelVersion: true,
  promptVersion: true,
}

describe('trace columns by binary COPY: postgres', { skip: postgres === undefined ? 'no postgres backend' : postgres.skip }, () => {
  let opened: OpenedStore
  let store: Store

  beforeEach(async () => {
    opened = await (postgres as NonNullable<typeof postgres>).open()
    store = opened.store
  })
  afterEach(async () => {
    await opened.dispose()
  })

  test('the decoded columns are those of the row read, value for value', async () => {
    const d = await store.createDeployment(newDeployment())
    const columns = 'trace_id, deployment_id, start_time, end_time, latency_ms, status, operation, request_model, input_tokens, output_tokens, conversation_id, prompt_name, prompt_version, retrieval_index_version, cost_usd, guardrail_action, guardrail_outcome, output_hash, span_count'
    await opened.rawSql(`
      INSERT INTO traces (${columns}) VALUES
        ('t1', '${d.id}', ${NOW - 1000.5}, ${NOW}, 'Infinity', 'ok', 'chat', 'gpt-ü', 9007199254740991, 1e300, 'ü-😀-conv', 'qa', '3', 'idx-1', 'NaN', 'blocked', 'fail', 'h', 1),
        ('t2', '${d.id}', ${FAR_PAST}, ${FAR_PAST}, '-Infinity', 'ok', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1),
        ('t3', '${d.id}', ${FAR_PAST}, ${FAR_PAST}, 0, 'error', 'chat', '', '-0'::float8, 5e-324, '', 'qa', '', NULL, -1.5, 'none', NULL, NULL, 2),
        ('outside', '${d.id}', ${NOW}, ${NOW}, 1, 'ok', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1);
      -- Enough traces, with long texts, that tuples straddle the chunks COPY sends.
      INSERT INTO traces (${columns})
        SELECT 'g' || lpad(g::text, 6, '0'), '${d.id}', ${NOW - 3_600_000} + g, ${NOW}, g % 7, 'ok', 'chat', 'm', g, NULL,
               repeat('c', 1 + g % 300), NULL, (g % 3)::text, NULL, g * 1e-6, CASE WHEN g % 5 = 0 THEN 'blocked' END, NULL, NULL, 1
        FROM generate_series(1, 3000) AS g;
      INSERT INTO trace_feedback (id, trace_id, name, value, source, at) VALUES
        ('a', 't1', 'quality', 0.25, 'judge', 5), ('b', 't1', 'quality', 0.75, 'judge', 5), ('c', 't1', 'quality', 0.5, 'judge', 4),
        ('d', 't2', 'quality', 'NaN', 'judge', 1), ('e', 't3', 'quality', '-0'::float8, 'judge', 1),
        ('f', 't1', 'guardrail_triggered', 0, 'judge', 9), ('g', 't2', 'guardrail_pass', 1, 'judge', 1),
        ('h', 'outside', 'quality', 1, 'judge', 1);
      INSERT INTO trace_feedback (id, trace_id, name, value, source, at)
        SELECT 'q' || g, 'g' || lpad(g::text, 6, '0'), 'quality', g / 3000.0, 'judge', g % 2 FROM generate_series(1, 3000, 2) AS g;
      -- Written by hand, not by addFeedback: the rows' latest values filled as migration 17 fills them.
      ${TRACE_FEEDBACK_FILL};
    `)
    const query: TraceColumnsQuery = { deployment: d.id, from: FAR_PAST, to: NOW, needs: EVERYTHING }
    const copied = await store.traceColumns(query)
    const rowRead = SqlStore.prototype.traceColumns
    assert.deepEqual(copied, await rowRead.call(store, query))
    assert.deepEqual(copied, await rowRead.call(store, { ...query, pageSize: 7 }))
    const lean = { ...query, needs: { ...EVERYTHING, scores: ['quality'], features: [], attributes: false, conversationId: false, guardrailAction: false, promptVersion: false } }
    assert.deepEqual(await store.traceColumns(lean), await rowRead.call(store, lean))

    assert.equal(copied.length, 3003)
    assert.deepEqual(copied.traceIds.slice(0, 3), ['t2', 't3', 'g000001'], 'by start time, then trace id')
    const t1 = copied.traceIds.indexOf('t1')
    const [t2, t3] = [0, 1]
    assert.equal(copied.time[t1], NOW - 1000.5)
    assert.equal(copied.time[t2], FAR_PAST)
    assert.equal(copied.latencyMs[t1], Infinity)
    assert.equal(copied.latencyMs[t2], -Infinity)
    assert.equal(copied.inputTokens[t1], 2 ** 53 - 1)
    assert.equal(copied.outputTokens[t1], 1e300)
    assert.equal(copied.outputTokens[t3], 5e-324)
    assert.ok(Object.is(copied.inputTokens[t3], -0))
    assert.ok(Number.isNaN(copied.costUsd[t1]) && Number.isNaN(copied.inputTokens[t2]), 'NaN stored and NULL both read as NaN')
    assert.equal(copied.scores.quality[t1], 0.75, 'the latest feedback: by time, then the greater id')
    assert.ok(Object.is(copied.scores.quality[t3], -0))
    assert.equal(copied.scores.guardrail_triggered[t1], 1, "the trace's guardrail action wins over feedback of the name")
    assert.equal(copied.scores.guardrail_pass[t2], 1, 'feedback stands where the trace has no guardrail column')
    const conversation = copied.conversationId as NonNullable<typeof copied.conversationId>
    assert.equal(conversation.values[conversation.codes[t1]], 'ü-😀-conv')
    assert.equal(conversation.values[conversation.codes[t3]], '', 'an empty text is a value, not NULL')
    assert.equal(conversation.codes[t2], -1)
  })

  test('the decoder gives the same tuples however the stream is cut, and refuses a cut-off stream', async () => {
    const client = new pg.Client({ connectionString: process.env.ASSAY_TEST_POSTGRES_URL })
    await client.connect()
    let bytes: Buffer
    try {
      const chunks: Buffer[] = []
      const select = "SELECT g::float8, CASE WHEN g % 3 = 0 THEN NULL ELSE repeat('é', g) END, g::int4 FROM generate_series(1, 40) AS g"
      for await (const chunk of client.query(copyTo(`COPY (${select}) TO STDOUT (FORMAT binary)`))) chunks.push(chunk as Buffer)
      bytes = Buffer.concat(chunks)
    } finally {
      await client.end()
    }
    const decode = (cuts: number[]): unknown[][] => {
      const tuples: unknown[][] = []
      const decoder = new CopyBinaryDecoder(FIELDS, (buffer, offsets, lengths) => {
        tuples.push([buffer.readDoubleBE(offsets[0]), lengths[1] < 0 ? null : buffer.toString('utf8', offsets[1], offsets[1] + lengths[1]), buffer.readInt32BE(offsets[2])])
      })
      let at = 0
      for (const cut of [...cuts, bytes.length]) {
        decoder.push(bytes.subarray(at, cut))
        at = cut
      }
      decoder.end()
      return tuples
    }
    const whole = decode([])
    assert.equal(whole.length, 40)
    assert.deepEqual(whole[2], [3, null, 3])
    assert.deepEqual(whole[3], [4, 'éééé', 4])
    assert.deepEqual(decode(Array.from({ length: bytes.length - 1 }, (_, i) => i + 1)), whole, 'a byte at a time')
    for (let cut = 1; cut < bytes.length; cut += 13) assert.deepEqual(decode([cut]), whole, `cut at ${cut}`)

    // The real stream against wrong declarations: a field too few, float8 declared int4, the NULLs of column 2 not allowed.
    assert.throws(() => new CopyBinaryDecoder(FIELDS.slice(0, 2), () => {}).push(bytes), malformed(/tuple 0 has 3 fields, expected 2/))
    assert.throws(() => new CopyBinaryDecoder([{ ...FIELDS[0], type: 'int4' }, FIELDS[1], FIELDS[2]], () => {}).push(bytes), malformed(/field f \(int4\) of tuple 0 has 8 bytes, expected 4/))
    assert.throws(() => new CopyBinaryDecoder([FIELDS[0], { ...FIELDS[1], nullable: false }, FIELDS[2]], () => {}).push(bytes), malformed(/field t of tuple 2 is NULL/))
    // Cut anywhere before its trailer, the stream is refused at its end, whatever it handed over before.
    for (const cut of [0, 5, 18, 19, 21, 30, bytes.length - 2, bytes.length - 1]) {
      const truncated = new CopyBinaryDecoder(FIELDS, () => {})
      truncated.push(bytes.subarray(0, cut))
      assert.throws(() => truncated.end(), malformed(/ended before its trailer/), `cut at ${cut}`)
    }
  })

  test('malformed binary COPY data is ASSAY_STORE_MALFORMED_RESPONSE, never a value read from the wrong bytes', () => {
    const float8 = (v: number): Buffer => {
      const b = Buffer.alloc(8)
      b.writeDoubleBE(v)
      return b
    }
    const int4 = (v: number): Buffer => {
      const b = Buffer.alloc(4)
      b.writeInt32BE(v)
      return b
    }
    const good = [float8(1.5), Buffer.from('é'), int4(7)]
    const decodeAll = (bytes: Buffer, fields = FIELDS): unknown[][] => {
      const tuples: unknown[][] = []
      const decoder = new CopyBinaryDecoder(fields, (buffer, offsets, lengths) => tuples.push([buffer.readDoubleBE(offsets[0]), lengths[1] < 0 ? null : buffer.toString('utf8', offsets[1], offsets[1] + lengths[1]), buffer.readInt32BE(offsets[2])]))
      decoder.push(bytes)
      decoder.end()
      return tuples
    }
    assert.deepEqual(decodeAll(copyBytes({ tuples: [good, [float8(2), null, int4(-1)]] })), [[1.5, 'é', 7], [2, null, -1]], 'the hand-built stream itself decodes')
    const cases: [string, Buffer, RegExp][] = [
      ['bad signature', copyBytes({ tuples: [good], signature: Buffer.from('PGCOPY\n\xff\r\n\x01', 'latin1') }), /signature/],
      ['not COPY at all', Buffer.from('not a copy stream at all, long enough'), /signature/],
      ['tuples with OIDs', copyBytes({ tuples: [good], flags: 1 << 16 }), /flags 10000/],
      ['another critical flag', copyBytes({ tuples: [good], flags: 1 << 31 }), /flags 80000000/],
      ['negative header extension', copyBytes({ tuples: [good], extension: -4 }), /negative length/],
      ['too few fields', copyBytes({ tuples: [good.slice(0, 2)] }), /tuple 0 has 2 fields, expected 3/],
      ['too many fields', copyBytes({ tuples: [good, [...good, int4(1)]] }), /tuple 1 has 4 fields, expected 3/],
      ['float8 of 4 bytes', copyBytes({ tuples: [[int4(1), good[1], good[2]]] }), /field f \(float8\) of tuple 0 has 4 bytes, expected 8/],
      ['int4 of 8 bytes', copyBytes({ tuples: [[good[0], good[1], float8(1)]] }), /field i \(int4\) of tuple 0 has 8 bytes, expected 4/],
      ['a NULL float8', copyBytes({ tuples: [[null, good[1], good[2]]] }), /field f of tuple 0 is NULL/],
      ['a length below -1', copyBytes({ tuples: [good], lengthOverride: [0, 1, -2] }), /field t \(text\) of tuple 0 has -2 bytes/],
      ['data after the trailer', Buffer.concat([copyBytes({ tuples: [good] }), Buffer.from([0])]), /past its trailer/],
      ['no trailer', copyBytes({ tuples: [good], trailer: false }), /ended before its trailer/],
      ['a field longer than the stream', copyBytes({ tuples: [good], lengthOverride: [0, 1, 1_000_000], trailer: false }), /ended before its trailer/],
      ['a text field swallowing the rest and the trailer', copyBytes({ tuples: [good], lengthOverride: [0, 1, 12] }), /ended before its trailer/],
    ]
    for (const [name, bytes, message] of cases) {
      let handed = 0
      assert.throws(() => {
        const decoder = new CopyBinaryDecoder(FIELDS, () => handed++)
        decoder.push(bytes)
        decoder.end()
      }, malformed(message), name)
      // Bytes arriving one at a time meet the same refusal.
      assert.throws(() => {
        const decoder = new CopyBinaryDecoder(FIELDS, () => {})
        for (let i = 0; i < bytes.length; i++) decoder.push(bytes.subarray(i, i + 1))
        decoder.end()
      }, malformed(message), `${name}, a byte at a time`)
      // Only the good tuple before the fault may have been handed over (the read fails as a whole).
      assert.equal(handed, ['data after the trailer', 'too many fields', 'no trailer'].includes(name) ? 1 : 0, `${name}: no bad tuple reached the caller`)
    }
  })
})
