/**
 * The store contract's paged listings beyond runs, experiments and models (store-contract.test.ts
 * has those): model versions, alias events, gate policies, the audit log, API tokens, artifact
 * lineage and the holdout ledger, on every backend. Each walk with a small limit must give the
 * whole listing in its order, every page but the last full; a cursor of one listing is refused by
 * every other.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { nextAuditRecord } from '../../src/audit/audit-log.js'
import { gatePolicyAuditBody } from '../../src/promotion/gate-policy.js'
import type { AuditRecord } from '../../src/record/types.js'
import { MAX_CURSOR_LENGTH } from '../../src/store/pages.js'
import type { Store } from '../../src/store/store.js'
import { LAX_CRITERION, gateYaml } from '../gates/helpers.js'
import { STORE_BACKENDS, type OpenedStore } from './backends.js'
import { newRun, rejectsWith, walkPages } from './fixtures.js'

const MODEL = { owner: 'alice', description: '', tags: {}, createdAt: 1000, createdBy: 'alice' }

/** Append an audit record after the log's head and write it with `write` (moveAlias, setGatePolicy). */
async function chained<T>(store: Store, input: { kind: AuditRecord['kind']; subject: string; at: number; body: unknown; actor?: string }, write: (record: AuditRecord) => Promise<T>): Promise<T> {
  return write(nextAuditRecord(await store.lastAuditRecord(), { actor: 'alice', ...input }))
}

/** Two models with versions, alias moves and gate policy versions: every registry listing has several pages at limit 2. */
async function fillRegistry(store: Store): Promise<void> {
  const run = newRun()
  await store.createRun(run)
  for (const name of ['m-b', 'm-a']) {
    await store.createModel({ ...MODEL, name })
    for (let i = 0; i < 5; i++) await store.addModelVersion({ model: name, runId: run.id, artifact: null, description: `v${i + 1}`, tags: {}, createdAt: 2000 + i, createdBy: 'alice' })
  }
  const holders = new Map<string, number | null>()
  for (const [i, [alias, version]] of ([['champion', 1], ['canary', 2], ['champion', 3], ['canary', 1], ['champion', 5]] as const).entries()) {
    const previousVersion = holders.get(alias) ?? null
    const event = { model: 'm-a', alias, kind: 'set' as const, version, previousVersion, actor: 'alice', at: 3000 + i, reason: `move ${i}` }
    await chained(store, { kind: 'alias-set', subject: `m-a@${alias}`, at: event.at, body: { model: 'm-a', alias, from: previousVersion, to: version } }, (record) => store.moveAlias(record, event))
    holders.set(alias, version)
  }
  const text = gateYaml(LAX_CRITERION)
  const sha256 = createHash('sha256').update(text).digest('hex')
  for (const [model, alias, version] of [['m-b', 'champion', 1], ['m-a', 'champion', 1], ['m-a', 'canary', 1], ['m-b', 'champion', 2], ['m-a', 'champion', 2], ['m-b', 'canary', 1], ['m-a', 'champion', 3]] as const) {
    const policy = { model, alias, version, gate: 'release', text, sha256, source: 'lax.yaml', actor: 'alice', at: 4000 + version, reason: `${model}@${alias} v${version}` }
    await chained(store, { kind: 'gate-policy', subject: `${model}@${alias}`, at: policy.at, body: gatePolicyAuditBody(policy) }, (record) => store.setGatePolicy(record, policy))
  }
}

