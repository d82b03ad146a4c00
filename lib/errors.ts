/**
 * Errors of cap-connectivity. Every failure a caller may want to handle carries a stable `code`;
 * match on `code`, not on the class, because an app and CAP may load two copies of this package.
 *
 * Messages say what failed, for which input, and what to try next. They never contain a secret
 * (password, client secret, token, private key): build them from names, hosts and property keys only.
 */

/** Every stable error code this package raises. */
export type ConnectivityErrorCode =
  // destinations (lib/destination)
  | 'DESTINATION_NOT_FOUND'
  | 'DESTINATION_INVALID'
  | 'DESTINATIONS_FILE_INVALID'
  | 'DESTINATION_SERVICE_FAILED'
  // configuration and bindings
  | 'CONFIG_INVALID'
  | 'BINDING_NOT_FOUND'
  // auth (lib/auth)
  | 'TOKEN_FETCH_FAILED'
  | 'TOKEN_INVALID'
  | 'TOKEN_MISSING'
  // transport (lib/transport)
  | 'REQUEST_INVALID'
  | 'HTTP_TIMEOUT'
  | 'CONNECT_TIMEOUT'
  | 'TCP_TIMEOUT'
  | 'CONNECT_FAILED'
  | 'PROXY_AUTH_FAILED'
  | 'PROXY_FAILED'
  | 'ACCESS_DENIED'
  | 'NO_AGENT'
  | 'REQUEST_ABORTED'
  | 'CONNECTION_RESET'
  | 'HTTP_ERROR'
  // tunnel (lib/tunnel)
  | 'TUNNEL_AUTH_FAILED'
  | 'TUNNEL_PROTOCOL_ERROR'
  | 'TUNNEL_CLOSED'
  | 'TUNNEL_NO_AGENT'
  | 'STREAM_RESET'
  | 'PORT_IN_USE'
  // failover (lib/failover)
  | 'REQUEST_NOT_RETRIED'
  | 'NO_HEALTHY_MEMBER'
  // rfc (lib/rfc)
  | 'RFC_ABAP_EXCEPTION'
  | 'RFC_DRIVER_MISSING'
  | 'RFC_FAILED'

/** Safe, secret-free context attached to an error (destination name, host:port, HTTP status …). */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | undefined>>

export interface ConnectivityErrorOptions {
  cause?: unknown
  details?: ErrorDetails
}

const kMarker = Symbol.for('cap-connectivity.error')

/** Base class of every error this package throws for bad data, failed I/O or denied access. */
export class ConnectivityError extends Error {
  readonly code: ConnectivityErrorCode
  readonly details: ErrorDetails

  constructor(code: ConnectivityErrorCode, message: string, options: ConnectivityErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.details = Object.freeze({ ...(options.details ?? {}) })
    Object.defineProperty(this, kMarker, { value: true })
  }

  /** Plain JSON without `cause` (which may hold foreign objects) — safe to log or send. */
  toJSON(): { name: string; code: ConnectivityErrorCode; message: string; details: ErrorDetails } {
    return { name: this.name, code: this.code, message: this.message, details: this.details }
  }
}

/** A destination lookup or destination definition failed. */
export class DestinationError extends ConnectivityError {}
/** A token could not be fetched, or a token given to us is not acceptable. */
export class AuthError extends ConnectivityError {}
/** Sending a request or opening a connection failed. */
export class TransportError extends ConnectivityError {}
/** The tunnel session, server or agent failed. */
export class TunnelError extends ConnectivityError {}

/**
 * True for errors thrown by any copy of this package (checks a global symbol marker, not `instanceof`).
 * @example if (isConnectivityError(err) && err.code === 'DESTINATION_NOT_FOUND') { … }
 */
export function isConnectivityError(err: unknown): err is ConnectivityError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[kMarker] === true
}

/** True when `err` is a ConnectivityError with the given code. */
export function hasErrorCode(err: unknown, code: ConnectivityErrorCode): err is ConnectivityError {
  return isConnectivityError(err) && err.code === code
}
