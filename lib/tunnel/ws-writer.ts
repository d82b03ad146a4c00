/**
 * Writes tunnel frames as WebSocket binary messages straight onto the session's socket, framed by
 * ws's own `Sender.frame`. Going around `ws.send` saves what matters at a few hundred MB/s: ws treats
 * every Buffer as read-only and, on the masking (client) side, copies each frame into a fresh buffer
 * to mask it; our frames are buffers we own, so they are masked in place. Frames stay in order with
 * the few frames ws writes itself (close), because both write synchronously to the same socket.
 * Falls back to `ws.send` when the socket or `Sender.frame` is not where ws keeps them.
 */
import WebSocket from 'ws'

/** How the WebSocket client side masks frames: RFC 6455 random keys, or an all-zero key (wss://). */
export type MaskMode = 'none' | 'random' | 'zero'

type Done = (err?: Error | null) => void

interface FrameOptions {
  fin: boolean
  opcode: number
  rsv1: boolean
  mask: boolean
  readOnly: boolean
  generateMask?: (mask: Buffer) => void
}

interface RawSocket {
  write(chunk: Buffer, cb?: Done): boolean
  cork(): void
  uncork(): void
  readonly destroyed: boolean
}

const frameOf = (WebSocket as unknown as { Sender?: { frame?: (d: Buffer, o: FrameOptions) => Buffer[] } })
  .Sender?.frame
const SEND_OPTS = { binary: true, compress: false } as const
const zeroFill = (mask: Buffer): void => void mask.fill(0)

export class WireWriter {
  readonly #ws: WebSocket
  readonly #opts: FrameOptions

  constructor(ws: WebSocket, mask: MaskMode) {
    this.#ws = ws
    this.#opts = {
      fin: true,
      opcode: 2,
      rsv1: false,
      mask: mask !== 'none',
      // Every frame handed to us is ours alone (encoded, pooled or relayed), so masking may happen in place.
      readOnly: false,
      ...(mask === 'zero' ? { generateMask: zeroFill } : {}),
    }
  }

  get #socket(): RawSocket | undefined {
    return (this.#ws as unknown as { _socket?: RawSocket })._socket
  }

  cork(): void {
    this.#socket?.cork()
  }

  uncork(): void {
    this.#socket?.uncork()
  }

  /** Writes one frame as one binary message; `done` runs once the socket has taken it (or failed). */
  write(frame: Buffer, done: Done): void {
    const socket = this.#socket
    if (!frameOf || !socket || socket.destroyed) {
      this.#ws.send(frame, SEND_OPTS, done)
      return
    }
    const parts = frameOf(frame, this.#opts)
    const last = parts.length - 1
    for (let i = 0; i < last; i++) socket.write(parts[i] as Buffer)
    socket.write(parts[last] as Buffer, done)
  }
}
