/**
 * Where a session's frames come from: straight off the socket (ws-reader.ts) or, when ws cannot be
 * taken over, from ws's own 'message' events. Either way every frame is decoded and validated, and
 * a throwing handler closes the session instead of escaping into the socket's event loop.
 */
import type WebSocket from 'ws'
import { Reason } from './codes'
import { decodeFrame } from './frame-decode'
import type { Frame } from './frames'
import { WireReader } from './ws-reader'

export interface FrameSink {
  /** Any frame or part arrived (liveness). */
  touch(): void
  readonly closed: boolean
  dispatch(frame: Frame): void
  data(streamId: number, part: Buffer, whole: boolean): void
  protocolError(reason: number, message: string): void
  /** A handler threw: a bug of ours, not the peer's; the session cannot go on. */
  handlerFailed(err: unknown): void
}

export function readFrames(ws: WebSocket, server: boolean, sink: FrameSink): void {
  const onMessage = (data: Buffer, isBinary: boolean): void => {
    sink.touch()
    if (sink.closed) return
    if (!isBinary) {
      sink.protocolError(Reason.PROTOCOL_ERROR, 'text message')
      return
    }
    const frame = decodeFrame(data)
    if (frame.type === 'invalid') {
      sink.protocolError(Reason.PROTOCOL_ERROR, frame.reason)
      return
    }
    try {
      sink.dispatch(frame)
    } catch (err) {
      sink.handlerFailed(err)
    }
  }
  const reader = WireReader.attach(ws, server, {
    frame: (buf) => onMessage(buf, true),
    data: (id, part, whole) => {
      sink.touch()
      if (sink.closed) return
      try {
        sink.data(id, part, whole)
      } catch (err) {
        sink.handlerFailed(err)
      }
    },
    error: (message) => sink.protocolError(Reason.PROTOCOL_ERROR, message),
  })
  if (!reader) ws.on('message', onMessage)
}
