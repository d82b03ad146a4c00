/**
 * Everything a request to a destination needs besides the call's own path, headers and body: the
 * route and its pool, the destination's headers, the authentication headers and the connectivity
 * proxy headers (location id, proxy token, one principal-propagation form).
 */
import type { Dispatcher } from 'undici'
import { authorizationFor } from '../auth/authorization'
import { connectivityToken, exchangeUserToken, isIasToken } from '../auth/connectivity'
import type { HttpDestination } from '../destination/types'
import { DestinationError } from '../errors'
import type { ConnectContext } from '../transport/connector'
import { getPool } from '../transport/pools'
import { httpRoute, loadConfiguredTunnel, type Route, userKey } from '../transport/route'
import type { HeaderMap } from './headers'
import { type PreparedDestination, prepareDestination } from './prepare'
import type { PrincipalPropagationMode } from './types'

export interface Plan {
  readonly destination: HttpDestination
  readonly prepared: PreparedDestination
  readonly route: Route
  readonly dispatcher: Dispatcher
  /** Destination headers, `sap-client` and authentication (the caller's headers win over these). */
  readonly headers: HeaderMap
  /** Connectivity/env proxy headers; applied last, the caller cannot override them. */
  readonly proxyHeaders: HeaderMap
  /** Principal propagation is active: `Authorization` must not be sent. */
  readonly principalPropagation: boolean
  /** CSRF cache key: route plus the user for user-dependent authentication (computed on first use). */
  readonly csrfKey: string
  /** The context new sockets of this plan's pool are opened with. */
  readonly ctx: ConnectContext
}

export interface PlanOptions {
  readonly jwt?: string | undefined
  readonly tenant?: string | undefined
  readonly principalPropagation?: PrincipalPropagationMode | undefined
}

const SERVICE_PP_HEADER = 'sap-connectivity-authentication'

/** Internet routes depend only on the destination and the proxy environment: cache them per destination. */
const internetRoutes = new WeakMap<HttpDestination, { readonly env: string; readonly route: Route }>()

let envSnapshot = { at: 0, value: '' }

/** The proxy environment, re-read at most every 250 ms (process.env reads are costly on the hot path). */
function proxyEnv(): string {
  const now = Date.now()
  if (now - envSnapshot.at < 250) return envSnapshot.value
  const e = process.env
  envSnapshot = {
    at: now,
    value: `${e.http_proxy}|${e.HTTP_PROXY}|${e.https_proxy}|${e.HTTPS_PROXY}|${e.no_proxy}|${e.NO_PROXY}`,
  }
  return envSnapshot.value
}

/**
 * Plans that depend on nothing but the destination and the proxy environment (Internet route, no
 * user, no token): reused as they are, so a request to a cached destination allocates no plan.
 */
const staticPlans = new WeakMap<HttpDestination, { readonly env: string; readonly plan: Plan }>()
const STATIC_AUTH = new Set(['NoAuthentication', 'BasicAuthentication', 'ClientCertificateAuthentication'])

function isStatic(d: HttpDestination, opts: PlanOptions): boolean {
  return (
    d.proxyType !== 'OnPremise' &&
    opts.jwt === undefined &&
    opts.tenant === undefined &&
    STATIC_AUTH.has(d.authentication) &&
    (d.authTokens === undefined || d.authTokens.length === 0)
  )
}

/** The cached plan for a static destination, when its pool is still the live one; else undefined. */
export function cachedPlan(d: HttpDestination, opts: PlanOptions): Plan | undefined {
  if (!isStatic(d, opts)) return undefined
  const hit = staticPlans.get(d)
  if (!hit || hit.env !== proxyEnv()) return undefined
  const { route } = hit.plan
  // getPool re-creates a pool that was evicted or closed; then the plan must be rebuilt around it.
  const pool = getPool({
    key: route.key,
    origin: route.poolOrigin,
    connector: route.connector,
    ctx: hit.plan.ctx,
  })
  return pool === hit.plan.dispatcher ? hit.plan : undefined
}

function routeFor(d: HttpDestination, opts: PlanOptions): Route {
  if (d.proxyType === 'OnPremise') return httpRoute(d, opts)
  const env = proxyEnv()
  const hit = internetRoutes.get(d)
  if (hit && hit.env === env) return hit.route
  const route = httpRoute(d, opts)
  internetRoutes.set(d, { env, route })
  return route
}

