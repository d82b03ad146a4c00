/**
 * The on-premise agent (Cloud Connector role): dials out to the tunnel server, announces its
 * virtual hosts, opens backend connections only for targets on its agent.json allowlist, keeps the
 * session alive with pings and reconnects with jittered exponential backoff.
 */
import { EventEmitter } from 'node:events'
import { unwatchFile, watchFile } from 'node:fs'
import net from 'node:net'
import { debuglog } from 'node:util'
import { hasErrorCode, TunnelError } from '../errors'
import {
  type AgentConfig,
  type AgentMapping,
  findMapping,
  internalPort,
  parseAgentConfig,
  readAgentConfig,
} from './agent-config'
import { type AgentHttpHook, type AuditEntry, serveHttpStream } from './agent-http'
import { Backoff, type BackoffOptions } from './backoff'
import { Reason } from './codes'
import { coarseTimeout } from './coarse-timer'
import { type DialOptions, dialSession, type TokenSource } from './dial'
import type { StreamKind } from './frames'
import type { IncomingOpen, SessionOptions, TunnelSession } from './session'
import { splice } from './splice'
import type { TunnelStream } from './stream'

const debug = debuglog('cap-connectivity:tunnel-agent')

export interface TunnelAgentOptions {
  /** ws(s)://host[:port][/path] of the tunnel server. */
  readonly server: string
  readonly token: TokenSource
  /** Path to agent.json (re-read when it changes) or the parsed document. */
  readonly config: string | Record<string, unknown>
  readonly httpHooks?: readonly AgentHttpHook[]
  readonly headers?: Readonly<Record<string, string>>
  readonly tls?: DialOptions['tls']
  /** See DialOptions.zeroMask (default: on for wss://, off for ws://). */
  readonly zeroMask?: boolean
  readonly reconnect?: BackoffOptions
  /** Backend connect timeout (default 10 s). */
  readonly connectTimeoutMs?: number
  readonly session?: Omit<SessionOptions, 'initiator'>
  /** Poll interval for agent.json changes (default 1000 ms). */
  readonly watchIntervalMs?: number
}

/** Events: 'connected', 'disconnected' (info), 'config' (AgentConfig), 'audit' (AuditEntry), 'warning' (Error). */
export class TunnelAgent extends EventEmitter {
  readonly #opts: TunnelAgentOptions
  #config: AgentConfig | undefined
  #session: TunnelSession | undefined
  #backoff: Backoff
  #stopped = false
  #timer: NodeJS.Timeout | undefined
  #watching: string | undefined

  constructor(options: TunnelAgentOptions) {
    super()
    if (!options || typeof options.server !== 'string')
      throw new TypeError('TunnelAgent: server must be a URL string')
    if (options.token === undefined) throw new TypeError('TunnelAgent: token is required')
    this.#opts = options
    this.#backoff = new Backoff(options.reconnect)
  }

  /** The active configuration (after start). */
  get config(): AgentConfig | undefined {
    return this.#config
  }

  get connected(): boolean {
    return this.#session !== undefined && !this.#session.draining
  }

  /** The live session (for metrics and tests). */
  get session(): TunnelSession | undefined {
    return this.#session
  }

  /**
   * Loads the config and connects. Resolves on the first session; later drops reconnect by themselves.
   * @throws TunnelError TUNNEL_AUTH_FAILED when the server refuses the token (not retried);
   *   ConnectivityError CONFIG_INVALID for a bad agent.json.
   */
  async start(): Promise<void> {
    this.#stopped = false
    const src = this.#opts.config
    this.#config = typeof src === 'string' ? await readAgentConfig(src) : parseAgentConfig(src, 'config')
    if (typeof src === 'string') this.#watch(src)
    try {
      await this.#connect()
    } catch (err) {
      if (hasErrorCode(err, 'TUNNEL_AUTH_FAILED')) {
        await this.stop()
        throw err
      }
      this.emit('warning', err)
      this.#scheduleReconnect()
    }
  }

  /** Closes the session (GOAWAY) and stops reconnecting and watching. */
  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
    if (this.#watching) unwatchFile(this.#watching)
    this.#watching = undefined
    const s = this.#session
    this.#session = undefined
    if (s) await s.close('agent stopping', 2_000)
  }

  /** Opens a stream from the agent towards the server side (service channels); the server's allowlist decides. */
  async openStream(opts: {
    target: { host: string; port: number }
    kind?: StreamKind
    timeoutMs?: number
  }): Promise<TunnelStream> {
    const s = this.#session
    if (!s || s.draining) {
      throw new TunnelError('TUNNEL_CLOSED', 'Agent is not connected to the tunnel server.', {
        details: { requestSent: false },
      })
    }
    return s.openStream({
      host: opts.target.host,
      port: opts.target.port,
      kind: opts.kind ?? 'tcp',
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    })
  }

