/**
 * Local port forwarding (chisel / `cf tunnel` role): listens on local ports and carries each
 * accepted connection as a tunnel stream to host:port, either a virtual host of an agent at the
 * chosen location or a target on the server's own allowlist.
 */
import { EventEmitter } from 'node:events'
import net, { type AddressInfo } from 'node:net'
import { debuglog } from 'node:util'
import { hasErrorCode, TunnelError } from '../errors'
import { TunnelClient, type TunnelClientOptions } from './client'
import { splice } from './splice'

const debug = debuglog('cap-connectivity:tunnel-forward')

export interface ForwardMapping {
  readonly localHost: string
  readonly localPort: number
  readonly host: string
  readonly port: number
}

/**
 * Parses `[localHost:]localPort:host:port` (IPv6 hosts in brackets).
 * @throws RangeError naming the spec when it is malformed.
 */
export function parseForwardSpec(spec: string): ForwardMapping {
  const parts = spec.match(/\[[^\]]+\]|[^:]+/g) ?? []
  const bad = new RangeError(`forward mapping "${spec}" must be [localHost:]localPort:host:port`)
  if (parts.length !== 3 && parts.length !== 4) throw bad
  const [localHost, localPort, host, port] = parts.length === 4 ? parts : ['127.0.0.1', ...parts]
  const lp = Number(localPort)
  const p = Number(port)
  if (!Number.isInteger(lp) || lp < 0 || lp > 65535 || !Number.isInteger(p) || p < 1 || p > 65535 || !host)
    throw bad
  const unbracket = (h: string): string => h.replace(/^\[|\]$/g, '')
  return {
    localHost: unbracket(localHost as string),
    localPort: lp,
    host: unbracket(host as string),
    port: p,
  }
}

export interface ForwardClientOptions extends Omit<TunnelClientOptions, 'locationId'> {
  /** `[localHost:]localPort:host:port` strings or parsed mappings. */
  readonly mappings: readonly (string | ForwardMapping)[]
  readonly locationId?: string
  /** Timeout to open each stream (default 10 s). */
  readonly openTimeoutMs?: number
}

export interface ForwardListener {
  readonly mapping: ForwardMapping
  readonly address: AddressInfo
}

/** Events: 'listening' (ForwardListener), 'stream-error' (Error, mapping), 'fatal' (Error: token refused later). */
export class ForwardClient extends EventEmitter {
  readonly client: TunnelClient
  readonly #mappings: ForwardMapping[]
  readonly #opts: ForwardClientOptions
  #servers: net.Server[] = []
  #sockets = new Set<net.Socket>()

  constructor(options: ForwardClientOptions) {
    super()
    if (!options || !Array.isArray(options.mappings) || options.mappings.length === 0) {
      throw new TypeError('ForwardClient: mappings must be a non-empty array')
    }
    this.#opts = options
    this.#mappings = options.mappings.map((m) => (typeof m === 'string' ? parseForwardSpec(m) : m))
    this.client = new TunnelClient(options)
  }

  /**
   * Authenticates with the server, then listens on every local port.
   * @throws TunnelError TUNNEL_AUTH_FAILED (token refused) | PORT_IN_USE | CONNECT_FAILED
   */
  async start(): Promise<ForwardListener[]> {
    await this.client.connect()
    const out: ForwardListener[] = []
    try {
      for (const m of this.#mappings) out.push(await this.#listen(m))
    } catch (err) {
      await this.close()
      throw err
    }
    return out
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    await Promise.all(this.#servers.map((s) => new Promise<void>((r) => s.close(() => r()))))
    this.#servers = []
    await this.client.close()
  }

  #listen(m: ForwardMapping): Promise<ForwardListener> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) =>
      this.#onConnection(m, socket),
    )
    return new Promise((resolve, reject) => {
      server.once('error', (err: Error & { code?: string }) => {
        reject(
          err.code === 'EADDRINUSE' || err.code === 'EACCES'
            ? new TunnelError(
                'PORT_IN_USE',
                `Local port ${m.localHost}:${m.localPort} is not available (${err.code}); choose another local port.`,
                { cause: err, details: { port: m.localPort } },
              )
            : err,
        )
      })
      server.listen(m.localPort, m.localHost, () => {
        this.#servers.push(server)
        const l = { mapping: m, address: server.address() as AddressInfo }
        this.emit('listening', l)
        resolve(l)
      })
    })
  }

  #onConnection(m: ForwardMapping, socket: net.Socket): void {
    this.#sockets.add(socket)
    socket.on('close', () => this.#sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    this.client
      .openStream({
        host: m.host,
        port: m.port,
        locationId: this.#opts.locationId ?? '',
        timeoutMs: this.#opts.openTimeoutMs ?? 10_000,
      })
      .then(
        (stream) => {
          splice(socket, stream)
          socket.resume()
        },
        (err: Error) => {
          debug('stream to %s:%d failed: %s', m.host, m.port, err.message)
          // Close the local connection at once, with a reset, so the client does not wait on a dead socket.
          socket.resetAndDestroy()
          this.emit('stream-error', err, m)
          if (hasErrorCode(err, 'TUNNEL_AUTH_FAILED')) this.emit('fatal', err)
        },
      )
  }
}
