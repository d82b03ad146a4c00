/**
 * A loopback listener that carries every accepted connection to a stream opened on demand (by a
 * destination's route). Used by openLocalPort and by the RFC gateway ports. Bytes are piped with
 * backpressure both ways; half-close (FIN) passes through; a failed upstream resets the local socket.
 */
import { once } from 'node:events'
import net from 'node:net'
import type { Duplex } from 'node:stream'
import { debuglog } from 'node:util'
import { TransportError } from '../errors'

const debug = debuglog('cap-connectivity:tcp')

export interface ForwarderOptions {
  readonly host: string
  readonly port: number
  /** Opens the upstream for one accepted connection; the signal aborts when the port closes or the client leaves. */
  readonly open: (signal: AbortSignal) => Promise<Duplex>
  /** Most simultaneous connections (accepted beyond that are dropped by the kernel backlog / closed). */
  readonly maxConnections: number
  /** Called when a connection could not be carried (the local client got a reset). */
  readonly onError?: ((err: Error) => void) | undefined
  /** For messages: what this port forwards to. */
  readonly label: string
  /** Do not keep the process alive just for this listener (long-lived shared ports). */
  readonly unref?: boolean
}

export interface Forwarder {
  readonly host: string
  readonly port: number
  /** Connections being carried (or opened) right now. */
  readonly connections: number
  close(): Promise<void>
}

interface Pair {
  client: net.Socket
  upstream?: Duplex
  abort: AbortController
}

function pipePair(client: net.Socket, upstream: Duplex): void {
  client.pipe(upstream)
  upstream.pipe(client)
  // A clean FIN travels through pipe()'s end(); only abrupt ends tear the other side down,
  // so the last bytes of a finished transfer are never discarded.
  upstream.on('error', () => client.destroy())
  client.on('error', () => upstream.destroy())
  upstream.once('close', () => {
    if (!upstream.readableEnded) client.resetAndDestroy()
  })
  client.once('close', () => {
    if (!client.readableEnded) upstream.destroy()
  })
  client.resume()
}

/** Listens on `host:port` and forwards; resolves once listening. @throws PORT_IN_USE, CONNECT_FAILED */
export async function startForwarder(opts: ForwarderOptions): Promise<Forwarder> {
  const pairs = new Set<Pair>()
  let closing = false
  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true }, (client) => {
    if (closing) {
      client.destroy()
      return
    }
    const pair: Pair = { client, abort: new AbortController() }
    pairs.add(pair)
    client.on('error', (err) => debug('local client of %s: %s', opts.label, err.message))
    client.once('close', () => {
      pair.abort.abort()
      pairs.delete(pair)
    })
    opts.open(pair.abort.signal).then(
      (upstream) => {
        if (client.destroyed || closing) {
          upstream.destroy()
          return
        }
        pair.upstream = upstream
        upstream.once('close', () => pairs.delete(pair))
        pipePair(client, upstream)
      },
      (err: Error) => {
        debug('could not carry a connection to %s: %s', opts.label, err.message)
        if (!client.destroyed) client.resetAndDestroy()
        // A client that left (or a closing port) aborted the open itself: nothing to report.
        if (!closing && !pair.abort.signal.aborted) opts.onError?.(err)
      },
    )
  })
  server.maxConnections = opts.maxConnections
  server.listen({ host: opts.host, port: opts.port, exclusive: true })
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))])
  } catch (err) {
    server.close()
    const code = (err as NodeJS.ErrnoException).code
    const where = `${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`
    if (code === 'EADDRINUSE') {
      throw new TransportError(
        'PORT_IN_USE',
        `Local port ${where} for ${opts.label} is in use; choose another port.`,
        {
          cause: err,
          details: { port: opts.port },
        },
      )
    }
    throw new TransportError(
      'CONNECT_FAILED',
      `Could not listen on ${where} for ${opts.label}: ${code ?? (err as Error).message}.`,
      {
        cause: err,
      },
    )
  }
  if (opts.unref) server.unref()
  const address = server.address() as net.AddressInfo
  debug('listening on %s:%d for %s', address.address, address.port, opts.label)
  let closed: Promise<void> | undefined
  return {
    host: address.address,
    port: address.port,
    get connections() {
      return pairs.size
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true
        server.close(() => resolve())
        for (const p of pairs) {
          p.abort.abort()
          p.upstream?.destroy()
          p.client.destroy()
        }
        pairs.clear()
      })
      return closed
    },
  }
}
