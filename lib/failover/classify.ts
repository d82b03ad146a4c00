/**
 * Classifies a failed attempt on a member: may it be retried elsewhere, and may the request have
 * reached the member? Our own transport errors say so in `details.requestSent`; raw socket and
 * undici errors (from custom send functions) are mapped by their codes.
 */
import { isConnectivityError } from '../errors'

export interface AttemptFailure {
  /** `connect-error` and `timeout` are member trouble; `fatal` is not (bad input, auth, abort …). */
  readonly kind: 'connect-error' | 'timeout' | 'fatal'
  /** False only when we know nothing of the request left this process. */
  readonly sent: boolean
  /** A short code for messages, e.g. `CONNECT_FAILED` or `ECONNREFUSED`. */
  readonly code: string
  /** CONNECT_TIMEOUT is both a timeout and a failed connect; either retry condition covers it. */
  readonly alsoConnectError?: boolean
}

const CONNECT_CODES = new Set([
  'CONNECTION_RESET',
  'CONNECT_FAILED',
  'PROXY_FAILED',
  'TUNNEL_CLOSED',
  'STREAM_RESET',
  'TUNNEL_NO_AGENT',
  'NO_AGENT',
])
const NOT_SENT_SYSTEM = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
])
const SENT_SYSTEM = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])
const TIMEOUT_SYSTEM = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'])

function codeOf(err: unknown): string | undefined {
  const c = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  return typeof c === 'string' ? c : undefined
}

/** Looks through `cause` chains (fetch wraps socket errors in a TypeError) for a known system code. */
function systemCode(err: unknown): string | undefined {
  let e: unknown = err
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const c = codeOf(e)
    if (c && (NOT_SENT_SYSTEM.has(c) || SENT_SYSTEM.has(c) || TIMEOUT_SYSTEM.has(c))) return c
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

/** Classifies an error thrown by one attempt. */
export function classifyFailure(err: unknown): AttemptFailure {
  if (isConnectivityError(err)) {
    const known = err.details.requestSent
    const code = err.code
    if (code === 'CONNECT_TIMEOUT')
      return { kind: 'timeout', sent: known === true, code, alsoConnectError: true }
    if (code === 'CONNECT_FAILED') return { kind: 'connect-error', sent: known === true, code }
    if (CONNECT_CODES.has(code)) return { kind: 'connect-error', sent: known !== false, code }
    if (code === 'HTTP_TIMEOUT') return { kind: 'timeout', sent: known !== false, code }
    return { kind: 'fatal', sent: known !== false, code }
  }
  const sys = systemCode(err)
  if (sys && NOT_SENT_SYSTEM.has(sys)) {
    return sys === 'UND_ERR_CONNECT_TIMEOUT'
      ? { kind: 'timeout', sent: false, code: sys, alsoConnectError: true }
      : { kind: 'connect-error', sent: false, code: sys }
  }
  if (sys && SENT_SYSTEM.has(sys)) return { kind: 'connect-error', sent: true, code: sys }
  if (sys && TIMEOUT_SYSTEM.has(sys)) return { kind: 'timeout', sent: true, code: sys }
  return { kind: 'fatal', sent: true, code: codeOf(err) ?? (err instanceof Error ? err.name : 'Error') }
}
