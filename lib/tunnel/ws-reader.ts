/**
 * Reads tunnel frames straight off the WebSocket's socket. ws assembles every message into a fresh
 * buffer (a copy, and an allocation the GC has to chase at a few hundred MB/s); here DATA payloads
 * are handed on as views into the socket's own read buffers, unmasked in place, as they arrive.
 * Control frames (close, ping, pong) are passed to ws's receiver untouched, so ws still runs the
 * close handshake and answers pings. Every RFC 6455 rule that matters for us is checked; a
 * violation is reported once and nothing more is read.
 */
import type WebSocket from 'ws'
import { FrameType, HEADER_SIZE, LIMITS, PROTOCOL_VERSION } from './frames'
import { unmaskInPlace } from './ws-mask'

export interface WireHandlers {
  /** A whole tunnel frame other than DATA (one WebSocket message, header included). */
  frame(buf: Buffer): void
  /**
   * Part of a DATA payload for `streamId`. `whole`: the part is the entire payload and its own
   * 6-byte tunnel header sits right before it in memory (so a relay may reuse the buffer).
   */
  data(streamId: number, part: Buffer, whole: boolean): void
  /** A WebSocket-level violation (the session closes with a protocol error). */
  error(message: string): void
}

const WS_MAX_PAYLOAD = LIMITS.maxData + HEADER_SIZE
/** Largest non-DATA frame (ANNOUNCE) with room for its header: anything beyond is refused unread. */
const MAX_CONTROL_MESSAGE = HEADER_SIZE + LIMITS.maxAnnounce + 1024

export class WireReader {
  readonly #handlers: WireHandlers
  readonly #receiver: { write(chunk: Buffer): boolean }
  readonly #expectMasked: boolean
  #failed = false
  // WebSocket frame header being read (it may span socket reads)
  readonly #head = Buffer.alloc(14)
  #headLen = 0
  #inPayload = false
  #fin = false
  #opcode = 0
  #frameLen = 0
  #left = 0
  #masked = false
  readonly #mask = Buffer.alloc(4)
  #maskPos = 0
  #control: Buffer[] = []
  // tunnel message (one WebSocket message, possibly fragmented)
  #inMessage = false
  readonly #msgHead = Buffer.alloc(HEADER_SIZE)
  #msgHeadLen = 0
  #isData = false
  #streamId = 0
  #msgBytes = 0
  /** WebSocket payload bytes of the current message so far (header included). */
  #msgWire = 0
  #body: Buffer[] = []

  private constructor(handlers: WireHandlers, receiver: { write(chunk: Buffer): boolean }, server: boolean) {
    this.#handlers = handlers
    this.#receiver = receiver
    // RFC 6455 §5.1: a server must get masked frames, a client must get unmasked ones.
    this.#expectMasked = server
  }

