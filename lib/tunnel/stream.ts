/**
 * One multiplexed stream as a Node Duplex. Writes wait until the session has handed the bytes to
 * the WebSocket (so a fast writer is held back by the peer's credit and the socket), reads return
 * credit to the peer only as the consumer actually takes bytes out of the readable buffer.
 */
import { TunnelError } from '../errors'
import { Reason, reasonName, withoutStack } from './codes'
import type { StreamKind } from './frames'
import { SocketLikeDuplex } from './stream-socket'
import { type DataFrame, type Done, SendQueue } from './stream-send'

/** What a stream needs from its session (kept narrow so the two files stay independent). */
export interface StreamHost {
  /** A stream got data to send, or got credit: put it on the send ring. */
  schedule(stream: TunnelStream): void
  sendFin(stream: TunnelStream): void
  sendRst(stream: TunnelStream, code: number, message: string): void
  /** Bytes the consumer took out of the stream: returns stream and session credit. */
  consumed(stream: TunnelStream, bytes: number): void
  release(stream: TunnelStream): void
}

export interface TunnelStreamInfo {
  readonly id: number
  readonly kind: StreamKind
  readonly host: string
  readonly port: number
  readonly locationId: string
}

/**
 * A tunnel stream. `end()` sends FIN (half-close: the stream still reads), `'end'` fires on the
 * peer's FIN, `destroy()` sends RST. Errors from a peer RST have code `STREAM_RESET` with
 * `details.reason`; a dying session gives `TUNNEL_CLOSED`.
 */
export class TunnelStream extends SocketLikeDuplex {
  readonly id: number
  readonly info: TunnelStreamInfo
  #host: StreamHost
  // send side
  /** Bytes the peer still accepts on this stream. */
  sendCredit = 0
  readonly #send = new SendQueue()
  #finSent = false
  // relay mode (see relay.ts): DATA goes to another stream's send queue instead of the readable side
  #sink: ((data: Buffer, whole: boolean) => void) | null = null
  // receive side
  #window: number
  #received = 0
  #granted: number
  #pushed = 0
  #reported = 0
  #finReceived = false
  #resetByPeer = false
  /** Total bytes received from / sent to the peer (metrics). */
  bytesIn = 0
  bytesOut = 0

  constructor(host: StreamHost, info: TunnelStreamInfo, window: number) {
    super({
      allowHalfOpen: true,
      readableHighWaterMark: Math.max(16 * 1024, window >> 1),
      // Large enough that a splice from a TCP socket keeps several reads queued: the sender then
      // gathers them into one large DATA frame when the stream has the session to itself.
      writableHighWaterMark: 256 * 1024,
    })
    this.#host = host
    this.id = info.id
    this.info = info
    this.#window = window
    this.#granted = window
  }

  /** True while a chunk waits for credit or for its turn on the send ring. */
  get hasPending(): boolean {
    return this.#send.bytes > 0
  }

  get finSent(): boolean {
    return this.#finSent
  }

  get finReceived(): boolean {
    return this.#finReceived
  }

