/** The server and its clients share one table of paths (src/store/http/routes.ts). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { allRoutes } from '../../src/server/app.js'
import { MLFLOW_ROUTES } from '../../src/server/mlflow/paths.js'
import { ROUTES, routePath } from '../../src/store/http/routes.js'

test('every route the server declares is in the shared table, and every path in the table is served', () => {
  const served = new Set(allRoutes().map((r) => r.url))
  const table = new Set<string>([...Object.values(ROUTES), ...Object.values(MLFLOW_ROUTES)])
  assert.deepEqual([...served].filter((url) => !table.has(url)), [], 'a server route whose path is not in ROUTES')
  assert.deepEqual([...table].filter((url) => !served.has(url)), [], 'a path in ROUTES that no server route serves')
})

test('routePath fills parameters URL-encoded and refuses a missing one', () => {
  assert.equal(routePath(ROUTES.modelAliasEvents, { name: 'a/b c' }), '/api/v1/models/a%2Fb%20c/alias-events')
  assert.throws(() => routePath(ROUTES.run), /:runId/)
})
