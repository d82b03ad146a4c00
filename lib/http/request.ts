/**
 * `request(destination, init)`: one HTTP call to a destination over its route, with destination
 * headers and queries, authentication, connectivity proxy headers, CSRF token caching and a
 * deadline that really aborts.
 */
import { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { assertUsableJwt } from '../auth/jwt'
import type { Destination, HttpDestination } from '../destination/types'
import { TransportError } from '../errors'
import { type CsrfEntry, csrfToken, dropCsrfToken, needsCsrf } from './csrf'
import { discard, fetchCsrf, proxyAnswer } from './exchange'
import { type HeaderMap, mergeCookies, validHeaders } from './headers'
import { cachedPlan, planRequest, requestTarget } from './plan'
import { buildPath, DEFAULT_TIMEOUT_MS, prepareDestination } from './prepare'
import { asHttpDestination, resolveHttpDestination } from './resolve'
import type { Response } from './response'
import { send } from './send'
import type { HttpResponse, RequestInit } from './types'

const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

function checkInit(init: RequestInit): void {
  if (typeof init !== 'object' || init === null) throw new TypeError('request: "init" must be an object')
  if (init.method !== undefined && (typeof init.method !== 'string' || !METHOD.test(init.method))) {
    throw new TypeError('request: "method" must be an HTTP method name')
  }
  if (init.timeout !== undefined && (typeof init.timeout !== 'number' || !(init.timeout > 0))) {
    throw new RangeError('request: "timeout" must be a positive number of milliseconds')
  }
  if (init.jwt !== undefined && typeof init.jwt !== 'string')
    throw new TypeError('request: "jwt" must be a string (the raw token)')
  if (
    init.principalPropagation !== undefined &&
    init.principalPropagation !== 'forward' &&
    init.principalPropagation !== 'exchange'
  ) {
    throw new TypeError('request: "principalPropagation" must be "forward" or "exchange"')
  }
  if (init.signal !== undefined && !(init.signal instanceof AbortSignal))
    throw new TypeError('request: "signal" must be an AbortSignal')
}

interface Body {
  readonly data: string | Uint8Array | Readable | undefined
  readonly replayable: boolean
  readonly contentType?: string
}

function encodeBody(body: RequestInit['body']): Body {
  if (body === undefined) return { data: undefined, replayable: true }
  if (typeof body === 'string' || body instanceof Uint8Array) return { data: body, replayable: true }
  if (body instanceof Readable) return { data: body, replayable: false }
  if (typeof body === 'object' && body !== null)
    return { data: JSON.stringify(body), replayable: true, contentType: 'application/json' }
  throw new TypeError('request: "body" must be a string, Uint8Array, Readable, plain object or array')
}

/**
 * Sends one HTTP request to a destination (a name resolved with the destination resolver, or a
 * `Destination` object) and resolves once the response headers arrived.
 * @example
 * const res = await request('S4', { path: '/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder', query: { $top: 5 }, jwt })
 * const data = await res.json()
 * @throws TOKEN_INVALID (expired/malformed `jwt`, before any call), DESTINATION_NOT_FOUND, DESTINATION_INVALID,
 *   REQUEST_INVALID, HTTP_TIMEOUT, REQUEST_ABORTED, CONNECT_FAILED, CONNECT_TIMEOUT, CONNECTION_RESET,
 *   PROXY_AUTH_FAILED, ACCESS_DENIED, NO_AGENT, TOKEN_FETCH_FAILED — transport errors carry `details.requestSent`.
 */
export async function request(
  destination: string | Destination,
  init: RequestInit = {},
): Promise<HttpResponse> {
  checkInit(init)
  if (init.jwt !== undefined) assertUsableJwt(init.jwt)
  const d =
    typeof destination === 'string'
      ? await resolveHttpDestination(destination, init.jwt, init.tenant)
      : asHttpDestination(destination)
  return requestResolved(d, init)
}

/** {@link request} for an already resolved HTTP destination. */
export async function requestResolved(d: HttpDestination, init: RequestInit): Promise<Response> {
  // Everything about the call itself is checked before any token fetch or connection.
  const prepared = prepareDestination(d)
  const method = (init.method ?? 'GET').toUpperCase()
  const caller = validHeaders(init.headers, 'caller', d.name)
  if (d.authentication === 'PrincipalPropagation' && caller.authorization !== undefined) {
    throw new TransportError(
      'REQUEST_INVALID',
      `Destination "${d.name}" uses principal propagation; an Authorization header must not be sent with it. The request was not sent.`,
      {
        details: { destination: d.name, requestSent: false },
      },
    )
  }
  const pathAndQuery = buildPath(prepared, init.path, init.query)
  const body = encodeBody(init.body)
  const planOpts = { jwt: init.jwt, tenant: init.tenant, principalPropagation: init.principalPropagation }
  const plan = cachedPlan(d, planOpts) ?? (await planRequest(d, planOpts))
  const headers: HeaderMap = { ...plan.headers, ...caller }
  if (body.contentType && headers['content-type'] === undefined) headers['content-type'] = body.contentType
  const timeoutMs = init.timeout ?? plan.prepared.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const { path, host } = requestTarget(plan, pathAndQuery)
  // Built only when a message needs it: this runs for every request.
  const meta = {
    get what(): string {
      return `${method} ${plan.prepared.url.origin}${pathAndQuery.split('?', 1)[0]} (destination "${d.name}")`
    },
    timeoutMs,
    signal: init.signal,
  }

  const wantsCsrf =
    init.csrf !== false && plan.prepared.csrf && needsCsrf(method) && headers['x-csrf-token'] === undefined
  // `reuse`: the last use of `headers`, which may then be filled in place instead of copied.
  const attempt = async (csrf: CsrfEntry | undefined, reuse: boolean): Promise<Response> => {
    const h: HeaderMap = reuse ? headers : { ...headers }
    if (csrf) {
      h['x-csrf-token'] = csrf.token
      const cookie = mergeCookies(h.cookie, csrf.cookies)
      if (cookie) h.cookie = cookie
    }
    Object.assign(h, plan.proxyHeaders)
    if (host) h.host = host
    const opts: Dispatcher.DispatchOptions = {
      method: method as Dispatcher.HttpMethod,
      path,
      headers: h,
      body: body.data ?? null,
    }
    const res = await send(plan.dispatcher, opts, meta)
    if (plan.route.kind === 'http-proxy') await proxyAnswer(plan, res, meta.what)
    return res
  }

  if (!wantsCsrf) return attempt(undefined, true)
  const fetcher = () => fetchCsrf(plan, pathAndQuery, headers, timeoutMs, init.signal)
  const entry = await csrfToken(plan.csrfKey, fetcher)
  const res = await attempt(entry, false)
  const required = res.headers['x-csrf-token']
  if (res.status === 403 && typeof required === 'string' && required.toLowerCase() === 'required') {
    // The cached token expired with the backend session: fetch a new one and retry once.
    dropCsrfToken(plan.csrfKey, entry)
    if (!body.replayable) return res
    await discard(res)
    return attempt(await csrfToken(plan.csrfKey, fetcher), true)
  }
  return res
}
