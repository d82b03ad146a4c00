/**
 * Route selection: which Connector reaches a destination, and how HTTP is spoken over it.
 *
 * - Internet / PrivateLink: direct, or through `http_proxy`/`https_proxy` (absolute-URI for http,
 *   CONNECT for https) for HTTP destinations.
 * - OnPremise: a configured tunnel when there is one; else the connectivity binding — the HTTP proxy
 *   (absolute-URI requests) for http:// URLs, SOCKS5 with TLS end to end for https:// and for
 *   non-HTTP destinations (TCP, RFC, …).
 *
 * The tunnel is reached through a registered provider instead of an import, so this module does not
 * load the tunnel (and ws) unless the app uses it: lib/transport/tunnel.ts registers
 * `getConfiguredTunnel` with {@link registerTunnelProvider} when it is loaded.
 */
import { createHash } from 'node:crypto'
import { type ConnectivityBinding, connectivityToken, requireConnectivityBinding } from '../auth/connectivity'
import { decodeJwt } from '../auth/jwt'
import { httpDestinationUrl } from '../destination/http-url'
import type { Destination, HttpDestination } from '../destination/types'
import { USER_DEPENDENT_AUTHENTICATIONS } from '../destination/types'
import { DestinationError } from '../errors'
import type { Connector } from './connector'
import { DirectConnector } from './direct'
import { envProxyFor, proxyBasicAuth } from './env-proxy'
import { HttpConnectConnector } from './http-connect'
import { Socks5Connector } from './socks5'
import { TlsOverConnector } from './tls-over'
import { type DestinationTlsOptions, tlsOptionsFor } from './tls-options'

export type RouteKind = 'direct' | 'http-proxy' | 'socks5' | 'tunnel'

/** A chosen route. `connector` opens streams to the target (for `http-proxy`: to the proxy itself). */
export interface Route {
  readonly connector: Connector
  readonly kind: RouteKind
  /** Pool cache key: origin, route, location, TLS settings and, when sockets carry a user, the user. */
  readonly key: string
  /** Origin undici talks HTTP to: the target's, or the HTTP proxy's for absolute-URI requests. */
  readonly poolOrigin: string
  /** HTTP requests go as absolute URIs (`GET http://host:port/path`) to a forward proxy. */
  readonly absoluteUri: boolean
  /** Set for OnPremise routes through the connectivity service. */
  readonly binding?: ConnectivityBinding
  /** `Proxy-Authorization` for an env proxy with credentials in its URL. */
  readonly envProxyAuthorization?: string
  /** Sockets of this route carry the user's identity; never share them between users. */
  readonly userBound: boolean
}

export interface RouteOptions {
  readonly jwt?: string | undefined
  readonly tenant?: string | undefined
}

type TunnelProvider = () => Connector | undefined
let tunnelProvider: TunnelProvider | undefined
let tunnelModuleLoaded = false

/**
 * Loads lib/transport/tunnel.ts when the environment configures a tunnel and nothing registered a
 * provider yet; loading it registers its provider. Apps without a tunnel never load it (nor ws).
 */
export async function loadConfiguredTunnel(): Promise<void> {
  if (tunnelProvider || tunnelModuleLoaded || !process.env.CAP_CONNECTIVITY_TUNNEL_URL) return
  tunnelModuleLoaded = true
  await import('./tunnel.js')
}

function configuredTunnel(): Connector | undefined {
  return tunnelProvider?.()
}

/**
 * Lets the tunnel module plug in without this module importing it. Pass `undefined` to unregister.
 * @example registerTunnelProvider(() => getConfiguredTunnel())
 */
export function registerTunnelProvider(provider: TunnelProvider | undefined): void {
  if (provider !== undefined && typeof provider !== 'function')
    throw new TypeError('registerTunnelProvider: provider must be a function')
  tunnelProvider = provider
}

function hash(...parts: readonly (string | undefined)[]): string {
  const h = createHash('sha256')
  for (const p of parts) h.update(p ?? '\u0000').update('\u0001')
  return h.digest('base64url').slice(0, 22)
}

/** A stable per-user key (tenant + user id), never the token itself. */
export function userKey(jwt: string | undefined): string {
  if (!jwt) return 'anonymous'
  const id = decodeJwt(jwt)
  const who = id.userId ?? id.user
  // Without a user claim the token itself is the only identity we have; hash it.
  return who ? hash(id.tenant, who) : hash('jwt', jwt)
}

function isUserBound(d: Destination, jwt: string | undefined): boolean {
  // Cloud Connector binds the propagated principal to the connection, so every user-dependent
  // OnPremise flow gets sockets of its own (Cloud SDK #6715 shared them and leaked identities).
  return (
    d.proxyType === 'OnPremise' && jwt !== undefined && USER_DEPENDENT_AUTHENTICATIONS.has(d.authentication)
  )
}

function withServername(
  tls: DestinationTlsOptions | undefined,
  host: string,
): DestinationTlsOptions & { servername: string } {
  return { ...(tls ?? {}), servername: host }
}

