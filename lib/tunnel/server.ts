/**
 * The tunnel server (cloud side): an HTTP server that upgrades authenticated agents and clients to
 * tunnel sessions at `path` (default `/`), serves `/healthz` and `/metrics`, and routes streams
 * between clients, agents and — for allowlisted targets — the server's own network.
 */
import { EventEmitter } from 'node:events'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { debuglog } from 'node:util'
import { WebSocketServer } from 'ws'
import { isConnectivityError, TunnelError } from '../errors'
import { HostPortAllowlist } from './allowlist'
import { createTokenVerifier, type TokenVerifier, type TunnelAuthOptions, type TunnelIdentity } from './auth'
import { Reason, reasonOf } from './codes'
import { LIMITS, type StreamKind, SUBPROTOCOL } from './frames'
import { TunnelMetrics } from './metrics'
import { type AgentInfo, parseAnnouncement, type SessionEntry, SessionRegistry } from './registry'
import { route } from './router'
import { type IncomingOpen, type SessionOptions, TunnelSession } from './session'
import { relayStreams } from './relay'
import { splice } from './splice'
import { TunnelStream } from './stream'

const debug = debuglog('cap-connectivity:tunnel-server')

export interface TunnelServerOptions {
  readonly port?: number
  /** Interface to bind (default 127.0.0.1; use 0.0.0.0 on a platform). */
  readonly host?: string
  /** Upgrade path (default `/`). */
  readonly path?: string
  readonly auth: TunnelAuthOptions
  /** Targets reachable from the server itself: `host:port` or `host:lo-hi` (deny by default). */
  readonly allow?: readonly string[]
  /** Serve HTTPS / wss:// with this certificate and key (PEM). */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer }
  /** Attach to an existing HTTP(S) server instead of creating one (listen/close are then the caller's). */
  readonly server?: http.Server
  /** Timeout for opening a stream end to end (default 10 s). */
  readonly openTimeoutMs?: number
  readonly session?: Omit<SessionOptions, 'initiator'>
  /** More Prometheus text appended to /metrics (e.g. the failover counters). Must not contain secrets. */
  readonly extraMetrics?: () => string
}

export interface ServerOpenStreamOptions {
  readonly account: string
  readonly locationId?: string
  readonly target: { readonly host: string; readonly port: number }
  readonly kind?: StreamKind
  /** User JWT for principal propagation at the agent. Never logged. */
  readonly principal?: string
  readonly signal?: AbortSignal
  readonly timeoutMs?: number
}

/** Events: 'session' (SessionEntry), 'session-closed' (SessionEntry), 'warning' (Error). */
export class TunnelServer extends EventEmitter {
  readonly httpServer: http.Server
  readonly #opts: TunnelServerOptions
  readonly #verify: TokenVerifier
  readonly #allow: HostPortAllowlist
  readonly #registry = new SessionRegistry()
  readonly #metrics = new TunnelMetrics()
  readonly #wss: WebSocketServer
  readonly #path: string
  readonly #own: boolean
  #closing = false

  constructor(options: TunnelServerOptions) {
    super()
    if (!options || typeof options.auth !== 'object')
      throw new TypeError('TunnelServer: auth is required (secret, jwksUrl or insecureNoAuth: true)')
    this.#opts = options
    this.#verify = createTokenVerifier(options.auth)
    this.#allow = new HostPortAllowlist(options.allow ?? [])
    this.#path = options.path ?? '/'
    if (!this.#path.startsWith('/')) throw new TypeError('TunnelServer: path must start with /')
    this.#wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: LIMITS.maxData + 64,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    })
    this.#own = !options.server
    this.httpServer =
      options.server ??
      (options.tls
        ? https.createServer({ cert: options.tls.cert, key: options.tls.key })
        : http.createServer())
    this.httpServer.on('request', (req, res) => this.#onRequest(req, res))
    this.httpServer.on('upgrade', (req, socket, head) => {
      this.#onUpgrade(req, socket, head).catch((err) => {
        debug('upgrade failed: %s', (err as Error).message)
        socket.destroy()
      })
    })
  }

