/**
 * A 'utf8' column (sql-adapter.ts SqlColumn: text handed over as its UTF-8 bytes, as the OTLP
 * decode threads hand span texts) is stored as text on SQLite, and the NUL guard in front of every
 * adapter (nul-guard.ts) refuses a NUL byte in it as it refuses a NUL in a string, before anything
 * is written. The PostgreSQL transport of such a column: postgres-columns.test.ts.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { isAssayError } from '../../src/errors.js'
import { refusingNulText } from '../../src/store/nul-guard.js'
import type { SqlColumn } from '../../src/store/sql-adapter.js'
import { SqliteAdapter } from '../../src/store/sqlite/sqlite-adapter.js'

const COLUMNS: SqlColumn[] = [{ name: 'ord', type: 'bigint' }, { name: 'body', type: 'utf8' }]

test("sqlite: a 'utf8' column is stored as the text its bytes encode; a NUL byte is refused before any row is written", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'assay-utf8-'))
  const raw = new SqliteAdapter(path.join(dir, 'db.sqlite'), dir)
  const guarded = refusingNulText(raw)
  try {
    await raw.run('CREATE TABLE t (ord INTEGER PRIMARY KEY, body TEXT)')
    const packed = Buffer.from('..{"a":"é 😀"}\n{"b":"中文"}..', 'utf8')
    await guarded.insertRows('t', COLUMNS, [[1, new Uint8Array(packed.buffer, packed.byteOffset + 2, packed.length - 4)], [2, Buffer.from('', 'utf8')]])
    await guarded.updateRows('t', COLUMNS, [[2, Buffer.from('now \u2028', 'utf8')]])
    const back = await raw.all<{ ord: number; body: unknown; kind: string }>('SELECT ord, body, typeof(body) AS kind FROM t ORDER BY ord')
    assert.deepEqual(back, [{ ord: 1, body: '{"a":"é 😀"}\n{"b":"中文"}', kind: 'text' }, { ord: 2, body: 'now \u2028', kind: 'text' }])

    for (const write of [
      async () => guarded.insertRows('t', COLUMNS, [[3, Buffer.from('fine')], [4, Buffer.from('a\u0000b', 'utf8')]]),
      async () => guarded.insertRowsReturning('t', COLUMNS, [[5, Buffer.from('x\u0000')]], 'RETURNING ord'),
      async () => guarded.updateRows('t', COLUMNS, [[1, Buffer.from('\u0000')]]),
    ]) {
      await assert.rejects(write, (e: unknown) => isAssayError(e) && e.code === 'ASSAY_INVALID_ARGUMENT' && /NUL/.test(e.message))
    }
    // Nothing of the refused writes reached the table.
    assert.deepEqual((await raw.all<{ ord: number; body: string }>('SELECT ord, body FROM t ORDER BY ord')).map((r) => [r.ord, r.body]), [[1, '{"a":"é 😀"}\n{"b":"中文"}'], [2, 'now \u2028']])
  } finally {
    await raw.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