/** Computes the route for an HTTP destination, with everything the HTTP layer needs. */
export function httpRoute(d: HttpDestination, opts: RouteOptions = {}): Route {
  const url = httpDestinationUrl(d)
  const https = url.protocol === 'https:'
  const tls = https ? tlsOptionsFor(d) : undefined
  const tlsKey = tls ? hash(JSON.stringify({ ...tls, pfx: tls.pfx?.toString('base64') })) : '-'
  const userBound = isUserBound(d, opts.jwt)
  const who = userBound ? userKey(opts.jwt) : '*'
  // The connectivity token (proxy auth / SOCKS5 auth) is per tenant: keep tenants' sockets apart too.
  const tenant =
    d.proxyType === 'OnPremise' && opts.jwt ? (decodeJwt(opts.jwt).tenant ?? opts.tenant) : opts.tenant
  const base = `${url.origin}|${d.locationId}|${tlsKey}|${tenant ?? ''}|${who}`
  if (d.proxyType === 'OnPremise') {
    const tunnel = configuredTunnel()
    if (tunnel) {
      // HTTPS to a virtual host stays end to end: TLS over the tunnel stream.
      const connector = https ? new TlsOverConnector(tunnel, withServername(tls, url.hostname)) : tunnel
      return {
        connector,
        kind: 'tunnel',
        key: `tunnel|${base}`,
        poolOrigin: url.origin,
        absoluteUri: false,
        userBound,
      }
    }
    const binding = requireConnectivityBinding(d.name)
    if (!https && binding.httpPort !== undefined) {
      const poolOrigin = `http://${binding.host.includes(':') ? `[${binding.host}]` : binding.host}:${binding.httpPort}`
      return {
        connector: new DirectConnector(),
        kind: 'http-proxy',
        key: `http-proxy|${poolOrigin}|${base}`,
        poolOrigin,
        absoluteUri: true,
        binding,
        userBound,
      }
    }
    return {
      connector: socksConnector(d.name, binding, opts, https ? withServername(tls, url.hostname) : undefined),
      kind: 'socks5',
      key: `socks5|${binding.host}:${binding.socksPort}|${base}`,
      poolOrigin: url.origin,
      absoluteUri: false,
      binding,
      userBound,
    }
  }
  const proxy = envProxyFor(url)
  if (proxy) {
    const proxyAuthorization = proxyBasicAuth(proxy)
    const proxyPort = Number(proxy.port) || (proxy.protocol === 'https:' ? 443 : 80)
    const proxyKey = hash(proxy.href)
    if (!https) {
      return {
        connector: new DirectConnector(),
        kind: 'http-proxy',
        key: `env-proxy|${proxyKey}|${base}`,
        poolOrigin: `http://${proxy.host}`,
        absoluteUri: true,
        ...(proxyAuthorization ? { envProxyAuthorization: proxyAuthorization } : {}),
        userBound,
      }
    }
    const connector = new HttpConnectConnector({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: proxyPort,
      ...(proxyAuthorization ? { proxyAuthorization } : {}),
      tls: withServername(tls, url.hostname),
    })
    return {
      connector,
      kind: 'http-proxy',
      key: `env-connect|${proxyKey}|${base}`,
      poolOrigin: url.origin,
      absoluteUri: false,
      userBound,
    }
  }
  const connector = new DirectConnector(https ? { tls: withServername(tls, url.hostname) } : {})
  return {
    connector,
    kind: 'direct',
    key: `direct|${base}`,
    poolOrigin: url.origin,
    absoluteUri: false,
    userBound,
  }
}

function socksConnector(
  name: string,
  b: ConnectivityBinding,
  opts: RouteOptions,
  tls?: DestinationTlsOptions & { servername: string },
): Socks5Connector {
  if (b.socksPort === undefined) {
    throw new DestinationError(
      'DESTINATION_INVALID',
      `Destination "${name}" needs the SOCKS5 proxy, but ${b.origin} has no "onpremise_socks5_proxy_port".`,
      {
        details: { destination: name },
      },
    )
  }
  // The user's JWT only selects the tenant of the connectivity token (no principal over SOCKS5).
  const jwt = opts.jwt
  return new Socks5Connector({
    host: b.host,
    port: b.socksPort,
    token: async (ctx) => (await connectivityToken(b, ctx.jwt ?? jwt)) ?? '',
    ...(tls ? { tls } : {}),
  })
}

/**
 * Chooses how to reach a destination: the connector (and its kind) that opens streams to it.
 * For HTTP destinations with kind `http-proxy`, the connector reaches the proxy, and requests go
 * as absolute URIs; TCP/RFC callers only ever get `direct`, `socks5` or `tunnel`.
 * @example const { connector } = await getRoute(dest, { jwt }); const s = await connector.connect({ host, port }, { locationId: dest.locationId })
 * @throws BINDING_NOT_FOUND (OnPremise without binding or tunnel), DESTINATION_INVALID
 */
export async function getRoute(d: Destination, opts: RouteOptions = {}): Promise<Route> {
  if (d.proxyType === 'OnPremise') await loadConfiguredTunnel()
  if (d.type === 'HTTP') return httpRoute(d, opts)
  if (d.proxyType !== 'OnPremise') {
    return {
      connector: new DirectConnector(),
      kind: 'direct',
      key: `direct|${d.name}`,
      poolOrigin: '',
      absoluteUri: false,
      userBound: false,
    }
  }
  const tunnel = configuredTunnel()
  const userBound = isUserBound(d, opts.jwt)
  if (tunnel)
    return {
      connector: tunnel,
      kind: 'tunnel',
      key: `tunnel|${d.name}`,
      poolOrigin: '',
      absoluteUri: false,
      userBound,
    }
  const binding = requireConnectivityBinding(d.name)
  return {
    connector: socksConnector(d.name, binding, opts),
    kind: 'socks5',
    key: `socks5|${d.name}`,
    poolOrigin: '',
    absoluteUri: false,
    binding,
    userBound,
  }
}
