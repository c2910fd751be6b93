/**
 * What a hostile or careless client cannot do to `assay server` (docs/server.md, "Limits"):
 * make it read a body it will refuse, parse deep JSON, hold connections open, stage uploads for
 * runs that do not exist, answer a rebound DNS name without auth, or learn foreign experiments.
 * The floods go over real sockets; the rest in process.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { buildServer } from '../../src/server/app.js'
import { encodeBatchFrame } from '../../src/store/http/wire.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { newRun } from '../store/fixtures.js'
import { bearer, makeToken, testServer, type TestServer } from './helpers.js'
import { REPO_ROOT } from '../child-process.js'

interface RawAnswer {
  status: number
  text: string
  /** Bytes of the body the client had written when the answer came. */
  sent: number
}

/**
 * Send a request that declares `declared` bytes of body but writes at most `send` of them, and
 * resolve with the answer when it comes: a server that waited for the whole body never answers.
 */
function partialRequest(port: number, head: string, declared: number, body: (offset: number) => Buffer, send: number): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let received = ''
    let sent = 0
    let answered = false
    socket.on('error', (error) => {
      if (!answered) reject(error)
    })
    socket.on('data', (data) => {
      received += data.toString('latin1')
      const end = received.indexOf('\r\n\r\n')
      if (answered || end < 0) return
      const length = Number(/content-length:\s*(\d+)/i.exec(received.slice(0, end))?.[1] ?? 0)
      if (received.length < end + 4 + length) return
      answered = true
      socket.destroy()
      resolve({ status: Number(received.slice(9, 12)), text: received.slice(end + 4, end + 4 + length), sent })
    })
    socket.on('close', () => {
      if (!answered) reject(new Error(`the connection closed without an answer (${received.slice(0, 200)})`))
    })
    socket.write(`${head}\r\nhost: 127.0.0.1\r\ncontent-length: ${declared}\r\n\r\n`)
    const pump = (): void => {
      while (!answered && sent < send) {
        const chunk = body(sent)
        sent += chunk.length
        if (!socket.write(chunk)) return void socket.once('drain', pump)
      }
    }
    pump()
  })
}

/** Deeply nested JSON, `[[[[…`, as much as asked for. */
const nested = (offset: number): Buffer => Buffer.alloc(Math.min(64 * 1024, 1 + offset), 0x5b)

async function listening(s: TestServer): Promise<number> {
  await s.app.listen({ host: '127.0.0.1', port: 0 })
  return (s.app.server.address() as net.AddressInfo).port
}

