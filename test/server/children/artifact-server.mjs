/**
 * `assay server` over an embedded store holding one large artifact: writes SIZE_MIB MiB of a
 * known pattern to a file, stores it as run artifact big.bin, serves the store on a free loopback
 * port and prints "listening <port> <runId> <sha256>". Runs the built code (dist/).
 */
import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import path from 'node:path'
import { once } from 'node:events'
import { buildServer } from '../../../dist/server/app.js'
import { SqliteStore } from '../../../dist/store/sqlite/sqlite-store.js'

const dir = process.env.DIR
const mib = Number(process.env.SIZE_MIB)
const file = path.join(dir, 'big.bin')
const out = createWriteStream(file)
const block = Buffer.alloc(1024 * 1024)
const hash = createHash('sha256')
for (let i = 0; i < mib; i++) {
  block.fill(i % 251)
  block.writeUInt32LE(i, 0)
  hash.update(block)
  if (!out.write(block)) await once(out, 'drain')
}
out.end()
await once(out, 'finish')
const store = await SqliteStore.open(path.join(dir, 'store'))
const runId = randomUUID().replaceAll('-', '')
const now = Date.now()
await store.createRun({
  id: runId, experiment: 'big', name: 'big', owner: 'test', startTime: now, parentId: null, groupId: null, params: {}, seed: 1, seedSource: 'user', tags: {},
  environment: { runtime: 'node', runtimeVersion: process.version, os: 'linux', osRelease: '', arch: 'x64', cpuModel: '', cpuCount: 1, memoryBytes: 0, gpu: [], hostname: 'h', argv: [], cwd: '/', lockfile: null, dependencies: {}, envVars: {} },
  code: { vcs: 'none', commit: null, branch: null, remote: null, dirty: false, diffSha256: null, diffArtifact: null, untracked: [], root: null },
  datasets: [],
})
await store.putArtifact(runId, 'big.bin', { path: file }, 'produced')
const app = await buildServer({ store, auth: { enabled: false }, uploadDir: path.join(dir, 'uploads'), crashAfterMs: 0 })
await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`listening ${app.server.address().port} ${runId} ${hash.digest('hex')}\n`)
process.on('SIGTERM', async () => {
  await app.close()
  await store.close()
  process.exit(0)
})
