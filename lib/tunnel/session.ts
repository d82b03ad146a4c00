/**
 * A multiplexed tunnel session over one WebSocket: the stream table and the frame dispatch. Both
 * ends run the same class; the WebSocket client side opens odd stream ids, the server side even.
 * Its helpers each do one job: sender.ts (fair send ring), session-receive.ts (frame dispatch),
 * session-streams.ts (stream table and id rules), session-credit.ts (session receive window),
 * session-opens.ts (streams being opened), session-incoming.ts (streams the peer opens),
 * session-liveness.ts (pings), session-close.ts (closing and failing streams).
 */
import { EventEmitter } from 'node:events'
import { debuglog } from 'node:util'
import type WebSocket from 'ws'
import { Reason, reasonName } from './codes'
import {
  encodeAnnounce,
  encodeCode,
  encodeFin,
  encodeGoaway,
  encodeOpenOk,
  encodePing,
  encodeWindowUpdate,
  FrameType,
  type OpenFrame,
} from './frames'
import { FrameSender } from './sender'
import { closeCode, closeInfo, failStreams } from './session-close'
import { ReceiveCredit } from './session-credit'
import { incomingOpen } from './session-incoming'
import { Liveness } from './session-liveness'
import { buildOpen, openError } from './session-opens'
import { readFrames } from './session-read'
import { FrameDispatcher } from './session-receive'
import { StreamTable } from './session-streams'
import {
  INITIAL_SESSION_WINDOW,
  type OpenStreamOptions,
  type SessionCloseInfo,
  type SessionOptions,
  resolveSessionOptions,
} from './session-types'
import { type StreamHost, TunnelStream } from './stream'

export {
  INITIAL_SESSION_WINDOW,
  type IncomingOpen,
  type OpenStreamOptions,
  type SessionCloseInfo,
  type SessionOptions,
} from './session-types'

const debug = debuglog('cap-connectivity:tunnel')

/** Events: 'open' (IncomingOpen), 'announce' (unknown), 'goaway' (code), 'close' (SessionCloseInfo). Never 'error'. */
export class TunnelSession extends EventEmitter implements StreamHost {
  readonly ws: WebSocket
  readonly streamWindow: number
  readonly sessionWindow: number
  readonly maxFrameData: number
  readonly maxStreams: number
  readonly label: string
  readonly #table: StreamTable
  readonly #streams: Map<number, TunnelStream>
  readonly #credit: ReceiveCredit
  readonly #receive: FrameDispatcher
  #goawaySent = false
  #goawayReceived = false
  #closed = false
  #closeInfo: SessionCloseInfo | undefined
  readonly #liveness: Liveness
  /** Totals for metrics. */
  bytesIn = 0
  streamsOpened = 0
  readonly #out: FrameSender