  /** Bytes received but not yet taken by the consumer (what this stream holds in memory). */
  get bufferedIn(): number {
    if (this.#sink) return this.#received - this.#reported
    return this.#received - (this.#pushed - this.readableLength)
  }

  /** Bytes queued to be sent to the peer (waiting for credit or for their turn on the send ring). */
  get bufferedOut(): number {
    return this.#send.bytes
  }

  /**
   * Relay mode, receive side: DATA from the peer goes to `sink` instead of the readable side; the
   * peer's credit comes back through {@link relayConsumed} once the bytes have moved on.
   */
  relayTo(sink: (data: Buffer, whole: boolean) => void): void {
    this.#sink = sink
  }

  /** Relay mode: `bytes` that went to the sink have left this process; return their credit. */
  relayConsumed(bytes: number): void {
    // After destroy, _destroy has already returned the credit of every byte not yet reported.
    if (this.destroyed) return
    this.#reported += bytes
    this.#host.consumed(this, bytes)
  }

  /**
   * Relay mode, send side: queue `data` (a DATA payload received on another stream) to be sent on
   * this one; see {@link SendQueue.relay} for `inPlace` and `sent`.
   */
  relayIn(data: Buffer, inPlace: boolean, sent: ((bytes: number) => void) | null): void {
    if (this.destroyed || this.#finSent || data.length === 0) return
    this.#send.relay(data, inPlace, sent)
    this.#host.schedule(this)
  }

  /**
   * Session side: cut the next DATA frame of up to `max` payload bytes (bounded by credit), or
   * undefined when nothing may be sent now. Its `done` runs once it is handed to the socket.
   */
  takeFrame(max: number): DataFrame | undefined {
    if (this.sendCredit <= 0) return undefined
    const part = this.#send.take(this.id, Math.min(max, this.sendCredit))
    if (!part) return undefined
    this.sendCredit -= part.size
    this.bytesOut += part.size
    this.touch()
    return part
  }

  /** Credit consumed but not yet announced to the peer (the session batches WINDOW_UPDATEs). */
  creditOwed = 0

  /** Session side: a WINDOW_UPDATE of `n` went out; the peer may now send that much more. */
  granted(n: number): void {
    this.#granted += n
    this.creditOwed -= n
  }

  /**
   * Session side: DATA arrived (`whole`: the entire payload, with its own frame header right before
   * it in memory). Returns false when the peer overran the window (flow-control error).
   */
  onData(data: Buffer, whole = false): boolean {
    if (this.#finReceived) return false
    this.#received += data.length
    this.bytesIn += data.length
    this.touch()
    if (this.#received > this.#granted) return false
    if (this.destroyed) {
      // Nobody will read it: give the session credit straight back so the session window does not leak.
      this.#reported += data.length
      this.#host.consumed(this, data.length)
      return true
    }
    if (this.#sink) {
      this.#sink(data, whole)
      return true
    }
    this.#pushed += data.length
    this.push(data)
    this.#returnCredit()
    return true
  }

  onFin(): boolean {
    if (this.#finReceived) return false
    this.#finReceived = true
    this.push(null)
    return true
  }

  /** Why the peer or the session ended this stream abnormally (also set when nobody listened for 'error'). */
  resetError: Error | undefined

  /**
   * Fails the stream. A peer must never be able to crash the process: when nobody listens for
   * 'error', the stream just closes and the reason stays in `resetError`.
   */
  #fail(err: Error): void {
    this.resetError = err
    this.destroy(this.listenerCount('error') > 0 ? err : undefined)
  }

  onRst(code: number, message: string): void {
    this.#resetByPeer = true
    const why = message ? `: ${message}` : ''
    this.#fail(
      withoutStack(
        () =>
          new TunnelError(
            'STREAM_RESET',
            `Tunnel stream ${this.info.host}:${this.info.port} was reset by the peer (${reasonName(code)})${why}.`,
            { details: { target: `${this.info.host}:${this.info.port}`, reason: reasonName(code) } },
          ),
      ),
    )
  }

  /** Session side: drop a stream no caller holds yet (no frame sent, no 'error' emitted). */
  discard(): void {
    this.#resetByPeer = true
    this.destroy()
  }

  /** Session side: the whole session ended; fail without sending anything. */
  onSessionClosed(err: Error): void {
    this.#resetByPeer = true
    this.#fail(err)
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (chunk.length === 0) {
      cb()
      return
    }
    this.#queue([chunk], chunk.length, cb)
  }

  /** Everything written while the previous batch was on its way: one batch, framed together. */
  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    const list: Buffer[] = []
    let bytes = 0
    for (const c of chunks) {
      if (c.chunk.length === 0) continue
      list.push(c.chunk)
      bytes += c.chunk.length
    }
    if (bytes === 0) {
      cb()
      return
    }
    this.#queue(list, bytes, cb)
  }

  #queue(chunks: Buffer[], bytes: number, cb: Done): void {
    this.#send.batch(chunks, bytes, cb)
    this.#host.schedule(this)
  }

  override _final(cb: Done): void {
    // Relayed bytes are queued outside the Writable; FIN must not overtake them.
    if (!this.#send.whenDrained(() => this.#sendFin(cb))) this.#sendFin(cb)
  }

  #sendFin(cb: Done): void {
    this.#finSent = true
    this.#host.sendFin(this)
    cb()
  }

  override _read(): void {
    this.#returnCredit()
  }

  /**
   * Every consumption goes through read() (flowing mode, pipe, async iteration, explicit read),
   * except 'data' emitted straight from push() into an empty flowing stream, which onData counts.
   * _read alone is not enough: Readable stops calling it until the next push, which never comes
   * while the peer waits for credit.
   */
  override read(size?: number): Buffer | null {
    const chunk = super.read(size) as Buffer | null
    if (chunk !== null) this.#returnCredit()
    return chunk
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const pendingCb = this.#send.clear()
    this.stopIdle()
    if (!this.#resetByPeer && !(this.#finSent && this.#finReceived)) {
      this.#host.sendRst(this, err ? Reason.INTERNAL_ERROR : Reason.CANCEL, err ? 'stream destroyed' : '')
    }
    // Unread bytes die with the stream: hand their session credit back.
    const unread = this.#received - this.#reported
    this.#reported = this.#received
    if (unread > 0) this.#host.consumed(this, unread)
    this.#host.release(this)
    pendingCb?.(err ?? new TunnelError('STREAM_RESET', 'Tunnel stream destroyed before its data was sent.'))
    cb(err)
  }

  /** Bytes taken by the consumer since the last report → credit back to the peer. */
  #returnCredit(): void {
    const consumed = this.#pushed - this.readableLength
    const delta = consumed - this.#reported
    if (delta <= 0) return
    this.#reported = consumed
    this.#host.consumed(this, delta)
  }

  override get remoteAddress(): string {
    return this.info.host
  }

  override get remotePort(): number {
    return this.info.port
  }

  /** Window the receiver advertised at open (for tests and metrics). */
  get window(): number {
    return this.#window
  }
}