  /** Reloads agent.json now (also done automatically on change). Keeps the old config when the new one is invalid. */
  async reload(): Promise<void> {
    const src = this.#opts.config
    if (typeof src !== 'string') return
    try {
      this.#config = await readAgentConfig(src)
      this.#session?.announce(this.#announcement())
      this.emit('config', this.#config)
    } catch (err) {
      this.emit('warning', err)
    }
  }

  #watch(path: string): void {
    if (this.#watching) return
    this.#watching = path
    watchFile(path, { interval: this.#opts.watchIntervalMs ?? 1_000, persistent: false }, (cur, prev) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size) void this.reload()
    })
  }

  #announcement(): unknown {
    return {
      mappings: (this.#config?.mappings ?? []).map((m) => ({
        host: m.virtualHost,
        ports: [m.virtualPortLo, m.virtualPortHi],
        protocol: m.protocol,
      })),
    }
  }

  async #connect(): Promise<void> {
    const session = await dialSession({
      url: this.#opts.server,
      token: this.#opts.token,
      role: 'agent',
      locationId: this.#config?.locationId ?? '',
      ...(this.#opts.headers ? { headers: this.#opts.headers } : {}),
      ...(this.#opts.tls ? { tls: this.#opts.tls } : {}),
      ...(this.#opts.zeroMask !== undefined ? { zeroMask: this.#opts.zeroMask } : {}),
      ...(this.#opts.session ? { session: this.#opts.session } : {}),
    })
    if (this.#stopped) {
      session.destroy(Reason.GOING_AWAY, 'agent stopped')
      return
    }
    this.#session = session
    this.#backoff.reset()
    session.on('open', (inc: IncomingOpen) => this.#onOpen(inc))
    session.on('goaway', () => this.#onLost(session))
    session.on('close', (info) => {
      this.emit('disconnected', info)
      this.#onLost(session)
    })
    session.announce(this.#announcement())
    debug('connected to %s', this.#opts.server)
    this.emit('connected')
  }

  #onLost(session: TunnelSession): void {
    if (this.#session !== session) return
    this.#session = undefined
    // A GOAWAY'd session keeps serving its streams; new ones need a fresh session right away.
    if (!this.#stopped) this.#scheduleReconnect(session.closed ? undefined : 0)
  }

  #scheduleReconnect(delay = this.#backoff.next()): void {
    if (this.#stopped || this.#timer) return
    debug('reconnecting in %d ms', delay)
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#connect().catch((err) => {
        this.emit('warning', err)
        this.#scheduleReconnect()
      })
    }, delay)
  }

  #audit(entry: AuditEntry): void {
    debug('audit %s %s %s %s', entry.decision, entry.protocol, entry.target, entry.reason ?? '')
    this.emit('audit', entry)
  }

  #onOpen(inc: IncomingOpen): void {
    const config = this.#config
    const target = `${inc.host}:${inc.port}`
    const caller = inc.metadata.caller
    const mapping = config ? findMapping(config, inc.host, inc.port) : undefined
    const deny = (reason: string): void => {
      this.#audit({
        time: new Date().toISOString(),
        decision: 'denied',
        reason,
        protocol: mapping?.protocol ?? 'TCP',
        ...(caller ? { caller } : {}),
        target,
      })
      inc.reject(Reason.ACCESS_DENIED, reason)
    }
    if (!config || !mapping) {
      deny('no mapping for the virtual host:port')
      return
    }
    if (mapping.protocol === 'TCP' && inc.kind === 'http') {
      deny('mapping is TCP, the stream is HTTP')
      return
    }
    if (mapping.protocol === 'HTTP') {
      const stream = inc.accept()
      stream.on('error', (err) => debug('http stream error: %s', err.message))
      serveHttpStream(stream, {
        mapping,
        config,
        virtualPort: inc.port,
        principal: inc.metadata.principal,
        caller,
        hooks: this.#opts.httpHooks ?? [],
        audit: (e) => this.#audit(e),
      })
      return
    }
    this.#openTcp(inc, mapping, caller, target)
  }

  #openTcp(inc: IncomingOpen, mapping: AgentMapping, caller: string | undefined, target: string): void {
    const port = internalPort(mapping, inc.port)
    const socket = net.connect({ host: mapping.internalHost, port, allowHalfOpen: true, noDelay: true })
    const cancelTimeout = coarseTimeout(this.#opts.connectTimeoutMs ?? 10_000, () =>
      socket.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
    )
    const onError = (err: Error & { code?: string }): void => {
      cancelTimeout()
      this.#audit({
        time: new Date().toISOString(),
        decision: 'allowed',
        reason: `backend error ${err.code ?? ''}`,
        protocol: 'TCP',
        ...(caller ? { caller } : {}),
        target,
      })
      inc.reject(
        err.code === 'ETIMEDOUT' ? Reason.CONNECT_TIMEOUT : Reason.CONNECT_FAILED,
        `backend ${mapping.internalHost}:${port} ${err.code ?? 'error'}`,
      )
    }
    socket.once('error', onError)
    socket.once('connect', () => {
      cancelTimeout()
      socket.off('error', onError)
      this.#audit({
        time: new Date().toISOString(),
        decision: 'allowed',
        protocol: 'TCP',
        ...(caller ? { caller } : {}),
        target,
      })
      const stream = inc.accept()
      splice(stream, socket)
    })
  }
}
