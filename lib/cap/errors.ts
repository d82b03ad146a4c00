/**
 * Maps transport failures and remote error answers to CAP errors with an HTTP status an API
 * consumer can act on: 503 when the path to the system is down (no agent, connect refused),
 * 504 on timeouts, 502 for everything the backend or the configuration got wrong. Messages name
 * the service and destination, never a token, password or header value.
 */
import { isConnectivityError } from '../errors'
import type { CdsError } from './cds'
import { loadCds } from './cds'

const UNAVAILABLE = new Set([
  'NO_AGENT',
  'TUNNEL_NO_AGENT',
  'TUNNEL_CLOSED',
  'CONNECT_FAILED',
  'PROXY_FAILED',
  'NO_HEALTHY_MEMBER',
])
const TIMEOUT = new Set(['HTTP_TIMEOUT', 'CONNECT_TIMEOUT'])

/** HTTP status for a ConnectivityError code. */
export function statusForCode(code: string): 502 | 503 | 504 {
  if (UNAVAILABLE.has(code)) return 503
  if (TIMEOUT.has(code)) return 504
  return 502
}

export interface RemoteCallInfo {
  readonly service: string
  readonly destination: string
  readonly method: string
  /** Path relative to the destination URL (no secrets: CAP never puts credentials in URLs). */
  readonly path: string
}

function hint(code: string): string {
  switch (code) {
    case 'NO_AGENT':
    case 'TUNNEL_NO_AGENT':
      return ' Is the connectivity agent for this location running and connected?'
    case 'CONNECT_FAILED':
    case 'PROXY_FAILED':
      return ' The system or the connectivity proxy is not reachable.'
    case 'HTTP_TIMEOUT':
    case 'CONNECT_TIMEOUT':
      return ' Increase credentials.requestTimeout if the system is just slow.'
    case 'DESTINATION_NOT_FOUND':
      return ' Check the destination name in cds.requires and the destinations file or service.'
    default:
      return ''
  }
}

/** A CAP error for a failed transport call (ConnectivityError or anything thrown below us). */
export function transportError(err: unknown, info: RemoteCallInfo): CdsError {
  const cds = loadCds()
  if (isConnectivityError(err)) {
    const status = statusForCode(err.code)
    return new cds.error({
      status,
      code: err.code,
      message: `Remote service "${info.service}" (destination "${info.destination}") is unavailable: ${err.message}${hint(err.code)}`,
      reason: { code: err.code, details: err.details, request: { method: info.method, path: info.path } },
    })
  }
  const message = err instanceof Error ? err.message : String(err)
  return new cds.error({
    status: 502,
    message: `Request to remote service "${info.service}" (destination "${info.destination}") failed: ${message}`,
    reason: { request: { method: info.method, path: info.path } },
  })
}

function remoteMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim().slice(0, 300) || undefined
  if (typeof body !== 'object' || body === null) return undefined
  const e = (body as { error?: { message?: unknown } }).error
  const m = e?.message
  if (typeof m === 'string') return m
  if (typeof m === 'object' && m !== null && typeof (m as { value?: unknown }).value === 'string') {
    return (m as { value: string }).value
  }
  return undefined
}

/** A CAP error (502) for an error status the remote system answered with. */
export function remoteStatusError(status: number, body: unknown, info: RemoteCallInfo): CdsError {
  const detail = remoteMessage(body)
  return new (loadCds().error)({
    status: 502,
    message:
      `Error during request to remote service "${info.service}" (destination "${info.destination}"): ` +
      `${info.method} ${info.path} answered ${status}${detail ? `: ${detail}` : ''}`,
    reason: { response: { status }, request: { method: info.method, path: info.path } },
  })
}

/** A CAP error (502) for a success answer of an unexpected type (e.g. a logon page in HTML). */
export function unexpectedContentError(contentType: string, info: RemoteCallInfo): CdsError {
  return new (loadCds().error)({
    status: 502,
    message:
      `Remote service "${info.service}" (destination "${info.destination}") answered ${info.method} ${info.path} ` +
      `with ${contentType.split(';')[0]}, which was not requested; often a logon page or a proxy's error page.`,
    reason: { request: { method: info.method, path: info.path } },
  })
}
