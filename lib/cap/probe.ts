/**
 * Reachability check of a destination along its real route (direct, connectivity proxy, SOCKS5,
 * tunnel): resolve it, open one connection to its host:port and close it again. For the tunnel
 * this proves an agent serves the location and maps the host — the Cloud Connector's "check
 * availability". Sends no HTTP request, so the backend logs nothing.
 */
import { isConnectivityError } from '../errors'
import { ensureTransportWired } from './transport'

export interface DestinationProbe {
  readonly name: string
  readonly reachable: boolean
  /** `direct`, `http-proxy`, `socks5` or `tunnel`. */
  readonly route?: string
  readonly proxyType?: string
  readonly location?: string
  readonly ms?: number
  readonly errorCode?: string
  readonly error?: string
}

/**
 * Probes destination `name`; never throws for connection failures (they are the answer).
 * @example const p = await probeDestination('S4', { timeoutMs: 3000 }); p.reachable
 */
export async function probeDestination(
  name: string,
  opts: { jwt?: string; tenant?: string; timeoutMs?: number } = {},
): Promise<DestinationProbe> {
  ensureTransportWired()
  const { resolveDestination } = require('../destination/resolve') as typeof import('../destination/resolve')
  const { getRoute } = require('../transport/route') as typeof import('../transport/route')
  const started = performance.now()
  let route: string | undefined
  let location: string | undefined
  let proxyType: string | undefined
  try {
    const d = await resolveDestination(name, {
      ...(opts.jwt ? { jwt: opts.jwt } : {}),
      ...(opts.tenant ? { tenant: opts.tenant } : {}),
    })
    proxyType = d.proxyType
    location = d.locationId
    if (d.type !== 'HTTP')
      throw new TypeError(`probeDestination supports HTTP destinations; "${name}" is ${d.type}`)
    const r = await getRoute(d, { jwt: opts.jwt, tenant: opts.tenant })
    route = r.kind
    const url = new URL(r.absoluteUri && r.poolOrigin ? r.poolOrigin : d.url)
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80)
    const socket = await r.connector.connect(
      { host: url.hostname, port },
      {
        destinationName: d.name,
        locationId: d.locationId,
        timeoutMs: opts.timeoutMs ?? 5000,
        ...(opts.jwt ? { jwt: opts.jwt } : {}),
        ...(opts.tenant ? { tenant: opts.tenant } : {}),
      },
    )
    socket.destroy()
    return { name, reachable: true, route, proxyType, location, ms: Math.round(performance.now() - started) }
  } catch (err) {
    return {
      name,
      reachable: false,
      ...(route ? { route } : {}),
      ...(proxyType ? { proxyType } : {}),
      ...(location !== undefined ? { location } : {}),
      ...(isConnectivityError(err) ? { errorCode: err.code } : {}),
      error: err instanceof Error ? err.message : String(err),
    }
  }
}
