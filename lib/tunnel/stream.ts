/**
 * One multiplexed stream as a Node Duplex. Writes wait until the session has handed the bytes to
 * the WebSocket (so a fast writer is held back by the peer's credit and the socket), reads return
 * credit to the peer only as the consumer actually takes bytes out of the readable buffer.
 */
import { Duplex } from 'node:stream'
import { TunnelError } from '../errors'
import { Reason, reasonName } from './codes'
import { POOL_MIN, takeFrameBuffer } from './frame-pool'
import { allocData, HEADER_SIZE, type StreamKind, writeDataHeader } from './frames'

/**
 * Builds an error for something the peer did (RST, lost session) without capturing a stack trace.
 * Such a stack only shows our frame dispatcher and says nothing, yet capturing and formatting it
 * (Node streams read `err.stack` on destroy) was ~10% of the CPU of opening and closing streams.
 * @example const err = withoutStack(() => new TunnelError('STREAM_RESET', 'reset by the peer'))
 */
export function withoutStack<E extends Error>(make: () => E): E {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return make()
  } finally {
    Error.stackTraceLimit = limit
  }
}

type Done = (err?: Error | null) => void

/** Relayed payloads whose own frame header sits right before them in memory (see relayIn). */
const framedInPlace = new WeakSet<Buffer>()

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
export class TunnelStream extends Duplex {
  readonly id: number
  readonly info: TunnelStreamInfo
  #host: StreamHost
  // send side
  /** Bytes the peer still accepts on this stream. */
  sendCredit = 0
  // Chunks handed over by one _write/_writev, sent as DATA frames that may span several chunks.
  #pending: Buffer[] = []
  #pendingIndex = 0
  #pendingOffset = 0
  #pendingBytes = 0
  #pendingCb: ((err?: Error | null) => void) | null = null
  /** _final waiting for relayed bytes to leave before FIN. */
  #finalCb: ((err?: Error | null) => void) | null = null
  #finSent = false
  // relay mode (see relay.ts): DATA goes to another stream's send queue instead of the readable side
  #sink: ((data: Buffer, whole: boolean) => void) | null = null
  /** Runs with the byte count each time a frame carrying relayed bytes is handed to the socket. */
  #relaySent: ((bytes: number) => void) | null = null
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
    return this.#pendingBytes > 0
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
    return this.#pendingBytes
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
   * this one. `inPlace` says the payload's own 6-byte frame header precedes it in memory, so the
   * frame can be sent from the received buffer with only the stream id rewritten (no copy).
   * `sent` runs with the bytes of each frame as it is handed to the socket.
   */
  relayIn(data: Buffer, inPlace: boolean, sent: (bytes: number) => void): void {
    if (this.destroyed || this.#finSent || data.length === 0) return
    this.#relaySent = sent
    if (inPlace) framedInPlace.add(data)
    this.#pending.push(data)
    this.#pendingBytes += data.length
    this.#host.schedule(this)
  }

  /**
   * Session side: cut the next DATA frame of up to `max` payload bytes (bounded by credit) from the
   * queued chunks, gathering several chunks into one frame. Returns the frame and the write
   * callback to run once it is handed to the socket, or undefined when nothing may be sent now.
   */
  takeFrame(max: number):
    | {
        frame: Buffer
        size: number
        done: ((err?: Error | null) => void) | null
        /** The recycled buffer behind `frame`, to return to the pool once the socket wrote it. */
        pooled: Buffer | undefined
      }
    | undefined {
    if (this.#pendingBytes === 0 || this.sendCredit <= 0) return undefined
    const head = this.#pending[this.#pendingIndex] as Buffer
    if (this.#pendingOffset === 0 && head.length <= Math.min(max, this.sendCredit) && framedInPlace.has(head))
      return this.#takeInPlace(head)
    const size = Math.min(this.#pendingBytes, max, this.sendCredit)
    // Large frames use a recycled buffer (returned by the sender once the socket wrote it).
    const pooled = size >= POOL_MIN ? takeFrameBuffer(size) : undefined
    let frame: Buffer
    if (pooled) {
      frame = pooled.subarray(0, HEADER_SIZE + size)
      writeDataHeader(frame, this.id)
    } else frame = allocData(this.id, size)
    let at = HEADER_SIZE
    let left = size
    const chunks = this.#pending
    while (left > 0) {
      const chunk = chunks[this.#pendingIndex] as Buffer
      const n = Math.min(left, chunk.length - this.#pendingOffset)
      chunk.copy(frame, at, this.#pendingOffset, this.#pendingOffset + n)
      at += n
      left -= n
      this.#pendingOffset += n
      if (this.#pendingOffset === chunk.length) {
        this.#pendingIndex++
        this.#pendingOffset = 0
      }
    }
    this.#pendingBytes -= size
    this.sendCredit -= size
    this.bytesOut += size
    return { frame, size, done: this.#afterTake(size), pooled }
  }

  /** A relayed payload sent from the buffer it arrived in: only the stream id in its header changes. */
  #takeInPlace(head: Buffer): { frame: Buffer; size: number; done: Done | null; pooled: undefined } {
    const size = head.length
    const frame = Buffer.from(head.buffer, head.byteOffset - HEADER_SIZE, size + HEADER_SIZE)
    writeDataHeader(frame, this.id)
    this.#pendingIndex++
    this.#pendingBytes -= size
    this.sendCredit -= size
    this.bytesOut += size
    return { frame, size, done: this.#afterTake(size), pooled: undefined }
  }

  /** Bookkeeping after a frame was cut; returns what must run once the socket has it. */
  #afterTake(size: number): Done | null {
    if (this.#idleMs) this.#lastActive = Date.now()
    this.#relaySent?.(size)
    if (this.#pendingBytes !== 0) return null
    // The write callback runs after the session has handed the frame to the socket, so the
    // next write (or FIN from _final) can never overtake this DATA.
    const done = this.#pendingCb ?? this.#finalAfterDrain()
    this.#pending = []
    this.#pendingIndex = 0
    this.#pendingCb = null
    return done
  }

  /** A FIN that waited for relayed bytes: sent right after the last of them. */
  #finalAfterDrain(): Done | null {
    const cb = this.#finalCb
    if (!cb) return null
    this.#finalCb = null
    return () => this.#sendFin(cb)
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
    if (this.#idleMs) this.#lastActive = Date.now()
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

  #queue(chunks: Buffer[], bytes: number, cb: (err?: Error | null) => void): void {
    this.#pending = chunks
    this.#pendingIndex = 0
    this.#pendingOffset = 0
    this.#pendingBytes = bytes
    this.#pendingCb = cb
    this.#host.schedule(this)
  }

  override _final(cb: Done): void {
    // Relayed bytes are queued outside the Writable; FIN must not overtake them.
    if (this.#pendingBytes > 0) this.#finalCb = cb
    else this.#sendFin(cb)
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
    const pendingCb = this.#pendingCb
    this.#pending = []
    this.#pendingBytes = 0
    this.#pendingCb = null
    this.#finalCb = null
    if (this.#idleTimer) clearTimeout(this.#idleTimer)
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

  // ---- net.Socket look-alikes, so HTTP clients and servers can run over a stream ----
  #idleMs = 0
  #idleTimer: NodeJS.Timeout | undefined
  #lastActive = Date.now()

  /** Emits 'timeout' after `ms` without traffic in either direction (0 disables), like net.Socket. */
  setTimeout(ms: number, cb?: () => void): this {
    // As net.Socket: setTimeout(0, cb) removes cb (http.Agent relies on it for reused sockets).
    if (cb) {
      if (ms === 0) this.removeListener('timeout', cb)
      else this.once('timeout', cb)
    }
    this.#idleMs = ms
    if (this.#idleTimer) clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
    if (ms > 0) this.#armIdle(ms)
    return this
  }

  #armIdle(ms: number): void {
    this.#idleTimer = setTimeout(() => {
      if (this.destroyed || this.#idleMs === 0) return
      const idle = Date.now() - this.#lastActive
      if (idle >= this.#idleMs) this.emit('timeout')
      else this.#armIdle(this.#idleMs - idle)
    }, ms)
    this.#idleTimer.unref()
  }

  setNoDelay(_noDelay?: boolean): this {
    return this
  }

  setKeepAlive(_enable?: boolean, _delay?: number): this {
    return this
  }

  ref(): this {
    return this
  }

  unref(): this {
    return this
  }

  get remoteAddress(): string {
    return this.info.host
  }

  get remotePort(): number {
    return this.info.port
  }

  /** Window the receiver advertised at open (for tests and metrics). */
  get window(): number {
    return this.#window
  }
}