async function onPremiseProxyHeaders(
  d: HttpDestination,
  route: Route,
  opts: PlanOptions,
  pp: boolean,
): Promise<HeaderMap> {
  const out: HeaderMap = {}
  const b = route.binding
  if (route.kind !== 'http-proxy' || !b) return out
  if (d.locationId) out['sap-connectivity-scc-location_id'] = d.locationId
  const jwt = opts.jwt
  if (pp && jwt) {
    // Form B (exchange) puts the user into Proxy-Authorization alone; IAS tokens and trusted mode
    // cannot be exchanged, so they fall back to form A (forwarding).
    if (opts.principalPropagation === 'exchange' && !b.trusted && !isIasToken(jwt)) {
      out['proxy-authorization'] = `Bearer ${await exchangeUserToken(b, jwt)}`
      return out
    }
    const fromService = d.authTokens?.find(
      (t) => !t.error && t.httpHeader.key.toLowerCase() === SERVICE_PP_HEADER,
    )
    out[SERVICE_PP_HEADER] = fromService ? fromService.httpHeader.value : `Bearer ${jwt}`
  }
  const token = await connectivityToken(b, jwt)
  if (token) out['proxy-authorization'] = `Bearer ${token}`
  return out
}

/**
 * Plans a request to `d` for the user in `opts.jwt`.
 * @throws DESTINATION_INVALID, BINDING_NOT_FOUND, TOKEN_MISSING, TOKEN_INVALID, TOKEN_FETCH_FAILED
 */
export async function planRequest(d: HttpDestination, opts: PlanOptions): Promise<Plan> {
  const prepared = prepareDestination(d)
  if (d.proxyType === 'OnPremise') await loadConfiguredTunnel()
  const route = routeFor(d, opts)
  const pp = d.authentication === 'PrincipalPropagation'
  if (pp && route.kind === 'socks5') {
    throw new DestinationError(
      'DESTINATION_INVALID',
      `Destination "${d.name}" uses PrincipalPropagation with an https:// URL; the connectivity proxy propagates users only over http:// (TLS to the Cloud Connector is already in place). Use an http:// virtual URL or a tunnel.`,
      { details: { destination: d.name, property: 'URL' } },
    )
  }
  const [auth, proxyHeaders] = await Promise.all([
    authorizationFor(d, { jwt: opts.jwt }),
    onPremiseProxyHeaders(d, route, opts, pp),
  ])
  if (route.envProxyAuthorization) proxyHeaders['proxy-authorization'] = route.envProxyAuthorization
  const headers: HeaderMap = { ...prepared.headers, ...auth }
  if (pp) {
    // SAP: never send Authorization together with principal propagation.
    delete headers.authorization
  }
  const ctx: ConnectContext = {
    destinationName: d.name,
    locationId: d.locationId,
    // The JWT selects the tenant of the SOCKS5 token and carries the principal over a tunnel.
    ...(opts.jwt && (route.userBound || route.kind === 'socks5' || (route.kind === 'tunnel' && pp))
      ? { jwt: opts.jwt }
      : {}),
    ...(opts.tenant ? { tenant: opts.tenant } : {}),
  }
  const dispatcher = getPool({ key: route.key, origin: route.poolOrigin, connector: route.connector, ctx })
  const userDependent =
    route.userBound ||
    d.authentication === 'OAuth2UserTokenExchange' ||
    d.authentication === 'OAuth2JWTBearer'
  let csrfKey: string | undefined
  const plan: Plan = {
    destination: d,
    prepared,
    route,
    dispatcher,
    headers,
    proxyHeaders,
    principalPropagation: pp,
    // Only non-safe methods need it; GETs skip decoding the JWT for the key.
    get csrfKey(): string {
      csrfKey ??= `${route.key}|${userDependent ? userKey(opts.jwt) : 'technical'}`
      return csrfKey
    },
    ctx,
  }
  if (isStatic(d, opts)) staticPlans.set(d, { env: proxyEnv(), plan })
  return plan
}

/** Request-target and Host for `pathAndQuery`: origin-form, or absolute-form through a forward proxy. */
export function requestTarget(plan: Plan, pathAndQuery: string): { path: string; host?: string } {
  if (!plan.route.absoluteUri) return { path: pathAndQuery }
  const { url } = plan.prepared
  return { path: `${url.protocol}//${url.host}${pathAndQuery}`, host: url.host }
}
