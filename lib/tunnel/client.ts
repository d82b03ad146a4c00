/**
 * A client of the tunnel server (forward client, TunnelConnector): one shared session, dialled on
 * first use and re-dialled after it drops, on which streams are opened to targets at a location.
 */
import { EventEmitter } from 'node:events'
import { TunnelError } from '../errors'
import { type DialOptions, dialSession, type TokenSource } from './dial'
import type { StreamKind } from './frames'
import type { SessionOptions, TunnelSession } from './session'
import type { TunnelStream } from './stream'

export interface TunnelClientOptions {
  readonly server: string
  readonly token: TokenSource
  /** Default location for streams (`''` = default location). */
  readonly locationId?: string
  readonly headers?: Readonly<Record<string, string>>
  readonly tls?: DialOptions['tls']
  /** See DialOptions.zeroMask (default: on for wss://, off for ws://). */
  readonly zeroMask?: boolean
  readonly session?: Omit<SessionOptions, 'initiator'>
}

export interface ClientOpenOptions {
  readonly host: string
  readonly port: number
  readonly kind?: StreamKind
  readonly locationId?: string
  /** User JWT for principal propagation (OPEN metadata). Never logged. */
  readonly principal?: string
  readonly signal?: AbortSignal
  readonly timeoutMs?: number
}

/** Events: 'connected' (TunnelSession), 'disconnected'. */
export class TunnelClient extends EventEmitter {
  readonly #opts: TunnelClientOptions
  #session: TunnelSession | undefined
  #dialing: Promise<TunnelSession> | undefined
  #closed = false

  constructor(options: TunnelClientOptions) {
    super()
    if (!options || typeof options.server !== 'string')
      throw new TypeError('TunnelClient: server must be a URL string')
    if (options.token === undefined) throw new TypeError('TunnelClient: token is required')
    this.#opts = options
  }

  /** The live session, dialling one if needed. @throws TunnelError TUNNEL_AUTH_FAILED | CONNECT_FAILED | CONNECT_TIMEOUT */
  connect(): Promise<TunnelSession> {
    if (this.#closed)
      return Promise.reject(
        new TunnelError('TUNNEL_CLOSED', 'Tunnel client was closed.', { details: { requestSent: false } }),
      )
    const live = this.#session
    if (live && !live.draining) return Promise.resolve(live)
    this.#dialing ??= dialSession({
      url: this.#opts.server,
      token: this.#opts.token,
      role: 'client',
      locationId: this.#opts.locationId ?? '',
      ...(this.#opts.headers ? { headers: this.#opts.headers } : {}),
      ...(this.#opts.tls ? { tls: this.#opts.tls } : {}),
      ...(this.#opts.zeroMask !== undefined ? { zeroMask: this.#opts.zeroMask } : {}),
      ...(this.#opts.session ? { session: this.#opts.session } : {}),
    })
      .then((s) => {
        if (this.#closed) {
          void s.close()
          throw new TunnelError('TUNNEL_CLOSED', 'Tunnel client was closed.', {
            details: { requestSent: false },
          })
        }
        this.#session = s
        s.on('close', () => {
          if (this.#session === s) this.#session = undefined
          this.emit('disconnected')
        })
        this.emit('connected', s)
        return s
      })
      .finally(() => {
        this.#dialing = undefined
      })
    return this.#dialing
  }

  /**
   * Opens a stream to host:port at a location.
   * @throws TunnelError TUNNEL_AUTH_FAILED | TUNNEL_NO_AGENT | ACCESS_DENIED | CONNECT_FAILED | CONNECT_TIMEOUT | TUNNEL_CLOSED
   */
  async openStream(opts: ClientOpenOptions): Promise<TunnelStream> {
    const session = await this.connect()
    return session.openStream({
      host: opts.host,
      port: opts.port,
      kind: opts.kind ?? 'tcp',
      locationId: opts.locationId ?? this.#opts.locationId ?? '',
      metadata: opts.principal ? { principal: opts.principal } : {},
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    })
  }

  async close(): Promise<void> {
    this.#closed = true
    const s = this.#session
    this.#session = undefined
    if (s) await s.close('client closing', 1_000)
  }
}
