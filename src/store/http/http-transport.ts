import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { AssayError, errorCatalogue, type ErrorCode } from '../../errors.js'

export interface RequestOptions {
  query?: Record<string, string | undefined>
  json?: unknown
  bytes?: Uint8Array
  stream?: () => Readable
  headers?: Record<string, string>
}

/**
 * Requests to one `assay server`: its base URL, the bearer token, a timeout, and the mapping of
 * what comes back to catalogue errors (an unreachable server, 502/503/504: ASSAY_STORE_UNAVAILABLE;
 * an assay error body: that error). Shared by HttpStore and the SDK's remote registry client.
 */
export class HttpTransport {
  readonly base: string
  private readonly token: string | undefined
  private readonly timeoutMs: number
  /**
   * Which credentials the requests carry, as a one-way key (sha256 of the token; '' without one),
   * so that the spool keeps each token's writes apart without storing the secret.
   */
  readonly credentialKey: string

  constructor(url: string, options: { token?: string; timeoutMs?: number } = {}) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new AssayError('ASSAY_INVALID_STORE_URL', `${JSON.stringify(url)} is not a URL`)
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new AssayError('ASSAY_INVALID_STORE_URL', `${parsed.protocol} is not http: or https:`)
    parsed.username = ''
    parsed.password = ''
    parsed.search = ''
    parsed.hash = ''
    this.base = parsed.toString().replace(/\/+$/, '')
    this.token = options.token ?? (process.env.ASSAY_TOKEN || undefined)
    this.credentialKey = this.token === undefined ? '' : createHash('sha256').update(this.token, 'utf8').digest('hex')
    const timeout = options.timeoutMs ?? Number(process.env.ASSAY_HTTP_TIMEOUT_MS ?? 30_000)
    this.timeoutMs = Number.isFinite(timeout) && timeout > 0 ? timeout : 30_000
  }

  async request(method: string, route: string, options: RequestOptions = {}): Promise<Response> {
    const url = new URL(this.base + route)
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, v)
    const headers: Record<string, string> = { ...options.headers }
    if (this.token) headers.authorization = `Bearer ${this.token}`
    let body: RequestInit['body']
    let duplex: 'half' | undefined
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(options.json)
    } else if (options.bytes !== undefined) {
      headers['content-type'] = 'application/octet-stream'
      body = options.bytes as Uint8Array<ArrayBuffer>
    } else if (options.stream !== undefined) {
      headers['content-type'] = 'application/octet-stream'
      body = Readable.toWeb(options.stream()) as ReadableStream<Uint8Array>
      duplex = 'half'
    }
    let response: Response
    try {
      response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs), ...(duplex ? { duplex } : {}) } as RequestInit)
    } catch (error) {
      throw this.unavailable(error)
    }
    if (response.ok) return response
    throw await this.errorOf(response)
  }

  async json<T>(method: string, route: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.request(method, route, options)
    try {
      return (await response.json()) as T
    } catch (error) {
      throw this.unavailable(error)
    }
  }

  async bytes(route: string, query: Record<string, string>): Promise<{ bytes: Buffer; headers: Headers }> {
    const response = await this.request('GET', route, { query })
    try {
      return { bytes: Buffer.from(await response.arrayBuffer()), headers: response.headers }
    } catch (error) {
      throw this.unavailable(error)
    }
  }

  unavailable(error: unknown): AssayError {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as { name?: string }).name ?? 'error'
    return new AssayError('ASSAY_STORE_UNAVAILABLE', `cannot reach the assay server at ${this.base} (${cause})`, { server: this.base, cause })
  }

  private async errorOf(response: Response): Promise<AssayError> {
    let payload: { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined
    try {
      payload = (await response.json()) as typeof payload
    } catch {
      payload = undefined
    }
    const code = payload?.error?.code
    if (code !== undefined && code in errorCatalogue) {
      return new AssayError(code as ErrorCode, payload?.error?.message ?? code, payload?.error?.details)
    }
    if (response.status === 502 || response.status === 503 || response.status === 504) {
      return new AssayError('ASSAY_STORE_UNAVAILABLE', `the assay server at ${this.base} answered ${response.status}`, { server: this.base, status: response.status })
    }
    return new AssayError('ASSAY_INTERNAL', `the assay server at ${this.base} answered ${response.status} without an assay error`, { server: this.base, status: response.status })
  }
}
