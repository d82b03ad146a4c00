/**
 * The tunnel route of the transport seam: `TunnelConnector` opens a stream through a tunnel
 * server to a target at a location (an agent's virtual host:port), carrying the user JWT for
 * principal propagation. The tunnel module (and `ws`) is loaded only when a tunnel is used.
 */
import type { Duplex } from 'node:stream'
import { isConnectivityError, TunnelError } from '../errors'
import type { TunnelClient } from '../tunnel/client'
import type { ConnectContext, Connector, ConnectTarget } from './connector'
import { registerTunnelProvider } from './route'

export interface TunnelConnectorOptions {
  /** ws(s):// URL of the tunnel server. */
  readonly url: string
  /** Bearer token for the server, or a function returning a fresh one on each (re)connect. */
  readonly token: string | (() => string | Promise<string>)
  /** Location used when the connect context names none (default `''`). */
  readonly locationId?: string
  /** Default open timeout in ms when the context has none (default 10 s). */
  readonly timeoutMs?: number
  readonly tls?: { readonly ca?: string | Buffer; readonly rejectUnauthorized?: boolean }
}

/** Connector that opens tunnel streams (route `tunnel`). */
export class TunnelConnector implements Connector {
  readonly route = 'tunnel'
  readonly #opts: TunnelConnectorOptions
  #client: Promise<TunnelClient> | undefined

  constructor(options: TunnelConnectorOptions) {
    if (!options || typeof options.url !== 'string' || !/^(ws|wss|http|https):\/\//.test(options.url)) {
      throw new TypeError('TunnelConnector: url must be a ws:// or wss:// URL')
    }
    if (typeof options.token !== 'string' && typeof options.token !== 'function') {
      throw new TypeError('TunnelConnector: token must be a string or a function')
    }
    this.#opts = options
  }

  /**
   * Opens a stream to `target` at `ctx.locationId` (else the configured location).
   * @throws TunnelError TUNNEL_NO_AGENT | ACCESS_DENIED | CONNECT_FAILED | CONNECT_TIMEOUT | TUNNEL_AUTH_FAILED |
   *   TUNNEL_CLOSED | REQUEST_ABORTED — always with `details.requestSent: false`.
   */
  async connect(target: ConnectTarget, ctx: ConnectContext = {}): Promise<Duplex> {
    const client = await this.#getClient()
    try {
      return await client.openStream({
        host: target.host,
        port: target.port,
        locationId: ctx.locationId ?? this.#opts.locationId ?? '',
        ...(ctx.jwt ? { principal: ctx.jwt } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        timeoutMs: ctx.timeoutMs ?? this.#opts.timeoutMs ?? 10_000,
      })
    } catch (err) {
      if (isConnectivityError(err)) {
        // Lead with the destination: the tunnel's message may already end in a hint or a flag.
        const message = ctx.destinationName
          ? `Tunnel route for destination "${ctx.destinationName}": ${err.message}`
          : err.message
        throw new TunnelError(err.code, message, {
          cause: err,
          details: {
            ...err.details,
            requestSent: false,
            ...(ctx.destinationName ? { destination: ctx.destinationName } : {}),
          },
        })
      }
      throw err
    }
  }

  /** Closes the shared session. */
  async close(): Promise<void> {
    const c = this.#client
    this.#client = undefined
    if (c) await (await c).close()
  }

  #getClient(): Promise<TunnelClient> {
    // Loaded on first use so apps without a tunnel never load ws.
    this.#client ??= import('../tunnel/client.js').then(
      ({ TunnelClient }) =>
        new TunnelClient({
          server: this.#opts.url,
          token: this.#opts.token,
          ...(this.#opts.locationId !== undefined ? { locationId: this.#opts.locationId } : {}),
          ...(this.#opts.tls ? { tls: this.#opts.tls } : {}),
        }),
    )
    return this.#client
  }
}

let configured: TunnelConnector | undefined
let fromEnv: { key: string; connector: TunnelConnector } | undefined

/**
 * Routes OnPremise destinations through a tunnel server (instead of the connectivity binding).
 * Pass `undefined` to remove the configuration.
 * @example configureTunnel({ url: 'wss://tunnel.example.com', token: () => fetchMyToken() })
 */
export function configureTunnel(options: TunnelConnectorOptions | undefined): TunnelConnector | undefined {
  void configured?.close()
  configured = options ? new TunnelConnector(options) : undefined
  return configured
}

/** The configured tunnel: from configureTunnel, else CAP_CONNECTIVITY_TUNNEL_URL + CAP_CONNECTIVITY_TUNNEL_TOKEN. */
export function getConfiguredTunnel(): TunnelConnector | undefined {
  if (configured) return configured
  const url = process.env.CAP_CONNECTIVITY_TUNNEL_URL
  const token = process.env.CAP_CONNECTIVITY_TUNNEL_TOKEN
  if (!url || !token) return undefined
  const location = process.env.CAP_CONNECTIVITY_TUNNEL_LOCATION ?? ''
  const key = `${url}\u0000${token}\u0000${location}`
  if (fromEnv?.key !== key) {
    void fromEnv?.connector.close()
    fromEnv = { key, connector: new TunnelConnector({ url, token, locationId: location }) }
  }
  return fromEnv.connector
}

// OnPremise routes ask the provider for a tunnel first (lib/transport/route.ts does not import this file).
registerTunnelProvider(() => getConfiguredTunnel())