  /**
   * Takes the socket of an open WebSocket away from ws's message parser. Returns undefined (ws
   * keeps reading, the caller listens for 'message') when ws does not look as expected or has
   * already buffered bytes of a frame.
   */
  static attach(ws: WebSocket, server: boolean, handlers: WireHandlers): WireReader | undefined {
    const inner = ws as unknown as {
      _socket?: NodeJS.EventEmitter
      _receiver?: { write(chunk: Buffer): boolean; _bufferedBytes?: number }
    }
    const socket = inner._socket
    const receiver = inner._receiver
    if (!socket || !receiver || typeof receiver.write !== 'function') return undefined
    if (receiver._bufferedBytes !== 0) return undefined
    const listeners = socket.listeners('data')
    if (listeners.length !== 1) return undefined
    const reader = new WireReader(handlers, receiver, server)
    socket.removeListener('data', listeners[0] as (...args: unknown[]) => void)
    socket.on('data', (chunk: Buffer) => reader.#read(chunk))
    return reader
  }

  #fail(message: string): void {
    if (this.#failed) return
    this.#failed = true
    this.#handlers.error(message)
  }

  #read(chunk: Buffer): void {
    let at = 0
    while (at < chunk.length && !this.#failed) {
      if (!this.#inPayload) {
        at = this.#readHeader(chunk, at)
        continue
      }
      const n = Math.min(this.#left, chunk.length - at)
      const part = chunk.subarray(at, at + n)
      at += n
      this.#left -= n
      if (this.#opcode >= 0x8) this.#control.push(part)
      else {
        if (this.#masked) unmaskInPlace(part, this.#mask, this.#maskPos)
        this.#maskPos += n
        this.#messageBytes(part, n === this.#frameLen && this.#fin && this.#msgHeadLen === 0)
      }
      if (this.#left === 0) this.#endFrame()
    }
  }

  /** Reads (more of) a WebSocket frame header; returns the new offset into `chunk`. */
  #readHeader(chunk: Buffer, at: number): number {
    const head = this.#head
    // The first two bytes say how long the header is.
    while (this.#headLen < 2 && at < chunk.length) head[this.#headLen++] = chunk[at++] as number
    if (this.#headLen < 2) return at
    const b1 = head[1] as number
    const len7 = b1 & 0x7f
    const need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0)
    const take = Math.min(need - this.#headLen, chunk.length - at)
    chunk.copy(head, this.#headLen, at, at + take)
    this.#headLen += take
    at += take
    if (this.#headLen < need) return at
    this.#headLen = 0
    this.#startFrame(need)
    return at
  }

  #startFrame(headerSize: number): void {
    const head = this.#head
    const b0 = head[0] as number
    const b1 = head[1] as number
    if (b0 & 0x70) {
      this.#fail('RSV bits set without a negotiated extension')
      return
    }
    this.#fin = (b0 & 0x80) !== 0
    this.#opcode = b0 & 0x0f
    this.#masked = (b1 & 0x80) !== 0
    if (this.#masked !== this.#expectMasked) {
      this.#fail(this.#masked ? 'masked frame from the server' : 'unmasked frame from the client')
      return
    }
    const len7 = b1 & 0x7f
    let len = len7
    if (len7 === 126) len = head.readUInt16BE(2)
    else if (len7 === 127) {
      if (head.readUInt32BE(2) !== 0) {
        this.#fail('WebSocket frame too large')
        return
      }
      len = head.readUInt32BE(6)
    }
    const op = this.#opcode
    if (op >= 0x8) {
      if (op > 0xa) {
        this.#fail(`invalid WebSocket opcode ${op}`)
        return
      }
      if (!this.#fin || len > 125) {
        this.#fail('bad WebSocket control frame')
        return
      }
      this.#control = [Buffer.from(head.subarray(0, headerSize))]
    } else if (op === 0x1) {
      this.#fail('text message')
      return
    } else if (op === 0x2) {
      if (this.#inMessage) {
        this.#fail('new message inside a fragmented one')
        return
      }
      this.#inMessage = true
    } else if (op === 0x0) {
      if (!this.#inMessage) {
        this.#fail('continuation frame without a message')
        return
      }
    } else {
      this.#fail(`invalid WebSocket opcode ${op}`)
      return
    }
    if (op < 0x8) {
      this.#msgWire += len
      if (this.#msgWire > WS_MAX_PAYLOAD) {
        this.#fail('WebSocket message too large')
        return
      }
    }
    if (this.#masked) head.copy(this.#mask, 0, headerSize - 4, headerSize)
    this.#maskPos = 0
    this.#frameLen = len
    this.#left = len
    this.#inPayload = true
    if (len === 0) this.#endFrame()
  }

  #endFrame(): void {
    this.#inPayload = false
    if (this.#opcode >= 0x8) {
      const raw = Buffer.concat(this.#control)
      this.#control = []
      // ws answers pings and runs the close handshake; it gets the frame exactly as it came.
      this.#receiver.write(raw)
      return
    }
    if (this.#fin) this.#endMessage()
  }

  /** Payload bytes of the current message: the tunnel header first, then DATA parts or a body. */
  #messageBytes(part: Buffer, wholeFrame: boolean): void {
    let rest = part
    if (this.#msgHeadLen < HEADER_SIZE) {
      const take = Math.min(HEADER_SIZE - this.#msgHeadLen, rest.length)
      rest.copy(this.#msgHead, this.#msgHeadLen, 0, take)
      this.#msgHeadLen += take
      rest = rest.subarray(take)
      if (this.#msgHeadLen === HEADER_SIZE) {
        const h = this.#msgHead
        this.#isData = h[0] === PROTOCOL_VERSION && h[1] === FrameType.DATA
        this.#streamId = h.readUInt32BE(2)
        if (this.#isData && this.#streamId === 0) {
          this.#fail('DATA on stream 0')
          return
        }
      }
    }
    if (rest.length === 0) return
    this.#msgBytes += rest.length
    if (this.#isData) {
      this.#handlers.data(this.#streamId, rest, wholeFrame)
      return
    }
    if (this.#msgBytes > MAX_CONTROL_MESSAGE) {
      this.#fail('tunnel frame too large')
      return
    }
    this.#body.push(rest)
  }

  #endMessage(): void {
    const isData = this.#isData
    const headLen = this.#msgHeadLen
    const bytes = this.#msgBytes
    const body = this.#body
    this.#inMessage = false
    this.#msgHeadLen = 0
    this.#msgBytes = 0
    this.#msgWire = 0
    this.#isData = false
    this.#body = []
    if (isData) {
      if (bytes === 0) this.#fail('DATA length out of range')
      return
    }
    // A short or odd frame still goes through the decoder, which names what is wrong with it.
    const frame = Buffer.allocUnsafe(headLen + bytes)
    this.#msgHead.copy(frame, 0, 0, headLen)
    let at = headLen
    for (const b of body) {
      b.copy(frame, at)
      at += b.length
    }
    this.#handlers.frame(frame)
  }
}