for (const backend of STORE_BACKENDS) {
  if (backend.skip !== undefined) test(`store contract, pages: ${backend.name}`, { skip: backend.skip }, () => {})
  describe(`store contract, pages: ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStore
    let store: Store
    // The HTTP store leaves `experiments` to the server, which applies the token's (server-listing-pages.test.ts).
    const serverFilters = backend.name === 'http' ? 'over HTTP the server applies the token\'s experiments, not the caller\'s' : undefined

    beforeEach(async () => {
      opened = await backend.open()
      store = opened.store
    })
    afterEach(async () => {
      await opened.dispose()
    })

    test('model versions: pages in version order make up the whole listing; an unknown model is ASSAY_MODEL_NOT_FOUND', async () => {
      await fillRegistry(store)
      const whole = await store.listModelVersions('m-a')
      assert.deepEqual(whole.map((v) => v.version), [1, 2, 3, 4, 5])
      const walked = await walkPages((cursor) => store.listModelVersionsPage({ model: 'm-a', limit: 2, cursor }), (p) => p.versions, 2)
      assert.deepEqual(walked, { items: whole, pages: 3 })
      assert.deepEqual(await store.listModelVersionsPage({ model: 'm-a', limit: 5 }), { versions: whole, nextCursor: null })
      await rejectsWith(store.listModelVersionsPage({ model: 'nope', limit: 2 }), 'ASSAY_MODEL_NOT_FOUND')
    })

    test('alias events: pages by seq, of one alias or all, make up the whole listing', async () => {
      await fillRegistry(store)
      const whole = await store.aliasEvents('m-a')
      assert.deepEqual(whole.map((e) => e.reason), ['move 0', 'move 1', 'move 2', 'move 3', 'move 4'])
      assert.deepEqual(await walkPages((cursor) => store.aliasEventsPage({ model: 'm-a', limit: 2, cursor }), (p) => p.events, 2), { items: whole, pages: 3 })
      const champion = await walkPages((cursor) => store.aliasEventsPage({ model: 'm-a', alias: 'champion', limit: 1, cursor }), (p) => p.events, 1)
      assert.deepEqual(champion.items, await store.aliasEvents('m-a', 'champion'))
      assert.deepEqual(champion.items.map((e) => e.version), [1, 3, 5])
      assert.deepEqual(await store.aliasEventsPage({ model: 'm-b', limit: 2 }), { events: [], nextCursor: null })
    })

    test('gate policies: pages by model, alias and version; filters; `current` keeps each alias\'s latest version', async () => {
      await fillRegistry(store)
      const whole = await store.gatePolicies()
      const keys = whole.map((p) => `${p.model}@${p.alias} v${p.version}`)
      assert.deepEqual(keys, ['m-a@canary v1', 'm-a@champion v1', 'm-a@champion v2', 'm-a@champion v3', 'm-b@canary v1', 'm-b@champion v1', 'm-b@champion v2'])
      assert.deepEqual(await walkPages((cursor) => store.gatePoliciesPage({ limit: 3, cursor }), (p) => p.policies, 3), { items: whole, pages: 3 })
      const champion = await walkPages((cursor) => store.gatePoliciesPage({ model: 'm-a', alias: 'champion', limit: 2, cursor }), (p) => p.policies, 2)
      assert.deepEqual(champion.items, await store.gatePolicies({ model: 'm-a', alias: 'champion' }))
      const current = await walkPages((cursor) => store.gatePoliciesPage({ current: true, limit: 1, cursor }), (p) => p.policies, 1)
      assert.deepEqual(current.items.map((p) => `${p.model}@${p.alias} v${p.version}`), ['m-a@canary v1', 'm-a@champion v3', 'm-b@canary v1', 'm-b@champion v2'])
      assert.deepEqual((await store.gatePoliciesPage({ model: 'm-b', current: true, limit: 10 })).policies.map((p) => p.version), [1, 2])
    })

    test('the audit log: pages in sequence order make up the whole log', async () => {
      await fillRegistry(store)
      const whole = await store.auditRecords()
      assert.equal(whole.length, 12)
      assert.deepEqual(whole.map((r) => r.seq), Array.from({ length: 12 }, (_, i) => i + 1))
      assert.deepEqual(await walkPages((cursor) => store.auditRecordsPage({ limit: 5, cursor }), (p) => p.records, 5), { items: whole, pages: 3 })
      assert.deepEqual(await store.auditRecordsPage({ limit: 12 }), { records: whole, nextCursor: null })
    })

    test('API tokens: pages by creation time, then id (ties included), make up the whole listing', async () => {
      const token = (id: string, createdAt: number) => ({ id, name: id, scope: 'read' as const, experiments: null, createdAt, createdBy: 'alice', revokedAt: null, expiresAt: null })
      for (const [id, at] of [['tok-c', 2000], ['tok-b', 1000], ['tok-e', 3000], ['tok-a', 1000], ['tok-d', 2000]] as const) await store.createApiToken(token(id, at), createHash('sha256').update(id).digest('hex'))
      const whole = await store.listApiTokens()
      assert.deepEqual(whole.map((t) => t.id), ['tok-a', 'tok-b', 'tok-c', 'tok-d', 'tok-e'])
      assert.deepEqual(await walkPages((cursor) => store.listApiTokensPage({ limit: 2, cursor }), (p) => p.tokens, 2), { items: whole, pages: 3 })
    })

    test('artifact lineage: pages by time, run, name and direction make up every edge of the content', async () => {
      const bytes = Buffer.from('shared content')
      const runs = ['exp-a', 'exp-b', 'exp-a', 'exp-b', 'exp-a'].map((experiment, i) => newRun({ experiment, name: `r${i}`, startTime: 1000 + i }))
      for (const r of runs) await store.createRun(r)
      const produced = await store.putArtifact(runs[0].id, 'model.bin', { bytes }, 'produced')
      await store.putArtifact(runs[0].id, 'copy.bin', { bytes }, 'produced')
      for (const r of runs.slice(1)) await store.putArtifact(r.id, 'input.bin', { sha256: produced.sha256 }, 'consumed')
      const whole = await store.artifactLineage(produced.sha256)
      assert.equal(whole.length, 6)
      const walked = await walkPages((cursor) => store.artifactLineagePage({ sha256: produced.sha256, limit: 4, cursor }), (p) => p.edges, 4)
      assert.deepEqual(walked, { items: whole, pages: 2 })
      const key = (e: (typeof whole)[number]) => [e.createdAt, e.runId, e.name, e.direction]
      for (let i = 1; i < whole.length; i++) assert.ok(JSON.stringify(key(whole[i - 1])) !== JSON.stringify(key(whole[i])), 'edges have distinct keys')
      assert.deepEqual(await store.artifactLineagePage({ sha256: '0'.repeat(64), limit: 2 }), { edges: [], nextCursor: null })
    })

    test('artifact lineage: with `experiments`, only their runs\' edges, and pages stay full', { skip: serverFilters }, async () => {
      const bytes = Buffer.from('shared content')
      const runs = ['exp-a', 'exp-b', 'exp-a', 'exp-b', 'exp-a', 'exp-a'].map((experiment, i) => newRun({ experiment, name: `r${i}`, startTime: 1000 + i }))
      for (const r of runs) await store.createRun(r)
      const produced = await store.putArtifact(runs[0].id, 'model.bin', { bytes }, 'produced')
      for (const r of runs.slice(1)) await store.putArtifact(r.id, 'input.bin', { sha256: produced.sha256 }, 'consumed')
      const ofA = new Set(runs.filter((r) => r.experiment === 'exp-a').map((r) => r.id))
      const expected = (await store.artifactLineage(produced.sha256)).filter((e) => ofA.has(e.runId))
      const walked = await walkPages((cursor) => store.artifactLineagePage({ sha256: produced.sha256, experiments: ['exp-a'], limit: 2, cursor }), (p) => p.edges, 2)
      assert.deepEqual(walked, { items: expected, pages: 2 })
      assert.deepEqual(await store.artifactLineagePage({ sha256: produced.sha256, experiments: [], limit: 2 }), { edges: [], nextCursor: null })
    })

    test('the holdout ledger: pages oldest first make up the whole ledger of one dataset version', async () => {
      const sha = 'd'.repeat(64)
      const run = newRun()
      await store.createRun(run)
      for (let i = 0; i < 7; i++) await store.recordHoldoutRead({ datasetSha256: sha, datasetName: 'test', runIds: [run.id], purpose: `read ${i}`, actor: 'alice', at: 1000 + (i % 3) })
      await store.recordHoldoutRead({ datasetSha256: 'e'.repeat(64), datasetName: 'other', runIds: [run.id], purpose: 'other dataset', actor: 'alice', at: 500 })
      const whole = await store.holdoutReads(sha)
      assert.equal(whole.length, 7)
      assert.deepEqual(await walkPages((cursor) => store.holdoutReadsPage({ datasetSha256: sha, limit: 3, cursor }), (p) => p.reads, 3), { items: whole, pages: 3 })
    })

    test('the holdout ledger: with `experiments`, only entries that name runs, every one in them, and pages stay full', { skip: serverFilters }, async () => {
      const sha = 'd'.repeat(64)
      const a = newRun({ experiment: 'exp-a' })
      const a2 = newRun({ experiment: 'exp-a', name: 'second' })
      const b = newRun({ experiment: 'exp-b' })
      for (const r of [a, a2, b]) await store.createRun(r)
      const ledger = [[a.id], [b.id], [a.id, b.id], [a.id, a2.id], [b.id], [b.id], [a2.id], [], [a.id], ['0'.repeat(32)]]
      for (const [i, runIds] of ledger.entries()) await store.recordHoldoutRead({ datasetSha256: sha, datasetName: 'test', runIds, purpose: `read ${i}`, actor: 'alice', at: 1000 + i })
      const walked = await walkPages((cursor) => store.holdoutReadsPage({ datasetSha256: sha, experiments: ['exp-a'], limit: 2, cursor }), (p) => p.reads, 2)
      // Entries about exp-a's runs only: the entry about no run is for callers of every experiment.
      assert.deepEqual(walked.items.map((r) => r.purpose), ['read 0', 'read 3', 'read 6', 'read 8'])
      assert.equal(walked.pages, 2)
      assert.deepEqual((await store.holdoutReadsPage({ datasetSha256: sha, experiments: [], limit: 10 })).reads, [])
      assert.ok((await store.holdoutReadsPage({ datasetSha256: sha, limit: 10 })).reads.some((r) => r.purpose === 'read 7'))
    })

    test('a cursor of one listing is refused by every other; limits are 1 to 1,000; an over-long cursor is refused', async () => {
      await fillRegistry(store)
      const run = newRun()
      await store.createRun(run)
      const content = await store.putArtifact(run.id, 'a.bin', { bytes: Buffer.from('a') }, 'produced')
      await store.putArtifact(run.id, 'b.bin', { bytes: Buffer.from('a') }, 'produced')
      const sha = 'd'.repeat(64)
      for (let i = 0; i < 2; i++) await store.recordHoldoutRead({ datasetSha256: sha, datasetName: 'test', runIds: [run.id], purpose: 'p', actor: 'alice', at: 1000 + i })
      for (const id of ['tok-a', 'tok-b']) await store.createApiToken({ id, name: id, scope: 'read', experiments: null, createdAt: 1, createdBy: 'alice', revokedAt: null, expiresAt: null }, createHash('sha256').update(id).digest('hex'))
      await store.createRun(newRun({ experiment: 'exp-other' }))
      const listings: Record<string, (page: { limit: number; cursor?: string }) => Promise<{ nextCursor: string | null }>> = {
        run: (p) => store.listRunsPage(p),
        experiment: (p) => store.listExperimentsPage(p),
        model: (p) => store.listModelsPage(p),
        'model version': (p) => store.listModelVersionsPage({ model: 'm-a', ...p }),
        'alias event': (p) => store.aliasEventsPage({ model: 'm-a', ...p }),
        'gate policy': (p) => store.gatePoliciesPage(p),
        'audit log': (p) => store.auditRecordsPage(p),
        'API token': (p) => store.listApiTokensPage(p),
        'artifact lineage': (p) => store.artifactLineagePage({ sha256: content.sha256, ...p }),
        'holdout ledger': (p) => store.holdoutReadsPage({ datasetSha256: sha, ...p }),
      }
      const cursors = new Map<string, string>()
      for (const [name, list] of Object.entries(listings)) {
        const { nextCursor } = await list({ limit: 1 })
        assert.ok(nextCursor !== null, `the ${name} listing has a second page`)
        cursors.set(name, nextCursor)
      }
      for (const [name, list] of Object.entries(listings)) {
        for (const [other, cursor] of cursors) {
          if (other === name) await list({ limit: 1, cursor })
          else await rejectsWith(list({ limit: 1, cursor }), 'ASSAY_INVALID_ARGUMENT', new RegExp(`not a cursor of the ${name} listing`))
        }
        await rejectsWith(list({ limit: 0 }), 'ASSAY_INVALID_ARGUMENT')
        await rejectsWith(list({ limit: 1001 }), 'ASSAY_INVALID_ARGUMENT')
        await rejectsWith(list({ limit: 1, cursor: 'x'.repeat(MAX_CURSOR_LENGTH + 1) }), 'ASSAY_INVALID_ARGUMENT')
      }
    })
  })
}
