/**
 * The public, group-aware `request` and `connectTcp`. A plain destination (name or object) passes
 * straight through to the HTTP client or TCP connector; a group name is served by the group's
 * routing with the failover retry rules.
 */
import { Readable } from 'node:stream'
import type { Destination } from '../destination/types'
import { request as httpRequest } from '../http/request'
import type { HttpResponse, RequestInit as HttpRequestInit } from '../http/types'
import { type ConnectTcpOptions, connectTcp as tcpConnect } from '../tcp/connect'
import type { TcpStream } from '../tcp/tcp-stream'
import { executeOnGroup, isIdempotent } from './execute'
import { findGroup } from './find-group'

/** Options of {@link request}: those of the HTTP client plus `idempotent`. */
export interface RequestInit extends HttpRequestInit {
  /**
   * May this request be sent twice? Default: true for GET, HEAD, OPTIONS, PUT and DELETE. Only
   * matters for groups: after a member may have received it, only idempotent requests go to the next member.
   */
  idempotent?: boolean
}

/**
 * Sends an HTTP request to a destination or a destination group.
 * For a group, members are tried in routing order: a request that could not be sent at all goes
 * to the next member whatever its method; an idempotent one is retried once on the next member
 * after a connection failure, timeout or listed status; a non-idempotent one that may have reached
 * a member is not repeated.
 * @example const res = await request('CPI', { method: 'POST', path: '/http/orders', body: { id: 1 } })
 * @throws TransportError REQUEST_NOT_RETRIED (non-idempotent request may have reached a member), NO_HEALTHY_MEMBER,
 *   and every code of the HTTP client (CONNECT_FAILED, HTTP_TIMEOUT, DESTINATION_NOT_FOUND …).
 */
export async function request(
  destination: string | Destination,
  init: RequestInit = {},
): Promise<HttpResponse> {
  if (
    init !== null &&
    typeof init === 'object' &&
    init.idempotent !== undefined &&
    typeof init.idempotent !== 'boolean'
  ) {
    throw new TypeError('request: init.idempotent must be a boolean')
  }
  const { idempotent, ...rest } = init ?? {}
  const entry = typeof destination === 'string' ? await findGroup(destination) : undefined
  if (!entry) return httpRequest(destination, rest)
  const method = (rest.method ?? 'GET').toUpperCase()
  const body = rest.body
  return executeOnGroup(entry.runtime, {
    method,
    idempotent: isIdempotent(method, idempotent),
    signal: rest.signal,
    send: (member) => httpRequest(entry.target(member), rest),
    statusOf: (r) => r.status,
    discard: async (r) => {
      r.body.resume()
    },
    // A stream body that was read once cannot be sent to another member.
    replayable: () => !(body instanceof Readable) || !body.readableDidRead,
  })
}

/**
 * Opens a TCP connection to a TCP destination or to a group of them; for a group, a member that
 * cannot be connected is skipped for the next one (nothing was sent yet).
 * @example const stream = await connectTcp('ORDERS_DB')
 * @throws TransportError NO_HEALTHY_MEMBER, and every code of the TCP connector.
 */
export async function connectTcp(
  destination: string | Destination,
  options: ConnectTcpOptions = {},
): Promise<TcpStream> {
  const entry = typeof destination === 'string' ? await findGroup(destination) : undefined
  if (!entry) return tcpConnect(destination, options)
  return executeOnGroup(entry.runtime, {
    method: 'CONNECT',
    // A connection attempt sends no application data: trying the next member is always safe.
    idempotent: true,
    signal: options.signal,
    send: (member) => tcpConnect(entry.target(member), options),
    statusOf: () => undefined,
    discard: async (s) => {
      s.destroy()
    },
    replayable: () => true,
  })
}
