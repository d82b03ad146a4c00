/**
 * OAuth2 token endpoint client (XSUAA / IAS / any RFC 6749 server) with a bounded token cache:
 * tokens are reused until a safety margin before expiry and concurrent requests for one key share
 * one HTTP call, so a burst of requests never turns into a burst of grants.
 */
import { createHash } from 'node:crypto'
import { rootCertificates } from 'node:tls'
import { debuglog } from 'node:util'
import type { Dispatcher } from 'undici'
import { AuthError } from '../errors'
import { decodeJwt } from './jwt'

const debug = debuglog('cap-connectivity:auth')

export interface TokenRequest {
  /** Full token endpoint, e.g. `https://tenant.authentication.eu10.hana.ondemand.com/oauth/token`. */
  tokenUrl: string
  grantType: 'client_credentials' | 'password' | 'urn:ietf:params:oauth:grant-type:jwt-bearer'
  clientId: string
  clientSecret?: string
  /** Default true (as xssec); false sends HTTP Basic instead. */
  credentialsInBody?: boolean
  /** The user JWT for the jwt-bearer grant. */
  assertion?: string
  username?: string
  password?: string
  scope?: string
  /** Extra request headers, e.g. `x-zid` for a subscriber tenant. */
  headers?: Record<string, string>
  /** Client certificate for mTLS bindings (`certurl`). */
  /** `ca` adds trusted roots for a private token endpoint (the system store stays trusted too). */
  tls?: { cert?: string; key?: string; pfx?: Buffer; passphrase?: string; ca?: string }
  /** Default true. */
  cache?: boolean
  /** Default 10 000 ms. */
  timeoutMs?: number
}

export interface AccessToken {
  accessToken: string
  tokenType: string
  /** Epoch milliseconds. */
  expiresAt: number
  scope?: string
}

const MARGIN_MS = 60_000
const MAX_ENTRIES = 500
const DEFAULT_EXPIRES_S = 300
const tokens = new Map<string, AccessToken>()
const inflight = new Map<string, Promise<AccessToken>>()
let generation = 0

/** The secret parts enter the key only as a hash, so the key itself is safe to keep and compare. */
function cacheKey(req: TokenRequest): string {
  const h = createHash('sha256')
  for (const part of [
    req.tokenUrl,
    req.grantType,
    req.clientId,
    req.clientSecret,
    req.assertion,
    req.username,
    req.password,
    req.scope,
    JSON.stringify(req.headers ?? {}),
    req.tls?.cert,
    req.tls?.pfx?.toString('base64'),
    req.tls?.ca,
    String(req.credentialsInBody ?? true),
  ]) {
    h.update(part ?? '')
    h.update('\u0000')
  }
  return h.digest('base64url')
}

function endpointLabel(tokenUrl: string): string {
  try {
    const u = new URL(tokenUrl)
    return `${u.origin}${u.pathname}`
  } catch {
    return 'the token endpoint'
  }
}

function validate(req: TokenRequest): URL {
  if (typeof req !== 'object' || req === null) throw new TypeError('fetchToken: request must be an object')
  if (typeof req.clientId !== 'string' || req.clientId === '')
    throw new TypeError('fetchToken: "clientId" is required')
  let url: URL
  try {
    url = new URL(req.tokenUrl)
  } catch {
    throw new TypeError('fetchToken: "tokenUrl" must be an absolute URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TypeError('fetchToken: "tokenUrl" must be http(s)')
  if (req.grantType === 'urn:ietf:params:oauth:grant-type:jwt-bearer' && !req.assertion)
    throw new TypeError('fetchToken: "assertion" is required for the jwt-bearer grant')
  if (req.grantType === 'password' && (!req.username || req.password === undefined))
    throw new TypeError('fetchToken: "username" and "password" are required for the password grant')
  if (req.timeoutMs !== undefined && (!Number.isFinite(req.timeoutMs) || req.timeoutMs <= 0))
    throw new RangeError('fetchToken: "timeoutMs" must be a positive number')
  return url
}

/** Short, secret-free description of a failed response (OAuth `error` / `error_description`). */
function describeFailure(body: string): string {
  try {
    const json = JSON.parse(body) as Record<string, unknown>
    const parts = [json.error, json.error_description].filter((p): p is string => typeof p === 'string')
    if (parts.length > 0) return parts.join(': ').slice(0, 200)
  } catch {
    // not JSON: say nothing about the body, it may echo request data
  }
  return 'no OAuth error in the response'
}

async function requestToken(req: TokenRequest, url: URL): Promise<AccessToken> {
  const form = new URLSearchParams({ grant_type: req.grantType })
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
    ...req.headers,
  }
  if (req.credentialsInBody ?? true) {
    form.set('client_id', req.clientId)
    if (req.clientSecret !== undefined) form.set('client_secret', req.clientSecret)
  } else {
    const basic = `${encodeURIComponent(req.clientId)}:${encodeURIComponent(req.clientSecret ?? '')}`
    headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`
  }
  if (req.assertion) {
    form.set('assertion', req.assertion)
    form.set('token_format', 'jwt')
    form.set('response_type', 'token')
  }
  if (req.username) form.set('username', req.username)
  if (req.password !== undefined) form.set('password', req.password)
  if (req.scope) form.set('scope', req.scope)
  const label = endpointLabel(req.tokenUrl)
  const timeoutMs = req.timeoutMs ?? 10_000
  let dispatcher: Dispatcher | undefined
  try {
    // undici is loaded on the first token request, not at require time (start-up cost)
    const { Agent, request } = await import('undici')
    if (req.tls) {
      const { ca, ...client } = req.tls
      // a private CA is added to, not substituted for, the default roots
      dispatcher = new Agent({ connect: { ...client, ...(ca ? { ca: [...rootCertificates, ca] } : {}) } })
    }
    const res = await request(url, {
      method: 'POST',
      headers,
      body: form.toString(),
      signal: AbortSignal.timeout(timeoutMs),
      ...(dispatcher ? { dispatcher } : {}),
    })
    const text = await res.body.text()
    if (res.statusCode !== 200) {
      throw new AuthError(
        'TOKEN_FETCH_FAILED',
        `Token request (${req.grantType}) for client "${req.clientId}" to ${label} failed with HTTP ${res.statusCode} (${describeFailure(text)}). Check the binding's clientid/clientsecret and the tenant.`,
        { details: { status: res.statusCode, tokenUrl: label } },
      )
    }
    let json: Record<string, unknown>
    try {
      json = JSON.parse(text) as Record<string, unknown>
    } catch {
      json = {}
    }
    if (typeof json.access_token !== 'string' || json.access_token === '') {
      throw new AuthError('TOKEN_FETCH_FAILED', `Token response from ${label} has no access_token.`, {
        details: { status: res.statusCode, tokenUrl: label },
      })
    }
    const expiresIn = Number(json.expires_in)
    const token: AccessToken = {
      accessToken: json.access_token,
      tokenType: typeof json.token_type === 'string' ? json.token_type : 'bearer',
      expiresAt:
        Date.now() + (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : DEFAULT_EXPIRES_S) * 1000,
    }
    if (typeof json.scope === 'string') token.scope = json.scope
    debug(
      'token for client %s from %s, expires in %ds',
      req.clientId,
      label,
      Math.round((token.expiresAt - Date.now()) / 1000),
    )
    return token
  } catch (err) {
    if (err instanceof AuthError) throw err
    const reason =
      (err as Error).name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : (err as Error).message
    throw new AuthError(
      'TOKEN_FETCH_FAILED',
      `Token request to ${label} failed: ${reason}. Check the URL and network.`,
      {
        cause: err,
        details: { tokenUrl: label },
      },
    )
  } finally {
    await dispatcher?.close()
  }
}

