/**
 * A multiplexed tunnel session over one WebSocket: stream table, credit-based flow control per
 * stream and per session, a fair round-robin send ring, pings with timeouts and GOAWAY. Both
 * ends run the same class; the WebSocket client side opens odd stream ids, the server side even.
 */
import { EventEmitter } from 'node:events'
import { debuglog } from 'node:util'
import type WebSocket from 'ws'
import { TunnelError } from '../errors'
import { openFailError, Reason, reasonName } from './codes'
import {
  decodeFrame,
  encodeAnnounce,
  encodeCode,
  encodeFin,
  encodeGoaway,
  encodeOpen,
  encodeOpenOk,
  encodePing,
  encodeWindowUpdate,
  type Frame,
  FrameType,
  LIMITS,
  type OpenFrame,
  type OpenMetadata,
  type StreamKind,
} from './frames'
import { FrameSender } from './sender'
import { type StreamHost, TunnelStream } from './stream'

const debug = debuglog('cap-connectivity:tunnel')

/** Session window both sides start with (protocol constant); each side may grant more at once. */
export const INITIAL_SESSION_WINDOW = 1024 * 1024

export interface SessionOptions {
  /** true on the WebSocket client side (agent, forward client): it opens odd stream ids. */
  readonly initiator: boolean
  /** Receive window per stream in bytes (default 512 KiB): caps one stream at window ÷ round-trip time. */
  readonly streamWindow?: number
  /** Receive window of the whole session: the cap on bytes buffered for all streams (default 16 MiB). */
  readonly sessionWindow?: number
  /** Largest DATA payload we send (default 32 KiB): smaller frames interleave more fairly, larger ones cost less CPU. */
  readonly maxFrameData?: number
  /** Largest DATA payload while only one stream has data to send (default 256 KiB, at least maxFrameData). */
  readonly soloFrameData?: number
  /** Concurrent streams accepted from the peer (default 20 000). */
  readonly maxStreams?: number
  readonly pingIntervalMs?: number
  readonly pingTimeoutMs?: number
  /** Bytes queued in the WebSocket before the send ring pauses (default 256 KiB). */
  readonly sendHighWater?: number
  /** Short label for debug logs (never a secret). */
  readonly label?: string
}

export interface OpenStreamOptions {
  readonly host: string
  readonly port: number
  readonly kind?: StreamKind
  readonly locationId?: string
  readonly metadata?: OpenMetadata
  readonly signal?: AbortSignal
  readonly timeoutMs?: number
}

/** A stream the peer wants to open; the listener must call exactly one of accept / reject. */
export interface IncomingOpen {
  readonly streamId: number
  readonly kind: StreamKind
  readonly host: string
  readonly port: number
  readonly locationId: string
  /** Never log: may hold the user's JWT (`principal`). */
  readonly metadata: OpenMetadata
  accept(): TunnelStream
  reject(reason: number, message?: string): void
}

export interface SessionCloseInfo {
  readonly code: number
  readonly reason: string
  readonly error?: TunnelError
}

interface Opening {
  stream: TunnelStream
  resolve: (s: TunnelStream) => void
  reject: (e: Error) => void
  cleanup: () => void
}

/** Events: 'open' (IncomingOpen), 'announce' (unknown), 'goaway' (code), 'close' (SessionCloseInfo). Never 'error'. */
export class TunnelSession extends EventEmitter implements StreamHost {
  readonly ws: WebSocket
  readonly streamWindow: number
  readonly sessionWindow: number
  readonly maxFrameData: number
  readonly maxStreams: number
  readonly label: string
  #streams = new Map<number, TunnelStream>()
  #opening = new Map<number, Opening>()
  #pendingAccept = new Set<number>()
  #nextId: number
  #lastPeerId = 0
  #recvTotal = 0
  #recvGranted = INITIAL_SESSION_WINDOW
  #sessOwed = 0
  #goawaySent = false
  #goawayReceived = false
  #closed = false
  #closeInfo: SessionCloseInfo | undefined
  #pingTimer: NodeJS.Timeout | undefined
  #pingSentAt = 0
  #pingPayload: Buffer | undefined
  #lastRecv = Date.now()
  #pingIntervalMs: number
  #pingTimeoutMs: number
  /** Totals for metrics. */
  bytesIn = 0
  streamsOpened = 0
  readonly #out: FrameSender

