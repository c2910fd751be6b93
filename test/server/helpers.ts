import type { FastifyInstance } from 'fastify'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ApiToken, TokenScope } from '../../src/record/types.js'
import { buildServer, type ServerOptions } from '../../src/server/app.js'
import { hashSecret, newTokenId, newTokenSecret } from '../../src/server/auth.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'

export interface TestServer {
  dir: string
  root: string
  uploads: string
  store: Store
  app: FastifyInstance
  close(): Promise<void>
}

/** A SQLite store in a fresh directory behind an in-process app (auth on unless told). */
export async function testServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'assay-server-'))
  const root = path.join(dir, 'store')
  const uploads = path.join(dir, 'uploads')
  const store = await SqliteStore.open(root)
  const app = await buildServer({ store, auth: { enabled: true }, uploadDir: uploads, ...options })
  return {
    dir,
    root,
    uploads,
    store,
    app,
    async close() {
      await app.close()
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Create a token directly in the store (as `assay tokens create` does); returns its secret. */
export async function makeToken(store: Store, scope: TokenScope, experiments: string[] | null = null, name = `${scope}-token`): Promise<{ secret: string; token: ApiToken }> {
  const secret = newTokenSecret()
  const token: ApiToken = { id: newTokenId(), name, scope, experiments, createdAt: Date.now(), createdBy: 'test', revokedAt: null, expiresAt: null }
  await store.createApiToken(token, hashSecret(secret))
  return { secret, token }
}

export function bearer(secret: string): Record<string, string> {
  return { authorization: `Bearer ${secret}` }
}
