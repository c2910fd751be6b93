// The reference of `assay runs metrics`: the same points read straight from SQLite with
// better-sqlite3 and copied into float64 columns, in a fresh node process, nothing printed but
// the count. Usage: node bench/cli/raw-metric-read.mjs STORE_DIR RUN_ID KEY
import Database from 'better-sqlite3'
import path from 'node:path'

const [dir, runId, key] = process.argv.slice(2)
const db = new Database(path.join(dir, 'assay.db'), { readonly: true })
const rows = db.prepare('SELECT data FROM metric_chunks WHERE run_id = ? AND key = ? ORDER BY seq').all(runId, key)
let total = 0
for (const { data } of rows) total += data.readUInt32LE(4)
const columns = [new Float64Array(total), new Float64Array(total), new Float64Array(total)]
let at = 0
for (const { data } of rows) {
  const count = data.readUInt32LE(4)
  for (let c = 0; c < 3; c++) columns[c].set(new Float64Array(data.buffer.slice(data.byteOffset + 8 + c * count * 8, data.byteOffset + 8 + (c + 1) * count * 8)), at)
  at += count
}
process.stdout.write(`${total} points, last value ${columns[1][total - 1]}\n`)
