/**
 * TcpStream: the socket-like Duplex `connectTcp` returns, the same for every route (a plain socket,
 * a SOCKS5-tunnelled socket, a stream on our tunnel). It gives drivers the net.Socket surface they
 * call (setNoDelay, setKeepAlive, setTimeout, connect, ref/unref), starts out ready for a driver that
 * only attaches 'data' listeners, and applies the destination's idle timeout (`tcp.timeout`).
 */
import type { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import { TransportError } from '../errors'

export interface TcpStreamInfo {
  /** Destination name, for messages. */
  readonly destinationName: string
  /** Route the connection took: `direct`, `socks5` or `tunnel`. */
  readonly route: string
  /** The target host:port as the destination names it (virtual host for OnPremise). */
  readonly target: string
}

type Callback = (err?: Error | null) => void

function socketOf(stream: Duplex): Partial<Socket> {
  return stream as Partial<Socket>
}

/**
 * A connected, end-to-end established TCP stream to a destination. Half-close works as on a socket
 * (`end()` sends FIN, 'end' is the peer's FIN).
 */
export class TcpStream extends Duplex {
  readonly destinationName: string
  readonly route: string
  readonly target: string
  readonly #inner: Duplex
  #pendingWrite: Callback | undefined
  #timeoutMs = 0
  #idleDestroyMs = 0
  #timer: NodeJS.Timeout | undefined
  #lastActivity = Date.now()

  constructor(inner: Duplex, info: TcpStreamInfo) {
    super({ allowHalfOpen: true, readableHighWaterMark: 64 * 1024, writableHighWaterMark: 64 * 1024 })
    this.#inner = inner
    this.destinationName = info.destinationName
    this.route = info.route
    this.target = info.target
    inner.on('data', (chunk: Buffer) => {
      this.#lastActivity = Date.now()
      if (!this.push(chunk)) inner.pause()
    })
    inner.on('end', () => this.push(null))
    inner.on('error', (err: Error) => this.destroy(err))
    inner.on('drain', () => this.#flushed())
    inner.on('close', () => this.#innerClosed())
    // A connector may hand over a socket it read from with 'readable' (flowing === false), where
    // adding a 'data' listener does not start the flow; our own listener is attached, so resume.
    inner.resume()
  }

  #flushed(err?: Error): void {
    const cb = this.#pendingWrite
    this.#pendingWrite = undefined
    cb?.(err)
  }

  #innerClosed(): void {
    this.#flushed(new TransportError('CONNECT_FAILED', `Connection to ${this.#describe()} is closed.`))
    if (this.destroyed) return
    if (this.readableEnded) {
      this.destroy()
    } else if (this.#inner.readableEnded) {
      // The peer finished cleanly; close once the reader has taken the buffered rest.
      this.once('end', () => this.destroy())
    } else {
      this.destroy(
        new TransportError('CONNECTION_RESET', `Connection to ${this.#describe()} was closed abruptly.`),
      )
    }
  }

  #describe(): string {
    return `${this.target} (destination "${this.destinationName}", route ${this.route})`
  }

  override _read(): void {
    this.#inner.resume()
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: Callback): void {
    this.#lastActivity = Date.now()
    if (this.#inner.write(chunk, encoding)) callback()
    else this.#pendingWrite = callback
  }

  override _writev(chunks: { chunk: Buffer; encoding: BufferEncoding }[], callback: Callback): void {
    this.#lastActivity = Date.now()
    let ok = true
    for (const { chunk, encoding } of chunks) ok = this.#inner.write(chunk, encoding)
    if (ok) callback()
    else this.#pendingWrite = callback
  }

  override _final(callback: Callback): void {
    this.#inner.end()
    callback()
  }

  override _destroy(err: Error | null, callback: Callback): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    if (!this.#inner.destroyed) this.#inner.destroy()
    callback(err)
  }

  /** Like net.Socket#setNoDelay; a no-op on routes without a socket of their own (tunnel). */
  setNoDelay(noDelay = true): this {
    socketOf(this.#inner).setNoDelay?.(noDelay)
    return this
  }

  /** Like net.Socket#setKeepAlive; a no-op on routes without a socket of their own (tunnel keeps itself alive). */
  setKeepAlive(enable = false, initialDelayMs = 0): this {
    socketOf(this.#inner).setKeepAlive?.(enable, initialDelayMs)
    return this
  }

  /** Like net.Socket#setTimeout: emits 'timeout' after `ms` without traffic (0 disables); the stream stays open. */
  setTimeout(ms: number, callback?: () => void): this {
    if (!(ms >= 0)) throw new RangeError('TcpStream.setTimeout: ms must be >= 0')
    this.#timeoutMs = ms
    if (callback) this.once('timeout', callback)
    this.#arm()
    return this
  }

  /**
   * Destroys the stream with TCP_TIMEOUT after `ms` without traffic in either direction — the
   * destination's `tcp.timeout`. 0 disables.
   */
  setIdleTimeout(ms: number): this {
    if (!(ms >= 0)) throw new RangeError('TcpStream.setIdleTimeout: ms must be >= 0')
    this.#idleDestroyMs = ms
    this.#arm()
    return this
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    if ((this.#timeoutMs <= 0 && this.#idleDestroyMs <= 0) || this.destroyed) return
    this.#lastActivity = Date.now()
    // One timer re-armed for the remaining time instead of a reset per chunk: cheap on busy streams.
    let emittedFor = -1
    const check = (): void => {
      const last = this.#lastActivity
      const idle = Date.now() - last
      if (this.#idleDestroyMs > 0 && idle >= this.#idleDestroyMs) {
        this.destroy(
          new TransportError(
            'TCP_TIMEOUT',
            `No traffic on ${this.#describe()} for ${this.#idleDestroyMs} ms (tcp.timeout); the connection was closed.`,
            {
              details: {
                destination: this.destinationName,
                route: this.route,
                timeoutMs: this.#idleDestroyMs,
              },
            },
          ),
        )
        return
      }
      if (this.#timeoutMs > 0 && idle >= this.#timeoutMs && emittedFor !== last) {
        emittedFor = last // once per idle period, like net.Socket
        this.emit('timeout')
      }
      const waits: number[] = []
      if (this.#idleDestroyMs > 0) waits.push(this.#idleDestroyMs - idle)
      if (this.#timeoutMs > 0) waits.push(emittedFor === last ? this.#timeoutMs : this.#timeoutMs - idle)
      this.#timer = setTimeout(check, Math.max(Math.min(...waits), 1))
      this.#timer.unref()
    }
    check()
  }

  /**
   * The stream is connected already; drivers that insist on calling `connect()` on a given stream
   * (pg's `stream` option) get their 'connect' event on the next tick. Arguments are ignored.
   */
  connect(..._args: unknown[]): this {
    process.nextTick(() => this.emit('connect'))
    return this
  }

  ref(): this {
    socketOf(this.#inner).ref?.()
    return this
  }

  unref(): this {
    socketOf(this.#inner).unref?.()
    return this
  }
}
