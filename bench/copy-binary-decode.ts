/**
 * CPU of decoding one real binary COPY of 100,000 tuples (8 fields shaped like the monitor's
 * window read: text, float8 with and without NULLs, int4) with the CopyBinaryDecoder of two built
 * checkouts, alternating 15 times each after a warm-up, in this process (process.cpuUsage).
 * A checkout whose decoder takes a field count (before it verified declared fields) is given that.
 *
 *   ASSAY_TEST_POSTGRES_URL=postgres://… node --import tsx bench/copy-binary-decode.ts REFERENCE_DIR [CANDIDATE_DIR]
 *
 * Results: bench/results/monitor.md.
 */
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
const client = new pg.Client({ connectionString: process.env.ASSAY_TEST_POSTGRES_URL })
await client.connect()
const chunks: Buffer[] = []
const select = "SELECT md5(g::text), g::float8, (g % 1000)::float8, CASE WHEN g % 7 = 0 THEN NULL ELSE g::float8 END, CASE WHEN g % 5 = 0 THEN NULL ELSE (g/3)::float8 END, 0.001::float8 * g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'gpt-' || (g % 4) END, (g % 4096)::int4 FROM generate_series(1, 100000) AS g"
for await (const chunk of client.query(copyTo(`COPY (${select}) TO STDOUT (FORMAT binary)`))) chunks.push(chunk as Buffer)
await client.end()
type Decoder = { push(chunk: Buffer): void; end(): void }
type DecoderClass = new (fields: unknown, onTuple: (buffer: Buffer, offsets: Int32Array, lengths: Int32Array) => void) => Decoder
const decoderOf = async (dir: string): Promise<DecoderClass> => ((await import(pathToFileURL(path.join(path.resolve(dir), 'dist/store/postgres/copy-binary.js')).href)) as { CopyBinaryDecoder: DecoderClass }).CopyBinaryDecoder
const referenceDir = process.argv[2]
if (referenceDir === undefined) throw new Error('usage: copy-binary-decode.ts REFERENCE_DIR [CANDIDATE_DIR]')
const main = await decoderOf(referenceDir)
const branch = await decoderOf(process.argv[3] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'))
const fields = [
  { name: 'a', type: 'text', nullable: false }, { name: 'b', type: 'float8', nullable: false }, { name: 'c', type: 'float8', nullable: false },
  { name: 'd', type: 'float8', nullable: true }, { name: 'e', type: 'float8', nullable: true }, { name: 'f', type: 'float8', nullable: true },
  { name: 'g', type: 'text', nullable: true }, { name: 'h', type: 'int4', nullable: false },
]
const types = fields.map((f) => f.type)
let sink = 0
const onTuple = (buffer: Buffer, offsets: Int32Array, lengths: Int32Array) => {
  for (let c = 0; c < 8; c++) {
    const length = lengths[c]
    if (length < 0) continue
    const t = types[c]
    const v = t === 'float8' ? buffer.readDoubleBE(offsets[c]) : t === 'int4' ? buffer.readInt32BE(offsets[c]) : buffer.toString('utf8', offsets[c], offsets[c] + length)
    sink += typeof v === 'number' ? v : v.length
  }
}
/** Whether a decoder takes the declared fields (it decodes the stream with them) or, older, a field count. */
const takesFields = new Map<DecoderClass, boolean>()
for (const Decoder of [main, branch]) {
  try {
    const d = new Decoder(fields, () => {})
    for (const c of chunks) d.push(c)
    d.end()
    takesFields.set(Decoder, true)
  } catch {
    takesFields.set(Decoder, false)
  }
}
const run = (which: 'main' | 'branch') => {
  const Decoder = which === 'main' ? main : branch
  const d = new Decoder(takesFields.get(Decoder) === true ? fields : fields.length, onTuple)
  const t0 = process.cpuUsage()
  for (const c of chunks) d.push(c)
  d.end()
  const u = process.cpuUsage(t0)
  return (u.user + u.system) / 1000
}
const res: Record<string, number[]> = { main: [], branch: [] }
for (let i = 0; i < 3; i++) { run('main'); run('branch') }
for (let i = 0; i < 15; i++) { res.main.push(run('main')); res.branch.push(run('branch')) }
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]
console.log(`${chunks.length} chunks, ${chunks.reduce((n, c) => n + c.length, 0)} bytes, 100000 tuples of 8 fields; CPU ms per decode, median of 15 alternating: reference ${med(res.main).toFixed(1)}, candidate ${med(res.branch).toFixed(1)}; all reference ${res.main.map((x) => x.toFixed(0)).join(' ')}; candidate ${res.branch.map((x) => x.toFixed(0)).join(' ')} (${sink > 0})`)