describe('server hardening', () => {
  let s: TestServer
  let port: number
  let write: string
  let readA: string
  const runA = newRun({ experiment: 'exp-a' })
  const runB = newRun({ experiment: 'exp-b' })

  before(async () => {
    s = await testServer()
    write = (await makeToken(s.store, 'write')).secret
    readA = (await makeToken(s.store, 'read', ['exp-a'])).secret
    await s.store.createRun(runA)
    await s.store.createRun(runB)
    port = await listening(s)
  })
  after(() => s.close())

  it('an unknown route answers 404 before its body is read; /health answers meanwhile', async () => {
    const answer = await partialRequest(port, 'POST /nope HTTP/1.1\r\ncontent-type: application/json', 20 * 1024 * 1024, nested, 1024 * 1024)
    assert.equal(answer.status, 404)
    assert.equal(JSON.parse(answer.text).error.code, 'ASSAY_ROUTE_NOT_FOUND')
    assert.ok(answer.sent < 20 * 1024 * 1024, 'answered before the whole body was sent')
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/v1/health`)).status, 200)
  })

  it('a JSON body over the JSON limit is 413 from its Content-Length, before it is read', async () => {
    const answer = await partialRequest(port, `POST /api/v1/runs HTTP/1.1\r\ncontent-type: application/json\r\n${authLine(write)}`, 40 * 1024 * 1024, nested, 1024 * 1024)
    assert.equal(answer.status, 413)
    assert.equal(JSON.parse(answer.text).error.code, 'ASSAY_BODY_TOO_LARGE')
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/v1/health`)).status, 200)
  })

  it('JSON nested past the limit is refused without being parsed (413 ASSAY_VALUE_TOO_LARGE), under the size limit too', async () => {
    for (const depth of [101, 1_000_000]) {
      const payload = '['.repeat(depth) + ']'.repeat(depth)
      const response = await s.app.inject({ method: 'POST', url: `/api/v1/runs/${runA.id}/batch`, payload, headers: { 'content-type': 'application/json', ...bearer(write) } })
      assert.equal(response.statusCode, 413, response.body)
      assert.equal(response.json().error.code, 'ASSAY_VALUE_TOO_LARGE')
    }
    const frame = encodeBatchFrame({ metrics: [] })
    const header = Buffer.from(`{"metrics":[],"params":{"p":${'['.repeat(5000)}${']'.repeat(5000)}}}`)
    const deepFrame = Buffer.concat([frame.subarray(0, 4), Buffer.alloc(4), header, Buffer.alloc((8 - (header.length % 8)) % 8)])
    deepFrame.writeUInt32LE(header.length, 4)
    const binary = await s.app.inject({ method: 'POST', url: `/api/v1/runs/${runA.id}/batch`, payload: deepFrame, headers: { 'content-type': 'application/octet-stream', ...bearer(write) } })
    assert.equal(binary.statusCode, 413, binary.body)
    assert.equal(binary.json().error.code, 'ASSAY_VALUE_TOO_LARGE')
    // A quote or bracket inside a string is not nesting.
    const tags = { tag: '[[[[{{{{"\\'.repeat(50) }
    const ok = await s.app.inject({ method: 'POST', url: `/api/v1/runs/${runA.id}/batch`, payload: { tags }, headers: bearer(write) })
    assert.equal(ok.statusCode, 200, ok.body)
    assert.deepEqual((await s.store.getRun(runA.id)).tags.tag, tags.tag)
  })

  it('an upload to a run that does not exist is refused before anything is read or staged', async () => {
    const missing = newRun().id
    const head = `PUT /api/v1/runs/${missing}/artifacts?name=big.bin HTTP/1.1\r\ncontent-type: application/octet-stream\r\nx-assay-sha256: ${'a'.repeat(64)}\r\n${authLine(write)}`
    const answer = await partialRequest(port, head, 300 * 1024 * 1024, () => Buffer.alloc(1024 * 1024), 8 * 1024 * 1024)
    assert.equal(answer.status, 404)
    assert.equal(JSON.parse(answer.text).error.code, 'ASSAY_RUN_NOT_FOUND')
    assert.deepEqual(readdirSync(s.uploads), [])
  })

  it('a 403 does not name the foreign experiment', async () => {
    const response = await s.app.inject({ method: 'GET', url: `/api/v1/runs/${runB.id}`, headers: bearer(readA) })
    assert.equal(response.statusCode, 403)
    assert.doesNotMatch(response.body, /exp-b/)
  })

  it('the OpenAPI document names the lineage path with its parameter', async () => {
    const document = (await s.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> }
    assert.ok('/api/v1/artifacts/{sha256}/lineage' in document.paths, Object.keys(document.paths).join(' '))
    assert.ok('/api/v1/holdout-reads/{sha256}' in document.paths)
  })
})

/** GET /api/v1/health on a connection of its own: its status, or 0 when the connection was refused or closed. */
function healthOnce(port: number): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/api/v1/health', agent: false }, (response) => {
      response.resume()
      response.on('end', () => resolve(response.statusCode ?? 0))
    })
    request.on('error', () => setTimeout(() => resolve(0), 50))
  })
}

function authLine(secret: string): string {
  return `authorization: Bearer ${secret}`
}

describe('server connections', () => {
  it('a stalled body is closed once nothing has moved for the idle timeout', { timeout: 60_000 }, async () => {
    const s = await testServer({ connections: { idleTimeoutMs: 300 } })
    try {
      const port = await listening(s)
      const socket = net.connect(port, '127.0.0.1')
      const closed = new Promise<string>((resolve) => {
        let text = ''
        socket.on('data', (d) => (text += d.toString()))
        socket.on('close', () => resolve(text))
        socket.on('error', () => undefined)
      })
      socket.write('POST /api/v1/health HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/octet-stream\r\ncontent-length: 1000\r\n\r\n0123456789')
      await closed
    } finally {
      await s.close()
    }
  })

  it('stalled connections are capped and timed out: a new client is served', { timeout: 120_000 }, async () => {
    const cap = 20
    const s = await testServer({ connections: { maxConnections: cap, headersTimeoutMs: 500 } })
    const sockets: net.Socket[] = []
    // The server's own count of its connections, taken as each one is accepted.
    let mostOpen = 0
    s.app.server.on('connection', () => s.app.server.getConnections((_error, count) => (mostOpen = Math.max(mostOpen, count))))
    try {
      const port = await listening(s)
      // Headers that never end: each holds a connection until the headers timeout.
      for (let i = 0; i < 2 * cap; i++) {
        const socket = net.connect(port, '127.0.0.1')
        socket.on('error', () => undefined)
        socket.write('GET /api/v1/health HTTP/1.1\r\nhost: 127.0.0.1\r\n')
        sockets.push(socket)
      }
      // Turned away while the cap is full, served once the stalled connections time out.
      let status = 0
      while (status !== 200) status = await healthOnce(port)
      assert.ok(mostOpen <= cap, `${mostOpen} connections were open at once; the cap is ${cap}`)
      assert.ok(mostOpen > 0)
    } finally {
      for (const socket of sockets) socket.destroy()
      await s.close()
    }
  })
})

