/**
 * Unauditable traffic stops promotion (docs/production.md "Unauditable traffic"), on every
 * backend: SQLite, PostgreSQL, and HTTP, where the promotion is POST /api/v1/promotions run by
 * the server. A model built on a deployment without its lineage metadata is refused with
 * ASSAY_UNAUDITABLE_TRAFFIC naming the deployment and the missing fields; the refusal is a
 * `promotion-refused` audit record; a complete deployment of the endpoint clears it.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { verifyAuditLog } from '../../src/audit/append-and-verify.js'
import { checkMonitor } from '../../src/monitor/check-monitor.js'
import { parseMonitorSpec } from '../../src/monitor/monitor-spec.js'
import { addModelVersion, currentHolder } from '../../src/registry/registry.js'
import { registryActionsFor, type RegistryActions } from '../../src/sdk/registry-actions.js'
import type { Store } from '../../src/store/store.js'
import { newDeployment } from '../production/helpers.js'
import { promotableModel } from '../production/promotable-model.js'
import { HOUR, MONITOR_TEXT, storedTraffic, storeTraffic } from '../production/stored-traffic.js'
import { STORE_BACKENDS, type OpenedStore } from '../store/backends.js'
import { rejectsWith } from '../store/fixtures.js'

const NOW = Date.UTC(2026, 11, 1, 12)

for (const backend of STORE_BACKENDS) {
  if (backend.skip !== undefined) test(`unauditable traffic stops promotion: ${backend.name}`, { skip: backend.skip }, () => {})
  describe(`unauditable traffic stops promotion: ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStore
    let store: Store
    let actions: RegistryActions

    beforeEach(async () => {
      opened = await backend.open()
      store = opened.store
      actions = registryActionsFor(store)
      await promotableModel(store, 'qa')
    })
    afterEach(async () => {
      await opened.dispose()
    })

    const promote = (model = 'qa', version = 2) => actions.promote({ model, version, alias: 'champion', actor: 'bob' })

    test('a deployment of the model without an owner refuses the promotion, names it, and records the refusal; a complete deployment clears it', async () => {
      const ownerless = await store.createDeployment(newDeployment({ model: 'qa', modelVersion: 1, owner: null, createdAt: NOW - 2 * HOUR }))
      assert.deepEqual(ownerless.unauditable, ['owner'])
      // Another model's unauditable deployment is not qa's business.
      await promotableModel(store, 'other')
      await store.createDeployment(newDeployment({ model: 'other', modelVersion: 1, endpoint: 'other-api', codeHash: null, createdAt: NOW - 2 * HOUR }))

      const before = (await store.lastAuditRecord())?.seq ?? 0
      const error = await rejectsWith(promote(), 'ASSAY_UNAUDITABLE_TRAFFIC')
      assert.match(error.message, new RegExp(`deployment ${ownerless.id} \\(endpoint chat, production\\) has no owner`))
      assert.doesNotMatch(error.message, /other-api/)
      assert.equal(await currentHolder(store, 'qa', 'champion'), 1, 'nothing moved')
      const log = await store.auditRecords()
      assert.equal(log.length, before + 1, 'one record: the refusal (no gate ran)')
      const refusal = log.at(-1)
      assert.equal(refusal?.kind, 'promotion-refused')
      assert.equal(refusal?.subject, 'qa@champion')
      const body = refusal?.body as { code: string; version: number; deployments: { deployment: string; missing: string[]; builtOn: string }[] }
      assert.equal(body.code, 'ASSAY_UNAUDITABLE_TRAFFIC')
      assert.equal(body.version, 2)
      assert.deepEqual(body.deployments.map((d) => [d.deployment, d.missing, d.builtOn]), [[ownerless.id, ['owner'], 'model']])
      assert.equal((await verifyAuditLog(store)).ok, true)

      // The other model is refused on its own deployment, not on qa's.
      const otherError = await rejectsWith(promote('other'), 'ASSAY_UNAUDITABLE_TRAFFIC')
      assert.match(otherError.message, /endpoint other-api, production\) has no codeHash/)
      assert.doesNotMatch(otherError.message, new RegExp(ownerless.id))

      // The metadata comes to exist: a complete deployment of the same endpoint, recorded later.
      await store.createDeployment(newDeployment({ model: 'qa', modelVersion: 1, createdAt: NOW - HOUR }))
      const promoted = await promote()
      assert.equal(promoted.event.version, 2)
      assert.equal(await currentHolder(store, 'qa', 'champion'), 2)
    })

    test('traffic of a deployment naming no model, found unauditable by a monitor guarding the model, refuses it until a complete deployment exists', async () => {
      const anonymous = await store.createDeployment(newDeployment({ createdAt: NOW - 3 * HOUR }))
      assert.deepEqual(anonymous.unauditable, ['modelVersion'])
      // Without a monitor decision nothing ties a deployment naming no model to qa.
      const first = await actions.promote({ model: 'qa', version: 2, alias: 'champion', actor: 'bob' })
      assert.equal(first.event.version, 2)

      await storeTraffic(store, storedTraffic(51, anonymous.id, 60, NOW - 2 * HOUR, NOW - HOUR))
      await storeTraffic(store, storedTraffic(52, anonymous.id, 60, NOW - HOUR, NOW))
      const monitor = parseMonitorSpec(MONITOR_TEXT, 'qa.monitor.yaml')
      const decision = await checkMonitor(store, { monitor, deployment: anonymous.id, window: '1h', reference: 'trailing:1h', now: NOW, actor: 'monitor-bot' })
      assert.equal(decision.evidence.decision, 'escalate')
      assert.ok(decision.evidence.actions.includes('stop-promotion'))
      assert.equal(decision.evidence.monitor.model, 'qa')

      await addModelVersion(store, { model: 'qa', run: (await store.listModelVersions('qa'))[1].runId, actor: 'alice' })
      const error = await rejectsWith(actions.promote({ model: 'qa', version: 3, alias: 'champion', actor: 'bob' }), 'ASSAY_UNAUDITABLE_TRAFFIC')
      assert.match(error.message, new RegExp(`deployment ${anonymous.id} \\(endpoint chat, production\\) has no modelVersion \\(monitor qa-prod, audit record ${decision.audit?.seq}\\)`))
      assert.equal(await currentHolder(store, 'qa', 'champion'), 2)

      await store.createDeployment(newDeployment({ model: 'qa', modelVersion: 2, createdAt: NOW - HOUR }))
      const promoted = await actions.promote({ model: 'qa', version: 3, alias: 'champion', actor: 'bob' })
      assert.equal(promoted.event.version, 3)
    })

    test("a model whose run consumed the artifact of a version served unauditably is refused too (lineage)", async () => {
      const [qaRun] = await store.listModelVersions('qa').then((vs) => vs.map((v) => v.runId))
      const weights = await store.putArtifact(qaRun, 'model/weights.bin', { bytes: Buffer.from('qa weights') }, 'produced')
      await addModelVersion(store, { model: 'qa', run: qaRun, artifact: 'model/weights.bin', actor: 'alice' })
      const served = await store.createDeployment(newDeployment({ model: 'qa', modelVersion: 3, codeHash: null, createdAt: NOW - HOUR }))
      // distilled: a model trained on qa version 3's weights.
      const runs = await promotableModel(store, 'distilled')
      await store.putArtifact(runs[1], 'teacher/weights.bin', { sha256: weights.sha256 }, 'consumed')
      const error = await rejectsWith(promote('distilled'), 'ASSAY_UNAUDITABLE_TRAFFIC')
      assert.match(error.message, new RegExp(`deployment ${served.id} \\(endpoint chat, production, serving qa version 3 whose artifact the candidate's run consumed\\) has no codeHash`))
      assert.equal(await currentHolder(store, 'distilled', 'champion'), 1)
    })
  })
}