  constructor(ws: WebSocket, options: SessionOptions) {
    super()
    this.ws = ws
    const o = resolveSessionOptions(options)
    this.streamWindow = o.streamWindow
    this.sessionWindow = o.sessionWindow
    this.maxFrameData = o.maxFrameData
    this.maxStreams = o.maxStreams
    this.label = o.label
    this.#table = new StreamTable(options.initiator)
    this.#streams = this.#table.live
    this.#out = new FrameSender(ws, {
      maxFrameData: o.maxFrameData,
      soloFrameData: o.soloFrameData,
      highWater: o.sendHighWater,
      initialCredit: INITIAL_SESSION_WINDOW,
      // RFC 6455: the client side masks. The server side never does.
      mask: options.initiator ? (options.zeroMask ? 'zero' : 'random') : 'none',
    })
    this.#credit = new ReceiveCredit(this.sessionWindow)
    ws.binaryType = 'nodebuffer'
    ws.on('close', (code: number, reason: Buffer) => this.#onClose(code, reason.toString('utf8')))
    ws.on('error', (err: Error) => debug('%s: websocket error %s', this.label, err.message))
    // A session may wrap a still-connecting client socket (so no early frame is missed): read and
    // send once open. ws emits 'open' before the socket delivers its first byte.
    if (ws.readyState === ws.CONNECTING)
      ws.once('open', () => {
        this.#read(!options.initiator)
        this.#out.flush()
      })
    else this.#read(!options.initiator)
    const grant = this.#credit.initialGrant()
    if (grant > 0) this.#out.send(encodeWindowUpdate(0, grant))
    this.#liveness = new Liveness(o.pingIntervalMs, o.pingTimeoutMs, {
      ping: (payload) => this.#out.send(encodePing(FrameType.PING, payload)),
      timeout: (elapsed) => {
        debug('%s: ping timeout after %d ms', this.label, elapsed)
        const ms = this.#liveness.timeoutMs
        this.#closeInfo ??= closeInfo(Reason.PING_TIMEOUT, `no answer to ping within ${ms} ms`)
        this.destroy(Reason.PING_TIMEOUT, 'ping timeout')
        this.ws.terminate()
      },
    })
    this.#receive = new FrameDispatcher(this.#table, this.#credit, this.#out, this.#liveness, {
      protocolError: (reason, message) => this.#protocolError(reason, message),
      open: (f) => this.#onOpen(f),
      goaway: (code, message) => {
        this.#goawayReceived = true
        debug('%s: GOAWAY %s %s', this.label, reasonName(code), message)
        this.emit('goaway', code, message)
        if (code !== Reason.NO_ERROR && code !== Reason.GOING_AWAY)
          this.#closeInfo ??= closeInfo(code, message)
      },
      announce: (body) => this.emit('announce', body),
      dataIn: (bytes) => {
        this.bytesIn += bytes
      },
    })
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

  /** Bytes queued to be sent, over all streams (held back by the peer's credit or the socket). */
  get bufferedOut(): number {
    let n = 0
    for (const s of this.#streams.values()) n += s.bufferedOut
    return n
  }

  /** Opens a stream to host:port through the peer. Resolves on OPEN_OK. */
  openStream(opts: OpenStreamOptions): Promise<TunnelStream> {
    let open: ReturnType<typeof buildOpen>
    try {
      open = buildOpen(opts, this.#table.peekId(), this.streamWindow, this.draining)
    } catch (err) {
      return Promise.reject(err)
    }
    const { id, info, frame, target } = open
    this.#table.takeId()
    const stream = new TunnelStream(this, info, this.streamWindow)
    this.#streams.set(id, stream)
    this.streamsOpened++
    const opened = this.#table.opening.track(stream, target, opts)
    this.#out.send(frame)
    return opened
  }

  /** Sends the agent's routing announcement (stream 0, JSON). */
  announce(body: unknown): void {
    if (!this.#closed) this.#out.send(encodeAnnounce(body))
  }

  /** Graceful shutdown: GOAWAY now, close the WebSocket when the last stream ends or after `graceMs`. */
  close(message = 'going away', graceMs = 5_000): Promise<void> {
    if (this.#closed) return Promise.resolve()
    const done = new Promise<void>((resolve) => this.once('close', () => resolve()))
    this.#sendGoaway(Reason.GOING_AWAY, message)
    if (this.#streams.size === 0) this.#closeWs(1000, message)
    else setTimeout(() => this.#closeWs(1001, message), graceMs).unref()
    return done
  }

  /** Immediate teardown: every stream fails with TUNNEL_CLOSED. */
  destroy(reason: number = Reason.CANCEL, message = 'session destroyed'): void {
    if (this.#closed) return
    this.#sendGoaway(reason, message)
    this.#closeWs(closeCode(reason), message)
    // A peer that never answers the close handshake must not keep the socket alive.
    setTimeout(() => this.ws.terminate(), 1_000).unref()
  }

  #sendGoaway(reason: number, message: string): void {
    if (this.#goawaySent) return
    this.#goawaySent = true
    this.#out.send(encodeGoaway(reason, this.#table.lastPeerId, message))
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
    this.#receive.creditSession(bytes)
    if (this.#out.pendingControl) this.#out.requestFlush()
  }

  release(stream: TunnelStream): void {
    if (this.#streams.get(stream.id) !== stream) return
    this.#streams.delete(stream.id)
    this.#table.pendingAccept.delete(stream.id)
    this.#table.opening
      .settle(stream.id)
      ?.reject(openError('TUNNEL_CLOSED', 'Tunnel stream closed while opening.'))
    if (this.#goawaySent && this.#streams.size === 0) this.#closeWs(1000, 'going away')
  }

  // ---- receiving ----

  #read(server: boolean): void {
    const session = this
    readFrames(this.ws, server, {
      touch: () => this.#liveness.touch(),
      get closed() {
        return session.#closed
      },
      dispatch: (frame) => this.#receive.dispatch(frame),
      data: (id, part, whole) => this.#receive.data(id, part, whole),
      protocolError: (reason, message) => this.#protocolError(reason, message),
      handlerFailed: (err) => {
        debug('%s: frame handler failed: %s', this.label, (err as Error).message)
        this.#protocolError(Reason.INTERNAL_ERROR, 'internal error')
      },
    })
  }

  #onOpen(f: OpenFrame): void {
    if (!this.#table.acceptPeerId(f.streamId)) {
      this.#protocolError(Reason.PROTOCOL_ERROR, 'OPEN with a bad or reused stream id')
      return
    }
    const refuse = this.#goawaySent
      ? ([Reason.GOING_AWAY, 'going away'] as const)
      : this.#streams.size >= this.maxStreams
        ? ([Reason.TOO_MANY_STREAMS, 'too many streams'] as const)
        : undefined
    if (refuse) {
      this.#out.send(encodeCode(FrameType.OPEN_FAIL, f.streamId, refuse[0], refuse[1]))
      return
    }
    const info = { id: f.streamId, kind: f.kind, host: f.host, port: f.port, locationId: f.locationId }
    const stream = new TunnelStream(this, info, this.streamWindow)
    stream.sendCredit = f.window
    this.#streams.set(f.streamId, stream)
    this.#table.pendingAccept.add(f.streamId)
    this.streamsOpened++
    const incoming = incomingOpen(f, stream, {
      accept: () => {
        if (this.#table.pendingAccept.delete(f.streamId))
          this.#out.send(encodeOpenOk(f.streamId, this.streamWindow))
      },
      reject: (reason, message) => {
        if (this.#table.pendingAccept.delete(f.streamId) && this.#streams.get(f.streamId) === stream) {
          this.#streams.delete(f.streamId)
          this.#out.send(encodeCode(FrameType.OPEN_FAIL, f.streamId, reason, message))
        }
      },
    })
    if (this.listenerCount('open') === 0) incoming.reject(Reason.REFUSED, 'this peer accepts no streams')
    else this.emit('open', incoming)
  }

  #protocolError(reason: number, message: string): void {
    if (this.#closed) return
    debug('%s: protocol error %s: %s', this.label, reasonName(reason), message)
    this.#closeInfo ??= closeInfo(reason, message)
    this.destroy(reason, message)
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
    this.#liveness.stop()
    this.#out.stop()
    const info = this.#closeInfo ?? closeInfo(Reason.GOING_AWAY, reason || `websocket closed (${code})`)
    this.#closeInfo = info
    failStreams(info, this.#table.opening.settleAll(), [...this.#table.pendingAccept], this.#streams)
    this.#table.pendingAccept.clear()
    this.emit('close', info)
  }
}
