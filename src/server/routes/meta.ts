import type { RouteSpec } from '../route.js'
import { ROUTES } from '../../store/http/routes.js'

export function metaRoutes(): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: ROUTES.health,
      summary: 'liveness: the server answers and names its store kind',
      tag: 'meta',
      scope: 'public',
      touches: 'none',
      response: { json: '{ ok: true, store }' },
      handler: async ({ state }) => ({ ok: true, store: state.store.kind }),
    },
    {
      method: 'GET',
      url: ROUTES.whoami,
      summary: 'the calling token (id, name, scope, experiments), or null when auth is off',
      tag: 'meta',
      scope: 'read',
      touches: 'none',
      response: { json: '{ token: ApiToken | null }' },
      handler: async ({ caller }) => ({ token: caller.token }),
    },
  ]
}
