import type { FastifyInstance, FastifyReply } from 'fastify'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { AssayError } from '../errors.js'
import type { Store } from '../store/store.js'
import { authenticate } from './auth.js'

/** The cookie that holds a signed-in browser's API token (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'assay_session'

/**
 * The web UI's files, built by `npm run build` into dist/ui (scripts/build-ui.mjs). This file sits
 * two folders below the package root both as src/server/*.ts and as dist/server/*.js.
 */
export const UI_ASSETS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/ui')

const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
}

/** No script, style or connection from anywhere but the server itself. */
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

/** The token a browser's cookie holds, or undefined. */
export function sessionToken(cookieHeader: string | undefined): string | undefined {
  if (cookieHeader === undefined) return undefined
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim()
      return value === '' ? undefined : value
    }
  }
  return undefined
}

/**
 * The UI's routes: its page at `/`, its two bundled files under /ui/, and the sign-in that puts a
 * token into an HttpOnly cookie. The UI reads data only through the API routes (/api/v1/…), whose
 * scope checks apply to the cookie's token as to a Bearer header (app.ts).
 */
export function registerUiRoutes(app: FastifyInstance, store: Store, authEnabled: boolean, assetsDir = UI_ASSETS_DIR): void {
  const files = new Map<string, Buffer>()
  const read = (name: string): Buffer => {
    let content = files.get(name)
    if (content === undefined) {
      const file = path.join(assetsDir, name)
      if (!existsSync(file)) throw new AssayError('ASSAY_ROUTE_NOT_FOUND', `the web UI is not built (no ${file}); run npm run build`)
      content = readFileSync(file)
      files.set(name, content)
    }
    return content
  }
  const page = (reply: FastifyReply): FastifyReply =>
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY).header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(read('index.html'))

  app.get('/', { config: { assayPublic: true } }, async (_request, reply) => page(reply))
  app.get('/ui/:file', { config: { assayPublic: true } }, async (request, reply) => {
    const name = (request.params as { file: string }).file
    const type = ASSETS[name]
    if (type === undefined) throw new AssayError('ASSAY_ROUTE_NOT_FOUND', `no UI file ${JSON.stringify(name)}`)
    return reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache').type(type).send(read(name))
  })
  app.post('/ui/session', { config: { assayPublic: true } }, async (request, reply) => {
    if (!authEnabled) return { token: null, auth: false }
    const token = (request.body as { token?: unknown } | undefined)?.token
    if (typeof token !== 'string') throw new AssayError('ASSAY_INVALID_ARGUMENT', 'sign in with { "token": "assay_…" }', { field: 'body.token' })
    const caller = await authenticate(store, `Bearer ${token}`)
    void reply.header('set-cookie', `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${request.protocol === 'https' ? '; Secure' : ''}`)
    return { token: caller.token, auth: true }
  })
  app.delete('/ui/session', { config: { assayPublic: true } }, async (_request, reply) => {
    void reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`)
    return { ok: true }
  })
}
