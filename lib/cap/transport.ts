/**
 * The plugin's only door to cap-connectivity's transport: a CAP remote service's credentials
 * become a destination (by name, or built from `credentials.url`), and requests go through
 * `request()` of lib/http. Modules load on the first call so plugin start-up stays cheap.
 */
import type { Destination } from '../destination/types'
import type { HttpResponse, RequestInit } from '../http/types'
import type { RemoteServiceOptions } from './cds'

/** Where a remote service sends its requests. */
export interface RemoteTarget {
  /** Destination name (or `<service> url` for credentials.url) — for messages and status. */
  readonly label: string
  readonly destination: string | Destination
  readonly forwardAuthToken: boolean
}

export interface RemoteRequest {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly body: string | Buffer | undefined
  readonly jwt?: string
  readonly tenant?: string
  readonly timeoutMs: number
  readonly csrf?: unknown
}

export interface RemoteResponse {
  readonly status: number
  readonly contentType: string
  /** Parsed JSON, text, or the body stream for binary/stream answers. */
  readonly body: unknown
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

/**
 * The target of a remote service from its `cds.requires` options: `credentials.destination`
 * wins over `credentials.url` (as in CAP); `credentials.url` becomes an Internet destination
 * with the service's basic credentials, headers and queries.
 * @throws TypeError when neither is configured.
 */
export function targetFor(serviceName: string, opts: RemoteServiceOptions): RemoteTarget {
  const c = opts.credentials ?? {}
  const forwardAuthToken = c.forwardAuthToken === true || opts.forwardAuthToken === true
  const name = str(c.destination)
  if (name) return { label: name, destination: name, forwardAuthToken }
  const url = str(c.url)
  if (!url) {
    throw new TypeError(`cds.requires.${serviceName}.credentials needs "destination" or "url"`)
  }
  const { parseDestination } = require('../destination/parse') as typeof import('../destination/parse')
  const user = str(c.username) ?? str(c.user)
  const props: Record<string, unknown> = {
    Name: serviceName,
    Type: 'HTTP',
    URL: url,
    ProxyType: 'Internet',
    Authentication: str(c.authentication) ?? (user ? 'BasicAuthentication' : 'NoAuthentication'),
  }
  if (user) props.User = user
  if (str(c.password)) props.Password = c.password
  for (const [key, prefix] of [
    ['headers', 'URL.headers.'],
    ['queries', 'URL.queries.'],
  ] as const) {
    const map = c[key]
    if (map && typeof map === 'object')
      for (const [k, v] of Object.entries(map)) props[prefix + k] = String(v)
  }
  const destination = parseDestination(props, {
    source: 'object',
    origin: `cds.requires.${serviceName}.credentials`,
  })
  return { label: `${serviceName} (credentials.url)`, destination, forwardAuthToken }
}

type RequestFn = (destination: string | Destination, init?: RequestInit) => Promise<HttpResponse>
let requestFn: RequestFn | undefined

function loadRequest(): RequestFn {
  // The failover layer's request: plain destination names pass straight to lib/http, group names fail over.
  if (!requestFn) requestFn = (require('../failover/group-request') as { request: RequestFn }).request
  return requestFn
}

const STREAMED = /stream|image|pdf|tar|zip|octet/

/** Sends one remote-service request through cap-connectivity's transport. */
export async function sendRemote(target: RemoteTarget, r: RemoteRequest): Promise<RemoteResponse> {
  ensureTransportWired()
  const init: RequestInit = {
    method: r.method,
    path: r.path,
    headers: r.headers,
    timeout: r.timeoutMs,
    // CAP sends CSRF only when the service sets `csrf`/`csrfInBatch`; keep that contract.
    csrf: Boolean(r.csrf),
    ...(r.body === undefined ? {} : { body: r.body }),
    ...(r.jwt ? { jwt: r.jwt } : {}),
    ...(r.tenant ? { tenant: r.tenant } : {}),
  }
  const res = await loadRequest()(target.destination, init)
  const ct = res.headers['content-type']
  const contentType = (Array.isArray(ct) ? ct[0] : ct) ?? ''
  let body: unknown
  if (STREAMED.test(r.headers.accept ?? '') && res.status < 400) body = res.body
  else if (contentType.includes('json')) {
    const text = await res.text()
    try {
      body = text ? JSON.parse(text) : undefined
    } catch {
      body = text
    }
  } else if (contentType === '' || /^text\/|xml|multipart|html/.test(contentType)) body = await res.text()
  // Anything else is binary (media, files): bytes, never a lossy UTF-8 string.
  else body = Buffer.from(await res.arrayBuffer())
  return { status: res.status, contentType, body }
}

let wired = false

/**
 * Points `./destinations.json` lookup at the CAP app's root. Sets the option only (the config
 * module is tiny; the resolver with its sources loads on the first remote call).
 */
export function setDestinationsRoot(root: string): void {
  const { setConfig } = require('../destination/config') as typeof import('../destination/config')
  setConfig({ root })
}

/**
 * First-use wiring (once): OnPremise destinations use a tunnel configured by configureTunnel() or
 * CAP_CONNECTIVITY_TUNNEL_URL/TOKEN; the route selection learns about it through this provider.
 */
export function ensureTransportWired(): void {
  if (wired) return
  wired = true
  const { getConfiguredTunnel } = require('../transport/tunnel') as typeof import('../transport/tunnel')
  const { registerTunnelProvider } = require('../transport/route') as typeof import('../transport/route')
  registerTunnelProvider(getConfiguredTunnel)
}
