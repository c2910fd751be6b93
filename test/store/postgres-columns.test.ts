/**
 * How the PostgreSQL adapter sends a batch's columns (postgres-adapter.ts, columnArrays): text
 * columns of plain strings as one binary U+001E-joined buffer, others as a JSON array or a pg
 * array. Every form must give back exactly the rows sent, in their order, whatever the text holds.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { openPostgresAdapter } from '../../src/store/postgres/postgres-adapter.js'
import type { SqlColumn } from '../../src/store/sql-adapter.js'
import { dropSchema, freshSchema } from './backends.js'

const url = process.env.ASSAY_TEST_POSTGRES_URL

test('postgres: insertRows gives back each text column exactly, in every transport', { skip: url === undefined ? 'set ASSAY_TEST_POSTGRES_URL' : false }, async () => {
  const schema = freshSchema()
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`CREATE SCHEMA "${schema}"`)
  await admin.query(`CREATE TABLE "${schema}".t (ord bigint PRIMARY KEY, plain text, mixed text, n float8)`)
  const adapter = openPostgresAdapter(url!, { schema })
  try {
    const columns: SqlColumn[] = [{ name: 'ord', type: 'bigint' }, { name: 'plain', type: 'text' }, { name: 'mixed', type: 'text' }, { name: 'n', type: 'float8' }]
    // plain: non-empty strings without U+001E (the buffer); mixed: one holds U+001E, one is empty, one null (not the buffer).
    const plain = ['{"a":"é 😀 \\u001e \u2028"}', 'x', 'quote " back \\ slash', 'tab\tnewline\n', '中文', 'b'.repeat(5000)]
    const mixed = ['a\u001eb', '', null, 'z', '\u001e', 'end']
    const rows = plain.map((p, i) => [i, p, mixed[i], i === 2 ? null : i / 3])
    await adapter.insertRows('t', columns, rows)
    // A batch whose plain column is a single string, and one of a single empty string.
    await adapter.insertRows('t', columns, [[100, 'only', 'only', 1]])
    await adapter.insertRows('t', columns, [[101, 'x', '', 1]])
    const back = await adapter.all<{ ord: string; plain: string; mixed: string | null; n: number | null }>('SELECT ord, plain, mixed, n FROM t ORDER BY ord')
    assert.deepEqual(back.map((r) => [Number(r.ord), r.plain, r.mixed, r.n]), [...rows, [100, 'only', 'only', 1], [101, 'x', '', 1]])
    // updateRows goes through the same transport.
    await adapter.updateRows('t', [{ name: 'ord', type: 'bigint' }, { name: 'plain', type: 'text' }], [[0, 'changed \u00e9'], [1, 'again']])
    assert.deepEqual((await adapter.all<{ plain: string }>('SELECT plain FROM t WHERE ord IN (0, 1) ORDER BY ord')).map((r) => r.plain), ['changed \u00e9', 'again'])
  } finally {
    await adapter.close()
    await admin.end()
    await dropSchema(url!, schema)
  }
})