  constructor(ws: WebSocket, options: SessionOptions) {
    super()
    this.ws = ws
    this.streamWindow = options.streamWindow ?? 512 * 1024
    this.sessionWindow = Math.max(options.sessionWindow ?? 16 * 1024 * 1024, INITIAL_SESSION_WINDOW)
    this.maxFrameData = Math.min(options.maxFrameData ?? 32 * 1024, LIMITS.maxData)
    this.maxStreams = options.maxStreams ?? 20_000
    this.label = options.label ?? (options.initiator ? 'initiator' : 'acceptor')
    this.#nextId = options.initiator ? 1 : 2
    this.#pingIntervalMs = options.pingIntervalMs ?? 20_000
    this.#pingTimeoutMs = options.pingTimeoutMs ?? 10_000
    for (const [name, v] of [
      ['streamWindow', this.streamWindow],
      ['maxFrameData', this.maxFrameData],
    ] as const) {
      if (!Number.isInteger(v) || v < 1024 || v > LIMITS.maxWindow)
        throw new RangeError(`${name} out of range`)
    }
    this.#out = new FrameSender(ws, {
      maxFrameData: this.maxFrameData,
      soloFrameData: Math.min(options.soloFrameData ?? 256 * 1024, LIMITS.maxData),
      highWater: options.sendHighWater ?? 256 * 1024,
      initialCredit: INITIAL_SESSION_WINDOW,
    })
    ws.binaryType = 'nodebuffer'
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary))
    ws.on('close', (code: number, reason: Buffer) => this.#onClose(code, reason.toString('utf8')))
    ws.on('error', (err: Error) => debug('%s: websocket error %s', this.label, err.message))
    // A session may wrap a still-connecting client socket (so no early frame is missed): send once open.
    if (ws.readyState === ws.CONNECTING) ws.once('open', () => this.#out.flush())
    if (this.sessionWindow > INITIAL_SESSION_WINDOW) {
      this.#recvGranted = this.sessionWindow
      this.#out.send(encodeWindowUpdate(0, this.sessionWindow - INITIAL_SESSION_WINDOW))
    }
    const tick = Math.max(50, Math.min(this.#pingIntervalMs, this.#pingTimeoutMs) / 2)
    this.#pingTimer = setInterval(() => this.#checkLiveness(), tick)
    this.#pingTimer.unref()
  }

  get closed(): boolean {
    return this.#closed
  }

  /** True once either side sent GOAWAY: no new streams on this session. */
  get draining(): boolean {
    return this.#goawaySent || this.#goawayReceived || this.#closed
  }

  get streamCount(): number {
    return this.#streams.size
  }

  /** DATA payload bytes sent (metrics). */
  get bytesOut(): number {
    return this.#out.bytesOut
  }

  get closeInfo(): SessionCloseInfo | undefined {
    return this.#closeInfo
  }

  /** Bytes received and not yet consumed, over all streams (bounded by the session window). */
  get bufferedIn(): number {
    let n = 0
    for (const s of this.#streams.values()) n += s.bufferedIn
    return n
  }

  /** Opens a stream to host:port through the peer. Resolves on OPEN_OK. */
  openStream(opts: OpenStreamOptions): Promise<TunnelStream> {
    const target = `${opts.host}:${opts.port}`
    if (this.draining) {
      return Promise.reject(
        new TunnelError('TUNNEL_CLOSED', `Tunnel session is closing; cannot open a stream to ${target}.`, {
          details: { target, requestSent: false },
        }),
      )
    }
    if (opts.signal?.aborted) {
      return Promise.reject(
        new TunnelError('REQUEST_ABORTED', `Opening a tunnel stream to ${target} was aborted.`, {
          details: { target, requestSent: false },
        }),
      )
    }
    const id = this.#nextId
    const kind = opts.kind ?? 'tcp'
    const locationId = opts.locationId ?? ''
    let frame: Buffer
    try {
      frame = encodeOpen({
        streamId: id,
        kind,
        window: this.streamWindow,
        host: opts.host,
        port: opts.port,
        locationId,
        metadata: opts.metadata ?? {},
      })
    } catch (err) {
      // A target the peer would reject as malformed must not reach the wire (it would end the session).
      return Promise.reject(
        new TunnelError(
          'REQUEST_INVALID',
          `Cannot open a tunnel stream to ${target}: ${(err as Error).message}.`,
          {
            cause: err,
            details: { target, requestSent: false },
          },
        ),
      )
    }
    this.#nextId += 2
    const stream = new TunnelStream(
      this,
      { id, kind, host: opts.host, port: opts.port, locationId },
      this.streamWindow,
    )
    this.#streams.set(id, stream)
    this.streamsOpened++
    return new Promise<TunnelStream>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      const onAbort = (): void =>
        fail(
          new TunnelError('REQUEST_ABORTED', `Opening a tunnel stream to ${target} was aborted.`, {
            details: { target, requestSent: false },
          }),
        )
      const fail = (err: TunnelError): void => {
        if (!this.#opening.has(id)) return
        entry.cleanup()
        this.#opening.delete(id)
        stream.destroy() // sends RST (CANCEL) so the peer drops its half-open target connection
        reject(err)
      }
      const entry: Opening = {
        stream,
        resolve,
        reject,
        cleanup: () => {
          if (timer) clearTimeout(timer)
          opts.signal?.removeEventListener('abort', onAbort)
        },
      }
      if (opts.timeoutMs) {
        timer = setTimeout(
          () =>
            fail(
              new TunnelError(
                'CONNECT_TIMEOUT',
                `Tunnel stream to ${target} was not opened within ${opts.timeoutMs} ms.`,
                {
                  details: { target, requestSent: false },
                },
              ),
            ),
          opts.timeoutMs,
        )
        timer.unref()
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      this.#opening.set(id, entry)
      this.#out.send(frame)
    })
  }

  /** Sends the agent's routing announcement (stream 0, JSON). */
  announce(body: unknown): void {
    if (!this.#closed) this.#out.send(encodeAnnounce(body))
  }

  /** Graceful shutdown: GOAWAY now, close the WebSocket when the last stream ends or after `graceMs`. */
  close(message = 'going away', graceMs = 5_000): Promise<void> {
    if (this.#closed) return Promise.resolve()
    const done = new Promise<void>((resolve) => this.once('close', () => resolve()))
    if (!this.#goawaySent) {
      this.#goawaySent = true
      this.#out.send(encodeGoaway(Reason.GOING_AWAY, this.#lastPeerId, message))
    }
    if (this.#streams.size === 0) this.#closeWs(1000, message)
    else setTimeout(() => this.#closeWs(1001, message), graceMs).unref()
    return done
  }

  /** Immediate teardown: every stream fails with TUNNEL_CLOSED. */
  destroy(reason: number = Reason.CANCEL, message = 'session destroyed'): void {
    if (this.#closed) return
    if (!this.#goawaySent) {
      this.#goawaySent = true
      this.#out.send(encodeGoaway(reason, this.#lastPeerId, message))
    }
    this.#closeWs(
      reason === Reason.PROTOCOL_ERROR ||
        reason === Reason.FLOW_CONTROL_ERROR ||
        reason === Reason.STREAM_CLOSED
        ? 1002
        : 1001,
      message,
    )
    // A peer that never answers the close handshake must not keep the socket alive.
    setTimeout(() => this.ws.terminate(), 1_000).unref()
  }

  // ---- StreamHost ----

  schedule(stream: TunnelStream): void {
    this.#out.schedule(stream)
  }

  sendFin(stream: TunnelStream): void {
    if (this.#streams.get(stream.id) === stream) this.#out.send(encodeFin(stream.id))
  }

  sendRst(stream: TunnelStream, code: number, message: string): void {
    if (this.#streams.get(stream.id) === stream && !this.#closed)
      this.#out.send(encodeCode(FrameType.RST, stream.id, code, message))
  }

  consumed(stream: TunnelStream, bytes: number): void {
    if (this.#closed) return
    if (!stream.destroyed && this.#streams.get(stream.id) === stream) {
      stream.creditOwed += bytes
      if (stream.creditOwed >= Math.max(4096, stream.window >> 2)) {
        const n = stream.creditOwed
        stream.granted(n)
        this.#out.push(encodeWindowUpdate(stream.id, n))
      }
    }
    this.#creditSession(bytes)
    if (this.#out.pendingControl) this.#out.requestFlush()
  }

  #creditSession(bytes: number): void {
    this.#sessOwed += bytes
    if (this.#sessOwed >= this.sessionWindow >> 2) {
      this.#recvGranted += this.#sessOwed
      this.#out.push(encodeWindowUpdate(0, this.#sessOwed))
      this.#sessOwed = 0
    }
  }

  release(stream: TunnelStream): void {
    if (this.#streams.get(stream.id) !== stream) return
    this.#streams.delete(stream.id)
    this.#pendingAccept.delete(stream.id)
    const opening = this.#opening.get(stream.id)
    if (opening) {
      this.#opening.delete(stream.id)
      opening.cleanup()
      opening.reject(
        new TunnelError('TUNNEL_CLOSED', 'Tunnel stream closed while opening.', {
          details: { requestSent: false },
        }),
      )
    }
    if (this.#goawaySent && this.#streams.size === 0) this.#closeWs(1000, 'going away')
  }

  // ---- receiving ----

  #onMessage(data: Buffer, isBinary: boolean): void {
    this.#lastRecv = Date.now()
    if (this.#closed) return
    if (!isBinary) {
      this.#protocolError(Reason.PROTOCOL_ERROR, 'text message')
      return
    }
    const frame = decodeFrame(data)
    if (frame.type === 'invalid') {
      this.#protocolError(Reason.PROTOCOL_ERROR, frame.reason)
      return
    }
    try {
      this.#onFrame(frame)
    } catch (err) {
      // A bug in a handler must not take the process down; the session is unusable, though.
      debug('%s: frame handler failed: %s', this.label, (err as Error).message)
      this.#protocolError(Reason.INTERNAL_ERROR, 'internal error')
    }
  }

  /** True for an id that was valid once (stream since closed): late frames for it are ignored. */
  #wasKnown(id: number): boolean {
    const mine = (id & 1) === (this.#nextId & 1)
    return mine ? id < this.#nextId : id <= this.#lastPeerId
  }

  #onFrame(f: Frame): void {
    switch (f.type) {
      case FrameType.DATA: {
        const len = f.data.length
        this.#recvTotal += len
        this.bytesIn += len
        if (this.#recvTotal > this.#recvGranted) {
          this.#protocolError(Reason.FLOW_CONTROL_ERROR, 'session window exceeded')
          return
        }
        const stream = this.#streams.get(f.streamId)
        if (!stream) {
          if (!this.#wasKnown(f.streamId)) {
            this.#protocolError(Reason.PROTOCOL_ERROR, 'DATA on unknown stream')
            return
          }
          // A late frame for a stream we already closed: its bytes still count against the session window.
          this.#creditSession(len)
          this.#out.requestFlush()
          return
        }
        if (this.#opening.has(f.streamId) || this.#pendingAccept.has(f.streamId)) {
          this.#protocolError(Reason.PROTOCOL_ERROR, 'DATA before OPEN_OK')
          return
        }
        if (!stream.onData(f.data)) {
          if (stream.finReceived) this.#protocolError(Reason.STREAM_CLOSED, 'DATA after FIN')
          else this.#protocolError(Reason.FLOW_CONTROL_ERROR, 'stream window exceeded')
        }
        return
      }
      case FrameType.WINDOW_UPDATE: {
        if (f.streamId === 0) {
          this.#out.credit += f.increment
          if (this.#out.credit > 2 ** 40) {
            this.#protocolError(Reason.FLOW_CONTROL_ERROR, 'session credit overflow')
            return
          }
          this.#out.requestFlush()
          return
        }
        const stream = this.#streams.get(f.streamId)
        if (!stream) {
          this.#ignoreOrFail(f.streamId, 'WINDOW_UPDATE')
          return
        }
        stream.sendCredit += f.increment
        if (stream.sendCredit > 2 ** 40) {
          this.#protocolError(Reason.FLOW_CONTROL_ERROR, 'stream credit overflow')
          return
        }
        if (stream.hasPending) this.schedule(stream)
        return
      }
      case FrameType.OPEN:
        this.#onOpen(f)
        return
      case FrameType.OPEN_OK:
      case FrameType.OPEN_FAIL: {
        const opening = this.#opening.get(f.streamId)
        if (!opening) {
          this.#ignoreOrFail(f.streamId, 'OPEN reply')
          return
        }
        this.#opening.delete(f.streamId)
        opening.cleanup()
        if (f.type === FrameType.OPEN_OK) {
          opening.stream.sendCredit = f.window
          opening.resolve(opening.stream)
          return
        }
        const s = opening.stream
        this.#streams.delete(f.streamId)
        s.discard() // nobody holds the stream yet
        opening.reject(openFailError(f.code, f.message, `${s.info.host}:${s.info.port}`))
        return
      }
      case FrameType.FIN: {
        const stream = this.#streams.get(f.streamId)
        if (!stream) {
          this.#ignoreOrFail(f.streamId, 'FIN')
          return
        }
        if (this.#opening.has(f.streamId) || this.#pendingAccept.has(f.streamId)) {
          this.#protocolError(Reason.PROTOCOL_ERROR, 'FIN before OPEN_OK')
          return
        }
        if (!stream.onFin()) {
          this.#protocolError(Reason.STREAM_CLOSED, 'second FIN')
          return
        }
        return
      }
      case FrameType.RST: {
        const opening = this.#opening.get(f.streamId)
        if (opening) {
          this.#opening.delete(f.streamId)
          opening.cleanup()
          this.#streams.delete(f.streamId)
          opening.stream.discard()
          opening.reject(
            openFailError(f.code, f.message, `${opening.stream.info.host}:${opening.stream.info.port}`),
          )
          return
        }
        const stream = this.#streams.get(f.streamId)
        if (!stream) {
          this.#ignoreOrFail(f.streamId, 'RST')
          return
        }
        this.#pendingAccept.delete(f.streamId)
        stream.onRst(f.code, f.message)
        return
      }
      case FrameType.PING:
        this.#out.send(encodePing(FrameType.PONG, f.payload))
        return
      case FrameType.PONG:
        if (this.#pingPayload?.equals(f.payload)) this.#pingPayload = undefined
        return
      case FrameType.GOAWAY:
        this.#goawayReceived = true
        debug('%s: GOAWAY %s %s', this.label, reasonName(f.code), f.message)
        this.emit('goaway', f.code, f.message)
        if (f.code !== Reason.NO_ERROR && f.code !== Reason.GOING_AWAY) {
          this.#closeInfo ??= this.#info(f.code, f.message)
        }
        return
      case FrameType.ANNOUNCE:
        this.emit('announce', f.body)
        return
    }
  }

  #ignoreOrFail(id: number, what: string): void {
    if (!this.#wasKnown(id)) this.#protocolError(Reason.PROTOCOL_ERROR, `${what} on unknown stream`)
  }

  #onOpen(f: OpenFrame): void {
    const peerParity = this.#nextId & 1 ? 0 : 1
    if ((f.streamId & 1) !== peerParity || f.streamId <= this.#lastPeerId) {
      this.#protocolError(Reason.PROTOCOL_ERROR, 'OPEN with a bad or reused stream id')
      return
    }
    this.#lastPeerId = f.streamId
    if (this.#goawaySent) {
      this.#out.send(encodeCode(FrameType.OPEN_FAIL, f.streamId, Reason.GOING_AWAY, 'going away'))
      return
    }
    if (this.#streams.size >= this.maxStreams) {
      this.#out.send(encodeCode(FrameType.OPEN_FAIL, f.streamId, Reason.TOO_MANY_STREAMS, 'too many streams'))
      return
    }
    const info = { id: f.streamId, kind: f.kind, host: f.host, port: f.port, locationId: f.locationId }
    const stream = new TunnelStream(this, info, this.streamWindow)
    stream.sendCredit = f.window
    this.#streams.set(f.streamId, stream)
    this.#pendingAccept.add(f.streamId)
    this.streamsOpened++
    let decided = false
    const incoming: IncomingOpen = {
      ...info,
      streamId: f.streamId,
      metadata: f.metadata,
      accept: () => {
        if (decided) throw new Error('IncomingOpen already answered')
        decided = true
        if (this.#pendingAccept.delete(f.streamId))
          this.#out.send(encodeOpenOk(f.streamId, this.streamWindow))
        return stream
      },
      reject: (reason, message = '') => {
        if (decided) return
        decided = true
        if (this.#pendingAccept.delete(f.streamId) && this.#streams.get(f.streamId) === stream) {
          this.#streams.delete(f.streamId)
          this.#out.send(encodeCode(FrameType.OPEN_FAIL, f.streamId, reason, message))
        }
        stream.discard()
      },
    }
    if (this.listenerCount('open') === 0) incoming.reject(Reason.REFUSED, 'this peer accepts no streams')
    else this.emit('open', incoming)
  }

  #checkLiveness(): void {
    if (this.#closed) return
    const now = Date.now()
    if (
      this.#pingPayload &&
      now - this.#pingSentAt > this.#pingTimeoutMs &&
      this.#lastRecv < this.#pingSentAt
    ) {
      debug('%s: ping timeout after %d ms', this.label, now - this.#pingSentAt)
      this.#closeInfo ??= this.#info(
        Reason.PING_TIMEOUT,
        `no answer to ping within ${this.#pingTimeoutMs} ms`,
      )
      this.destroy(Reason.PING_TIMEOUT, 'ping timeout')
      this.ws.terminate()
      return
    }
    if (!this.#pingPayload && now - this.#pingSentAt >= this.#pingIntervalMs) {
      this.#pingSentAt = now
      this.#pingPayload = Buffer.allocUnsafe(8)
      this.#pingPayload.writeDoubleBE(now)
      this.#out.send(encodePing(FrameType.PING, this.#pingPayload))
    }
  }

  #protocolError(reason: number, message: string): void {
    if (this.#closed) return
    debug('%s: protocol error %s: %s', this.label, reasonName(reason), message)
    this.#closeInfo ??= this.#info(reason, message)
    this.destroy(reason, message)
  }

  #info(code: number, message: string): SessionCloseInfo {
    const errorCode =
      code === Reason.PROTOCOL_ERROR || code === Reason.FLOW_CONTROL_ERROR || code === Reason.STREAM_CLOSED
    return {
      code,
      reason: message,
      error: new TunnelError(
        errorCode ? 'TUNNEL_PROTOCOL_ERROR' : 'TUNNEL_CLOSED',
        `Tunnel session closed (${reasonName(code)}: ${message}).`,
        { details: { reason: reasonName(code), requestSent: false } },
      ),
    }
  }

  #closeWs(code: number, reason: string): void {
    const ws = this.ws
    if (ws.readyState === ws.CLOSED || ws.readyState === ws.CLOSING) return
    this.#out.flush()
    try {
      ws.close(code, reason.slice(0, 120))
    } catch {
      ws.terminate()
    }
    // A peer that never answers the close handshake must not keep the socket (and close()) waiting.
    setTimeout(() => ws.terminate(), 2_000).unref()
  }

  #onClose(code: number, reason: string): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#pingTimer) clearInterval(this.#pingTimer)
    this.#out.stop()
    const info = this.#closeInfo ?? this.#info(Reason.GOING_AWAY, reason || `websocket closed (${code})`)
    this.#closeInfo = info
    const err =
      info.error ??
      new TunnelError('TUNNEL_CLOSED', 'Tunnel session closed.', { details: { requestSent: false } })
    for (const [id, opening] of this.#opening) {
      this.#opening.delete(id)
      opening.cleanup()
      opening.stream.discard()
      opening.reject(err)
    }
    for (const id of this.#pendingAccept) this.#streams.get(id)?.discard()
    this.#pendingAccept.clear()
    for (const stream of [...this.#streams.values()]) {
      // Streams whose both directions finished have nothing to lose; the others fail loudly.
      if (stream.finSent && stream.finReceived) stream.destroy()
      else
        stream.onSessionClosed(
          new TunnelError(
            'TUNNEL_CLOSED',
            `Tunnel session closed while stream to ${stream.info.host}:${stream.info.port} was open.`,
            {
              details: { target: `${stream.info.host}:${stream.info.port}`, reason: reasonName(info.code) },
              cause: err,
            },
          ),
        )
    }
    this.#streams.clear()
    this.emit('close', info)
  }
}
