/**
 * connectTcp: a connected stream to a TCP destination's `Address`, by its route, for any driver
 * that takes a stream (pg's `stream`, mysql2's `stream`, ioredis' connector, tls.connect({ socket })).
 */
import { debuglog } from 'node:util'
import { resolveDestinationOfType } from '../destination/resolve-typed'
import type { Destination, TcpDestination } from '../destination/types'
import { describeHostPort, openRoute } from './open-route'
import { TcpStream } from './tcp-stream'

const debug = debuglog('cap-connectivity:tcp')

/** Options of {@link connectTcp}. */
export interface ConnectTcpOptions {
  /** The user's JWT: selects the tenant (SOCKS5) or travels as principal (tunnel). */
  readonly jwt?: string
  /** Tenant (zone) id for the destination lookup when there is no JWT. */
  readonly tenant?: string
  /** Aborts connecting (REQUEST_ABORTED). */
  readonly signal?: AbortSignal
  /** Connect timeout in ms, covering proxy handshakes (default: the route's, 10 s). */
  readonly timeout?: number
}

/** @internal Checks the options' types once for connectTcp and openLocalPort. */
export function checkRouteOptions(fn: string, o: Record<string, unknown>): void {
  if (typeof o !== 'object' || o === null) throw new TypeError(`${fn}: options must be an object`)
  for (const k of ['jwt', 'tenant'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'string')
      throw new TypeError(`${fn}: options.${k} must be a string`)
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal))
    throw new TypeError(`${fn}: options.signal must be an AbortSignal`)
  if (
    o.timeout !== undefined &&
    !(typeof o.timeout === 'number' && o.timeout > 0 && Number.isFinite(o.timeout))
  ) {
    throw new RangeError(`${fn}: options.timeout must be a positive number of milliseconds`)
  }
}

/** @internal Resolves and checks that the destination is of Type TCP. */
export function resolveTcpDestination(
  fn: string,
  destination: string | Destination,
  opts: { jwt?: string | undefined; tenant?: string | undefined },
): Promise<TcpDestination> {
  return resolveDestinationOfType(fn, destination, opts, 'TCP', 'with an "Address" (host:port)')
}

const warned = new Set<string>()

/** Applies the destination's `tcp.*` properties that Node's sockets support. */
function applyTcpOptions(stream: TcpStream, dest: TcpDestination): void {
  const t = dest.tcp
  if (t.nodelay !== undefined) stream.setNoDelay(t.nodelay)
  if (t.keepalive) stream.setKeepAlive(true, 60_000)
  if (t.timeoutMs) stream.setIdleTimeout(t.timeoutMs)
  // Node's net API has no SO_LINGER, SO_SNDBUF/SO_RCVBUF or SO_REUSEADDR for client sockets.
  const ignored = (['lingerSeconds', 'sndbuf', 'rcvbuf', 'reuseaddr'] as const).filter(
    (k) => t[k] !== undefined,
  )
  if (ignored.length && !warned.has(dest.name)) {
    warned.add(dest.name)
    debug(
      'destination "%s": tcp options %s are not supported by Node.js sockets and are ignored',
      dest.name,
      ignored.join(', '),
    )
  }
}

/**
 * Opens a TCP connection to a destination's `Address` by its route — `Internet`/`PrivateLink`
 * direct, `OnPremise` through the connectivity binding's SOCKS5 proxy (method 0x80 with the location
 * id) or a configured tunnel — and resolves once it is established end to end. Applies the
 * destination's `tcp.nodelay`, `tcp.keepalive` and `tcp.timeout` (idle timeout).
 *
 * The stream is a Duplex with the socket methods drivers call; it is not paused, so a driver that
 * only attaches 'data' listeners works.
 * @example
 * const stream = await connectTcp('ORDERS_DB')
 * const client = new pg.Client({ stream: () => stream, user: 'app', database: 'orders' })
 * await client.connect()
 * @throws DestinationError DESTINATION_NOT_FOUND, DESTINATION_INVALID (not Type TCP)
 * @throws TransportError CONNECT_FAILED, CONNECT_TIMEOUT, ACCESS_DENIED, NO_AGENT, PROXY_AUTH_FAILED, REQUEST_ABORTED
 *   — messages name the destination, target and route.
 */
export async function connectTcp(
  destination: string | Destination,
  options: ConnectTcpOptions = {},
): Promise<TcpStream> {
  checkRouteOptions('connectTcp', options as Record<string, unknown>)
  const dest = await resolveTcpDestination('connectTcp', destination, options)
  const { stream, route } = await openRoute(dest, dest.address, {
    jwt: options.jwt,
    tenant: options.tenant,
    signal: options.signal,
    timeoutMs: options.timeout,
  })
  const tcp = new TcpStream(stream, {
    destinationName: dest.name,
    route,
    target: describeHostPort(dest.address),
  })
  applyTcpOptions(tcp, dest)
  return tcp
}
