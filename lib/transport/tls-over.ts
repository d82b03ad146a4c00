/**
 * TlsOverConnector: TLS end to end over the streams of another connector (HTTPS to a virtual host
 * through a tunnel stream).
 */
import type { Duplex } from 'node:stream'
import type { ConnectContext, Connector, ConnectTarget } from './connector'
import { describeTarget, startTls } from './socket-util'
import type { DestinationTlsOptions } from './tls-options'

/** Wraps every stream of `inner` in a TLS client session with the given settings. */
export class TlsOverConnector implements Connector {
  readonly route: string
  readonly #inner: Connector
  readonly #tls: DestinationTlsOptions & { servername: string }

  constructor(inner: Connector, tls: DestinationTlsOptions & { servername: string }) {
    this.#inner = inner
    this.#tls = tls
    this.route = inner.route
  }

  async connect(target: ConnectTarget, ctx: ConnectContext = {}): Promise<Duplex> {
    const stream = await this.#inner.connect(target, ctx)
    return startTls(this.#tls, {
      what: `TLS to ${describeTarget(target.host, target.port, ctx.destinationName)}`,
      timeoutMs: ctx.timeoutMs ?? 10_000,
      signal: ctx.signal,
      socket: stream,
    })
  }
}
