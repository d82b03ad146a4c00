/**
 * Service channels (on-premise → cloud, the Cloud Connector's / Kyma ServiceMapping's direction):
 * the agent listens on a local port and carries each connection as a stream to a cloud-side
 * target, which the tunnel server connects to only if it is on its own `--allow` list.
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { debuglog } from 'node:util'
import { ConnectivityError } from '../../errors'

const debug = debuglog('cap-connectivity:service-channel')

/** One `serviceChannels` entry of agent.json. */
export interface ServiceChannel {
  readonly localPort: number
  /** Bind address; default 127.0.0.1. */
  readonly localHost: string
  readonly target: { readonly host: string; readonly port: number }
}

/** What a service channel needs from the agent (TunnelAgent satisfies it). */
export interface ServiceChannelAgent {
  openStream(options: { target: { host: string; port: number }; kind?: 'tcp' | 'http' }): Promise<Duplex>
}

/**
 * Validates agent.json `serviceChannels`: `[ { "localPort": 15432, "target": "cloud-db.internal:5432", "localHost"?: "127.0.0.1" } ]`.
 * @throws ConnectivityError `CONFIG_INVALID` naming the entry.
 */
export function parseServiceChannels(value: unknown): ServiceChannel[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw new ConnectivityError('CONFIG_INVALID', 'serviceChannels must be an array')
  return value.map((entry: unknown, i) => {
    const where = `serviceChannels[${i}]`
    if (typeof entry !== 'object' || entry === null)
      throw new ConnectivityError('CONFIG_INVALID', `${where} must be an object`)
    const e = entry as Record<string, unknown>
    const localPort = e.localPort
    if (typeof localPort !== 'number' || !Number.isInteger(localPort) || localPort < 0 || localPort > 65535) {
      throw new ConnectivityError('CONFIG_INVALID', `${where}.localPort must be a port number`)
    }
    const m = typeof e.target === 'string' ? /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(e.target) : null
    const port = Number(m?.[2])
    if (m === null || !(port >= 1 && port <= 65535)) {
      throw new ConnectivityError('CONFIG_INVALID', `${where}.target must be "host:port"`)
    }
    const localHost = e.localHost ?? '127.0.0.1'
    if (typeof localHost !== 'string')
      throw new ConnectivityError('CONFIG_INVALID', `${where}.localHost must be a string`)
    return { localPort, localHost, target: { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port } }
  })
}

const keyOf = (c: ServiceChannel): string => `${c.localHost}:${c.localPort}>${c.target.host}:${c.target.port}`

/**
 * The set of running service-channel listeners of one agent; `apply` reconciles with a new config.
 * @example const channels = new ServiceChannels(agent); await channels.apply(parseServiceChannels(raw.serviceChannels))
 */
export class ServiceChannels {
  readonly #agent: ServiceChannelAgent
  readonly #running = new Map<string, { server: Server; sockets: Set<Socket>; port: number }>()

  constructor(agent: ServiceChannelAgent) {
    this.#agent = agent
  }

  /** Local ports currently listening, by channel (`localHost:localPort>host:port`). */
  ports(): Map<string, number> {
    return new Map([...this.#running].map(([k, v]) => [k, v.port]))
  }

  /** Starts new channels and stops removed ones. Rejects with `PORT_IN_USE` when a local port is taken. */
  async apply(channels: readonly ServiceChannel[]): Promise<void> {
    const wanted = new Map(channels.map((c) => [keyOf(c), c]))
    for (const [key, run] of this.#running) {
      if (!wanted.has(key)) {
        this.#stop(run)
        this.#running.delete(key)
      }
    }
    for (const [key, channel] of wanted) {
      if (!this.#running.has(key)) this.#running.set(key, await this.#start(channel))
    }
  }

  /** Stops every listener and connection. */
  async close(): Promise<void> {
    for (const run of this.#running.values()) this.#stop(run)
    this.#running.clear()
  }

  #stop(run: { server: Server; sockets: Set<Socket> }): void {
    run.server.close()
    for (const s of run.sockets) s.destroy()
  }

  async #start(channel: ServiceChannel): Promise<{ server: Server; sockets: Set<Socket>; port: number }> {
    const sockets = new Set<Socket>()
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => socket.destroy())
      this.#agent.openStream({ target: { ...channel.target }, kind: 'tcp' }).then(
        (stream) => splice(socket, stream),
        (err: unknown) => {
          // Close the local connection promptly so the client sees the failure at once.
          debug(
            'service channel to %s:%d failed: %s',
            channel.target.host,
            channel.target.port,
            (err as Error).message,
          )
          socket.destroy()
        },
      )
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new ConnectivityError(
                'PORT_IN_USE',
                `Service channel port ${channel.localHost}:${channel.localPort} is already in use; choose another localPort`,
                { cause: err },
              )
            : err,
        ),
      )
      server.listen(channel.localPort, channel.localHost, () => resolve())
    })
    const port = (server.address() as AddressInfo).port
    debug('service channel %s:%d -> %s:%d', channel.localHost, port, channel.target.host, channel.target.port)
    return { server, sockets, port }
  }
}

function splice(socket: Socket, stream: Duplex): void {
  if (socket.destroyed) {
    stream.destroy()
    return
  }
  stream.on('error', () => socket.destroy())
  socket.on('close', () => stream.destroy())
  let ended = 0
  const onEnd = (): void => {
    if (++ended === 2) socket.destroy()
  }
  socket.on('end', onEnd)
  stream.on('end', onEnd)
  socket.pipe(stream)
  stream.pipe(socket)
  socket.resume()
}
