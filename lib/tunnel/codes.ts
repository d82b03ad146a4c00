/**
 * Reason codes carried in OPEN_FAIL, RST and GOAWAY frames, and how they map to the package's
 * stable error codes. The table is documented in docs/tunnel-protocol.md.
 */
import { type ConnectivityErrorCode, type ErrorDetails, TunnelError } from '../errors'

export const Reason = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  FLOW_CONTROL_ERROR: 2,
  STREAM_CLOSED: 3,
  REFUSED: 4,
  CANCEL: 5,
  ACCESS_DENIED: 6,
  NO_AGENT: 7,
  CONNECT_FAILED: 8,
  CONNECT_TIMEOUT: 9,
  PING_TIMEOUT: 10,
  GOING_AWAY: 11,
  INTERNAL_ERROR: 12,
  TOO_MANY_STREAMS: 13,
  UNAUTHORIZED: 14,
} as const
export type ReasonCode = (typeof Reason)[keyof typeof Reason]

const NAMES = new Map<number, string>(Object.entries(Reason).map(([k, v]) => [v, k]))

/** Name of a reason code for messages and metrics (`UNKNOWN_<n>` for codes a newer peer may send). */
export function reasonName(code: number): string {
  return NAMES.get(code) ?? `UNKNOWN_${code}`
}

const TO_ERROR_CODE: Partial<Record<number, ConnectivityErrorCode>> = {
  [Reason.ACCESS_DENIED]: 'ACCESS_DENIED',
  [Reason.NO_AGENT]: 'TUNNEL_NO_AGENT',
  [Reason.CONNECT_FAILED]: 'CONNECT_FAILED',
  [Reason.CONNECT_TIMEOUT]: 'CONNECT_TIMEOUT',
  [Reason.UNAUTHORIZED]: 'TUNNEL_AUTH_FAILED',
  [Reason.PROTOCOL_ERROR]: 'TUNNEL_PROTOCOL_ERROR',
  [Reason.FLOW_CONTROL_ERROR]: 'TUNNEL_PROTOCOL_ERROR',
  [Reason.GOING_AWAY]: 'TUNNEL_CLOSED',
  [Reason.PING_TIMEOUT]: 'TUNNEL_CLOSED',
}

/** The error an opener sees for an OPEN_FAIL (nothing was sent to the target: `requestSent: false`). */
export function openFailError(
  code: number,
  message: string,
  target: string,
  extra: ErrorDetails = {},
): TunnelError {
  const errorCode = TO_ERROR_CODE[code] ?? 'CONNECT_FAILED'
  const why = message ? `: ${message}` : ''
  return new TunnelError(errorCode, `Tunnel stream to ${target} was refused (${reasonName(code)})${why}.`, {
    details: { target, reason: reasonName(code), requestSent: false, ...extra },
  })
}

/** Maps a thrown error to the reason code sent back to the peer. */
export function reasonOf(err: unknown): ReasonCode {
  const code = (err as { code?: unknown } | null)?.code
  switch (code) {
    case 'ACCESS_DENIED':
      return Reason.ACCESS_DENIED
    case 'TUNNEL_NO_AGENT':
    case 'NO_AGENT':
      return Reason.NO_AGENT
    case 'CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return Reason.CONNECT_TIMEOUT
    case 'TUNNEL_AUTH_FAILED':
    case 'TOKEN_INVALID':
    case 'TOKEN_MISSING':
      return Reason.UNAUTHORIZED
    default:
      return Reason.CONNECT_FAILED
  }
}

/**
 * Builds an error for something the peer did (RST, lost session) without capturing a stack trace.
 * Such a stack only shows our frame dispatcher and says nothing, yet capturing and formatting it
 * (Node streams read `err.stack` on destroy) was ~10% of the CPU of opening and closing streams.
 * @example const err = withoutStack(() => new TunnelError('STREAM_RESET', 'reset by the peer'))
 */
export function withoutStack<E extends Error>(make: () => E): E {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return make()
  } finally {
    Error.stackTraceLimit = limit
  }
}
