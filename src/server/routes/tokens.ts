import type { ApiToken } from '../../record/types.js'
import { actorOf } from '../auth.js'
import type { RouteSpec } from '../route.js'
import { CreateTokenSchema, PAGE_PARAMETERS, PageQuery, requestedPage, RevokeTokenSchema, Sha256Param, TokenIdParam } from '../schemas.js'
import { ROUTES } from '../../store/http/routes.js'

/** Token administration: admin tokens valid for all experiments only. */
export function tokenRoutes(): RouteSpec[] {
  return [
    {
      method: 'POST',
      url: ROUTES.tokens,
      summary: 'store a new API token (its secret is hashed by the client; the server never sees it)',
      tag: 'tokens',
      scope: 'admin',
      touches: 'all',
      body: { json: CreateTokenSchema },
      response: { json: '{ ok: true }', status: 201 },
      async handler({ body, caller, state }) {
        const { token, secretSha256 } = body as { token: ApiToken; secretSha256: string }
        await state.store.createApiToken({ ...token, createdBy: actorOf(caller, token.createdBy) }, secretSha256)
        return { ok: true }
      },
    },
    {
      method: 'GET',
      url: ROUTES.tokens,
      summary: `one page of API tokens, oldest first (never a secret): ${PAGE_PARAMETERS}`,
      tag: 'tokens',
      scope: 'admin',
      touches: 'all',
      query: PageQuery,
      response: { json: '{ tokens: ApiToken[], nextCursor: string | null }' },
      handler: async ({ query, state }) => state.store.listApiTokensPage(requestedPage(query)),
    },
    {
      method: 'GET',
      url: ROUTES.tokenBySecret,
      summary: 'the token whose secret hashes to this sha256, or null',
      tag: 'tokens',
      scope: 'admin',
      touches: 'all',
      params: Sha256Param,
      response: { json: '{ token: ApiToken | null }' },
      handler: async ({ params, state }) => ({ token: await state.store.findApiToken(params.sha256 as string) }),
    },
    {
      method: 'POST',
      url: ROUTES.tokenRevoke,
      summary: 'revoke a token (requests with it are 401 from then on)',
      tag: 'tokens',
      scope: 'admin',
      touches: 'all',
      params: TokenIdParam,
      body: { json: RevokeTokenSchema },
      response: { json: '{ ok: true }' },
      async handler({ params, body, state }) {
        await state.store.revokeApiToken(params.id as string, (body as { at: number }).at)
        // Refused from the next request on, here; other servers refuse it within their cache window.
        state.tokens.clear()
        return { ok: true }
      },
    },
  ]
}
