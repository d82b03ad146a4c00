/**
 * openLocalPort: a loopback port whose every connection is carried to a TCP destination — for
 * drivers and tools that only take host:port (the `cf ssh -L` / `cf tunnel` experience, in-process).
 */
import { isIP } from 'node:net'
import type { Destination } from '../destination/types'
import { checkRouteOptions, resolveTcpDestination } from './connect'
import { startForwarder } from './forwarder'
import { describeHostPort, openRoute } from './open-route'

/** Options of {@link openLocalPort}. */
export interface OpenLocalPortOptions {
  /** Local port; 0 (default) picks a free one. */
  readonly port?: number
  /** Loopback address to listen on (default `127.0.0.1`); other addresses are refused. */
  readonly host?: string
  readonly jwt?: string
  readonly tenant?: string
  /** Connect timeout in ms for each carried connection. */
  readonly timeout?: number
  /** Most simultaneous connections (default 256). */
  readonly maxConnections?: number
  /** Told about connections that could not be carried (their local client got a reset). */
  readonly onError?: (err: Error) => void
}

/** A listening local port; `close()` stops listening and closes the connections it carries. */
export interface LocalPort {
  readonly host: string
  readonly port: number
  /** Connections carried right now. */
  readonly connections: number
  close(): Promise<void>
}

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true
  return isIP(host) === 4 && host.startsWith('127.')
}

/**
 * Listens on a loopback port and carries each accepted connection to the destination's `Address`
 * by its route (direct, SOCKS5 0x80 or tunnel). A connection that cannot be carried is reset, and
 * `onError` is told why.
 * @example
 * const local = await openLocalPort('ORDERS_DB', { port: 15432 })
 * const client = new pg.Client({ host: local.host, port: local.port, user: 'app' })
 * // … later
 * await local.close()
 * @throws DestinationError DESTINATION_NOT_FOUND, DESTINATION_INVALID; TransportError PORT_IN_USE
 * @throws RangeError for a non-loopback host or an invalid port
 */
export async function openLocalPort(
  destination: string | Destination,
  options: OpenLocalPortOptions = {},
): Promise<LocalPort> {
  checkRouteOptions('openLocalPort', options as Record<string, unknown>)
  const host = options.host ?? '127.0.0.1'
  if (typeof host !== 'string' || !isLoopback(host)) {
    throw new RangeError(
      `openLocalPort: options.host must be a loopback address (127.x.x.x, ::1, localhost), got "${host}"`,
    )
  }
  const port = options.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new RangeError('openLocalPort: options.port must be 0-65535')
  const max = options.maxConnections ?? 256
  if (!Number.isInteger(max) || max < 1)
    throw new RangeError('openLocalPort: options.maxConnections must be a positive integer')
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new TypeError('openLocalPort: options.onError must be a function')
  }
  const ids = { jwt: options.jwt, tenant: options.tenant }
  // Resolve now so a wrong name fails here, not at the first connection.
  const first = await resolveTcpDestination('openLocalPort', destination, ids)
  return startForwarder({
    host,
    port,
    maxConnections: max,
    onError: options.onError,
    label: `destination "${first.name}" (${describeHostPort(first.address)})`,
    open: async (signal) => {
      // By name: re-resolve per connection (cached) so changed definitions and tokens are picked up.
      const dest =
        typeof destination === 'string'
          ? await resolveTcpDestination('openLocalPort', destination, ids)
          : first
      const { stream } = await openRoute(dest, dest.address, { ...ids, signal, timeoutMs: options.timeout })
      return stream
    },
  })
}
