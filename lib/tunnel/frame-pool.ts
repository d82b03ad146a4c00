/**
 * Recycled buffers for large outgoing DATA frames. Every fresh Buffer above Node's small pool is
 * external memory that V8 counts towards its next collection; moving a few hundred MB/s through
 * fresh frames made GC one of the largest costs of a hop. A frame buffer goes back to the pool
 * only after the socket has taken its bytes (the WebSocket send callback), so it is never reused
 * while a write still reads it. Shared by all sessions of the process; bounded in count.
 */
import { HEADER_SIZE } from './frames'

/** Payload capacities of the pooled classes; larger frames are allocated as before. */
const CLASSES = [64 * 1024, 256 * 1024] as const
/** Idle buffers kept per class (at most 64 × 64 KiB + 64 × 256 KiB ≈ 20 MiB per process). */
const MAX_IDLE = 64
/** Below this payload size frames come from the encoder's slab, which is cheap enough. */
export const POOL_MIN = 16 * 1024

const idle: Buffer[][] = CLASSES.map(() => [])

/** A buffer with room for a header plus `size` payload bytes, or undefined when no class fits. */
export function takeFrameBuffer(size: number): Buffer | undefined {
  const cls = CLASSES.findIndex((c) => size <= c)
  if (cls < 0) return undefined
  const list = idle[cls] as Buffer[]
  return list.pop() ?? Buffer.allocUnsafe(HEADER_SIZE + (CLASSES[cls] as number))
}

/** Returns a buffer from {@link takeFrameBuffer} once nothing reads it any more. */
export function giveFrameBuffer(buf: Buffer): void {
  const cls = CLASSES.findIndex((c) => buf.length === HEADER_SIZE + c)
  if (cls < 0) return
  const list = idle[cls] as Buffer[]
  if (list.length < MAX_IDLE) list.push(buf)
}