  /** Starts listening (own server only). Resolves with the bound address. */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error & { code?: string }): void => {
        reject(
          err.code === 'EADDRINUSE'
            ? new TunnelError(
                'PORT_IN_USE',
                `Port ${this.#opts.port} is already in use; choose another --port.`,
                { cause: err, details: { port: this.#opts.port ?? 0 } },
              )
            : err,
        )
      }
      this.httpServer.once('error', onError)
      this.httpServer.listen(this.#opts.port ?? 0, this.#opts.host ?? '127.0.0.1', () => {
        this.httpServer.off('error', onError)
        resolve(this.httpServer.address() as AddressInfo)
      })
    })
  }

  address(): AddressInfo | undefined {
    return (this.httpServer.address() as AddressInfo | null) ?? undefined
  }

  /** GOAWAY to every session, then close (sessions get `graceMs` to finish their streams). */
  async close(graceMs = 2_000): Promise<void> {
    // New sessions during the grace period would outlive it: refuse them from now on.
    this.#closing = true
    const closing = [...this.#registry.entries()].map((e) => e.session.close('server shutting down', graceMs))
    await Promise.all(closing)
    if (this.#own) {
      await new Promise<void>((resolve) => {
        this.httpServer.close(() => resolve())
        this.httpServer.closeAllConnections()
      })
    }
  }

  /** Verifies a token exactly as the upgrade does. @throws TunnelError TUNNEL_AUTH_FAILED */
  verifyToken(token: string | undefined): Promise<TunnelIdentity> {
    return this.#verify(token)
  }

  /** Connected agents (optionally of one account). */
  agents(account?: string): AgentInfo[] {
    return this.#registry.agents(account)
  }

  /** Prometheus text of the current metrics. */
  metrics(): string {
    const own = this.#metrics.render(this.#registry.entries())
    const extra = this.#opts.extraMetrics?.() ?? ''
    return extra ? `${own}${extra.endsWith('\n') ? extra : `${extra}\n`}` : own
  }

  /**
   * Opens a stream to an agent of `account` at `locationId` that maps `target`.
   * @throws TunnelError TUNNEL_NO_AGENT | ACCESS_DENIED | CONNECT_FAILED | CONNECT_TIMEOUT | TUNNEL_CLOSED (all `requestSent: false`)
   */
  async openStream(opts: ServerOpenStreamOptions): Promise<Duplex> {
    const locationId = opts.locationId ?? ''
    try {
      const { stream } = await route(this.#registry, this.#allow, {
        account: opts.account,
        locationId,
        host: opts.target.host,
        port: opts.target.port,
        kind: opts.kind ?? 'tcp',
        metadata: opts.principal
          ? { principal: opts.principal, caller: opts.account }
          : { caller: opts.account },
        allowDirect: false,
        viaAgent: true,
        timeoutMs: opts.timeoutMs ?? this.#opts.openTimeoutMs ?? 10_000,
        ...(opts.signal ? { signal: opts.signal } : {}),
      })
      return stream
    } catch (err) {
      this.#metrics.error(opts.account, locationId, isConnectivityError(err) ? err.code : 'ERROR')
      throw err
    }
  }

  #onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ status: 'ok', agents: this.#registry.agents().length }))
    } else if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      res.end(this.metrics())
    } else if (path === this.#path) {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' })
      res.end('This is a cap-connectivity tunnel endpoint: connect with a WebSocket upgrade.\n')
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' })
      res.end('Not found\n')
    }
  }

  #refuse(socket: Duplex, status: number, text: string, extra = ''): void {
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n${extra}Content-Length: ${text.length + 1}\r\n\r\n${text}\n`,
    )
  }

  async #onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy())
    const path = (req.url ?? '/').split('?')[0]
    if (path !== this.#path) return this.#refuse(socket, 404, 'Not Found')
    if (this.#closing) return this.#refuse(socket, 503, 'Service Unavailable')
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
    if (!offered.includes(SUBPROTOCOL)) return this.#refuse(socket, 400, 'Bad Request')
    const auth = req.headers.authorization
    const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined
    let identity: TunnelIdentity
    try {
      identity = await this.#verify(token)
    } catch (err) {
      const status = isConnectivityError(err) && err.details.status === 403 ? 403 : 401
      this.#metrics.authFailure(status === 403 ? 'forbidden' : 'unauthorized')
      debug('refused upgrade: %s', (err as Error).message)
      return this.#refuse(
        socket,
        status,
        status === 403 ? 'Forbidden' : 'Unauthorized',
        status === 401 ? 'WWW-Authenticate: Bearer\r\n' : '',
      )
    }
    const role = req.headers['x-tunnel-role'] === 'agent' ? 'agent' : 'client'
    let locationId = ''
    try {
      locationId = decodeURIComponent(String(req.headers['x-tunnel-location'] ?? ''))
    } catch {
      return this.#refuse(socket, 400, 'Bad Request')
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new TunnelSession(ws, {
        ...this.#opts.session,
        initiator: false,
        label: `${role}:${identity.account}`,
      })
      const entry = this.#registry.add({
        role,
        account: identity.account,
        locationId,
        subject: identity.subject,
        session,
        connectedAt: Date.now(),
      })
      session.on('announce', (body) => {
        if (role === 'agent') this.#registry.announce(entry, parseAnnouncement(body))
      })
      session.on('open', (inc: IncomingOpen) => this.#onOpen(entry, inc))
      session.on('close', () => {
        this.#registry.remove(entry)
        this.#metrics.sessionClosed(entry)
        this.emit('session-closed', entry)
      })
      debug('%s session for account %s location "%s"', role, identity.account, locationId)
      this.emit('session', entry)
    })
  }

  #onOpen(from: SessionEntry, inc: IncomingOpen): void {
    // Clients pick the location per stream; agents are bound to their own.
    const locationId = from.role === 'agent' ? from.locationId : inc.locationId
    const metadata: Record<string, string> = { caller: from.subject }
    if (inc.metadata.principal) metadata.principal = inc.metadata.principal
    route(this.#registry, this.#allow, {
      account: from.account,
      locationId,
      host: inc.host,
      port: inc.port,
      kind: inc.kind,
      metadata,
      allowDirect: true,
      viaAgent: from.role === 'client',
      timeoutMs: this.#opts.openTimeoutMs ?? 10_000,
    }).then(
      ({ stream }) => {
        if (from.session.closed) return stream.destroy()
        const accepted = inc.accept()
        // Agent-served streams are tunnel streams on both sides: relay frames without re-framing.
        if (stream instanceof TunnelStream) relayStreams(accepted, stream)
        else splice(accepted, stream)
      },
      (err: unknown) => {
        const reason = isConnectivityError(err) && (err.details.reason as string | undefined)
        const code = reason === 'NO_AGENT' ? Reason.NO_AGENT : reasonOf(err)
        this.#metrics.error(from.account, locationId, isConnectivityError(err) ? err.code : 'ERROR')
        inc.reject(code, err instanceof Error ? err.message : 'refused')
      },
    )
  }
}
