/**
 * The send side of a session: control frames first, then DATA from a round-robin ring of streams
 * that have both data and credit, one bounded frame per turn. Stops filling the WebSocket at a
 * high-water mark and resumes from the send callbacks; each pass is corked into one writev.
 */
import type WebSocket from 'ws'
import { giveFrameBuffer } from './frame-pool'
import { Fifo } from './queue'
import type { TunnelStream } from './stream'
import { type MaskMode, WireWriter } from './ws-writer'

export class FrameSender {
  readonly #ws: WebSocket
  readonly #wire: WireWriter
  readonly #maxFrameData: number
  readonly #soloFrameData: number
  readonly #highWater: number
  #control = new Fifo<Buffer>()
  #ring = new Fifo<TunnelStream>()
  #inRing = new WeakSet<TunnelStream>()
  #flushing = false
  #flushQueued = false
  #blocked = false
  #stopped = false
  /** Session credit: DATA bytes the peer still accepts on the whole session. */
  credit: number
  /** DATA payload bytes sent (metrics). */
  bytesOut = 0
  /** One entry per ws.send in order (callbacks complete in order): the pooled buffer to recycle, if any. */
  #inFlight = new Fifo<Buffer | null>()
  readonly #onSent = (err?: Error | null): void => {
    const pooled = this.#inFlight.shift()
    // Written: the buffer may carry the next frame. After an error the socket is dead; let GC have it.
    if (pooled && !err) giveFrameBuffer(pooled)
    if (err) return
    if (this.#blocked && this.#ws.bufferedAmount < this.#highWater / 2) {
      this.#blocked = false
      this.flush()
    }
  }

  constructor(
    ws: WebSocket,
    opts: {
      maxFrameData: number
      soloFrameData: number
      highWater: number
      initialCredit: number
      mask: MaskMode
    },
  ) {
    this.#ws = ws
    this.#wire = new WireWriter(ws, opts.mask)
    this.#maxFrameData = opts.maxFrameData
    this.#soloFrameData = Math.max(opts.maxFrameData, opts.soloFrameData)
    this.#highWater = opts.highWater
    this.credit = opts.initialCredit
  }

  /** Queues a control frame without flushing (callers batch several, then flush once). */
  push(frame: Buffer): void {
    this.#control.push(frame)
  }

  /** Queues a control frame and flushes. */
  send(frame: Buffer): void {
    this.#control.push(frame)
    this.requestFlush()
  }

  /**
   * Flushes once the current task is done: all frames produced while one incoming TCP chunk is
   * processed (several WebSocket messages, several stream writes) leave in a single writev.
   */
  requestFlush(): void {
    if (this.#flushQueued || this.#stopped) return
    this.#flushQueued = true
    queueMicrotask(this.#runFlush)
  }

  readonly #runFlush = (): void => {
    this.#flushQueued = false
    this.flush()
  }

  get pendingControl(): number {
    return this.#control.length
  }

  /** A stream has data and (maybe) credit: put it on the ring and flush. */
  schedule(stream: TunnelStream): void {
    if (!this.#inRing.has(stream) && stream.sendCredit > 0) {
      this.#inRing.add(stream)
      this.#ring.push(stream)
    }
    this.requestFlush()
  }

  /** Session is gone: drop everything queued and never send again. */
  stop(): void {
    this.#stopped = true
    this.#control.clear()
    this.#ring.clear()
  }

  flush(): void {
    if (this.#flushing || this.#stopped) return
    const ws = this.#ws
    if (ws.readyState !== ws.OPEN) return
    this.#flushing = true
    // Cork the socket so every frame of this pass leaves in one writev instead of one syscall each.
    const wire = this.#wire
    wire.cork()
    try {
      for (;;) {
        if (ws.bufferedAmount >= this.#highWater) {
          this.#blocked = true
          break
        }
        let frame = this.#control.shift()
        let done: ((err?: Error | null) => void) | null = null
        let pooled: Buffer | null = null
        if (!frame) {
          if (this.credit <= 0) break
          const stream = this.#ring.shift()
          if (!stream) break
          // Alone on the ring, a stream may send large frames (fewer messages, less CPU per byte);
          // with company, frames stay small so each stream waits at most one small frame per other.
          const max = this.#ring.length === 0 ? this.#soloFrameData : this.#maxFrameData
          const part = stream.takeFrame(Math.min(max, this.credit))
          if (!part) {
            this.#inRing.delete(stream)
            continue
          }
          this.credit -= part.size
          this.bytesOut += part.size
          frame = part.frame
          done = part.done
          pooled = part.pooled ?? null
          if (stream.hasPending && stream.sendCredit > 0) this.#ring.push(stream)
          else this.#inRing.delete(stream)
        }
        this.#inFlight.push(pooled)
        wire.write(frame, this.#onSent)
        // After the frame is queued in the socket: the next write (or FIN) cannot overtake it.
        done?.()
      }
    } finally {
      this.#flushing = false
      wire.uncork()
    }
  }
}