/**
 * Fetches an OAuth2 token, reusing a cached one until 60 s before it expires. Concurrent calls for
 * the same request share one HTTP call.
 * @example const { accessToken } = await fetchToken({ tokenUrl, grantType: 'client_credentials', clientId, clientSecret })
 * @throws AuthError TOKEN_FETCH_FAILED on HTTP errors, timeouts or a response without `access_token`.
 */
export async function fetchToken(req: TokenRequest): Promise<AccessToken> {
  const url = validate(req)
  if (req.cache === false) return requestToken(req, url)
  const key = cacheKey(req)
  const hit = tokens.get(key)
  if (hit && hit.expiresAt - MARGIN_MS > Date.now()) {
    tokens.delete(key)
    tokens.set(key, hit) // LRU: most recently used last
    return hit
  }
  const pending = inflight.get(key)
  if (pending) return pending
  const gen = generation
  const p = requestToken(req, url)
    .then((token) => {
      if (gen === generation && token.expiresAt - MARGIN_MS > Date.now()) {
        tokens.set(key, token)
        while (tokens.size > MAX_ENTRIES) tokens.delete(tokens.keys().next().value as string)
      }
      return token
    })
    .finally(() => inflight.delete(key))
  inflight.set(key, p)
  return p
}

/** Drops every cached token (e.g. after credentials were rotated). */
export function clearTokenCache(): void {
  tokens.clear()
  inflight.clear()
  generation++
}

function normalizeTokenUrl(base: string): URL {
  let url: URL
  try {
    url = new URL(base)
  } catch {
    throw new TypeError('tokenUrlForTenant: "base" must be an absolute URL')
  }
  const path = url.pathname.replace(/\/+$/, '')
  url.pathname = path.endsWith('/oauth/token') ? path : `${path}/oauth/token`
  return url
}

/**
 * The token endpoint to use for the tenant of `jwt`: the binding's URL for the provider (no JWT, or
 * the JWT's zone is `providerTenant`); for a subscriber the first host label replaced by the
 * subdomain, or the host kept with an `x-zid` header when the subdomain is unknown (IAS, IP hosts).
 * @example tokenUrlForTenant(binding.url, userJwt, binding.tenantid)
 * @throws AuthError TOKEN_INVALID when `jwt` is malformed.
 */
export function tokenUrlForTenant(
  base: string,
  jwt?: string,
  providerTenant?: string,
): { url: string; headers: Record<string, string> } {
  const url = normalizeTokenUrl(base)
  if (!jwt) return { url: url.href, headers: {} }
  const id = decodeJwt(jwt)
  if (!id.tenant && !id.subdomain) return { url: url.href, headers: {} }
  if (providerTenant !== undefined && id.tenant === providerTenant) return { url: url.href, headers: {} }
  const isIp = /^[\d.]+$/.test(url.hostname) || url.hostname.includes(':') || url.hostname.startsWith('[')
  const labels = url.hostname.split('.')
  if (id.subdomain && !isIp && labels.length > 1) {
    if (labels[0] === id.subdomain) return { url: url.href, headers: {} }
    labels[0] = id.subdomain
    url.hostname = labels.join('.')
    return { url: url.href, headers: {} }
  }
  return { url: url.href, headers: id.tenant ? { 'x-zid': id.tenant } : {} }
}
