/**
 * How failures of a proxied stream map to BTP's HTTP status codes and SOCKS5 REP codes.
 */
import { isConnectivityError } from '../../errors'

/** SOCKS5 reply codes (RFC 1928), with the meaning SAP's connectivity proxy gives them. */
export const SocksReply = {
  SUCCESS: 0x00,
  FAILURE: 0x01,
  /** No matching mapping in the agent's access control. */
  NOT_ALLOWED: 0x02,
  /** No agent connected for the account/location. */
  NETWORK_UNREACHABLE: 0x03,
  /** Backend unreachable from the agent. */
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  COMMAND_NOT_SUPPORTED: 0x07,
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
} as const

export type FailureKind =
  | 'denied'
  | 'no-agent'
  | 'unreachable'
  | 'bad-request'
  | 'auth'
  | 'session-lost'
  | 'other'

const BY_CODE: Readonly<Record<string, FailureKind>> = {
  ACCESS_DENIED: 'denied',
  TUNNEL_NO_AGENT: 'no-agent',
  NO_AGENT: 'no-agent',
  CONNECT_FAILED: 'unreachable',
  CONNECT_TIMEOUT: 'unreachable',
  REQUEST_INVALID: 'bad-request',
  TOKEN_INVALID: 'auth',
  TOKEN_MISSING: 'auth',
  TUNNEL_AUTH_FAILED: 'auth',
  PROXY_AUTH_FAILED: 'auth',
  TUNNEL_CLOSED: 'session-lost',
}

/** Classifies an error thrown by a stream opener or emitted by its stream. */
export function classifyFailure(err: unknown): FailureKind {
  if (isConnectivityError(err)) {
    const kind = BY_CODE[err.code]
    if (kind !== undefined) return kind
    // A reset stream may carry the agent's reason in details.reason.
    const reason = err.details.reason
    if (typeof reason === 'string' && BY_CODE[reason] !== undefined) return BY_CODE[reason]
  }
  return 'other'
}

/** HTTP status for a failure before the response started. */
export function httpStatusFor(kind: FailureKind): number {
  switch (kind) {
    case 'denied':
      return 403
    case 'no-agent':
      return 503
    case 'bad-request':
      return 400
    case 'auth':
      return 403
    default:
      return 502
  }
}

/** SOCKS5 REP byte for a failed CONNECT. */
export function socksReplyFor(kind: FailureKind): number {
  switch (kind) {
    case 'denied':
      return SocksReply.NOT_ALLOWED
    case 'auth':
      // SAP's table: 05 "authentication failure" (a stream-level refusal after the 0x80 auth passed).
      return SocksReply.CONNECTION_REFUSED
    case 'no-agent':
      return SocksReply.NETWORK_UNREACHABLE
    case 'unreachable':
      return SocksReply.HOST_UNREACHABLE
    default:
      return SocksReply.FAILURE
  }
}
