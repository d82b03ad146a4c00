/**
 * DirectConnector: a plain TCP (or TLS) connection from this process to the target.
 */
import { connect as netConnect } from 'node:net'
import type { Duplex } from 'node:stream'
import type { ConnectContext, Connector, ConnectTarget } from './connector'
import { awaitReady, describeTarget, startTls } from './socket-util'
import type { DestinationTlsOptions } from './tls-options'

/** Options of {@link DirectConnector}. */
export interface DirectConnectorOptions {
  /** When set, the connection is TLS with these settings (from `tlsOptionsFor(destination)` or your own). */
  readonly tls?: DestinationTlsOptions & { servername?: string }
  /** Default connect timeout in ms when the context has none (default 10 000). */
  readonly connectTimeoutMs?: number
}

/**
 * Connects straight to `host:port`, optionally with TLS (trust store, TrustAll, client certificate).
 * @example
 * const socket = await new DirectConnector().connect({ host: '127.0.0.1', port: 5432 }, {})
 * @throws CONNECT_FAILED, CONNECT_TIMEOUT, REQUEST_ABORTED (all with `details.requestSent: false`)
 */
export class DirectConnector implements Connector {
  readonly route = 'direct'
  readonly #tls: DirectConnectorOptions['tls']
  readonly #timeoutMs: number

  constructor(options: DirectConnectorOptions = {}) {
    if (options.connectTimeoutMs !== undefined && !(options.connectTimeoutMs > 0)) {
      throw new RangeError('DirectConnector: connectTimeoutMs must be a positive number of milliseconds')
    }
    this.#tls = options.tls
    this.#timeoutMs = options.connectTimeoutMs ?? 10_000
  }

  /** True when this connector wraps connections in TLS itself. */
  get tls(): boolean {
    return this.#tls !== undefined
  }

  connect(target: ConnectTarget, ctx: ConnectContext = {}): Promise<Duplex> {
    const what = describeTarget(target.host, target.port, ctx.destinationName)
    const timeoutMs = ctx.timeoutMs ?? this.#timeoutMs
    if (this.#tls) {
      return startTls(
        { servername: target.host, ...this.#tls, host: target.host, port: target.port },
        { what, timeoutMs, signal: ctx.signal },
      )
    }
    const socket = netConnect({ host: target.host, port: target.port, noDelay: true })
    return awaitReady({ stream: socket, readyEvent: 'connect' }, { what, timeoutMs, signal: ctx.signal })
  }
}