describe('server without auth', () => {
  let s: TestServer
  before(async () => {
    s = await testServer({ auth: { enabled: false } })
  })
  after(() => s.close())

  it('answers only loopback Host names (DNS rebinding)', async () => {
    for (const host of ['localhost:7321', '127.0.0.1:7321', '127.0.0.1', '[::1]:7321', 'LOCALHOST']) {
      const response = await s.app.inject({ method: 'GET', url: '/api/v1/runs', headers: { host } })
      assert.equal(response.statusCode, 200, `${host}: ${response.body}`)
    }
    for (const host of ['evil.example:7321', 'evil.example', '127.0.0.1.evil.example', 'localhost.evil.example:80', '[::2]:7321']) {
      const response = await s.app.inject({ method: 'GET', url: '/api/v1/runs', headers: { host } })
      assert.equal(response.statusCode, 403, host)
      assert.equal(response.json().error.code, 'ASSAY_FORBIDDEN')
    }
  })
})

describe('server process', () => {
  it('leaves no staging directory behind', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'assay-tmpdir-'))
    const saved = process.env.TMPDIR
    process.env.TMPDIR = tmp
    try {
      const store = await SqliteStore.open(path.join(tmp, 'store'))
      const app = await buildServer({ store, auth: { enabled: true } })
      assert.equal(readdirSync(tmp).filter((n) => n.startsWith('assay-uploads-')).length, 1)
      await app.close()
      await store.close()
      assert.deepEqual(readdirSync(tmp).filter((n) => n.startsWith('assay-uploads-')), [])
    } finally {
      process.env.TMPDIR = saved
      if (saved === undefined) delete process.env.TMPDIR
      rmSync(tmp, { recursive: true, force: true })
    }
  })

  it('a 500 is logged at error level with its request id and the error', async () => {
    const lines: string[] = []
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter((l) => l !== ''))
        done()
      },
    })
    const s = await testServer({ auth: { enabled: false }, logger: { level: 'info', stream } })
    try {
      await s.store.close() // every store call now fails with the driver's own error
      const response = await s.app.inject({ method: 'GET', url: '/api/v1/runs' })
      assert.equal(response.statusCode, 500)
      const failed = lines.map((l) => JSON.parse(l) as { level: number; reqId?: string; err?: { message?: string } }).find((l) => l.level === 50)
      assert.ok(failed !== undefined, lines.join('\n'))
      assert.match(String(failed.reqId), /./)
      assert.match(String(failed.err?.message), /./)
    } finally {
      await s.app.close()
      rmSync(s.dir, { recursive: true, force: true })
    }
  })

  it('`assay server --log-level info` logs each request with its id on stderr', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'assay-log-'))
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'assay.js'), '--store', path.join(dir, 'store'), 'server', '--port', '0', '--no-auth', '--log-level', 'info'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString()
          const match = /listening on (http:\/\/\S+)/.exec(stderr)
          if (match) resolve(match[1])
        })
        child.once('exit', (code) => reject(new Error(`assay server exited ${code}: ${stderr}`)))
      })
      assert.equal((await fetch(`${url}/api/v1/runs/${'0'.repeat(32)}`)).status, 404)
      const line = async (): Promise<Record<string, unknown>> => {
        for (;;) {
          const found = stderr.split('\n').find((l) => l.includes('"statusCode":404'))
          if (found) return JSON.parse(found) as Record<string, unknown>
          await new Promise((resolve) => child.stderr.once('data', resolve))
        }
      }
      const logged = await line()
      assert.match(String(logged.reqId), /./)
      assert.equal(stdout, '', 'nothing on stdout')
    } finally {
      child.kill('SIGTERM')
      await new Promise((resolve) => child.once('exit', resolve))
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
