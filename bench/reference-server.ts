/**
 * The ceiling for ingest benchmarks (bench/ingest-scaling.ts): the least a server can do with
 * assay's binary batch (src/store/http/wire.ts) on PostgreSQL. A bearer token compared in
 * memory, the frame's header parsed, each series' chunk bytes cut out of the body undecoded, and
 * one INSERT … SELECT FROM unnest per request: no run check, no idempotency record, no summary,
 * no request log. It writes the same chunk rows (run, key, count, bytes) as assay's
 * metric_chunks, with the batch id as their order.
 *
 *   node --import tsx bench/reference-server.ts POSTGRES_URL SCHEMA TOKEN [POOL_SIZE]
 *
 * Prints "listening on http://127.0.0.1:PORT" on stderr, like `assay server`.
 */
import Fastify from 'fastify'
import pg from 'pg'
import { BATCH_MAGIC } from '../src/store/http/wire.js'

export const REFERENCE_TABLE = 'reference_chunks'
const INSERT = `INSERT INTO ${REFERENCE_TABLE} (run_id, key, batch_id, count, data) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[], $5::bytea[])`

/** The reference's one table, in `schema` (created when missing). */
export async function createReferenceTable(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
    await client.query(`CREATE TABLE IF NOT EXISTS "${schema}".${REFERENCE_TABLE} (
      run_id text COLLATE "C" NOT NULL, key text COLLATE "C" NOT NULL, batch_id text COLLATE "C" NOT NULL,
      count integer NOT NULL, data bytea NOT NULL, PRIMARY KEY (run_id, key, batch_id))`)
  } finally {
    await client.end()
  }
}

async function main(): Promise<void> {
  const [url, schema, token, poolText] = process.argv.slice(2)
  if (!url || !schema || !token) throw new Error('usage: reference-server.ts POSTGRES_URL SCHEMA TOKEN [POOL_SIZE]')
  // The same connection settings as assay's store: its schema, commits durable before they return.
  const pool = new pg.Pool({ connectionString: url, max: Number(poolText ?? 10), options: `-c search_path=${schema} -c synchronous_commit=on` })
  const expected = `Bearer ${token}`
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 })
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
  app.post<{ Params: { runId: string } }>('/api/v1/runs/:runId/batch', async (request, reply) => {
    if (request.headers.authorization !== expected) return reply.code(401).send({ error: 'unauthenticated' })
    const body = request.body as Buffer
    if (body.length < 8 || body.readUInt32LE(0) !== BATCH_MAGIC) return reply.code(400).send({ error: 'not a batch' })
    const headerLength = body.readUInt32LE(4)
    const header = JSON.parse(body.toString('utf8', 8, 8 + headerLength)) as { batchId: string; metrics: { key: string; count: number }[] }
    let offset = Math.ceil((8 + headerLength) / 8) * 8
    const keys: string[] = []
    const batchIds: string[] = []
    const counts: number[] = []
    const chunks: Buffer[] = []
    for (const m of header.metrics) {
      const length = 8 + 24 * m.count
      keys.push(m.key)
      batchIds.push(header.batchId)
      counts.push(m.count)
      chunks.push(body.subarray(offset, offset + length))
      offset += length
    }
    await pool.query({ name: 'reference_insert', text: INSERT, values: [request.params.runId, keys, batchIds, counts, chunks] })
    return { ok: true }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  process.stderr.write(`reference server listening on http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}\n`)
  const stop = (): void => {
    void app.close().then(() => pool.end()).then(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

if (process.argv[1]?.endsWith('reference-server.ts')) await main()
