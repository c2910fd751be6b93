/**
 * A gate check on the server is bounded work: a gate asking for more resamples than the server
 * allows is refused before any is drawn, a check past the time limit is stopped, and while a
 * heavy check runs (in a worker thread) /api/v1/health keeps answering.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { buildServer } from '../../src/server/app.js'
import { DEFAULT_GATE_WORK_LIMIT } from '../../src/server/gate-worker.js'
import { gateYaml, openGateWorld, records, type GateWorld } from '../gates/helpers.js'

const bootstrap = (resamples: number, name: string): string => `  - kind: superiority
    name: ${name}
    metric: correct
    alpha: 0.05
    test: paired-bootstrap
    resamples: ${resamples}
    onFailure: block
    rationale: heavy`

function timedHealth(port: number): Promise<number> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/api/v1/health', agent: false }, (response) => {
        response.resume()
        response.on('end', () => (response.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`health ${response.statusCode}`))))
      })
      .on('error', reject)
  })
}

describe('gate checks on the server are bounded work off the event loop', () => {
  let w: GateWorld
  let candidate = ''
  let baseline = ''

  before(async () => {
    w = await openGateWorld()
    baseline = await w.logRun('baseline', records((i) => i < 300))
    candidate = await w.logRun('better', records((i) => i < 330))
  })
  after(() => w.cleanup())

  async function serve(options: { gateTimeLimitMs?: number } = {}) {
    const app = await buildServer({ store: w.assay.store, auth: { enabled: false }, uploadDir: `${w.h.dir}/uploads`, ...options })
    await app.listen({ host: '127.0.0.1', port: 0 })
    return { app, port: (app.server.address() as AddressInfo).port }
  }
  const check = (app: Awaited<ReturnType<typeof serve>>['app'], criteria: string) =>
    app.inject({ method: 'POST', url: '/api/v1/gate-checks', headers: { host: 'localhost' }, payload: { gate: { source: 'g.yaml', text: gateYaml(criteria) }, candidate: candidate, baseline: baseline } })

  it('a gate over the work limit (8 criteria x 1,000,000 resamples) is 422 before any resampling', { timeout: 60_000 }, async () => {
    const { app } = await serve()
    try {
      const criteria = Array.from({ length: 8 }, (_, i) => bootstrap(1_000_000, `c${i}`)).join('\n')
      const response = await check(app, criteria)
      assert.equal(response.statusCode, 422, response.body)
      assert.equal(response.json().error.code, 'ASSAY_GATE_TOO_MUCH_WORK')
      assert.match(response.json().error.message, new RegExp(String(DEFAULT_GATE_WORK_LIMIT)))
    } finally {
      await app.close()
    }
  })

  it('a check past the time limit is stopped with 422', { timeout: 120_000 }, async () => {
    const { app } = await serve({ gateTimeLimitMs: 1 })
    try {
      const response = await check(app, bootstrap(1_000_000, 'heavy'))
      assert.equal(response.statusCode, 422, response.body)
      assert.equal(response.json().error.code, 'ASSAY_GATE_TOO_MUCH_WORK')
    } finally {
      await app.close()
    }
  })

  it('/api/v1/health answers within 100 ms while a heavy check runs', { timeout: 300_000 }, async () => {
    const { app, port } = await serve()
    try {
      for (let round = 0; round < 2; round++) {
        let done = false
        const running = check(app, bootstrap(1_000_000, 'heavy')).finally(() => (done = true))
        const latencies: number[] = []
        while (!done) latencies.push(await timedHealth(port))
        const response = await running
        assert.equal(response.statusCode, 201, response.body)
        latencies.sort((a, b) => a - b)
        const median = latencies[Math.floor(latencies.length / 2)]
        // Dozens of answers while the check ran, the typical one well within 100 ms.
        assert.ok(latencies.length >= 10, `only ${latencies.length} health answers during the check`)
        assert.ok(median < 100, `median /health latency ${median.toFixed(1)} ms during the check`)
      }
    } finally {
      await app.close()
    }
  })
})
