/**
 * Opens a byte stream to a target of a destination by the destination's route (direct, the
 * connectivity binding's SOCKS5 proxy, or our tunnel) and names destination and route in errors.
 * Shared by connectTcp, openLocalPort and the RFC gateway ports.
 */
import type { Duplex } from 'node:stream'
import { debuglog } from 'node:util'
import type { Destination } from '../destination/types'
import { type ConnectivityErrorCode, isConnectivityError, TransportError } from '../errors'
import type { ConnectTarget } from '../transport/connector'
import { getRoute } from '../transport/route'

const debug = debuglog('cap-connectivity:tcp')

export interface OpenRouteOptions {
  readonly jwt?: string | undefined
  readonly tenant?: string | undefined
  readonly signal?: AbortSignal | undefined
  /** Connect timeout in ms for the whole path (proxy handshake included). */
  readonly timeoutMs?: number | undefined
}

export interface RoutedStream {
  readonly stream: Duplex
  /** `direct`, `socks5` or `tunnel`. */
  readonly route: string
}

export function describeHostPort(target: ConnectTarget): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`
}

// The tunnel reports its own code for "no agent"; TCP callers get the one documented for TCP.
const CODE_MAP: Partial<Record<ConnectivityErrorCode, ConnectivityErrorCode>> = {
  TUNNEL_NO_AGENT: 'NO_AGENT',
}

/**
 * Connects to `target` by the route of `dest`; resolves once the target is reachable end to end
 * (for SOCKS5: after the CONNECT reply; for the tunnel: after the agent connected the backend).
 * @throws ConnectivityError CONNECT_FAILED, CONNECT_TIMEOUT, ACCESS_DENIED, NO_AGENT, PROXY_AUTH_FAILED,
 *   PROXY_FAILED, REQUEST_ABORTED, BINDING_NOT_FOUND — the message names destination, target and route.
 */
export async function openRoute(
  dest: Destination,
  target: ConnectTarget,
  opts: OpenRouteOptions = {},
): Promise<RoutedStream> {
  const route = await getRoute(dest, { jwt: opts.jwt, tenant: opts.tenant })
  const where = `${describeHostPort(target)} of destination "${dest.name}" (route ${route.kind})`
  try {
    const stream = await route.connector.connect(target, {
      destinationName: dest.name,
      locationId: dest.locationId,
      ...(opts.jwt ? { jwt: opts.jwt } : {}),
      ...(opts.tenant ? { tenant: opts.tenant } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    })
    debug('connected to %s', where)
    return { stream, route: route.kind }
  } catch (err) {
    if (!isConnectivityError(err)) {
      throw new TransportError(
        'CONNECT_FAILED',
        `Could not connect to ${where}: ${(err as Error)?.message ?? err}.`,
        {
          cause: err,
          details: { destination: dest.name, route: route.kind, requestSent: false },
        },
      )
    }
    const code = CODE_MAP[err.code] ?? err.code
    throw new TransportError(code, `TCP connection to ${where} failed: ${err.message}`, {
      cause: err,
      details: { ...err.details, destination: dest.name, route: route.kind, requestSent: false },
    })
  }
}
