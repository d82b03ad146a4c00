/**
 * The send side of one tunnel stream: bytes queued for the peer, cut into DATA frames when the
 * session gives the stream its turn. Written bytes arrive as one batch per _write/_writev (its
 * callback runs once the batch's last byte is handed to the socket); relayed bytes arrive one DATA
 * payload at a time from another stream (see relay.ts) and may be sent from the very buffer they
 * arrived in.
 */
import { POOL_MIN, takeFrameBuffer } from './frame-pool'
import { allocData, HEADER_SIZE, writeDataHeader } from './frames'

export type Done = (err?: Error | null) => void

export interface DataFrame {
  frame: Buffer
  size: number
  /** Runs once the frame is handed to the socket (a write callback, or a FIN that waited). */
  done: Done | null
  /** The recycled buffer behind `frame`, to return to the pool once the socket wrote it. */
  pooled: Buffer | undefined
}

/** Relayed payloads whose own frame header sits right before them in memory (see relay()). */
const framedInPlace = new WeakSet<Buffer>()

export class SendQueue {
  #chunks: Buffer[] = []
  #index = 0
  #offset = 0
  /** Bytes queued and not yet cut into frames. */
  bytes = 0
  #writeCb: Done | null = null
  #onDrain: Done | null = null
  /** Relayed bytes at the front of the queue whose credit was already returned (pre-join bytes). */
  #uncredited = 0
  #relaySent: ((bytes: number) => void) | null = null

  /** A batch from _write/_writev; `cb` runs once its last byte is handed to the socket. */
  batch(chunks: Buffer[], bytes: number, cb: Done): void {
    this.#chunks = chunks
    this.#index = 0
    this.#offset = 0
    this.bytes = bytes
    this.#writeCb = cb
  }

  /**
   * A DATA payload received on another stream. `inPlace`: its own 6-byte frame header precedes it
   * in memory, so it can be sent with only the stream id rewritten (no copy). `sent` gets the byte
   * count of each frame as it leaves; null for bytes whose credit the caller already returned
   * (only ever queued first, before any relayed payload).
   */
  relay(data: Buffer, inPlace: boolean, sent: ((bytes: number) => void) | null): void {
    if (sent) this.#relaySent = sent
    else this.#uncredited += data.length
    if (inPlace) framedInPlace.add(data)
    this.#chunks.push(data)
    this.bytes += data.length
  }

  /** Runs `fn` right after the last queued byte is sent; false (and no call) when nothing is queued. */
  whenDrained(fn: Done): boolean {
    if (this.bytes === 0) return false
    this.#onDrain = fn
    return true
  }

  /**
   * Cuts the next DATA frame for `streamId` of at most `max` payload bytes, gathering several
   * chunks into one frame; undefined when nothing is queued.
   */
  take(streamId: number, max: number): DataFrame | undefined {
    if (this.bytes === 0 || max <= 0) return undefined
    const head = this.#chunks[this.#index] as Buffer
    if (this.#offset === 0 && head.length <= max && framedInPlace.has(head)) {
      const frame = Buffer.from(head.buffer, head.byteOffset - HEADER_SIZE, head.length + HEADER_SIZE)
      writeDataHeader(frame, streamId)
      this.#index++
      return this.#taken(frame, head.length, undefined)
    }
    const size = Math.min(this.bytes, max)
    // Large frames use a recycled buffer (returned by the sender once the socket wrote it).
    const pooled = size >= POOL_MIN ? takeFrameBuffer(size) : undefined
    let frame: Buffer
    if (pooled) {
      frame = pooled.subarray(0, HEADER_SIZE + size)
      writeDataHeader(frame, streamId)
    } else frame = allocData(streamId, size)
    let at = HEADER_SIZE
    let left = size
    while (left > 0) {
      const chunk = this.#chunks[this.#index] as Buffer
      const n = Math.min(left, chunk.length - this.#offset)
      chunk.copy(frame, at, this.#offset, this.#offset + n)
      at += n
      left -= n
      this.#offset += n
      if (this.#offset === chunk.length) {
        this.#index++
        this.#offset = 0
      }
    }
    return this.#taken(frame, size, pooled)
  }

  #taken(frame: Buffer, size: number, pooled: Buffer | undefined): DataFrame {
    this.bytes -= size
    const free = Math.min(size, this.#uncredited)
    this.#uncredited -= free
    if (size > free) this.#relaySent?.(size - free)
    let done: Done | null = null
    if (this.bytes === 0) {
      // The callback runs after the session has handed the frame to the socket, so the next
      // write (or a FIN) can never overtake this DATA.
      done = this.#writeCb ?? this.#onDrain
      this.#chunks = []
      this.#index = 0
      this.#writeCb = null
      this.#onDrain = null
    }
    return { frame, size, done, pooled }
  }

  /** Drops everything queued; returns the write callback that was waiting, if any. */
  clear(): Done | null {
    const cb = this.#writeCb
    this.#chunks = []
    this.#index = 0
    this.#offset = 0
    this.bytes = 0
    this.#uncredited = 0
    this.#writeCb = null
    this.#onDrain = null
    return cb
  }
}
