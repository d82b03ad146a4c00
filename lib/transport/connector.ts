/**
 * The transport seam. A Connector turns a target host:port into a connected byte stream by some
 * route (direct, SOCKS5 through the connectivity proxy, a tunnel stream). Everything above it —
 * undici pools, the HTTP client, TCP sockets for drivers — is route-agnostic.
 */
import type { Duplex } from 'node:stream'

export interface ConnectTarget {
  readonly host: string
  readonly port: number
}

/** Per-connection context. Never log it: `jwt` is a secret. */
export interface ConnectContext {
  /** Name of the destination being served, for error messages. */
  readonly destinationName?: string
  /** Cloud Connector / agent location id (`''` = default location). */
  readonly locationId?: string
  /** The user's JWT, for routes that carry a principal (principal propagation). */
  readonly jwt?: string
  readonly tenant?: string
  readonly signal?: AbortSignal
  /** Connect timeout in ms (the connection must be established within it). */
  readonly timeoutMs?: number
}

export interface Connector {
  /** Short route name for messages and route keys, e.g. `direct`, `socks5`, `tunnel`. */
  readonly route: string
  /** Resolves once the target is reachable end to end; rejects with a ConnectivityError otherwise. */
  connect(target: ConnectTarget, ctx: ConnectContext): Promise<Duplex>
}
