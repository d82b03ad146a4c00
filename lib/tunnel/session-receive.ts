/**
 * Frame dispatch for stream frames: DATA against stream and session windows, credit updates, open
 * replies, FIN, RST and pings. Every rule violation becomes a protocol error through the hooks;
 * frames for a stream that was closed meanwhile are ignored (they may cross an RST on the wire).
 */
import { openFailError, Reason } from './codes'
import { encodePing, encodeWindowUpdate, type Frame, FrameType, type OpenFrame } from './frames'
import type { FrameSender } from './sender'
import type { ReceiveCredit } from './session-credit'
import type { Liveness } from './session-liveness'
import type { StreamTable } from './session-streams'
import type { TunnelStream } from './stream'

export interface ReceiveHooks {
  protocolError(reason: number, message: string): void
  open(f: OpenFrame): void
  goaway(code: number, message: string): void
  announce(body: unknown): void
  dataIn(bytes: number): void
}

export class FrameDispatcher {
  readonly #table: StreamTable
  readonly #credit: ReceiveCredit
  readonly #out: FrameSender
  readonly #liveness: Liveness
  readonly #hooks: ReceiveHooks

  constructor(
    table: StreamTable,
    credit: ReceiveCredit,
    out: FrameSender,
    liveness: Liveness,
    hooks: ReceiveHooks,
  ) {
    this.#table = table
    this.#credit = credit
    this.#out = out
    this.#liveness = liveness
    this.#hooks = hooks
  }

  /** Returns session credit for bytes nobody will read (or that were read). */
  creditSession(bytes: number): void {
    const n = this.#credit.consumed(bytes)
    if (n > 0) this.#out.push(encodeWindowUpdate(0, n))
  }

  dispatch(f: Frame): void {
    switch (f.type) {
      case FrameType.DATA:
        // A decoded frame is one message buffer: its header sits right before the payload.
        this.data(f.streamId, f.data, true)
        return
      case FrameType.WINDOW_UPDATE:
        this.#windowUpdate(f.streamId, f.increment)
        return
      case FrameType.OPEN:
        this.#hooks.open(f)
        return
      case FrameType.OPEN_OK:
      case FrameType.OPEN_FAIL:
      case FrameType.RST:
        this.#reply(f)
        return
      case FrameType.FIN: {
        const stream = this.#target(f.streamId, 'FIN', true)
        if (stream && !stream.onFin()) this.#hooks.protocolError(Reason.STREAM_CLOSED, 'second FIN')
        return
      }
      case FrameType.PING:
        this.#out.send(encodePing(FrameType.PONG, f.payload))
        return
      case FrameType.PONG:
        this.#liveness.pong(f.payload)
        return
      case FrameType.GOAWAY:
        this.#hooks.goaway(f.code, f.message)
        return
      case FrameType.ANNOUNCE:
        this.#hooks.announce(f.body)
        return
    }
  }

  /** The live stream a frame is for; undefined when it is a late frame (ignored) or a violation (reported). */
  #target(id: number, what: string, needOpen = false): TunnelStream | undefined {
    const stream = this.#table.live.get(id)
    if (!stream) {
      if (!this.#table.wasKnown(id))
        this.#hooks.protocolError(Reason.PROTOCOL_ERROR, `${what} on unknown stream`)
      return undefined
    }
    if (needOpen && this.#table.notYetOpen(id)) {
      this.#hooks.protocolError(Reason.PROTOCOL_ERROR, `${what} before OPEN_OK`)
      return undefined
    }
    return stream
  }

  /** DATA (or part of one, see ws-reader.ts); `whole` as in {@link TunnelStream.onData}. */
  data(id: number, data: Buffer, whole: boolean): void {
    const len = data.length
    this.#hooks.dataIn(len)
    if (!this.#credit.receive(len)) {
      this.#hooks.protocolError(Reason.FLOW_CONTROL_ERROR, 'session window exceeded')
      return
    }
    if (!this.#table.live.has(id) && this.#table.wasKnown(id)) {
      // A late frame for a stream we already closed: its bytes still count against the session window.
      this.creditSession(len)
      this.#out.requestFlush()
      return
    }
    const stream = this.#target(id, 'DATA', true)
    if (stream && !stream.onData(data, whole)) {
      if (stream.finReceived) this.#hooks.protocolError(Reason.STREAM_CLOSED, 'DATA after FIN')
      else this.#hooks.protocolError(Reason.FLOW_CONTROL_ERROR, 'stream window exceeded')
    }
  }

  #windowUpdate(id: number, increment: number): void {
    if (id === 0) {
      this.#out.credit += increment
      if (this.#out.credit > 2 ** 40) {
        this.#hooks.protocolError(Reason.FLOW_CONTROL_ERROR, 'session credit overflow')
        return
      }
      this.#out.requestFlush()
      return
    }
    const stream = this.#target(id, 'WINDOW_UPDATE')
    if (!stream) return
    stream.sendCredit += increment
    if (stream.sendCredit > 2 ** 40) {
      this.#hooks.protocolError(Reason.FLOW_CONTROL_ERROR, 'stream credit overflow')
      return
    }
    if (stream.hasPending) this.#out.schedule(stream)
  }

  /** OPEN_OK / OPEN_FAIL settle our open; RST settles it too, or resets a live stream. */
  #reply(
    f: Extract<Frame, { type: typeof FrameType.OPEN_OK | typeof FrameType.OPEN_FAIL | typeof FrameType.RST }>,
  ): void {
    const opening = this.#table.opening.settle(f.streamId)
    if (!opening) {
      if (f.type !== FrameType.RST) {
        this.#target(f.streamId, 'OPEN reply')
        return
      }
      const stream = this.#target(f.streamId, 'RST')
      this.#table.pendingAccept.delete(f.streamId)
      stream?.onRst(f.code, f.message)
      return
    }
    const s = opening.stream
    if (f.type === FrameType.OPEN_OK) {
      s.sendCredit = f.window
      opening.resolve(s)
      return
    }
    this.#table.live.delete(f.streamId)
    s.discard() // nobody holds the stream yet
    opening.reject(openFailError(f.code, f.message, `${s.info.host}:${s.info.port}`))
  }
}
