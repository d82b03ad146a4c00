/**
 * TlsOverConnector: TLS end to end over the streams of another connector (HTTPS to a virtual host
 * through a tunnel stream).
 */
import { isIP } from 'node:net'
import type { Duplex } from 'node:stream'
import { connect as tlsConnect } from 'node:tls'
import type { ConnectContext, Connector, ConnectTarget } from './connector'
import { awaitReady, describeTarget } from './socket-util'
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
    const { servername, ...tls } = this.#tls
    const secure = tlsConnect({ ...tls, socket: stream, ...(isIP(servername) ? {} : { servername }) })
    return awaitReady(
      { stream: secure, readyEvent: 'secureConnect' },
      {
        what: `TLS to ${describeTarget(target.host, target.port, ctx.destinationName)}`,
        timeoutMs: ctx.timeoutMs ?? 10_000,
        signal: ctx.signal,
      },
    )
  }
}
