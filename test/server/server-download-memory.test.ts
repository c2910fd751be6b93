import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { spawnNode, type Child } from '../child-process.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const SIZE_MIB = 300
const READERS = 6

/** Peak resident memory of a process so far (Linux: VmHWM in /proc/<pid>/status), in MiB. */
function peakRssMib(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  assert.ok(match !== null)
  return Number(match[1]) / 1024
}

/**
 * Six slow readers of a 300 MiB artifact took the server to 1.9 GB: it read each download whole
 * into memory. The store now hands the server a stream that the socket's back-pressure paces, so
 * the server's memory stays bounded however many readers stall.
 */
describe('downloads stream: slow readers of a large artifact keep server memory bounded', { skip: process.platform !== 'linux' ? 'reads /proc' : undefined }, () => {
  let dir: string
  let server: Child
  let port = 0
  let runId = ''
  let sha256 = ''

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'assay-download-memory-'))
    server = spawnNode(path.join(here, 'children/artifact-server.mjs'), { env: { DIR: dir, SIZE_MIB: String(SIZE_MIB) } })
    const line = await server.waitForLine(/^listening \d+ [0-9a-f]{32} [0-9a-f]{64}$/)
    ;[, port, runId, sha256] = line.split(' ').map((part, i) => (i === 1 ? Number(part) : part)) as [string, number, string, string]
  })
  after(async () => {
    server.proc.kill('SIGTERM')
    await server.exited
    rmSync(dir, { recursive: true, force: true })
  })

  it(`${READERS} readers that stall after the first bytes, then read to the end: every byte arrives, server peak RSS stays far below one copy`, async (t) => {
    const before = peakRssMib(server.proc.pid as number)
    const responses = await Promise.all(
      Array.from({ length: READERS }, () =>
        new Promise<http.IncomingMessage>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port, path: `/api/v1/runs/${runId}/artifacts/content?name=big.bin` }, resolve).on('error', reject)
        }),
      ),
    )
    // Every reader has its headers and stalls: a server that buffered would now hold the artifact per reader.
    for (const response of responses) assert.equal(response.statusCode, 200)
    const stalled = await Promise.all(responses.map((r) => new Promise<Buffer>((resolve) => r.once('data', (chunk: Buffer) => { r.pause(); resolve(chunk) }))))
    const whileStalled = peakRssMib(server.proc.pid as number)
    const digests = await Promise.all(
      responses.map(
        (response, i) =>
          new Promise<{ size: number; sha256: string }>((resolve, reject) => {
            const hash = createHash('sha256').update(stalled[i] as Buffer)
            let size = (stalled[i] as Buffer).length
            response.on('data', (chunk: Buffer) => {
              hash.update(chunk)
              size += chunk.length
            })
            response.on('end', () => resolve({ size, sha256: hash.digest('hex') }))
            response.on('error', reject)
            response.resume()
          }),
      ),
    )
    for (const d of digests) assert.deepEqual(d, { size: SIZE_MIB * 1024 * 1024, sha256 })
    const peak = peakRssMib(server.proc.pid as number)
    t.diagnostic(`server peak RSS ${before.toFixed(0)} MiB before, ${whileStalled.toFixed(0)} MiB with ${READERS} readers stalled, ${peak.toFixed(0)} MiB after every byte was read`)
    // Generous: one copy of the artifact alone would be 300 MiB on top of the server's own.
    assert.ok(peak - before < 150, `server peak RSS grew from ${before.toFixed(0)} MiB to ${peak.toFixed(0)} MiB (${whileStalled.toFixed(0)} MiB while ${READERS} readers stalled)`)
    assert.ok(peak < 400, `server peak RSS ${peak.toFixed(0)} MiB`)
  })
})
