/**
 * Hosts the local connectivity proxy (HTTP 20003, SOCKS5 20004) on a tunnel server: callers are
 * authenticated with the server's own token verification and routed to their account's agents.
 */
import type { Duplex } from 'node:stream'
import { exposition, familyLines, labelText } from '../../prometheus'
import { cachedAuthenticator, trustedAuthenticator } from './auth'
import { HttpConnectivityProxy } from './http-proxy'
import { Socks5ConnectivityProxy } from './socks5-server'
import type { ProxyAuthenticator, ProxyStreamRequest } from './types'

/** What the proxy needs from a tunnel server (TunnelServer satisfies it). */
export interface LocalProxyHost {
  openStream(request: ProxyStreamRequest): Promise<Duplex>
  verifyToken(
    jwt: string,
  ): Promise<{ readonly account: string; readonly claims: Readonly<Record<string, unknown>> }>
}

export interface LocalProxyOptions {
  /** HTTP proxy port (BTP: 20003); omit to not start it, 0 for a free port. */
  readonly httpPort?: number
  /** SOCKS5 port (BTP: 20004); omit to not start it, 0 for a free port. */
  readonly socksPort?: number
  /** Bind address for both; default 127.0.0.1. */
  readonly host?: string
  /**
   * Trusted mode (Kyma's default): no proxy token needed, every caller acts for this account.
   * Only for ports nothing but trusted workloads can reach.
   */
  readonly trustedAccount?: string
}

/** The running proxy ports. */
export interface LocalProxy {
  /** Counters of the HTTP front-end (requests, retried on another agent, failed). */
  readonly httpStats?: HttpConnectivityProxy['stats']
  /** Counters of the SOCKS5 front-end (connections, CONNECTs that reached a backend, failed). */
  readonly socksStats?: Socks5ConnectivityProxy['stats']
  readonly httpPort?: number
  readonly socksPort?: number
  /** The counters in Prometheus text format, for the tunnel server's /metrics (`extraMetrics`). */
  metrics(): string
  close(): Promise<void>
}

/** Prometheus text for the proxy counters (only the front-ends that run). */
function proxyMetrics(
  http: HttpConnectivityProxy['stats'] | undefined,
  socks: Socks5ConnectivityProxy['stats'] | undefined,
): string {
  const out: string[] = []
  const series = (name: string, help: string, values: [string, number | undefined][]): void => {
    const present = values.filter((v): v is [string, number] => v[1] !== undefined)
    if (!present.length) return
    out.push(
      ...familyLines(
        name,
        'counter',
        help,
        present.map(([proxy, v]) => [labelText({ proxy }), v] as const),
      ),
    )
  }
  series('tunnel_proxy_requests_total', 'HTTP requests and SOCKS5 connections at the local proxy.', [
    ['http', http?.requests],
    ['socks5', socks?.connections],
  ])
  series('tunnel_proxy_connected_total', 'SOCKS5 CONNECTs that reached a backend.', [
    ['socks5', socks?.connected],
  ])
  series(
    'tunnel_proxy_retried_total',
    'HTTP requests retried on another agent after the first session died.',
    [['http', http?.retried]],
  )
  series('tunnel_proxy_failed_total', 'Requests the local proxy answered with an error of its own.', [
    ['http', http?.failed],
    ['socks5', socks?.failed],
  ])
  return exposition(out)
}

/** Builds an authenticator from a tunnel server's token verification. */
export function serverAuthenticator(host: LocalProxyHost): ProxyAuthenticator {
  return async (token) => {
    if (token === undefined || token === '') throw new Error('no proxy token')
    const { account, claims } = await host.verifyToken(token)
    const isUserToken =
      claims.grant_type !== 'client_credentials' &&
      (typeof claims.user_name === 'string' || typeof claims.email === 'string')
    return { account, isUserToken }
  }
}

/**
 * Starts the requested proxy front-ends on `host`.
 * @example const proxy = await startLocalProxy(server, { httpPort: 20003, socksPort: 20004 })
 * @throws Error `EADDRINUSE` from listen when a port is taken (both are closed again).
 */
export async function startLocalProxy(
  server: LocalProxyHost,
  options: LocalProxyOptions,
): Promise<LocalProxy> {
  const authenticate =
    options.trustedAccount === undefined
      ? cachedAuthenticator(serverAuthenticator(server))
      : trustedAuthenticator(options.trustedAccount)
  const openStream = (req: ProxyStreamRequest): Promise<Duplex> => server.openStream(req)
  const host = options.host ?? '127.0.0.1'
  const http =
    options.httpPort === undefined
      ? undefined
      : new HttpConnectivityProxy({ openStream, authenticate, host, port: options.httpPort })
  const socks =
    options.socksPort === undefined
      ? undefined
      : new Socks5ConnectivityProxy({
          openStream,
          authenticate,
          host,
          port: options.socksPort,
          allowNoAuth: options.trustedAccount !== undefined,
        })
  const close = async (): Promise<void> => {
    await Promise.all([http?.close(), socks?.close()])
  }
  try {
    const h = await http?.listen()
    const s = await socks?.listen()
    return {
      ...(h === undefined || http === undefined ? {} : { httpPort: h.port, httpStats: http.stats }),
      ...(s === undefined || socks === undefined ? {} : { socksPort: s.port, socksStats: socks.stats }),
      metrics: () => proxyMetrics(http?.stats, socks?.stats),
      close,
    }
  } catch (err) {
    await close().catch(() => {})
    throw err
  }
}
